package correlate

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// listingMaxGap is how far from a snapshot a process listing of the same
// boot may have been taken to map its PIDs when no boots are known.
const listingMaxGap = time.Hour

// holder is a socket on the needed port in one snapshot, with what is
// known about its process.
type holder struct {
	ref      SocketRef
	pid      int
	image    string
	services []string
	// procEv is where the PID → image mapping comes from, when it is not
	// the socket's own line (netstat -b).
	procEv  *Evidence
	mapNote string
	// outgoing marks a TCP connection (not a listener) on the port.
	outgoing bool
	addrNote string
	// snap is the capture the socket was first seen in; sightings are the
	// other captures of the same observation that list it, absent those
	// that could list it and do not (mergeCaptures).
	snap      *placedSnapshot
	sightings []sighting
	absent    []*placedSnapshot
}

// observation is what one snapshot shows about one needed port.
type observation struct {
	snap   *placedSnapshot
	tier   tier
	owners []holder // other processes holding the port
	own    []holder // the failed service's own process
	weak   []holder // TIME_WAIT and PID-0 leftovers: mentioned, never named owner
	other  []holder // the port on another address or IP family
	// members are the captures merged into this observation, the lead
	// first (mergeCaptures); nil for a capture read alone.
	members []*observation
}

func (h holder) describe() string {
	s := "PID " + strconv.Itoa(h.pid)
	if h.pid < 0 {
		s = "a process the snapshot does not name (no PID column)"
	}
	var in []string
	if h.image != "" {
		in = append(in, h.image)
	}
	if len(h.services) > 0 {
		in = append(in, "hosting "+strings.Join(h.services, ", "))
	}
	if len(in) > 0 {
		s += " (" + strings.Join(in, ", ") + ")"
	}
	return s
}

func (h holder) remoteText() string {
	s := h.ref.Socket
	if !h.outgoing {
		return ""
	}
	remote := s.RemoteHost
	if s.RemoteAddr.IsValid() {
		remote = netip.AddrPortFrom(s.RemoteAddr, s.RemotePort).String()
	} else if s.RemotePort != 0 {
		remote += ":" + strconv.Itoa(int(s.RemotePort))
	}
	return fmt.Sprintf("to %s, %s", orDefault(remote, "an unknown remote address"), orDefault(s.StateRaw, s.State))
}

func (h holder) heldText(artifact string, p neededPort) string {
	s := h.ref.Socket
	r := fmt.Sprintf("In snapshot %s (line %d), %s held %s %s", artifact, h.ref.Line, h.describe(), s.Proto, localText(&s))
	switch {
	case h.outgoing:
		r += fmt.Sprintf(" as the local end of a connection %s: an outgoing connection took the port from the ephemeral range", h.remoteText())
	case s.Proto == parsers.TCP && s.State != "":
		r += " (" + orDefault(s.StateRaw, s.State) + ")"
	}
	r += "."
	if h.addrNote != "" {
		r += " " + h.addrNote
	}
	return r
}

func (h holder) socketEvidence(artifact string, p neededPort) Evidence {
	s := h.ref.Socket
	return Evidence{Artifact: artifact, Line: h.ref.Line, Text: socketText(&s),
		Claim: fmt.Sprintf("%s held %s %s when the snapshot was taken.", h.describe(), s.Proto, localText(&s))}
}

// notes are the remarks an observation adds to any verdict.
func (o *observation) notes() []string {
	var out []string
	for i, h := range o.own {
		if i >= maxListed {
			break
		}
		out = append(out, fmt.Sprintf("%s is the failed service's own process and holds the port in this snapshot (line %d): it is not counted as a conflict, and it means the service ran with the port later.", h.describe(), h.ref.Line))
	}
	for i, h := range o.weak {
		if i >= maxListed {
			break
		}
		s := h.ref.Socket
		out = append(out, fmt.Sprintf("A closing connection (%s, PID %d) on local port %d was also seen (line %d); it is weak evidence and is not named as owner.", orDefault(s.StateRaw, s.State), h.pid, s.LocalPort, h.ref.Line))
	}
	return out
}

func localText(s *parsers.Socket) string {
	switch {
	case s.LocalAddr.IsValid():
		return netip.AddrPortFrom(s.LocalAddr, s.LocalPort).String()
	case s.LocalHost != "":
		return s.LocalHost + ":" + strconv.Itoa(int(s.LocalPort))
	}
	return "*:" + strconv.Itoa(int(s.LocalPort))
}

// socketText renders a socket the way netstat -ano prints it.
func socketText(s *parsers.Socket) string {
	remote := "*:*"
	if s.Proto == parsers.TCP {
		switch {
		case s.RemoteAddr.IsValid():
			remote = netip.AddrPortFrom(s.RemoteAddr, s.RemotePort).String()
		case s.RemoteHost != "":
			remote = s.RemoteHost + ":" + strconv.Itoa(int(s.RemotePort))
		default:
			remote = "0.0.0.0:0"
		}
	}
	parts := []string{string(s.Proto), localText(s), remote}
	if st := orDefault(s.StateRaw, s.State); st != "" {
		parts = append(parts, st)
	}
	if s.PID >= 0 {
		parts = append(parts, strconv.Itoa(s.PID))
	}
	if s.Image != "" {
		parts = append(parts, "["+s.Image+"]")
	}
	return strings.Join(parts, "  ")
}

func processEvidence(p ProcessRef, note string) Evidence {
	text := fmt.Sprintf("%s  %d", p.Process.Image, p.Process.PID)
	if len(p.Process.Services) > 0 {
		text += "  " + strings.Join(p.Process.Services, ",")
	}
	claim := fmt.Sprintf("PID %d is %s", p.Process.PID, orDefault(p.Process.Image, "an unnamed image"))
	if len(p.Process.Services) > 0 {
		claim += ", hosting " + strings.Join(p.Process.Services, ", ")
	}
	if note != "" {
		claim += " (" + note + ")"
	}
	return Evidence{Artifact: p.Artifact, Line: p.Line, Text: text, Claim: claim + "."}
}

func rangeEvidence(r RangeRef, proto parsers.Proto) Evidence {
	text := fmt.Sprintf("%d  %d", r.Range.Start, r.Range.End)
	kind := "a dynamic reservation"
	if r.Range.Administered {
		text += "  *"
		kind = "an administered exclusion"
	}
	p := r.Range.Proto
	if p == "" {
		p = proto
	}
	return Evidence{Artifact: r.Artifact, Line: r.Line, Text: text,
		Claim: fmt.Sprintf("%s ports %d-%d are excluded (%s).", p, r.Range.Start, r.Range.End, kind)}
}

// observe looks for the holders of a needed port in one snapshot.
func (a *analysis) observe(ctx context.Context, c *incident, p neededPort, s *placedSnapshot) (*observation, error) {
	o := &observation{snap: s, tier: a.tierOf(c, s)}
	refs, err := a.ownersOf(ctx, p.Proto, p.Port)
	if err != nil {
		return nil, err
	}
	own := a.ownPIDs(s, c.key)
	for _, ref := range refs {
		sk := ref.Socket
		if ref.SnapshotID != s.ID || !sk.HasPort || sk.LocalPort != p.Port || sk.Proto != p.Proto {
			continue
		}
		h := holder{ref: ref, pid: sk.PID, snap: s}
		ok, note := overlaps(p.Addr, &sk)
		h.addrNote = note
		h.outgoing = isConnection(&sk)
		a.enrich(&h, s)
		switch {
		case !ok:
			o.other = append(o.other, h)
		case sk.State == parsers.StateTimeWait || sk.Proto == parsers.TCP && sk.PID == 0 && !sk.Listening():
			o.weak = append(o.weak, h)
		case sk.PID >= 0 && own[sk.PID] || hostsKey(sk.Services, c.key):
			o.own = append(o.own, h)
		default:
			o.owners = append(o.owners, h)
		}
	}
	// Listeners and endpoints before connections; then file order.
	slices.SortStableFunc(o.owners, func(x, y holder) int {
		if x.outgoing != y.outgoing {
			if x.outgoing {
				return 1
			}
			return -1
		}
		return x.ref.Line - y.ref.Line
	})
	// A process that also listens on the port is not an outgoing client.
	for i := range o.owners {
		if o.owners[i].outgoing && slices.ContainsFunc(o.owners, func(x holder) bool { return !x.outgoing && x.pid == o.owners[i].pid && x.pid >= 0 }) {
			o.owners[i].outgoing = false
		}
	}
	return o, nil
}

// isConnection reports whether a TCP socket is a connection (its local
// port taken by a connect or an accept) rather than a listener: it has a
// state, is not listening or bound, is not a closed leftover, and has a
// remote end.
func isConnection(s *parsers.Socket) bool {
	if s.Proto != parsers.TCP || s.State == "" || s.Listening() {
		return false
	}
	switch s.State {
	case parsers.StateTimeWait, parsers.StateClosed, parsers.StateDeleteTCB:
		return false
	}
	noRemote := s.RemotePort == 0 && (!s.RemoteAddr.IsValid() || s.RemoteAddr.IsUnspecified()) && s.RemoteHost == ""
	return !noRemote
}

// overlaps reports whether a socket's local address conflicts with the
// address the failed service binds. An unknown address (catalog ports)
// conflicts with everything; 0.0.0.0 with any IPv4 address and [::] with
// any IPv6 one; a specific address with itself and the wildcard of its
// family. IPv4 and IPv6 are separate on Windows (a [::] listener without
// IPV6_V6ONLY does not block 0.0.0.0).
func overlaps(want netip.Addr, s *parsers.Socket) (bool, string) {
	if !want.IsValid() {
		return true, ""
	}
	if !s.LocalAddr.IsValid() {
		if s.LocalHost != "" {
			return true, fmt.Sprintf("The snapshot shows the address as the name %q, so it is counted as overlapping.", s.LocalHost)
		}
		return true, ""
	}
	w, g := want.Unmap().WithZone(""), s.LocalAddr.Unmap().WithZone("")
	if w.Is4() != g.Is4() {
		return false, ""
	}
	if w.IsUnspecified() || g.IsUnspecified() || w == g {
		return true, ""
	}
	return false, ""
}

// ownPIDs are the PIDs hosting the failed service in a snapshot.
func (a *analysis) ownPIDs(s *placedSnapshot, key string) map[int]bool {
	own := map[int]bool{}
	if key == "" {
		return own
	}
	for _, p := range a.processRefs(s) {
		if hostsKey(p.Process.Services, key) {
			own[p.Process.PID] = true
		}
	}
	return own
}

// processRefs are the PID mappings that apply to a snapshot: its own, else
// those of the process listing taken closest to it in the same boot.
func (a *analysis) processRefs(s *placedSnapshot) []ProcessRef {
	if refs := a.procBySnap[s.ID]; len(refs) > 0 {
		return refs
	}
	if l := a.listingFor(s); l != nil {
		return l.refs
	}
	return nil
}

// listingFor ties a snapshot to a process listing (tasklist) that is not a
// snapshot itself: the one of the same boot taken closest to it, or the
// only listing when there is only one snapshot and times are unknown.
func (a *analysis) listingFor(s *placedSnapshot) *listing {
	if l, ok := a.listingPick[s.ID]; ok {
		return l
	}
	var best *listing
	var bestGap time.Duration
	why := ""
	for i := range a.listings {
		l := &a.listings[i]
		if l.at.IsZero() || s.at.IsZero() {
			continue
		}
		gap := l.at.UTC().Sub(s.at)
		if gap < 0 {
			gap = -gap
		}
		switch {
		case len(a.sessions) > 0 && (l.session < 0 || l.session != s.session):
			continue
		case len(a.sessions) == 0 && gap > listingMaxGap:
			continue
		}
		if best == nil || gap < bestGap {
			best, bestGap = l, gap
		}
	}
	if best != nil {
		if bestGap >= time.Minute {
			side := "after"
			if best.at.Before(s.at) {
				side = "before"
			}
			why = fmt.Sprintf("%s was taken %s %s the snapshot", best.artifact, fmtDur(bestGap), side)
		}
	} else if len(a.listings) == 1 && len(a.snaps) == 1 {
		best = &a.listings[0]
		why = "its capture time cannot be compared with the snapshot's, but it is the only process listing and this the only snapshot"
	}
	a.listingPick[s.ID] = best
	a.listingWhy[s.ID] = why
	return best
}

// enrich maps a holder's PID to its image and services: from the socket
// itself (netstat -b), the snapshot's process refs, or a paired listing.
func (a *analysis) enrich(h *holder, s *placedSnapshot) {
	sk := h.ref.Socket
	if sk.Image != "" {
		h.image, h.services = sk.Image, sk.Services
		a.mappedPIDs++
		return
	}
	if h.pid >= 0 {
		for _, p := range a.processRefs(s) {
			if p.Process.PID != h.pid {
				continue
			}
			h.image, h.services = p.Process.Image, p.Process.Services
			note := ""
			if _, own := a.procBySnap[s.ID]; !own {
				note = a.listingWhy[s.ID]
			}
			ev := processEvidence(p, note)
			h.procEv = &ev
			a.mappedPIDs++
			return
		}
	}
	switch h.pid {
	case 4:
		h.image = "System"
		return
	case 0:
		h.image = "System Idle Process"
		return
	case -1:
		h.mapNote = "The snapshot has no PID column (netstat without -o), so the holder cannot be named."
		return
	}
	if sk.Owner != "" {
		h.mapNote = fmt.Sprintf("netstat -b printed %q for PID %d.", sk.Owner, h.pid)
	} else {
		h.mapNote = fmt.Sprintf("PID %d could not be mapped to an image: no tasklist or netstat -b ties to this snapshot.", h.pid)
	}
	a.unmappedPIDs++
}

// socketShort names a holder's socket by its local end, with the state
// when it is not a listener's: "[::]:1433", "10.0.0.12:1433 (ESTABLISHED
// to 10.0.0.40:51234)".
func (h holder) socketShort() string {
	s := h.ref.Socket
	out := localText(&s)
	if s.Proto == parsers.TCP && s.State != "" && s.State != parsers.StateListening {
		out += " (" + orDefault(s.StateRaw, s.State)
		if s.RemoteAddr.IsValid() {
			out += " to " + netip.AddrPortFrom(s.RemoteAddr, s.RemotePort).String()
		}
		out += ")"
	}
	return out
}

// joinAnd joins items as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
