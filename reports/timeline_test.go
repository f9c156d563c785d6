package reports

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/store"
)

// TestTimeline: the axis spans the certain times, in the host's zone; a
// snapshot whose time is only a file time months away is pinned to the
// end instead of squeezing the rest into a corner.
func TestTimeline(t *testing.T) {
	c := &Case{
		Zone:  Zone{Offset: -6 * time.Hour, Known: true},
		Boots: []correlate.BootRef{{Artifact: "System.evtx", Boot: correlate.BootMarker{Kind: correlate.BootStart, Time: base, BootTime: base}}},
		Failures: []store.FailureRow{{Artifact: "System.evtx", Failure: correlate.Failure{Kind: correlate.KindServiceFailure,
			Time: base.Add(2 * time.Minute), Service: "IAS", EventID: 7023}}},
		Snapshots: []correlate.Snapshot{
			{Artifact: "b/netstat.txt", CapturedAt: base.Add(30 * time.Minute), CaptureSource: parsers.CaptureTimestampLine},
			{Artifact: "b/tcpvcon.csv", CapturedAt: base.Add(200 * 24 * time.Hour), CaptureSource: parsers.CaptureFileModTime},
		},
		Findings: []correlate.Finding{{Verdict: correlate.Confirmed, Service: "IAS", FailureTime: base.Add(2 * time.Minute), OwnerPID: -1}},
	}
	tl := newTimeline(c)
	if tl == nil {
		t.Fatal("no timeline")
	}
	var labels []string
	for _, tk := range tl.Ticks {
		labels = append(labels, tk.Label)
	}
	// 08:00–08:30 UTC is 02:00–02:30 at UTC-06:00.
	if want := []string{"02:00", "02:05", "02:10", "02:15", "02:20", "02:25", "02:30"}; !slices.Equal(labels, want) {
		t.Errorf("ticks %q, want %q", labels, want)
	}
	var pinned *tlMark
	for i, m := range tl.Marks {
		if strings.Contains(m.Title, "tcpvcon.csv") {
			pinned = &tl.Marks[i]
		}
		if m.X < tlLeft-1 || m.X > tlWidth-tlRight+1 {
			t.Errorf("mark %q at x=%v, outside the axis", m.Title, m.X)
		}
	}
	if pinned == nil || !strings.Contains(pinned.Title, "lies off the axis") ||
		pinned.X < tlWidth-tlRight-1 || pinned.Class != "tl-snapshot-uncertain" {
		t.Errorf("far file-time snapshot: %+v, want it pinned to the end and labelled", pinned)
	}
	if !strings.Contains(tl.Caption, "UTC-06:00") {
		t.Errorf("caption %q does not name the zone", tl.Caption)
	}
	if newTimeline(&Case{}) != nil {
		t.Error("a case with nothing timed has a timeline")
	}
}
