package reports

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"regexp"
	"time"
)

// workbookZip is the zip writer excelize saves the workbook through
// (excelize.File.SetZipWriter). It does two things excelize does not:
//
//   - every member gets the report's generation time: excelize creates
//     members with zip.Writer.Create, which leaves the time zero (shown
//     as 1980-00-00 by unzip);
//   - each streamed sheet gets its used range as <dimension ref>: the
//     stream writer writes the element when the sheet is opened, before
//     any row, so it always says A1. dims maps a worksheet part
//     ("xl/worksheets/sheet4.xml") to its range ("A1:R2507"); the element
//     sits in the part's first few hundred bytes, before <sheetData>, and
//     is replaced there as the part goes by, without holding the sheet.
type workbookZip struct {
	zw       *zip.Writer
	modified time.Time
	dims     map[string]string
	open     *dimensionWriter // the member being written, if it is one of dims
}

func (z *workbookZip) Create(name string) (io.Writer, error) {
	if err := z.flush(); err != nil {
		return nil, err
	}
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.modified})
	if err != nil {
		return nil, err
	}
	if ref, ok := z.dims[name]; ok {
		z.open = &dimensionWriter{w: w, ref: ref}
		return z.open, nil
	}
	return w, nil
}

// AddFS is part of excelize.ZipWriter; excelize does not call it.
func (z *workbookZip) AddFS(fsys fs.FS) error {
	if err := z.flush(); err != nil {
		return err
	}
	return z.zw.AddFS(fsys)
}

func (z *workbookZip) Close() error {
	if err := z.flush(); err != nil {
		return err
	}
	return z.zw.Close()
}

// flush writes out what the open member still holds.
func (z *workbookZip) flush() error {
	if z.open == nil {
		return nil
	}
	err := z.open.done()
	z.open = nil
	return err
}

// dimensionElement is the stream writer's <dimension ref="A1"> (any ref),
// as it is written before <sheetData>. A cell's text cannot contain it:
// text is written escaped (&lt;).
var dimensionElement = regexp.MustCompile(`<dimension ref="[^"]*"`)

// dimensionHead is how much of a part is held while looking for its
// <dimension>: the element follows the namespaces and sheet properties
// (about 3 KiB). A part where it is not found by then goes out unchanged.
const dimensionHead = 64 << 10

// dimensionWriter replaces the first <dimension ref> in the head of a
// worksheet part with ref, and passes the rest through.
type dimensionWriter struct {
	w    io.Writer
	ref  string
	head []byte
	past bool // the head was written: pass through
}

func (d *dimensionWriter) Write(p []byte) (int, error) {
	if d.past {
		return d.w.Write(p)
	}
	d.head = append(d.head, p...)
	if loc := dimensionElement.FindIndex(d.head); loc != nil {
		head := bytes.Join([][]byte{d.head[:loc[0]], []byte(`<dimension ref="` + d.ref + `"`), d.head[loc[1]:]}, nil)
		if err := d.writeHead(head); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if bytes.Contains(d.head, []byte("<sheetData")) || len(d.head) >= dimensionHead {
		if err := d.writeHead(d.head); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (d *dimensionWriter) writeHead(head []byte) error {
	d.past, d.head = true, nil
	_, err := d.w.Write(head)
	return err
}

// done writes a head still held (a part shorter than dimensionHead
// without the element).
func (d *dimensionWriter) done() error {
	if d.past {
		return nil
	}
	return d.writeHead(d.head)
}
