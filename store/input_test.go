package store

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// scmEvent is a Service Control Manager event with its insertion strings.
func scmEvent(id uint16, recordID uint64, params ...string) *parsers.Event {
	ev := &parsers.Event{Channel: "System", Provider: "Service Control Manager", EventID: id, RecordID: recordID,
		Time: time.Date(2026, 2, 28, 8, 12, 3, 0, time.UTC), Computer: "SRV01.corp.example"}
	for i, p := range params {
		ev.Data = append(ev.Data, parsers.Field{Name: "param" + string(rune('1'+i)), Value: p})
	}
	return ev
}

func eventRec(ev *parsers.Event) parsers.Record {
	return parsers.Record{Kind: parsers.KindEvent, Event: ev}
}

// TestInput builds a small case by hand (a netstat snapshot, a tasklist,
// an excluded range, a 7023 failure and boots) and checks what correlate
// is given.
func TestInput(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	boot := time.Date(2026, 2, 28, 8, 10, 0, 0, time.UTC)
	captured := time.Date(2026, 2, 28, 9, 0, 0, 0, time.UTC)

	failure := scmEvent(7023, 501, "Internet Authentication Service", "%%10048")
	failure.Binary = evtxwrite.UTF16Hex("IAS")
	events := []*parsers.Event{
		{Channel: "System", Provider: "EventLog", EventID: 6008, RecordID: 498, Time: boot,
			// 2026-02-28 02:05:00 local, 08:05:00 UTC: UTC-6.
			Binary: "EA07020006001C000200050000000000" + "EA07020006001C000800050000000000"},
		{Channel: "System", Provider: "EventLog", EventID: 6009, RecordID: 499, Time: boot,
			Data: []parsers.Field{{Value: "5.02."}, {Value: "3790"}, {Value: "Service Pack 2"}, {Value: "Multiprocessor Free"}}},
		{Channel: "System", Provider: "EventLog", EventID: 6005, RecordID: 500, Time: boot},
		failure,
		{Channel: "System", Provider: "Service Control Manager", EventID: 7036, RecordID: 502, Time: boot},
	}
	var evRecs []parsers.Record
	for _, ev := range events {
		evRecs = append(evRecs, eventRec(ev))
	}
	dnsPool := parsers.Socket{Proto: parsers.UDP, LocalAddr: netip.MustParseAddr("0.0.0.0"), LocalPort: 1812, HasPort: true, PID: 1640}
	netstat := testArtifact{info: ArtifactInfo{Path: "bundle.zip!/netstat-anob.txt", Format: parsers.FormatNetstat,
		CapturedAt: captured, CaptureSource: parsers.CaptureZipExtended},
		recs: []parsers.Record{
			{Kind: parsers.KindMeta, Meta: &parsers.Meta{Variant: "anob"}},
			socketRec(5, parsers.Socket{Proto: parsers.TCP, LocalAddr: netip.MustParseAddr("0.0.0.0"), LocalPort: 135, HasPort: true,
				State: parsers.StateListening, PID: 884, Image: "svchost.exe", Services: []string{"RpcSs"}}),
			socketRec(7, dnsPool),
			socketRec(8, parsers.Socket{Proto: parsers.UDP, LocalAddr: netip.MustParseAddr("0.0.0.0"), LocalPort: 1813, HasPort: true,
				PID: 1640, Image: "dns.exe", Services: []string{"DNS"}}),
		}}
	tasklist := testArtifact{info: ArtifactInfo{Path: "bundle.zip!/tasklist.txt", Format: parsers.FormatTasklist},
		recs: []parsers.Record{
			{Kind: parsers.KindProcess, Line: 4, Process: &parsers.Process{PID: 1640, Image: "dns.exe", Services: []string{"DNS"}}},
			{Kind: parsers.KindProcess, Line: 5, Process: &parsers.Process{PID: 1700, Image: "svchost.exe", Services: []string{"IAS"}}},
		}}
	excluded := testArtifact{info: ArtifactInfo{Path: "bundle.zip!/excluded-udp.txt", Format: parsers.FormatNetshExcluded},
		recs: []parsers.Record{{Kind: parsers.KindPortRange, Line: 6, PortRange: &parsers.PortRange{
			Kind: "excluded", Proto: parsers.UDP, IPVersion: "ipv4", Start: 1812, End: 1813, Administered: true}}}}
	tcpvcon4 := testArtifact{info: ArtifactInfo{Path: "bundle.zip!/tcpvcon.csv", Format: parsers.FormatTcpvcon},
		recs: []parsers.Record{socketRec(1, parsers.Socket{Proto: parsers.TCP, PID: 4, Image: "System"})}}
	emptyNetstat := testArtifact{info: ArtifactInfo{Path: "bundle.zip!/netstat-broken.txt", Format: parsers.FormatNetstat},
		errs: []*parsers.ParseError{{Line: 1, Err: errorString("not a netstat line")}}}
	system := testArtifact{info: ArtifactInfo{Path: "bundle.zip!/System.evtx", Format: parsers.FormatEVTX}, recs: evRecs}

	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "bundle.zip"})
	if err != nil {
		t.Fatal(err)
	}
	netstatID := addArtifact(t, c, netstat)
	tasklistID := addArtifact(t, c, tasklist)
	addArtifact(t, c, excluded)
	addArtifact(t, c, tcpvcon4)
	addArtifact(t, c, emptyNetstat)
	addArtifact(t, c, system)
	// Input works before the case is committed, so analysis can run
	// inside the ingest and a complete case always has its findings.
	if _, err := s.Input(ctx, c.ID()); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	in, err := s.Input(ctx, c.ID())
	if err != nil {
		t.Fatal(err)
	}

	if in.Bundle != "bundle.zip" || in.Host != "SRV01.corp.example" {
		t.Errorf("bundle %q host %q", in.Bundle, in.Host)
	}
	if in.OSVersion != "5.02. 3790 Service Pack 2 Multiprocessor Free" {
		t.Errorf("OSVersion %q", in.OSVersion)
	}
	if !in.HasUTCOffset || in.UTCOffset != -6*time.Hour {
		t.Errorf("UTC offset %v (%v)", in.UTCOffset, in.HasUTCOffset)
	}
	all, err := s.CasesByHash(ctx, "h")
	if err != nil || len(all) != 1 {
		t.Fatal(all, err)
	}
	cs := all[0]
	if cs.Host != in.Host || cs.OSVersion != in.OSVersion || cs.UTCOffset != in.UTCOffset || !cs.HasUTCOffset {
		t.Errorf("case row %+v, %v: facts not recorded", cs, err)
	}

	wantFailure, ok := correlate.DecodeFailure(failure)
	if !ok {
		t.Fatal("7023 not decoded")
	}
	if len(in.Failures) != 1 || !reflect.DeepEqual(in.Failures[0].Failure, wantFailure) || in.Failures[0].Artifact != system.info.Path {
		t.Errorf("failures %+v\nwant %+v", in.Failures, wantFailure)
	}
	if in.Failures[0].Failure.ServiceKey != "IAS" || in.Failures[0].Failure.ErrorCode != 10048 {
		t.Errorf("failure decoded as %+v", in.Failures[0].Failure)
	}
	var wantBoots []correlate.BootRef
	for _, ev := range events[:3] {
		b, ok := correlate.DecodeBoot(ev)
		if !ok {
			t.Fatalf("event %d not a boot", ev.EventID)
		}
		wantBoots = append(wantBoots, correlate.BootRef{Artifact: system.info.Path, Boot: b})
	}
	if !reflect.DeepEqual(in.Boots, wantBoots) {
		t.Errorf("boots %+v\nwant %+v", in.Boots, wantBoots)
	}

	wantSnaps := []correlate.Snapshot{{ID: netstatID, Artifact: netstat.info.Path, Format: parsers.FormatNetstat,
		Host: "SRV01.corp.example", CapturedAt: captured, CaptureSource: parsers.CaptureZipExtended}}
	if !reflect.DeepEqual(in.Snapshots, wantSnaps) {
		t.Errorf("snapshots %+v\nwant %+v (no portless tcpvcon, no empty netstat)", in.Snapshots, wantSnaps)
	}

	wantProcs := []correlate.ProcessRef{
		{SnapshotID: netstatID, Artifact: netstat.info.Path, Line: 5, Process: parsers.Process{PID: 884, Image: "svchost.exe", Services: []string{"RpcSs"}}, CapturedAt: captured},
		{SnapshotID: netstatID, Artifact: netstat.info.Path, Line: 8, Process: parsers.Process{PID: 1640, Image: "dns.exe", Services: []string{"DNS"}}, CapturedAt: captured},
		{SnapshotID: tasklistID, Artifact: tasklist.info.Path, Line: 4, Process: *tasklist.recs[0].Process},
		{SnapshotID: tasklistID, Artifact: tasklist.info.Path, Line: 5, Process: *tasklist.recs[1].Process},
		{SnapshotID: tasklistID + 2, Artifact: tcpvcon4.info.Path, Line: 1, Process: parsers.Process{PID: 4, Image: "System"}},
	}
	if !reflect.DeepEqual(in.Processes, wantProcs) {
		t.Errorf("processes %+v\nwant %+v", in.Processes, wantProcs)
	}
	wantRanges := []correlate.RangeRef{{Artifact: excluded.info.Path, Line: 6, Range: *excluded.recs[0].PortRange}}
	if !reflect.DeepEqual(in.Ranges, wantRanges) {
		t.Errorf("ranges %+v\nwant %+v", in.Ranges, wantRanges)
	}

	owners, err := in.Owners.OwnersOf(ctx, parsers.UDP, 1812)
	if err != nil {
		t.Fatal(err)
	}
	if want := []correlate.SocketRef{{SnapshotID: netstatID, Line: 7, Socket: dnsPool}}; !reflect.DeepEqual(owners, want) {
		t.Errorf("owners of UDP 1812: %+v\nwant %+v", owners, want)
	}
	if n, err := in.Owners.CountByPID(ctx, netstatID, parsers.UDP, 1640); err != nil || n != 2 {
		t.Errorf("CountByPID = %d, %v; want 2", n, err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestOwnersOrdering(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	sock := func(line, pid int, proto parsers.Proto, port uint16) parsers.Record {
		return socketRec(line, parsers.Socket{Proto: proto, LocalPort: port, HasPort: true, PID: pid})
	}
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b"})
	if err != nil {
		t.Fatal(err)
	}
	first := addArtifact(t, c, testArtifact{info: netstatInfo("1.txt"), recs: []parsers.Record{
		sock(3, 10, parsers.TCP, 80), sock(9, 11, parsers.TCP, 80), sock(10, 12, parsers.UDP, 80), sock(11, 13, parsers.TCP, 8080)}})
	second := addArtifact(t, c, testArtifact{info: netstatInfo("2.txt"), recs: []parsers.Record{
		sock(2, 20, parsers.TCP, 80), sock(4, 21, parsers.TCP, 80)}})
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Another case's sockets on the same port are not this case's owners.
	ingest(t, s, CaseInfo{BundleHash: "other", BundlePath: "o"}, testArtifact{info: netstatInfo("1.txt"), recs: []parsers.Record{sock(1, 99, parsers.TCP, 80)}})

	got, err := s.Owners(c.ID()).OwnersOf(ctx, parsers.TCP, 80)
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		snap int64
		line int
		pid  int
	}
	want := []key{{first, 3, 10}, {first, 9, 11}, {second, 2, 20}, {second, 4, 21}}
	var gotKeys []key
	for _, r := range got {
		gotKeys = append(gotKeys, key{r.SnapshotID, r.Line, r.Socket.PID})
	}
	if !reflect.DeepEqual(gotKeys, want) {
		t.Errorf("owners %v, want %v", gotKeys, want)
	}
}

// TestOwnersUsesIndex checks the query plans of the owner lookups.
func TestOwnersUsesIndex(t *testing.T) {
	s := openTest(t)
	ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "b"}, testArtifact{info: netstatInfo("1.txt"), recs: []parsers.Record{
		socketRec(1, parsers.Socket{Proto: parsers.TCP, LocalPort: 80, HasPort: true, PID: 4})}})
	tests := []struct {
		name  string
		query string
		args  []any
		want  string
	}{
		{"owners_of", ownersQuery, []any{"TCP", 80, 1}, "USING INDEX sockets_proto_port (proto=? AND local_port=?)"},
		{"count_by_pid", countQuery, []any{1, "TCP", 4}, "USING COVERING INDEX sockets_artifact_proto_pid (artifact_id=? AND proto=? AND pid=?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := s.db.Query("EXPLAIN QUERY PLAN "+tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if got := strings.Join(plan, "; "); !strings.Contains(got, tt.want) {
				t.Errorf("plan %q does not use %q", got, tt.want)
			}
		})
	}
}
