package reports

import (
	"cmp"
	"fmt"
	"math"
	"path"
	"slices"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

// timeline is the SVG timeline of one host: boot sessions as bands, then
// one lane each for boot markers, failures, socket snapshots and findings,
// on a time axis in the host's zone.
type timeline struct {
	Width, Height      int
	Top, Bottom, TickY int
	Caption            string
	Lanes              []tlLane
	Ticks              []tlTick
	Sessions           []tlRect
	Marks              []tlMark
}

type tlLane struct {
	Label string
	Y     int
}

type tlTick struct {
	X     float64
	Label string
}

type tlRect struct {
	X, Y, W, H float64
	Title      string
}

type tlMark struct {
	Shape, Class string // circle, square or path; CSS class
	X, Y, X0, Y0 float64
	Path         string
	Title        string
	Label        *tlLabel
}

type tlLabel struct {
	X, Y   float64
	Text   string
	Anchor string // text-anchor: start (right of the mark) or end (left of it)
}

// Geometry of the drawing, in SVG units.
const (
	tlWidth    = 1000
	tlLeft     = 112
	tlRight    = 24
	tlLaneGap  = 36
	tlFirstY   = 40
	tlCharW    = 6.2 // width of a label character at 10.5px
	tlMarkHalf = 6
	tlSpread   = 13 // distance between marks drawn side by side
)

// untimed is a mark before it is placed: its time and what to draw.
type untimed struct {
	at    time.Time // UTC
	lane  int
	shape string
	class string
	title string
	label string
	// uncertain marks a time that may be far from the truth (a file's
	// modification time): it does not stretch the axis.
	uncertain bool
	pinned    int // -1 or +1: drawn at the start or end of the axis, its time being off it
}

// newTimeline draws a case's timeline, or returns nil when nothing in it
// has a time.
func newTimeline(c *Case) *timeline {
	const (
		laneBoots = iota
		laneFailures
		laneSnapshots
		laneFindings
	)
	var items []untimed
	// Boot sessions are correlate's, so that the timeline numbers them as
	// the findings' reasons do.
	sessions := correlate.BuildSessions(c.Boots)
	for _, s := range sessions {
		r := &s.StartRef
		b := &r.Boot
		where := evidencePlace(correlate.Evidence{Artifact: r.Artifact, Channel: b.Channel, RecordID: b.RecordID})
		items = append(items, untimed{at: s.Start, lane: laneBoots, shape: "up", class: "tl-boot", label: "boot",
			title: fmt.Sprintf("Boot at %s (event %d, %s)", c.formatTime(s.Start, false), b.EventID, where)})
	}
	for _, r := range c.Boots {
		b := &r.Boot
		where := evidencePlace(correlate.Evidence{Artifact: r.Artifact, Channel: b.Channel, RecordID: b.RecordID})
		switch b.Kind {
		case correlate.BootCleanStop:
			if b.Time.IsZero() {
				continue
			}
			items = append(items, untimed{at: b.Time, lane: laneBoots, shape: "down", class: "tl-stop", label: "shutdown",
				title: fmt.Sprintf("Clean shutdown at %s (event %d, %s)", c.formatTime(b.Time, false), b.EventID, where)})
		case correlate.BootDirtyStop:
			at := b.LastAlive
			if at.IsZero() {
				at = b.Time
			}
			if at.IsZero() {
				continue
			}
			items = append(items, untimed{at: at, lane: laneBoots, shape: "down", class: "tl-crash", label: "crash",
				title: fmt.Sprintf("Unexpected shutdown, last alive at %s (event %d, %s)", c.formatTime(at, false), b.EventID, where)})
		}
	}
	for _, r := range c.Failures {
		f := &r.Failure
		if f.Time.IsZero() {
			continue
		}
		what := "failure"
		if f.Kind == correlate.KindSignal {
			what = "signal"
		}
		errText := ""
		if f.HasError {
			errText = ", error " + failureError(f)
		}
		items = append(items, untimed{at: f.Time, lane: laneFailures, shape: "circle", class: "tl-failure",
			label: clip(cmp.Or(f.Service, f.ServiceKey, f.Provider), 24),
			title: fmt.Sprintf("%s %s at %s: event %d from %s%s", cmp.Or(f.Service, f.ServiceKey, f.Provider), what,
				c.formatTime(f.Time, false), f.EventID, f.Provider, errText)})
	}
	for _, a := range c.Snapshots {
		if a.CapturedAt.IsZero() {
			continue
		}
		at, hostLocal := c.shown(a.CapturedAt, a.CapturedLocal)
		class := "tl-snapshot"
		uncertain := hostLocal || a.CaptureSource == "" || a.CaptureSource == parsers.CaptureFileModTime
		if uncertain {
			class = "tl-snapshot-uncertain"
		}
		items = append(items, untimed{at: at.UTC(), lane: laneSnapshots, shape: "square", class: class,
			label: clip(path.Base(a.Artifact), 26), uncertain: uncertain,
			title: fmt.Sprintf("Snapshot %s taken at %s (time from %s)", a.Artifact, c.formatTime(a.CapturedAt, a.CapturedLocal),
				cmp.Or(string(a.CaptureSource), "unknown"))})
	}
	for i := range c.Findings {
		f := &c.Findings[i]
		if f.FailureTime.IsZero() {
			continue
		}
		title := fmt.Sprintf("%s: %s", f.Verdict, serviceLabel(f))
		if f.Port != 0 {
			title += " " + portLabel(f)
		}
		if cu := culprit(f); cu != "" {
			title += " — " + cu
		}
		items = append(items, untimed{at: f.FailureTime, lane: laneFindings, shape: "diamond",
			class: "tl-" + verdictClass(f.Verdict), label: string(f.Verdict), title: title})
	}
	if len(items) == 0 {
		return nil
	}

	// The axis spans the certain times; an uncertain one (a file time,
	// often when the file was copied) far outside them is pinned to the
	// nearer end instead of squeezing everything else into a corner.
	var lo, hi time.Time
	for pass := range 2 {
		for _, it := range items {
			if it.uncertain && pass == 0 {
				continue
			}
			if lo.IsZero() || it.at.Before(lo) {
				lo = it.at
			}
			if hi.IsZero() || it.at.After(hi) {
				hi = it.at
			}
		}
		if !lo.IsZero() {
			break
		}
	}
	if hi.Sub(lo) < 10*time.Minute {
		mid := lo.Add(hi.Sub(lo) / 2)
		lo, hi = mid.Add(-5*time.Minute), mid.Add(5*time.Minute)
	}
	reach := hi.Sub(lo) / 2
	for i := range items {
		it := &items[i]
		switch {
		case it.uncertain && it.at.Before(lo.Add(-reach)):
			it.pinned, it.at = -1, lo
		case it.uncertain && it.at.After(hi.Add(reach)):
			it.pinned, it.at = 1, hi
		default:
			if it.at.Before(lo) {
				lo = it.at
			}
			if it.at.After(hi) {
				hi = it.at
			}
			continue
		}
		it.label += " (off the axis)"
		it.title += "; this time is uncertain and lies off the axis"
	}
	pad := hi.Sub(lo) / 25
	lo, hi = lo.Add(-pad), hi.Add(pad)

	t := &timeline{Width: tlWidth}
	lanes := []string{"Boots", "Failures", "Snapshots", "Findings"}
	for i, l := range lanes {
		t.Lanes = append(t.Lanes, tlLane{Label: l, Y: tlFirstY + i*tlLaneGap})
	}
	t.Top = tlFirstY - tlLaneGap/2
	t.Bottom = tlFirstY + (len(lanes)-1)*tlLaneGap + tlLaneGap/2
	t.TickY = t.Bottom + 16
	t.Height = t.TickY + 10
	span := float64(hi.Sub(lo))
	xOf := func(at time.Time) float64 {
		return round1(tlLeft + float64(at.Sub(lo))/span*float64(tlWidth-tlLeft-tlRight))
	}
	for i := range items {
		switch items[i].pinned {
		case -1:
			items[i].at = lo
		case 1:
			items[i].at = hi
		}
	}

	// Boot sessions: from each start to its clean shutdown, or to the last
	// moment it was known alive before an unexpected one (6008), else to
	// the next start or the end of the axis.
	for i, s := range sessions {
		next := i+1 < len(sessions)
		end := hi
		if next {
			end = s.End
		}
		if !s.CleanStop.IsZero() && s.CleanStop.Before(end) {
			end = s.CleanStop
		}
		if !s.LastAlive.IsZero() && s.LastAlive.After(s.Start) && s.LastAlive.Before(end) {
			end = s.LastAlive
		}
		x0, x1 := xOf(s.Start), xOf(end)
		t.Sessions = append(t.Sessions, tlRect{X: x0, Y: float64(t.Top), W: round1(max(x1-x0, 1)), H: float64(t.Bottom - t.Top),
			Title: fmt.Sprintf("Boot session %d: from %s to %s", i+1, c.formatTime(s.Start, false), sessionEnd(c, end, hi, next))})
	}

	for _, tk := range ticks(lo, hi, c.Zone.Location()) {
		t.Ticks = append(t.Ticks, tlTick{X: xOf(tk.at), Label: tk.label})
	}

	// Marks at the same place in a lane are spread sideways so each can
	// be seen (and hovered); labels are drawn where they do not overlap.
	slices.SortStableFunc(items, func(a, b untimed) int {
		if a.lane != b.lane {
			return a.lane - b.lane
		}
		return a.at.Compare(b.at)
	})
	// Within a lane, a mark closer than tlSpread to the previous one is
	// pushed right so each can be seen and hovered (a service failing on
	// four ports at once); marks pushed together form a cluster, labelled
	// once.
	xs := make([]float64, len(items))
	for k := range items {
		xs[k] = xOf(items[k].at)
		if k > 0 && items[k].lane == items[k-1].lane {
			xs[k] = max(xs[k], xs[k-1]+tlSpread)
		}
	}
	for k, limit := len(items)-1, float64(tlWidth-tlRight); k >= 0; k-- {
		if k < len(items)-1 && items[k].lane != items[k+1].lane {
			limit = tlWidth - tlRight
		}
		xs[k] = min(xs[k], limit)
		limit = xs[k] - tlSpread
	}
	labelEnd := map[int]float64{}
	for i := 0; i < len(items); {
		j := i + 1
		for j < len(items) && items[j].lane == items[i].lane && xs[j]-xs[j-1] < tlSpread+0.5 {
			j++
		}
		for k := i; k < j; k++ {
			it := items[k]
			x := round1(xs[k])
			y := float64(t.Lanes[it.lane].Y)
			m := tlMark{Class: it.class, X: x, Y: y, Title: it.title}
			switch it.shape {
			case "circle":
				m.Shape = "circle"
			case "square":
				m.Shape, m.X0, m.Y0 = "square", round1(x-5.5), round1(y-5.5)
			case "up":
				m.Shape, m.Path = "path", fmt.Sprintf("M%g %gL%g %gH%gZ", x, y-tlMarkHalf, x+tlMarkHalf, y+tlMarkHalf, x-tlMarkHalf)
			case "down":
				m.Shape, m.Path = "path", fmt.Sprintf("M%g %gH%gL%g %gZ", x-tlMarkHalf, y-tlMarkHalf, x+tlMarkHalf, x, y+tlMarkHalf)
			default:
				m.Shape, m.Path = "path", fmt.Sprintf("M%g %gL%g %gL%g %gL%g %gZ", x, y-7, x+7, y, x, y+7, x-7, y)
			}
			if k == j-1 {
				text := clusterLabel(items[i:j])
				lx := x + 10
				w := float64(len([]rune(text))) * tlCharW
				left := xs[i] - 10
				switch {
				case lx >= labelEnd[it.lane] && lx+w <= tlWidth-2:
					m.Label = &tlLabel{X: round1(lx), Y: y, Text: text, Anchor: "start"}
					labelEnd[it.lane] = lx + w + 8
				case left-w >= max(labelEnd[it.lane], tlLeft):
					// No room on the right (the end of the axis): on the left.
					m.Label = &tlLabel{X: round1(left), Y: y, Text: text, Anchor: "end"}
					labelEnd[it.lane] = left + 8
				}
			}
			t.Marks = append(t.Marks, m)
		}
		i = j
	}
	loS, hiS := lo.In(c.Zone.Location()), hi.In(c.Zone.Location())
	t.Caption = fmt.Sprintf("Timeline of %s from %s to %s, in %s.",
		cmp.Or(c.Host, c.Bundle), loS.Format("2006-01-02 15:04"), hiS.Format("2006-01-02 15:04"), c.Zone.Label())
	return t
}

// clusterLabel names the marks drawn together: the one label, "label ×3"
// when they all say the same, "3 findings", or the first label and how
// many more.
func clusterLabel(items []untimed) string {
	if len(items) == 1 {
		return items[0].label
	}
	same := true
	for _, it := range items {
		same = same && it.label == items[0].label
	}
	switch {
	case items[0].lane == 3:
		return fmt.Sprintf("%d findings", len(items))
	case same:
		return fmt.Sprintf("%s ×%d", items[0].label, len(items))
	}
	return fmt.Sprintf("%s +%d", items[0].label, len(items)-1)
}

func sessionEnd(c *Case, end, axisEnd time.Time, nextBoot bool) string {
	if end.Equal(axisEnd) && !nextBoot {
		return "the end of the evidence"
	}
	return c.formatTime(end, false)
}

type tick struct {
	at    time.Time
	label string
}

// tickSteps are the spacings the axis chooses from.
var tickSteps = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
	91 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// ticks places at most 8 ticks between lo and hi, on round times of the
// zone.
func ticks(lo, hi time.Time, loc *time.Location) []tick {
	span := hi.Sub(lo)
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 7 {
			step = s
			break
		}
	}
	l := lo.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	first := day
	if step < 24*time.Hour {
		first = day.Add(l.Sub(day).Truncate(step))
	}
	for first.Before(lo) {
		first = first.Add(step)
	}
	sameDay := lo.In(loc).YearDay() == hi.In(loc).YearDay() && lo.In(loc).Year() == hi.In(loc).Year()
	var out []tick
	for at := first; !at.After(hi) && len(out) < 12; at = at.Add(step) {
		var label string
		switch {
		case step >= 24*time.Hour:
			label = at.In(loc).Format("2006-01-02")
		case sameDay:
			label = at.In(loc).Format("15:04")
		default:
			label = at.In(loc).Format("01-02 15:04")
		}
		out = append(out, tick{at: at, label: label})
	}
	return out
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
