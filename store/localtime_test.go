package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// TestLocalTimesAtCommit ingests one bundle of two hosts whose artifacts
// carry local times (a `%date% %time%` capture line, a zip DOS file time,
// Get-NetTCPConnection bind times): the case whose zone becomes known
// gets them as UTC with their flags cleared, the other keeps them as
// local text without a Z, and no UTC column holds a local time.
func TestLocalTimesAtCommit(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	wall := time.Date(2026, 2, 28, 8, 0, 0, 0, time.UTC) // the host's clock, in the UTC location
	bind := time.Date(2026, 2, 28, 7, 59, 58, 123456789, time.UTC)
	psInfo := func(path string) ArtifactInfo {
		return ArtifactInfo{Path: path, Format: parsers.FormatPSNetTCP, ModTime: wall.Add(time.Minute),
			ModTimeSource: parsers.CaptureZipDOS, CapturedAt: wall, CapturedLocal: true,
			CaptureSource: parsers.CaptureTimestampLine}
	}
	socks := []parsers.Record{
		socketRec(2, parsers.Socket{Proto: parsers.TCP, LocalPort: 1433, HasPort: true, State: parsers.StateListening,
			PID: 1200, CreatedAt: bind, CreatedLocal: true}),
		socketRec(3, parsers.Socket{Proto: parsers.TCP, LocalPort: 80, HasPort: true, State: parsers.StateListening,
			PID: 4, CreatedAt: bind.Add(time.Second)}), // UTC already
	}
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b.zip"})
	if err != nil {
		t.Fatal(err)
	}
	known := addArtifact(t, c, testArtifact{info: psInfo("sql01/nettcp.csv"), recs: socks})
	unknown := addArtifact(t, c, testArtifact{info: psInfo("web01/nettcp.csv"), recs: socks})
	utc := addArtifact(t, c, testArtifact{info: netstatInfo("sql01/ns.txt"), recs: socks[1:]})
	if err := c.Split(ctx, []CasePart{
		{Host: "SQL01", Artifacts: []int64{known, utc}},
		{Host: "WEB01", Artifacts: []int64{unknown}},
	}); err != nil {
		t.Fatal(err)
	}
	ids := c.IDs()
	const offset = -6 * time.Hour // Central Time: 08:00 local is 14:00 UTC
	if err := c.SetHostFacts(ctx, ids[0], HostFacts{ZoneOffset: offset, HasZone: true, ZoneSource: ZoneFromFlag}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetHostFacts(ctx, ids[1], HostFacts{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	t.Run("known_zone_is_utc", func(t *testing.T) {
		arts, err := s.Artifacts(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		a := arts[0]
		if a.ID != known || !a.CapturedAt.Equal(wall.Add(-offset)) || a.CapturedLocal {
			t.Errorf("capture %d: %v local=%v, want %v UTC", a.ID, a.CapturedAt, a.CapturedLocal, wall.Add(-offset))
		}
		if !a.ModTime.Equal(wall.Add(time.Minute-offset)) || a.ModTimeLocal {
			t.Errorf("file time %v local=%v", a.ModTime, a.ModTimeLocal)
		}
		if a.CaptureSource != parsers.CaptureTimestampLine || a.ModTimeSource != parsers.CaptureZipDOS {
			t.Errorf("sources %q %q changed", a.CaptureSource, a.ModTimeSource)
		}
		var at, atLocal, mtime, mtimeLocal sql.NullString
		if err := s.db.QueryRow(`SELECT captured_at, captured_at_local, mtime, mtime_local FROM artifacts WHERE id = ?`, known).
			Scan(&at, &atLocal, &mtime, &mtimeLocal); err != nil {
			t.Fatal(err)
		}
		if at.String != "2026-02-28T14:00:00.000000000Z" || atLocal.Valid || mtime.String != "2026-02-28T14:01:00.000000000Z" || mtimeLocal.Valid {
			t.Errorf("columns %v %v %v %v", at, atLocal, mtime, mtimeLocal)
		}
		sn, err := s.Snapshots(ctx, ids[0])
		if err != nil || len(sn) != 2 || sn[0].CapturedLocal || !sn[0].CapturedAt.Equal(wall.Add(-offset)) {
			t.Errorf("snapshots %+v, %v", sn, err)
		}
		var got []time.Time
		for r, err := range s.CaseSockets(ctx, ids[0]) {
			if err != nil {
				t.Fatal(err)
			}
			if r.Socket.CreatedLocal {
				t.Errorf("socket %d:%d still local", r.SnapshotID, r.Line)
			}
			got = append(got, r.Socket.CreatedAt)
		}
		// CaseSockets' order: per artifact, proto, then PID (4 before 1200).
		want := []time.Time{bind.Add(time.Second), bind.Add(-offset), bind.Add(time.Second)}
		if len(got) != len(want) || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) || !got[2].Equal(want[2]) {
			t.Errorf("bind times %v, want %v (the local one converted, the UTC ones unchanged)", got, want)
		}
	})
	t.Run("unknown_zone_stays_local", func(t *testing.T) {
		arts, err := s.Artifacts(ctx, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		a := arts[0]
		if !a.CapturedAt.Equal(wall) || !a.CapturedLocal || !a.ModTime.Equal(wall.Add(time.Minute)) || !a.ModTimeLocal {
			t.Errorf("capture %v local=%v, file time %v local=%v: want the wall clock, flagged", a.CapturedAt,
				a.CapturedLocal, a.ModTime, a.ModTimeLocal)
		}
		var at, atLocal, mtime, mtimeLocal sql.NullString
		if err := s.db.QueryRow(`SELECT captured_at, captured_at_local, mtime, mtime_local FROM artifacts WHERE id = ?`, unknown).
			Scan(&at, &atLocal, &mtime, &mtimeLocal); err != nil {
			t.Fatal(err)
		}
		if at.Valid || atLocal.String != "2026-02-28T08:00:00.000000000" || mtime.Valid || mtimeLocal.String != "2026-02-28T08:01:00.000000000" {
			t.Errorf("columns %v %v %v %v", at, atLocal, mtime, mtimeLocal)
		}
		var created, createdLocal sql.NullString
		if err := s.db.QueryRow(`SELECT created_at, created_at_local FROM sockets WHERE artifact_id = ? AND line = 2`, unknown).
			Scan(&created, &createdLocal); err != nil {
			t.Fatal(err)
		}
		if created.Valid || createdLocal.String != "2026-02-28T07:59:58.123456789" {
			t.Errorf("bind time columns %v %v", created, createdLocal)
		}
		for r, err := range s.CaseSockets(ctx, ids[1]) {
			if err != nil {
				t.Fatal(err)
			}
			if r.Line == 2 && (!r.Socket.CreatedLocal || !r.Socket.CreatedAt.Equal(bind)) {
				t.Errorf("bind time %v local=%v, want %v flagged", r.Socket.CreatedAt, r.Socket.CreatedLocal, bind)
			}
		}
	})
	t.Run("no_local_time_with_z", func(t *testing.T) {
		checkUTCColumns(t, s)
	})
}

// checkUTCColumns checks every time column pair of the database: a UTC
// column holds only RFC 3339 UTC text of a row not flagged local, and a
// local column only text without a zone.
func checkUTCColumns(t *testing.T, s *Store) {
	t.Helper()
	for _, q := range []string{
		`SELECT captured_at, captured_at_local, captured_local FROM artifacts`,
		`SELECT mtime, mtime_local, mtime_local IS NOT NULL FROM artifacts`,
		`SELECT created_at, created_at_local, created_local FROM sockets`,
		`SELECT captured_at, captured_at_local, captured_local FROM v_port_owners`,
		`SELECT created_at, created_at_local, created_local FROM v_port_owners`,
	} {
		rows, err := s.db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var u, l sql.NullString
			var local bool
			if err := rows.Scan(&u, &l, &local); err != nil {
				t.Fatal(err)
			}
			n++
			if u.Valid && (local || !strings.HasSuffix(u.String, "Z") || l.Valid) {
				t.Errorf("%s: UTC %q beside local %v (flag %v)", q, u.String, l, local)
			}
			if l.Valid && (!local || strings.ContainsAny(l.String, "Z+")) {
				t.Errorf("%s: local %q (flag %v)", q, l.String, local)
			}
		}
		rows.Close()
		if n == 0 {
			t.Errorf("%s: no rows", q)
		}
	}
}

// TestLocalTimeFromEvent6008 converts with the 6008 offset when the
// caller recorded no zone, as HostFacts does for reports.
func TestLocalTimeFromEvent6008(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	wall := time.Date(2026, 2, 28, 8, 0, 0, 0, time.UTC)
	info := netstatInfo("ns.txt")
	info.CapturedAt, info.CapturedLocal, info.CaptureSource = wall, true, parsers.CaptureZipDOS
	id := ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "b"},
		testArtifact{info: info, recs: []parsers.Record{socketRec(1, parsers.Socket{Proto: parsers.UDP, LocalPort: 1812, HasPort: true, PID: 9})}},
		testArtifact{info: ArtifactInfo{Path: "System.evtx", Format: parsers.FormatEVTX},
			recs: []parsers.Record{eventRec(&parsers.Event{Channel: "System", Provider: "EventLog", EventID: 6008, RecordID: 9,
				Time: wall.Add(-time.Hour),
				// 2026-02-28 09:05:00 local, 08:05:00 UTC: UTC+1.
				Binary: "EA07020006001C000900050000000000" + "EA07020006001C000800050000000000"})}})
	hf, err := s.HostFacts(ctx, id)
	if err != nil || !hf.HasZone || hf.ZoneOffset != time.Hour {
		t.Fatalf("host facts %+v, %v: want the 6008 offset +1h", hf, err)
	}
	arts, err := s.Artifacts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a := arts[0]; a.CapturedLocal || !a.CapturedAt.Equal(wall.Add(-time.Hour)) {
		t.Errorf("capture %v local=%v, want %v UTC", a.CapturedAt, a.CapturedLocal, wall.Add(-time.Hour))
	}
	checkUTCColumns(t, s)
}

// TestLocalTimesQueryUsesIndex: the commit finds a case's local bind
// times through the partial index that holds only them, not by reading
// every socket of the case.
func TestLocalTimesQueryUsesIndex(t *testing.T) {
	s := openTest(t)
	rows, err := s.db.Query("EXPLAIN QUERY PLAN "+localColumns[2].list, 1, 0, localChunk)
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
	if got := strings.Join(plan, "; "); !strings.Contains(got, "sockets_created_local") {
		t.Errorf("plan %q does not use sockets_created_local", got)
	}
}

// TestLocalTimesPerBoot converts each local time with the offset of the
// boot it falls in: a summer capture with the summer boot's 6008 (UTC+2),
// a winter one with the winter boot's (UTC+1), though the case's offset
// (the latest 6008) is UTC+1. A zone from the user's flag is every boot's.
func TestLocalTimesPerBoot(t *testing.T) {
	summer := time.Date(2026, 8, 9, 5, 0, 0, 0, time.UTC)
	winter := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	augLocal := time.Date(2026, 8, 10, 8, 40, 0, 0, time.UTC)
	novLocal := time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC)
	bindLocal := time.Date(2026, 8, 10, 8, 30, 0, 0, time.UTC)
	boot := func(start time.Time, rec uint64, offset time.Duration) []parsers.Record {
		return []parsers.Record{
			eventRec(&parsers.Event{Channel: "System", Provider: "Microsoft-Windows-Kernel-General", EventID: 12, RecordID: rec,
				Time: start.Add(20 * time.Second), Data: []parsers.Field{{Name: "StartTime", Value: start.Format(time.RFC3339Nano)}}}),
			eventRec(&parsers.Event{Channel: "System", Provider: "EventLog", EventID: 6008, RecordID: rec + 1,
				Time: start.Add(30 * time.Second), Binary: evtxwrite.SystemTimesHex(start.Add(-10*time.Minute), offset)}),
		}
	}
	tests := []struct {
		name          string
		facts         *HostFacts
		aug, nov, bnd time.Time
	}{
		{"per_boot", nil, augLocal.Add(-2 * time.Hour), novLocal.Add(-time.Hour), bindLocal.Add(-2 * time.Hour)},
		{"flag_for_every_boot", &HostFacts{ZoneOffset: time.Hour, HasZone: true, ZoneSource: ZoneFromFlag},
			augLocal.Add(-time.Hour), novLocal.Add(-time.Hour), bindLocal.Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			ctx := context.Background()
			local := func(path string, at time.Time) ArtifactInfo {
				info := netstatInfo(path)
				info.CapturedAt, info.CapturedLocal, info.CaptureSource = at, true, parsers.CaptureTimestampLine
				return info
			}
			c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b"})
			if err != nil {
				t.Fatal(err)
			}
			sock := parsers.Socket{Proto: parsers.TCP, LocalPort: 3101, HasPort: true, State: parsers.StateListening, PID: 2112}
			addArtifact(t, c, testArtifact{info: local("netstat-ano-aug.txt", augLocal), recs: []parsers.Record{socketRec(7, sock)}})
			addArtifact(t, c, testArtifact{info: local("netstat-ano-nov.txt", novLocal), recs: []parsers.Record{socketRec(7, sock)}})
			bound := sock
			bound.CreatedAt, bound.CreatedLocal = bindLocal, true
			ps := ArtifactInfo{Path: "nettcp.csv", Format: parsers.FormatPSNetTCP}
			addArtifact(t, c, testArtifact{info: ps, recs: []parsers.Record{socketRec(2, bound)}})
			addArtifact(t, c, testArtifact{info: ArtifactInfo{Path: "System.evtx", Format: parsers.FormatEVTX},
				recs: append(boot(summer, 1, 2*time.Hour), boot(winter, 10, time.Hour)...)})
			if tt.facts != nil {
				if err := c.SetHostFacts(ctx, c.ID(), *tt.facts); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			arts, err := s.Artifacts(ctx, c.ID())
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]time.Time{"netstat-ano-aug.txt": tt.aug, "netstat-ano-nov.txt": tt.nov}
			for _, a := range arts {
				if w, ok := want[a.Path]; ok && (a.CapturedLocal || !a.CapturedAt.Equal(w)) {
					t.Errorf("%s: captured %v (local %v), want %v UTC", a.Path, a.CapturedAt, a.CapturedLocal, w)
				}
			}
			var created string
			if err := s.db.QueryRow(`SELECT created_at FROM sockets WHERE created_at IS NOT NULL`).Scan(&created); err != nil {
				t.Fatal(err)
			}
			if got, err := time.Parse(time.RFC3339Nano, created); err != nil || !got.Equal(tt.bnd) {
				t.Errorf("bind time %q, want %v", created, tt.bnd)
			}
			checkUTCColumns(t, s)
		})
	}
}
