package bundle

// The zip reader of Walk. archive/zip is not used because it loads the whole
// central directory into memory, which a hostile archive can make as large
// as itself; this reader takes the directory one record at a time, checks
// declared sizes and ratios before reading data, and falls back to scanning
// local headers when the directory is damaged.

import (
	"bufio"
	"cmp"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"iter"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/portmortem/portmortem/parsers"
	"golang.org/x/text/encoding/charmap"
)

// zipHeader is the part of a zip central or local file header Walk uses.
type zipHeader struct {
	raw          string // name as stored (decoded to UTF-8)
	flags        uint16
	method       uint16
	time, date   uint16
	crc          uint32
	csize, usize uint64
	offset       uint64 // of the local header (central headers only)
	creator      byte   // host system of "version made by"
	extAttr      uint32
	extra        []byte
}

const (
	zipLocalSig   = 0x04034b50
	zipCentralSig = 0x02014b50
	zipEndSig     = 0x06054b50
	zip64EndSig   = 0x06064b50
	zip64LocSig   = 0x07064b50
	zipDescSig    = 0x08074b50

	zipStored   = 0
	zipDeflated = 8
)

var le = binary.LittleEndian

// zipDir locates a central directory.
type zipDir struct {
	start, end int64  // the directory's bytes
	base       int64  // added to local header offsets
	records    uint64 // as declared (mod 65536 unless zip64)
	zip64      bool
}

// errNoEnd reports a zip without an end of central directory record: the
// usual sign of a truncated download.
var errNoEnd = fmt.Errorf("%w: no end of central directory record", parsers.ErrTruncated)

// findZipDir reads the end of central directory record (and its zip64
// version) like archive/zip does.
func findZipDir(ra io.ReaderAt, size int64) (zipDir, error) {
	n := min(size, 22+65535)
	buf := make([]byte, n)
	if _, err := ra.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return zipDir{}, err
	}
	i := -1
	for p := len(buf) - 22; p >= 0; p-- {
		if le.Uint32(buf[p:]) == zipEndSig && p+22+int(le.Uint16(buf[p+20:])) <= len(buf) {
			i = p
			break
		}
	}
	if i < 0 {
		return zipDir{}, errNoEnd
	}
	endOff := size - n + int64(i)
	rec := buf[i:]
	d := zipDir{
		records: uint64(le.Uint16(rec[10:])),
		end:     endOff,
	}
	cdSize, cdOff := uint64(le.Uint32(rec[12:])), uint64(le.Uint32(rec[16:]))
	if d.records == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff {
		if endOff >= 20 {
			loc := make([]byte, 20)
			if _, err := ra.ReadAt(loc, endOff-20); err == nil && le.Uint32(loc) == zip64LocSig {
				off := le.Uint64(loc[8:])
				if off > uint64(endOff) || uint64(endOff)-off < 56 {
					return zipDir{}, fmt.Errorf("zip64 end record offset %d out of range", off)
				}
				r64 := make([]byte, 56)
				if _, err := ra.ReadAt(r64, int64(off)); err != nil {
					return zipDir{}, fmt.Errorf("zip64 end record at offset %d: %w", off, damage(err))
				}
				if le.Uint32(r64) != zip64EndSig {
					return zipDir{}, fmt.Errorf("no zip64 end record at offset %d", off)
				}
				d.records, cdSize, cdOff = le.Uint64(r64[32:]), le.Uint64(r64[40:]), le.Uint64(r64[48:])
				d.end, d.zip64 = int64(off), true
			}
		}
	}
	if cdSize > uint64(d.end) || cdOff > uint64(d.end) {
		return zipDir{}, fmt.Errorf("central directory (offset %d, %d bytes) out of range", cdOff, cdSize)
	}
	d.start = d.end - int64(cdSize)
	d.base = d.start - int64(cdOff)
	if d.base > 0 {
		// Like archive/zip: trust the declared offset when a central
		// header is there (some writers get the size wrong).
		sig := make([]byte, 4)
		if _, err := ra.ReadAt(sig, int64(cdOff)); err == nil && le.Uint32(sig) == zipCentralSig {
			d.base, d.start = 0, int64(cdOff)
		}
	}
	return d, nil
}

// centralReader reads the central directory headers one at a time, without
// keeping them: memory stays small however many entries a zip holds.
type centralReader struct {
	br   *bufio.Reader
	pos  int64
	end  int64
	name []byte
}

func newCentralReader(ra io.ReaderAt, d zipDir) *centralReader {
	return &centralReader{br: bufio.NewReaderSize(io.NewSectionReader(ra, d.start, d.end-d.start), 32<<10), pos: d.start, end: d.end}
}

// next reads one central header; io.EOF at the end of the directory (or at
// the first record that is not a central header, like archive/zip).
// keep=false skips the variable fields.
func (c *centralReader) next(h *zipHeader, keep bool) error {
	if c.pos+4 > c.end {
		return io.EOF
	}
	var fixed [46]byte
	if _, err := io.ReadFull(c.br, fixed[:4]); err != nil {
		return fmt.Errorf("central header at offset %d: %w", c.pos, damage(err))
	}
	if le.Uint32(fixed[:]) != zipCentralSig {
		return io.EOF
	}
	if _, err := io.ReadFull(c.br, fixed[4:]); err != nil {
		return fmt.Errorf("central header at offset %d: %w", c.pos, damage(err))
	}
	b := fixed[:]
	nl, el, cl := int(le.Uint16(b[28:])), int(le.Uint16(b[30:])), int(le.Uint16(b[32:]))
	if c.pos+46+int64(nl+el+cl) > c.end {
		return fmt.Errorf("central header at offset %d runs past the directory", c.pos)
	}
	*h = zipHeader{
		creator: b[5],
		flags:   le.Uint16(b[8:]),
		method:  le.Uint16(b[10:]),
		time:    le.Uint16(b[12:]),
		date:    le.Uint16(b[14:]),
		crc:     le.Uint32(b[16:]),
		csize:   uint64(le.Uint32(b[20:])),
		usize:   uint64(le.Uint32(b[24:])),
		extAttr: le.Uint32(b[38:]),
		offset:  uint64(le.Uint32(b[42:])),
	}
	if keep {
		c.name = slices.Grow(c.name[:0], nl)[:nl]
		h.extra = make([]byte, el)
		if _, err := io.ReadFull(c.br, c.name); err != nil {
			return fmt.Errorf("central header at offset %d: %w", c.pos, damage(err))
		}
		if _, err := io.ReadFull(c.br, h.extra); err != nil {
			return fmt.Errorf("central header at offset %d: %w", c.pos, damage(err))
		}
		h.raw = zipName(c.name, h.flags)
		if _, err := c.br.Discard(cl); err != nil {
			return fmt.Errorf("central header at offset %d: %w", c.pos, damage(err))
		}
		if err := h.readZip64(true); err != nil {
			return fmt.Errorf("central header at offset %d: %w", c.pos, err)
		}
	} else if _, err := c.br.Discard(nl + el + cl); err != nil {
		return fmt.Errorf("central header at offset %d: %w", c.pos, damage(err))
	}
	c.pos += 46 + int64(nl+el+cl)
	return nil
}

// readZip64 replaces 0xffffffff sizes and offset with the zip64 extra
// field's values.
func (h *zipHeader) readZip64(central bool) error {
	for id, data := range zipExtras(h.extra) {
		if id != 0x0001 {
			continue
		}
		take := func(v *uint64) error {
			if *v != 0xffffffff {
				return nil
			}
			if len(data) < 8 {
				return errors.New("short zip64 extra field")
			}
			*v, data = le.Uint64(data), data[8:]
			return nil
		}
		if err := take(&h.usize); err != nil {
			return err
		}
		if err := take(&h.csize); err != nil {
			return err
		}
		if central {
			return take(&h.offset)
		}
		return nil
	}
	return nil
}

// zipExtras iterates over the fields of a zip extra block.
func zipExtras(extra []byte) iter.Seq2[uint16, []byte] {
	return func(yield func(uint16, []byte) bool) {
		for len(extra) >= 4 {
			id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
			if 4+n > len(extra) {
				return
			}
			if !yield(id, extra[4:4+n]) {
				return
			}
			extra = extra[4+n:]
		}
	}
}

// zipName decodes a member name: UTF-8 when flagged or valid, else the
// zip specification's code page 437.
func zipName(b []byte, flags uint16) string {
	if flags&0x800 != 0 || utf8.Valid(b) {
		return string(b)
	}
	s, err := charmap.CodePage437.NewDecoder().Bytes(b)
	if err != nil {
		return string(b)
	}
	return string(s)
}

// zipTime returns the modification time of an entry: a UTC extra field if
// there is one, else the MS-DOS wall clock.
func zipTime(h *zipHeader) (time.Time, parsers.CaptureSource) {
	var ntfs, unix time.Time
	for id, data := range zipExtras(h.extra) {
		switch {
		case id == 0x5455 && len(data) >= 5 && data[0]&1 != 0:
			if s := le.Uint32(data[1:]); s != 0 {
				return time.Unix(int64(s), 0).UTC(), parsers.CaptureZipExtended
			}
		case id == 0x000a && len(data) >= 32:
			for attrs := data[4:]; len(attrs) >= 4; {
				tag, n := le.Uint16(attrs), int(le.Uint16(attrs[2:]))
				if 4+n > len(attrs) {
					break
				}
				if tag == 1 && n >= 24 {
					if ft := le.Uint64(attrs[4:]); ft > 116444736000000000 && ft < 1<<62 {
						ft -= 116444736000000000 // 1601 → 1970, in 100 ns
						ntfs = time.Unix(int64(ft/1e7), int64(ft%1e7)*100).UTC()
					}
				}
				attrs = attrs[4+n:]
			}
		case id == 0x000d && len(data) >= 8:
			if s := le.Uint32(data[4:]); s != 0 {
				unix = time.Unix(int64(s), 0).UTC()
			}
		}
	}
	switch {
	case !ntfs.IsZero():
		return ntfs, parsers.CaptureZipExtended
	case !unix.IsZero():
		return unix, parsers.CaptureZipExtended
	}
	d, t := h.date, h.time
	mon, day := int(d>>5&0xf), int(d&0x1f)
	if d == 0 || mon < 1 || mon > 12 || day < 1 {
		return time.Time{}, ""
	}
	return time.Date(1980+int(d>>9), time.Month(mon), day, int(t>>11), int(t>>5&0x3f), int(t&0x1f)*2, 0, time.UTC), parsers.CaptureZipDOS
}

// zip walks a zip archive through its central directory, or, when that is
// missing or damaged, by scanning its local file headers.
func (w *walker) zip(arch string, ra io.ReaderAt, size int64, depth int) {
	d, err := findZipDir(ra, size)
	var spans []zipSpan
	if err == nil {
		spans, err = checkCentral(ra, d)
	}
	if err != nil {
		w.fail(arch, fmt.Errorf("%w; reading the local file headers instead", err))
		w.zipScan(arch, ra, size, depth)
		return
	}
	if err := overlap(spans); err != nil {
		w.fail(arch, err)
		return
	}
	c := newCentralReader(ra, d)
	var h zipHeader
	for w.more() {
		if err := c.next(&h, true); err == io.EOF {
			return
		} else if err != nil { // checked by checkCentral; the file changed
			w.fail(arch, err)
			return
		}
		if err := w.count(); err != nil {
			w.fail(arch, err)
			return
		}
		p, ok := w.zipCheck(arch, &h)
		if !ok {
			continue
		}
		dataOff, err := zipDataOffset(ra, clampSize(h.offset)+d.base)
		if err != nil {
			w.fail(p, err)
			continue
		}
		if dataOff > size || clampSize(h.csize) > size-dataOff {
			w.fail(p, fmt.Errorf("data at offset %d (%d bytes) runs past the end of the archive: %w", dataOff, h.csize, parsers.ErrTruncated))
			continue
		}
		in := &counter{r: io.NewSectionReader(ra, dataOff, int64(h.csize))}
		w.zipMember(p, &h, in, in.count, dataOff, nil, depth)
	}
}

// checkCentral reads the whole central directory once before any entry is
// yielded, so that a damaged one falls back to scanning from the start
// without yielding entries twice.
//
// It returns the bytes each member occupies at least, for overlap.
func checkCentral(ra io.ReaderAt, d zipDir) ([]zipSpan, error) {
	c := newCentralReader(ra, d)
	var h zipHeader
	var n uint64
	var spans []zipSpan
	for {
		err := c.next(&h, false)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("damaged central directory: %w", err)
		}
		n++
		if !isDirName(h.raw) || h.csize > 0 {
			off := clampSize(h.offset) + d.base
			spans = append(spans, zipSpan{off, off + 30 + clampSize(h.csize)})
		}
	}
	if n != d.records && (d.zip64 || n%65536 != d.records) {
		return nil, fmt.Errorf("damaged central directory: %d headers at offset %d, %d declared", n, d.start, d.records)
	}
	return spans, nil
}

// zipSpan is the least a member occupies: its local header's fixed part
// and its compressed data (the name and extra field add to it).
type zipSpan struct{ start, end int64 }

// overlap refuses an archive two of whose members share bytes. Real zip
// writers lay members end to end; an overlapping-entry bomb (D. Fifield,
// "A better zip bomb", 2019) points many central records into one
// deflate stream, so that each member re-inflates the others. Checked on
// the least span of each member, so a well-formed archive never fails.
func overlap(spans []zipSpan) error {
	slices.SortFunc(spans, func(a, b zipSpan) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		if prev := spans[i-1]; spans[i].start == prev.start {
			return fmt.Errorf("%w: two members start at offset %d, %d members in all: an overlapping-entry bomb", ErrOverlap, prev.start, len(spans))
		} else if spans[i].start < prev.end {
			return fmt.Errorf("%w: the member at offset %d starts inside the member at offset %d (%d bytes), %d members in all: an overlapping-entry bomb", ErrOverlap, spans[i].start, prev.start, prev.end-prev.start, len(spans))
		}
	}
	return nil
}

// clampSize converts a size or offset read from a zip header.
func clampSize(v uint64) int64 {
	return int64(min(v, 1<<62))
}

// zipDataOffset reads the local header at off and returns where its data
// starts.
func zipDataOffset(ra io.ReaderAt, off int64) (int64, error) {
	var b [30]byte
	if _, err := ra.ReadAt(b[:], off); err != nil {
		return 0, fmt.Errorf("local header at offset %d: %w", off, damage(err))
	}
	if le.Uint32(b[:]) != zipLocalSig {
		return 0, fmt.Errorf("no local header at offset %d", off)
	}
	return off + 30 + int64(le.Uint16(b[26:])) + int64(le.Uint16(b[28:])), nil
}

// zipCheck applies the rules that do not need the data: name, type,
// encryption, method, declared sizes. It yields the refusal itself and
// returns the member's path.
func (w *walker) zipCheck(arch string, h *zipHeader) (string, bool) {
	p := arch + "!/" + h.raw
	if isDirName(h.raw) {
		return p, false
	}
	if h.creator == 3 || h.creator == 19 { // Unix, OS X: st_mode in the high half
		switch mode := h.extAttr >> 16 & 0xf000; mode {
		case 0, 0x8000:
		case 0x4000:
			return p, false
		case 0xa000:
			w.fail(p, fmt.Errorf("%w: symbolic link", ErrLinkEntry))
			return p, false
		default:
			w.fail(p, fmt.Errorf("%w: Unix file type %#o", ErrSpecialFile, mode))
			return p, false
		}
	} else if h.extAttr&0x10 != 0 { // MS-DOS directory attribute
		return p, false
	}
	name, err := memberName(h.raw)
	if err != nil {
		w.fail(p, err)
		return p, false
	}
	p = arch + "!/" + name
	switch {
	case h.flags&1 != 0:
		w.fail(p, errors.New("encrypted member not read"))
		return p, false
	case h.method != zipStored && h.method != zipDeflated:
		w.fail(p, fmt.Errorf("compression method %d not supported", h.method))
		return p, false
	}
	csize := clampSize(h.csize)
	if h.method == zipStored {
		csize = -1 // no compression, no ratio
	}
	if err := w.checkDeclared(clampSize(h.usize), csize); err != nil {
		w.fail(p, err)
		return p, false
	}
	return p, true
}

// zipData decompresses a member and, at its end, checks its size and CRC
// (read from the data descriptor that follows it in scan mode, when desc is
// set). Errors name the offset in the archive.
type zipData struct {
	r    io.Reader
	h    *zipHeader
	off  int64        // of the compressed data
	in   func() int64 // compressed bytes consumed
	desc *bufio.Reader
	sum  hash.Hash32
	n    uint64
}

func (z *zipData) Read(p []byte) (int, error) {
	k, err := z.r.Read(p)
	z.sum.Write(p[:k])
	z.n += uint64(k)
	switch {
	case err == nil:
		return k, nil
	case err != io.EOF:
		return k, fmt.Errorf("data at offset %d: %w", z.off+z.in(), damage(err))
	case z.desc != nil:
		crc, err := readDescriptorCRC(z.desc)
		if err != nil {
			return k, fmt.Errorf("data descriptor at offset %d: %w", z.off+z.in(), damage(err))
		}
		z.h.crc, z.h.usize = crc, z.n
	}
	switch {
	case z.n != z.h.usize:
		return k, fmt.Errorf("%w: %d bytes of the %d declared", parsers.ErrTruncated, z.n, z.h.usize)
	case z.h.flags&8 != 0 && z.h.crc == 0 && z.desc == nil:
		// A local header that has sizes but left its CRC to the data
		// descriptor: nothing to check against.
	case z.sum.Sum32() != z.h.crc:
		return k, fmt.Errorf("checksum mismatch: %08x, header says %08x", z.sum.Sum32(), z.h.crc)
	}
	return k, io.EOF
}

// readDescriptorCRC reads the CRC of a data descriptor (its signature is
// optional); the sizes that follow are left to the signature scan.
func readDescriptorCRC(br *bufio.Reader) (uint32, error) {
	b, err := br.Peek(4)
	if err != nil {
		return 0, err
	}
	if le.Uint32(b) == zipDescSig {
		br.Discard(4)
	}
	var crc [4]byte
	if _, err := io.ReadFull(br, crc[:]); err != nil {
		return 0, err
	}
	return le.Uint32(crc[:]), nil
}

// zipMember extracts and yields a member whose compressed bytes in yields
// from offset off. desc is set in scan mode for a member with a data
// descriptor. It reports whether the reading can go on after it.
func (w *walker) zipMember(p string, h *zipHeader, in io.Reader, count func() int64, off int64, desc *bufio.Reader, depth int) bool {
	z := &zipData{r: in, h: h, off: off, in: count, desc: desc, sum: crc32.NewIEEE()}
	declared := clampSize(h.usize)
	if desc != nil {
		declared = -1
	}
	if h.method == zipDeflated {
		z.r = w.inflater(in)
	} else {
		count = nil // stored: no ratio
	}
	mt, src := zipTime(h)
	return w.extractMember(p, z, count, declared, mt, src, depth)
}

// inflater returns the walker's deflate decompressor reset to read r. It is
// free again once a member has been extracted.
func (w *walker) inflater(r io.Reader) io.Reader {
	if w.inflate == nil {
		w.inflate = flate.NewReader(r)
	} else {
		w.inflate.(flate.Resetter).Reset(r, nil)
	}
	return w.inflate
}

// zipScanner reads a zip from the start, for the local file headers.
type zipScanner struct {
	ra    io.ReaderAt
	size  int64
	start int64
	c     *counter
	br    *bufio.Reader
}

// seek moves the scanner to off.
func (s *zipScanner) seek(off int64) {
	off = min(max(off, 0), s.size)
	s.start, s.c = off, &counter{r: io.NewSectionReader(s.ra, off, s.size-off)}
	if s.br == nil {
		s.br = bufio.NewReaderSize(s.c, 32<<10)
	} else {
		s.br.Reset(s.c)
	}
}

func (s *zipScanner) pos() int64 { return s.start + s.c.n - int64(s.br.Buffered()) }

// nextSig reads up to the next zip signature and returns it.
func (s *zipScanner) nextSig(ctx context.Context) (uint32, error) {
	var win uint32
	for i := 1; ; i++ {
		b, err := s.br.ReadByte()
		if err != nil {
			return 0, err
		}
		win = win>>8 | uint32(b)<<24
		switch win {
		case zipLocalSig, zipCentralSig, zipEndSig, zip64EndSig:
			return win, nil
		}
		if i%(1<<20) == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
	}
}

// readLocal reads a local file header, its signature already read.
func (s *zipScanner) readLocal(h *zipHeader) error {
	var b [26]byte
	if _, err := io.ReadFull(s.br, b[:]); err != nil {
		return err
	}
	*h = zipHeader{
		flags:  le.Uint16(b[2:]),
		method: le.Uint16(b[4:]),
		time:   le.Uint16(b[6:]),
		date:   le.Uint16(b[8:]),
		crc:    le.Uint32(b[10:]),
		csize:  uint64(le.Uint32(b[14:])),
		usize:  uint64(le.Uint32(b[18:])),
	}
	name := make([]byte, le.Uint16(b[22:]))
	h.extra = make([]byte, le.Uint16(b[24:]))
	if _, err := io.ReadFull(s.br, name); err != nil {
		return err
	}
	if _, err := io.ReadFull(s.br, h.extra); err != nil {
		return err
	}
	h.raw = zipName(name, h.flags)
	return h.readZip64(false)
}

// zipScan reads a zip whose central directory is missing or damaged from
// its local file headers, in file order, up to the first central header.
// A member with a data descriptor (sizes unknown in its local header) is
// read to the end of its deflate stream; a stored one cannot be delimited
// and is reported, and the scan goes on through its data.
func (w *walker) zipScan(arch string, ra io.ReaderAt, size int64, depth int) {
	s := &zipScanner{ra: ra, size: size}
	s.seek(0)
	for w.more() {
		sig, err := s.nextSig(w.ctx)
		if err == io.EOF {
			return
		}
		if err != nil {
			w.fail(arch, err)
			return
		}
		if sig != zipLocalSig {
			return // the (damaged) central directory: no more data
		}
		off := s.pos() - 4
		var h zipHeader
		if err := s.readLocal(&h); err != nil {
			w.fail(arch, fmt.Errorf("local header at offset %d: %w", off, damage(err)))
			if errors.Is(damage(err), parsers.ErrTruncated) {
				return
			}
			continue
		}
		if err := w.count(); err != nil {
			w.fail(arch, err)
			return
		}
		dataOff := s.pos()
		streamed := h.flags&8 != 0 && h.csize == 0
		p, ok := w.zipCheck(arch, &h)
		switch {
		case !ok:
			if !streamed {
				s.seek(dataOff + min(clampSize(h.csize), size))
			}
		case streamed && h.method != zipDeflated:
			w.fail(p, errors.New("stored member with a data descriptor: its size is unknown without the central directory, not read"))
		case streamed:
			bc := &byteCounter{br: s.br}
			w.zipMember(p, &h, bc, bc.count, dataOff, s.br, depth)
		default:
			n := min(clampSize(h.csize), size-dataOff)
			in := &counter{r: io.NewSectionReader(ra, dataOff, n)}
			w.zipMember(p, &h, in, in.count, dataOff, nil, depth)
			s.seek(dataOff + n)
		}
	}
}
