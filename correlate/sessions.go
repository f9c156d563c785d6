package correlate

import (
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
