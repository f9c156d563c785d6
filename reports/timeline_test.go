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

// TestTimelineSpans: the axis stays readable from minutes to years. A
// boot two days before the failure, or a year-old failure beside this
// week's, cuts the axis, labelled with the time left out; failures spread
// evenly over a year do not. Whatever the span, marks keep their order
// and stay on the axis, tick labels and mark labels in one lane do not
// overlap, and nothing is drawn over the lane labels.
func TestTimelineSpans(t *testing.T) {
	min := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	day := 24 * 60
	for _, tc := range []struct {
		name   string
		times  []time.Time // failures
		breaks []string    // the cuts' labels
	}{
		{"minutes", []time.Time{min(0), min(1), min(3), min(7)}, nil},
		{"hours", []time.Time{min(0), min(90), min(200), min(330)}, nil},
		{"two_days_then_minutes", []time.Time{min(0), min(2 * day), min(2*day + 2), min(2*day + 30)}, []string{"2 days"}},
		{"year_apart", []time.Time{min(0), min(5), min(365 * day), min(365*day + 1), min(365*day + 9)}, []string{"1 year"}},
		{"three_clusters", []time.Time{min(0), min(1), min(40 * day), min(40*day + 3), min(800 * day), min(800*day + 2)},
			[]string{"40 days", "2 years"}},
		{"monthly_for_a_year", func() []time.Time {
			var ts []time.Time
			for m := range 13 {
				ts = append(ts, base.AddDate(0, m, 0))
			}
			return ts
		}(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Case{Zone: Zone{Offset: -6 * time.Hour, Known: true}}
			for i, at := range tc.times {
				c.Failures = append(c.Failures, store.FailureRow{Artifact: "System.evtx", Failure: correlate.Failure{
					Kind: correlate.KindServiceFailure, Time: at, Service: "Service " + string(rune('A'+i)), EventID: 7000}})
			}
			tl := newTimeline(c)
			var got []string
			for _, b := range tl.Breaks {
				got = append(got, b.Label)
				if b.X1 <= b.X0 {
					t.Errorf("break %+v is empty", b)
				}
			}
			if !slices.Equal(got, tc.breaks) {
				t.Errorf("breaks %q, want %q", got, tc.breaks)
			}
			if len(tc.breaks) > 0 && !strings.Contains(tl.Caption, "The axis is cut") {
				t.Errorf("caption %q does not say the axis is cut", tl.Caption)
			}
			prev := -1.0
			for _, m := range tl.Marks {
				if m.X < prev || m.X < tlLeft-1 || m.X > tlWidth-tlRight+1 {
					t.Errorf("mark %q at x=%v (previous %v): out of order or off the axis", m.Title, m.X, prev)
				}
				prev = m.X
				if m.X-7 < float64(tl.GutterW) {
					t.Errorf("mark %q at x=%v reaches into the lane labels (%d)", m.Title, m.X, tl.GutterW)
				}
			}
			end := -1e9
			for _, tk := range tl.Ticks {
				w := float64(len([]rune(tk.Label))) * tlTickCharW
				if tk.X-w/2 < end {
					t.Errorf("tick %q at %v overlaps the one before (ends at %v)", tk.Label, tk.X, end)
				}
				end = tk.X + w/2
			}
			if len(tl.Ticks) < 2 {
				t.Errorf("%d ticks, want at least 2", len(tl.Ticks))
			}
			labelEnd := map[float64]float64{}
			for _, m := range tl.Marks {
				if m.Label == nil {
					continue
				}
				l := m.Label
				w := float64(len([]rune(l.Text))) * tlCharW
				x0 := l.X
				if l.Anchor == "end" {
					x0 = l.X - w
				}
				if x0 < labelEnd[l.Y] || x0 < float64(tl.GutterW) || x0+w > tlWidth {
					t.Errorf("label %q at %v overlaps the one before in its lane or leaves the drawing", l.Text, x0)
				}
				labelEnd[l.Y] = x0 + w
			}
		})
	}
}
