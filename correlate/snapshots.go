package correlate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// placedSnapshot is a snapshot with its time made UTC and its boot session.
type placedSnapshot struct {
	Snapshot
	at       time.Time // zero when unknown
	trusted  bool
	timeNote string // why the time is not trusted, "" when it is
	zoneNote string // how a local capture time was converted, "" when it was UTC
	session  int    // -1 when unknown
}

// trustedSources are the capture-time sources a CONFIRMED verdict may rest on.
var trustedSources = []parsers.CaptureSource{parsers.CaptureFlag, parsers.CaptureTimestampLine, parsers.CaptureZipExtended, parsers.CaptureFileName}

// place puts a snapshot in time and in its boot session.
func (a *analysis) place(s Snapshot) placedSnapshot {
	p := placedSnapshot{Snapshot: s, session: -1}
	if s.CapturedAt.IsZero() {
		p.timeNote = "its capture time is unknown"
		return p
	}
	p.at = s.CapturedAt.UTC()
	// Only the flag says a time is local: the store converts a local time
	// to UTC once the host's zone is known and clears the flag, keeping
	// its source (a zip DOS time so converted is UTC, and as good as one
	// converted here).
	local := s.CapturedLocal
	var lt LocalTime
	if local {
		lt = a.zone.ToUTC(p.at)
	}
	switch {
	case local && !lt.OK():
		p.timeNote = fmt.Sprintf("its capture time (from %s) is the host's local time, and the host's UTC offset is unknown: it may be off by up to 14 hours", captureSourceText(s.CaptureSource))
		a.localNoOffset = true
	case local && (s.CaptureSource == parsers.CaptureZipDOS || slices.Contains(trustedSources, s.CaptureSource)):
		if a.zone.anyOwn() {
			// Only where boots show offsets of their own: otherwise every
			// local time takes the case's offset, as the coverage says.
			p.zoneNote = lt.Describe(p.at)
		}
		p.at = lt.UTC
		p.trusted = true
		a.noteFallback(lt, s.Artifact)
	case s.CaptureSource == parsers.CaptureZipDOS || slices.Contains(trustedSources, s.CaptureSource):
		p.trusted = true
	case s.CaptureSource == "":
		p.timeNote = "the source of its capture time is unknown"
	default:
		p.timeNote = fmt.Sprintf("its capture time comes from %s, which copying or archiving can change", captureSourceText(s.CaptureSource))
	}
	p.session = a.sessions.At(p.at)
	return p
}

func captureSourceText(src parsers.CaptureSource) string {
	switch src {
	case parsers.CaptureFileModTime:
		return "the file's modification time"
	case parsers.CaptureTar:
		return "the tar entry's time"
	case parsers.CaptureGzip:
		return "the gzip header's time"
	}
	return "the " + string(src) + " time"
}

type tier int

const (
	tierSameAfter tier = iota
	tierSameBefore
	tierLater
	tierEarlier
	tierUnknown
)

// tierOf ranks a snapshot for a failure: the same boot after the failure
// is best (its PIDs are the failure's), then the same boot before it, then
// later boots, then earlier ones; snapshots that cannot be placed last.
func (a *analysis) tierOf(c *incident, s *placedSnapshot) tier {
	ft := c.primary.Failure.Time
	if ft.IsZero() || s.at.IsZero() || len(a.sessions) == 0 {
		return tierUnknown
	}
	fs, ss := c.session, s.session
	switch {
	case fs < 0 && ss < 0:
		return tierUnknown
	case fs < 0:
		return tierLater // the failure precedes the first boot start, the snapshot follows one
	case ss < 0:
		return tierEarlier
	case fs == ss && !s.at.Before(ft):
		return tierSameAfter
	case fs == ss:
		return tierSameBefore
	case ss > fs:
		return tierLater
	}
	return tierEarlier
}

func (a *analysis) orderSnapshots(c *incident) []*placedSnapshot {
	ft := c.primary.Failure.Time
	out := make([]*placedSnapshot, 0, len(a.snaps))
	for i := range a.snaps {
		out = append(out, &a.snaps[i])
	}
	dist := func(s *placedSnapshot) time.Duration {
		if s.at.IsZero() || ft.IsZero() {
			return math.MaxInt64
		}
		d := s.at.Sub(ft)
		if d < 0 {
			return -d
		}
		return d
	}
	after := func(s *placedSnapshot) bool { return !s.at.IsZero() && !ft.IsZero() && !s.at.Before(ft) }
	slices.SortStableFunc(out, func(x, y *placedSnapshot) int {
		tx, ty := a.tierOf(c, x), a.tierOf(c, y)
		if tx != ty {
			return cmp.Compare(tx, ty)
		}
		if tx == tierUnknown && after(x) != after(y) {
			if after(x) {
				return -1
			}
			return 1
		}
		if x.trusted != y.trusted {
			if x.trusted {
				return -1
			}
			return 1
		}
		return cmp.Compare(dist(x), dist(y))
	})
	if len(out) > maxSnapshotsChecked {
		out = out[:maxSnapshotsChecked]
	}
	return out
}

// snapshotReason says which snapshot was used and why.
func (a *analysis) snapshotReason(c *incident, o *observation) string {
	s := o.snap
	ft := c.primary.Failure.Time
	rel := ""
	if !s.at.IsZero() && !ft.IsZero() {
		if s.at.Before(ft) {
			rel = fmtDur(ft.Sub(s.at)) + " before the failure"
		} else {
			rel = fmtDur(s.at.Sub(ft)) + " after the failure"
		}
	}
	var r string
	switch o.tier {
	case tierSameAfter:
		r = fmt.Sprintf("Snapshot %s was taken %s, in the same boot session, so its PIDs are those of the failure's boot.", s.Artifact, rel)
	case tierSameBefore:
		r = fmt.Sprintf("Snapshot %s was taken %s, in the same boot session (PIDs are comparable); no snapshot of that boot was taken after the failure.", s.Artifact, rel)
	case tierLater:
		r = fmt.Sprintf("Snapshot %s comes from a later boot session (taken %s): PIDs are not comparable across boots, so the process holding the port then need not be the one that held it at the failure, though the same program holding it again is a strong hint.", s.Artifact, rel)
	case tierEarlier:
		r = fmt.Sprintf("Snapshot %s comes from an earlier boot session (taken %s): PIDs are not comparable across boots, so it shows who held the port in that boot, not at the failure.", s.Artifact, rel)
	default:
		switch {
		case s.at.IsZero():
			r = fmt.Sprintf("The capture time of snapshot %s is unknown, so it cannot be placed relative to the failure or in a boot session.", s.Artifact)
		case c.primary.Failure.Time.IsZero():
			r = fmt.Sprintf("The failure's time is unknown, so snapshot %s cannot be placed relative to it.", s.Artifact)
		case len(a.sessions) == 0:
			r = fmt.Sprintf("Snapshot %s was taken %s; no boot markers were supplied, so whether the host rebooted in between is unknown.", s.Artifact, rel)
		default:
			r = fmt.Sprintf("Snapshot %s was taken %s; both precede the first boot marker in the logs, so whether they share a boot is unknown.", s.Artifact, rel)
		}
	}
	if s.zoneNote != "" {
		r += " Its capture time is " + s.zoneNote + "."
	}
	if s.timeNote != "" && !s.at.IsZero() {
		r += " Its time is uncertain: " + s.timeNote + "."
	}
	return r
}

// noteFallback records, for coverage, a local time converted with the
// case's offset while the case's boots show offsets of their own (one of
// those may have been the right one), or with the offset of a boot whose
// offset changed during it.
func (a *analysis) noteFallback(lt LocalTime, what string) {
	if lt.OK() && !lt.Own && !lt.Fixed && a.zone.anyOwn() {
		a.fallbackZone = append(a.fallbackZone, what)
	}
	if lt.OK() && lt.Changed {
		a.changedZone = append(a.changedZone, what)
	}
}

func (a *analysis) snapshotSession(s *placedSnapshot) *Session {
	if s.session < 0 || s.session >= len(a.sessions) {
		return nil
	}
	return &a.sessions[s.session]
}

// otherObservations mentions what the other snapshots showed.
func (a *analysis) otherObservations(obs []*observation, chosen *observation, p neededPort) []string {
	var out []string
	for _, o := range obs {
		if o == chosen || len(out) >= maxListed {
			continue
		}
		if len(o.owners) > 0 {
			h := o.owners[0]
			out = append(out, fmt.Sprintf("In snapshot %s (%s), %s held %s %d.", h.snap.Artifact, tierText(o.tier), h.describe(), p.Proto, p.Port))
		}
	}
	return out
}

func tierText(t tier) string {
	switch t {
	case tierSameAfter:
		return "same boot, after the failure"
	case tierSameBefore:
		return "same boot, before the failure"
	case tierLater:
		return "a later boot"
	case tierEarlier:
		return "an earlier boot"
	}
	return "boot unknown"
}
