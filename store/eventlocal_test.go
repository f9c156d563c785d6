package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// TestExportEventTimesAtCommit: events read from a text export carry the
// host's wall clock. With the case's zone known, Commit moves them (and
// the failures and boot markers decoded from them) to UTC; without it they
// stay local, no UTC column holds them, and Input says so (TimeLocal).
// Input also gives each failure and boot marker its line in the export.
func TestExportEventTimesAtCommit(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	wall := time.Date(2026, 3, 2, 9, 1, 30, 0, time.UTC) // the host's clock
	recs := []parsers.Record{
		{Kind: parsers.KindEvent, Line: 4, Event: &parsers.Event{Provider: "EventLog", EventID: 6005,
			Time: wall.Add(-time.Minute), TimeLocal: true, Message: "Der Ereignisprotokolldienst wurde gestartet."}},
		{Kind: parsers.KindEvent, Line: 2, Event: &parsers.Event{Provider: "Service Control Manager", EventID: 7023,
			Time: wall, TimeLocal: true, Message: "Der Dienst \"IAS\" wurde mit folgendem Fehler beendet: \nNormalerweise darf jede Socketadresse (Protokoll, Netzwerkadresse oder Anschluss) nur jeweils einmal verwendet werden."}},
	}
	info := func(path string) ArtifactInfo {
		return ArtifactInfo{Path: path, Format: parsers.FormatEventExport}
	}
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: "b.zip"})
	if err != nil {
		t.Fatal(err)
	}
	known := addArtifact(t, c, testArtifact{info: info("a/System.csv"), recs: recs})
	unknown := addArtifact(t, c, testArtifact{info: info("b/System.csv"), recs: recs})
	if err := c.Split(ctx, []CasePart{{Host: "A", Artifacts: []int64{known}}, {Host: "B", Artifacts: []int64{unknown}}}); err != nil {
		t.Fatal(err)
	}
	ids := c.IDs()
	if err := c.SetHostFacts(ctx, ids[0], HostFacts{ZoneOffset: time.Hour, HasZone: true, ZoneSource: ZoneFromFlag}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetHostFacts(ctx, ids[1], HostFacts{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		caseID    int64
		want      time.Time
		wantLocal bool
	}{
		{"zone_known", ids[0], wall.Add(-time.Hour), false},
		{"zone_unknown", ids[1], wall, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := s.Input(ctx, tt.caseID)
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Failures) != 1 || len(in.Boots) != 1 {
				t.Fatalf("%d failures, %d boots, want 1 and 1", len(in.Failures), len(in.Boots))
			}
			f, b := in.Failures[0], in.Boots[0]
			if !f.Failure.Time.Equal(tt.want) || f.TimeLocal != tt.wantLocal || f.Line != 2 {
				t.Errorf("failure at %v local=%v line %d, want %v local=%v line 2", f.Failure.Time, f.TimeLocal, f.Line, tt.want, tt.wantLocal)
			}
			if f.Failure.Service != "IAS" || f.Failure.ErrorCode != 10048 {
				t.Errorf("failure %q %d, want IAS 10048", f.Failure.Service, f.Failure.ErrorCode)
			}
			if want := tt.want.Add(-time.Minute); !b.Boot.BootTime.Equal(want) || b.TimeLocal != tt.wantLocal || b.Line != 4 {
				t.Errorf("boot at %v local=%v line %d, want %v local=%v line 4", b.Boot.BootTime, b.TimeLocal, b.Line, want, tt.wantLocal)
			}
			var utc sql.NullString
			if err := s.db.QueryRow(`SELECT MAX(f.event_time) FROM failures f JOIN artifacts a ON a.id = f.artifact_id WHERE a.case_id = ?`,
				tt.caseID).Scan(&utc); err != nil {
				t.Fatal(err)
			}
			if utc.Valid == tt.wantLocal {
				t.Errorf("failures.event_time = %v with local=%v", utc, tt.wantLocal)
			}
		})
	}
}
