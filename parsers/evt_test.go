package parsers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const evtTestdata = "../testdata/evt"

// evtCorpusFile returns the path of a file of the shared corpus (see
// corpusDir), or skips the test when that file is not there (fails it
// under strictTests).
func evtCorpusFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(corpusDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		if strictTests() {
			t.Fatalf("corpus file %s: %v", rel, err)
		}
		t.Skipf("corpus file %s: %v", rel, err)
	}
	return p
}

// evtRefTool returns the path of a reference reader. It skips the test
// when the tool is missing, except under strictTests where the test fails:
// CI must install libevt-utils, libevtx-utils and python3-evtx.
func evtRefTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if strictTests() {
		t.Fatalf("reference reader %s is missing (apt-get install libevt-utils libevtx-utils python3-evtx)", name)
	}
	t.Skipf("reference reader %s is missing", name)
	return ""
}

// evtRefEvent is what the libyal export tools print of a record.
type evtRefEvent struct {
	Number  uint64
	Time    time.Time
	Source  string
	EventID uint32 // the full identifier as printed
}

// evtParseLibyalExport reads evtexport / evtxexport text output: blocks of
// "Name\t\t\t: value" lines, each starting with "Event number". String
// values may run over several lines; only the fields below are read.
func evtParseLibyalExport(t testing.TB, out []byte, timeLayout string) []evtRefEvent {
	t.Helper()
	var evs []evtRefEvent
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(name, "\t") {
			continue
		}
		name, value = strings.TrimRight(name, "\t"), strings.TrimPrefix(value, " ")
		switch name {
		case "Event number":
			n, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				t.Fatalf("event number %q: %v", value, err)
			}
			evs = append(evs, evtRefEvent{Number: n})
		case "Creation time", "Written time":
			if len(evs) == 0 || !evs[len(evs)-1].Time.IsZero() {
				continue
			}
			tm, err := time.Parse(timeLayout, value)
			if err != nil {
				t.Fatalf("time %q: %v", value, err)
			}
			evs[len(evs)-1].Time = tm
		case "Source name":
			if len(evs) > 0 && evs[len(evs)-1].Source == "" {
				evs[len(evs)-1].Source = value
			}
		case "Event identifier":
			hexPart, _, _ := strings.Cut(value, " ")
			n, err := strconv.ParseUint(strings.TrimPrefix(hexPart, "0x"), 16, 32)
			if err != nil {
				t.Fatalf("event identifier %q: %v", value, err)
			}
			if len(evs) > 0 {
				evs[len(evs)-1].EventID = uint32(n)
			}
		}
	}
	return evs
}

// evtExport runs the libevt reference reader in a mode (items, recovered).
func evtExport(t testing.TB, path, mode string) []evtRefEvent {
	t.Helper()
	tool := evtRefTool(t, "evtexport")
	out, err := exec.Command(tool, "-m", mode, path).Output()
	if err != nil {
		t.Fatalf("evtexport -m %s %s: %v", mode, path, err)
	}
	// evtexport prints the creation time (TimeGenerated) before the
	// written time, to the second.
	return evtParseLibyalExport(t, out, "Jan 02, 2006 15:04:05 UTC")
}

// evtParseAll parses data with p and returns the records and the errors.
func evtParseAll(t testing.TB, p Parser, data []byte) ([]Record, []*ParseError) {
	t.Helper()
	var recs []Record
	var errs []*ParseError
	for rec, err := range p.Parse(context.Background(), bytes.NewReader(data)) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			errs = append(errs, pe)
			continue
		}
		recs = append(recs, rec)
	}
	return recs, errs
}

func evtSplitRecovered(recs []Record) (live, recovered []Record) {
	for _, r := range recs {
		if r.Event.Recovered {
			recovered = append(recovered, r)
		} else {
			live = append(live, r)
		}
	}
	return live, recovered
}

// evtCompareRef checks that events match what a reference reader printed, in order.
func evtCompareRef(t *testing.T, what string, got []Record, want []evtRefEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records, reference reader has %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i].Event, want[i]
		if g.RecordID != w.Number || g.Provider != w.Source || g.EventID != uint16(w.EventID) ||
			g.Qualifiers != uint16(w.EventID>>16) || !g.Time.Equal(w.Time) {
			t.Fatalf("%s: record %d at offset %#x:\n got %d %q %d/%d %v\nwant %d %q %d/%d %v", what, i, got[i].Offset,
				g.RecordID, g.Provider, g.EventID, g.Qualifiers, g.Time,
				w.Number, w.Source, uint16(w.EventID), w.EventID>>16, w.Time)
		}
	}
}

func evtReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEVTMatchesEvtexport checks every record of both corpus .evt files
// against libevt's evtexport: the live records are exactly its default
// (allocated) items, in order, and the recovered ones are among its
// recovered items.
func TestEVTMatchesEvtexport(t *testing.T) {
	tests := []struct {
		name, path           string
		wantLive, wantRecov  int
		wantErrs             int
		wantRefRecovered     int
		wantRecoveredMissing int
	}{
		// 121 allocated records, nothing outside the live region.
		{name: "AppEvent", path: filepath.Join(evtTestdata, "go-evt_WinXP_AppEvent.Evt"), wantLive: 121},
		// Dirty, wrapped: 6063 live records (one split across the
		// wrap), 437 leftovers; one leftover at 0x1dff10 was cut by a
		// later write (size copy broken), which libevt recovers with
		// garbled strings and we report.
		{name: "SysEvent", path: "corpus", wantLive: 6063, wantRecov: 437, wantErrs: 1,
			wantRefRecovered: 438, wantRecoveredMissing: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "corpus" {
				path = evtCorpusFile(t, "evtx/evt/plaso_WinXP_SysEvent.Evt")
			}
			recs, errs := evtParseAll(t, evt{}, evtReadFile(t, path))
			live, recovered := evtSplitRecovered(recs)
			if got, want := len(live), tt.wantLive; got != want {
				t.Errorf("live records = %d, want %d", got, want)
			}
			if got, want := len(recovered), tt.wantRecov; got != want {
				t.Errorf("recovered records = %d, want %d", got, want)
			}
			if got, want := len(errs), tt.wantErrs; got != want {
				t.Errorf("errors = %d, want %d: %v", got, want, errs)
			}
			items := evtExport(t, path, "items")
			if len(recs) < len(items) {
				t.Errorf("%d records, fewer than evtexport's %d", len(recs), len(items))
			}
			evtCompareRef(t, "live", live, items)

			ref := evtExport(t, path, "recovered")
			if got, want := len(ref), tt.wantRefRecovered; got != want {
				t.Errorf("evtexport recovered = %d, want %d", got, want)
			}
			// Both list leftovers in file order; libevt has the
			// damaged ones we report as errors.
			missing, j := 0, 0
			for _, r := range recovered {
				for j < len(ref) && ref[j].Number != r.Event.RecordID {
					j++
					missing++
				}
				if j == len(ref) {
					t.Fatalf("recovered record %d at %#x not among evtexport's", r.Event.RecordID, r.Offset)
				}
				evtCompareRef(t, "recovered", []Record{r}, ref[j:j+1])
				j++
			}
			missing += len(ref) - j
			if got, want := missing, tt.wantRecoveredMissing; got != want {
				t.Errorf("evtexport recovers %d records we do not, want %d", got, want)
			}
		})
	}
}

// TestEVTSCMCounts checks the event counts that corpus/SOURCES.md lists
// for the Windows XP System log (live records, low 16 bits of the ID).
func TestEVTSCMCounts(t *testing.T) {
	path := evtCorpusFile(t, "evtx/evt/plaso_WinXP_SysEvent.Evt")
	recs, _ := evtParseAll(t, evt{}, evtReadFile(t, path))
	live, _ := evtSplitRecovered(recs)
	got := map[string]int{}
	for _, r := range live {
		got[r.Event.Provider+"/"+strconv.Itoa(int(r.Event.EventID))]++
	}
	want := map[string]int{
		"Service Control Manager/7000": 109, "Service Control Manager/7009": 7,
		"Service Control Manager/7022": 3, "Service Control Manager/7031": 7,
		"Service Control Manager/7036": 2487,
		"EventLog/6005":                24, "EventLog/6006": 18, "EventLog/6009": 24,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %d events, want %d", k, got[k], w)
		}
	}
}

// TestEVTGolden renders the first 20 records of the small log.
func TestEVTGolden(t *testing.T) {
	for _, path := range goldenFiles(t, evtTestdata) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			lines := bytes.SplitAfter(renderJSONL(t, path), []byte("\n"))
			if len(lines) > 21 {
				lines = lines[:21] // the summary and 20 records
			}
			checkGolden(t, bytes.Join(lines, nil), strings.TrimSuffix(path, filepath.Ext(path))+".golden.jsonl")
		})
	}
}

// evtRecordLen returns the size field of the record at off.
func evtRecordLen(data []byte, off int64) int64 {
	return int64(binary.LittleEndian.Uint32(data[off:]))
}

// TestEVTDamaged damages copies of the logs and checks that the records
// that remain are read, with a ParseError where the damage is.
func TestEVTDamaged(t *testing.T) {
	small := evtReadFile(t, filepath.Join(evtTestdata, "go-evt_WinXP_AppEvent.Evt"))
	full, _ := evtParseAll(t, evt{}, small)
	byOffset := map[int64]*Event{}
	for _, r := range full {
		byOffset[r.Offset] = r.Event
	}
	// The record that the 20000-byte cut splits.
	var cutRec int64
	var wholeBefore int
	for _, r := range full {
		if end := r.Offset + evtRecordLen(small, r.Offset); end <= 20000 {
			wholeBefore++
		} else if r.Offset < 20000 {
			cutRec = r.Offset
		}
	}
	// A record in the middle whose trailing size copy is broken.
	mid := full[60].Offset
	midEnd := mid + evtRecordLen(small, mid)

	damage := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), small...))
	}
	tests := []struct {
		name      string
		data      []byte
		wantLive  int
		wantRecov int
		// wantErrs are the offsets of the expected errors, in order.
		wantErrs  []int64
		wantTrunc bool
	}{
		{
			name:      "truncated",
			data:      small[:20000],
			wantLive:  wholeBefore,
			wantErrs:  []int64{cutRec},
			wantTrunc: true,
		},
		{
			name:     "header_zeroed",
			data:     damage(func(b []byte) []byte { clear(b[:evtHeaderSize]); return b }),
			wantLive: 121,
			wantErrs: []int64{0},
		},
		{
			name: "header_offsets_stale",
			data: damage(func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[16:], 0x7ffffff0)
				binary.LittleEndian.PutUint32(b[20:], 0x1234)
				return b
			}),
			wantLive: 121,
		},
		{
			name: "record_size_copy_broken",
			data: damage(func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[midEnd-4:], 0xBAD)
				return b
			}),
			wantLive: 120,
			wantErrs: []int64{mid},
		},
		{
			name: "eof_record_lost",
			data: damage(func(b []byte) []byte {
				i := bytes.Index(b, evtEOFSignature)
				clear(b[i : i+evtEOFSize])
				return b
			}),
			// The chain still gives every record, then ends where
			// the end-of-file record was.
			wantLive: 121,
			wantErrs: []int64{0x718c},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := evtParseAll(t, evt{}, tt.data)
			live, recovered := evtSplitRecovered(recs)
			if got, want := len(live), tt.wantLive; got != want {
				t.Errorf("live records = %d, want %d", got, want)
			}
			if got, want := len(recovered), tt.wantRecov; got != want {
				t.Errorf("recovered records = %d, want %d", got, want)
			}
			if len(errs) != len(tt.wantErrs) {
				t.Fatalf("errors = %v, want at offsets %#x", errs, tt.wantErrs)
			}
			for i, pe := range errs {
				if pe.Offset != tt.wantErrs[i] || pe.Line != 0 {
					t.Errorf("error %d = %v (offset %#x), want offset %#x", i, pe, pe.Offset, tt.wantErrs[i])
				}
			}
			if tt.wantTrunc && !errors.Is(errs[0], ErrTruncated) {
				t.Errorf("error %v does not wrap ErrTruncated", errs[0])
			}
			for _, r := range recs {
				want := byOffset[r.Offset]
				if want == nil || want.RecordID != r.Event.RecordID || want.Binary != r.Event.Binary ||
					len(want.Data) != len(r.Event.Data) {
					t.Fatalf("record at %#x = %+v, differs from the undamaged file's %+v", r.Offset, r.Event, want)
				}
			}
		})
	}
}

// TestEVTDamagedWrapped damages the wrapped System log: its header, and a
// cut that loses the end-of-file record and the tail of the ring.
func TestEVTDamagedWrapped(t *testing.T) {
	data := evtReadFile(t, evtCorpusFile(t, "evtx/evt/plaso_WinXP_SysEvent.Evt"))
	zeroed := append([]byte(nil), data...)
	clear(zeroed[:evtHeaderSize])
	recs, errs := evtParseAll(t, evt{}, zeroed)
	live, recovered := evtSplitRecovered(recs)
	if len(live) != 6063 || len(recovered) != 437 || len(errs) != 2 || errs[0].Offset != 0 {
		t.Errorf("header zeroed: %d live, %d recovered, errors %v; want 6063, 437 and the header and leftover errors",
			len(live), len(recovered), errs)
	}

	// Cut at 1 MiB: the end-of-file record (0x1b9674) and the oldest
	// records are gone, the header's offsets point past the end, so
	// everything that remains is carved.
	cut := data[:1<<20]
	recs, errs = evtParseAll(t, evt{}, cut)
	want := 0
	full, _ := evtParseAll(t, evt{}, data)
	for _, r := range full {
		if r.Offset >= evtHeaderSize && r.Offset+evtRecordLen(data, r.Offset) <= 1<<20 {
			want++
		}
	}
	if len(recs) != want {
		t.Errorf("cut at 1 MiB: %d records, want the %d that lie wholly before the cut", len(recs), want)
	}
	for _, r := range recs {
		if !r.Event.Recovered {
			t.Fatalf("cut at 1 MiB: record at %#x not marked recovered though the live region is unknown", r.Offset)
		}
	}
	if len(errs) == 0 || errs[0].Offset != 0 {
		t.Errorf("cut at 1 MiB: errors %v, want first the unknown live region at offset 0", errs)
	}
}

func TestEVTBadInput(t *testing.T) {
	text := evtReadFile(t, filepath.Join(evtTestdata, "SOURCES.md"))
	tests := []struct {
		name    string
		data    []byte
		wantErr error // the first error
		nErrs   int
	}{
		{name: "empty", data: nil, wantErr: ErrTruncated, nErrs: 1},
		{name: "short", data: []byte("0\x00\x00\x00LfLe"), wantErr: ErrTruncated, nErrs: 1},
		// Text: the header is damaged, nothing is an end-of-file
		// record or a record.
		{name: "text", data: text, nErrs: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := evtParseAll(t, evt{}, tt.data)
			if len(recs) != 0 {
				t.Errorf("got %d records, want none", len(recs))
			}
			if len(errs) != tt.nErrs {
				t.Fatalf("errors = %v, want %d", errs, tt.nErrs)
			}
			if tt.wantErr != nil && !errors.Is(errs[0], tt.wantErr) {
				t.Errorf("error %v, want %v", errs[0], tt.wantErr)
			}
		})
	}

	// Without random access the parser says so.
	var errs []error
	for _, err := range (evt{}).Parse(context.Background(), bufio.NewReader(bytes.NewReader(nil))) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrNeedReaderAt) {
		t.Errorf("plain reader: errors %v, want ErrNeedReaderAt", errs)
	}
}

func TestEVTStopsAndCancels(t *testing.T) {
	data := evtReadFile(t, filepath.Join(evtTestdata, "go-evt_WinXP_AppEvent.Evt"))
	n := 0
	for range (evt{}).Parse(context.Background(), bytes.NewReader(data)) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("consumed %d, want 3", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, err := range (evt{}).Parse(ctx, bytes.NewReader(data)) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("cancelled: %v, want one context.Canceled", errs)
	}
}

func TestEVTDetect(t *testing.T) {
	small := evtReadFile(t, filepath.Join(evtTestdata, "go-evt_WinXP_AppEvent.Evt"))
	damaged := append([]byte(nil), small...)
	clear(damaged[:evtHeaderSize])
	tests := []struct {
		name string
		head []byte
		want bool
	}{
		{"AppEvent", small, true},
		{"header_zeroed", damaged, true},
		{"evtx", []byte("ElfFile\x00\x00\x00\x00\x00\x00\x00\x00\x00"), false},
		{"text", []byte("  Proto  Local Address          Foreign Address        State\n"), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (evt{}).Sniff(tt.head); got != tt.want {
				t.Errorf("Sniff = %v, want %v", got, tt.want)
			}
			p, enc, err := Detect(tt.head[:min(len(tt.head), rawHeadLen)])
			if tt.want && (err != nil || p.Format() != FormatEVT || enc != EncBinary) {
				t.Errorf("Detect = %v, %v, %v; want evt, binary", p, enc, err)
			}
			if !tt.want && err == nil && p.Format() == FormatEVT {
				t.Errorf("Detect claims %s as evt", tt.name)
			}
		})
	}
}

// TestEVTNotClaimingEVTX checks that no .evtx file of the corpus is taken
// for a legacy log or an XML export.
func TestEVTNotClaimingEVTX(t *testing.T) {
	dir := evtCorpusFile(t, "evtx")
	paths, err := filepath.Glob(filepath.Join(dir, "*", "*.evtx"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .evtx files in %s: %v", dir, err)
	}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, rawHeadLen)
		n, _ := f.ReadAt(head, 0)
		f.Close()
		if p, _, err := Detect(head[:n]); err == nil && (p.Format() == FormatEVT || p.Format() == FormatEVTXXML) {
			t.Errorf("%s detected as %s", filepath.Base(path), p.Format())
		}
	}
}

func FuzzEVT(f *testing.F) {
	for _, path := range goldenFiles(f, evtTestdata) {
		data := evtReadFile(f, path)
		f.Add(data)
		f.Add(data[:20000])
		f.Add(data[:0x800])
	}
	f.Add([]byte{})
	f.Add(append([]byte("0\x00\x00\x00LfLe"), make([]byte, 100)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip()
		}
		checkParseInvariants(t, evt{}, data)
	})
}
