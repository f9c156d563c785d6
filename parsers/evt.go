package parsers

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"strings"
	"time"
	"unicode/utf16"
)

// evt reads legacy Windows NT/2000/XP/2003 event logs (AppEvent.Evt,
// SysEvent.Evt, …), collected by copying %SystemRoot%\System32\config\*.Evt
// or with "Save Log File As…" in the old Event Viewer.
//
// The file is a 48-byte ELF_LOGFILE_HEADER followed by a ring buffer of
// EVENTLOGRECORDs and one end-of-file record (ELF_EOF_RECORD, 40 bytes,
// signatures 0x11111111 … 0x44444444). When the ring is full, writing goes on
// at offset 48 and a record that does not fit at the end of the file is split:
// its first part ends the file, the rest follows the header.
//
// Parse needs an io.ReaderAt whose size it can learn (an *os.File,
// *bytes.Reader, *io.SectionReader …). It finds the live region from the
// end-of-file record, first at the offset the header names, else by scanning
// for it (the header of a log copied while in use is stale: "dirty"), and
// walks the records from the oldest, following their lengths across the
// wrap. Each record must carry the LfLe signature and end with a copy of its
// length; one that does not is reported as a *ParseError with its Offset and
// the walk resynchronises on the next LfLe signature at 4-byte alignment.
// Then the space outside the live region is scanned for records left over
// from before the log wrapped; those are yielded with Event.Recovered set.
//
// Event.EventID is the low 16 bits of the record's EventID, Event.Qualifiers
// the high 16 (severity, customer and facility bits). Provider is the source
// name, Time the TimeGenerated, Data the insertion strings (unnamed), Binary
// the record's data as upper-case hex. Channel is left empty: the file does
// not name its log, the caller knows the file.
type evt struct{}

// Format implements Parser.
func (evt) Format() Format { return FormatEVT }

// Version implements Parser.
func (evt) Version() int { return 1 }

func (evt) binary() {}

// Layout constants of the EVT format.
const (
	evtHeaderSize = 0x30
	evtEOFSize    = 0x28
	// evtFixedSize is the fixed part of an EVENTLOGRECORD, up to SourceName.
	evtFixedSize = 0x38
	// evtMinRecord is the smallest record: the fixed part, two empty
	// UTF-16 strings and the trailing copy of the length.
	evtMinRecord = evtFixedSize + 4 + 4
	// evtMaxRecord bounds what one record may claim; Windows limits an
	// event's strings and data to well under this.
	evtMaxRecord = 1 << 20
	// evtScanBlock is how much is read at once when scanning for signatures.
	evtScanBlock = 64 << 10
)

var (
	evtSignature    = []byte("LfLe")
	evtEOFSignature = []byte{
		0x28, 0, 0, 0,
		0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
		0x33, 0x33, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44,
	}
)

// Sniff implements Parser: the header's size and LfLe signature, or, when
// the header is damaged, the first record's signature right after it.
func (evt) Sniff(head []byte) bool {
	if len(head) >= evtHeaderSize && bytes.Equal(head[4:8], evtSignature) &&
		binary.LittleEndian.Uint32(head) == evtHeaderSize {
		return true
	}
	if len(head) >= evtHeaderSize+8 && bytes.Equal(head[evtHeaderSize+4:evtHeaderSize+8], evtSignature) {
		n := binary.LittleEndian.Uint32(head[evtHeaderSize:])
		return n >= evtMinRecord && n <= evtMaxRecord && n%4 == 0
	}
	return false
}

// Parse implements Parser. r must be an io.ReaderAt with a known size.
func (evt) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		ra, ok := r.(io.ReaderAt)
		if !ok {
			yield(Record{}, &ParseError{Format: FormatEVT, Err: ErrNeedReaderAt})
			return
		}
		size, err := evtReaderSize(r)
		if err != nil {
			yield(Record{}, &ParseError{Format: FormatEVT, Err: err})
			return
		}
		if size > 1<<32 {
			size = 1 << 32 // offsets in the format are 32-bit
		}
		f := &evtFile{ra: ra, size: size}
		f.run(ctx, yield)
	}
}

// evtReaderSize learns the size of an input from Size, Stat or Seek.
func evtReaderSize(r io.Reader) (int64, error) {
	switch v := r.(type) {
	case interface{ Size() int64 }:
		return v.Size(), nil
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := v.Stat()
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	case io.Seeker:
		cur, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, err
		}
		end, err := v.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, err
		}
		_, err = v.Seek(cur, io.SeekStart)
		return end, err
	}
	return 0, errors.New("cannot learn the input's size")
}

// evtFile is one parse of one .evt file.
type evtFile struct {
	ra   io.ReaderAt
	size int64
	// yield and stop carry the consumer's callback through the walk.
	yield func(Record, error) bool
	stop  bool
}

func (f *evtFile) emit(rec Record, err error) bool {
	if f.stop {
		return false
	}
	if !f.yield(rec, err) {
		f.stop = true
	}
	return !f.stop
}

func (f *evtFile) fail(off int64, err error) bool {
	return f.emit(Record{}, &ParseError{Format: FormatEVT, Offset: off, Err: err})
}

// abort reports an error that ends the parse (a cancelled context, a
// failing reader).
func (f *evtFile) abort(off int64, err error) {
	f.fail(off, err)
	f.stop = true
}

func (f *evtFile) failf(off int64, format string, args ...any) bool {
	return f.fail(off, fmt.Errorf(format, args...))
}

// area is the size of the ring buffer after the header.
func (f *evtFile) area() int64 { return f.size - evtHeaderSize }

// wrap maps an offset that ran past the end of the file back after the header.
func (f *evtFile) wrap(off int64) int64 {
	if off >= f.size && f.area() > 0 {
		off = evtHeaderSize + (off-evtHeaderSize)%f.area()
	}
	return off
}

// readRing reads n bytes at off, continuing after the header when the end
// of the file is reached, as a record split by the wrap does.
func (f *evtFile) readRing(off int64, n int) ([]byte, error) {
	if int64(n) > f.area() {
		return nil, ErrTruncated
	}
	buf := make([]byte, n)
	got := 0
	for got < n {
		off = f.wrap(off)
		chunk := min(int64(n-got), f.size-off)
		m, err := f.ra.ReadAt(buf[got:got+int(chunk)], off)
		got += m
		if m < int(chunk) {
			if err == nil || err == io.EOF {
				err = ErrTruncated
			}
			return nil, err
		}
		off += chunk
	}
	return buf, nil
}

func (f *evtFile) run(ctx context.Context, yield func(Record, error) bool) {
	f.yield = yield
	if f.size < evtHeaderSize {
		f.fail(0, fmt.Errorf("file of %d bytes is shorter than the header: %w", f.size, ErrTruncated))
		return
	}
	hdr := make([]byte, evtHeaderSize)
	if _, err := f.ra.ReadAt(hdr, 0); err != nil && err != io.EOF {
		f.abort(0, err)
		return
	}
	le := binary.LittleEndian
	headerOK := bytes.Equal(hdr[4:8], evtSignature) && le.Uint32(hdr) == evtHeaderSize &&
		le.Uint32(hdr[44:]) == evtHeaderSize
	var hdrStart, hdrEnd int64 = -1, -1
	if headerOK {
		hdrStart, hdrEnd = int64(le.Uint32(hdr[16:])), int64(le.Uint32(hdr[20:]))
	} else if !f.failf(0, "damaged file header (size %#x, signature %q): scanning for records", le.Uint32(hdr), hdr[4:8]) {
		return
	}

	// The live region runs from the oldest record to the end-of-file
	// record, which says where both are even when the header is stale.
	begin, eofOff := int64(-1), f.findEOF(ctx, hdrEnd)
	if f.stop {
		return
	}
	if eofOff >= 0 {
		rec, _ := f.readRing(eofOff, evtEOFSize)
		begin = int64(le.Uint32(rec[20:]))
		if !f.validOffset(begin) {
			if !f.failf(eofOff, "end-of-file record names the oldest record at %#x, outside the file", begin) {
				return
			}
			begin = -1
		}
	}
	if begin < 0 && f.validOffset(hdrStart) {
		begin = hdrStart
	}

	liveStart, liveEnd := int64(-1), int64(-1)
	if begin >= 0 {
		end := f.walk(ctx, begin, eofOff)
		if f.stop {
			return
		}
		liveStart, liveEnd = begin, end
		if eofOff >= 0 {
			liveEnd = f.wrap(eofOff + evtEOFSize)
		}
	} else {
		why := "the header is damaged"
		if headerOK {
			why = fmt.Sprintf("the header's oldest-record offset %#x is outside the file", hdrStart)
		}
		if !f.failf(0, "no end-of-file record and %s: every record found is reported as recovered", why) {
			return
		}
	}
	f.carve(ctx, liveStart, liveEnd)
}

// validOffset reports whether off can start a record.
func (f *evtFile) validOffset(off int64) bool {
	return off >= evtHeaderSize && off < f.size && off%4 == 0
}

// findEOF returns the offset of the end-of-file record, or -1: first at
// hint (the header's value), else the first found at 4-byte alignment
// scanning the ring from hint on.
func (f *evtFile) findEOF(ctx context.Context, hint int64) int64 {
	if f.validOffset(hint) && f.isEOF(hint) {
		return hint
	}
	start := int64(evtHeaderSize)
	if f.validOffset(hint) {
		start = hint
	}
	found := int64(-1)
	f.scan(ctx, start, f.size, evtEOFSignature, func(off int64) bool {
		if f.isEOF(off) {
			found = off
			return false
		}
		return true
	})
	if found < 0 && start > evtHeaderSize && !f.stop {
		f.scan(ctx, evtHeaderSize, start, evtEOFSignature, func(off int64) bool {
			if f.isEOF(off) {
				found = off
				return false
			}
			return true
		})
	}
	return found
}

// isEOF reports whether an end-of-file record starts at off. Its copy of
// the size must match and, when it names its own offset, that must be off.
func (f *evtFile) isEOF(off int64) bool {
	if off+evtEOFSize > f.size {
		return false
	}
	b := make([]byte, evtEOFSize)
	if n, _ := f.ra.ReadAt(b, off); n < evtEOFSize {
		return false
	}
	return bytes.Equal(b[:len(evtEOFSignature)], evtEOFSignature) &&
		binary.LittleEndian.Uint32(b[36:]) == evtEOFSize &&
		int64(binary.LittleEndian.Uint32(b[24:])) == off
}

// scan calls fn with the offset of every 4-byte aligned occurrence of sig
// in [from, to), in order, until fn returns false. Occurrences of the
// record signature are reported at the record start, 4 bytes before.
func (f *evtFile) scan(ctx context.Context, from, to int64, sig []byte, fn func(off int64) bool) {
	back := int64(0)
	if bytes.Equal(sig, evtSignature) {
		back = 4
	}
	buf := make([]byte, evtScanBlock+len(sig))
	for pos := from; pos < to; {
		if err := ctx.Err(); err != nil {
			f.abort(pos, err)
			return
		}
		n, err := f.ra.ReadAt(buf[:min(int64(len(buf)), f.size-pos)], pos)
		if n < len(sig) {
			if err != nil && err != io.EOF {
				f.abort(pos, err)
			}
			return
		}
		block := buf[:n]
		for i := 0; ; {
			j := bytes.Index(block[i:], sig)
			if j < 0 {
				break
			}
			at := pos + int64(i+j) - back
			i += j + 1
			if at%4 != 0 || at < from || at >= to {
				continue
			}
			if at-pos+back >= evtScanBlock {
				break // the next block sees it
			}
			if !fn(at) {
				return
			}
		}
		pos += evtScanBlock
	}
}

// evtRecord is a decoded record and the problems found inside it that did
// not stop its decoding.
type evtRecord struct {
	length int64
	event  *Event
	warn   []error
}

// record reads and validates the record at off.
func (f *evtFile) record(off int64) (*evtRecord, error) {
	head, err := f.readRing(off, 8)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(head[4:], evtSignature) {
		return nil, errors.New("no record signature")
	}
	n := int64(binary.LittleEndian.Uint32(head))
	if n < evtMinRecord || n > evtMaxRecord || n%4 != 0 || n > f.area() {
		return nil, fmt.Errorf("bad record size %#x", n)
	}
	b, err := f.readRing(off, int(n))
	if err != nil {
		return nil, fmt.Errorf("record of %#x bytes: %w", n, err)
	}
	if c := int64(binary.LittleEndian.Uint32(b[n-4:])); c != n {
		if off+n > f.size {
			return nil, fmt.Errorf("record of %#x bytes runs past the end of the file and does not continue after the header (size copy %#x): %w", n, c, ErrTruncated)
		}
		return nil, fmt.Errorf("size copy %#x does not match record size %#x", c, n)
	}
	return evtDecode(b), nil
}

// evtDecode decodes a validated record. Offsets inside the record that
// point outside it are reported as warnings, as the libevt documentation
// describes for real damaged logs, and the rest of the record is kept.
func evtDecode(b []byte) *evtRecord {
	le := binary.LittleEndian
	n := len(b)
	body := b[:n-4] // without the trailing size copy
	r := &evtRecord{length: int64(n)}
	id := le.Uint32(b[20:])
	ev := &Event{
		RecordID:   uint64(le.Uint32(b[8:])),
		Time:       time.Unix(int64(le.Uint32(b[12:])), 0).UTC(),
		EventID:    uint16(id),
		Qualifiers: uint16(id >> 16),
		Level:      evtLevel(le.Uint16(b[24:])),
	}
	r.event = ev
	source, next := evtUTF16Z(body, evtFixedSize)
	computer, _ := evtUTF16Z(body, next)
	ev.Provider, ev.Computer = source, computer

	numStrings := int(le.Uint16(b[26:]))
	strOff := int(le.Uint32(b[36:]))
	if numStrings > 0 {
		if strOff < evtFixedSize || strOff >= len(body) {
			r.warn = append(r.warn, fmt.Errorf("%d strings at offset %#x, outside the record", numStrings, strOff))
		} else {
			pos := strOff
			for i := 0; i < numStrings; i++ {
				if pos >= len(body) {
					r.warn = append(r.warn, fmt.Errorf("strings cut short: %d of %d read", i, numStrings))
					break
				}
				var s string
				s, pos = evtUTF16Z(body, pos)
				ev.Data = append(ev.Data, Field{Value: s})
			}
		}
	}

	dataLen, dataOff := int(le.Uint32(b[48:])), int(le.Uint32(b[52:]))
	if dataLen > 0 {
		if dataOff < evtFixedSize || dataOff > len(body) || dataLen > len(body)-dataOff {
			r.warn = append(r.warn, fmt.Errorf("%d bytes of data at offset %#x, outside the record", dataLen, dataOff))
		} else {
			ev.Binary = strings.ToUpper(hex.EncodeToString(body[dataOff : dataOff+dataLen]))
		}
	}
	return r
}

// evtLevel maps an EVENTLOGRECORD EventType to the evtx Level of the same
// meaning: error 2, warning 3, information 4. Success (0) and the audit
// types (8, 16) have no level (evtx logs audits with level 0).
func evtLevel(eventType uint16) uint8 {
	switch eventType {
	case 1:
		return 2
	case 2:
		return 3
	case 4:
		return 4
	}
	return 0
}

// evtUTF16Z decodes the NUL-terminated UTF-16LE string at b[off:] and
// returns it with the offset after its terminator (len(b) when there is
// none). Invalid UTF-16 becomes U+FFFD.
func evtUTF16Z(b []byte, off int) (string, int) {
	if off >= len(b) {
		return "", len(b)
	}
	var u []uint16
	for i := off; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			return string(utf16.Decode(u)), i + 2
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), len(b)
}

// walk yields the live records from begin, following their sizes, until
// the end-of-file record at eofOff (or, when eofOff is -1, until the chain
// breaks). It returns the offset where the walk ended.
func (f *evtFile) walk(ctx context.Context, begin, eofOff int64) int64 {
	off := begin
	for walked := int64(0); walked < f.area(); {
		if off == eofOff {
			return off
		}
		if err := ctx.Err(); err != nil {
			f.abort(off, err)
			return off
		}
		r, err := f.record(off)
		if err == nil && eofOff >= 0 && f.distance(off, eofOff) < r.length {
			err = fmt.Errorf("record of %#x bytes runs over the end-of-file record at %#x", r.length, eofOff)
		}
		if err == nil {
			if !f.emitRecord(off, r, false) {
				return off
			}
			walked += r.length
			off = f.wrap(off + r.length)
			continue
		}
		if eofOff < 0 {
			// Without an end-of-file record the end of the chain is
			// the end of the log as far as anyone can tell. The
			// carving that follows starts after this record's start.
			f.failf(off, "record chain ends without an end-of-file record: %w", err)
			return f.wrap(off + 4)
		}
		next := f.resync(ctx, off+4, eofOff)
		if f.stop {
			return off
		}
		skip := f.distance(off, next)
		if next < 0 {
			skip = f.distance(off, eofOff)
		}
		if !f.failf(off, "%w: skipped %d bytes to the next record", err, skip) {
			return off
		}
		if next < 0 {
			return eofOff
		}
		walked += skip
		off = next
	}
	return off
}

// distance is how far to is after from, going round the ring.
func (f *evtFile) distance(from, to int64) int64 {
	if to >= from {
		return to - from
	}
	return to - evtHeaderSize + f.size - from
}

// resync finds the next valid record at or after from, going round the
// ring, before stop; -1 when there is none.
func (f *evtFile) resync(ctx context.Context, from, stop int64) int64 {
	from = f.wrap(from)
	found := int64(-1)
	try := func(off int64) bool {
		if _, err := f.record(off); err == nil {
			found = off
			return false
		}
		return true
	}
	if stop >= from {
		f.scan(ctx, from, stop, evtSignature, try)
		return found
	}
	f.scan(ctx, from, f.size, evtSignature, try)
	if found < 0 && !f.stop {
		f.scan(ctx, evtHeaderSize, stop, evtSignature, try)
	}
	return found
}

func (f *evtFile) emitRecord(off int64, r *evtRecord, recovered bool) bool {
	for _, w := range r.warn {
		if !f.fail(off, fmt.Errorf("record %d: %w", r.event.RecordID, w)) {
			return false
		}
	}
	r.event.Recovered = recovered
	return f.emit(Record{Kind: KindEvent, Offset: off, Event: r.event}, nil)
}

// carve scans the space outside the live region [liveStart, liveEnd) (a
// region going round the ring when liveEnd <= liveStart; the whole file
// when liveStart is -1) for records and yields them as recovered.
func (f *evtFile) carve(ctx context.Context, liveStart, liveEnd int64) {
	type span struct{ from, to int64 }
	var spans []span
	switch {
	case liveStart < 0:
		spans = []span{{evtHeaderSize, f.size}}
	case liveStart == liveEnd:
		// The walk went all the way round: nothing is outside.
	case liveStart < liveEnd:
		spans = []span{{evtHeaderSize, liveStart}, {liveEnd, f.size}}
	default:
		spans = []span{{liveEnd, liveStart}}
	}
	for _, s := range spans {
		next := s.from
		f.scan(ctx, s.from, s.to, evtSignature, func(off int64) bool {
			if off < next {
				return true // inside the record just carved
			}
			if err := ctx.Err(); err != nil {
				f.abort(off, err)
				return false
			}
			r, err := f.record(off)
			if err != nil {
				return f.failf(off, "leftover record outside the live region: %w", err)
			}
			next = off + r.length
			return f.emitRecord(off, r, true)
		})
		if f.stop {
			return
		}
	}
}
