package bundle

import (
	"archive/tar"
	"fmt"
	"io"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// tar walks a tar stream. pos gives the stream offset, for errors; m is
// the meter of the gzip stream around the tar, if any: once it fails, the
// tar cannot be read further. It reports whether it read the tar to its
// end.
func (w *walker) tar(arch string, r io.Reader, depth int, pos func() int64, m *meter) bool {
	tr := tar.NewReader(r)
	offset := "offset" // in the tar, which is the gzip's uncompressed stream in a .tgz
	if m != nil {
		offset = "uncompressed offset"
	}
	for w.more() {
		off := pos()
		hdr, err := tr.Next()
		if err == io.EOF {
			return true
		}
		if err != nil {
			w.fail(arch, fmt.Errorf("header at %s %d: %w", offset, off, damage(err)))
			return false
		}
		if err := w.count(); err != nil {
			w.fail(arch, err)
			return false
		}
		p := arch + "!/" + hdr.Name
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue
		case tar.TypeSymlink:
			w.fail(p, fmt.Errorf("%w: symbolic link to %q", ErrLinkEntry, hdr.Linkname))
			continue
		case tar.TypeLink:
			w.fail(p, fmt.Errorf("%w: hard link to %q", ErrLinkEntry, hdr.Linkname))
			continue
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			w.fail(p, fmt.Errorf("%w: device or FIFO (tar type %q)", ErrSpecialFile, hdr.Typeflag))
			continue
		default:
			w.fail(p, fmt.Errorf("%w: tar type %q", ErrSpecialFile, hdr.Typeflag))
			continue
		}
		name, err := memberName(hdr.Name)
		if err != nil {
			w.fail(p, err)
			continue
		}
		p = arch + "!/" + name
		if err := w.checkDeclared(hdr.Size, -1); err != nil {
			w.fail(p, err)
			continue
		}
		var mt time.Time
		var src parsers.CaptureSource
		if hdr.ModTime.Unix() > 0 {
			mt, src = hdr.ModTime.UTC(), parsers.CaptureTar
		}
		data := &errAt{r: tr, what: "data at " + offset, pos: pos}
		if !w.extractMember(p, data, nil, hdr.Size, mt, src, depth) || m != nil && m.err != nil {
			return false
		}
	}
	return false
}
