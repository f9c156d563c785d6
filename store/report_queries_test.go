package store

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

// reportCase ingests a case with a netstat -anob snapshot (two sockets
// with ports, one without), a tasklist, and a System log with a boot, two
// failures (the later one first in the file) and a 6008 giving UTC+1.
func reportCase(t *testing.T, s *Store, hf *HostFacts) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b.zip"})
	if err != nil {
		t.Fatal(err)
	}
	any4 := netip.MustParseAddr("0.0.0.0")
	ns := netstatInfo("b.zip!/netstat.txt")
	addArtifact(t, c, testArtifact{info: ns, recs: []parsers.Record{
		socketRec(5, parsers.Socket{Proto: parsers.UDP, LocalAddr: any4, LocalPort: 1812, HasPort: true, PID: 1640, Image: "dns.exe", Services: []string{"DNS"}}),
		socketRec(6, parsers.Socket{Proto: parsers.UDP, LocalAddr: any4, LocalPort: 1813, HasPort: true, PID: 1640, Image: "dns.exe", Services: []string{"DNS"}}),
		socketRec(7, parsers.Socket{Proto: parsers.TCP, PID: 4, Image: "System"}),
	}})
	addArtifact(t, c, testArtifact{info: ArtifactInfo{Path: "b.zip!/tasklist.txt", Format: parsers.FormatTasklist}, recs: []parsers.Record{
		{Kind: parsers.KindProcess, Line: 4, Process: &parsers.Process{PID: 1640, Image: "dns.exe", Services: []string{"DNS"}}},
	}})
	later := scmEvent(7023, 12, "Internet Authentication Service", "%%10048")
	later.Time = later.Time.Add(time.Hour)
	dirty := &parsers.Event{Channel: "System", Provider: "EventLog", EventID: 6008, RecordID: 9,
		Time: time.Date(2026, 2, 28, 8, 0, 0, 0, time.UTC),
		// 2026-02-28 09:05:00 local, 08:05:00 UTC: UTC+1.
		Binary: "EA07020006001C000900050000000000" + "EA07020006001C000800050000000000"}
	addArtifact(t, c, testArtifact{info: ArtifactInfo{Path: "b.zip!/System.evtx", Format: parsers.FormatEVTX}, recs: []parsers.Record{
		{Kind: parsers.KindEvent, Offset: 0x1200, Event: &parsers.Event{Channel: "System", Provider: "EventLog", EventID: 6005, RecordID: 10,
			Time: time.Date(2026, 2, 28, 8, 0, 0, 0, time.UTC)}},
		{Kind: parsers.KindEvent, Offset: 0x1400, Event: later},
		{Kind: parsers.KindEvent, Offset: 0x1600, Event: scmEvent(7000, 11, "Fax", "%%1058")},
		{Kind: parsers.KindEvent, Offset: 0x1800, Event: dirty},
	}})
	if hf != nil {
		if err := c.SetHostFacts(ctx, c.ID(), *hf); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return c.ID()
}

func TestHostFacts(t *testing.T) {
	central := HostFacts{OSName: "Microsoft Windows Server 2003 5.2.3790", TimeZone: "(UTC-06:00) Central Time (US & Canada)",
		ZoneOffset: -6 * time.Hour, HasZone: true, ZoneSource: ZoneFromSysteminfo}
	tests := []struct {
		name string
		set  *HostFacts
		want HostFacts
	}{
		{"set", &central, central},
		{"flag_wins_over_the_log", &HostFacts{ZoneOffset: 2 * time.Hour, HasZone: true, ZoneSource: ZoneFromFlag},
			HostFacts{ZoneOffset: 2 * time.Hour, HasZone: true, ZoneSource: ZoneFromFlag}},
		// Nothing recorded: event 6008's offset (local 9:00 at 8:00 UTC).
		{"none_falls_back_to_6008", nil, HostFacts{ZoneOffset: time.Hour, HasZone: true, ZoneSource: ZoneFromEvent6008}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			id := reportCase(t, s, tt.set)
			got, err := s.HostFacts(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			c, err := s.Case(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !c.HasUTCOffset || c.UTCOffset != time.Hour {
				t.Errorf("cases.utc_offset_seconds = %v %v: SetHostFacts must leave 6008's offset alone", c.UTCOffset, c.HasUTCOffset)
			}
		})
	}
}

func TestSetHostFactsAfterCommit(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetHostFacts(ctx, c.ID(), HostFacts{OSName: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("SetHostFacts after Commit: %v, want ErrClosed", err)
	}
	if _, err := s.HostFacts(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("HostFacts of no case: %v, want ErrNotFound", err)
	}
	if _, err := s.Case(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Case of no case: %v, want ErrNotFound", err)
	}
}

func TestReportQueries(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	id := reportCase(t, s, nil)
	other := reportCase2(t, s) // must not leak into id's results

	fails, err := s.FailureRows(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fails {
		got = append(got, f.Failure.Service)
		if f.Artifact != "b.zip!/System.evtx" || f.Offset == 0 {
			t.Errorf("failure %s: artifact %q offset %d, want System.evtx and its offset", f.Failure.Service, f.Artifact, f.Offset)
		}
	}
	if want := []string{"Fax", "Internet Authentication Service"}; !slices.Equal(got, want) {
		t.Errorf("failures %q, want %q (time order)", got, want)
	}

	// Both sockets are dns.exe's UDP ones: in line order.
	var ports []uint16
	for r, err := range s.CaseSockets(ctx, id) {
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, r.Socket.LocalPort)
		if r.Socket.Image != "dns.exe" || !slices.Equal(r.Socket.Services, []string{"DNS"}) {
			t.Errorf("socket %+v", r.Socket)
		}
	}
	if want := []uint16{1812, 1813}; !slices.Equal(ports, want) {
		t.Errorf("sockets %v, want %v (with ports, in order)", ports, want)
	}
	// Breaking out of the loop closes the query: the store stays usable.
	for range s.CaseSockets(ctx, id) {
		break
	}
	if _, err := s.Cases(ctx); err != nil {
		t.Fatal(err)
	}

	var procs []ProcessRow
	for r, err := range s.CaseProcesses(ctx, id) {
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, r)
	}
	// netstat -b names dns.exe (2 sockets) and System (1, without a port);
	// tasklist names dns.exe.
	if len(procs) != 3 || procs[0].Sockets != 2 || procs[0].Line != 5 || procs[2].Sockets != -1 || procs[2].Line != 4 {
		t.Errorf("processes %+v", procs)
	}

	var events []EventRow
	for r, err := range s.CaseEvents(ctx, id) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, r)
	}
	// In record ID order: 9 (6008), 10, 11, 12 (the 7023).
	if len(events) != 4 || events[0].Event.RecordID != 9 || events[3].Event.RecordID != 12 || events[3].Offset != 0x1400 ||
		!slices.Equal(events[3].Event.Data, []parsers.Field{{Name: "param1", Value: "Internet Authentication Service"}, {Name: "param2", Value: "%%10048"}}) {
		t.Errorf("events %+v", events)
	}

	counts, err := s.TableCounts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if want := (TableCounts{Sockets: 2, Processes: 3, Events: 4}); counts != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}

	snaps, err := s.Snapshots(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || snaps[0].Artifact != "b.zip!/netstat.txt" {
		t.Errorf("snapshots %+v", snaps)
	}
	boots, err := s.Boots(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(boots) != 2 || boots[0].Boot.Kind != correlate.BootStart {
		t.Errorf("boots %+v", boots)
	}
	if rs, err := s.PortRanges(ctx, other); err != nil || len(rs) != 1 || rs[0].Range.Start != 9948 {
		t.Errorf("port ranges %+v, %v", rs, err)
	}
}

// reportCase2 is a second case with one port range.
func reportCase2(t *testing.T, s *Store) int64 {
	t.Helper()
	return ingest(t, s, CaseInfo{BundleHash: "h2", BundlePath: "b2"}, testArtifact{
		info: ArtifactInfo{Path: "b2/excluded.txt", Format: parsers.FormatNetshExcluded},
		recs: []parsers.Record{{Kind: parsers.KindPortRange, Line: 6, PortRange: &parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 9948, End: 10047}}},
	}, testArtifact{info: netstatInfo("b2/netstat.txt"), recs: []parsers.Record{
		socketRec(5, parsers.Socket{Proto: parsers.UDP, LocalAddr: netip.MustParseAddr("0.0.0.0"), LocalPort: 53, HasPort: true, PID: 9}),
	}})
}

// TestCaseSocketsCancelled: a cancelled context ends the iteration with
// its error.
func TestCaseSocketsCancelled(t *testing.T) {
	s := openTest(t)
	id := reportCase(t, s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var last error
	for _, err := range s.CaseSockets(ctx, id) {
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", last)
	}
}
