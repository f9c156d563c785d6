package parsers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const evtxmlTestdata = "../testdata/evtxml"

func TestEVTXXMLGolden(t *testing.T) {
	for _, path := range goldenFiles(t, evtxmlTestdata) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			checkGolden(t, renderJSONL(t, path), strings.TrimSuffix(path, filepath.Ext(path))+".golden.jsonl")
		})
	}
}

// evtxmlReadArtifact parses a file through Read, as the CLI does.
func evtxmlReadArtifact(t *testing.T, path string) ([]Record, []*ParseError, *Artifact) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, seq := Read(context.Background(), filepath.Base(path), f, "")
	var recs []Record
	var errs []*ParseError
	for rec, err := range seq {
		if err != nil {
			errs = append(errs, err.(*ParseError))
			continue
		}
		if rec.Kind == KindEvent {
			recs = append(recs, rec) // not the Meta naming the host
		}
	}
	return recs, errs, a
}

// TestEVTXXMLSameEvents checks that the python-evtx dump gives the same
// events with and without the <Events> root, and in UTF-16LE.
func TestEVTXXMLSameEvents(t *testing.T) {
	events := func(path string, keepLines bool) []Record {
		recs, errs, a := evtxmlReadArtifact(t, filepath.Join(evtxmlTestdata, path))
		if len(errs) != 0 || a.Format != FormatEVTXXML {
			t.Fatalf("%s: format %s, errors %v", path, a.Format, errs)
		}
		if !keepLines {
			for i := range recs {
				recs[i].Line = 0
			}
		}
		return recs
	}
	stream := events("python-evtx_system_30_stream.xml", true)
	if len(stream) != 30 {
		t.Fatalf("stream: %d events, want 30", len(stream))
	}
	if utf16 := events("python-evtx_system_30_stream_utf16le.xml", true); !reflect.DeepEqual(utf16, stream) {
		t.Errorf("UTF-16LE stream differs from the UTF-8 one")
	}
	wrapped, flat := events("python-evtx_system_30.xml", false), events("python-evtx_system_30_stream.xml", false)
	if !reflect.DeepEqual(wrapped, flat) {
		t.Errorf("<Events> document differs from the stream")
	}
}

// evtxmlEvtxexport runs libevtx's reference reader.
func evtxmlEvtxexport(t *testing.T, path string) map[uint64]evtRefEvent {
	t.Helper()
	tool := evtRefTool(t, "evtxexport")
	out, err := exec.Command(tool, path).Output()
	if err != nil {
		t.Fatalf("evtxexport %s: %v", path, err)
	}
	m := map[uint64]evtRefEvent{}
	for _, e := range evtParseLibyalExport(t, out, "Jan 02, 2006 15:04:05 UTC") {
		m[e.Number] = e
	}
	return m
}

// evtxmlCompareEvtxexport checks events parsed from python-evtx XML against
// evtxexport's: provider, event ID, record ID and time. python-evtx
// prints microseconds computed through a float (a 1.9 µs step at these
// dates), so times may differ by a few microseconds (2.6 µs at most over
// the whole corpus file).
func evtxmlCompareEvtxexport(t *testing.T, recs []Record, ref map[uint64]evtRefEvent) {
	t.Helper()
	for _, r := range recs {
		e := r.Event
		w, ok := ref[e.RecordID]
		if !ok {
			t.Fatalf("line %d: record %d not printed by evtxexport", r.Line, e.RecordID)
		}
		// libevtx prints the classic EventSourceName when there is one
		// (DCOM for Microsoft-Windows-DistributedCOM).
		src := e.Provider
		if e.EventSource != "" {
			src = e.EventSource
		}
		d := e.Time.Sub(w.Time)
		if src != w.Source || e.EventID != uint16(w.EventID) || d < -4*time.Microsecond || d > 4*time.Microsecond {
			t.Fatalf("line %d: record %d = %q %d %v, evtxexport has %q %d %v",
				r.Line, e.RecordID, src, e.EventID, e.Time, w.Source, uint16(w.EventID), w.Time)
		}
	}
}

// TestEVTXXMLMatchesEvtxexport checks the testdata dump (30 records of
// corpus/evtx/system/omerbenamram_system.evtx) against evtxexport on the
// same .evtx file.
func TestEVTXXMLMatchesEvtxexport(t *testing.T) {
	evtx := evtCorpusFile(t, "evtx/system/omerbenamram_system.evtx")
	ref := evtxmlEvtxexport(t, evtx)
	if len(ref) != 1881 {
		t.Fatalf("evtxexport printed %d records, want 1881", len(ref))
	}
	recs, errs, _ := evtxmlReadArtifact(t, filepath.Join(evtxmlTestdata, "python-evtx_system_30.xml"))
	if len(recs) != 30 || len(errs) != 0 {
		t.Fatalf("%d events, errors %v; want 30 and none", len(recs), errs)
	}
	evtxmlCompareEvtxexport(t, recs, ref)
}

// TestEVTXXMLWholeDump dumps the whole corpus file with python-evtx and
// streams the dump through the parser: every one of the 1881 events must
// come out and match evtxexport. python-evtx takes 10–25 s on it: this
// runs with PORTMORTEM_LONG=1 only (TestEVTXXMLMatchesEvtxexport checks a
// 30-record dump of the same file every time).
func TestEVTXXMLWholeDump(t *testing.T) {
	if !longTests() {
		t.Skip("python-evtx takes 10-25 s on 1881 records: set PORTMORTEM_LONG=1")
	}
	evtx := evtCorpusFile(t, "evtx/system/omerbenamram_system.evtx")
	dump := evtRefTool(t, "evtx_dump.py")
	ref := evtxmlEvtxexport(t, evtx)
	cmd := exec.Command(dump, evtx)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for rec, err := range (evtxXML{}).Parse(context.Background(), out) {
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		recs = append(recs, rec)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("evtx_dump.py: %v", err)
	}
	if len(recs) != len(ref) {
		t.Errorf("%d events from the dump, evtxexport has %d", len(recs), len(ref))
	}
	evtxmlCompareEvtxexport(t, recs, ref)
}

// TestEVTXXMLDamaged checks every problem of the damaged wevtutil stream:
// the line of each error and the events that survive around them.
func TestEVTXXMLDamaged(t *testing.T) {
	recs, errs, _ := evtxmlReadArtifact(t, filepath.Join(evtxmlTestdata, "wevtutil_damaged.xml"))
	var ids []uint64
	for _, r := range recs {
		ids = append(ids, r.Event.RecordID)
	}
	if want := []uint64{100, 102, 104, 105, 107, 108}; !reflect.DeepEqual(ids, want) {
		t.Errorf("record IDs = %v, want %v", ids, want)
	}
	wantErrs := []struct {
		line      int
		substr    string
		truncated bool
	}{
		{2, "malformed event: element <Data> closed by </Date>", false},
		{4, `bad EventID "70x0"`, false},
		{5, "<Binary> is neither hex nor base64", false},
		{6, "text outside an <Event> element", false},
		{8, "no </Event> before the next <Event> on line 9", true},
		{11, "event cut by the end of the input", true},
	}
	if len(errs) != len(wantErrs) {
		t.Fatalf("errors = %v, want %d", errs, len(wantErrs))
	}
	for i, w := range wantErrs {
		pe := errs[i]
		if pe.Line != w.line || !strings.Contains(pe.Error(), w.substr) || errors.Is(pe, ErrTruncated) != w.truncated {
			t.Errorf("error %d = %v (line %d), want line %d with %q (truncated %v)", i, pe, pe.Line, w.line, w.substr, w.truncated)
		}
	}
	// The event with a broken <Binary> keeps its other fields; the
	// control characters of record 108 became U+FFFD.
	for _, r := range recs {
		switch e := r.Event; e.RecordID {
		case 104:
			if e.Binary != "" || len(e.Data) != 2 || e.Data[1].Value != "Qux" {
				t.Errorf("record 104 = %+v", e)
			}
		case 108:
			if got, want := e.Data[0].Value+"|"+e.Data[1].Value, "Garply\uFFFD|%%-1072823311\uFFFD"; got != want {
				t.Errorf("record 108 data = %q, want %q", got, want)
			}
		}
	}
}

func TestEVTXXMLBadInput(t *testing.T) {
	stream := evtReadFile(t, filepath.Join(evtxmlTestdata, "python-evtx_system_30_stream.xml"))
	// Cut in the middle of the 5th event.
	cut := bytes.Index(stream, []byte("<EventRecordID>5<"))
	cutLine := bytes.Count(stream[:bytes.LastIndex(stream[:cut], []byte("<Event "))], []byte("\n")) + 1
	const ns = "http://schemas.microsoft.com/win/2004/08/events/event"
	tests := []struct {
		name      string
		input     string
		wantRecs  int
		wantErrs  []int // lines
		wantTrunc bool  // the last error wraps ErrTruncated
	}{
		{name: "empty", input: ""},
		{name: "root_only", input: `<?xml version="1.0"?>` + "\n<Events>\n</Events>\n"},
		{name: "netstat", input: "\r\nActive Connections\r\n\r\n  Proto  Local Address  Foreign Address  State\r\n", wantErrs: []int{2}},
		{name: "truncated", input: string(stream[:cut]), wantRecs: 4, wantErrs: []int{cutLine}, wantTrunc: true},
		{name: "other_namespace", input: "<Event xmlns='urn:x'><System/></Event>", wantErrs: []int{1}},
		{name: "no_system", input: "<Event xmlns='" + ns + "'/>\n<Event xmlns='" + ns + "'><EventData/></Event>", wantErrs: []int{1, 2}},
		{name: "no_time", input: "<Event><System><Provider Name='P'/><EventID>1</EventID></System></Event>", wantErrs: []int{1}},
		{name: "bad_time", input: "<Event><System><Provider Name='P'/><EventID>1</EventID><TimeCreated SystemTime='yesterday'/></System></Event>", wantErrs: []int{1}},
		{name: "junk_then_event", input: "C:\\> wevtutil qe System /f:xml /c:1\n<junk>\n<Event><System><Provider Name='P'/><EventID>1</EventID><TimeCreated SystemTime='2026-01-02T03:04:05Z'/></System></Event>", wantRecs: 1, wantErrs: []int{1}},
		{name: "comments_and_cdata", input: "<!-- a ---><Events><!-- <Event> --->\n<Event><System><Provider Name='P'/><EventID>1</EventID><TimeCreated SystemTime='2026-01-02T03:04:05Z'/></System><EventData><Data><![CDATA[</Event>]]></Data><!-- </Event> --></EventData></Event></Events>", wantRecs: 1},
		{name: "huge_event", input: "<Event>" + strings.Repeat("<Data>x</Data>", evtxmlMaxEvent/10) + "</Event>\n<Event><System><Provider Name='P'/><EventID>1</EventID><TimeCreated SystemTime='2026-01-02T03:04:05Z'/></System></Event>", wantRecs: 1, wantErrs: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := evtParseAll(t, evtxXML{}, []byte(tt.input))
			if len(recs) != tt.wantRecs {
				t.Errorf("%d records, want %d", len(recs), tt.wantRecs)
			}
			var lines []int
			for _, pe := range errs {
				lines = append(lines, pe.Line)
			}
			if !reflect.DeepEqual(lines, tt.wantErrs) {
				t.Errorf("errors %v at lines %v, want lines %v", errs, lines, tt.wantErrs)
			}
			if tt.wantTrunc && (len(errs) == 0 || !errors.Is(errs[len(errs)-1], ErrTruncated)) {
				t.Errorf("errors %v, want the last to wrap ErrTruncated", errs)
			}
		})
	}
}

func TestEVTXXMLFields(t *testing.T) {
	const ns = "http://schemas.microsoft.com/win/2004/08/events/event"
	sys := "<System><Provider Name='P'/><EventID>%s</EventID><TimeCreated SystemTime='%s'/></System>"
	tests := []struct {
		name  string
		input string
		want  Event
	}{
		{
			name:  "instance_id",
			input: "<Event xmlns='" + ns + "'><System><Provider Name='Service Control Manager'/><EventID>3221232472</EventID><TimeCreated SystemTime='2026-01-02T03:04:05.1234567Z'/></System></Event>",
			want:  Event{Provider: "Service Control Manager", EventID: 7000, Qualifiers: 0xC000, Time: time.Date(2026, 1, 2, 3, 4, 5, 123456700, time.UTC)},
		},
		{
			name:  "qualifiers_attribute_wins",
			input: "<Event><System><Provider EventSourceName='Src'/><EventID Qualifiers='16384'>7036</EventID><TimeCreated SystemTime='2026-01-02 03:04:05.5'/><Level>4</Level><EventRecordID>9</EventRecordID></System></Event>",
			want:  Event{Provider: "Src", EventID: 7036, Qualifiers: 16384, Level: 4, RecordID: 9, Time: time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC)},
		},
		{
			name:  "offset_time_and_source",
			input: "<Event><System><Provider Name='P' EventSourceName='Classic'/><EventID>1</EventID><TimeCreated SystemTime='2026-01-02T05:04:05+02:00'/></System></Event>",
			want:  Event{Provider: "P", EventSource: "Classic", EventID: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		},
		{
			name: "user_data_and_binary_event_data",
			input: "<Event>" + strings.ReplaceAll(strings.Replace(sys, "%s", "1", 1), "%s", "2026-01-02T03:04:05Z") +
				"<UserData><EventXML xmlns='Event_NS' a='1'><Param1>x</Param1><Nested><Leaf>y</Leaf></Nested></EventXML></UserData>" +
				"<BinaryEventData>0a0B</BinaryEventData></Event>",
			want: Event{Provider: "P", EventID: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Binary: "0A0B",
				Data: []Field{{"EventXML/@a", "1"}, {"EventXML/Param1", "x"}, {"EventXML/Nested/Leaf", "y"}}},
		},
		{
			name: "processing_error_data",
			input: "<Event>" + strings.ReplaceAll(strings.Replace(sys, "%s", "1", 1), "%s", "2026-01-02T03:04:05Z") +
				"<ProcessingErrorData><ErrorCode>15005</ErrorCode><DataItemName>Address</DataItemName></ProcessingErrorData></Event>",
			want: Event{Provider: "P", EventID: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
				Data: []Field{{"ProcessingErrorData/ErrorCode", "15005"}, {"ProcessingErrorData/DataItemName", "Address"}}},
		},
		{
			name: "data_in_order_base64_binary_message",
			input: "<Event>" + strings.ReplaceAll(strings.Replace(sys, "%s", "1", 1), "%s", "2026-01-02T03:04:05Z") +
				"<EventData><Data>a</Data><Data Name='n'> b </Data><Data></Data><Binary>SQBBAFMAAAA=</Binary></EventData>" +
				"<RenderingInfo Culture='fr-FR'><Message>Le service\r\na échoué &amp; &lt;x&gt;</Message></RenderingInfo></Event>",
			want: Event{Provider: "P", EventID: 1, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Binary: "4900410053000000",
				Data: []Field{{"", "a"}, {"n", " b "}, {"", ""}}, Message: "Le service\na échoué & <x>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := evtParseAll(t, evtxXML{}, []byte(tt.input))
			if len(errs) != 0 || len(recs) != 1 {
				t.Fatalf("records %v, errors %v", recs, errs)
			}
			if got := *recs[0].Event; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEVTXXMLStopsAndCancels(t *testing.T) {
	data := evtReadFile(t, filepath.Join(evtxmlTestdata, "python-evtx_system_30_stream.xml"))
	n := 0
	for range (evtxXML{}).Parse(context.Background(), bytes.NewReader(data)) {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("consumed %d, want 3", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, err := range (evtxXML{}).Parse(ctx, bytes.NewReader(data)) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("cancelled: %v, want one context.Canceled", errs)
	}
}

// TestEVTXXMLDetect checks that the XML exports are detected (also in
// UTF-16) and that neither event sniffer claims the corpus text captures.
func TestEVTXXMLDetect(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want Format
	}{
		{"wevtutil_line", []byte("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"), FormatEVTXXML},
		{"events_root", []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<Events>\r\n<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"), FormatEVTXXML},
		{"no_namespace", []byte("<Events><Event><System>"), ""},
		{"other_xml", []byte("<?xml version=\"1.0\"?><EventList xmlns='http://schemas.microsoft.com/win/2004/08/events/event'/>"), ""},
		{"evtx_binary", []byte("ElfFile\x00\x00\x00\x00\x00\x00\x00\x00\x00"), ""},
	}
	for _, path := range goldenFiles(t, evtxmlTestdata) {
		tests = append(tests, struct {
			name string
			head []byte
			want Format
		}{filepath.Base(path), evtReadFile(t, path), FormatEVTXXML})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := Detect(tt.head[:min(len(tt.head), rawHeadLen)])
			var got Format
			if err == nil {
				got = p.Format()
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("Detect = %q, %v; want %q", got, err, tt.want)
			}
			if tt.want == "" && (got == FormatEVTXXML || got == FormatEVT) {
				t.Errorf("Detect claims it as %q", got)
			}
		})
	}

	textDir := evtCorpusFile(t, "text")
	entries, err := os.ReadDir(textDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		head := evtReadFile(t, filepath.Join(textDir, e.Name()))
		head = head[:min(len(head), rawHeadLen)]
		if p, _, err := Detect(head); err == nil && (p.Format() == FormatEVTXXML || p.Format() == FormatEVT) {
			t.Errorf("%s detected as %s", e.Name(), p.Format())
		}
	}
}

func FuzzEVTXXML(f *testing.F) {
	for _, path := range goldenFiles(f, evtxmlTestdata) {
		data := evtReadFile(f, path)
		f.Add(data)
		f.Add(data[:len(data)/3])
	}
	f.Add([]byte("<Event><System><Provider Name='P'/><EventID>1</EventID><TimeCreated SystemTime='2026-01-02T03:04:05Z'/></System><UserData><a b='c'><d>e</d></a></UserData></Event>"))
	f.Add([]byte("<?xml version='1.1'?><Events><!-- c --><Event><![CDATA[<Event>]]></Event></Events>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip()
		}
		checkParseInvariants(t, evtxXML{}, data)
	})
}
