package correlate

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// sameBootWindow is how far apart the start markers of one boot may lie:
// Kernel-General 12's StartTime precedes EventLog 6005/6009 by the time
// the system takes to start its services, and 41/6008 come a little later.
const sameBootWindow = 10 * time.Minute

// duplicateSlack is how close two markers with the same event ID must be
// to be copies of one event (the same log read from two artifacts).
const duplicateSlack = 2 * time.Second

// Session is one boot session of a host: from a boot start to the next
// one. A PID means something only inside its session.
type Session struct {
	// Index is the session's position in time order, from 0.
	Index int
	// Start is when the session began: Kernel-General 12's StartTime, else
	// the earliest EventLog 6005/6009, else the boot time 6013 implies,
	// else the time of 41/6008 (logged early in the new boot).
	Start time.Time
	// StartSource names the marker Start was taken from ("Kernel-General 12").
	StartSource string
	// StartRef is that marker.
	StartRef BootRef
	// End is the next session's Start; zero for the last session.
	End time.Time
	// CleanStop is when a clean shutdown was logged (6006/13) in this
	// session; zero when none was.
	CleanStop time.Time
	// DirtyEnd is set when the next session logged 41 or 6008: this one
	// ended without a clean shutdown.
	DirtyEnd bool
	// LastAlive is, when 6008 in the next session says it, the last moment
	// this session was known to run (UTC).
	LastAlive time.Time
	// AfterDirty is set when this session logged 41 or 6008 itself: the
	// session before it (perhaps one the logs do not show) ended dirty.
	AfterDirty bool
	// Starts are the markers that opened the session; Stops the 6006/13
	// markers inside it.
	Starts []BootRef
	Stops  []BootRef
	// UTCOffset (local − UTC) is the host's offset in this boot, from the
	// boot's own evidence; HasOffset says it is known and OffsetSource
	// names the marker (see Session.offsetFrom). A boot's offset can differ
	// from another's: daylight saving time, a zone changed between boots.
	UTCOffset    time.Duration
	HasOffset    bool
	OffsetSource string
	// EndOffset is the offset the next boot's 6008 shows for this boot's
	// last moment alive, when that 6008 says so; where it differs from a
	// UTCOffset taken at the start, the offset changed during the boot
	// (daylight saving time began or ended) at a moment the logs do not
	// show.
	EndOffset    time.Duration
	HasEndOffset bool
}

// Sessions are a host's boot sessions in time order.
type Sessions []Session

// startCandidate is a marker that can open a boot session, with the time
// it puts the boot at.
type startCandidate struct {
	ref  BootRef
	at   time.Time
	rank int // which marker gives Start: lower wins
}

// BuildSessions derives boot sessions from boot markers (DOMAIN.md §4): a
// session starts at Kernel-General 12's StartTime, else at 6005/6009 (or
// the boot time 6013 implies, or 41/6008, which are logged in the new
// boot); markers of one boot within a few minutes of each other are one
// start; a session ends where the next starts. 41/6008 mark the previous
// session's end as dirty, 6006/13 a clean stop. Markers without a time
// are ignored.
func BuildSessions(boots []BootRef) Sessions {
	var starts []startCandidate
	var stops []BootRef
	for _, b := range boots {
		m := b.Boot
		switch m.Kind {
		case BootStart, BootUptime, BootDirtyStop:
			at, rank := m.Time, 4
			switch {
			case m.Kind == BootStart && m.EventID == 12:
				at, rank = m.BootTime, 0
			case m.Kind == BootStart:
				at, rank = m.Time, 1
			case m.Kind == BootUptime:
				at, rank = m.BootTime, 2
			}
			if at.IsZero() {
				continue
			}
			starts = append(starts, startCandidate{ref: b, at: at.UTC(), rank: rank})
		case BootCleanStop:
			if !m.Time.IsZero() {
				stops = append(stops, b)
			}
		}
	}
	slices.SortStableFunc(starts, func(a, b startCandidate) int { return a.at.Compare(b.at) })
	slices.SortStableFunc(stops, func(a, b BootRef) int { return a.Boot.Time.Compare(b.Boot.Time) })

	var groups [][]startCandidate
	for _, c := range starts {
		if n := len(groups); n > 0 && joins(groups[n-1], c, stops) {
			groups[n-1] = append(groups[n-1], c)
			continue
		}
		groups = append(groups, []startCandidate{c})
	}

	ss := make(Sessions, len(groups))
	for i, g := range groups {
		best := g[0]
		for _, c := range g[1:] {
			if c.rank < best.rank || c.rank == best.rank && c.at.Before(best.at) {
				best = c
			}
		}
		s := Session{Index: i, Start: best.at, StartSource: markerName(best.ref.Boot), StartRef: best.ref}
		for _, c := range g {
			s.Starts = append(s.Starts, c.ref)
			if c.ref.Boot.Kind == BootDirtyStop {
				s.AfterDirty = true
			}
		}
		ss[i] = s
	}
	slices.SortStableFunc(ss, func(a, b Session) int { return a.Start.Compare(b.Start) })
	for i := range ss {
		ss[i].Index = i
	}
	for i := range ss {
		if i+1 < len(ss) {
			ss[i].End = ss[i+1].Start
			if ss[i+1].AfterDirty {
				ss[i].DirtyEnd = true
				for _, c := range ss[i+1].Starts {
					if c.Boot.EventID == 6008 && !c.Boot.LastAlive.IsZero() {
						ss[i].LastAlive = c.Boot.LastAlive
					}
				}
			}
		}
	}
	for i := range ss {
		ss[i].offsetFrom(ss, i)
	}
	for _, st := range stops {
		if i := ss.At(st.Boot.Time); i >= 0 {
			ss[i].Stops = append(ss[i].Stops, st)
			if ss[i].CleanStop.IsZero() {
				ss[i].CleanStop = st.Boot.Time
			}
		}
	}
	return ss
}

// offsetFrom sets session i's UTC offset from its own evidence: a 6008
// logged at its start (its two SYSTEMTIMEs give the offset the host had a
// moment before this boot began, which the boot starts with), else the
// 6008 logged at the start of the next boot (the offset at this boot's
// last moment alive). 6013's zone field and systeminfo's zone name the
// zone's standard offset, not the one in force in summer, and
// Kernel-General 1 gives UTC times only, so none of them sets a boot's
// offset.
func (s *Session) offsetFrom(ss Sessions, i int) {
	if i+1 < len(ss) {
		if m, ok := offsetMarker(ss[i+1].Starts); ok {
			s.EndOffset, s.HasEndOffset = m.UTCOffset, true
			s.UTCOffset, s.HasOffset = m.UTCOffset, true
			s.OffsetSource = markerName(m) + " at the boot's end"
		}
	}
	if m, ok := offsetMarker(s.Starts); ok {
		s.UTCOffset, s.HasOffset = m.UTCOffset, true
		s.OffsetSource = markerName(m) + " at the boot's start"
	}
}

// OffsetChanged says the boot's offset at its end differs from the one at
// its start.
func (s Session) OffsetChanged() bool {
	return s.HasOffset && s.HasEndOffset && s.EndOffset != s.UTCOffset
}

// offsetMarker returns the latest 6008 with an offset among a boot's start
// markers.
func offsetMarker(starts []BootRef) (BootMarker, bool) {
	var best BootMarker
	found := false
	for _, c := range starts {
		if m := c.Boot; m.HasOffset && (!found || m.Time.After(best.Time)) {
			best, found = m, true
		}
	}
	return best, found
}

// LocalTime is a host's wall-clock time converted to UTC with the offset
// of the boot it falls in.
type LocalTime struct {
	// UTC is the converted time; zero when no offset is known.
	UTC time.Time
	// Offset (local − UTC) is the offset used.
	Offset time.Duration
	// Session is the index of the boot the local time falls in, -1 when it
	// falls in none the logs show.
	Session int
	// Own says Offset is that boot's own (Session.OffsetSource); otherwise
	// it is the fallback, the case's offset.
	Own bool
	// Fixed says Offset is the fallback because it was given by the user
	// (--tz), which every boot takes.
	Fixed bool
	// Source names where Offset came from, for the reasons.
	Source string
	// Changed says the offset of the boot changed during it (see
	// Session.OffsetChanged); Other is the offset at its end, which a
	// time after the change needs instead.
	Changed bool
	Other   time.Duration
}

// OK says the local time could be converted.
func (l LocalTime) OK() bool { return !l.UTC.IsZero() }

// Zone is how a case's local times are converted: the offset of the boot
// a time falls in, else Fallback (the case's offset) when HasFallback;
// Fixed makes Fallback every boot's offset (the user's --tz).
type Zone struct {
	Sessions       Sessions
	Fallback       time.Duration
	HasFallback    bool
	FallbackSource string
	Fixed          bool
}

// ToUTC converts local, a host's wall-clock time held with the UTC
// location, to UTC. Its boot is found by local time, without knowing its
// UTC time: a boot's local span runs from its start to its end, each
// shifted by that boot's offset (the fallback for a boot without one).
// Where two spans overlap (the clock went back between the boots), the
// later boot is taken; a local time in the gap between two spans (the
// clock went forward) belongs to the earlier boot.
func (z Zone) ToUTC(local time.Time) LocalTime {
	l := LocalTime{Session: -1}
	if local.IsZero() {
		return l
	}
	if z.Fixed || len(z.Sessions) == 0 {
		if z.HasFallback {
			l.UTC, l.Offset, l.Fixed, l.Source = local.Add(-z.Fallback), z.Fallback, z.Fixed, z.FallbackSource
			if l.Fixed {
				l.Session = z.Sessions.At(l.UTC)
			}
		}
		return l
	}
	for i := len(z.Sessions) - 1; i >= 0; i-- {
		s := z.Sessions[i]
		off, has := s.UTCOffset, s.HasOffset
		if !has {
			off, has = z.Fallback, z.HasFallback
		}
		if !has {
			// No offset for this boot: its local span is unknown; a time
			// placed in it cannot be converted.
			if !local.Before(s.Start.Add(-14 * time.Hour)) {
				return l
			}
			continue
		}
		if local.Before(s.Start.Add(off)) {
			continue
		}
		l.UTC, l.Offset, l.Session = local.Add(-off), off, i
		if s.HasOffset {
			l.Own, l.Source = true, s.OffsetSource
			l.Changed, l.Other = s.OffsetChanged(), s.EndOffset
		} else {
			l.Source = z.FallbackSource
		}
		return l
	}
	if z.HasFallback {
		l.UTC, l.Offset, l.Source = local.Add(-z.Fallback), z.Fallback, z.FallbackSource
		if i := z.Sessions.At(l.UTC); i >= 0 {
			l.Session = i // before the first boot's local start, yet after it in UTC
		}
	}
	return l
}

// Converts says the zone can convert some local time: it has the case's
// offset, or a boot shows one of its own.
func (z Zone) Converts() bool { return z.HasFallback || z.anyOwn() }

// anyOwn says some boot shows an offset of its own, so that a boot
// without one may differ from the case's.
func (z Zone) anyOwn() bool {
	if z.Fixed {
		return false
	}
	for _, s := range z.Sessions {
		if s.HasOffset {
			return true
		}
	}
	return false
}

// Describe says, for the reasons, how a local time was converted:
// "2026-08-10 08:40:00 on the host's clock, converted with UTC+2, the
// offset of its boot (EventLog 6008 at the boot's start)"; for a time
// that took the case's offset, that its boot's may differ (other boots
// show offsets of their own, or Analyze would not say it).
func (l LocalTime) Describe(local time.Time) string {
	if !l.OK() {
		return ""
	}
	src := l.Source
	if src == "" {
		src = "the case's offset"
	}
	switch {
	case l.Own && l.Changed:
		way := "later"
		if l.Other > l.Offset {
			way = "earlier"
		}
		return fmt.Sprintf("%s on the host's clock, converted with %s, the offset of its boot (%s); the offset changed during that boot (%s by its end, the next boot's EventLog 6008 says), so if the time is after the change it is %s %s", local.Format("2006-01-02 15:04:05"), offsetLabel(l.Offset), src, offsetLabel(l.Other), fmtDur((l.Offset - l.Other).Abs()), way)
	case l.Own:
		return fmt.Sprintf("%s on the host's clock, converted with %s, the offset of its boot (%s)", local.Format("2006-01-02 15:04:05"), offsetLabel(l.Offset), src)
	case l.Fixed:
		return fmt.Sprintf("%s on the host's clock, converted with %s (%s)", local.Format("2006-01-02 15:04:05"), offsetLabel(l.Offset), src)
	}
	return fmt.Sprintf("%s on the host's clock, converted with %s, the case's offset (%s): its boot shows no offset of its own, so daylight saving time or a zone change may move it by an hour or more", local.Format("2006-01-02 15:04:05"), offsetLabel(l.Offset), src)
}

// offsetLabel writes an offset the way Windows names zones: "UTC+2",
// "UTC-3:30", "UTC".
func offsetLabel(d time.Duration) string {
	if d == 0 {
		return "UTC"
	}
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m != 0 {
		return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
	}
	return fmt.Sprintf("UTC%s%d", sign, h)
}

// joins reports whether start marker c belongs to the boot group g: it
// lies within sameBootWindow of the group's first marker, no clean stop
// lies between them, and the group has no other marker with the same
// event ID (two 12s are two boots) unless it is a copy of that one.
func joins(g []startCandidate, c startCandidate, stops []BootRef) bool {
	first := g[0].at
	if c.at.Sub(first) > sameBootWindow {
		return false
	}
	for _, st := range stops {
		if st.Boot.Time.After(first) && st.Boot.Time.Before(c.at) {
			return false
		}
	}
	if c.ref.Boot.Kind == BootUptime {
		return true // 6013 is logged daily; every copy points at the same boot
	}
	for _, o := range g {
		if o.ref.Boot.EventID == c.ref.Boot.EventID && o.ref.Boot.Provider == c.ref.Boot.Provider {
			d := o.ref.Boot.Time.Sub(c.ref.Boot.Time)
			if d < 0 {
				d = -d
			}
			if d > duplicateSlack {
				return false
			}
		}
	}
	return true
}

// At returns the index of the session holding t, or -1 when t is zero or
// before the first session (the logs do not show that boot).
func (ss Sessions) At(t time.Time) int {
	if t.IsZero() || len(ss) == 0 {
		return -1
	}
	i, found := slices.BinarySearchFunc(ss, t, func(s Session, t time.Time) int {
		return s.Start.Compare(t)
	})
	if found {
		return i
	}
	return i - 1
}

// markerName names a boot marker for people: "Kernel-General 12".
func markerName(m BootMarker) string {
	switch {
	case m.EventID == 12 || m.EventID == 13:
		return "Kernel-General " + strconv.Itoa(int(m.EventID))
	case m.EventID == 41:
		return "Kernel-Power 41"
	default:
		return "EventLog " + strconv.Itoa(int(m.EventID))
	}
}
