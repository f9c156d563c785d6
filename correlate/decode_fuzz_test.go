package correlate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// Fuzz targets for the decoders that turn event data into failure and
// boot rows (issue 13, item 5). Each checks, on any input: no panic, the
// same input gives the same output, and what a row must hold to be
// believed: a port the event does not state is never reported, a class
// agrees with LookupError for the code where the event's kind says it
// must, a boot's times follow from the event's. Seeds are the real
// decoded events of the testdata goldens (fuzzSeedEvents). Run one at a
// time, e.g.
//
//	go test ./correlate -run '^$' -fuzz '^FuzzDecodeFailure$' -fuzztime 60s
//
// (BENCHMARKS.md lists the runs.)

// fuzzEvent builds the event a fuzz input stands for. data holds the
// insertion strings: fields split by "\x00", a name split from its value
// by "\x01" (no "\x01": an unnamed field).
func fuzzEvent(provider, source string, id uint16, data, binary, message string, unixNano int64, recovered bool) *parsers.Event {
	ev := &parsers.Event{
		Provider: provider, EventSource: source, EventID: id, Binary: binary, Message: message,
		RecordID: 7, Channel: "System", Recovered: recovered,
	}
	if unixNano != 0 {
		ev.Time = time.Unix(0, unixNano).UTC()
	}
	if data != "" {
		for _, f := range strings.Split(data, "\x00") {
			name, value, ok := strings.Cut(f, "\x01")
			if !ok {
				name, value = "", f
			}
			ev.Data = append(ev.Data, parsers.Field{Name: name, Value: value})
		}
	}
	return ev
}

// fuzzArgs is the inverse of fuzzEvent, for the seeds.
func fuzzArgs(ev *parsers.Event) []any {
	var data []string
	for _, d := range ev.Data {
		if d.Name == "" {
			data = append(data, d.Value)
		} else {
			data = append(data, d.Name+"\x01"+d.Value)
		}
	}
	var ns int64
	if !ev.Time.IsZero() {
		ns = ev.Time.UnixNano()
	}
	return []any{ev.Provider, ev.EventSource, ev.EventID, strings.Join(data, "\x00"), ev.Binary, ev.Message, ns, ev.Recovered}
}

// fuzzSeedEvents returns the events of the parsers' golden files under
// ../testdata (real logs and exports, decoded): every one that decodes
// to a failure or a boot, and the first of each other provider and ID;
// and the failures and boots of the scenario bundles' event logs.
func fuzzSeedEvents(t testing.TB) []*parsers.Event {
	t.Helper()
	var goldens []string
	err := filepath.WalkDir(filepath.Join("..", "testdata"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".golden.jsonl") && !strings.Contains(path, string(filepath.Separator)+"decoded"+string(filepath.Separator)) {
			goldens = append(goldens, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(goldens)
	seen := map[string]bool{}
	var out []*parsers.Event
	for _, path := range goldens {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var rec parsers.Record
			if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Event == nil {
				continue
			}
			ev := rec.Event
			key := ev.Provider + "/" + strconv.Itoa(int(ev.EventID))
			if d := Decode(ev); !d.Kept() && seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, ev)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	// The scenario bundles' event logs: the bind errors and the boots
	// of each scenario, as our EVTX writer wrote them.
	logs, err := filepath.Glob(filepath.Join("..", "testdata", "bundles", "*", "*.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsers.ByName(string(parsers.FormatEVTX))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range logs {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for rec, err := range p.Parse(context.Background(), f) {
			if err == nil && rec.Event != nil && Decode(rec.Event).Kept() {
				out = append(out, rec.Event)
			}
		}
		f.Close()
	}
	if len(out) < 50 {
		t.Fatalf("only %d seed events in the testdata goldens", len(out))
	}
	return out
}

// TestFuzzSeedsDecode checks that the seeds hold what the fuzz targets
// need: real failures with a port, with a code, and boots of every kind.
func TestFuzzSeedsDecode(t *testing.T) {
	var withPort, withError, rendered int
	boots := map[BootKind]int{}
	for _, ev := range fuzzSeedEvents(t) {
		d := Decode(ev)
		if f := d.Failure; f != nil {
			if f.HasPort {
				withPort++
			}
			if f.HasError {
				withError++
			}
			if len(ev.Data) == 0 {
				rendered++
			}
			checkFailure(t, ev, *f)
		}
		if b := d.Boot; b != nil {
			boots[b.Kind]++
			checkBoot(t, ev, *b)
		}
	}
	if withPort == 0 || withError == 0 || rendered == 0 || len(boots) < 4 {
		t.Errorf("seeds: %d failures with a port, %d with an error, %d rendered only, boots %v; want some of each and all 4 boot kinds",
			withPort, withError, rendered, boots)
	}
}

// checkFailure checks what any decoded failure must hold.
func checkFailure(t *testing.T, ev *parsers.Event, f Failure) {
	t.Helper()
	if f.Time != ev.Time || f.EventID != ev.EventID || f.RecordID != ev.RecordID || f.Provider != ev.Provider || f.Recovered != ev.Recovered {
		t.Fatalf("identity not copied from the event: %+v", f)
	}
	switch f.Kind {
	case KindServiceFailure, KindBindError, KindSignal:
	default:
		t.Fatalf("kind %q", f.Kind)
	}
	switch f.Class {
	case ClassPortConflict, ClassPossiblyPort, ClassNotPort, ClassUnknown:
	default:
		t.Fatalf("class %q", f.Class)
	}
	if f.Message == "" {
		t.Fatal("no message")
	}
	if !f.HasError && f.ErrorCode != 0 {
		t.Fatalf("error code %d without HasError", f.ErrorCode)
	}
	if f.HasPort {
		if f.Port == 0 {
			t.Fatal("HasPort with port 0")
		}
		// A port is the event's own: in its text, or the fixed port of
		// the event (DNS 53, IPsec 500).
		fixed := (f.Service == "DNS Server" && f.Port == 53) || (f.ServiceKey == "PolicyAgent" && f.Port == 500)
		if !fixed && !strings.Contains(allText(ev), strconv.Itoa(int(f.Port))) {
			t.Fatalf("port %d is not in the event's text %q", f.Port, allText(ev))
		}
	} else if f.Port != 0 {
		t.Fatalf("port %d without HasPort", f.Port)
	}
	info, known := LookupError(f.ErrorCode)
	switch {
	case f.Kind == KindServiceFailure && (f.EventID == 7000 || f.EventID == 7023):
		if want := classOf(f.ErrorCode, f.HasError); f.Class != want {
			t.Fatalf("%d with code %d: class %s, LookupError says %s", f.EventID, f.ErrorCode, f.Class, want)
		}
	case f.Kind == KindServiceFailure && f.EventID == 7024:
		want := ClassPossiblyPort
		if f.HasError && known && info.Class == ClassPortConflict {
			want = ClassPortConflict
		}
		if f.Class != want {
			t.Fatalf("7024 with code %d: class %s, want %s", f.ErrorCode, f.Class, want)
		}
	case f.Kind == KindBindError && f.HasError && known && f.EventID != 3015:
		// Exchange's 3015 is a port conflict by what it says, whatever
		// its HRESULT; every other bind error takes its code's class.
		if f.Class != info.Class {
			t.Fatalf("bind error %d with code %d: class %s, LookupError says %s", f.EventID, f.ErrorCode, f.Class, info.Class)
		}
	}
}

// checkBoot checks what any decoded boot marker must hold.
func checkBoot(t *testing.T, ev *parsers.Event, b BootMarker) {
	t.Helper()
	if b.Time != ev.Time || b.EventID != ev.EventID || b.RecordID != ev.RecordID || b.Provider != ev.Provider || b.Recovered != ev.Recovered {
		t.Fatalf("identity not copied from the event: %+v", b)
	}
	if b.Message == "" {
		t.Fatal("no message")
	}
	switch b.Kind {
	case BootStart:
		if !ev.Time.IsZero() && b.BootTime.IsZero() {
			t.Fatalf("boot start of an event at %v has no boot time", ev.Time)
		}
	case BootUptime:
		if b.Uptime < 0 {
			t.Fatalf("negative uptime %v", b.Uptime)
		}
		if !b.BootTime.Equal(ev.Time.Add(-b.Uptime)) || b.BootTime.After(ev.Time) {
			t.Fatalf("uptime %v at %v: boot time %v", b.Uptime, ev.Time, b.BootTime)
		}
	case BootCleanStop, BootDirtyStop:
	default:
		t.Fatalf("kind %q", b.Kind)
	}
	if b.HasOffset {
		// Time zones run from UTC-12 to UTC+14.
		if b.UTCOffset < -12*time.Hour || b.UTCOffset > 14*time.Hour {
			t.Fatalf("UTC offset %v", b.UTCOffset)
		}
		if b.LastAlive.IsZero() {
			t.Fatal("an offset without the last-alive time")
		}
	}
}

func addEventSeeds(f *testing.F) {
	for _, ev := range fuzzSeedEvents(f) {
		f.Add(fuzzArgs(ev)...)
	}
}

// FuzzDecodeFailure decodes any event as a failure (checkFailure).
func FuzzDecodeFailure(f *testing.F) {
	addEventSeeds(f)
	f.Fuzz(func(t *testing.T, provider, source string, id uint16, data, binary, message string, unixNano int64, recovered bool) {
		ev := fuzzEvent(provider, source, id, data, binary, message, unixNano, recovered)
		got, ok := DecodeFailure(ev)
		again, ok2 := DecodeFailure(ev)
		if ok != ok2 || got != again {
			t.Fatalf("same event, different failures:\n%+v\n%+v", got, again)
		}
		if ok {
			checkFailure(t, ev, got)
		}
	})
}

// FuzzDecodeBoot decodes any event as a boot marker (checkBoot).
func FuzzDecodeBoot(f *testing.F) {
	addEventSeeds(f)
	f.Fuzz(func(t *testing.T, provider, source string, id uint16, data, binary, message string, unixNano int64, recovered bool) {
		ev := fuzzEvent(provider, source, id, data, binary, message, unixNano, recovered)
		got, ok := DecodeBoot(ev)
		again, ok2 := DecodeBoot(ev)
		if ok != ok2 || got != again {
			t.Fatalf("same event, different boots:\n%+v\n%+v", got, again)
		}
		if ok {
			checkBoot(t, ev, got)
		}
	})
}

// FuzzRenderedParams reads any message as a rendered SCM message. The
// insertion strings it recovers are named param1…paramN and trimmed, and
// decoding the rendered event gives the same failure as decoding an
// event that carries those insertion strings itself.
func FuzzRenderedParams(f *testing.F) {
	for _, ev := range fuzzSeedEvents(f) {
		if ev.Message != "" {
			f.Add(ev.EventID, ev.Message)
		}
	}
	for _, tmpl := range renderedSCMTemplates {
		msg := strings.NewReplacer("%1", "Apache2.4", "%2", "Only one usage of each socket address (protocol/network address/port) is normally permitted.", "%3", "x", "%n", "\r\n", "%*", "").Replace(tmpl.text)
		f.Add(tmpl.id, msg)
	}
	f.Fuzz(func(t *testing.T, id uint16, message string) {
		ev := &parsers.Event{Provider: scmProvider, EventID: id, Message: message, RecordID: 1}
		fields, lang, ok := renderedParams(ev)
		fields2, lang2, ok2 := renderedParams(ev)
		if ok != ok2 || lang != lang2 || !slices.Equal(fields, fields2) {
			t.Fatal("same message, different insertion strings")
		}
		if !ok {
			return
		}
		if lang == "" || len(fields) == 0 {
			t.Fatalf("lang %q, %d fields", lang, len(fields))
		}
		for i, fl := range fields {
			if fl.Name != "param"+strconv.Itoa(i+1) || strings.TrimSpace(fl.Value) != fl.Value {
				t.Fatalf("field %d: %+v", i, fl)
			}
		}
		got, okR := DecodeFailure(ev)
		want, okD := DecodeFailure(&parsers.Event{Provider: scmProvider, EventID: id, Data: fields, RecordID: 1})
		if okR != okD || got != want {
			t.Fatalf("rendered %q: %+v (%v), from its insertion strings %+v (%v)", message, got, okR, want, okD)
		}
		if !okR {
			t.Fatalf("a matched %d message decodes to no failure", id)
		}
		checkFailure(t, ev, got)
	})
}

// FuzzCodeFromText reads any text as a rendered error message: a code it
// finds is one LookupError knows, and how the text is wrapped does not
// change it.
func FuzzCodeFromText(f *testing.F) {
	for _, info := range win32Errors {
		f.Add(info.Text)
	}
	for _, l := range localizedTexts {
		f.Add("  " + l.fragment + " …")
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := CodeFromText(s)
		if c2, ok2 := CodeFromText(s); c2 != code || ok2 != ok {
			t.Fatal("same text, different codes")
		}
		if !ok {
			if code != 0 {
				t.Fatalf("code %d without ok", code)
			}
			return
		}
		if _, known := LookupError(code); !known {
			t.Fatalf("code %d from %q is not one LookupError knows", code, s)
		}
		wrapped := strings.Join(strings.Fields(s), "\r\n   ")
		if c2, ok2 := CodeFromText(wrapped); c2 != code || !ok2 {
			t.Fatalf("%q gives %d, wrapped %q gives %d (%v)", s, code, wrapped, c2, ok2)
		}
	})
}

// FuzzParseInsertion reads any string as an error insertion: no code
// without ok, and a code it reads reads back the same from its decimal,
// %% and hex forms.
func FuzzParseInsertion(f *testing.F) {
	for _, s := range []string{"%%10048", "%%-1072823311", "1053", "0x2740", " %%1069 ", "0xFFFFFFFF", "-1", "%%", "0x", "4294967296", "0x123456789"} {
		f.Add(s)
	}
	for _, ev := range fuzzSeedEvents(f) {
		for _, d := range ev.Data {
			if len(d.Value) < 24 {
				f.Add(d.Value)
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := ParseInsertion(s)
		if c2, ok2 := ParseInsertion(s); c2 != code || ok2 != ok {
			t.Fatal("same string, different codes")
		}
		if !ok {
			if code != 0 {
				t.Fatalf("%q: code %#x without ok", s, code)
			}
			return
		}
		for _, form := range []string{strconv.FormatUint(uint64(code), 10), "%%" + strconv.FormatUint(uint64(code), 10), "0x" + strconv.FormatUint(uint64(code), 16), "%%" + strconv.FormatInt(int64(int32(code)), 10)} {
			if c2, ok2 := ParseInsertion(form); c2 != code || !ok2 {
				t.Fatalf("%q gives %#x, its form %q gives %#x (%v)", s, code, form, c2, ok2)
			}
		}
	})
}

// TestDecoderFindings holds the inputs that broke the invariants of the
// fuzz targets when they were written (issue 13, item 5), each now
// decoded as checkFailure and checkBoot require.
func TestDecoderFindings(t *testing.T) {
	systemTimes := func(localYear, utcYear int) string { // 6008's Binary: local, then UTC, 1 January
		st := func(y int) string { return fmt.Sprintf("%02X%02X0100000001000000000000000000", y&0xff, y>>8) }
		return st(localYear) + st(utcYear)
	}
	failures := []struct {
		name     string
		ev       *parsers.Event
		wantPort uint16 // 0: no port
	}{
		{"http_port_0", &parsers.Event{Provider: "HTTP", EventID: 15005, Data: []parsers.Field{{Value: "0.0.0.0:0"}, {Value: "10.0.0.1:443"}}}, 443},
		{"exchange_port_over_16_bits", &parsers.Event{Provider: "MSExchange ActiveSync", EventID: 3015, Message: "UDP port [99999]"}, 0},
		{"exchange_port_0", &parsers.Event{Provider: "MSExchange ActiveSync", EventID: 3015, Message: "UDP port [0]"}, 0},
		{"sql_port_0", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26023, Message: "Server TCP provider failed to listen on [ 'any' <ipv4> 0]. Tcp port is already in use."}, 0},
		{"apache_port_0", &parsers.Event{Provider: "Apache Service", EventID: 3299, Data: []parsers.Field{{Value: "x"}, {Value: "Apache2.4"}, {Value: "make_sock: could not bind to address 0.0.0.0:0"}}}, 0},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := DecodeFailure(tt.ev)
			if !ok {
				t.Fatal("not decoded")
			}
			checkFailure(t, tt.ev, f)
			if f.Port != tt.wantPort || f.HasPort != (tt.wantPort != 0) {
				t.Errorf("port %d (HasPort %v), want %d", f.Port, f.HasPort, tt.wantPort)
			}
		})
	}
	boots := []struct {
		name       string
		ev         *parsers.Event
		wantOK     bool
		wantOffset bool
	}{
		{"uptime_overflows_duration", &parsers.Event{Provider: "EventLog", EventID: 6013, Time: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
			Data: []parsers.Field{{}, {}, {}, {}, {Value: "99999999999999"}}}, false, false},
		{"offset_of_ten_years", &parsers.Event{Provider: "EventLog", EventID: 6008, Binary: systemTimes(2030, 2020)}, true, false},
		{"offset_of_zero", &parsers.Event{Provider: "EventLog", EventID: 6008, Binary: systemTimes(2020, 2020)}, true, true},
	}
	for _, tt := range boots {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := DecodeBoot(tt.ev)
			if ok != tt.wantOK || b.HasOffset != tt.wantOffset {
				t.Fatalf("ok %v, HasOffset %v (%v); want %v, %v", ok, b.HasOffset, b.UTCOffset, tt.wantOK, tt.wantOffset)
			}
			if ok {
				checkBoot(t, tt.ev, b)
			}
		})
	}
}
