package parsers

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"html"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	goevtx "github.com/0xrawsec/golang-evtx/evtx"
)

// evtxCorpus returns the shared sample logs (corpusDir: skipped where the
// corpus is absent, except in CI).
func evtxCorpus(t testing.TB) string {
	t.Helper()
	return filepath.Join(corpusDir(t), "evtx")
}

const evtxTestdata = "../testdata/evtx"

// quietLibraryLog silences golang-evtx, which logs parse problems (with
// stack traces) through the standard logger.
func quietLibraryLog(t testing.TB) {
	w := log.Writer()
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(w) })
}

// parseEVTXBytes runs the parser over data and splits the results.
func parseEVTXBytes(t testing.TB, data []byte) (events []Record, errs []*ParseError) {
	t.Helper()
	for rec, err := range (evtx{}).Parse(context.Background(), bytes.NewReader(data)) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			errs = append(errs, pe)
			continue
		}
		events = append(events, rec)
	}
	return events, errs
}

func readEVTXTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(evtxTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renderJSONLLimit is renderJSONL keeping only the first limit lines
// after the summary, which counts them all; big logs get short goldens.
func renderJSONLLimit(t *testing.T, path string, limit int) []byte {
	t.Helper()
	full := renderJSONL(t, path)
	lines := strings.SplitAfter(string(full), "\n")
	if len(lines) > limit+2 { // summary, limit lines, final ""
		lines = append(lines[:limit+1], `{"truncated":"golden keeps the first `+strconv.Itoa(limit)+` lines"}`+"\n")
	}
	return []byte(strings.Join(lines, ""))
}

func TestEVTXGolden(t *testing.T) {
	quietLibraryLog(t)
	for _, name := range []string{
		"deepblue_disablestop-eventlog.evtx",
		"attack-samples_discovery_4799_4798_Security-log_System-events-only-in-slack.evtx",
	} {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(name), func(t *testing.T) {
			path := filepath.Join(evtxTestdata, name)
			got := renderJSONLLimit(t, path, 20)
			checkGolden(t, got, strings.TrimSuffix(path, ".evtx")+".golden.jsonl")
		})
	}
}

func TestEVTXSniffAndDetect(t *testing.T) {
	var inputs []string
	for _, f := range goldenFiles(t, evtxTestdata) {
		inputs = append(inputs, f)
	}
	tests := []struct {
		name  string
		input []byte
		want  bool
	}{
		{"empty", nil, false},
		{"file_magic", []byte("ElfFile\x00"), true},
		{"chunk_magic", []byte("ElfChnk\x00rest"), true},
		{"short", []byte("ElfFile"), false},
		{"evt_magic", []byte("\x30\x00\x00\x00LfLe\x01\x00\x00\x00"), false},
		{"text", []byte("\r\nActive Connections\r\n"), false},
		{"utf16_bom", []byte("\xff\xfeE\x00l\x00f\x00"), false},
	}
	for _, f := range inputs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name  string
			input []byte
			want  bool
		}{filepath.Base(f), b[:min(len(b), rawHeadLen)], true})
	}
	for _, tt := range tests {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(tt.name), func(t *testing.T) {
			if got := (evtx{}).Sniff(tt.input); got != tt.want {
				t.Errorf("Sniff = %v, want %v", got, tt.want)
			}
			p, enc, err := Detect(tt.input)
			got := err == nil && p.Format() == FormatEVTX
			if got != tt.want {
				t.Errorf("Detect claims evtx = %v, want %v", got, tt.want)
			}
			if got && enc != EncBinary {
				t.Errorf("Detect encoding = %q, want %q", enc, EncBinary)
			}
		})
	}
}

// TestEVTXDetectCorpus checks that the sniffer claims every corpus event
// log and nothing else (text captures, legacy .evt).
func TestEVTXDetectCorpus(t *testing.T) {
	root := filepath.Dir(evtxCorpus(t))
	if _, err := os.Stat(root); err != nil {
		t.Skipf("corpus %s absent: %v", root, err)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := strings.ToLower(filepath.Ext(path))
		if ext == ".md" {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		head := make([]byte, rawHeadLen)
		n, _ := io.ReadFull(f, head)
		p, _, err := Detect(head[:n])
		got := err == nil && p.Format() == FormatEVTX
		if want := ext == ".evtx"; got != want {
			t.Errorf("%s: Detect claims evtx = %v, want %v", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// evtxRecordOffsets lists the records of the first chunk of a one-chunk
// sample, walking their sizes.
func evtxRecordOffsets(t *testing.T, data []byte) []int {
	t.Helper()
	chunk := data[evtxHeaderBlock:]
	free := int(binary.LittleEndian.Uint32(chunk[48:]))
	var offs []int
	for off := evtxRecordsStart; off < free; {
		offs = append(offs, evtxHeaderBlock+off)
		off += int(binary.LittleEndian.Uint32(chunk[off+4:]))
	}
	return offs
}

func TestEVTXDamaged(t *testing.T) {
	quietLibraryLog(t)
	orig := readEVTXTestdata(t, "deepblue_disablestop-eventlog.evtx")
	offs := evtxRecordOffsets(t, orig)
	if got, want := len(offs), 13; got != want {
		t.Fatalf("sample has %d records, want %d", got, want)
	}
	clone := func(edit func(b []byte)) []byte {
		b := bytes.Clone(orig)
		edit(b)
		return b
	}
	tests := []struct {
		name          string
		input         []byte
		wantEvents    int
		wantRecovered int
		// wantErrAt are the offsets of the expected errors, in order.
		wantErrAt []int64
		wantErrIs error
	}{
		{
			name:       "intact",
			input:      orig,
			wantEvents: 13,
		},
		{
			name:       "bad_record_magic",
			input:      clone(func(b []byte) { copy(b[offs[2]:], "XX") }),
			wantEvents: 12,
			wantErrAt:  []int64{int64(offs[2])},
		},
		{
			name: "zero_record_size",
			input: clone(func(b []byte) {
				binary.LittleEndian.PutUint32(b[offs[5]+4:], 0)
			}),
			wantEvents: 12,
			wantErrAt:  []int64{int64(offs[5])},
		},
		{
			name: "garbage_binxml",
			input: clone(func(b []byte) {
				// The last record: no later record uses a template
				// it defines.
				for i := offs[12] + evtxRecordHeader; i < offs[12]+evtxRecordHeader+40; i++ {
					b[i] = 0xA5
				}
			}),
			wantEvents: 12,
			wantErrAt:  []int64{int64(offs[12])},
		},
		{
			name:          "bad_chunk_magic",
			input:         clone(func(b []byte) { copy(b[evtxHeaderBlock:], "XXXXXXXX") }),
			wantEvents:    13,
			wantRecovered: 13,
			wantErrAt:     []int64{evtxHeaderBlock},
		},
		{
			name:       "bad_file_magic",
			input:      clone(func(b []byte) { copy(b, "XXXXXXXX") }),
			wantEvents: 13,
			wantErrAt:  []int64{0},
		},
		{
			name: "header_counts_no_chunk",
			input: clone(func(b []byte) {
				binary.LittleEndian.PutUint16(b[42:], 0)
			}),
			wantEvents:    13,
			wantRecovered: 13,
		},
		{
			name: "dirty_header_counts_no_chunk",
			input: clone(func(b []byte) {
				binary.LittleEndian.PutUint16(b[42:], 0)
				binary.LittleEndian.PutUint32(b[120:], 1)
			}),
			wantEvents: 13,
		},
		{
			name:       "truncated_in_record",
			input:      orig[:offs[6]+100],
			wantEvents: 6,
			wantErrAt:  []int64{int64(offs[6] + 100)},
			wantErrIs:  ErrTruncated,
		},
		{
			name:       "truncated_header",
			input:      orig[:100],
			wantErrAt:  []int64{0},
			wantErrIs:  ErrTruncated,
			wantEvents: 0,
		},
		{
			name:      "empty",
			input:     nil,
			wantErrAt: []int64{0},
			wantErrIs: ErrTruncated,
		},
		{
			name:      "wrong_format",
			input:     []byte(strings.Repeat("  TCP    0.0.0.0:135     0.0.0.0:0      LISTENING       748\r\n", 100)),
			wantErrAt: []int64{0},
		},
		{
			name:       "headerless_chunk",
			input:      orig[evtxHeaderBlock:],
			wantEvents: 13, wantRecovered: 13,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, errs := parseEVTXBytes(t, tt.input)
			recovered := 0
			for _, e := range events {
				if e.Event.Recovered {
					recovered++
				}
			}
			if got, want := len(events), tt.wantEvents; got != want {
				t.Errorf("events = %d, want %d", got, want)
			}
			if got, want := recovered, tt.wantRecovered; got != want {
				t.Errorf("recovered = %d, want %d", got, want)
			}
			var gotAt []int64
			for _, e := range errs {
				gotAt = append(gotAt, e.Offset)
				if e.Format != FormatEVTX {
					t.Errorf("error %v: format %q", e, e.Format)
				}
			}
			if !slicesEqual(gotAt, tt.wantErrAt) {
				t.Errorf("error offsets = %v, want %v (errors: %v)", gotAt, tt.wantErrAt, errs)
			}
			if tt.wantErrIs != nil && (len(errs) == 0 || !errors.Is(errs[0], tt.wantErrIs)) {
				t.Errorf("errors %v, want one wrapping %v", errs, tt.wantErrIs)
			}
		})
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEVTXFields(t *testing.T) {
	quietLibraryLog(t)
	events, errs := parseEVTXBytes(t, readEVTXTestdata(t, "deepblue_disablestop-eventlog.evtx"))
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	// Record 3 is a classic SCM event: 7001 with Qualifiers 49152 and the
	// service key name in Binary; record 1 has UserData.
	first, scm := events[0].Event, events[2].Event
	want := Event{
		Channel: "System", Provider: "Service Control Manager",
		ProviderGUID: "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
		EventID:      7001, Qualifiers: 49152, Level: 2, RecordID: 9254,
		Time:     time.Date(2019, 4, 27, 21, 4, 43, 704329800, time.UTC),
		Computer: "DESKTOP-JR78RLP",
		Data: []Field{
			{"param1", "Network Location Awareness"}, {"param2", "Windows Event Log"},
			{"param3", "%%1058"},
		},
		Binary: "4E006C0061005300760063000000",
	}
	if got, w := jsonString(t, scm), jsonString(t, &want); got != w {
		t.Errorf("record 3:\n got %s\nwant %s", got, w)
	}
	if got, want := first.Data[0], (Field{"LogFileCleared/SubjectUserName", "jwrig"}); got != want {
		t.Errorf("UserData field = %+v, want %+v", got, want)
	}
	if got, want := events[2].Offset, int64(evtxRecordOffsets(t, readEVTXTestdata(t, "deepblue_disablestop-eventlog.evtx"))[2]); got != want {
		t.Errorf("record 3 offset = %#x, want %#x", got, want)
	}
}

// TestEVTXValues checks what the library gets wrong and the parser fixes:
// string arrays (one element per item, empty items kept), optional
// substitutions with NULL values (element left out), and element names
// overwritten in slack (EventData read anyway).
func TestEVTXValues(t *testing.T) {
	quietLibraryLog(t)
	events, _ := parseEVTXBytes(t, readEVTXTestdata(t, "attack-samples_discovery_4799_4798_Security-log_System-events-only-in-slack.evtx"))
	byID := map[uint64]*Event{}
	for _, e := range events {
		byID[e.Event.RecordID] = e.Event
	}
	tests := []struct {
		name     string
		recordID uint64
		wantData []Field
		wantBin  string
	}{
		{"string_array", 2579, []Field{
			{"StringCount", "2"}, {"String", `C:\Tools\MessageBox64.dll`}, {"String", `C:\Tools\MessageBox32.dll`},
		}, ""},
		{"string_array_empty_items", 2587, []Field{
			{"", "8:28:16 AM"}, {"", "\u200e8/\u200e4/\u200e2019"}, {"", ""}, {"", ""}, {"", "5340"}, {"", ""}, {"", ""},
		}, "E30708000000040008001C0010008C03E3070800000004000F001C0010008C03600900003C000000010000006009000001000000B0040000010000007281FFFF"},
		{"optional_null", 2589, nil, "E3070800010005000F0031000200DE030000000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := byID[tt.recordID]
			if e == nil {
				t.Fatalf("record %d missing", tt.recordID)
			}
			// Data names of these slack records were overwritten; compare
			// the names only where the template still had them.
			got := e.Data
			if tt.recordID == 2587 {
				got = nil
				for _, f := range e.Data {
					got = append(got, Field{Value: f.Value})
				}
			}
			if g, w := jsonString(t, got), jsonString(t, tt.wantData); g != w {
				t.Errorf("data\n got %s\nwant %s", g, w)
			}
			if e.Binary != tt.wantBin {
				t.Errorf("binary = %q, want %q", e.Binary, tt.wantBin)
			}
		})
	}
}

// TestEVTXSelfReferencingTemplate feeds the library a template whose
// definition instantiates itself: unguarded, it recurses until the Go
// stack overflows, a fatal error no recover() catches.
func TestEVTXSelfReferencingTemplate(t *testing.T) {
	quietLibraryLog(t)
	le := binary.LittleEndian
	chunk := make([]byte, evtxChunkSize)
	copy(chunk, evtxChunkMagic)
	le.PutUint32(chunk[40:], 128)
	const rec = evtxRecordsStart
	// BinXML: fragment header, then a template instance whose definition
	// (at def) holds a template instance of the same definition.
	const def = rec + evtxRecordHeader + 4 + 10
	x := chunk[rec+evtxRecordHeader:]
	copy(x, []byte{0x0f, 1, 1, 0, 0x0c, 1, 0, 0, 0, 0})
	le.PutUint32(x[10:], def)
	d := chunk[def:]
	le.PutUint32(d[20:], 100)                                // definition size
	copy(d[24:], []byte{0x0f, 1, 1, 0, 0x0c, 1, 0, 0, 0, 0}) // fragment, instance
	le.PutUint32(d[34:], def)
	const size = 256
	copy(chunk[rec:], evtxRecordMagic)
	le.PutUint32(chunk[rec+4:], size)
	le.PutUint64(chunk[rec+8:], 1)
	le.PutUint32(chunk[rec+size-4:], size)
	le.PutUint32(chunk[48:], rec+size) // free-space offset

	events, errs := parseEVTXBytes(t, chunk)
	if len(events) != 0 || len(errs) != 1 || !(errors.Is(errs[0], errEVTXDepth) || errors.Is(errs[0], errEVTXWork)) {
		t.Fatalf("events %d, errors %v; want one depth or work limit error", len(events), errs)
	}
	if got, want := errs[0].Offset, int64(rec); got != want {
		t.Errorf("error at %d, want %d", got, want)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type plainReader struct{ io.Reader }

func TestEVTXNeedsReaderAt(t *testing.T) {
	data := readEVTXTestdata(t, "deepblue_disablestop-eventlog.evtx")
	var errs []error
	for _, err := range (evtx{}).Parse(context.Background(), plainReader{bytes.NewReader(data)}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrNeedReaderAt) {
		t.Fatalf("errors = %v, want one ErrNeedReaderAt", errs)
	}
	var pe *ParseError
	if !errors.As(errs[0], &pe) {
		t.Fatalf("error %T is not a *ParseError", errs[0])
	}
}

// multiChunk builds a log of n copies of the sample's chunk, so tests of
// the worker pipeline need no corpus.
func multiChunk(t testing.TB, n int) []byte {
	orig := readEVTXTestdata(t, "deepblue_disablestop-eventlog.evtx")
	b := bytes.Clone(orig[:evtxHeaderBlock])
	binary.LittleEndian.PutUint16(b[42:], uint16(n))
	for range n {
		b = append(b, orig[evtxHeaderBlock:evtxHeaderBlock+evtxChunkSize]...)
	}
	return b
}

func TestEVTXOrderAndStop(t *testing.T) {
	quietLibraryLog(t)
	data := multiChunk(t, 40)
	events, errs := parseEVTXBytes(t, data)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if got, want := len(events), 40*13; got != want {
		t.Fatalf("events = %d, want %d", got, want)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Offset <= events[i-1].Offset {
			t.Fatalf("event %d at %#x after %#x: not in file order", i, events[i].Offset, events[i-1].Offset)
		}
	}

	before := runtime.NumGoroutine()
	for _, stopAfter := range []int{1, 13, 14, 200} {
		n := 0
		for range (evtx{}).Parse(context.Background(), bytes.NewReader(data)) {
			if n++; n == stopAfter {
				break
			}
		}
		if n != stopAfter {
			t.Errorf("got %d records, want to stop after %d", n, stopAfter)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	n := 0
	for _, err := range (evtx{}).Parse(ctx, bytes.NewReader(data)) {
		if n++; n == 5 {
			cancel()
		}
		last = err
	}
	if !errors.Is(last, context.Canceled) || n > 5+13*(runtime.GOMAXPROCS(0)+2) {
		t.Errorf("after cancel: %d items, last error %v, want few and context.Canceled", n, last)
	}
	cancelled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	var got []error
	for _, err := range (evtx{}).Parse(cancelled, bytes.NewReader(data)) {
		got = append(got, err)
	}
	if len(got) != 1 || !errors.Is(got[0], context.Canceled) {
		t.Errorf("cancelled before the start: %v, want one context.Canceled", got)
	}
	// Every worker has ended when Parse returns (it waits for them); allow
	// the runtime a moment for goroutines that are not ours to settle.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	if after > before {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}

func TestEVTXCorpus(t *testing.T) {
	corpus := evtxCorpus(t)
	quietLibraryLog(t)
	evtxexport := evtxexportPath(t)
	files := corpusEVTX(t, "")
	if len(files) == 0 {
		t.Fatal("no .evtx in the corpus")
	}
	for _, path := range sampleCorpus(t, files) {
		name, _ := filepath.Rel(corpus, path)
		t.Run(strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(name), func(t *testing.T) {
			got := sweepEVTX(t, path)
			t.Logf("%s: %d records, %d recovered, %d errors, peak live heap %.1f MiB",
				name, got.records, got.recovered, got.errors, float64(got.peakHeap)/(1<<20))
			if got.peakHeap > 32<<20 {
				t.Errorf("peak live heap %d MiB, want < 32 MiB", got.peakHeap>>20)
			}
			if evtxexport == "" {
				return
			}
			want := evtxexportCount(t, evtxexport, path)
			if got.records+got.recovered < want {
				t.Errorf("%d records + %d recovered < %d from evtxexport", got.records, got.recovered, want)
			}
		})
	}
	// The files golang-evtx's own loops die on, and the classic provider
	// its map form loses.
	for _, tt := range []struct {
		file string
		min  int
	}{
		{"system/omerbenamram_sample-with-zero-data-size-event_System.evtx", 335},
		{"corrupt/plaso_System2_truncated.evtx", 194},
	} {
		if got := sweepEVTX(t, filepath.Join(corpus, tt.file)); got.records+got.recovered < tt.min {
			t.Errorf("%s: %d records, want >= %d", tt.file, got.records+got.recovered, tt.min)
		}
	}
	boot := map[uint16]int{}
	for rec, err := range parseEVTXFile(t, context.Background(), filepath.Join(corpus, "system/omerbenamram_system.evtx")) {
		if err == nil && rec.Event.Provider == "EventLog" && rec.Event.EventID >= 6005 && rec.Event.EventID <= 6009 {
			boot[rec.Event.EventID]++
		}
	}
	if got, want := boot, (map[uint16]int{6005: 3, 6006: 2, 6009: 3}); !mapsEqual(got, want) {
		t.Errorf("EventLog boot markers in omerbenamram_system.evtx = %v, want %v", got, want)
	}
}

func mapsEqual(a, b map[uint16]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

type sweep struct {
	records, recovered, errors int
	peakHeap                   uint64
}

// sweepEVTX parses one file with a deadline, sampling the heap.
func sweepEVTX(t *testing.T, path string) sweep {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan sweep, 1)
	go func() {
		var s sweep
		var ms runtime.MemStats
		for rec, err := range parseEVTXFile(t, ctx, path) {
			switch {
			case err != nil:
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Errorf("error %v (%T) is not a *ParseError", err, err)
				}
				if errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s: parse timed out", path)
				}
				s.errors++
			case rec.Event.Recovered:
				s.recovered++
			default:
				s.records++
			}
			if (s.records+s.recovered)%5000 == 1 {
				// Live heap: what the parser holds, not garbage.
				runtime.GC()
				runtime.ReadMemStats(&ms)
				s.peakHeap = max(s.peakHeap, ms.HeapAlloc)
			}
		}
		done <- s
	}()
	select {
	case s := <-done:
		return s
	case <-time.After(3 * time.Minute):
		t.Fatalf("%s: parse hangs", path)
		return sweep{}
	}
}

func parseEVTXFile(t *testing.T, ctx context.Context, path string) func(func(Record, error) bool) {
	return func(yield func(Record, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for rec, err := range (evtx{}).Parse(ctx, f) {
			if !yield(rec, err) {
				return
			}
		}
	}
}

// corpusEVTX lists the corpus .evtx files under dir ("" for all).
func corpusEVTX(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(evtxCorpus(t), dir), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".evtx") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// evtxexportPath finds libevtx's evtxexport: tests that compare with it
// are skipped without it, except under strictTests (CI, PORTMORTEM_LONG=1)
// where it must be installed.
func evtxexportPath(t *testing.T) string {
	p, err := exec.LookPath("evtxexport")
	if err == nil {
		return p
	}
	if strictTests() {
		t.Fatalf("evtxexport not found (apt-get install libevtx-utils): %v", err)
	}
	t.Logf("evtxexport not found, not comparing with it: %v", err)
	return ""
}

// evtxexportCount counts the records evtxexport prints (default mode:
// allocated records). It fails on some files, printing what it read.
func evtxexportCount(t *testing.T, evtxexport, path string) int {
	t.Helper()
	out, _ := exec.Command(evtxexport, path).Output()
	return bytes.Count(out, []byte("\nEvent number\t"))
}

// refEvent is what evtxexport -f xml prints of one record.
type refEvent struct {
	provider string
	eventID  uint16
	recordID uint64
	time     time.Time
}

var (
	refProvider = regexp.MustCompile(`<Provider Name="([^"]*)"`)
	refEventID  = regexp.MustCompile(`<EventID[^>]*>(\d+)</EventID>`)
	refRecordID = regexp.MustCompile(`<EventRecordID>(\d+)</EventRecordID>`)
	refTime     = regexp.MustCompile(`<TimeCreated SystemTime="([^"]*)"`)
)

// evtxexportXML runs evtxexport -f xml and reads the System part of each
// <Event> block.
func evtxexportXML(t *testing.T, evtxexport, path string) []refEvent {
	t.Helper()
	out, _ := exec.Command(evtxexport, "-f", "xml", path).Output()
	var events []refEvent
	for _, block := range strings.Split(string(out), "<Event xmlns=")[1:] {
		var e refEvent
		if m := refProvider.FindStringSubmatch(block); m != nil {
			e.provider = html.UnescapeString(m[1])
		}
		if m := refEventID.FindStringSubmatch(block); m != nil {
			id, _ := strconv.ParseUint(m[1], 10, 64)
			e.eventID = uint16(id)
		}
		if m := refRecordID.FindStringSubmatch(block); m != nil {
			e.recordID, _ = strconv.ParseUint(m[1], 10, 64)
		}
		if m := refTime.FindStringSubmatch(block); m != nil {
			e.time, _ = time.Parse(time.RFC3339Nano, m[1])
		}
		events = append(events, e)
	}
	return events
}

func TestEVTXMatchesEvtxexport(t *testing.T) {
	evtxCorpus(t) // skips where the corpus is absent
	evtxexport := evtxexportPath(t)
	if evtxexport == "" {
		t.Skip("evtxexport not installed")
	}
	quietLibraryLog(t)
	files := sampleCorpus(t, append(corpusEVTX(t, "system"), corpusEVTX(t, "application")...))
	total, missing, mismatched := 0, 0, 0
	for _, path := range files {
		ours := map[uint64][]*Event{}
		for rec, err := range parseEVTXFile(t, context.Background(), path) {
			if err == nil {
				ours[rec.Event.RecordID] = append(ours[rec.Event.RecordID], rec.Event)
			}
		}
		ref := evtxexportXML(t, evtxexport, path)
		total += len(ref)
		fileBad := 0
		for _, r := range ref {
			cands := ours[r.recordID]
			if len(cands) == 0 {
				missing++
				fileBad++
				t.Errorf("%s: record %d (%s %d) missing", filepath.Base(path), r.recordID, r.provider, r.eventID)
				continue
			}
			ok := false
			for _, e := range cands {
				if e.Provider == r.provider && e.EventID == r.eventID && e.Time.Equal(r.time) {
					ok = true
				}
			}
			if !ok {
				mismatched++
				fileBad++
				e := cands[0]
				if fileBad <= 5 {
					t.Errorf("%s: record %d: got %q %d %s, evtxexport %q %d %s", filepath.Base(path), r.recordID,
						e.Provider, e.EventID, e.Time.Format(time.RFC3339Nano), r.provider, r.eventID, r.time.Format(time.RFC3339Nano))
				}
			}
		}
		t.Logf("%s: %d records from evtxexport, %d differ or are missing", filepath.Base(path), len(ref), fileBad)
	}
	t.Logf("%d files, %d records: %d missing, %d differ", len(files), total, missing, mismatched)
}

func FuzzEVTX(f *testing.F) {
	quietLibraryLog(f)
	for _, path := range goldenFiles(f, evtxTestdata) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		b = b[:min(len(b), 70<<10)]
		f.Add(b)
		for _, edit := range []func(b []byte){
			func(b []byte) { copy(b, "XXXXXXXX") },                                      // file magic
			func(b []byte) { binary.LittleEndian.PutUint16(b[42:], 0xFFFF) },            // chunk count
			func(b []byte) { binary.LittleEndian.PutUint32(b[120:], 1) },                // dirty flag
			func(b []byte) { copy(b[evtxHeaderBlock:], "XXXXXXXX") },                    // chunk magic
			func(b []byte) { binary.LittleEndian.PutUint32(b[evtxHeaderBlock+48:], 9) }, // free-space offset
		} {
			c := bytes.Clone(b)
			if len(c) > evtxHeaderBlock+64 {
				edit(c)
				f.Add(c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip("over the 1 MiB size cap")
		}
		checkParseInvariants(t, evtx{}, data)
	})
}

// BenchmarkEVTX parses the largest corpus log (16.8 MB, 60,189 records).
func BenchmarkEVTX(b *testing.B) {
	path := filepath.Join(evtxCorpus(b), "system/museum_Win2012R2_StolenSzechuan_System_LARGE.evtx")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("corpus file absent: %v", err)
	}
	quietLibraryLog(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n := 0
		for _, err := range (evtx{}).Parse(context.Background(), bytes.NewReader(data)) {
			if err == nil {
				n++
			}
		}
		b.ReportMetric(float64(n), "records/op")
	}
}

// BenchmarkEVTXLibrary is the same file through golang-evtx's own
// FastEvents loop, for comparison (the library's header repair must be
// undone by hand: OpenDirty works on paths only).
func BenchmarkEVTXLibrary(b *testing.B) {
	path := filepath.Join(evtxCorpus(b), "system/museum_Win2012R2_StolenSzechuan_System_LARGE.evtx")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("corpus file absent: %v", err)
	}
	quietLibraryLog(b)
	for b.Loop() {
		ef, err := goevtx.OpenDirty(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for range ef.FastEvents() {
			n++
		}
		ef.Close()
		b.ReportMetric(float64(n), "records/op")
	}
}
