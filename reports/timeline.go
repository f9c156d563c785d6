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
	// Breaks are where the axis is cut: a long time with nothing in it.
	Breaks []tlBreak
	// GutterW is the width of the lane labels' column, which nothing
	// covers.
	GutterW int
}

// Span is the height of the lanes.
func (t *timeline) Span() int { return t.Bottom - t.Top }

// BreakY is where a cut's label sits: above the lanes.
func (t *timeline) BreakY() int { return t.Top - 6 }

// Width is the width of a cut.
func (b tlBreak) Width() float64 { return round1(b.X1 - b.X0) }

// Path draws a cut's two slanted edges from top to bottom.
func (b tlBreak) Path(top, bottom int) string {
	return fmt.Sprintf("M%g %dL%g %dM%g %dL%g %d", b.X0+3, top, b.X0-3, bottom, b.X1+3, top, b.X1-3, bottom)
}

// tlBreak is a cut in the axis, from X0 to X1, labelled with the time
// left out.
type tlBreak struct {
	X0, X1, Mid float64
	Label       string
	Title       string
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
	var times []time.Time
	for _, it := range items {
		if it.pinned == 0 {
			times = append(times, it.at)
		}
	}
	axis := newAxis(append(times, lo, hi), tlLeft, tlWidth-tlRight)
	lo, hi = axis.lo(), axis.hi()

	t := &timeline{Width: tlWidth}
	lanes := []string{"Boots", "Failures", "Snapshots", "Findings"}
	for i, l := range lanes {
		t.Lanes = append(t.Lanes, tlLane{Label: l, Y: tlFirstY + i*tlLaneGap})
	}
	t.Top = tlFirstY - tlLaneGap/2
	t.Bottom = tlFirstY + (len(lanes)-1)*tlLaneGap + tlLaneGap/2
	t.TickY = t.Bottom + 16
	t.Height = t.TickY + 10
	t.GutterW = tlLeft - 10
	xOf := axis.x
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

	t.Ticks = axis.ticks(c.Zone.Location())
	var gaps []string
	for i := 1; i < len(axis.segs); i++ {
		a, b := axis.segs[i-1], axis.segs[i]
		gap := humanSpan(b.from.Sub(a.to))
		gaps = append(gaps, gap)
		t.Breaks = append(t.Breaks, tlBreak{X0: round1(a.x1 + 3), X1: round1(b.x0 - 3),
			Mid: round1((a.x1 + b.x0) / 2), Label: gap, Title: "Nothing happened for " + gap})
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
				// The label goes right of the cluster, else left of it, in
				// the room between the marks and labels around it; where
				// neither fits it is cut to the larger room, or left out
				// (the mark's title still tells it).
				text := clusterLabel(items[i:j])
				w := float64(len([]rune(text))) * tlCharW
				rightFrom, rightTo := x+10, float64(tlWidth-2)
				if j < len(items) && items[j].lane == it.lane {
					rightTo = xs[j] - 10
				}
				leftFrom, leftTo := max(labelEnd[it.lane], float64(t.GutterW)+4), xs[i]-10
				if i > 0 && items[i-1].lane == it.lane {
					leftFrom = max(leftFrom, xs[i-1]+10)
				}
				rightFrom = max(rightFrom, labelEnd[it.lane])
				roomR, roomL := rightTo-rightFrom, leftTo-leftFrom
				switch {
				case w <= roomR:
				case w <= roomL:
				case max(roomR, roomL) >= 5*tlCharW:
					n := int(max(roomR, roomL) / tlCharW)
					text = clip(text, n)
					w = float64(len([]rune(text))) * tlCharW
				default:
					text = ""
				}
				switch {
				case text == "":
				case w <= roomR:
					m.Label = &tlLabel{X: round1(rightFrom), Y: y, Text: text, Anchor: "start"}
					labelEnd[it.lane] = rightFrom + w + 8
				default:
					m.Label = &tlLabel{X: round1(leftTo), Y: y, Text: text, Anchor: "end"}
					labelEnd[it.lane] = leftTo + 8
				}
			}
			t.Marks = append(t.Marks, m)
		}
		i = j
	}
	loS, hiS := lo.In(c.Zone.Location()), hi.In(c.Zone.Location())
	t.Caption = fmt.Sprintf("Timeline of %s from %s to %s, in %s.",
		cmp.Or(c.Host, c.Bundle), loS.Format("2006-01-02 15:04"), hiS.Format("2006-01-02 15:04"), c.Zone.Label())
	if len(gaps) > 0 {
		t.Caption += " The axis is cut where nothing happened for " + andList(gaps) + "."
	}
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

// ticks places at most most ticks between lo and hi, on round times of
// the zone; sameDay labels them with the time only.
func ticks(lo, hi time.Time, loc *time.Location, most int, sameDay bool) []tick {
	span := hi.Sub(lo)
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= time.Duration(most) {
			step = s
			break
		}
	}
	l := lo.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	first := day
	switch {
	case step >= 365*24*time.Hour:
		first = time.Date(l.Year(), 1, 1, 0, 0, 0, 0, loc)
	case step >= 30*24*time.Hour:
		first = time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	case step < 24*time.Hour:
		first = day.Add(l.Sub(day).Truncate(step))
	}
	for first.Before(lo) {
		first = nextTick(first, step)
	}
	var out []tick
	for at := first; !at.After(hi) && len(out) < 12; at = nextTick(at, step) {
		out = append(out, tick{at: at, label: tickLabel(at.In(loc), step, sameDay)})
	}
	return out
}

// nextTick steps a tick on: by calendar months and years for the long
// steps, so that they stay on the first of a month.
func nextTick(at time.Time, step time.Duration) time.Time {
	switch {
	case step >= 365*24*time.Hour:
		return at.AddDate(1, 0, 0)
	case step >= 91*24*time.Hour:
		return at.AddDate(0, 3, 0)
	case step >= 30*24*time.Hour:
		return at.AddDate(0, 1, 0)
	}
	return at.Add(step)
}

func tickLabel(at time.Time, step time.Duration, sameDay bool) string {
	switch {
	case step >= 365*24*time.Hour:
		return at.Format("2006")
	case step >= 30*24*time.Hour:
		return at.Format("2006-01")
	case step >= 24*time.Hour:
		return at.Format("2006-01-02")
	case sameDay:
		return at.Format("15:04")
	}
	return at.Format("01-02 15:04")
}

// axis maps times to x on a time axis that may be cut: a long stretch
// with nothing in it (a boot two days before the failure, a log that
// spans a year with two busy hours) is left out, so that what happened
// close together stays readable whatever the span, minutes to years.
type axis struct{ segs []axisSeg }

// axisSeg is one uncut stretch of the axis: times from..to drawn from x0
// to x1.
type axisSeg struct {
	from, to time.Time
	x0, x1   float64
}

const (
	tlBreakW      = 34              // width of a cut
	tlSegMinW     = 96              // narrowest stretch: room for one tick label
	tlMaxBreaks   = 3               // at most this many cuts
	tlMinBreakGap = 2 * time.Hour   // a shorter gap is never cut
	tlTickEvery   = 123             // one tick per this many units of width
	tlPointPad    = 5 * time.Minute // a stretch of one instant spans ±this
	tlBreakShare  = 0.5             // a gap is cut when it is over this share of its stretch
	tlPadShare    = 25              // a stretch is padded by 1/tlPadShare of its span
	tlLabelGapX   = 6               // tick labels keep at least this apart
	tlTickCharW   = 5.6             // width of a tick label character at 11px
)

// newAxis cuts the span of times into stretches at the largest gaps
// (each over half its stretch and over tlMinBreakGap, at most
// tlMaxBreaks), pads each and shares the width from left to right
// between them: each at least tlSegMinW, the rest by their spans.
func newAxis(times []time.Time, left, right float64) *axis {
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	times = slices.CompactFunc(times, func(a, b time.Time) bool { return a.Equal(b) })
	// Cut points are indexes i: a cut between times[i-1] and times[i].
	var cuts []int
	for len(cuts) < tlMaxBreaks {
		best, bestShare := -1, 0.0
		start := 0
		for _, end := range append(slices.Clone(cuts), len(times)) {
			span := times[end-1].Sub(times[start])
			for i := start + 1; i < end; i++ {
				gap := times[i].Sub(times[i-1])
				if gap < tlMinBreakGap || span <= 0 {
					continue
				}
				if share := float64(gap) / float64(span); share > tlBreakShare && share > bestShare {
					best, bestShare = i, share
				}
			}
			start = end
		}
		if best < 0 {
			break
		}
		cuts = append(cuts, best)
		slices.Sort(cuts)
	}
	a := &axis{}
	var spans []time.Duration
	var total time.Duration
	start := 0
	for _, end := range append(cuts, len(times)) {
		from, to := times[start], times[end-1]
		pad := to.Sub(from) / tlPadShare
		if pad == 0 {
			pad = tlPointPad
		}
		a.segs = append(a.segs, axisSeg{from: from.Add(-pad), to: to.Add(pad)})
		spans = append(spans, to.Sub(from))
		total += to.Sub(from)
		start = end
	}
	// The width beyond each stretch's minimum goes by the spans without
	// their padding: a stretch of one instant keeps only its minimum.
	width := right - left - float64(len(a.segs)-1)*tlBreakW
	spare := max(0, width-float64(len(a.segs))*tlSegMinW)
	x := left
	for i := range a.segs {
		s := &a.segs[i]
		w := width
		switch {
		case len(a.segs) == 1:
		case total == 0:
			w = width / float64(len(a.segs))
		default:
			w = tlSegMinW + spare*float64(spans[i])/float64(total)
		}
		s.x0, s.x1 = x, x+w
		x += w + tlBreakW
	}
	return a
}

func (a *axis) lo() time.Time { return a.segs[0].from }
func (a *axis) hi() time.Time { return a.segs[len(a.segs)-1].to }

// x is where a time is drawn; a time inside a cut is placed across it.
func (a *axis) x(at time.Time) float64 {
	for i, s := range a.segs {
		if !at.After(s.to) || i == len(a.segs)-1 {
			if at.Before(s.from) && i > 0 {
				p := a.segs[i-1]
				f := float64(at.Sub(p.to)) / float64(s.from.Sub(p.to))
				return round1(p.x1 + f*(s.x0-p.x1))
			}
			span := float64(s.to.Sub(s.from))
			return round1(s.x0 + float64(at.Sub(s.from))/span*(s.x1-s.x0))
		}
	}
	return a.segs[0].x0
}

// ticks places each stretch's ticks (a stretch too short for a round
// time gets one at its middle) and drops those whose labels would touch
// the one before.
func (a *axis) ticks(loc *time.Location) []tlTick {
	lo, hi := a.lo().In(loc), a.hi().In(loc)
	sameDay := lo.YearDay() == hi.YearDay() && lo.Year() == hi.Year()
	var out []tlTick
	lastEnd := math.Inf(-1)
	for _, s := range a.segs {
		most := max(1, int((s.x1-s.x0)/tlTickEvery))
		tks := ticks(s.from, s.to, loc, most, sameDay)
		if len(tks) == 0 {
			mid := s.from.Add(s.to.Sub(s.from) / 2)
			label := mid.In(loc).Format("01-02 15:04")
			if sameDay {
				label = mid.In(loc).Format("15:04")
			}
			tks = []tick{{at: mid, label: label}}
		}
		var prevDay time.Time
		for k, tk := range tks {
			if !sameDay && len(tk.label) == len("01-02 15:04") {
				// Within a stretch the date is said once a day; an axis
				// over several years says the year.
				at := tk.at.In(loc)
				d := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, loc)
				switch {
				case k > 0 && d.Equal(prevDay):
					tk.label = at.Format("15:04")
				case lo.Year() != hi.Year():
					tk.label = at.Format("2006-01-02 15:04")
				}
				x := a.x(tk.at)
				if w := float64(len([]rune(tk.label))) * tlTickCharW; x-w/2 < lastEnd+tlLabelGapX {
					continue // dropped: the next tick says the date
				}
				prevDay = d
			}
			x := a.x(tk.at)
			w := float64(len([]rune(tk.label))) * tlTickCharW
			if x-w/2 < lastEnd+tlLabelGapX {
				continue
			}
			out = append(out, tlTick{X: x, Label: tk.label})
			lastEnd = x + w/2
		}
	}
	return out
}

// humanSpan says how long a gap is, roughly: "3 h", "2 days", "5 months",
// "1 year".
func humanSpan(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d < 36*time.Hour:
		return fmt.Sprintf("%d h", int(math.Round(d.Hours())))
	case d < 60*day:
		return fmt.Sprintf("%d days", int(math.Round(float64(d)/float64(day))))
	case d < 330*day:
		return fmt.Sprintf("%d months", int(math.Round(float64(d)/float64(30*day))))
	}
	if y := int(math.Round(float64(d) / float64(365*day))); y > 1 {
		return fmt.Sprintf("%d years", y)
	}
	return "1 year"
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
