package store

import (
	"context"
	"errors"
	"testing"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/bundle"
)

// tally counts what parsers yielded for one artifact, to compare with
// what the store kept.
type tally struct {
	art                          *parsers.Artifact
	sockets, failures, boots     int
	processes, ranges, snapshots int
}

// ingestPaths ingests every file under paths as one case, the way the
// analyze command does: Walk, Read, one artifact transaction per file.
func ingestPaths(t *testing.T, s *Store, hash string, paths ...string) (int64, map[string]*tally) {
	t.Helper()
	ctx := context.Background()
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: hash, BundlePath: paths[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort(ctx)
	got := map[string]*tally{}
	for _, p := range paths {
		for e, err := range bundle.Walk(ctx, p, bundle.DefaultLimits()) {
			if err != nil {
				t.Fatal(err)
			}
			art, seq := parsers.Read(ctx, e.Name, e.File, "")
			w, err := c.AddArtifact(ctx, ArtifactInfo{Path: e.Name, Format: art.Format, ParserVersion: art.ParserVersion,
				Encoding: art.Encoding, Size: e.Size, ModTime: e.ModTime, ModTimeSource: e.ModTimeSource,
				CapturedAt: e.ModTime, CaptureSource: e.ModTimeSource})
			if err != nil {
				t.Fatal(err)
			}
			ta := &tally{art: art}
			var counts EventCounts
			for rec, err := range seq {
				var pe *parsers.ParseError
				if errors.As(err, &pe) {
					if err := w.AddError(pe); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := addRecord(w, rec, false, &counts); err != nil {
					t.Fatal(err)
				}
				switch {
				case rec.Socket != nil:
					ta.sockets++
					if rec.Socket.Image != "" {
						ta.processes++ // an upper bound: one per distinct PID/image
					}
				case rec.Process != nil:
					ta.processes++
				case rec.PortRange != nil:
					ta.ranges++
				case rec.Event != nil:
					if _, ok := correlate.DecodeFailure(rec.Event); ok {
						ta.failures++
					}
					if _, ok := correlate.DecodeBoot(rec.Event); ok {
						ta.boots++
					}
				}
			}
			if err := w.AddCounts(&counts); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			got[e.Name] = ta
		}
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return c.ID(), got
}

// TestIngestRealArtifacts runs the sample bundle and two event log exports
// (one damaged) through parsers into the store, twice, and checks that
// the store kept what the parsers gave.
func TestIngestRealArtifacts(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	paths := []string{"../testdata/bundles/apache-httpsys", "../testdata/evtxml/python-evtx_system_30.xml", "../testdata/evtxml/wevtutil_damaged.xml"}
	ingestPaths(t, s, "sample", paths...)
	id, tallies := ingestPaths(t, s, "sample", paths...)
	if cases, err := s.Cases(ctx); err != nil || len(cases) != 1 || cases[0].ID != id {
		t.Fatalf("cases after two ingests: %+v, %v", cases, err)
	}
	arts, err := s.Artifacts(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != len(tallies) {
		t.Fatalf("%d artifacts stored, %d read", len(arts), len(tallies))
	}
	var want tally
	warnings := 0
	for _, a := range arts {
		ta := tallies[a.Path]
		if a.Records != ta.art.Records || a.WarningCount != ta.art.ErrorCount || a.Format != ta.art.Format ||
			a.Locale != ta.art.Locale || a.Variant != ta.art.Variant {
			t.Errorf("%s: stored %s %d records %d warnings locale %q variant %q; parsed %s %d %d %q %q", a.Path, a.Format,
				a.Records, a.WarningCount, a.Locale, a.Variant, ta.art.Format, ta.art.Records, ta.art.ErrorCount, ta.art.Locale, ta.art.Variant)
		}
		if got := count(t, s, "sockets WHERE artifact_id = ?", a.ID); got != ta.sockets {
			t.Errorf("%s: %d sockets stored, %d parsed", a.Path, got, ta.sockets)
		}
		want.failures += ta.failures
		want.boots += ta.boots
		want.ranges += ta.ranges
		want.processes += ta.processes
		if ta.sockets > 0 {
			want.snapshots++
		}
		warnings += a.WarningCount
	}
	if warnings == 0 {
		t.Error("the damaged export gave no warning")
	}
	in, err := s.Input(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d artifacts, %d snapshots, %d failures, %d boots, %d processes, %d ranges, %d warnings, host %q, OS %q",
		len(arts), len(in.Snapshots), len(in.Failures), len(in.Boots), len(in.Processes), len(in.Ranges), warnings, in.Host, in.OSVersion)
	if len(in.Failures) != want.failures || len(in.Boots) != want.boots || len(in.Ranges) != want.ranges ||
		len(in.Snapshots) != want.snapshots || len(in.Processes) == 0 || len(in.Processes) > want.processes {
		t.Errorf("input: %d failures %d boots %d ranges %d snapshots %d processes; want %d %d %d %d ≤%d",
			len(in.Failures), len(in.Boots), len(in.Ranges), len(in.Snapshots), len(in.Processes),
			want.failures, want.boots, want.ranges, want.snapshots, want.processes)
	}
	if want.failures == 0 || want.boots == 0 || want.snapshots == 0 {
		t.Errorf("the fixtures should hold failures, boots and a snapshot: %+v", want)
	}
}
