package evtxwrite

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gevtx "github.com/0xrawsec/golang-evtx/evtx"
)

var update = flag.Bool("update", false, "rewrite ../../testdata/evtxwriter/sample.evtx")

// The providers of the test events (DOMAIN.md §1, §3, §4).
const (
	scmName  = "Service Control Manager"
	scmGUID  = "{555908d1-a6d7-4695-8e1e-26931d2012f4}"
	kgName   = "Microsoft-Windows-Kernel-General"
	kgGUID   = "{A68CA8B7-004F-D7B6-A698-07E2DE0F1F5D}"
	httpName = "Microsoft-Windows-HttpEvent"
	httpGUID = "{7b6bc78c-898b-4170-bbf8-1a469ea43fc5}"
	computer = "SRV-NPS01.corp.example"
)

// evtxT0 has 100 ns digits so that time precision shows.
var evtxT0 = time.Date(2025, 11, 25, 15, 23, 40, 123456700, time.UTC)

// evtxCase is an event to write and the System fields Event lacks; a nil
// sys writes it with Write and its defaults.
type evtxCase struct {
	ev  Event
	sys *System
}

// system is what the writer puts in the record.
func (c evtxCase) system() System {
	switch {
	case c.sys != nil:
		return *c.sys
	case c.ev.Qualifiers != 0:
		return System{Keywords: 0x0080000000000000}
	}
	return System{Keywords: 0x8000000000000000}
}

func (c evtxCase) write(w *Writer) error {
	if c.sys == nil {
		return w.Write(c.ev)
	}
	return w.WriteSystem(c.ev, *c.sys)
}

// scmSystem is what services.exe logs with (Keywords: Classic + 0x80…).
var scmSystem = &System{Keywords: 0x8080000000000000, ProcessID: 628, ThreadID: 2716}

func scmEvent(id, qualifiers uint16, level uint8, at time.Duration, p1, p2, key string) evtxCase {
	return evtxCase{Event{
		Channel: "System", Provider: scmName, ProviderGUID: scmGUID, EventSource: scmName,
		EventID: id, Qualifiers: qualifiers, Level: level, Time: evtxT0.Add(at), Computer: computer,
		Data:   []Field{{Name: "param1", Value: p1}, {Name: "param2", Value: p2}},
		Binary: UTF16Hex(key),
	}, scmSystem}
}

func eventLogEvent(id uint16, level uint8, at time.Duration, data []Field, bin string) evtxCase {
	return evtxCase{ev: Event{
		Channel: "System", Provider: "EventLog", EventID: id, Qualifiers: 32768, Level: level,
		Time: evtxT0.Add(at), Computer: computer, Data: data, Binary: bin,
	}}
}

// evtxSampleEvents is a boot with a port conflict: the notable shapes of
// events portmortem reads, in one chunk. Times step by 100 ns here and
// there to show the precision.
func evtxSampleEvents() []evtxCase {
	apache := func(at time.Duration, line string) evtxCase {
		return evtxCase{ev: Event{
			Channel: "Application", Provider: "Apache Service", EventID: 3299, Qualifiers: 49152, Level: 2,
			Time: evtxT0.Add(at), Computer: computer,
			Data: []Field{{Value: "The Apache service named"}, {Value: "Apache2.4"},
				{Value: "reported the following error:\r\n>>>"}, {Value: line},
				{}, {}, {}, {}, {}},
		}}
	}
	return []evtxCase{
		eventLogEvent(6008, 2, 0, []Field{{Value: "10:23:28 AM"}, {Value: "\u200e11/\u200e25/\u200e2025"}, {}, {}, {Value: "2"}},
			// SYSTEMTIME local (10:23:28.357) then UTC (15:23:28.357).
			"E9070B00020019000A0017001C006501E9070B00020019000F0017001C006501"),
		eventLogEvent(6009, 4, 100, []Field{{Value: "10.00."}, {Value: "17763"}, {}, {Value: "Multiprocessor Free"}, {Value: "0"}}, ""),
		eventLogEvent(6005, 4, 200, []Field{{}}, "E9070B00020019000F0018000300F401E9070B00020019000F0018000300F401"),
		{Event{
			Channel: "System", Provider: kgName, ProviderGUID: kgGUID, EventID: 12, Level: 4,
			Time: evtxT0.Add(-30*time.Second + 700), Computer: computer,
			Data: []Field{{Name: "MajorVersion", Value: "10"}, {Name: "MinorVersion", Value: "0"},
				{Name: "BuildVersion", Value: "17763"}, {Name: "QfeVersion", Value: "4974"},
				{Name: "ServiceVersion", Value: "0"}, {Name: "BootMode", Value: "0"},
				{Name: "StartTime", Value: "2025-11-25T15:23:09.500000000Z"}},
		}, &System{Version: 1, Task: 1, Keywords: 0x8000000000000080, ProcessID: 4, ThreadID: 8}},
		{Event{ // empty EventData, as Windows writes it for this event
			Channel: "System", Provider: "Microsoft-Windows-Dhcp-Client", ProviderGUID: "15a7a4f8-0072-4eab-abad-f98a4d666aed",
			EventID: 50036, Level: 4, Time: evtxT0.Add(2*time.Second + 300), Computer: computer,
		}, &System{Task: 4, Opcode: 68, Keywords: 0x2000000000000000, ProcessID: 1848, ThreadID: 1996}},
		scmEvent(7036, 16384, 4, 3*time.Second, "Windows Event Log", "running", "EventLog/4"),
		{Event{
			Channel: "System", Provider: httpName, ProviderGUID: httpGUID, EventSource: "HTTP",
			EventID: 15005, Qualifiers: 49152, Level: 2, Time: evtxT0.Add(4*time.Second + 100), Computer: computer,
			Data: []Field{{Name: "DeviceObject", Value: `\Device\Http\ReqQueue`}, {Name: "Address", Value: "0.0.0.0:80"}},
			// IO_ERROR_LOG_PACKET, status STATUS_ADDRESS_ALREADY_EXISTS in the last DWORD.
			Binary: "0000040002003000000000009D3A00C000000000000000000000000000000000000000000000000000000000000000000A0200C0",
		}, &System{Keywords: 0x0080000000000000, ProcessID: 4, ThreadID: 64}},
		scmEvent(7023, 49152, 2, 5*time.Second, "Network Policy Server", "%%10048", "IAS"),
		scmEvent(7000, 49152, 2, 6*time.Second, "Netzwerkrichtlinienserver für Größenprüfung", "%%1053", "IAS"),
		scmEvent(7000, 49152, 2, 7*time.Second, "网络策略服务器", "%%10013", "IAS"),
		scmEvent(7024, 49152, 2, 8*time.Second+300, "Apache2.4", "%%1", "Apache2.4"),
		apache(8*time.Second+100, "(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : AH00072: make_sock: could not bind to address 0.0.0.0:80"),
		apache(8*time.Second+200, "AH00451: no listening sockets available, shutting down"),
		scmEvent(7036, 16384, 4, 9*time.Second, "Dienst „Druckwarteschlange“ 🖨", "beendet", "Spooler/1"),
		eventLogEvent(6006, 4, 10*time.Second, []Field{{}}, ""),
	}
}

// evtxManyEvents is the sample followed by 7036 events enough to fill
// several chunks, the first of them with an explicit record id after a gap.
func evtxManyEvents() []evtxCase {
	evs := evtxSampleEvents()
	states := []string{"running", "stopped"}
	for i := range 400 {
		c := scmEvent(7036, 16384, 4, 11*time.Second+time.Duration(i)*1234567*100,
			fmt.Sprintf("Service %03d", i%37), states[i%2], fmt.Sprintf("Svc%03d/%d", i%37, 1+3*(i%2)))
		if i%50 == 0 {
			c.ev.Data = append(c.ev.Data, Field{Name: "param3", Value: "extra"}) // a second shape per chunk
		}
		if i == 0 {
			c.ev.RecordID = 1000
		}
		evs = append(evs, c)
	}
	return evs
}

// wantIDs numbers events as the writer does.
func wantIDs(cases []evtxCase) []evtxCase {
	out := make([]evtxCase, len(cases))
	var last uint64
	for i, c := range cases {
		if c.ev.RecordID == 0 {
			c.ev.RecordID = last + 1
		}
		last = c.ev.RecordID
		out[i] = c
	}
	return out
}

func writeEVTXFile(t testing.TB, path string, cases []evtxCase) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := New(f)
	for i, c := range cases {
		if err := c.write(w); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// needTool skips the test when an external reader is missing, unless CI
// or PORTMORTEM_LONG=1 is set: those must run them.
func needTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil && len(args) > 0 {
		err = exec.Command(path, args...).Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("PORTMORTEM_LONG") == "1" {
			t.Fatalf("%s not usable (CI or PORTMORTEM_LONG=1): %v", name, err)
		}
		t.Skipf("%s not usable: %v", name, err)
	}
	return path
}

// readEvent is what a reader showed of one record.
type readEvent struct {
	RecordID   uint64
	EventID    uint16
	Qualifiers uint16
	Level      uint8
	Time       time.Time
	Provider   string
	GUID       string // upper case, with braces
	Source     string
	Channel    string
	Computer   string
	Data       []Field
	Binary     string // upper-case hex
	Sys        System
}

// readerView says what a reader shows and how exactly.
type readerView struct {
	timeTol   time.Duration
	noChannel bool // and no GUID, EventSourceName, Qualifiers, Data names
	crlfAsLF  bool // XML readers normalise CR LF in text
	// libevtx 20181227 decodes UTF-16 surrogate pairs to wrong characters
	// (U+1F5A8 comes out as U+1F1A9): compare them as U+FFFD.
	badSurrogates bool
}

func maskNonBMP(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0xFFFF {
			return '\uFFFD'
		}
		return r
	}, s)
}

func compareRead(t *testing.T, reader string, got []readEvent, want []evtxCase, v readerView) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", reader, len(got), len(want))
	}
	for i, c := range want {
		g, w := got[i], c.ev
		exp := readEvent{
			RecordID: w.RecordID, EventID: w.EventID, Qualifiers: w.Qualifiers, Level: w.Level,
			Time: g.Time, Provider: w.Provider, GUID: normGUID(w.ProviderGUID), Source: w.EventSource,
			Channel: w.Channel, Computer: w.Computer, Binary: strings.ToUpper(w.Binary), Sys: c.system(),
		}
		for _, f := range w.Data {
			if v.crlfAsLF {
				f.Value = strings.ReplaceAll(f.Value, "\r\n", "\n")
			}
			if v.noChannel {
				f.Name = ""
			}
			if v.badSurrogates {
				f.Value = maskNonBMP(f.Value)
			}
			exp.Data = append(exp.Data, f)
		}
		if v.badSurrogates {
			for j := range g.Data {
				g.Data[j].Value = maskNonBMP(g.Data[j].Value)
			}
		}
		if v.noChannel {
			// The text mode shows EventSourceName as the source when set.
			if exp.Source != "" {
				exp.Provider = exp.Source
			}
			exp.Channel, exp.GUID, exp.Source, exp.Qualifiers = "", "", "", 0
			exp.Sys = System{}
		}
		if d := g.Time.Sub(w.Time).Abs(); d > v.timeTol {
			t.Errorf("%s: record %d: time %s, want %s (off by %s)", reader, i, g.Time.Format(time.RFC3339Nano), w.Time.Format(time.RFC3339Nano), d)
		}
		gj, _ := json.Marshal(g)
		ej, _ := json.Marshal(exp)
		if string(gj) != string(ej) {
			t.Errorf("%s: record %d:\n got %s\nwant %s", reader, i, gj, ej)
		}
	}
}

func normGUID(s string) string {
	if s == "" {
		return ""
	}
	return "{" + strings.ToUpper(strings.Trim(s, "{}")) + "}"
}

func TestWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "many.evtx")
	evs := evtxManyEvents()
	writeEVTXFile(t, path, evs)
	want := wantIDs(evs)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("layout", func(t *testing.T) {
		st := checkEVTXLayout(t, data)
		if st.chunks < 3 {
			t.Errorf("%d chunks, want at least 3", st.chunks)
		}
		if st.records != len(want) {
			t.Errorf("%d records, want %d", st.records, len(want))
		}
		if st.inline < st.chunks || st.referenced < len(want)/2 {
			t.Errorf("%d inline templates and %d references in %d chunks", st.inline, st.referenced, st.chunks)
		}
		t.Logf("%d bytes, %d chunks, %d records, %d inline templates, %d references", len(data), st.chunks, st.records, st.inline, st.referenced)
	})
	t.Run("golang_evtx", func(t *testing.T) {
		got := readGolangEVTX(t, path)
		if len(got) != len(want) {
			t.Fatalf("%d records, want %d", len(got), len(want))
		}
		for i, c := range want {
			g, w := got[i], c.ev
			if g.Provider != w.Provider || g.EventID != w.EventID || g.RecordID != w.RecordID ||
				!g.Time.Equal(w.Time) || g.Channel != w.Channel || g.Computer != w.Computer ||
				g.Level != w.Level || g.Qualifiers != w.Qualifiers || g.Source != w.EventSource ||
				g.GUID != normGUID(w.ProviderGUID) || g.Sys != c.system() {
				t.Errorf("record %d:\n got %+v\nwant %+v %+v", i, g, w, c.system())
			}
			if gd, wd := fmt.Sprint(g.dataMap), fmt.Sprint(goEvtxData(w)); gd != wd {
				t.Errorf("record %d: data\n got %s\nwant %s", i, gd, wd)
			}
		}
	})
	t.Run("evtxexport_text", func(t *testing.T) {
		exe := needTool(t, "evtxexport", "-V")
		out, err := exec.Command(exe, path).Output()
		if err != nil {
			t.Fatalf("evtxexport: %v\n%s", err, out)
		}
		// The text mode prints the Binary as the last string.
		exp := make([]evtxCase, len(want))
		for i, c := range want {
			if c.ev.Binary != "" {
				c.ev.Data = append(append([]Field(nil), c.ev.Data...), Field{Value: strings.ToUpper(c.ev.Binary)})
				c.ev.Binary = ""
			}
			exp[i] = c
		}
		compareRead(t, "evtxexport", parseEvtxexportText(t, out), exp, readerView{noChannel: true, badSurrogates: true})
	})
	t.Run("evtxexport_xml", func(t *testing.T) {
		exe := needTool(t, "evtxexport", "-V")
		out, err := exec.Command(exe, "-f", "xml", path).Output()
		if err != nil {
			t.Fatalf("evtxexport: %v\n%s", err, out)
		}
		compareRead(t, "evtxexport -f xml", parseEventXML(t, out, time.RFC3339Nano, hexUpper), want, readerView{crlfAsLF: true, badSurrogates: true})
	})
	t.Run("python_evtx", func(t *testing.T) {
		// Before rendering anything, python-evtx knows a chunk's names and
		// templates only from its string and template tables.
		tables := pythonEVTX(t, pythonTables, path)
		var templates int
		for i, line := range strings.Fields(string(tables)) {
			// Every chunk has an SCM record, which uses all 27 names.
			names, tpls, _ := strings.Cut(line, "/")
			if names != "27" {
				t.Errorf("chunk %d: python-evtx found %s names in the string table, want 27", i, names)
			}
			n, _ := strconv.Atoi(tpls)
			templates += n
		}
		if st := checkEVTXLayout(t, data); templates != st.inline {
			t.Errorf("python-evtx found %d templates in the tables, want %d", templates, st.inline)
		}
		got := readPythonEVTX(t, path)
		// python-evtx turns the FILETIME into a float of seconds, then
		// into microseconds: it is off by up to about 2 µs.
		compareRead(t, "python-evtx", got, want, readerView{timeTol: 4 * time.Microsecond, crlfAsLF: true})
	})
	t.Run("evtxinfo", func(t *testing.T) {
		checkEvtxinfo(t, path, len(want))
	})
}

// TestWriterSample regenerates testdata/evtxwriter/sample.evtx: the
// writer's output must not change without a reason (go test -update).
func TestWriterSample(t *testing.T) {
	golden := filepath.Join("..", "..", "testdata", "evtxwriter", "sample.evtx")
	path := filepath.Join(t.TempDir(), "sample.evtx")
	writeEVTXFile(t, path, evtxSampleEvents())
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st := checkEVTXLayout(t, got)
	if st.chunks != 1 || st.records != len(evtxSampleEvents()) || st.referenced == 0 {
		t.Errorf("%d chunks, %d records", st.chunks, st.records)
	}
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./parsers/evtxwrite -run TestWriterSample -update)", err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("output differs from %s at byte 0x%x (sizes %d, %d)", golden, i, len(got), len(want))
	}
}

func TestWriterEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.evtx")
	writeEVTXFile(t, path, nil)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st := checkEVTXLayout(t, data)
	if st.chunks != 1 || st.records != 0 {
		t.Errorf("%d chunks, %d records; want one empty chunk", st.chunks, st.records)
	}
	if got := readGolangEVTX(t, path); len(got) != 0 {
		t.Errorf("golang-evtx read %d records", len(got))
	}
	checkEvtxinfo(t, path, 0)
}

func TestWriterErrors(t *testing.T) {
	ok := scmEvent(7036, 16384, 4, 0, "Print Spooler", "running", "Spooler/4").ev
	long := strings.Repeat("x", 0x8000) // 64 KiB of UTF-16
	tests := []struct {
		name    string
		ev      Event
		wantErr error // nil: any error
	}{
		{"zero_time", Event{Provider: "p", EventID: 1}, nil},
		{"record_id_not_increasing", func() Event { e := ok; e.RecordID = 1; return e }(), nil},
		{"bad_guid", func() Event { e := ok; e.ProviderGUID = "{555908d1-a6d7}"; return e }(), nil},
		{"bad_binary", func() Event { e := ok; e.Binary = "4G00"; return e }(), nil},
		{"odd_binary", func() Event { e := ok; e.Binary = "410"; return e }(), nil},
		{"value_over_64KiB", func() Event { e := ok; e.Data = []Field{{Name: "param1", Value: long}}; return e }(), ErrEventTooLarge},
		{"record_over_chunk", func() Event {
			e := ok
			e.Data = []Field{{Name: "a", Value: long[:0x7000]}, {Name: "b", Value: long[:0x7000]}}
			return e
		}(), ErrEventTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "e.evtx")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w := New(f)
			if err := w.Write(ok); err != nil {
				t.Fatal(err)
			}
			err = w.Write(tt.ev)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Write: error %v, want %v", err, tt.wantErr)
			}
			// The writer goes on after a rejected event.
			next := ok
			next.Time = next.Time.Add(time.Second)
			if err := w.Write(next); err != nil {
				t.Fatalf("Write after the error: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(next); err == nil {
				t.Error("Write after Close: no error")
			}
			got := readGolangEVTX(t, path)
			if len(got) != 2 || got[0].RecordID != 1 || got[1].RecordID != 2 {
				t.Errorf("read back %+v, want records 1 and 2", got)
			}
		})
	}
}

// failingSeeker fails every write after the first n bytes.
type failingSeeker struct {
	n, off int64
}

var errDiskFull = errors.New("disk full")

func (f *failingSeeker) Write(p []byte) (int, error) {
	if f.off+int64(len(p)) > f.n {
		return 0, errDiskFull
	}
	f.off += int64(len(p))
	return len(p), nil
}

func (f *failingSeeker) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart {
		f.off = off
	}
	return f.off, nil
}

func TestWriterIOError(t *testing.T) {
	w := New(&failingSeeker{n: FileHeaderSize})
	ev := scmEvent(7036, 16384, 4, 0, "Print Spooler", "running", "Spooler/4").ev
	var err error
	for i := 0; err == nil && i < 1000; i++ {
		err = w.Write(ev)
	}
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Write: %v, want %v", err, errDiskFull)
	}
	if err := w.Write(ev); !errors.Is(err, errDiskFull) {
		t.Errorf("Write after the failure: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("Close after the failure: %v", err)
	}
}

func TestWriterLogFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := New(f)
	w.maxChunks = 2
	ev := scmEvent(7036, 16384, 4, 0, "Print Spooler", "running", "Spooler/4").ev
	n := 0
	for ; n < 10000; n++ {
		if err = w.Write(ev); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrLogFull) {
		t.Fatalf("Write %d: %v, want ErrLogFull", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := checkEVTXLayout(t, data); st.chunks != 2 || st.records != n {
		t.Errorf("%d chunks, %d records; want 2, %d", st.chunks, st.records, n)
	}
}

// countingSeeker discards what is written.
type countingSeeker struct{ off, size int64 }

func (c *countingSeeker) Write(p []byte) (int, error) {
	c.off += int64(len(p))
	c.size = max(c.size, c.off)
	return len(p), nil
}

func (c *countingSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		c.off = off
	case io.SeekEnd:
		c.off = c.size + off
	default:
		c.off += off
	}
	return c.off, nil
}

// TestWriterStreams checks that writing does not allocate per record
// once running: memory stays at one chunk whatever the size of the log.
func TestWriterStreams(t *testing.T) {
	out := &countingSeeker{}
	w := New(out)
	evs := evtxManyEvents()
	i := 0
	write := func() {
		c := evs[i%len(evs)]
		c.ev.RecordID, c.ev.Time = 0, evtxT0.Add(time.Duration(i)*time.Millisecond)
		i++
		if err := c.write(w); err != nil {
			t.Fatal(err)
		}
	}
	for range 2000 {
		write()
	}
	if allocs := testing.AllocsPerRun(5000, write); allocs >= 1 {
		t.Errorf("%.1f allocations per record", allocs)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.size != FileHeaderSize+int64(w.chunks)*ChunkSize || w.chunks < 20 {
		t.Errorf("%d bytes in %d chunks", out.size, w.chunks)
	}
}

func BenchmarkWrite(b *testing.B) {
	out := &countingSeeker{}
	w := New(out)
	evs := evtxManyEvents()
	i := 0
	for b.Loop() {
		c := evs[i%len(evs)]
		c.ev.RecordID, c.ev.Time = 0, evtxT0.Add(time.Duration(i)*time.Millisecond)
		i++
		if err := c.write(w); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(out.size)/float64(i), "B/record")
	b.SetBytes(out.size / int64(max(i, 1)))
}

// layoutStats counts what checkEVTXLayout saw.
type layoutStats struct {
	chunks, records, inline, referenced int
}

// checkEVTXLayout checks the file structure independently of any reader:
// header and chunk fields and CRCs, records with size copies, chunks
// filled before a new one starts, templates defined before use.
func checkEVTXLayout(t *testing.T, data []byte) layoutStats {
	t.Helper()
	le := binary.LittleEndian
	var st layoutStats
	if len(data) < FileHeaderSize || string(data[:8]) != "ElfFile\x00" {
		t.Fatal("no file header")
	}
	h := data[:FileHeaderSize]
	if got, want := le.Uint32(h[124:]), crc32.ChecksumIEEE(h[:120]); got != want {
		t.Errorf("file header CRC %08x, want %08x", got, want)
	}
	if f := le.Uint32(h[120:]); f != 0 {
		t.Errorf("file flags %x, want 0", f)
	}
	st.chunks = int(le.Uint16(h[42:]))
	if got, want := len(data), FileHeaderSize+st.chunks*ChunkSize; got != want {
		t.Fatalf("file size %d, want %d for %d chunks", got, want, st.chunks)
	}
	if got := le.Uint64(h[16:]); st.chunks > 0 && got != uint64(st.chunks-1) {
		t.Errorf("last chunk number %d, want %d", got, st.chunks-1)
	}
	var lastID uint64
	prevFree := -1
	for ci := range st.chunks {
		c := data[FileHeaderSize+ci*ChunkSize:][:ChunkSize]
		if string(c[:8]) != "ElfChnk\x00" {
			t.Fatalf("chunk %d: no magic", ci)
		}
		sum := crc32.Update(crc32.ChecksumIEEE(c[:120]), crc32.IEEETable, c[128:512])
		if got := le.Uint32(c[124:]); got != sum {
			t.Errorf("chunk %d: header CRC %08x, want %08x", ci, got, sum)
		}
		free := int(le.Uint32(c[48:]))
		if free < 512 || free > ChunkSize {
			t.Fatalf("chunk %d: free space offset %d", ci, free)
		}
		if got, want := le.Uint32(c[52:]), crc32.ChecksumIEEE(c[512:free]); got != want {
			t.Errorf("chunk %d: records CRC %08x, want %08x", ci, got, want)
		}
		if !bytes.Equal(c[free:], make([]byte, ChunkSize-free)) {
			t.Errorf("chunk %d: free space not zero", ci)
		}
		first, last := le.Uint64(c[24:]), le.Uint64(c[32:])
		if le.Uint64(c[8:]) != first || le.Uint64(c[16:]) != last {
			t.Errorf("chunk %d: record numbers differ from record ids", ci)
		}
		var lastOff uint32
		n := 0
		for off := 512; off < free; {
			r := c[off:]
			size := int(le.Uint32(r[4:]))
			if string(r[:4]) != "**\x00\x00" || size%8 != 0 || size < 32 || off+size > free ||
				int(le.Uint32(r[size-4:])) != size {
				t.Fatalf("chunk %d: bad record at 0x%x", ci, off)
			}
			id := le.Uint64(r[8:])
			if ci > 0 && n == 0 && id == lastID+1 && prevFree+size <= ChunkSize {
				t.Errorf("chunk %d: first record (%d bytes) fitted in the previous chunk", ci, size)
			}
			// Ids go up, and by one inside a chunk (libevtx wants that).
			if id <= lastID || (n == 0 && id != first) || (n > 0 && id != lastID+1) {
				t.Errorf("chunk %d: record id %d after %d", ci, id, lastID)
			}
			lastID = id
			// fragment header, then the template instance
			if r[24] != bxFragment || r[28] != bxTemplate {
				t.Fatalf("chunk %d: record %d is not a template instance", ci, id)
			}
			def := le.Uint32(r[34:])
			switch pos := uint32(off + 38); {
			case def == pos:
				st.inline++
				if !inTemplateTable(c, def) {
					t.Errorf("chunk %d: template at 0x%x not in the template table", ci, def)
				}
			case def < uint32(off) && def >= 512:
				st.referenced++
			default:
				t.Errorf("chunk %d: record %d refers to a template at 0x%x", ci, id, def)
			}
			lastOff = uint32(off)
			off += size
			n++
		}
		if n > 0 && (le.Uint32(c[44:]) != lastOff || lastID != last) {
			t.Errorf("chunk %d: last record at 0x%x id %d, header says 0x%x id %d", ci, lastOff, lastID, le.Uint32(c[44:]), last)
		}
		st.records += n
		prevFree = free
	}
	if got := le.Uint64(h[24:]); got != lastID+1 {
		t.Errorf("next record id %d, want %d", got, lastID+1)
	}
	return st
}

func inTemplateTable(c []byte, off uint32) bool {
	le := binary.LittleEndian
	for b := range templateBuckets {
		for o := le.Uint32(c[384+4*b:]); o != 0; o = le.Uint32(c[o:]) {
			if o == off {
				return true
			}
		}
	}
	return false
}

// goEvtxRead is a readEvent with golang-evtx's view of EventData: a map
// in which unnamed Data are "Data", then "Data<index>".
type goEvtxRead struct {
	readEvent
	dataMap map[string]string
}

func goEvtxData(ev Event) map[string]string {
	m := map[string]string{}
	for i, f := range ev.Data {
		name := f.Name
		if name == "" {
			name = "Data"
			if _, dup := m[name]; dup {
				name = "Data" + strconv.Itoa(i)
			}
		}
		m[name] = f.Value
	}
	if ev.Binary != "" {
		m["Binary"] = strings.ToUpper(ev.Binary)
	}
	return m
}

// systemElements are the children of <System> the writer writes.
var systemElements = map[string]bool{
	"Provider": true, "EventID": true, "Version": true, "Level": true, "Task": true, "Opcode": true,
	"Keywords": true, "TimeCreated": true, "EventRecordID": true, "Correlation": true,
	"Execution": true, "Channel": true, "Computer": true, "Security": true,
}

// readGolangEVTX reads path chunk by chunk with golang-evtx, without its
// goroutine APIs (they panic on bad input), turning panics into failures.
func readGolangEVTX(t *testing.T, path string) []goEvtxRead {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("golang-evtx panicked: %v", r)
		}
	}()
	ef, err := gevtx.New(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := ef.Header.Verify(); err != nil {
		t.Fatal(err)
	}
	var out []goEvtxRead
	for i := range int64(ef.Header.ChunkCount) {
		c, err := ef.FetchChunk(int64(ef.Header.ChunkDataOffset) + i*gevtx.ChunkSize)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		for _, off := range c.EventOffsets {
			if off > c.Header.OffsetLastRec { // the offset after the last record
				continue
			}
			m, err := c.ParseEvent(int64(off)).GoEvtxMap(&c)
			if err != nil {
				t.Fatalf("chunk %d record at 0x%x: %v", i, off, err)
			}
			out = append(out, fromGoEvtx(t, *m))
		}
	}
	return out
}

func fromGoEvtx(t *testing.T, m gevtx.GoEvtxMap) goEvtxRead {
	t.Helper()
	str := func(v any) string { s, _ := v.(string); return s }
	num := func(v any) uint64 {
		n, err := strconv.ParseUint(str(v), 10, 64)
		if err != nil {
			t.Errorf("golang-evtx: number %v: %v", v, err)
		}
		return n
	}
	ev, _ := m["Event"].(gevtx.GoEvtxMap)
	sys, _ := ev["System"].(gevtx.GoEvtxMap)
	var r goEvtxRead
	switch p := sys["Provider"].(type) {
	case gevtx.GoEvtxMap:
		r.Provider, r.Source = str(p["Name"]), str(p["EventSourceName"])
		if g := str(p["Guid"]); g != "" {
			r.GUID = "{" + g + "}"
		}
	default:
		// <Provider Name="X"/> alone comes out as System["X"] = "".
		for k, v := range sys {
			if !systemElements[k] && v == "" {
				r.Provider = k
			}
		}
	}
	switch id := sys["EventID"].(type) {
	case gevtx.GoEvtxMap:
		r.EventID, r.Qualifiers = uint16(num(id["Value"])), uint16(num(id["Qualifiers"]))
	default:
		r.EventID = uint16(num(id))
	}
	r.Level = uint8(num(sys["Level"]))
	r.Sys.Version = uint8(num(sys["Version"]))
	r.Sys.Task = uint16(num(sys["Task"]))
	r.Sys.Opcode = uint8(num(sys["Opcode"]))
	r.Sys.Keywords = parseHexT(t, str(sys["Keywords"]))
	if x, ok := sys["Execution"].(gevtx.GoEvtxMap); ok {
		r.Sys.ProcessID, r.Sys.ThreadID = uint32(num(x["ProcessID"])), uint32(num(x["ThreadID"]))
	}
	r.RecordID = num(sys["EventRecordID"])
	r.Channel, r.Computer = str(sys["Channel"]), str(sys["Computer"])
	if tc, ok := sys["TimeCreated"].(gevtx.GoEvtxMap); ok {
		if ut, ok := tc["SystemTime"].(gevtx.UTCTime); ok {
			r.Time = time.Time(ut)
		}
	}
	r.dataMap = map[string]string{}
	data, _ := ev["EventData"].(gevtx.GoEvtxMap)
	for k, v := range data {
		r.dataMap[k] = str(v)
	}
	return r
}

// parseEvtxexportText reads evtxexport's default output: blocks of
// "Key<tabs>: value" lines; a string value may go on over more lines.
func parseEvtxexportText(t *testing.T, out []byte) []readEvent {
	t.Helper()
	var evs []readEvent
	var cur *readEvent
	var lastString *Field
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		key, val, found := strings.Cut(line, ":")
		key = strings.TrimSpace(key)
		val = strings.TrimPrefix(strings.TrimLeft(val, "\t"), " ")
		if strings.HasPrefix(line, "String: ") {
			// "String: 1<tabs>: value"
			_, val, _ := strings.Cut(line[len("String: "):], ":")
			cur.Data = append(cur.Data, Field{Value: strings.TrimPrefix(val, " ")})
			lastString = &cur.Data[len(cur.Data)-1]
			continue
		}
		if found && key == "Event number" {
			evs = append(evs, readEvent{})
			cur, lastString = &evs[len(evs)-1], nil
			cur.RecordID = parseUintT(t, val)
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case found && key == "Written time":
			tm, err := time.Parse("Jan 02, 2006 15:04:05.000000000 UTC", val)
			if err != nil {
				t.Errorf("evtxexport: %v", err)
			}
			cur.Time = tm
		case found && key == "Event level":
			cur.Level = uint8(parseUintT(t, inParens(val)))
		case found && key == "Computer name":
			cur.Computer = val
		case found && key == "Source name":
			cur.Provider = val
		case found && key == "Event identifier":
			cur.EventID = uint16(parseUintT(t, inParens(val)))
		case found && key == "Number of strings":
		case line == "":
			lastString = nil
		case lastString != nil:
			lastString.Value += "\n" + line
		}
	}
	// A string ending in CR LF: the scanner dropped the CR of each line.
	for i := range evs {
		for j := range evs[i].Data {
			evs[i].Data[j].Value = strings.ReplaceAll(evs[i].Data[j].Value, "\n", "\r\n")
		}
	}
	return evs
}

func parseHexT(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Errorf("hex number %q: %v", s, err)
	}
	return n
}

func inParens(s string) string {
	_, rest, _ := strings.Cut(s, "(")
	v, _, _ := strings.Cut(rest, ")")
	return v
}

func parseUintT(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Errorf("number %q: %v", s, err)
	}
	return n
}

// xmlEvent is the part of an event's XML the tests compare.
type xmlEvent struct {
	System struct {
		Provider struct {
			Name            string `xml:"Name,attr"`
			GUID            string `xml:"Guid,attr"`
			EventSourceName string `xml:"EventSourceName,attr"`
		}
		EventID struct {
			Qualifiers string `xml:"Qualifiers,attr"`
			Value      string `xml:",chardata"`
		}
		Version     string
		Level       string
		Task        string
		Opcode      string
		Keywords    string
		TimeCreated struct {
			SystemTime string `xml:"SystemTime,attr"`
		}
		EventRecordID string
		Execution     struct {
			ProcessID string `xml:"ProcessID,attr"`
			ThreadID  string `xml:"ThreadID,attr"`
		}
		Channel  string
		Computer string
	}
	EventData struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		}
		Binary string
	}
}

// Binary encodings of the XML readers.
func hexUpper(s string) (string, error) { return s, nil }

func base64Hex(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return strings.ToUpper(hex.EncodeToString(b)), err
}

// parseEventXML reads a sequence of <Event> documents.
func parseEventXML(t *testing.T, out []byte, timeLayout string, bin func(string) (string, error)) []readEvent {
	t.Helper()
	var evs []readEvent
	dec := xml.NewDecoder(bytes.NewReader(out))
	for {
		var x xmlEvent
		err := dec.Decode(&x)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("xml: %v", err)
		}
		evs = append(evs, fromXML(t, &x, timeLayout, bin))
	}
	return evs
}

func fromXML(t *testing.T, x *xmlEvent, timeLayout string, bin func(string) (string, error)) readEvent {
	t.Helper()
	s := &x.System
	r := readEvent{
		RecordID: parseUintT(t, s.EventRecordID),
		EventID:  uint16(parseUintT(t, s.EventID.Value)),
		Level:    uint8(parseUintT(t, s.Level)),
		Provider: s.Provider.Name, GUID: normGUID(s.Provider.GUID), Source: s.Provider.EventSourceName,
		Channel: s.Channel, Computer: s.Computer,
	}
	r.Sys = System{
		Version: uint8(parseUintT(t, s.Version)), Task: uint16(parseUintT(t, s.Task)),
		Opcode: uint8(parseUintT(t, s.Opcode)), Keywords: parseHexT(t, s.Keywords),
		ProcessID: uint32(parseUintT(t, s.Execution.ProcessID)), ThreadID: uint32(parseUintT(t, s.Execution.ThreadID)),
	}
	if s.EventID.Qualifiers != "" {
		r.Qualifiers = uint16(parseUintT(t, s.EventID.Qualifiers))
	}
	tm, err := time.Parse(timeLayout, s.TimeCreated.SystemTime)
	if err != nil {
		t.Errorf("time: %v", err)
	}
	r.Time = tm
	for _, d := range x.EventData.Data {
		r.Data = append(r.Data, Field{Name: d.Name, Value: d.Value})
	}
	if r.Binary, err = bin(x.EventData.Binary); err != nil {
		t.Errorf("binary %q: %v", x.EventData.Binary, err)
	}
	return r
}

// pythonDump prints each record's XML as rendered by python-evtx
// (Debian's python3-evtx), one JSON string a line.
const pythonDump = `
import sys, json
import Evtx.Evtx as evtx
with evtx.Evtx(sys.argv[1]) as log:
    for rec in log.records():
        print(json.dumps(rec.xml()))
`

// pythonTables prints, for each chunk, how many names and templates
// python-evtx loads from the chunk's tables: "names/templates".
const pythonTables = `
import sys
import Evtx.Evtx as evtx
with evtx.Evtx(sys.argv[1]) as log:
    for chunk in log.chunks():
        print("%d/%d" % (len(chunk.strings()), len(chunk.templates())))
`

// pythonEVTX runs a python-evtx script on path.
func pythonEVTX(t *testing.T, script, path string) []byte {
	t.Helper()
	py := "/usr/bin/python3" // Debian's python3-evtx lives there
	if _, err := os.Stat(py); err != nil {
		py = "python3"
	}
	py = needTool(t, py, "-c", "import Evtx.Evtx")
	cmd := exec.Command(py, "-c", script, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python-evtx: %v\n%s", err, stderr.Bytes())
	}
	return out
}

func readPythonEVTX(t *testing.T, path string) []readEvent {
	t.Helper()
	out := pythonEVTX(t, pythonDump, path)
	var evs []readEvent
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var doc string
		if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, parseEventXML(t, []byte(doc), "2006-01-02 15:04:05.999999", base64Hex)...)
	}
	return evs
}

func checkEvtxinfo(t *testing.T, path string, records int) {
	t.Helper()
	exe := needTool(t, "evtxinfo", "-V")
	out, err := exec.Command(exe, path).CombinedOutput()
	if err != nil {
		t.Fatalf("evtxinfo: %v\n%s", err, out)
	}
	s := string(out)
	for _, bad := range []string{"Is corrupted", "Is dirty"} {
		if strings.Contains(s, bad) {
			t.Errorf("evtxinfo says %q:\n%s", bad, s)
		}
	}
	for _, want := range []string{
		fmt.Sprintf("Number of records\t\t: %d\n", records),
		"Number of recovered records\t: 0\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("evtxinfo: want %q in\n%s", want, s)
		}
	}
}

func TestUTF16Hex(t *testing.T) {
	tests := []struct {
		input, want string
	}{
		{"", "0000"},
		{"IAS", "4900410053000000"},
		{"Größe", "47007200F600DF0065000000"},
		{"🖨", "3DD8A8DD0000"}, // U+1F5A8, a surrogate pair
	}
	for _, tt := range tests {
		if got := UTF16Hex(tt.input); got != tt.want {
			t.Errorf("UTF16Hex(%q) = %s, want %s", tt.input, got, tt.want)
		}
	}
}
