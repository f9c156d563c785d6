package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

func socketRec(line int, s parsers.Socket) parsers.Record {
	return parsers.Record{Kind: parsers.KindSocket, Line: line, Socket: &s}
}

func netstatInfo(path string) ArtifactInfo {
	return ArtifactInfo{Path: path, Format: parsers.FormatNetstat, ParserVersion: 1, Encoding: parsers.EncUTF8,
		CapturedAt: testNow, CaptureSource: parsers.CaptureFileModTime}
}

func TestSocketRoundTrip(t *testing.T) {
	s := openTest(t)
	created := time.Date(2026, 2, 28, 23, 59, 58, 123456789, time.UTC)
	tests := []struct {
		name string
		sock parsers.Socket
	}{
		{"tcp_listener_full", parsers.Socket{Proto: parsers.TCP, LocalAddr: netip.MustParseAddr("0.0.0.0"), LocalPort: 3101, HasPort: true,
			RemoteAddr: netip.MustParseAddr("0.0.0.0"), State: parsers.StateListening, StateRaw: "ABHÖREN", PID: 1234,
			Image: "dns.exe", Services: []string{"DNS", "Dnscache"}, CreatedAt: created, CreatedLocal: true}},
		{"udp_ipv6_zone", parsers.Socket{Proto: parsers.UDP, LocalAddr: netip.MustParseAddr("fe80::1%4"), LocalPort: 3101, HasPort: true,
			PID: -1, Owner: "Can not obtain ownership information"}},
		{"port_names", parsers.Socket{Proto: parsers.TCP, LocalHost: "srv01", LocalPort: 3101, HasPort: true, LocalPortName: "bbrouter",
			RemoteHost: "client", RemotePort: 80, RemotePortName: "http", State: parsers.StateEstablished, PID: 8}},
	}
	c, err := s.BeginCase(context.Background(), CaseInfo{BundleHash: "h1", BundlePath: "b"})
	if err != nil {
		t.Fatal(err)
	}
	var recs []parsers.Record
	for i, tt := range tests {
		recs = append(recs, socketRec(i+1, tt.sock))
	}
	// A Tcpvcon 4.x socket has no port: stored, but never an owner.
	recs = append(recs, socketRec(9, parsers.Socket{Proto: parsers.TCP, PID: 5, Image: "x.exe"}))
	id := addArtifact(t, c, testArtifact{info: netstatInfo("ns.txt"), recs: recs})
	if err := c.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := s.Owners(c.ID()).OwnersOf(context.Background(), parsers.TCP, 3101)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := s.Owners(c.ID()).OwnersOf(context.Background(), parsers.UDP, 3101)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, udp...)
	if len(got) != len(tests) {
		t.Fatalf("got %d sockets, want %d", len(got), len(tests))
	}
	byLine := map[int]parsers.Socket{}
	for _, r := range got {
		if r.SnapshotID != id {
			t.Errorf("snapshot %d, want %d", r.SnapshotID, id)
		}
		byLine[r.Line] = r.Socket
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := byLine[i+1], tt.sock; !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
	if got := count(t, s, "sockets"); got != 4 {
		t.Errorf("%d socket rows, want 4", got)
	}
}

func TestRecordKindsRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	evTime := time.Date(2026, 2, 28, 8, 0, 0, 100, time.UTC)
	other := &parsers.Event{Channel: "System", Provider: "Service Control Manager", EventID: 7036, RecordID: 1 << 63,
		Time: evTime, Computer: "SRV01", Level: 4, Qualifiers: 16384, ProviderGUID: "{555908d1}", EventSource: "SCM",
		Data: []parsers.Field{{Name: "param1", Value: "DNS <Server> & co"}, {Value: "unnamed"}}, Binary: "00FF",
		Message: "The DNS Server service entered the running state.", Recovered: true}
	recs := []parsers.Record{
		{Kind: parsers.KindMeta, Meta: &parsers.Meta{Locale: "de", Variant: "svc", Host: "SRV01", Note: "first"}},
		{Kind: parsers.KindProcess, Line: 4, Process: &parsers.Process{PID: 1234, Image: "svchost.exe", Services: []string{"Dhcp", "EventLog"}}},
		{Kind: parsers.KindProcess, Line: 5, Process: &parsers.Process{PID: 77, Image: "averyveryverylongimagenam", Truncated: true}},
		{Kind: parsers.KindPortRange, Line: 7, PortRange: &parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, IPVersion: "ipv4", Start: 50000, End: 50059, Administered: true}},
		{Kind: parsers.KindPortRange, Line: 8, PortRange: &parsers.PortRange{Kind: "dynamic", Proto: parsers.UDP, Start: 49152, End: 65535}},
		{Kind: parsers.KindServicePort, Line: 9, ServicePort: &parsers.ServicePort{Name: "radius", Port: 1812, Proto: parsers.UDP, Aliases: []string{"a", "b"}}},
		{Kind: parsers.KindEvent, Line: 12, Offset: 4096, Event: other},
		{Kind: parsers.KindMeta, Meta: &parsers.Meta{Note: "second"}},
	}
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b"})
	if err != nil {
		t.Fatal(err)
	}
	info := ArtifactInfo{Path: "mixed.txt", Format: parsers.FormatTasklist, ParserVersion: 3, Encoding: parsers.EncCP850,
		Size: 1234, SHA256: "abc", ModTime: evTime, ModTimeSource: parsers.CaptureZipDOS, CapturedAt: evTime.Add(time.Hour),
		CapturedLocal: true, CaptureSource: parsers.CaptureZipDOS, Records: 99, WarningCount: 99}
	aid := addArtifact(t, c, testArtifact{info: info, recs: recs, keepAll: true,
		errs: []*parsers.ParseError{{Line: 3, Err: errors.New("bad line")}, {Offset: 0x11000, Err: errors.New("bad chunk")}}})
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("artifact_and_meta", func(t *testing.T) {
		arts, err := s.Artifacts(ctx, c.ID())
		if err != nil {
			t.Fatal(err)
		}
		if len(arts) != 1 {
			t.Fatalf("%d artifacts", len(arts))
		}
		want := info
		want.Locale, want.Variant, want.Host, want.Notes = "de", "svc", "SRV01", []string{"first", "second"}
		want.Records, want.WarningCount = 6, 2
		want.ModTimeLocal = true // a zip DOS time, and the case's zone is unknown
		if got := arts[0].ArtifactInfo; !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
		wantW := []Warning{{Line: 3, Message: "bad line"}, {Offset: 0x11000, Message: "bad chunk"}}
		if got := arts[0].Warnings; !reflect.DeepEqual(got, wantW) {
			t.Errorf("warnings %+v, want %+v", got, wantW)
		}
	})
	in, err := s.Input(ctx, c.ID())
	if err != nil {
		t.Fatal(err)
	}
	t.Run("processes", func(t *testing.T) {
		if len(in.Processes) != 2 {
			t.Fatalf("%d processes", len(in.Processes))
		}
		for i, r := range recs[1:3] {
			if got, want := in.Processes[i].Process, *r.Process; !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
			if in.Processes[i].Line != r.Line || in.Processes[i].SnapshotID != aid || in.Processes[i].Artifact != "mixed.txt" {
				t.Errorf("process ref %+v", in.Processes[i])
			}
		}
	})
	t.Run("ranges", func(t *testing.T) {
		if len(in.Ranges) != 2 {
			t.Fatalf("%d ranges", len(in.Ranges))
		}
		for i, r := range recs[3:5] {
			if got, want := in.Ranges[i].Range, *r.PortRange; got != want || in.Ranges[i].Line != r.Line {
				t.Errorf("got %+v line %d, want %+v line %d", got, in.Ranges[i].Line, want, r.Line)
			}
			// The artifact's capture time places the table in a boot (issue 12, item 1).
			if got := in.Ranges[i]; !got.CapturedAt.Equal(info.CapturedAt) || !got.CapturedLocal || got.CaptureSource != parsers.CaptureZipDOS {
				t.Errorf("range %d captured %v local %v source %q, want %v local zip-dos", i, got.CapturedAt, got.CapturedLocal, got.CaptureSource, info.CapturedAt)
			}
		}
	})
	t.Run("service_ports", func(t *testing.T) {
		var name, proto, aliases string
		var port, line int
		if err := s.db.QueryRow("SELECT line, name, port, proto, aliases FROM service_ports").Scan(&line, &name, &port, &proto, &aliases); err != nil {
			t.Fatal(err)
		}
		if line != 9 || name != "radius" || port != 1812 || proto != "UDP" || aliases != "a,b" {
			t.Errorf("got %d %s %d %s %s", line, name, port, proto, aliases)
		}
	})
	t.Run("event", func(t *testing.T) {
		got := loadEvents(t, s, aid)
		if len(got) != 1 {
			t.Fatalf("%d events", len(got))
		}
		if got[0].line != 12 || got[0].offset != 4096 || !reflect.DeepEqual(got[0].ev, *other) {
			t.Errorf("got  %+v\nwant %+v", got[0].ev, *other)
		}
		var data string
		if err := s.db.QueryRow("SELECT data FROM events").Scan(&data); err != nil {
			t.Fatal(err)
		}
		if want := `[{"name":"param1","value":"DNS <Server> & co"},{"name":"","value":"unnamed"}]`; data != want {
			t.Errorf("data = %s, want %s", data, want)
		}
		var v string
		if err := s.db.QueryRow("SELECT json_extract(data, '$[0].value') FROM events").Scan(&v); err != nil || v != "DNS <Server> & co" {
			t.Errorf("json_extract: %q, %v", v, err)
		}
	})
	t.Run("event_counts", func(t *testing.T) {
		var ch, prov string
		var id, n int
		if err := s.db.QueryRow("SELECT channel, provider, event_id, count FROM event_counts").Scan(&ch, &prov, &id, &n); err != nil {
			t.Fatal(err)
		}
		if ch != "System" || prov != "Service Control Manager" || id != 7036 || n != 1 {
			t.Errorf("got %s %s %d %d", ch, prov, id, n)
		}
	})
}

// storedEvent is an events row read back.
type storedEvent struct {
	line   int
	offset int64
	ev     parsers.Event
}

func loadEvents(t *testing.T, s *Store, artifactID int64) []storedEvent {
	t.Helper()
	rows, err := s.db.Query(`SELECT record_id, line, byte_offset, channel, provider, provider_guid, event_source, event_id,
		qualifiers, level, event_time, computer, data, binary_hex, message, recovered FROM events WHERE artifact_id = ? ORDER BY id`, artifactID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedEvent
	for rows.Next() {
		var se storedEvent
		e := &se.ev
		var rid int64
		var tm sql.NullString
		var data string
		if err := rows.Scan(&rid, &se.line, &se.offset, &e.Channel, &e.Provider, &e.ProviderGUID, &e.EventSource, &e.EventID,
			&e.Qualifiers, &e.Level, &tm, &e.Computer, &data, &e.Binary, &e.Message, &e.Recovered); err != nil {
			t.Fatal(err)
		}
		e.RecordID = uint64(rid)
		if e.Time, err = parseTime(tm); err != nil {
			t.Fatal(err)
		}
		var fields []dataField
		if err := parseJSONList(data, &fields); err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			e.Data = append(e.Data, parsers.Field(f))
		}
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOnlyDecodedEventsStored(t *testing.T) {
	s := openTest(t)
	evs := []parsers.Record{
		{Kind: parsers.KindEvent, Event: &parsers.Event{Channel: "System", Provider: "Service Control Manager", EventID: 7036, RecordID: 1}},
		{Kind: parsers.KindEvent, Event: scmEvent(7023, 2, "Internet Authentication Service", "%%10048")},
		{Kind: parsers.KindEvent, Event: &parsers.Event{Channel: "System", Provider: "EventLog", EventID: 6005, RecordID: 3, Time: testNow}},
		{Kind: parsers.KindEvent, Event: &parsers.Event{Channel: "System", Provider: "Service Control Manager", EventID: 7036, RecordID: 4}},
	}
	id := ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "b"}, testArtifact{
		info: ArtifactInfo{Path: "System.evtx", Format: parsers.FormatEVTX}, recs: evs})
	if got := count(t, s, "events"); got != 2 {
		t.Errorf("%d events stored, want the failure and the boot", got)
	}
	if got := count(t, s, "failures"); got != 1 {
		t.Errorf("%d failures", got)
	}
	if got := count(t, s, "boots"); got != 1 {
		t.Errorf("%d boots", got)
	}
	if got := count(t, s, "event_counts WHERE event_id = 7036 AND count = 2"); got != 1 {
		t.Errorf("7036 not counted twice")
	}
	arts, err := s.Artifacts(context.Background(), id)
	if err != nil || len(arts) != 1 || arts[0].Records != 4 {
		t.Errorf("artifact records: %+v, %v", arts, err)
	}
}

func TestParseErrorsCapped(t *testing.T) {
	s := openTest(t)
	var errs []*parsers.ParseError
	for i := range maxWarnings + 50 {
		errs = append(errs, &parsers.ParseError{Line: i + 1, Err: fmt.Errorf("bad %d", i)})
	}
	id := ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "b"}, testArtifact{info: netstatInfo("ns.txt"), errs: errs})
	arts, err := s.Artifacts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(arts[0].Warnings), maxWarnings; got != want {
		t.Errorf("%d warnings kept, want %d", got, want)
	}
	if got, want := arts[0].WarningCount, maxWarnings+50; got != want {
		t.Errorf("warning_count %d, want %d", got, want)
	}
}

func TestIdempotentIngest(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	art := testArtifact{info: netstatInfo("ns.txt"), recs: []parsers.Record{
		socketRec(5, parsers.Socket{Proto: parsers.UDP, LocalPort: 1812, HasPort: true, PID: 4})}}
	first := ingest(t, s, CaseInfo{BundleHash: "same", BundlePath: "a.zip"}, art)
	other := ingest(t, s, CaseInfo{BundleHash: "other", BundlePath: "o.zip"}, art)
	second := ingest(t, s, CaseInfo{BundleHash: "same", BundlePath: "b.zip"}, art)
	cases, err := s.Cases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].ID != other || cases[1].ID != second || first == second {
		t.Fatalf("cases = %+v, want %d and %d", cases, other, second)
	}
	cs, err := s.CasesByHash(ctx, "same")
	if err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	c := cs[0]
	if c.ID != second || c.BundlePath != "b.zip" || c.Status != StatusComplete || !c.CreatedAt.Equal(testNow) || !c.CompletedAt.Equal(testNow) {
		t.Errorf("case = %+v", c)
	}
	if got := count(t, s, "artifacts"); got != 2 {
		t.Errorf("%d artifacts left, want 2", got)
	}
	if got := count(t, s, "sockets"); got != 2 {
		t.Errorf("%d sockets left, want 2", got)
	}
}

// TestCancel interrupts an ingest in the middle of an artifact, after
// another artifact was committed, while an earlier complete case of the
// same bundle exists.
func TestCancel(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.db")
	bg := context.Background()
	s, err := Open(bg, p)
	if err != nil {
		t.Fatal(err)
	}
	sock := socketRec(1, parsers.Socket{Proto: parsers.TCP, LocalPort: 80, HasPort: true, State: parsers.StateListening, PID: 4})
	old := ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "old"}, testArtifact{info: netstatInfo("ns.txt"), recs: []parsers.Record{sock}})

	ctx, cancel := context.WithCancel(bg)
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "new"})
	if err != nil {
		t.Fatal(err)
	}
	addArtifact(t, c, testArtifact{info: netstatInfo("first.txt"), recs: []parsers.Record{sock}})
	a, err := c.AddArtifact(ctx, netstatInfo("second.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 250 { // past one batch, so rows were sent
		if err := a.Add(socketRec(i+1, *sock.Socket)); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := a.Add(sock); !errors.Is(err, context.Canceled) {
		t.Errorf("Add after cancel: %v, want context.Canceled", err)
	}
	if err := a.Commit(); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit after cancel: %v, want context.Canceled", err)
	}
	if _, err := c.AddArtifact(ctx, netstatInfo("third.txt")); err == nil {
		t.Error("AddArtifact with a cancelled context worked")
	}
	if err := c.Commit(ctx); err == nil {
		t.Error("case Commit with a cancelled context worked")
	}

	// The process dies here: no Abort. The half case is not complete, and
	// the old case still answers for the bundle.
	got, err := s.CasesByHash(bg, "h")
	if err != nil || len(got) != 1 || got[0].ID != old {
		t.Errorf("CasesByHash = %+v, %v; want the old case %d", got, err, old)
	}
	if n := count(t, s, "cases WHERE status = 'complete'"); n != 1 {
		t.Errorf("%d complete cases, want 1", n)
	}
	if n := count(t, s, "artifacts WHERE path = 'second.txt'"); n != 0 {
		t.Errorf("the interrupted artifact left %d rows", n)
	}
	// The case's owner is gone.
	if _, err := s.db.ExecContext(bg, "UPDATE cases SET owner_pid = ? WHERE status = 'ingesting'", deadPID); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(bg, p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases, err := s.Cases(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 1 || cases[0].ID != old {
		t.Errorf("after reopen: cases %+v, want only %d", cases, old)
	}
	if n := count(t, s, "sockets"); n != 1 {
		t.Errorf("after reopen: %d sockets, want the old case's 1", n)
	}
}

func TestAbort(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b"})
	if err != nil {
		t.Fatal(err)
	}
	addArtifact(t, c, testArtifact{info: netstatInfo("a.txt"), recs: []parsers.Record{
		socketRec(1, parsers.Socket{Proto: parsers.UDP, LocalPort: 53, HasPort: true})}})
	a, err := c.AddArtifact(ctx, netstatInfo("b.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Add(socketRec(1, parsers.Socket{Proto: parsers.UDP, LocalPort: 53, HasPort: true})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddArtifact(ctx, netstatInfo("c.txt")); !errors.Is(err, ErrArtifactOpen) {
		t.Errorf("second open artifact: %v, want ErrArtifactOpen", err)
	}
	cancel()
	// Abort runs although ctx is cancelled, and rolls back the open artifact.
	if err := c.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"cases", "artifacts", "sockets"} {
		if n := count(t, s, table); n != 0 {
			t.Errorf("%s: %d rows left", table, n)
		}
	}
	if err := c.Commit(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Abort: %v, want ErrClosed", err)
	}
}

// deadPID is a PID no process has (above Linux's pid_max).
const deadPID = 1<<30 - 1

func TestPurgeIncomplete(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	done := ingest(t, s, CaseInfo{BundleHash: "a", BundlePath: "a"})
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "b", BundlePath: "b"})
	if err != nil {
		t.Fatal(err)
	}
	addArtifact(t, c, testArtifact{info: netstatInfo("x")})
	// The case's owner (this process) runs: its case stays.
	if n, err := s.PurgeIncomplete(ctx); err != nil || n != 0 {
		t.Fatalf("owner running: purged %d, %v; want 0", n, err)
	}
	// Another machine's run cannot be seen from here: its case stays too.
	if _, err := s.db.ExecContext(ctx, "UPDATE cases SET owner_host = 'elsewhere' WHERE id = ?", c.ID()); err != nil {
		t.Fatal(err)
	}
	s.running = func(int) bool { return false }
	if n, err := s.PurgeIncomplete(ctx); err != nil || n != 0 {
		t.Fatalf("owner on another host: purged %d, %v; want 0", n, err)
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE cases SET owner_host = ? WHERE id = ?", s.host, c.ID()); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeIncomplete(ctx) // the owner is gone
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	cases, _ := s.Cases(ctx)
	if len(cases) != 1 || cases[0].ID != done {
		t.Errorf("cases = %+v", cases)
	}
	if err := c.Commit(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("Commit of a purged case: %v, want ErrNotFound", err)
	}
}

func TestForeignKeysCascade(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	recs := []parsers.Record{
		socketRec(1, parsers.Socket{Proto: parsers.TCP, LocalPort: 1, HasPort: true}),
		{Kind: parsers.KindProcess, Line: 2, Process: &parsers.Process{PID: 1, Image: "a"}},
		{Kind: parsers.KindPortRange, Line: 3, PortRange: &parsers.PortRange{Kind: "excluded", Start: 1, End: 2}},
		{Kind: parsers.KindServicePort, Line: 4, ServicePort: &parsers.ServicePort{Name: "x", Port: 1}},
		{Kind: parsers.KindEvent, Event: scmEvent(7023, 9, "IAS", "%%10048")},
		{Kind: parsers.KindEvent, Event: &parsers.Event{Provider: "EventLog", EventID: 6005, Time: testNow}},
	}
	id := ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "b"},
		testArtifact{info: netstatInfo("a"), recs: recs, errs: []*parsers.ParseError{{Line: 1, Err: errors.New("x")}}})
	if err := s.SaveFindings(ctx, id, []correlate.Finding{{Verdict: "CONFIRMED"}}, []correlate.Coverage{{Check: "c", Status: "ok"}}); err != nil {
		t.Fatal(err)
	}
	tables := []string{"artifacts", "sockets", "processes", "port_ranges", "service_ports", "parse_errors",
		"event_counts", "events", "failures", "boots", "findings", "coverage"}
	for _, table := range tables {
		if n := count(t, s, table); n == 0 {
			t.Fatalf("%s is empty before the delete", table)
		}
	}
	if _, err := s.db.Exec("DELETE FROM cases WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		if n := count(t, s, table); n != 0 {
			t.Errorf("%s: %d rows survive the case", table, n)
		}
	}
	if _, err := s.db.Exec("INSERT INTO artifacts (case_id, path, format) VALUES (999, 'p', 'netstat')"); err == nil {
		t.Error("an artifact of a missing case was accepted")
	}
}

// TestEventCountsSameAsStored ingests one event log twice: once with
// every event stored through AddEvent, and once with the events
// correlation has no use for only counted through EventCounts (as an
// ingest's parser goroutines do). event_counts, failures, boots and the
// record count must be the same; the events table holds only the kept
// ones.
func TestEventCountsSameAsStored(t *testing.T) {
	var evs []parsers.Record
	for i := range 3000 {
		var ev *parsers.Event
		switch i % 7 {
		case 0:
			ev = scmEvent(7023, uint64(i+1), "Internet Authentication Service", "%%10048")
		case 1:
			ev = &parsers.Event{Channel: "System", Provider: "EventLog", EventID: 6005, RecordID: uint64(i + 1), Time: testNow}
		default:
			ev = &parsers.Event{Channel: "System", Provider: fmt.Sprintf("Provider %d", i%13), EventID: uint16(7036 + i%5), RecordID: uint64(i + 1)}
		}
		evs = append(evs, parsers.Record{Kind: parsers.KindEvent, Offset: int64(i) * 100, Event: ev})
	}
	dump := func(s *Store) string {
		var b strings.Builder
		for _, q := range []string{
			"SELECT channel, provider, event_id, count FROM event_counts ORDER BY channel, provider, event_id",
			"SELECT kind, service, event_id FROM failures ORDER BY id",
			"SELECT kind, event_id FROM boots ORDER BY id",
			"SELECT records, warning_count FROM artifacts",
		} {
			rows, err := s.db.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var a, b2, c, d sql.NullString
				dst := []any{&a, &b2, &c, &d}
				cols, _ := rows.Columns()
				if err := rows.Scan(dst[:len(cols)]...); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(&b, a.String, b2.String, c.String, d.String)
			}
			rows.Close()
			b.WriteString("--\n")
		}
		return b.String()
	}
	info := CaseInfo{BundleHash: "h", BundlePath: "b"}
	art := ArtifactInfo{Path: "System.evtx", Format: parsers.FormatEVTX}
	all := openTest(t)
	ingest(t, all, info, testArtifact{info: art, recs: evs, keepAll: true})
	counted := openTest(t)
	ingest(t, counted, info, testArtifact{info: art, recs: evs})
	if got, want := dump(counted), dump(all); got != want {
		t.Errorf("counted ingest differs:\n%s\nwant\n%s", got, want)
	}
	if got, want := count(t, all, "events"), 3000; got != want {
		t.Errorf("every event stored: %d events, want %d", got, want)
	}
	if got, want := count(t, counted, "events"), 858; got != want {
		t.Errorf("kept events stored: %d events, want %d (the failures and boots)", got, want)
	}
}

// TestEventCountsManyKinds: past maxEventKeys kinds, the counts
// keep the total and fold the rest into "(other)", the same way each run.
func TestEventCountsManyKinds(t *testing.T) {
	const kinds = maxEventKeys + 50
	run := func() (rows int, total int64, other int64) {
		s := openTest(t)
		ctx := context.Background()
		c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := c.AddArtifact(ctx, ArtifactInfo{Path: "System.evtx", Format: parsers.FormatEVTX})
		if err != nil {
			t.Fatal(err)
		}
		var f EventCounts
		for i := range kinds {
			f.Add(&parsers.Event{Channel: "System", Provider: fmt.Sprintf("P%05d", kinds-i), EventID: 1})
		}
		if err := a.AddCounts(&f); err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow("SELECT count(*), sum(count), coalesce(sum(CASE WHEN provider = '(other)' THEN count END), 0) FROM event_counts").Scan(&rows, &total, &other); err != nil {
			t.Fatal(err)
		}
		return rows, total, other
	}
	rows, total, other := run()
	if total != kinds || rows != maxEventKeys+1 || other != 50 {
		t.Errorf("%d rows, %d events, %d under (other); want %d rows, %d events, 50", rows, total, other, maxEventKeys+1, kinds)
	}
	if r2, t2, o2 := run(); r2 != rows || t2 != total || o2 != other {
		t.Errorf("second run: %d %d %d, first %d %d %d", r2, t2, o2, rows, total, other)
	}
}
