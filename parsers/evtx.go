package parsers

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	goevtx "github.com/0xrawsec/golang-evtx/evtx"
)

// EVTX layout (MS-EVEN6 and libevtx's documentation): a 4096-byte file
// header block, then 64 KiB chunks. A chunk has a 128-byte header, string
// and template offset tables up to byte 512, then event records up to its
// free-space offset. Each record is "**\0\0", its size, its record ID and
// its written time (24 bytes), a BinXML fragment, and its size again.
const (
	evtxFileMagic    = "ElfFile\x00"
	evtxChunkMagic   = "ElfChnk\x00"
	evtxRecordMagic  = "**\x00\x00"
	evtxHeaderBlock  = 4096
	evtxChunkSize    = 65536
	evtxRecordsStart = 512
	evtxRecordHeader = 24
	evtxMinRecord    = evtxRecordHeader + 4
	evtxCarveStep    = 512
	evtxFlagDirty    = 1
)

// Work limits for one record and one chunk. The library parses BinXML by
// recursive descent with reflection, one Read call per field; a crafted
// template that refers to itself makes it recurse until the Go stack
// overflows, which no recover can catch. guardedReader counts the Read
// calls and measures the stack, and panics (recoverably) past these
// limits. In the corpus the costliest allocated record needs 32,538 reads
// (a record holds at most 64 KiB, about one read per UTF-16 character) and
// the costliest chunk 199,830; the slack of one chunk of
// mitre_T1053.005_ATexec needs 6.0 million (garbage names read in full),
// and still gives 111 records. A read costs about 150 ns.
const (
	evtxRecordReads = 1 << 17
	evtxChunkReads  = 1 << 23
	evtxMaxFrames   = 2048
	// evtxMaxNodes and evtxMaxText bound what one record expands to: a
	// template may use one substitution many times, and nested
	// templates multiply that.
	evtxMaxNodes = 1 << 14
	evtxMaxText  = 1 << 20
	evtxMaxDepth = 64
	// evtxMaxWorkers caps the decoding goroutines of one file, and so the
	// decoded chunks held at once (workers + 2); files are parsed in
	// parallel by the caller anyway.
	evtxMaxWorkers = 8
)

var (
	errEVTXWork  = errors.New("binxml: work limit exceeded")
	errEVTXDepth = errors.New("binxml: nesting too deep")
	errEVTXLarge = errors.New("binxml: record expands to too much data")
)

// evtx reads binary Windows event logs (.evtx, Vista and later). It uses
// github.com/0xrawsec/golang-evtx for the BinXML of each record but drives
// it itself, because the library's own loops panic in their goroutines on
// damaged files and give up on truncated ones:
//
//   - the file header is read but not trusted: every 64 KiB slot after it is
//     visited, whatever the header's chunk count says (Windows updates the
//     count only on a clean close, so a log copied from a live system has a
//     stale one), and where a slot holds no chunk the chunk magic is
//     searched at every 512-byte boundary (carving);
//   - chunks are decoded in parallel by runtime.GOMAXPROCS workers (at
//     most evtxMaxWorkers), each record inside recover(), and yielded in
//     file order;
//   - a damaged chunk or record yields a *ParseError with its byte offset
//     and decoding goes on;
//   - records after a chunk's free-space offset (slack), in carved chunks,
//     in slots without a chunk header, or beyond the chunk count of a
//     cleanly closed file are yielded with Event.Recovered set.
//
// The event is built from the BinXML element tree, not from the library's
// map form, which drops the Name attribute of classic providers and
// reorders EventData.
//
// Templates are cached per chunk (evtxtemplate.go). The library parses a
// template definition again for every instance nested in a substitution
// value, and walking its element lists converts every name of every
// record. So the decoder reads the few fixed bytes of a record's fragment
// and template instance headers itself; has the library parse a
// definition (TemplateDefinitionData.Parse) the first time the chunk uses
// it, and caches it only if that parse ends without error; compiles it
// once into operations whose names are Go strings; and has the library
// parse only each record's values (ParseValueReader), nested instances
// going through the same cache. Where the library would look for the
// values is mirrored: after an inline definition it parsed, or after the
// size an inline definition declares when its table already holds it. A
// record that does not fit (no template instance, an odd token, a
// definition or value that does not parse, an offset out of the chunk,
// anything that fails while its event is built) is decoded again by the
// generic path, goevtx.Parse and the walk of its element lists, which
// decoded every record before: what damaged data gives is unchanged. Two
// things differ by design: the work limits count the reads actually
// made, which the cache saves, so a record or chunk just over a limit
// before may now decode; and a definition whose parse alone exceeds a
// record's work limit fails later records that start with it without
// being parsed again.
type evtx struct {
	// uncached decodes every record by the generic path; tests compare
	// the two paths.
	uncached bool
}

func (evtx) Format() Format { return FormatEVTX }
func (evtx) Version() int   { return 1 }
func (evtx) binary()        {}

// Sniff accepts a file header, or a bare chunk (a file carved from a disk
// image without its header).
func (evtx) Sniff(head []byte) bool {
	return len(head) >= 8 && (string(head[:8]) == evtxFileMagic || string(head[:8]) == evtxChunkMagic)
}

// Parse yields the event records of r in file order. r must be an
// io.ReaderAt (an *os.File is): chunks are read at their offsets and
// decoded in parallel. Without one Parse yields a single *ParseError
// wrapping ErrNeedReaderAt.
func (p evtx) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		ra, ok := r.(io.ReaderAt)
		if !ok {
			yield(Record{}, &ParseError{Format: FormatEVTX, Err: ErrNeedReaderAt})
			return
		}
		parseEVTX(ctx, ra, p.uncached, yield)
	}
}

// evtxItem is one result of a job: a record or an error.
type evtxItem struct {
	rec Record
	err error
}

// evtxJob is one region of the file: a chunk, a slot without a chunk
// header, or an error found while scanning. Workers fill items and close
// done; the consumer yields them in the order the jobs were made.
type evtxJob struct {
	offset int64
	data   []byte // the region, evtxChunkSize bytes for chunks (zero-padded when truncated)
	n      int    // bytes of data read from the file
	chunk  bool   // data starts with a chunk header
	// allocated marks a chunk in a regular slot of the log: its records
	// up to the free-space offset are not Recovered.
	allocated bool
	items     []evtxItem
	done      chan struct{}
}

func (j *evtxJob) fail(off int64, err error) {
	j.items = append(j.items, evtxItem{err: &ParseError{Format: FormatEVTX, Offset: off, Err: err}})
}

// parseEVTX runs the scanner, the workers and the in-order consumer. It
// returns only when every goroutine it started has ended. uncached turns
// the template cache off.
func parseEVTX(ctx context.Context, ra io.ReaderAt, uncached bool, yield func(Record, error) bool) {
	workers := min(max(runtime.GOMAXPROCS(0), 1), evtxMaxWorkers)
	inner, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	// order carries every job in file order and bounds how many decoded
	// chunks wait for the consumer; jobs carries those to decode.
	order := make(chan *evtxJob, workers)
	jobs := make(chan *evtxJob)
	wg.Go(func() {
		defer close(order)
		defer close(jobs)
		scanEVTX(inner, ra, func(j *evtxJob) bool {
			select {
			case order <- j:
			case <-inner.Done():
				return false
			}
			if j.data == nil {
				close(j.done)
				return true
			}
			select {
			case jobs <- j:
				return true
			case <-inner.Done():
				return false
			}
		})
	})
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				decodeEVTXJob(inner, j, uncached)
				close(j.done)
			}
		})
	}

	var at int64
	for j := range order {
		at = j.offset
		select {
		case <-j.done:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		for _, it := range j.items {
			if !yield(it.rec, it.err) {
				return
			}
		}
		j.items = nil
	}
	// The scanner also stops on cancellation: say the output is cut.
	if err := ctx.Err(); err != nil {
		yield(Record{}, &ParseError{Format: FormatEVTX, Offset: at, Err: err})
	}
}

// scanEVTX reads the file header and walks the file, handing each chunk,
// damaged region or error to emit in file order. It stops when emit
// returns false.
func scanEVTX(ctx context.Context, ra io.ReaderAt, emit func(*evtxJob) bool) {
	errJob := func(off int64, err error) *evtxJob {
		j := &evtxJob{offset: off, done: make(chan struct{})}
		j.fail(off, err)
		return j
	}
	var hdr [128]byte
	n, err := ra.ReadAt(hdr[:], 0)
	if err != nil && err != io.EOF {
		emit(errJob(0, fmt.Errorf("file header: %w", err)))
		return
	}
	// start is where the first chunk should be; count and clean decide
	// whether chunks past the header's count belong to the log.
	start, count, clean := int64(evtxHeaderBlock), int64(0), false
	switch {
	case n < len(hdr):
		if !emit(errJob(0, fmt.Errorf("file header: %w: %d bytes", ErrTruncated, n))) {
			return
		}
		start = 0
	case string(hdr[:8]) != evtxFileMagic:
		if string(hdr[:8]) != evtxChunkMagic {
			if !emit(errJob(0, fmt.Errorf("file header: bad magic %q, carving chunks", hdr[:8]))) {
				return
			}
		}
		start = 0
	default:
		count = int64(binary.LittleEndian.Uint16(hdr[42:]))
		clean = binary.LittleEndian.Uint32(hdr[120:])&evtxFlagDirty == 0
	}

	pos := start
	for ctx.Err() == nil {
		buf := make([]byte, evtxChunkSize)
		n, err := ra.ReadAt(buf, pos)
		if err != nil && err != io.EOF {
			emit(errJob(pos, err))
			return
		}
		if n == 0 {
			return
		}
		b := buf[:n]
		switch {
		case n >= 8 && string(b[:8]) == evtxChunkMagic:
			j := &evtxJob{offset: pos, data: buf, n: n, chunk: true, done: make(chan struct{})}
			if pos >= evtxHeaderBlock && (pos-evtxHeaderBlock)%evtxChunkSize == 0 {
				slot := (pos - evtxHeaderBlock) / evtxChunkSize
				j.allocated = !clean || slot < count
			}
			if !emit(j) {
				return
			}
			pos += evtxChunkSize
		case allZero(b):
			pos += int64(n)
		default:
			// No chunk here: look for one at the next 512-byte
			// boundaries, and search what lies before it for records.
			end := len(b)
			for q := evtxCarveStep - int(pos%evtxCarveStep); q+8 <= len(b); q += evtxCarveStep {
				if string(b[q:q+8]) == evtxChunkMagic {
					end = q
					break
				}
			}
			j := &evtxJob{offset: pos, data: b[:end], n: end, done: make(chan struct{})}
			if !emit(j) {
				return
			}
			pos += int64(end)
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// decodeEVTXJob decodes the records of one job into j.items. Nothing it
// calls may take the process down: the library runs inside recover().
func decodeEVTXJob(ctx context.Context, j *evtxJob, uncached bool) {
	defer func() {
		if r := recover(); r != nil {
			j.fail(j.offset, fmt.Errorf("chunk: %v", r))
		}
	}()
	if ctx.Err() != nil {
		return
	}
	d := newEVTXDecoder(j)
	d.uncached = uncached
	if !j.chunk {
		if j.offset > 0 {
			j.fail(j.offset, fmt.Errorf("no chunk header (magic %q), %d bytes searched for records", j.data[:min(8, len(j.data))], len(j.data)))
		}
		d.carve(0, len(j.data))
		return
	}
	h := j.data
	end := int(binary.LittleEndian.Uint32(h[48:])) // free-space offset
	if end < evtxRecordsStart || end > evtxChunkSize {
		j.fail(j.offset+48, fmt.Errorf("chunk: bad free-space offset %d", end))
		end = evtxChunkSize
	}
	truncated := end > j.n
	if truncated {
		end = j.n
	}
	off := evtxRecordsStart
	for off+evtxRecordHeader <= end && !d.exhausted() {
		size, ok := evtxRecordAt(j.data, off, end)
		if !ok {
			if truncated && string(j.data[off:off+4]) == evtxRecordMagic &&
				int(binary.LittleEndian.Uint32(j.data[off+4:])) > end-off {
				break // the file ends inside this record
			}
			j.fail(j.offset+int64(off), fmt.Errorf("bad record header (magic %q, size %d)",
				j.data[off:off+4], binary.LittleEndian.Uint32(j.data[off+4:])))
			next := evtxNextRecord(j.data, off+1, end)
			if next < 0 {
				off = end
				break
			}
			off = next
			continue
		}
		if err := d.record(off, size, !j.allocated); err != nil {
			j.items = append(j.items, evtxItem{err: err})
		}
		off += size
	}
	switch {
	case truncated:
		j.fail(j.offset+int64(j.n), fmt.Errorf("chunk: %w: %d of %d bytes", ErrTruncated, j.n, evtxChunkSize))
	case off < end && !d.exhausted():
		j.fail(j.offset+int64(off), fmt.Errorf("chunk: %d bytes before the free-space offset hold no record", end-off))
	}
	d.carve(max(off, end), j.n)
}

// evtxRecordAt checks the record header at off: magic, a size that fits
// before end, and the copy of the size at the record's end.
func evtxRecordAt(data []byte, off, end int) (int, bool) {
	if off < 0 || off+evtxRecordHeader > end || string(data[off:off+4]) != evtxRecordMagic {
		return 0, false
	}
	size := int(binary.LittleEndian.Uint32(data[off+4:]))
	if size < evtxMinRecord || size > end-off {
		return 0, false
	}
	if int(binary.LittleEndian.Uint32(data[off+size-4:])) != size {
		return 0, false
	}
	return size, true
}

// evtxNextRecord returns the offset of the next valid record header in
// data[from:end], or -1.
func evtxNextRecord(data []byte, from, end int) int {
	for from < end {
		i := bytes.Index(data[from:end], []byte(evtxRecordMagic))
		if i < 0 {
			return -1
		}
		if _, ok := evtxRecordAt(data, from+i, end); ok {
			return from + i
		}
		from += i + 1
	}
	return -1
}

// evtxDecoder decodes the records of one chunk with the library. The
// chunk's template caches are shared by its records, so one decoder serves
// one chunk, in one goroutine.
type evtxDecoder struct {
	job   *evtxJob
	chunk goevtx.Chunk
	rd    guardedReader
	// known are the offsets of the templates in the library's own table
	// (chunk.TemplateTable, which the generic path uses for the
	// outermost template of a record): those of records that decoded
	// cleanly. A failed record's additions are dropped, because the
	// library caches a half-parsed template too.
	known map[int32]bool
	// templates is the cache of the fast path: compiled definitions by
	// offset, nil for one that does not parse; overLimit are those whose
	// parse alone exceeds a record's work limit.
	templates map[int32]*evtxTemplate
	overLimit map[int32]bool
	uncached  bool
	// reparsed marks a record whose own template the fast path parsed
	// while the library's table holds it.
	reparsed bool
	reads    int
}

func newEVTXDecoder(j *evtxJob) *evtxDecoder {
	d := &evtxDecoder{job: j, chunk: goevtx.NewChunk(), known: map[int32]bool{},
		templates: map[int32]*evtxTemplate{}, overLimit: map[int32]bool{}}
	d.chunk.Offset = j.offset
	d.chunk.Data = j.data
	return d
}

func (d *evtxDecoder) exhausted() bool { return d.reads > evtxChunkReads }

// carve searches data[from:to] for records and yields those that decode,
// marked Recovered. Slack holds the remains of overwritten records, most
// of whose templates are gone, so the records that do not decode are
// reported in one error, at the first of them.
func (d *evtxDecoder) carve(from, to int) {
	failed, first := 0, error(nil)
	for from < to && !d.exhausted() {
		off := evtxNextRecord(d.job.data, from, to)
		if off < 0 {
			break
		}
		size, _ := evtxRecordAt(d.job.data, off, to)
		if err := d.record(off, size, true); err != nil {
			if failed++; first == nil {
				first = err
			}
		}
		from = off + size
	}
	if failed > 0 {
		var pe *ParseError
		errors.As(first, &pe)
		d.job.fail(pe.Offset, fmt.Errorf(SlackPrefix+"%d carved records do not decode, the first: %w", failed, pe.Err))
	}
	if d.exhausted() {
		d.job.fail(d.job.offset+int64(from), fmt.Errorf("chunk: %w, rest of chunk not decoded", errEVTXWork))
	}
}

// record decodes the record at off and adds the event, or returns the
// error.
func (d *evtxDecoder) record(off, size int, recovered bool) error {
	data := d.job.data
	id := binary.LittleEndian.Uint64(data[off+8:])
	written := binary.LittleEndian.Uint64(data[off+16:])
	ev, err := d.decode(off, size)
	d.reads += d.rd.reads
	at := d.job.offset + int64(off)
	if err != nil {
		return &ParseError{Format: FormatEVTX, Offset: at, Err: fmt.Errorf("record %d: %w", id, err)}
	}
	if ev.RecordID == 0 {
		ev.RecordID = id
	}
	if ev.Time.IsZero() {
		ev.Time = fileTime(written)
	}
	ev.Recovered = recovered
	d.job.items = append(d.job.items, evtxItem{rec: Record{Kind: KindEvent, Offset: at, Event: ev}})
	return nil
}

// decode decodes the record at off by the fast path, or else by the
// generic path.
func (d *evtxDecoder) decode(off, size int) (ev *Event, err error) {
	if !d.uncached {
		if ev, done, err := d.decodeCached(off, size); done {
			return ev, err
		}
	}
	return d.decodeGeneric(off, size)
}

// decodeGeneric decodes the record at off with goevtx.Parse and the walk
// of the library's element lists.
func (d *evtxDecoder) decodeGeneric(off, size int) (ev *Event, err error) {
	cached := len(d.chunk.TemplateTable)
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && (errors.Is(e, errEVTXWork) || errors.Is(e, errEVTXDepth)) {
				err = e
			} else {
				err = fmt.Errorf("binxml: %v", r)
			}
		}
		if len(d.chunk.TemplateTable) == cached {
			return
		}
		for k := range d.chunk.TemplateTable {
			if err == nil {
				d.known[k] = true
			} else if !d.known[k] {
				delete(d.chunk.TemplateTable, k)
			}
		}
	}()
	d.rd.reset(d.job.data, int64(off+evtxRecordHeader))
	el, err := goevtx.Parse(&d.rd, &d.chunk, false)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("binxml: %w", err)
	}
	frag, ok := el.(*goevtx.Fragment)
	if !ok {
		return nil, fmt.Errorf("binxml: %T instead of a fragment", el)
	}
	ti, ok := frag.BinXMLElement.(*goevtx.TemplateInstance)
	if !ok {
		return nil, fmt.Errorf("binxml: fragment holds %T", frag.BinXMLElement)
	}
	t := xmlTree{data: d.job.data, recStart: off, recEnd: off + size}
	root := &xmlNode{}
	if err := t.template(root, ti, 0); err != nil {
		return nil, err
	}
	return eventFromXML(root)
}

// guardedReader is the io.ReadSeeker the library parses from. It counts
// Read calls and checks the stack depth, and panics with errEVTXWork or
// errEVTXDepth past the limits (see evtxRecordReads).
type guardedReader struct {
	bytes.Reader
	reads int
	pcs   [evtxMaxFrames]uintptr
}

func (g *guardedReader) reset(data []byte, off int64) {
	g.Reader.Reset(data)
	g.Reader.Seek(off, io.SeekStart)
	g.reads = 0
}

func (g *guardedReader) Read(p []byte) (int, error) {
	g.reads++
	if g.reads > evtxRecordReads {
		panic(errEVTXWork)
	}
	if g.reads%4096 == 0 && runtime.Callers(0, g.pcs[:]) == len(g.pcs) {
		panic(errEVTXDepth)
	}
	return g.Reader.Read(p)
}

// xmlNode is an element of a decoded record.
type xmlNode struct {
	name  string
	attrs []xmlAttr
	// text is the element's text when it came in one piece (most do),
	// pieces when it came in more.
	text     string
	pieces   []byte
	children []*xmlNode
	// array holds the items of an array value substituted as the
	// element's content: Windows renders the element once per item.
	array   []string
	isArray bool
	// null marks content that is an optional substitution with a NULL
	// value: the element is then left out.
	null bool
}

type xmlAttr struct{ name, value string }

func (n *xmlNode) child(name string) *xmlNode {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (n *xmlNode) attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.name == name {
			return a.value
		}
	}
	return ""
}

func (n *xmlNode) textOf() string {
	if n == nil {
		return ""
	}
	if n.pieces != nil {
		return string(n.pieces)
	}
	return n.text
}

func (n *xmlNode) hasText() bool { return n.text != "" || len(n.pieces) > 0 }

// xmlTree turns the library's flat BinXML element lists (template) or a
// compiled template (instance) into xmlNodes, resolving substitutions
// against the template instance's values.
type xmlTree struct {
	data             []byte // the chunk, for values the library skips or misreads
	recStart, recEnd int    // the record in data
	nodes            int
	text             int
}

// evtxValues are the substitution values of one template instance.
type evtxValues struct {
	descs  []goevtx.ValueDescriptor
	values []goevtx.Element
	// nested holds, by index, the instances the fast path parsed from
	// BinXML values (values holds nil there); nil in the generic path.
	nested []*evtxInstance
	// start is the offset of the value block in the chunk once raw has
	// looked for it (-1: not found).
	start    int
	searched bool
}

func instanceValues(ti *goevtx.TemplateInstance) *evtxValues {
	return &evtxValues{descs: ti.Data.ValDescs, values: ti.Data.Values}
}

// template walks the definition of ti, a template instance the library
// parsed.
func (t *xmlTree) template(parent *xmlNode, ti *goevtx.TemplateInstance, depth int) error {
	if depth > evtxMaxDepth {
		return errEVTXDepth
	}
	// The library logs a BinXML value it cannot parse and goes on, so
	// check them here (the values after it may be misread too).
	for i, d := range ti.Data.ValDescs {
		if d.ValType == goevtx.BinXmlType && i < len(ti.Data.Values) {
			switch ti.Data.Values[i].(type) {
			case *goevtx.Fragment, *goevtx.TemplateInstance:
			default:
				return fmt.Errorf("binxml: embedded BinXML value %d does not parse", i)
			}
		}
	}
	vals := instanceValues(ti)
	stack := []*xmlNode{parent}
	for _, e := range ti.Definition.Data.Elements {
		cur := stack[len(stack)-1]
		switch e := e.(type) {
		case *goevtx.ElementStart:
			if t.nodes++; t.nodes > evtxMaxNodes {
				return errEVTXLarge
			}
			n := &xmlNode{name: e.Name.String()}
			for _, a := range e.AttributeList.Attributes {
				v, null, err := t.attrValue(a.AttributeData, vals)
				if err != nil {
					return fmt.Errorf("attribute %s of %s: %w", a.Name.String(), n.name, err)
				}
				if !null {
					n.attrs = append(n.attrs, xmlAttr{a.Name.String(), v})
				}
			}
			cur.children = append(cur.children, n)
			stack = append(stack, n)
		case *goevtx.BinXMLCloseStartElementTag, *goevtx.BinXMLEOF:
		case *goevtx.BinXMLCloseEmptyElementTag, *goevtx.BinXMLEndElementTag:
			var err error
			if stack, err = t.end(stack); err != nil {
				return err
			}
		case *goevtx.ValueText:
			if err := t.addText(cur, e.String()); err != nil {
				return err
			}
		case *goevtx.CharEntityRef:
			if err := t.addText(cur, string(rune(uint16(e.Value)))); err != nil {
				return err
			}
		case *goevtx.BinXMLEntityReference:
			if err := t.addText(cur, e.String()); err != nil {
				return err
			}
		case *goevtx.NormalSubstitution:
			if err := t.substitute(cur, int(e.SubID), vals, depth); err != nil {
				return err
			}
		case *goevtx.OptionalSubstitution:
			id := int(e.SubID)
			if id >= 0 && id < len(ti.Data.Values) {
				if _, null := ti.Data.Values[id].(*goevtx.ValueNull); null {
					cur.null = true
					continue
				}
			}
			if err := t.substitute(cur, id, vals, depth); err != nil {
				return err
			}
		default:
			return fmt.Errorf("binxml: unexpected %T in template", e)
		}
	}
	return nil
}

// end closes the element on top of stack: an array value becomes one
// copy of the element per item, and an element whose optional content
// was NULL is left out.
func (t *xmlTree) end(stack []*xmlNode) ([]*xmlNode, error) {
	if len(stack) == 1 {
		return nil, errors.New("binxml: unbalanced end of element")
	}
	cur := stack[len(stack)-1]
	stack = stack[:len(stack)-1]
	switch parent := stack[len(stack)-1]; {
	case cur.isArray:
		if err := t.expand(parent, cur); err != nil {
			return nil, err
		}
	case cur.null && !cur.hasText() && len(cur.children) == 0:
		parent.children = parent.children[:len(parent.children)-1]
	}
	return stack, nil
}

func (t *xmlTree) addText(n *xmlNode, s string) error {
	if t.text += len(s); t.text > evtxMaxText {
		return errEVTXLarge
	}
	switch {
	case n.pieces != nil:
		n.pieces = append(n.pieces, s...)
	case n.text == "":
		n.text = s
	case s != "":
		n.pieces = append(append(make([]byte, 0, len(n.text)+len(s)), n.text...), s...)
		n.text = ""
	}
	return nil
}

// expand replaces n, the last child of parent, by one copy per item of
// its array value.
func (t *xmlTree) expand(parent, n *xmlNode) error {
	if t.nodes += len(n.array); t.nodes > evtxMaxNodes {
		return errEVTXLarge
	}
	parent.children = parent.children[:len(parent.children)-1]
	for _, item := range n.array {
		c := *n
		c.array, c.isArray, c.text, c.pieces = nil, false, item, nil
		parent.children = append(parent.children, &c)
	}
	return nil
}

func (t *xmlTree) substitute(n *xmlNode, id int, vals *evtxValues, depth int) error {
	if id < 0 || id >= len(vals.values) || id >= len(vals.descs) {
		return fmt.Errorf("binxml: substitution %d of %d values", id, len(vals.values))
	}
	if typ := uint8(vals.descs[id].ValType); typ&goevtx.ArrayType != 0 {
		items := t.arrayItems(vals, id, typ)
		for _, it := range items {
			if t.text += len(it); t.text > evtxMaxText {
				return errEVTXLarge
			}
		}
		n.array, n.isArray = items, true
		return nil
	}
	if id < len(vals.nested) && vals.nested[id] != nil {
		return t.instance(n, vals.nested[id], depth+1)
	}
	switch v := vals.values[id].(type) {
	case *goevtx.Fragment:
		inner, ok := v.BinXMLElement.(*goevtx.TemplateInstance)
		if !ok {
			return fmt.Errorf("binxml: embedded fragment holds %T", v.BinXMLElement)
		}
		return t.template(n, inner, depth+1)
	case *goevtx.TemplateInstance:
		return t.template(n, v, depth+1)
	default:
		s, _, err := t.value(v)
		if err != nil {
			return err
		}
		return t.addText(n, s)
	}
}

func (t *xmlTree) attrValue(e goevtx.Element, vals *evtxValues) (string, bool, error) {
	switch e := e.(type) {
	case *goevtx.ValueText:
		return e.String(), false, nil
	case *goevtx.CharEntityRef:
		return string(rune(uint16(e.Value))), false, nil
	case *goevtx.BinXMLEntityReference:
		return e.String(), false, nil
	case *goevtx.NormalSubstitution:
		return t.attrSubst(int(e.SubID), vals)
	case *goevtx.OptionalSubstitution:
		return t.attrSubst(int(e.SubID), vals)
	}
	return "", false, fmt.Errorf("binxml: unexpected %T", e)
}

func (t *xmlTree) attrSubst(id int, vals *evtxValues) (string, bool, error) {
	if id < 0 || id >= len(vals.values) || id >= len(vals.descs) {
		return "", false, fmt.Errorf("binxml: substitution %d of %d values", id, len(vals.values))
	}
	if typ := uint8(vals.descs[id].ValType); typ&goevtx.ArrayType != 0 {
		return strings.Join(t.arrayItems(vals, id, typ), ", "), false, nil
	}
	if id < len(vals.nested) && vals.nested[id] != nil {
		// The generic path fails such a record with its own message.
		return "", false, errors.New("binxml: embedded BinXML in an attribute")
	}
	return t.value(vals.values[id])
}

// arrayItems renders the items of an array value from its raw bytes. The
// library gets arrays wrong: it drops the empty strings of a string array
// and takes every odd array type (Int32, GUID, …) for a string array.
func (t *xmlTree) arrayItems(vals *evtxValues, id int, typ uint8) []string {
	raw, ok := t.raw(vals, id)
	if !ok {
		if st, ok := vals.values[id].(*goevtx.ValueStringTable); ok && typ == goevtx.ArrayType|goevtx.StringType {
			return st.Repr().([]string)
		}
		return []string{""}
	}
	base := typ &^ goevtx.ArrayType
	var items []string
	switch base {
	case goevtx.StringType:
		for i := 0; i+1 < len(raw); {
			j := i
			for j+1 < len(raw) && (raw[j] != 0 || raw[j+1] != 0) {
				j += 2
			}
			items = append(items, utf16String(raw[i:j]))
			i = j + 2
		}
	case goevtx.AnsiStringType:
		items = strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	default:
		size := evtxScalarSize(base)
		if size == 0 {
			return []string{evtxUpperHex(raw)}
		}
		for i := 0; i+size <= len(raw); i += size {
			items = append(items, evtxScalar(base, raw[i:i+size]))
		}
	}
	return items
}

// raw returns the bytes of value id of vals. The library keeps no
// offsets, so the value block is found by its descriptors, which precede
// it: the first place in the record that holds them.
func (t *xmlTree) raw(vals *evtxValues, id int) ([]byte, bool) {
	if !vals.searched {
		vals.searched, vals.start = true, -1
		descs := binary.LittleEndian.AppendUint32(nil, uint32(len(vals.descs)))
		for _, d := range vals.descs {
			descs = binary.LittleEndian.AppendUint16(descs, d.Size)
			descs = append(descs, byte(d.ValType), byte(d.Unknown))
		}
		if rec := t.data[t.recStart:t.recEnd]; len(descs) > 4 {
			if i := bytes.Index(rec, descs); i >= 0 {
				vals.start = t.recStart + i + len(descs)
			}
		}
	}
	start := vals.start
	if start < 0 {
		return nil, false
	}
	for _, d := range vals.descs[:id] {
		start += int(d.Size)
	}
	end := start + int(vals.descs[id].Size)
	if end > t.recEnd {
		return nil, false
	}
	return t.data[start:end], true
}

// evtxTimeLayout is how Windows renders FILETIME values in event XML.
const evtxTimeLayout = "2006-01-02T15:04:05.0000000Z"

// value renders a substitution value as Windows renders it in event XML;
// null reports a NULL value (the attribute or text is then left out).
// Value() is never called on the hex types: the library's implementation
// calls itself forever.
func (t *xmlTree) value(e goevtx.Element) (s string, null bool, err error) {
	switch v := e.(type) {
	case nil, *goevtx.ValueNull:
		return "", true, nil
	case *goevtx.ValueString:
		return evtxUTF16(v.Value().(goevtx.UTF16String)), false, nil
	case *goevtx.AnsiString:
		return strings.TrimRight(v.String(), "\x00"), false, nil
	// The library renders these with fmt; strconv gives the same text.
	case *goevtx.ValueInt8:
		return strconv.FormatInt(int64(v.Value().(int8)), 10), false, nil
	case *goevtx.ValueUInt8:
		return strconv.FormatUint(uint64(v.Value().(uint8)), 10), false, nil
	case *goevtx.ValueInt16:
		return strconv.FormatInt(int64(v.Value().(int16)), 10), false, nil
	case *goevtx.ValueUInt16:
		return strconv.FormatUint(uint64(v.Value().(uint16)), 10), false, nil
	case *goevtx.ValueInt32:
		return strconv.FormatInt(int64(v.Value().(int32)), 10), false, nil
	case *goevtx.ValueUInt32:
		return strconv.FormatUint(uint64(v.Value().(uint32)), 10), false, nil
	case *goevtx.ValueInt64:
		return strconv.FormatInt(v.Value().(int64), 10), false, nil
	case *goevtx.ValueUInt64:
		return strconv.FormatUint(v.Value().(uint64), 10), false, nil
	case *goevtx.ValueBool:
		return strconv.FormatBool(v.Value().(bool)), false, nil
	case *goevtx.ValueSID:
		return evtxSID(v.Value().(goevtx.Sid)), false, nil
	case *goevtx.ValueHexInt32:
		return evtxHex(uint64(v.ValueUInt32.Value().(uint32))), false, nil
	case *goevtx.ValueHexInt64:
		return evtxHex(v.ValueUInt64.Value().(uint64)), false, nil
	case *goevtx.ValueReal64:
		return strconv.FormatFloat(v.Value().(float64), 'g', -1, 64), false, nil
	case *goevtx.ValueBinary:
		return evtxUpperHex(v.Value().([]byte)), false, nil
	case *goevtx.ValueGUID:
		g := v.Value().(goevtx.GUID)
		return evtxGUID(g[:]), false, nil
	case *goevtx.ValueFileTime:
		return time.Time(v.Value().(goevtx.UTCTime)).UTC().Format(evtxTimeLayout), false, nil
	case *goevtx.ValueSysTime:
		st := v.Value().(goevtx.SysTime)
		tm := time.Date(int(st.Year), time.Month(st.Month), int(st.DayOfMonth), int(st.Hours),
			int(st.Minutes), int(st.Seconds), int(st.Milliseconds)*int(time.Millisecond), time.UTC)
		return tm.Format(evtxTimeLayout), false, nil
	case *goevtx.ValueStringTable:
		return strings.Join(v.Repr().([]string), ", "), false, nil
	case *goevtx.ValueArrayUInt16, *goevtx.ValueArrayUInt64:
		return v.(goevtx.Value).String(), false, nil
	case *goevtx.UnkVal:
		return t.unknownValue(v), false, nil
	}
	return "", false, fmt.Errorf("binxml: unexpected value %T", e)
}

// unknownValue renders the value types the library skips (SizeT, Real32,
// most arrays) from the chunk bytes.
func (t *xmlTree) unknownValue(v *goevtx.UnkVal) string {
	start, size := v.Offset, int64(v.Desc.Size)
	if start < 0 || start+size > int64(len(t.data)) {
		return ""
	}
	b := t.data[start : start+size]
	switch {
	case v.Token == goevtx.SizeTType && (size == 4 || size == 8):
		return evtxScalar(goevtx.HexInt64Type, append(bytes.Clone(b), make([]byte, 8-size)...))
	case evtxScalarSize(uint8(v.Token)) == int(size):
		return evtxScalar(uint8(v.Token), b)
	}
	return evtxUpperHex(b)
}

// evtxScalarSize is the size of the fixed-size value types, 0 for others.
func evtxScalarSize(typ uint8) int {
	switch typ {
	case goevtx.Int8Type, goevtx.UInt8Type:
		return 1
	case goevtx.Int16Type, goevtx.UInt16Type:
		return 2
	case goevtx.Int32Type, goevtx.UInt32Type, goevtx.Real32Type, goevtx.BoolType, goevtx.HexInt32Type:
		return 4
	case goevtx.Int64Type, goevtx.UInt64Type, goevtx.Real64Type, goevtx.FileTimeType, goevtx.HexInt64Type:
		return 8
	case goevtx.GuidType, goevtx.SysTimeType:
		return 16
	}
	return 0
}

// evtxScalar renders a fixed-size value from its bytes (len(b) is
// evtxScalarSize(typ)) as Windows renders it in event XML.
func evtxScalar(typ uint8, b []byte) string {
	le := binary.LittleEndian
	switch typ {
	case goevtx.Int8Type:
		return strconv.Itoa(int(int8(b[0])))
	case goevtx.UInt8Type:
		return strconv.Itoa(int(b[0]))
	case goevtx.Int16Type:
		return strconv.Itoa(int(int16(le.Uint16(b))))
	case goevtx.UInt16Type:
		return strconv.Itoa(int(le.Uint16(b)))
	case goevtx.Int32Type:
		return strconv.FormatInt(int64(int32(le.Uint32(b))), 10)
	case goevtx.UInt32Type:
		return strconv.FormatUint(uint64(le.Uint32(b)), 10)
	case goevtx.Int64Type:
		return strconv.FormatInt(int64(le.Uint64(b)), 10)
	case goevtx.UInt64Type:
		return strconv.FormatUint(le.Uint64(b), 10)
	case goevtx.Real32Type:
		return strconv.FormatFloat(float64(math.Float32frombits(le.Uint32(b))), 'g', -1, 32)
	case goevtx.Real64Type:
		return strconv.FormatFloat(math.Float64frombits(le.Uint64(b)), 'g', -1, 64)
	case goevtx.BoolType:
		return strconv.FormatBool(le.Uint32(b) != 0)
	case goevtx.HexInt32Type:
		return evtxHex(uint64(le.Uint32(b)))
	case goevtx.HexInt64Type:
		return evtxHex(le.Uint64(b))
	case goevtx.FileTimeType:
		return fileTime(le.Uint64(b)).Format(evtxTimeLayout)
	case goevtx.GuidType:
		return evtxGUID(b)
	case goevtx.SysTimeType:
		return time.Date(int(le.Uint16(b)), time.Month(le.Uint16(b[2:])), int(le.Uint16(b[6:])), int(le.Uint16(b[8:])),
			int(le.Uint16(b[10:])), int(le.Uint16(b[12:])), int(le.Uint16(b[14:]))*int(time.Millisecond), time.UTC).Format(evtxTimeLayout)
	}
	return evtxUpperHex(b)
}

func utf16String(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// evtxUTF16 is the library's UTF16String.ToString, the string with the
// NULs at its end cut, in one allocation when it is ASCII.
func evtxUTF16(u []uint16) string {
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	for _, c := range u {
		if c >= utf8.RuneSelf {
			return string(utf16.Decode(u))
		}
	}
	var b strings.Builder
	b.Grow(len(u))
	for _, c := range u {
		b.WriteByte(byte(c))
	}
	return b.String()
}

const evtxHexDigits = "0123456789ABCDEF"

// evtxUpperHex is strings.ToUpper(hex.EncodeToString(b)).
func evtxUpperHex(b []byte) string {
	var s strings.Builder
	s.Grow(2 * len(b))
	for _, c := range b {
		s.WriteByte(evtxHexDigits[c>>4])
		s.WriteByte(evtxHexDigits[c&15])
	}
	return s.String()
}

// evtxHex is fmt.Sprintf("0x%x", v).
func evtxHex(v uint64) string {
	var buf [18]byte
	return string(strconv.AppendUint(append(buf[:0], "0x"...), v, 16))
}

// evtxGUID renders a GUID's 16 bytes as Windows does in event XML,
// "{%08X-%04X-%04X-%X-%X}" of its little-endian fields.
func evtxGUID(b []byte) string {
	var s strings.Builder
	s.Grow(38)
	s.WriteByte('{')
	for i, j := range [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15} {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s.WriteByte('-')
		}
		s.WriteByte(evtxHexDigits[b[j]>>4])
		s.WriteByte(evtxHexDigits[b[j]&15])
	}
	s.WriteByte('}')
	return s.String()
}

// evtxSID is the library's ValueSID.String: S-revision-authority, then the
// subauthorities.
func evtxSID(sid goevtx.Sid) string {
	b := make([]byte, 0, 64)
	b = append(b, "S-"...)
	b = strconv.AppendUint(b, uint64(sid.Revision), 10)
	var auth uint64
	for _, a := range sid.IdentifierAuthority {
		auth = auth<<8 + uint64(a)
	}
	b = strconv.AppendUint(append(b, '-'), auth, 10)
	for _, sa := range sid.SubAuthority {
		b = strconv.AppendUint(append(b, '-'), uint64(sa), 10)
	}
	return string(b)
}

// eventFromXML reads the Event element of a decoded record.
func eventFromXML(root *xmlNode) (*Event, error) {
	e := root.child("Event")
	sys := e.child("System")
	if sys == nil {
		return nil, errors.New("no Event/System element")
	}
	prov := sys.child("Provider")
	ev := &Event{
		Channel:      sys.child("Channel").textOf(),
		Provider:     prov.attr("Name"),
		ProviderGUID: strings.ToLower(prov.attr("Guid")),
		Computer:     sys.child("Computer").textOf(),
	}
	if src := prov.attr("EventSourceName"); src != ev.Provider {
		ev.EventSource = src
	}
	if ev.Provider == "" {
		ev.Provider = ev.EventSource
	}
	idNode := sys.child("EventID")
	id, err := strconv.ParseUint(strings.TrimSpace(idNode.textOf()), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad EventID %q", idNode.textOf())
	}
	ev.EventID = uint16(id & 0xFFFF)
	if q := idNode.attr("Qualifiers"); q != "" {
		if v, err := strconv.ParseUint(q, 10, 16); err == nil {
			ev.Qualifiers = uint16(v)
		}
	}
	if v, err := strconv.ParseUint(sys.child("Level").textOf(), 10, 8); err == nil {
		ev.Level = uint8(v)
	}
	if v, err := strconv.ParseUint(sys.child("EventRecordID").textOf(), 10, 64); err == nil {
		ev.RecordID = v
	}
	if tm, err := time.Parse(time.RFC3339Nano, sys.child("TimeCreated").attr("SystemTime")); err == nil {
		ev.Time = tm.UTC()
	}
	for _, c := range e.children {
		switch {
		case c.name == "System":
		case c.name == "RenderingInfo":
			ev.Message = c.child("Message").textOf()
		case c.name == "UserData":
			for _, u := range c.children {
				ev.Data = flattenXML(ev.Data, u, u.name)
			}
		default:
			// EventData, or, in a record carved from slack, an element
			// whose name string was overwritten: read it as EventData.
			for _, d := range c.children {
				switch {
				case d.name == "Data" || hasAttr(d, "Name"):
					ev.Data = append(ev.Data, Field{Name: d.attr("Name"), Value: d.textOf()})
				case d.name == "Binary":
					ev.Binary = strings.ToUpper(d.textOf())
				default:
					ev.Data = flattenXML(ev.Data, d, d.name)
				}
			}
		}
	}
	return ev, nil
}

func hasAttr(n *xmlNode, name string) bool {
	for _, a := range n.attrs {
		if a.name == name {
			return true
		}
	}
	return false
}

// flattenXML appends the leaves of n as fields named by their path from
// n, e.g. "LogFileCleared/SubjectUserName"; attributes other than xmlns
// become "path/@name".
func flattenXML(out []Field, n *xmlNode, path string) []Field {
	for _, a := range n.attrs {
		if a.name != "xmlns" && !strings.HasPrefix(a.name, "xmlns:") {
			out = append(out, Field{Name: path + "/@" + a.name, Value: a.value})
		}
	}
	if len(n.children) == 0 {
		return append(out, Field{Name: path, Value: n.textOf()})
	}
	if strings.TrimSpace(n.textOf()) != "" {
		out = append(out, Field{Name: path, Value: n.textOf()})
	}
	for _, c := range n.children {
		out = flattenXML(out, c, path+"/"+c.name)
	}
	return out
}

// fileTime converts a Windows FILETIME (100 ns since 1601) to UTC.
func fileTime(ft uint64) time.Time {
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	if ft < epochDiff || ft > math.MaxInt64 {
		return time.Time{}
	}
	d := ft - epochDiff
	return time.Unix(int64(d/1e7), int64(d%1e7)*100).UTC()
}
