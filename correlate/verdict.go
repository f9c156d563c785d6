package correlate

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// portFinding gives the verdict for one needed port of an incident.
func (a *analysis) portFinding(ctx context.Context, c *incident, p neededPort, all []neededPort) (Finding, error) {
	fd := a.newFinding(c)
	fd.Proto, fd.Port, fd.PortSource = p.Proto, p.Port, p.Source
	fd.Reasons = append(fd.Reasons, p.Why)
	fd.Evidence = append(fd.Evidence, p.Ev...)
	signalReasons, signalEv := a.relatedSignals(c, p)
	rl := a.lookupRange(c, rangeExcluded, p.Proto, p.Port, p.Addr)
	a.lookupRange(c, rangeDynamic, p.Proto, p.Port, p.Addr) // notes a dynamicport table of another boot for coverage

	reserved, whyNot := false, ""
	if len(a.snaps) == 0 && rl.hit != nil {
		reserved, whyNot = a.reservedWithoutSnapshot(c, p, rl.hit)
	}
	if reserved {
		a.rangeVerdict(c, p, all, nil, rl.hit, &fd)
		for _, r := range signalReasons {
			fd.Reasons = append(fd.Reasons, r.text)
		}
		fd.Evidence = append(fd.Evidence, signalEv...)
		fd.Remedy = append(fd.Remedy, collectLines(a.family, p.Proto)...)
		fd.Confidence = math.Round(clamp01(fd.Confidence)*100) / 100
		return fd, nil
	}
	if len(a.snaps) == 0 {
		fd.Verdict = NoSnapshot
		r := fmt.Sprintf("No socket snapshot (netstat -ano, Get-NetTCPConnection/Get-NetUDPEndpoint, tcpvcon with ports) was supplied, so who held %s %d cannot be checked.", p.Proto, p.Port)
		if len(a.noPorts) > 0 {
			r += fmt.Sprintf(" %s lists sockets without ports (Tcpvcon 4.x), which cannot show a port's owner.", a.noPorts[0].Artifact)
		}
		fd.Reasons = append(fd.Reasons, r)
		for _, r := range signalReasons {
			fd.Reasons = append(fd.Reasons, r.text)
		}
		fd.Evidence = append(fd.Evidence, signalEv...)
		if h := rl.hit; h != nil {
			why, _ := a.hitReason(c, h)
			fd.Reasons = append(fd.Reasons, fmt.Sprintf("%s %d lies in the excluded port range %d-%d, which by itself makes a bind fail with 10013.", p.Proto, p.Port, h.ref.Range.Start, h.ref.Range.End), why,
				whyNot)
			fd.Evidence = append(fd.Evidence, rangeEvidence(*h.ref, p.Proto))
			fd.Rule = RuleExcludedRange
			fd.Remedy, fd.KB = remedyFor(a.remedyInput(c, p, all, RuleExcludedRange, nil, &h.ref.Range))
		}
		fd.Reasons = append(fd.Reasons, a.rangeNotes(c, p, rl, &fd)...)
		fd.Remedy = append(fd.Remedy, collectLines(a.family, p.Proto)...)
		return fd, nil
	}

	var obs []*observation
	for _, s := range a.orderSnapshots(c) {
		o, err := a.observe(ctx, c, p, s)
		if err != nil {
			return Finding{}, err
		}
		obs = append(obs, o)
	}
	obs = a.mergeCaptures(obs)
	chosen := obs[0]
	if len(chosen.owners) == 0 {
		for _, o := range obs[1:] {
			if len(o.owners) > 0 && (o.tier == tierSameBefore || chosen.tier != tierSameAfter) {
				chosen = o
				break
			}
		}
	}
	fd.Snapshot = chosen.snap.Artifact
	fd.Reasons = append(fd.Reasons, a.snapshotReason(c, chosen))
	if r := memberText(chosen); r != "" {
		fd.Reasons = append(fd.Reasons, r)
	}
	if chosen != obs[0] {
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("The preferred snapshot, %s, shows %s %d free; %s is used because it shows an owner.", obs[0].snap.Artifact, p.Proto, p.Port, chosen.snap.Artifact))
	}
	if s := a.snapshotSession(chosen.snap); s != nil && chosen.snap.session != c.session {
		fd.Evidence = append(fd.Evidence, bootEvidence(*s)...)
	}

	switch {
	case len(chosen.owners) > 0 && !rangeOverrulesOwner(rl, chosen):
		if err := a.ownerVerdict(ctx, c, p, all, chosen, &fd); err != nil {
			return Finding{}, err
		}
	case rl.hit != nil:
		a.rangeVerdict(c, p, all, chosen, rl.hit, &fd)
	default:
		a.freeVerdict(c, p, chosen, &fd)
	}
	fd.Reasons = append(fd.Reasons, a.rangeNotes(c, p, rl, &fd)...)
	fd.Reasons = append(fd.Reasons, a.otherObservations(obs, chosen, p)...)
	for _, r := range signalReasons {
		if fd.Rule == RuleIPsecBlockMode && r.eventID == 4292 {
			continue // the rule's own reason says it
		}
		fd.Reasons = append(fd.Reasons, r.text)
	}
	fd.Evidence = append(fd.Evidence, signalEv...)
	fd.Confidence = math.Round(clamp01(fd.Confidence)*100) / 100
	return fd, nil
}

// ownerVerdict: CONFIRMED or PROBABLE, with the culprit rule.
//
// Every holder of the observation counts. A holder whose bind time
// (CreationTime) is later than the failure did not cause it: the first
// holder not so excluded decides, and when every holder bound the port
// after the failure the verdict is NO_CONFLICT_SEEN (lateVerdict).
func (a *analysis) ownerVerdict(ctx context.Context, c *incident, p neededPort, all []neededPort, o *observation, fd *Finding) error {
	var decide *judged
	var late []judged
	var others []holder
	for _, h := range o.owners {
		r, bound := a.createdText(h, c)
		switch {
		case bound == boundAfter:
			late = append(late, judged{h, r, bound})
		case decide == nil:
			decide = &judged{h, r, bound}
		default:
			others = append(others, h)
		}
	}
	if decide == nil {
		a.lateVerdict(c, p, o, late, fd)
		return nil
	}
	h := decide.h
	fd.OwnerPID, fd.OwnerImage, fd.OwnerServices = h.pid, h.image, h.services
	fd.Snapshot = h.snap.Artifact
	fd.Reasons = append(fd.Reasons, h.heldText(h.snap.Artifact, p))
	fd.Evidence = append(fd.Evidence, h.socketEvidence(h.snap.Artifact, p))
	rs, ev := h.sightingTexts(p)
	fd.Reasons = append(fd.Reasons, rs...)
	fd.Evidence = append(fd.Evidence, ev...)
	if h.mapNote != "" {
		fd.Reasons = append(fd.Reasons, h.mapNote)
	}
	if h.procEv != nil {
		fd.Evidence = append(fd.Evidence, *h.procEv)
	}
	disagree := a.imageDisagreement(o, &h)
	if disagree != "" {
		fd.Reasons = append(fd.Reasons, disagree)
	}
	// The owner's other sockets on the port (its IPv6 listener, accepted
	// connections) are one reason; other processes one each.
	var own []string
	n := 0
	for _, x := range others {
		if x.pid >= 0 && x.pid == h.pid && x.snap == h.snap {
			if len(own) < maxListed {
				own = append(own, fmt.Sprintf("%s (line %d)", x.socketShort(), x.ref.Line))
				fd.Evidence = append(fd.Evidence, x.socketEvidence(x.snap.Artifact, p))
			}
			continue
		}
		if n >= maxListed {
			continue
		}
		n++
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("Also on that port in %s: %s.", orDefault(sameSnapText(x.snap, h.snap), "capture "+x.snap.Artifact), x.describe()))
		fd.Evidence = append(fd.Evidence, x.socketEvidence(x.snap.Artifact, p))
	}
	if len(own) > 0 {
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("The same process also holds %s %s in that snapshot.", p.Proto, joinAnd(own)))
	}
	for i, x := range late {
		if i >= maxListed {
			break
		}
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("%s also held it in %s (line %d), but did not cause the failure. %s", x.h.describe(), x.h.snap.Artifact, x.h.ref.Line, x.text))
		fd.Evidence = append(fd.Evidence, x.h.socketEvidence(x.h.snap.Artifact, p))
	}
	fd.Reasons = append(fd.Reasons, o.notes()...)

	// Confidence: the snapshot's placement, the port's source, the error.
	trusted := h.trustedSighting()
	conf := map[tier]float64{tierSameAfter: 0.95, tierSameBefore: 0.75, tierLater: 0.5, tierEarlier: 0.4, tierUnknown: 0.5}[o.tier]
	if o.tier == tierSameAfter && !trusted {
		conf = 0.75
	}
	if o.tier == tierUnknown && h.snap.at.IsZero() {
		conf = 0.45
	}
	confirmed := o.tier == tierSameAfter && trusted
	switch p.Source {
	case PortSourceCatalog:
		if c.class == ClassPortConflict {
			conf *= 0.9
		} else {
			conf *= 0.75
			confirmed = false
		}
	case PortSourceHistory:
		conf *= 0.8
		confirmed = false
	}
	switch c.class {
	case ClassPossiblyPort:
		conf *= 0.85
	case ClassUnknown:
		conf *= 0.8
	}
	if decide.text != "" {
		r := decide.text
		if decide.bound == boundBefore {
			switch o.tier {
			case tierSameAfter:
				r += " The snapshot, taken after the failure, still lists it: it held the port when the service tried to bind it. A bind time before the failure is the strongest proof there is of who was first."
				conf += 0.04
			case tierSameBefore:
				r += " The snapshot was taken before the failure, so whether it still held the port at the failure is not proven."
			}
		}
		if decide.bound == boundLater {
			conf *= 0.7
			confirmed = false
		}
		fd.Reasons = append(fd.Reasons, r)
	}
	if disagree != "" {
		conf *= 0.8
		confirmed = false
	}
	fd.Verdict, fd.Confidence = Probable, conf
	if confirmed {
		fd.Verdict = Confirmed
	}
	switch {
	case confirmed && p.Source == PortSourceCatalog:
		fd.Reasons = append(fd.Reasons, "Confirmed: the error says the bind failed for a conflict, and the port the catalog names for this service was held by another process in the failure's boot after the failure.")
	case !confirmed && disagree != "":
		fd.Reasons = append(fd.Reasons, "Probable rather than confirmed: the captures name different programs for the holder's PID.")
	case !confirmed && o.tier == tierSameAfter && !trusted:
		fd.Reasons = append(fd.Reasons, "Probable rather than confirmed: the snapshot's capture time is not trustworthy, so it may not follow the failure in the same boot.")
	case !confirmed && p.Source == PortSourceCatalog && c.class != ClassPortConflict:
		fd.Reasons = append(fd.Reasons, "Probable rather than confirmed: the port comes from the catalog and the error does not itself say the bind failed.")
	case !confirmed && p.Source == PortSourceHistory:
		fd.Reasons = append(fd.Reasons, "Probable rather than confirmed: the port comes only from what the service's process held in an earlier snapshot.")
	}

	facts, err := a.ruleFacts(ctx, c, p, h)
	if err != nil {
		return err
	}
	m := matchRule(facts)
	fd.Rule = m.Rule
	fd.Reasons = append(fd.Reasons, m.Reasons...)
	in := a.remedyInput(c, p, all, m.Rule, &h, nil)
	if facts.OwnerStatic {
		in.OwnerService = facts.OwnerStaticSvc
	}
	fd.Remedy, fd.KB = remedyFor(in)
	return nil
}

type boundWhen int

const (
	boundUnknown boundWhen = iota
	boundBefore
	boundAfter // in the failure's boot: the holder came after the failure
	boundLater // after the failure, in a later boot or one not known
)

// createdText compares the socket's bind time (Get-NetTCPConnection /
// Get-NetUDPEndpoint CreationTime, from whichever capture of the
// observation gives it) with the failure's time. CreationTime has whole
// seconds: a bind in the failure's second cannot be ordered.
func (a *analysis) createdText(h holder, c *incident) (string, boundWhen) {
	s := h.boundRef().ref.Socket
	ft := c.primary.Failure.Time
	if s.CreatedAt.IsZero() || ft.IsZero() {
		return "", boundUnknown
	}
	at := s.CreatedAt.UTC()
	zone := ""
	if s.CreatedLocal {
		lt := a.zone.ToUTC(at)
		if !lt.OK() {
			a.localNoOffset = true
			return fmt.Sprintf("The socket's bind time (%s) is the host's local time and its UTC offset is unknown, so it was not compared with the failure's time.", s.CreatedAt.Format("2006-01-02 15:04:05")), boundUnknown
		}
		if a.zone.anyOwn() {
			zone = " Its bind time is " + lt.Describe(at) + "."
		}
		a.noteFallback(lt, "a bind time")
		at = lt.UTC
	}
	ft = ft.UTC()
	switch {
	case at.After(ft) && (c.session < 0 || a.sessions.At(at) != c.session):
		// A bind in a later boot (or one that cannot be placed) says
		// nothing of who held the port in the failure's boot.
		where := "whether in the failure's boot is unknown"
		if c.session >= 0 {
			where = "in a later boot"
		}
		return fmt.Sprintf("The socket was bound at %s (CreationTime), %s after the failure at %s, %s: this socket did not block the service, though the same program binding the port again is a hint.%s", fmtTime(at), fmtDur(at.Sub(ft)), fmtTime(ft), where, zone), boundLater
	case at.After(ft):
		return fmt.Sprintf("The socket was bound at %s (CreationTime), %s after the failure at %s in the same boot: the port was taken after the service had failed, so this holder did not cause the failure (it would block a restart now).%s", fmtTime(at), fmtDur(at.Sub(ft)), fmtTime(ft), zone), boundAfter
	case !at.Add(time.Second).After(ft):
		return fmt.Sprintf("The socket was bound at %s (CreationTime), %s before the failure at %s.%s", fmtTime(at), fmtDur(ft.Sub(at)), fmtTime(ft), zone), boundBefore
	}
	return fmt.Sprintf("The socket was bound at %s (CreationTime), in the same second as the failure at %s, so which came first cannot be told.%s", fmtTime(at), fmtTime(ft), zone), boundUnknown
}

// lateVerdict: every holder of the observation bound the port after the
// failure, so none of them caused it: NO_CONFLICT_SEEN, with the holders
// named.
func (a *analysis) lateVerdict(c *incident, p neededPort, o *observation, late []judged, fd *Finding) {
	fd.Verdict = NoConflictSeen
	for i, x := range late {
		if i >= maxListed {
			break
		}
		h := x.h
		fd.Reasons = append(fd.Reasons, h.heldText(h.snap.Artifact, p)+" "+x.text)
		fd.Evidence = append(fd.Evidence, h.socketEvidence(h.snap.Artifact, p))
		if b := h.boundRef(); b.snap != h.snap || b.ref.Line != h.ref.Line {
			hx := h // the capture that gave the bind time
			hx.ref = b.ref
			fd.Evidence = append(fd.Evidence, hx.socketEvidence(b.snap.Artifact, p))
		}
		if h.procEv != nil {
			fd.Evidence = append(fd.Evidence, *h.procEv)
		}
	}
	fd.Reasons = append(fd.Reasons, fmt.Sprintf("No holder in %s was there at the failure: as far as the evidence shows, what made the bind fail is not among them.", o.artifacts()))
	fd.Reasons = append(fd.Reasons, o.notes()...)
	conf := map[tier]float64{tierSameAfter: 0.6, tierSameBefore: 0.45, tierLater: 0.35, tierEarlier: 0.3, tierUnknown: 0.35}[o.tier]
	if c.class == ClassPortConflict && p.Source == PortSourceEvent {
		conf *= 0.6
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("Yet the event's own error says %s %d was unavailable at the failure: whatever held it then was gone by the snapshot, and the port was taken again afterwards.", p.Proto, p.Port))
	}
	fd.Confidence = conf
}

// judged is a holder with what its bind time says.
type judged struct {
	h     holder
	text  string
	bound boundWhen
}

// sameSnapText is "the same snapshot" when x was seen in the capture of
// ref, "" otherwise.
func sameSnapText(x, ref *placedSnapshot) string {
	if x == ref {
		return "the same snapshot"
	}
	return ""
}

// rangeVerdict: no owner, and the port lies in an excluded range of the
// failure's boot. o is nil when there is no socket snapshot: a port
// inside an excluded range cannot have an owner, so none is needed.
func (a *analysis) rangeVerdict(c *incident, p neededPort, all []neededPort, o *observation, h *rangeHit, fd *Finding) {
	rng := &h.ref.Range
	kind := "a dynamic reservation (no *: WinNAT for Hyper-V, WSL 2 or Docker reserves such blocks at each boot)"
	if rng.Administered {
		kind = "an administered exclusion (*: added on purpose with netsh or by an installer)"
	}
	fd.Verdict = ReservedRange
	switch {
	case o != nil && len(o.owners) > 0:
		fd.Reasons = append(fd.Reasons, fmt.Sprintf(
			"In the failure's boot %s %d lay in the excluded port range %d-%d, %s, so no process could hold it then, and a bind to it fails with 10013 (WSAEACCES). Snapshot %s, of another boot, shows %s holding it, which says nothing of the failure's boot.",
			p.Proto, p.Port, rng.Start, rng.End, kind, o.snap.Artifact, o.owners[0].describe()))
	case o != nil:
		fd.Reasons = append(fd.Reasons, fmt.Sprintf(
			"Nothing held %s %d in snapshot %s, and it lies in the excluded port range %d-%d, %s. A bind to a port in an excluded range fails with 10013 (WSAEACCES) while netstat shows no owner.",
			p.Proto, p.Port, o.snap.Artifact, rng.Start, rng.End, kind))
	default:
		fd.Reasons = append(fd.Reasons, fmt.Sprintf(
			"No socket snapshot was supplied, and none is needed: %s %d lies in the excluded port range %d-%d, %s. No process can hold a port inside an excluded range (Windows refuses to exclude a port in use, and WinNAT reserves only free blocks), and a bind to it fails with 10013 (WSAEACCES).",
			p.Proto, p.Port, rng.Start, rng.End, kind))
	}
	fd.Evidence = append(fd.Evidence, rangeEvidence(*h.ref, p.Proto))
	conf := 0.6
	switch code := a.incidentWin32(c); {
	case code == 10013:
		conf = 0.9
		fd.Reasons = append(fd.Reasons, "The failure's error maps to 10013 (WSAEACCES), which is what an excluded range gives.")
	case code == 10048:
		conf = 0.55
		fd.Reasons = append(fd.Reasons, "The failure's error is 10048 (address in use), which usually means a socket holds the port; an excluded range gives 10013, so this is less certain.")
	case c.class == ClassPortConflict:
		conf = 0.75
	default:
		conf = 0.5
	}
	if o != nil && o.tier != tierSameAfter {
		conf *= 0.85
	}
	why, factor := a.hitReason(c, h)
	fd.Reasons = append(fd.Reasons, why)
	if o != nil {
		fd.Reasons = append(fd.Reasons, o.notes()...)
	}
	fd.Confidence = conf * factor
	fd.Rule = RuleExcludedRange
	fd.Remedy, fd.KB = remedyFor(a.remedyInput(c, p, all, RuleExcludedRange, nil, rng))
}

// incidentWin32 is the Win32 form of the incident's error: NTSTATUS and
// HRESULT forms of 10013/10048 map to them.
func (a *analysis) incidentWin32(c *incident) uint32 {
	// An error stated by an event wins over one read from an event's
	// wording: SQL Server's 26023 says "Tcp port is already in use" for
	// any listen failure, while the 17182 beside it names the real error
	// (0x271d when an excluded range refuses the bind).
	for _, worded := range []bool{false, true} {
		for _, f := range c.all() {
			if !f.Failure.HasError || errorFromWording(f.Failure) != worded {
				continue
			}
			code := f.Failure.ErrorCode
			switch {
			case code == 10013 || code == 10048:
				return code
			case code == 0xC0000022 || code == 0x80072743:
				return 10013
			case code == 0xC000020A || code == 0xC0000043 || code == 0x80072740:
				return 10048
			}
		}
	}
	return 0
}

// errorFromWording reports whether f's error comes from the event's
// wording rather than a code it carries (SQL Server 26023).
func errorFromWording(f Failure) bool {
	return f.EventID == 26023 && isSQLServer(f.Provider)
}

// freeVerdict: the port was free in the snapshot.
func (a *analysis) freeVerdict(c *incident, p neededPort, o *observation, fd *Finding) {
	fd.Verdict = NoConflictSeen
	addr := "any address"
	if p.Addr.IsValid() {
		addr = p.Addr.String()
	}
	fd.Reasons = append(fd.Reasons, fmt.Sprintf("As far as %s shows, this is not a port conflict on %s %d: no other process held it (on %s) when the snapshot was taken.", o.artifacts(), p.Proto, p.Port, addr))
	var hide []string
	switch o.tier {
	case tierSameAfter:
		if !o.snap.at.IsZero() {
			hide = append(hide, fmt.Sprintf("the holder may have exited or released the port in the %s between the failure and the snapshot", fmtDur(o.snap.at.Sub(c.primary.Failure.Time))))
		}
	case tierSameBefore:
		hide = append(hide, "the snapshot was taken before the failure, and the port may have been taken after it")
	default:
		hide = append(hide, "the snapshot does not come from the failure's boot, and who holds a port changes from boot to boot")
	}
	if (o.hasFormat(parsers.FormatNetstat) || o.hasFormat("")) && !o.hasFormat(parsers.FormatPSNetTCP) {
		hide = append(hide, "a socket that is bound but not listening (BOUND) appears only with netstat -q or Get-NetTCPConnection")
	}
	if len(o.other) > 0 {
		hide = append(hide, fmt.Sprintf("%s holds the port on another address or IP family, which does not block this bind on Windows unless the address is wrong", o.other[0].describe()))
	}
	if !a.haveRanges(p.Proto) {
		hide = append(hide, fmt.Sprintf("excluded port ranges for %s were not collected, so a reserved range (a bind fails with 10013 and netstat shows nobody) cannot be ruled out", p.Proto))
	}
	fd.Reasons = append(fd.Reasons, "What could still hide a conflict: "+strings.Join(hide, "; ")+".")
	fd.Reasons = append(fd.Reasons, o.notes()...)

	conf := map[tier]float64{tierSameAfter: 0.7, tierSameBefore: 0.45, tierLater: 0.35, tierEarlier: 0.3, tierUnknown: 0.35}[o.tier]
	if c.class == ClassPortConflict {
		if p.Source == PortSourceEvent {
			conf *= 0.5
			fd.Reasons = append(fd.Reasons, fmt.Sprintf("Yet the event's own error says %s %d was unavailable at the failure: whatever held it was gone by the snapshot.", p.Proto, p.Port))
		} else {
			conf *= 0.85
		}
	}
	if len(o.weak) > 0 {
		conf *= 0.9
	}
	if len(o.own) > 0 {
		conf = math.Max(conf, 0.5)
	}
	fd.Confidence = conf
}

func ipVersionMatches(v string, addr netip.Addr) bool {
	if v == "" || !addr.IsValid() {
		return true
	}
	if addr.Unmap().Is4() {
		return strings.EqualFold(v, "ipv4")
	}
	return strings.EqualFold(v, "ipv6")
}

func (a *analysis) haveRanges(proto parsers.Proto) bool {
	for _, r := range a.in.Ranges {
		if r.Range.Kind == "excluded" && (r.Range.Proto == "" || r.Range.Proto == proto) {
			return true
		}
	}
	return false
}

// dynamicRange is the dynamic port range for a port: collected with netsh,
// else the default of the OS version, else (version unknown) whichever of
// the two defaults holds the port.
func (a *analysis) dynamicRange(c *incident, proto parsers.Proto, port uint16, addr netip.Addr) (portRange, string, bool) {
	l := a.lookupRange(c, rangeDynamic, proto, port, addr)
	if h := l.hit; h != nil {
		src := fmt.Sprintf("netsh, %s line %d", h.ref.Artifact, h.ref.Line)
		if h.boot == tableBootUnknown {
			src += ", a table whose boot is unknown"
		}
		return portRange{h.ref.Range.Start, h.ref.Range.End}, src, true
	}
	other := ""
	for _, t := range a.tables {
		if a.tableBootOf(c, t) != tableOtherBoot {
			continue
		}
		for _, i := range t.refs {
			if r := a.in.Ranges[i]; r.Range.Kind == rangeDynamic && (r.Range.Proto == "" || r.Range.Proto == proto) && ipVersionMatches(r.Range.IPVersion, addr) && other == "" {
				other = fmt.Sprintf("; netsh (%s line %d) shows %d-%d, but in another boot, which is not evidence for the failure's", r.Artifact, r.Line, r.Range.Start, r.Range.End)
				if a.family == osUnknown {
					return portRange{r.Range.Start, r.Range.End}, fmt.Sprintf("netsh, %s line %d, a table of another boot (the OS version is unknown, so no default is better)", r.Artifact, r.Line), true
				}
			}
		}
	}
	switch a.family {
	case osLegacy:
		return portRange{1025, 5000}, "the default of " + a.osLabel + other, true
	case osVista, osModern:
		return portRange{49152, 65535}, "the default of " + a.osLabel + other, true
	}
	if port >= 1025 && port <= 5000 {
		return portRange{1025, 5000}, "the default of Windows 2000/XP/Server 2003; the OS version is unknown, and on Vista/2008 and later the default is 49152-65535", true
	}
	return portRange{49152, 65535}, "the default of Windows Vista/Server 2008 and later; the OS version is unknown, and on 2000/XP/2003 the default is 1025-5000", true
}

// ruleFacts gathers what the culprit rules need about an owner.
func (a *analysis) ruleFacts(ctx context.Context, c *incident, p neededPort, h holder) (ruleFacts, error) {
	f := ruleFacts{
		Proto: p.Proto, Port: p.Port,
		OwnerPID: h.pid, OwnerImage: h.image, OwnerServices: h.services,
		Outgoing: h.outgoing, RemoteText: h.remoteText(),
		BlockMode: a.blockMode(c), IPsecService: isIPsec(c),
		ServiceImage: a.serviceImage(c),
	}
	if p.Proto == parsers.UDP && h.pid > 0 {
		n, err := a.countByPID(ctx, h.snap.ID, h.pid)
		if err != nil {
			return f, err
		}
		f.UDPCount, f.HasCount = n, true
	}
	f.Dynamic, f.DynamicSource, f.DynamicKnown = a.dynamicRange(c, p.Proto, p.Port, p.Addr)
	if e, _, ok := a.catalogEntry(c); ok {
		f.ServiceProduct = e.Product
		if f.ServiceImage == "" && len(e.Images) == 1 && !isPattern(e.Images[0]) && !isSharedHost(e.Images[0]) {
			f.ServiceImage = e.Images[0]
		}
	}
	for _, svc := range h.services {
		e, ok := a.cat.ByKey(svc)
		if !ok {
			continue
		}
		if f.OwnerProduct == "" && e.Product != "" && !strings.EqualFold(svc, c.key) {
			f.OwnerProduct, f.OwnerProdSvc = e.Product, svc
		}
		if !f.OwnerStatic && slices.Contains(e.Ports, p.PortSpec) {
			f.OwnerStatic, f.OwnerStaticSvc = true, svc
		}
	}
	if !isSharedHost(h.image) && h.image != "" {
		if e, ok := a.cat.ByImage(h.image); ok {
			if f.OwnerProduct == "" && e.Product != "" {
				f.OwnerProduct, f.OwnerProdSvc = e.Product, h.image
			}
			if !f.OwnerStatic && slices.Contains(e.Ports, p.PortSpec) {
				f.OwnerStatic, f.OwnerStaticSvc = true, e.Key
			}
		}
	}
	if h.pid == 4 && !f.OwnerStatic {
		if e, ok := a.cat.ByKey("lanmanserver"); ok && slices.Contains(e.Ports, p.PortSpec) {
			f.OwnerStatic, f.OwnerStaticSvc = true, "lanmanserver"
		}
	}
	return f, nil
}

func (a *analysis) remedyInput(c *incident, p neededPort, all []neededPort, rule Rule, h *holder, rng *parsers.PortRange) remedyInput {
	in := remedyInput{
		Rule: rule, Family: a.family, Proto: p.Proto, Port: p.Port, Addr: p.Addr,
		ServiceKey: orDefault(c.key, c.displayName()), OwnerPID: -1, Range: rng,
	}
	if h != nil {
		in.OwnerPID, in.OwnerImage = h.pid, h.image
	}
	in.Dynamic, _, _ = a.dynamicRange(c, p.Proto, p.Port, p.Addr)
	if rule == RuleDNSSocketPool {
		for _, q := range all {
			if q.Proto == p.Proto {
				in.Ports = append(in.Ports, q.Port)
			}
		}
	}
	return in
}
