package correlate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/portmortem/portmortem/parsers"
)

// Ranges belong to a boot (DESIGN.md, Correlation §4). WinNAT, Hyper-V
// and Docker re-create their dynamic excluded ranges (no `*`) at every
// boot, while administered ones (`*`) persist. So every netsh artifact
// is placed in time and in a boot session the way a socket snapshot is;
// for a failure, the tables of its own boot decide, administered ranges
// of any boot apply, and dynamic ranges of another boot are only
// mentioned.

// The kinds of parsers.PortRange.
const (
	rangeExcluded = "excluded"
	rangeDynamic  = "dynamic"
)

// rangeTable is one netsh artifact (one or more excludedportrange or
// dynamicport tables: every row of an artifact shares its capture time),
// placed in time and in its boot session.
type rangeTable struct {
	placed placedSnapshot
	refs   []int // indexes into Input.Ranges
}

// placeTables groups the input's ranges by artifact and places each.
func (a *analysis) placeTables() {
	byArtifact := map[string]*rangeTable{}
	for i, r := range a.in.Ranges {
		t, ok := byArtifact[r.Artifact]
		if !ok {
			t = &rangeTable{placed: a.place(Snapshot{Artifact: r.Artifact, CapturedAt: r.CapturedAt,
				CaptureSource: r.CaptureSource, CapturedLocal: r.CapturedLocal})}
			byArtifact[r.Artifact] = t
			a.tables = append(a.tables, t)
		}
		t.refs = append(t.refs, i)
	}
}

// tableBoot says how a table's boot relates to a failure's.
type tableBoot int

const (
	tableOwnBoot     tableBoot = iota // the failure's boot session
	tableBootUnknown                  // cannot be told
	tableOtherBoot                    // another boot session
)

func (a *analysis) tableBootOf(c *incident, t *rangeTable) tableBoot {
	if len(a.sessions) == 0 || t.placed.at.IsZero() || c.primary.Failure.Time.IsZero() {
		return tableBootUnknown
	}
	fs, ts := c.session, t.placed.session
	switch {
	case fs < 0 && ts < 0:
		return tableBootUnknown // both precede the first boot marker
	case fs == ts:
		return tableOwnBoot
	}
	return tableOtherBoot
}

// rangeHit is a range row of a placed table.
type rangeHit struct {
	ref   *RangeRef
	table *rangeTable
	boot  tableBoot
}

// rangeLookup is what the tables of one kind say about a port, for one
// failure.
type rangeLookup struct {
	// hit is the range that applies to the failure's boot, nil when none.
	hit *rangeHit
	// stale are dynamic ranges that hold the port in tables of another
	// boot: not evidence for the failure's boot.
	stale []rangeHit
	// overruled hold the port in tables of another or an unknown boot
	// while the failure's boot has its own table, which does not.
	overruled []rangeHit
	// own are the failure's boot's tables of this kind and proto.
	own []*rangeTable
	// collected: some table of this kind and proto was collected.
	collected bool
}

// lookupRange finds what the tables of kind say about proto/port for the
// failure of c. For "excluded", a row must hold the port; for "dynamic",
// any row of the proto is the range. The failure's own boot decides when
// it has a table; else an administered exclusion of any boot applies,
// then a range of a table whose boot is unknown (the caller lowers its
// confidence); dynamic exclusions of another boot never apply. A dynamic
// port range of another boot applies only through dynamicRange's
// fallback.
func (a *analysis) lookupRange(c *incident, kind string, proto parsers.Proto, port uint16, addr netip.Addr) rangeLookup {
	var l rangeLookup
	var cands []rangeHit
	for _, t := range a.tables {
		b := a.tableBootOf(c, t)
		for _, i := range t.refs {
			r := &a.in.Ranges[i]
			if r.Range.Kind != kind || r.Range.Proto != "" && r.Range.Proto != proto || !ipVersionMatches(r.Range.IPVersion, addr) {
				continue
			}
			l.collected = true
			if b == tableOwnBoot && !slices.Contains(l.own, t) {
				l.own = append(l.own, t)
			}
			if kind == rangeExcluded && (port < r.Range.Start || port > r.Range.End) {
				continue
			}
			cands = append(cands, rangeHit{ref: r, table: t, boot: b})
		}
	}
	pick := func(ok func(h rangeHit) bool) *rangeHit {
		for i := range cands {
			if ok(cands[i]) {
				return &cands[i]
			}
		}
		return nil
	}
	if len(l.own) > 0 {
		l.hit = pick(func(h rangeHit) bool { return h.boot == tableOwnBoot })
		if l.hit == nil && kind == rangeExcluded {
			l.overruled = cands
		}
		return l
	}
	if kind == rangeExcluded {
		l.hit = pick(func(h rangeHit) bool { return h.ref.Range.Administered })
	}
	if l.hit == nil {
		l.hit = pick(func(h rangeHit) bool { return h.boot == tableBootUnknown })
	}
	for _, h := range cands {
		if h.boot == tableOtherBoot && (l.hit == nil || h.ref != l.hit.ref) && !(kind == rangeExcluded && h.ref.Range.Administered) {
			l.stale = append(l.stale, h)
		}
	}
	if l.stale != nil || l.collected && l.hit == nil {
		a.noteStaleTables(c, kind, proto)
	}
	return l
}

// noteStaleTables remembers, for coverage, the tables of another boot
// that a failure had to do without.
func (a *analysis) noteStaleTables(c *incident, kind string, proto parsers.Proto) {
	for _, t := range a.tables {
		if a.tableBootOf(c, t) != tableOtherBoot {
			continue
		}
		for _, i := range t.refs {
			r := a.in.Ranges[i].Range
			if r.Kind == kind && (r.Proto == "" || r.Proto == proto) {
				key := kind + " " + t.placed.Artifact
				if !slices.Contains(a.staleTables, key) {
					a.staleTables = append(a.staleTables, key)
				}
				break
			}
		}
	}
}

// hasOtherBootTable reports whether a table of kind and proto comes from
// another boot than the failure's.
func (a *analysis) hasOtherBootTable(c *incident, kind string, proto parsers.Proto) bool {
	for _, t := range a.tables {
		if a.tableBootOf(c, t) != tableOtherBoot {
			continue
		}
		for _, i := range t.refs {
			if r := a.in.Ranges[i].Range; r.Kind == kind && (r.Proto == "" || r.Proto == proto) {
				return true
			}
		}
	}
	return false
}

// tableText places a table relative to a failure: "excluded-tcp.txt was
// taken 2 h after the failure, in the failure's boot session (2)".
func (a *analysis) tableText(c *incident, t *rangeTable) string {
	s := t.placed
	ft := c.primary.Failure.Time
	rel := ""
	if !s.at.IsZero() && !ft.IsZero() {
		if s.at.Before(ft) {
			rel = " " + fmtDur(ft.Sub(s.at)) + " before the failure"
		} else {
			rel = " " + fmtDur(s.at.Sub(ft)) + " after the failure"
		}
	}
	var r string
	switch a.tableBootOf(c, t) {
	case tableOwnBoot:
		r = fmt.Sprintf("The range table %s was taken%s, in the failure's boot session (%d)", s.Artifact, rel, c.session+1)
	case tableOtherBoot:
		where := "before the first boot marker in the logs"
		if s.session >= 0 {
			where = fmt.Sprintf("in boot session %d", s.session+1)
		}
		fb := "before the first boot marker"
		if c.session >= 0 {
			fb = fmt.Sprintf("in boot session %d", c.session+1)
		}
		r = fmt.Sprintf("The range table %s was taken%s, %s, and the failure happened %s: another boot", s.Artifact, rel, where, fb)
	default:
		switch {
		case s.at.IsZero():
			r = fmt.Sprintf("The capture time of the range table %s is unknown, so its boot session is unknown", s.Artifact)
		case ft.IsZero():
			r = fmt.Sprintf("The failure's time is unknown, so whether the range table %s (taken %s) comes from its boot is unknown", s.Artifact, fmtTime(s.at))
		case len(a.sessions) == 0:
			r = fmt.Sprintf("The range table %s was taken%s; no boot markers were supplied, so whether the host rebooted in between is unknown", s.Artifact, rel)
		default:
			r = fmt.Sprintf("The range table %s was taken%s; both precede the first boot marker in the logs, so whether they share a boot is unknown", s.Artifact, rel)
		}
	}
	if s.timeNote != "" && !s.at.IsZero() {
		r += "; its time is uncertain: " + s.timeNote
	}
	return r
}

// hitReason says why a range applies to the failure's boot, and how much
// that placement leaves of the verdict's confidence.
func (a *analysis) hitReason(c *incident, h *rangeHit) (string, float64) {
	where := a.tableText(c, h.table)
	switch {
	case h.boot == tableOwnBoot && h.table.placed.trusted:
		return where + ": its ranges are those of the failure's boot.", 1
	case h.boot == tableOwnBoot:
		return where + ", so it is probably, not certainly, of the failure's boot.", 0.9
	case h.ref.Range.Administered && h.boot == tableOtherBoot:
		return where + ". The range is administered (*): such exclusions persist across reboots, so it applies to the failure's boot too.", 0.95
	case h.ref.Range.Administered:
		return where + ". The range is administered (*): such exclusions persist across reboots, so it applies whichever boot the table comes from.", 0.95
	}
	return where + ". Dynamic reservations (no *) are re-created at each boot, so this one may not be the failure's.", 0.8
}

// staleReason says a dynamic exclusion of another boot holds the port
// but is no evidence for the failure's boot.
func (a *analysis) staleReason(c *incident, p neededPort, h rangeHit) string {
	return fmt.Sprintf("%s. It shows %s %d inside the dynamic range %d-%d (no *), but WinNAT, Hyper-V and Docker re-create dynamic reservations at each boot, "+
		"so it is not evidence of an exclusion in the failure's boot; collect netsh int %s show excludedportrange protocol=%s in the boot of a failure to tell.",
		a.tableText(c, h.table), p.Proto, p.Port, h.ref.Range.Start, h.ref.Range.End, ipvWord(h.ref.Range.IPVersion), strings.ToLower(string(p.Proto)))
}

func ipvWord(v string) string {
	if strings.EqualFold(v, "ipv6") {
		return "ipv6"
	}
	return "ipv4"
}

// rangeNotes are the reasons a finding that did not rest on a range gets
// from the tables: stale ranges of another boot, ranges the failure's own
// table overrules. A NO_CONFLICT_SEEN that a stale range of a 10013-class
// failure contradicts loses confidence.
func (a *analysis) rangeNotes(c *incident, p neededPort, l rangeLookup, fd *Finding) []string {
	if fd.Verdict == ReservedRange {
		return nil
	}
	var out []string
	for i, h := range l.stale {
		if i >= maxListed {
			break
		}
		out = append(out, a.staleReason(c, p, h))
		ev := rangeEvidence(*h.ref, p.Proto)
		ev.Claim = strings.TrimSuffix(ev.Claim, ".") + ", in a table of another boot: not evidence for the failure's boot."
		fd.Evidence = append(fd.Evidence, ev)
	}
	if len(l.stale) > 0 && fd.Verdict == NoConflictSeen && a.incidentWin32(c) == 10013 {
		fd.Confidence *= 0.8
		out = append(out, "The failure's error maps to 10013 (WSAEACCES), which an excluded range gives: a reservation in the failure's boot cannot be ruled out.")
	}
	if l.hit == nil && len(l.own) == 0 && len(l.stale) == 0 && fd.Verdict == NoConflictSeen && a.hasOtherBootTable(c, rangeExcluded, p.Proto) {
		out = append(out, fmt.Sprintf("The excluded-range tables for %s come from another boot than the failure's: a dynamic reservation in the failure's boot cannot be ruled out.", p.Proto))
	}
	if len(l.overruled) > 0 {
		own := make([]string, len(l.own))
		for i, t := range l.own {
			own[i] = t.placed.Artifact
		}
		h := l.overruled[0]
		out = append(out, fmt.Sprintf("%s %d lies in the range %d-%d of %s, but the failure's boot has its own range table (%s), which does not exclude it: that table decides.",
			p.Proto, p.Port, h.ref.Range.Start, h.ref.Range.End, h.table.placed.Artifact, strings.Join(own, ", ")))
	}
	return out
}

// reservedWithoutSnapshot reports whether an excluded range gives
// RESERVED_RANGE with no socket snapshot, and when not, why: a port inside
// an excluded range of the failure's boot cannot have an owner (Windows
// refuses to exclude a port in use, WinNAT reserves only free blocks), so
// a bind error of the 10013 class, or an error that does not say (with a
// port from the catalog or the event), is explained by the range. The
// range must be of the failure's boot or administered: a dynamic one of a
// table whose boot is unknown may have been re-created elsewhere. 10048
// says a socket held the port, which a range does not explain.
func (a *analysis) reservedWithoutSnapshot(c *incident, p neededPort, h *rangeHit) (ok bool, whyNot string) {
	if h.boot != tableOwnBoot && !h.ref.Range.Administered {
		return false, "The range is a dynamic one (no *) of a table whose boot is unknown: without a socket snapshot, and without a table of the failure's boot, it does not decide the verdict."
	}
	switch a.incidentWin32(c) {
	case 10013:
		return true, ""
	case 10048:
		return false, "The failure's error is 10048 (address in use), which a socket holding the port gives, not the 10013 of an excluded range: without a socket snapshot the range does not explain it."
	}
	if (c.class == ClassUnknown || c.class == ClassPossiblyPort) && (p.Source == PortSourceCatalog || p.Source == PortSourceEvent) {
		return true, ""
	}
	return false, "The failure's error does not say the bind was refused (10013): without a socket snapshot the range does not explain it."
}

// rangeOverrulesOwner reports whether an excluded range of the failure's
// own boot outweighs an owner seen in a snapshot of another boot: in the
// failure's boot nobody could hold a port inside an excluded range.
func rangeOverrulesOwner(l rangeLookup, o *observation) bool {
	return l.hit != nil && l.hit.boot == tableOwnBoot && (o.tier == tierLater || o.tier == tierEarlier)
}

// rangeCoverage records the tables some failure could not use because
// they come from another boot.
func (a *analysis) rangeCoverage() {
	var excl, dyn []string
	for _, k := range a.staleTables {
		kind, art, _ := strings.Cut(k, " ")
		if kind == rangeExcluded {
			excl = append(excl, printable(art))
		} else {
			dyn = append(dyn, printable(art))
		}
	}
	if len(excl) > 0 {
		a.cov.set(CheckExcludedRanges, StatusPartial, "Excluded port ranges were collected in another boot than a failure's ("+fileList(excl)+
			"): their dynamic ranges (no *), which WinNAT, Hyper-V and Docker re-create at each boot, are not evidence for that failure's boot; administered ones (*) still apply. "+
			"Collect netsh int ipv4 show excludedportrange in the boot of a failure.")
	}
	if len(dyn) > 0 {
		a.cov.set(CheckDynamicRange, StatusPartial, "The dynamic port range was collected in another boot than a failure's ("+fileList(dyn)+
			"): it is not evidence for that failure's boot, and the OS default is assumed where the OS version is known.")
	}
}
