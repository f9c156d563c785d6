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

// TestTimelineSessions: the bands are correlate's boot sessions
// (BuildSessions), numbered as the findings' reasons number them.
func TestTimelineSessions(t *testing.T) {
	start := func(id uint16, at, bootTime time.Time) correlate.BootRef {
		p := "EventLog"
		if id == 12 {
			p = "Microsoft-Windows-Kernel-General"
		}
		return correlate.BootRef{Artifact: "System.evtx", Boot: correlate.BootMarker{Kind: correlate.BootStart,
			Provider: p, EventID: id, Time: at, BootTime: bootTime, Channel: "System"}}
	}
	crash41 := func(at time.Time) correlate.BootRef {
		return correlate.BootRef{Artifact: "System.evtx", Boot: correlate.BootMarker{Kind: correlate.BootDirtyStop,
			Provider: "Microsoft-Windows-Kernel-Power", EventID: 41, Time: at, Channel: "System"}}
	}
	uptime := func(at time.Time, up time.Duration) correlate.BootRef {
		return correlate.BootRef{Artifact: "System.evtx", Boot: correlate.BootMarker{Kind: correlate.BootUptime,
			Provider: "EventLog", EventID: 6013, Time: at, BootTime: at.Add(-up), Uptime: up, Channel: "System"}}
	}
	m := func(d time.Duration) time.Time { return base.Add(d) }
	for _, tc := range []struct {
		name  string
		boots []correlate.BootRef
		want  []string // session titles
	}{
		{"kernel_general_12_gives_the_start",
			[]correlate.BootRef{start(6009, m(90*time.Second), m(90*time.Second)), start(12, m(time.Minute), m(0))},
			[]string{"Boot session 1: from 2026-03-02 08:00:00 UTC to the end of the evidence"}},
		{"two_boots_minutes_apart_are_two",
			[]correlate.BootRef{start(12, m(0), m(0)), start(12, m(3*time.Minute), m(3*time.Minute))},
			[]string{"Boot session 1: from 2026-03-02 08:00:00 UTC to 2026-03-02 08:03:00 UTC",
				"Boot session 2: from 2026-03-02 08:03:00 UTC to the end of the evidence"}},
		{"a_41_logged_after_the_boot_does_not_end_it",
			[]correlate.BootRef{start(12, m(0), m(0)), crash41(m(15 * time.Second)), start(6005, m(time.Hour), m(time.Hour))},
			[]string{"Boot session 1: from 2026-03-02 08:00:00 UTC to 2026-03-02 09:00:00 UTC",
				"Boot session 2: from 2026-03-02 09:00:00 UTC to the end of the evidence"}},
		{"an_uptime_report_implies_a_boot",
			[]correlate.BootRef{uptime(m(2*time.Hour), time.Hour)},
			[]string{"Boot session 1: from 2026-03-02 09:00:00 UTC to the end of the evidence"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTimeline(&Case{Boots: tc.boots})
			if tl == nil {
				t.Fatal("no timeline")
			}
			var got []string
			for _, s := range tl.Sessions {
				got = append(got, s.Title)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("sessions\n%q\nwant\n%q", got, tc.want)
			}
			if n, want := len(tl.Sessions), len(correlate.BuildSessions(tc.boots)); n != want {
				t.Errorf("%d bands, correlate has %d sessions", n, want)
			}
		})
	}
}

// TestTimelineServiceSpecificError: a 7024's exit code is the service's
// own, and the timeline names it as the Failures table and sheet do, not
// as the Windows error of the same number.
func TestTimelineServiceSpecificError(t *testing.T) {
	c := &Case{Failures: []store.FailureRow{{Artifact: "System.evtx", Failure: correlate.Failure{Kind: correlate.KindServiceFailure,
		Time: base, Service: "Apache2.2", EventID: 7024, Provider: "Service Control Manager", ErrorCode: 1, HasError: true, ServiceSpecific: true}}}}
	tl := newTimeline(c)
	if tl == nil || len(tl.Marks) != 1 {
		t.Fatalf("timeline %+v, want one mark", tl)
	}
	if got, want := tl.Marks[0].Title, "error "+failureError(&c.Failures[0].Failure); !strings.HasSuffix(got, want) {
		t.Errorf("title %q, want it to end with %q", got, want)
	}
	if strings.Contains(tl.Marks[0].Title, "ERROR_INVALID_FUNCTION") {
		t.Errorf("title %q names the Windows error 1", tl.Marks[0].Title)
	}
}
