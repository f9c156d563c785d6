package evtxwrite

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Errors of the EVTX writer. A Write that returns one of them wrote nothing
// and the writer stays usable.
var (
	// ErrEventTooLarge reports an event whose record does not fit in one
	// 64 KiB chunk, or a single value over 64 KiB.
	ErrEventTooLarge = errors.New("evtx write: event too large for a chunk")
	// ErrLogFull reports a log that already holds 65535 chunks (about
	// 4 GiB), the most the file header can count.
	ErrLogFull = errors.New("evtx write: log full (65535 chunks)")
)

// The EVTX layout (libyal's "Windows XML Event Log (EVTX)" description,
// checked against the corpus files). The reader in package parsers has its
// own copies of these values; a test there pins them equal.
const (
	// FileMagic starts the file header, ChunkMagic each chunk and
	// RecordMagic each event record.
	FileMagic   = "ElfFile\x00"
	ChunkMagic  = "ElfChnk\x00"
	RecordMagic = "**\x00\x00"
	// FileHeaderSize is the file header block; the first chunk follows.
	FileHeaderSize = 4096
	// ChunkSize is the size of every chunk.
	ChunkSize = 65536
	// ChunkHeaderSize is the chunk header with its string and template
	// tables: a chunk's first record starts here.
	ChunkHeaderSize = 512
	// RecordHeaderSize is a record's magic, size, record id and time,
	// before its BinXML fragment.
	RecordHeaderSize = 24
	// FlagDirty is the file header flag of a log still open for writing.
	FlagDirty = 1
	// TokenFragment starts a BinXML fragment, TokenTemplateInstance a
	// template instance ([MS-EVEN6] 3.1.4.7).
	TokenFragment         = 0x0F
	TokenTemplateInstance = 0x0C
	// InstanceHeaderSize is a template instance's token and header
	// fields; an inline template definition follows them.
	InstanceHeaderSize = 10
)

const (
	maxChunks       = 0xFFFF // the file header's chunk count is 16 bits
	stringBuckets   = 64
	templateBuckets = 32
	namespace       = "http://schemas.microsoft.com/win/2004/08/events/event"
	// filetimeEpochDelta is 1601-01-01 to 1970-01-01 in seconds.
	filetimeEpochDelta = 11644473600
)

// BinXML tokens and value types ([MS-EVEN6] 3.1.4.7).
const (
	bxEOF            = 0x00
	bxOpenStart      = 0x01 // | 0x40: an attribute list follows the name
	bxCloseStart     = 0x02
	bxCloseEmpty     = 0x03
	bxEndElement     = 0x04
	bxValue          = 0x05
	bxAttribute      = 0x06 // | 0x40: more attributes follow
	bxTemplate       = TokenTemplateInstance
	bxNormalSub      = 0x0D
	bxOptionalSub    = 0x0E
	bxFragment       = TokenFragment
	bxMore           = 0x40
	vtString         = 0x01
	vtUInt8          = 0x04
	vtUInt16         = 0x06
	vtUInt32         = 0x08
	vtUInt64         = 0x0A
	vtBinary         = 0x0E
	vtGUID           = 0x0F
	vtFileTime       = 0x11
	vtHexInt64       = 0x15
	keywordsClassic  = 0x0080000000000000 // Keywords of classic (Qualifiers) events
	keywordsManifest = 0x8000000000000000 // Keywords of manifest events
)

// Event is one record to write: the fields of an event's System element
// that readers show, its EventData and its Binary. Write documents how
// each field is written.
type Event struct {
	Channel      string
	Provider     string
	ProviderGUID string // "{…}" or bare, any case; "" for none
	// EventSource is the classic EventSourceName, "" for none.
	EventSource string
	EventID     uint16
	Qualifiers  uint16
	Level       uint8
	RecordID    uint64 // 0: the previous record's id plus one
	Time        time.Time
	Computer    string
	// Data is the EventData, in order; a Field without a name is written
	// as an unnamed <Data>.
	Data []Field
	// Binary is the <Binary> element as hex, either case; "" for none.
	Binary string
}

// Field is one <Data> element of EventData.
type Field struct {
	Name  string
	Value string
}

// SystemTimesHex returns EventLog 6008's Binary for an unexpected
// shutdown at utc on a host offset from UTC by offset (local − UTC): the
// moment as a local SYSTEMTIME, then as a UTC SYSTEMTIME, in upper-case
// hex.
func SystemTimesHex(utc time.Time, offset time.Duration) string {
	var b []byte
	for _, t := range []time.Time{utc.Add(offset), utc} {
		for _, v := range []int{t.Year(), int(t.Month()), int(t.Weekday()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond() / 1e6} {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

// UTF16Hex returns s with a terminating NUL as UTF-16LE in upper-case hex,
// a value for Event.Binary: Service Control Manager events carry the
// service's key name there this way (7000, 7023, 7036 …).
func UTF16Hex(s string) string {
	b := make([]byte, 0, 2*len(s)+2)
	for _, u := range utf16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return strings.ToUpper(hex.EncodeToString(b))
}

// System holds the System fields of a record that Event does not carry.
// Write uses its zero value with Keywords 0x0080000000000000 (the classic
// bit) for events with Qualifiers and 0x8000000000000000 otherwise.
type System struct {
	Version   uint8
	Task      uint16
	Opcode    uint8
	Keywords  uint64
	ProcessID uint32
	ThreadID  uint32
}

// Writer writes events as a Windows XML event log (.evtx, version 3.1),
// the way Windows lays them out: a file header, then 64 KiB chunks of
// records. Each record is a BinXML template instance with typed values: the
// template definition is written inline the first time a shape of event
// (which System attributes, which Data names, a Binary or not) occurs in a
// chunk, and later records of the chunk refer to it by offset. Element and
// attribute names are likewise written once per chunk, and both are listed
// in the chunk's string and template tables.
//
// The writer keeps one chunk in memory, so a log of any size (up to the
// format's 65535 chunks) streams out. It needs an io.WriteSeeker because
// the file header, written first, holds the chunk count, the next record
// id and a CRC that are known only at the end: Close seeks back to rewrite
// it. Until Close the header carries the dirty flag, as a log Windows has
// open does. Close does not close the underlying file.
type Writer struct {
	out     io.WriteSeeker
	start   int64 // offset of the file header in out
	started bool
	closed  bool
	err     error // sticky I/O error

	chunks  int    // chunks written to out
	lastID  uint64 // last record id written
	chunk   []byte // the chunk being filled
	free    uint32 // offset of the free space in chunk
	lastRec uint32 // offset of the last record in chunk
	firstID uint64 // first record id in chunk, 0 when the chunk is empty
	strTab  [stringBuckets]uint32
	tplTab  [templateBuckets]uint32
	names   map[string]uint32 // element and attribute names in chunk
	tpls    map[string]uint32 // template definition offsets by shape key

	maxChunks int // maxChunks; lowered by tests
	enc       recordEncoder
}

// New returns a writer that writes an .evtx log to out, starting
// at out's current offset. Nothing is written before the first Write or
// Close.
func New(out io.WriteSeeker) *Writer {
	return &Writer{
		out:   out,
		chunk: make([]byte, ChunkSize),
		names: make(map[string]uint32),
		tpls:  make(map[string]uint32),
		free:  ChunkHeaderSize,

		maxChunks: maxChunks,
	}
}

// Write appends ev as the next record. A zero RecordID is replaced by the
// previous record's id plus one (1 for the first); a non-zero one must be
// greater than the previous, and one that leaves a gap starts a new chunk.
// Time is truncated to 100 ns (FILETIME). ProviderGUID is written as the
// Provider Guid attribute when set ("{…}" or bare), EventSource as
// EventSourceName when set (Windows writes it equal to the provider name
// for SCM), Qualifiers when non-zero, and Binary (hex) as the <Binary>
// element when not empty. Data values are written as strings.
func (w *Writer) Write(ev Event) error {
	sys := System{Keywords: keywordsManifest}
	if ev.Qualifiers != 0 {
		sys.Keywords = keywordsClassic
	}
	return w.WriteSystem(ev, sys)
}

// WriteSystem is Write with the System fields that Event does not carry.
func (w *Writer) WriteSystem(ev Event, sys System) error {
	err := w.write(ev, sys)
	w.enc.in.ev = Event{} // keep nothing of the caller's
	return err
}

func (w *Writer) write(ev Event, sys System) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("evtx write: writer closed")
	}
	in, err := w.prepare(ev, sys)
	if err != nil {
		return err
	}
	if !w.started {
		if err := w.begin(); err != nil {
			return err
		}
	}
	// libevtx calls a chunk whose record ids are not consecutive corrupted:
	// an id after a gap starts a new chunk.
	if w.firstID != 0 && in.id != w.lastID+1 {
		if err := w.flushChunk(); err != nil {
			return err
		}
	}
	if w.firstID != 0 {
		fits, ok := w.encode(in)
		if !ok {
			return ErrEventTooLarge
		}
		if fits {
			w.commit(in)
			return nil
		}
		if err := w.flushChunk(); err != nil {
			return err
		}
	}
	if w.chunks >= w.maxChunks {
		return ErrLogFull
	}
	if fits, ok := w.encode(in); !ok || !fits {
		return ErrEventTooLarge
	}
	w.commit(in)
	return nil
}

// Close writes the last chunk and the final file header. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil || w.closed {
		return w.err
	}
	w.closed = true
	if !w.started {
		if err := w.begin(); err != nil {
			return err
		}
	}
	// An empty log still gets one (empty) chunk: libevtx reads the chunks
	// up to the last chunk number, 0, and calls a log without it corrupted.
	if w.firstID != 0 || w.chunks == 0 {
		if err := w.flushChunk(); err != nil {
			return err
		}
	}
	end, err := w.out.Seek(0, io.SeekCurrent)
	if err != nil {
		return w.fail(err)
	}
	if _, err := w.out.Seek(w.start, io.SeekStart); err != nil {
		return w.fail(err)
	}
	if err := w.writeHeader(false); err != nil {
		return err
	}
	if _, err := w.out.Seek(end, io.SeekStart); err != nil {
		return w.fail(err)
	}
	return nil
}

func (w *Writer) fail(err error) error {
	w.err = fmt.Errorf("evtx write: %w", err)
	return w.err
}

// begin writes a provisional, dirty file header.
func (w *Writer) begin() error {
	w.started = true
	start, err := w.out.Seek(0, io.SeekCurrent)
	if err != nil {
		return w.fail(err)
	}
	w.start = start
	return w.writeHeader(true)
}

func (w *Writer) writeHeader(dirty bool) error {
	var h [FileHeaderSize]byte
	le := binary.LittleEndian
	copy(h[0:], FileMagic)
	le.PutUint64(h[8:], 0) // first chunk number
	if w.chunks > 0 {
		le.PutUint64(h[16:], uint64(w.chunks-1)) // last chunk number
	}
	le.PutUint64(h[24:], w.lastID+1) // next record id
	le.PutUint32(h[32:], 128)        // header size
	le.PutUint16(h[36:], 1)          // minor version
	le.PutUint16(h[38:], 3)          // major version
	le.PutUint16(h[40:], FileHeaderSize)
	le.PutUint16(h[42:], uint16(w.chunks))
	if dirty {
		le.PutUint32(h[120:], FlagDirty)
	}
	le.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	if _, err := w.out.Write(h[:]); err != nil {
		return w.fail(err)
	}
	return nil
}

// flushChunk completes the chunk header, writes the chunk and starts an
// empty one.
func (w *Writer) flushChunk() error {
	c := w.chunk
	le := binary.LittleEndian
	copy(c[0:], ChunkMagic)
	le.PutUint64(c[8:], w.firstID)  // first event record number
	le.PutUint64(c[16:], w.lastID)  // last event record number
	le.PutUint64(c[24:], w.firstID) // first event record id
	le.PutUint64(c[32:], w.lastID)  // last event record id
	le.PutUint32(c[40:], 128)       // header size
	le.PutUint32(c[44:], w.lastRec)
	le.PutUint32(c[48:], w.free)
	le.PutUint32(c[52:], crc32.ChecksumIEEE(c[ChunkHeaderSize:w.free]))
	le.PutUint32(c[120:], 1) // flags: every chunk Windows writes has 1 here
	for i, off := range w.strTab {
		le.PutUint32(c[128+4*i:], off)
	}
	for i, off := range w.tplTab {
		le.PutUint32(c[384+4*i:], off)
	}
	sum := crc32.ChecksumIEEE(c[:120])
	sum = crc32.Update(sum, crc32.IEEETable, c[128:ChunkHeaderSize])
	le.PutUint32(c[124:], sum)
	if _, err := w.out.Write(c); err != nil {
		return w.fail(err)
	}
	w.chunks++
	clear(c[:w.free])
	w.free = ChunkHeaderSize
	w.lastRec = 0
	w.firstID = 0
	w.strTab = [stringBuckets]uint32{}
	w.tplTab = [templateBuckets]uint32{}
	clear(w.names)
	clear(w.tpls)
	return nil
}

// recordInput is an event checked and converted for encoding.
type recordInput struct {
	ev       Event
	sys      System
	id       uint64
	filetime uint64
	guid     [16]byte
	binary   []byte
	key      []byte // the template shape
}

// prepare checks ev and converts what the encoder needs.
func (w *Writer) prepare(ev Event, sys System) (*recordInput, error) {
	in := &w.enc.in
	*in = recordInput{ev: ev, sys: sys, id: ev.RecordID, binary: in.binary[:0], key: in.key[:0]}
	if in.id == 0 {
		in.id = w.lastID + 1
	} else if in.id <= w.lastID {
		return nil, fmt.Errorf("evtx write: record id %d not above the previous %d", in.id, w.lastID)
	}
	ft, err := filetime(ev.Time)
	if err != nil {
		return nil, err
	}
	in.filetime = ft
	if ev.ProviderGUID != "" {
		if in.guid, err = parseGUID(ev.ProviderGUID); err != nil {
			return nil, err
		}
	}
	if in.binary, err = appendHex(in.binary, ev.Binary); err != nil {
		return nil, err
	}
	in.key = append(in.key, shapeFlags(&ev))
	for _, f := range ev.Data {
		if f.Name == "" {
			in.key = append(in.key, 0)
			continue
		}
		in.key = binary.AppendUvarint(append(in.key, 1), uint64(len(f.Name)))
		in.key = append(in.key, f.Name...)
	}
	return in, nil
}

// The parts of a record's shape besides its Data names.
const (
	shapeGUID = 1 << iota
	shapeSource
	shapeQualifiers
	shapeBinary
)

func shapeFlags(ev *Event) byte {
	var f byte
	if ev.ProviderGUID != "" {
		f |= shapeGUID
	}
	if ev.EventSource != "" {
		f |= shapeSource
	}
	if ev.Qualifiers != 0 {
		f |= shapeQualifiers
	}
	if ev.Binary != "" {
		f |= shapeBinary
	}
	return f
}

// appendHex appends the bytes of the hex string s (either case) to b.
func appendHex(b []byte, s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return b, fmt.Errorf("evtx write: binary: odd number of hex digits (%d)", len(s))
	}
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return b, fmt.Errorf("evtx write: binary: bad hex %q at %d", s[i:i+2], i)
		}
		b = append(b, hi<<4|lo)
	}
	return b, nil
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// filetime converts t to a FILETIME: 100 ns ticks since 1601-01-01 UTC.
func filetime(t time.Time) (uint64, error) {
	const maxSec = (1<<63-1)/10_000_000 - filetimeEpochDelta
	s := t.Unix()
	if s < -filetimeEpochDelta || s >= maxSec {
		return 0, fmt.Errorf("evtx write: time %s outside the FILETIME range", t.UTC().Format(time.RFC3339))
	}
	return uint64(s+filetimeEpochDelta)*1e7 + uint64(t.Nanosecond()/100), nil
}

// guidHex maps the on-disk bytes of a GUID to the hex pairs of its text
// form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx": the first three groups are
// little endian, the last two are bytes in order.
var guidHex = [16]int{6, 4, 2, 0, 11, 9, 16, 14, 19, 21, 24, 26, 28, 30, 32, 34}

// parseGUID reads a GUID written with or without braces, in any case.
func parseGUID(s string) ([16]byte, error) {
	var g [16]byte
	t := s
	if len(t) == 38 && t[0] == '{' && t[37] == '}' {
		t = t[1:37]
	}
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, fmt.Errorf("evtx write: bad provider GUID %q", s)
	}
	for i, p := range guidHex {
		hi, ok1 := fromHex(t[p])
		lo, ok2 := fromHex(t[p+1])
		if !ok1 || !ok2 {
			return g, fmt.Errorf("evtx write: bad provider GUID %q", s)
		}
		g[i] = hi<<4 | lo
	}
	return g, nil
}

// encode builds the record of in into the encoder's buffer as if placed at
// the chunk's free offset and reports whether it fits in the chunk. ok is
// false when a value is too large for its 16-bit size.
func (w *Writer) encode(in *recordInput) (fits, ok bool) {
	e := &w.enc
	e.reset(w, w.free)
	le := binary.LittleEndian
	e.b = append(e.b, RecordMagic...)
	e.b = le.AppendUint32(e.b, 0) // size, set below
	e.b = le.AppendUint64(e.b, in.id)
	e.b = le.AppendUint64(e.b, in.filetime)
	e.b = append(e.b, bxFragment, 1, 1, 0)

	defOff, known := w.tpls[string(in.key)]
	e.emit = !known
	if e.emit {
		defOff = e.off() + InstanceHeaderSize
	}
	e.tplOff = defOff
	e.b = append(e.b, bxTemplate, 1)
	e.tplID = len(e.b)
	e.b = le.AppendUint32(e.b, 0) // template id, set below
	e.b = le.AppendUint32(e.b, defOff)
	var defStart int
	if e.emit {
		e.b = le.AppendUint32(e.b, 0)   // next template in the bucket, set by commit
		e.b = append(e.b, zero16[:]...) // template GUID, set below
		e.b = le.AppendUint32(e.b, 0)   // size of the definition, set below
		defStart = len(e.b)
		e.b = append(e.b, bxFragment, 1, 1, 0)
	}
	e.event(in)
	if e.emit {
		e.b = append(e.b, bxEOF)
		le.PutUint32(e.b[defStart-4:], uint32(len(e.b)-defStart))
		// The template GUID names the shape; its first four bytes are
		// the template id, as in Windows' logs.
		h := fnv.New128a()
		h.Write(in.key)
		copy(e.b[defStart-20:defStart-4], h.Sum(e.sum[:0]))
		copy(e.b[e.tplID:], e.b[defStart-20:defStart-16])
	} else {
		copy(e.b[e.tplID:], w.chunk[defOff+4:defOff+8])
	}
	e.b = le.AppendUint32(e.b, uint32(len(e.descs)/4))
	e.b = append(e.b, e.descs...)
	e.b = append(e.b, e.vals...)
	e.b = append(e.b, bxEOF)
	size := (len(e.b) + 4 + 7) &^ 7
	for len(e.b) < size-4 {
		e.b = append(e.b, 0)
	}
	e.b = le.AppendUint32(e.b, uint32(size))
	le.PutUint32(e.b[4:], uint32(size))
	return int(w.free)+size <= ChunkSize-chunkSlack, !e.tooBig
}

// chunkSlack is room a chunk always keeps after its last record.
// Windows never fills a chunk to the last byte (the largest free-space
// offset in the corpus is 65528), and libevtx drops the last record of a
// chunk whose free-space offset is 65536.
const chunkSlack = 8

var zero16 [16]byte

// commit copies the encoded record into the chunk and enters its new names
// and template in the chunk's tables.
func (w *Writer) commit(in *recordInput) {
	e := &w.enc
	le := binary.LittleEndian
	copy(w.chunk[w.free:], e.b)
	for _, n := range e.newNames {
		bucket := n.hash % stringBuckets
		le.PutUint32(w.chunk[n.off:], w.strTab[bucket])
		w.strTab[bucket] = n.off
		w.names[n.name] = n.off
	}
	if e.emit {
		id := le.Uint32(w.chunk[e.tplOff+4:])
		bucket := id % templateBuckets
		le.PutUint32(w.chunk[e.tplOff:], w.tplTab[bucket])
		w.tplTab[bucket] = e.tplOff
		w.tpls[string(in.key)] = e.tplOff
	}
	if w.firstID == 0 {
		w.firstID = in.id
	}
	w.lastID = in.id
	w.lastRec = w.free
	w.free += uint32(len(e.b))
}

// recordEncoder builds one record. When emit is set it writes the
// template definition (elements, attributes, names, substitution tokens);
// it always collects the substitution values, in the same order.
type recordEncoder struct {
	in       recordInput
	w        *Writer
	base     uint32 // chunk offset of b[0]
	b        []byte
	descs    []byte
	vals     []byte
	emit     bool
	tplOff   uint32
	tplID    int
	tooBig   bool
	open     []openElement
	newNames []newName
	sum      [16]byte
}

type openElement struct{ size, attrs int }

type newName struct {
	name string
	off  uint32
	hash uint16
}

func (e *recordEncoder) reset(w *Writer, base uint32) {
	e.w, e.base = w, base
	e.b, e.descs, e.vals = e.b[:0], e.descs[:0], e.vals[:0]
	e.tooBig = false
	e.open = e.open[:0]
	e.newNames = e.newNames[:0]
}

func (e *recordEncoder) off() uint32 { return e.base + uint32(len(e.b)) }

// event walks the record's XML.
func (e *recordEncoder) event(in *recordInput) {
	ev, sys := &in.ev, &in.sys
	e.start("Event", true)
	e.attrText("xmlns", namespace, false)
	e.closeStart()
	e.start("System", false)
	e.closeStart()

	more := ev.ProviderGUID != "" || ev.EventSource != ""
	e.start("Provider", true)
	e.attrString("Name", ev.Provider, more)
	if ev.ProviderGUID != "" {
		e.attrSub("Guid", vtGUID, in.guid[:], ev.EventSource != "")
	}
	if ev.EventSource != "" {
		e.attrString("EventSourceName", ev.EventSource, false)
	}
	e.closeEmpty()

	var n [8]byte
	le := binary.LittleEndian
	e.start("EventID", ev.Qualifiers != 0)
	if ev.Qualifiers != 0 {
		le.PutUint16(n[:], ev.Qualifiers)
		e.attrSub("Qualifiers", vtUInt16, n[:2], false)
	}
	e.closeStart()
	le.PutUint16(n[:], ev.EventID)
	e.sub(bxOptionalSub, vtUInt16, n[:2])
	e.end()

	e.simple("Version", vtUInt8, []byte{sys.Version})
	e.simple("Level", vtUInt8, []byte{ev.Level})
	le.PutUint16(n[:], sys.Task)
	e.simple("Task", vtUInt16, n[:2])
	e.simple("Opcode", vtUInt8, []byte{sys.Opcode})
	le.PutUint64(n[:], sys.Keywords)
	e.simple("Keywords", vtHexInt64, n[:8])

	e.start("TimeCreated", true)
	le.PutUint64(n[:], in.filetime)
	e.attrSub("SystemTime", vtFileTime, n[:8], false)
	e.closeEmpty()
	le.PutUint64(n[:], in.id)
	e.simple("EventRecordID", vtUInt64, n[:8])

	e.start("Correlation", false)
	e.closeEmpty()
	e.start("Execution", true)
	le.PutUint32(n[:], sys.ProcessID)
	e.attrSub("ProcessID", vtUInt32, n[:4], true)
	le.PutUint32(n[:], sys.ThreadID)
	e.attrSub("ThreadID", vtUInt32, n[:4], false)
	e.closeEmpty()

	e.start("Channel", false)
	e.closeStart()
	e.subString(bxOptionalSub, ev.Channel)
	e.end()
	e.start("Computer", false)
	e.closeStart()
	e.subString(bxOptionalSub, ev.Computer)
	e.end()
	e.start("Security", false)
	e.closeEmpty()
	e.end() // System

	// EventData is there even when empty, as Windows writes it: evtxexport
	// refuses to export a record without it.
	e.start("EventData", false)
	e.closeStart()
	for _, f := range ev.Data {
		e.start("Data", f.Name != "")
		if f.Name != "" {
			e.attrText("Name", f.Name, false)
		}
		e.closeStart()
		e.subString(bxNormalSub, f.Value)
		e.end()
	}
	if ev.Binary != "" {
		e.start("Binary", false)
		e.closeStart()
		e.sub(bxNormalSub, vtBinary, in.binary)
		e.end()
	}
	e.end() // EventData
	e.end() // Event
}

// simple writes <name>%value%</name> with an optional substitution.
func (e *recordEncoder) simple(name string, vt byte, v []byte) {
	e.start(name, false)
	e.closeStart()
	e.sub(bxOptionalSub, vt, v)
	e.end()
}

func (e *recordEncoder) start(name string, attrs bool) {
	if !e.emit {
		return
	}
	tok := byte(bxOpenStart)
	if attrs {
		tok |= bxMore
	}
	e.b = append(e.b, tok, 0xFF, 0xFF) // no dependency
	el := openElement{size: len(e.b), attrs: -1}
	e.b = append(e.b, 0, 0, 0, 0)
	e.name(name)
	if attrs {
		el.attrs = len(e.b)
		e.b = append(e.b, 0, 0, 0, 0)
	}
	e.open = append(e.open, el)
}

// closeAttrs sets the size of the open element's attribute list.
func (e *recordEncoder) closeAttrs() {
	el := e.open[len(e.open)-1]
	if el.attrs >= 0 {
		binary.LittleEndian.PutUint32(e.b[el.attrs:], uint32(len(e.b)-el.attrs-4))
	}
}

func (e *recordEncoder) closeStart() {
	if !e.emit {
		return
	}
	e.closeAttrs()
	e.b = append(e.b, bxCloseStart)
}

func (e *recordEncoder) closeEmpty() {
	if !e.emit {
		return
	}
	e.closeAttrs()
	e.b = append(e.b, bxCloseEmpty)
	e.pop()
}

func (e *recordEncoder) end() {
	if !e.emit {
		return
	}
	e.b = append(e.b, bxEndElement)
	e.pop()
}

// pop closes the innermost element: its size runs from after the size
// field to its last token.
func (e *recordEncoder) pop() {
	el := e.open[len(e.open)-1]
	e.open = e.open[:len(e.open)-1]
	binary.LittleEndian.PutUint32(e.b[el.size:], uint32(len(e.b)-el.size-4))
}

// name writes the offset of an element or attribute name, and the name
// itself right after when the chunk does not hold it yet.
func (e *recordEncoder) name(s string) {
	le := binary.LittleEndian
	if off, ok := e.w.names[s]; ok {
		e.b = le.AppendUint32(e.b, off)
		return
	}
	for _, n := range e.newNames {
		if n.name == s {
			e.b = le.AppendUint32(e.b, n.off)
			return
		}
	}
	off := e.off() + 4
	e.b = le.AppendUint32(e.b, off)
	e.b = le.AppendUint32(e.b, 0) // next name in the bucket, set by commit
	h := nameHash(s)
	e.b = le.AppendUint16(e.b, h)
	e.b = le.AppendUint16(e.b, uint16(utf16Len(s)))
	e.b = appendUTF16(e.b, s)
	e.b = append(e.b, 0, 0)
	e.newNames = append(e.newNames, newName{name: s, off: off, hash: h})
}

// nameHash is the hash Windows stores with each name (checked against
// the corpus: "Event" is 0x0CBA).
func nameHash(s string) uint16 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = (h*65599+uint32(r1))*65599 + uint32(r2)
			continue
		}
		h = h*65599 + uint32(r)
	}
	return uint16(h)
}

// attrText writes an attribute with a literal value.
func (e *recordEncoder) attrText(name, value string, more bool) {
	if !e.emit {
		return
	}
	e.attrName(name, more)
	n := utf16Len(value)
	if n > 0xFFFF {
		e.tooBig = true
		return
	}
	e.b = append(e.b, bxValue, vtString)
	e.b = binary.LittleEndian.AppendUint16(e.b, uint16(n))
	e.b = appendUTF16(e.b, value)
}

func (e *recordEncoder) attrName(name string, more bool) {
	tok := byte(bxAttribute)
	if more {
		tok |= bxMore
	}
	e.b = append(e.b, tok)
	e.name(name)
}

// attrSub writes an attribute whose value is a substitution.
func (e *recordEncoder) attrSub(name string, vt byte, v []byte, more bool) {
	if e.emit {
		e.attrName(name, more)
	}
	e.sub(bxOptionalSub, vt, v)
}

func (e *recordEncoder) attrString(name, v string, more bool) {
	if e.emit {
		e.attrName(name, more)
	}
	e.subString(bxOptionalSub, v)
}

// sub adds a value and, when emitting, the substitution token for it.
func (e *recordEncoder) sub(tok, vt byte, v []byte) {
	e.subToken(tok, vt)
	if len(v) > 0xFFFF {
		e.tooBig = true
		return
	}
	e.descs = binary.LittleEndian.AppendUint16(e.descs, uint16(len(v)))
	e.descs = append(e.descs, vt, 0)
	e.vals = append(e.vals, v...)
}

// subString is sub for a string value, UTF-16LE without a terminator, as
// Windows writes them.
func (e *recordEncoder) subString(tok byte, s string) {
	e.subToken(tok, vtString)
	start := len(e.vals)
	e.vals = appendUTF16(e.vals, s)
	n := len(e.vals) - start
	if n > 0xFFFF {
		e.tooBig = true
		return
	}
	e.descs = binary.LittleEndian.AppendUint16(e.descs, uint16(n))
	e.descs = append(e.descs, vtString, 0)
}

func (e *recordEncoder) subToken(tok, vt byte) {
	if e.emit {
		e.b = append(e.b, tok)
		e.b = binary.LittleEndian.AppendUint16(e.b, uint16(len(e.descs)/4))
		e.b = append(e.b, vt)
	}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// appendUTF16 appends s as UTF-16LE. Invalid UTF-8 becomes U+FFFD.
func appendUTF16(b []byte, s string) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			b = binary.LittleEndian.AppendUint16(b, uint16(r1))
			b = binary.LittleEndian.AppendUint16(b, uint16(r2))
			continue
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}
