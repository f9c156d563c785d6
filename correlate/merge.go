package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// captureWindow: socket captures of one boot taken at most this far from
// the first (best-ranked) of them are one observation, whose sockets are
// the union. netstat -ano, -anoq, -anob and Get-NetTCPConnection /
// Get-NetUDPEndpoint are usually run one after the other by a script or a
// person pasting commands, within a minute or so; two minutes leaves room
// for a slow -b (it resolves every process) without joining captures taken
// for different reasons.
const captureWindow = 2 * time.Minute

// sighting is one more capture of an observation that lists a holder's
// socket.
type sighting struct {
	snap *placedSnapshot
	ref  SocketRef
}

// mergeCaptures folds the observations (in rank order) of captures taken
// close together in one boot, on the same side of the failure, into one
// observation each: the best-ranked capture leads, the holders are the
// union of every capture's, and a socket listed by several captures is one
// holder with its other sightings. Captures whose time is unknown stand
// alone.
func (a *analysis) mergeCaptures(obs []*observation) []*observation {
	used := make([]bool, len(obs))
	var out []*observation
	for i, lead := range obs {
		if used[i] {
			continue
		}
		used[i] = true
		group := []*observation{lead}
		for j := i + 1; j < len(obs); j++ {
			if !used[j] && a.oneObservation(lead, obs[j]) {
				used[j] = true
				group = append(group, obs[j])
			}
		}
		if len(group) == 1 {
			out = append(out, lead)
			continue
		}
		out = append(out, a.union(group))
	}
	return out
}

// oneObservation reports whether capture o belongs with the capture lead
// leads: both placed in time, the same boot (or no boots known at all),
// the same side of the failure, within captureWindow.
func (a *analysis) oneObservation(lead, o *observation) bool {
	x, y := lead.snap, o.snap
	if x.at.IsZero() || y.at.IsZero() || lead.tier != o.tier {
		return false
	}
	if len(a.sessions) > 0 && (x.session < 0 || x.session != y.session) {
		return false
	}
	d := y.at.Sub(x.at)
	return d <= captureWindow && d >= -captureWindow
}

// union merges the observations of one group, the lead first.
func (a *analysis) union(group []*observation) *observation {
	m := &observation{snap: group[0].snap, tier: group[0].tier, members: group}
	for _, o := range group {
		for _, h := range o.owners {
			m.owners = addHolder(m.owners, h, o.snap)
		}
		for _, h := range o.own {
			m.own = addHolder(m.own, h, o.snap)
		}
		for _, h := range o.weak {
			m.weak = addHolder(m.weak, h, o.snap)
		}
		for _, h := range o.other {
			m.other = addHolder(m.other, h, o.snap)
		}
	}
	// Listeners and endpoints before connections; then capture rank and
	// line (the order they were added in).
	slices.SortStableFunc(m.owners, func(x, y holder) int {
		switch {
		case x.outgoing == y.outgoing:
			return 0
		case x.outgoing:
			return 1
		}
		return -1
	})
	for i := range m.owners {
		h := &m.owners[i]
		for _, o := range group {
			if o.snap != h.snap && !h.seenIn(o.snap) && lists(o.snap, h.ref.Socket.Proto) {
				h.absent = append(h.absent, o.snap)
			}
		}
	}
	return m
}

// addHolder adds h, seen in capture s, to hs: as a sighting of a holder
// already there when it is the same socket (same PID, protocol, local
// address and port), else as a new holder.
func addHolder(hs []holder, h holder, s *placedSnapshot) []holder {
	if h.snap == nil {
		h.snap = s
	}
	for i := range hs {
		x := &hs[i]
		// A capture without a PID column (netstat -an) lists the same
		// socket as one with it: the named holder leads.
		if x.pid >= 0 && h.pid >= 0 && x.pid != h.pid || x.pid < 0 && h.pid < 0 || !sameLocal(&x.ref.Socket, &h.ref.Socket) {
			continue
		}
		if x.pid < 0 {
			h.sightings = append(append(h.sightings, sighting{snap: x.snap, ref: x.ref}), x.sightings...)
			hs[i] = h
			return hs
		}
		x.sightings = append(x.sightings, sighting{snap: s, ref: h.ref})
		if x.image == "" && h.image != "" {
			x.image, x.services, x.procEv, x.mapNote = h.image, h.services, h.procEv, ""
		}
		return hs
	}
	return append(hs, h)
}

func sameLocal(x, y *parsers.Socket) bool {
	if x.Proto != y.Proto || x.LocalPort != y.LocalPort {
		return false
	}
	if x.LocalAddr.IsValid() && y.LocalAddr.IsValid() {
		return x.LocalAddr.Unmap().WithZone("") == y.LocalAddr.Unmap().WithZone("")
	}
	return strings.EqualFold(localText(x), localText(y))
}

// lists reports whether a capture can list sockets of proto at all:
// Get-NetTCPConnection lists no UDP, Get-NetUDPEndpoint no TCP.
func lists(s *placedSnapshot, proto parsers.Proto) bool {
	switch s.Format {
	case parsers.FormatPSNetTCP:
		return proto == parsers.TCP
	case parsers.FormatPSNetUDP:
		return proto == parsers.UDP
	}
	return true
}

func (h *holder) seenIn(s *placedSnapshot) bool {
	return slices.ContainsFunc(h.sightings, func(x sighting) bool { return x.snap == s })
}

// trustedSighting reports whether any capture listing the holder has a
// trustworthy capture time.
func (h *holder) trustedSighting() bool {
	if h.snap != nil && h.snap.trusted {
		return true
	}
	return slices.ContainsFunc(h.sightings, func(x sighting) bool { return x.snap.trusted })
}

// boundRef is the listing of the holder's socket that carries its bind
// time (Get-NetTCPConnection's CreationTime), else its first listing,
// with the capture it is in.
func (h *holder) boundRef() sighting {
	if h.ref.Socket.CreatedAt.IsZero() {
		for _, x := range h.sightings {
			if !x.ref.Socket.CreatedAt.IsZero() {
				return x
			}
		}
	}
	return sighting{snap: h.snap, ref: h.ref}
}

// sightingTexts are the reasons and evidence for the other captures of
// the observation that list the holder's socket, or do not.
func (h *holder) sightingTexts(p neededPort) ([]string, []Evidence) {
	var rs []string
	var ev []Evidence
	for _, x := range h.sightings {
		rs = append(rs, fmt.Sprintf("Capture %s (line %d), taken %s, lists the same socket.", x.snap.Artifact, x.ref.Line, relCapture(x.snap, h.snap)))
		// The claim names only what that capture says of the process.
		hx := holder{ref: x.ref, pid: h.pid, image: x.ref.Socket.Image, services: x.ref.Socket.Services}
		ev = append(ev, hx.socketEvidence(x.snap.Artifact, p))
	}
	for _, s := range h.absent {
		why := "the socket may have been opened or closed between the two captures"
		if h.ref.Socket.State == parsers.StateBound && s.Format == parsers.FormatNetstat {
			why = "netstat lists a BOUND socket (bound, neither listening nor connected) only with -q, so a netstat -ano or -anob capture leaves it out"
		}
		rs = append(rs, fmt.Sprintf("Capture %s, taken %s and read as the same observation, does not list it: %s. It is still a holder.", s.Artifact, relCapture(s, h.snap), why))
	}
	return rs, ev
}

// relCapture says when capture s was taken relative to capture ref.
func relCapture(s, ref *placedSnapshot) string {
	d := s.at.Sub(ref.at)
	switch {
	case d == 0:
		return "at the same time as " + ref.Artifact
	case d < 0:
		return fmtDur(d) + " before " + ref.Artifact
	}
	return fmtDur(d) + " after " + ref.Artifact
}

// imageSeen is the image one capture (or the process listing tied to it)
// gives a PID.
type imageSeen struct {
	image, where string
}

// imageDisagreement names the images the captures of an observation give
// the holder's PID when they are not all the same, "" when they agree. A
// PID can be reused within a boot once its process exits, so two images
// for one PID mean the captures may not show the same process.
func (a *analysis) imageDisagreement(o *observation, h *holder) string {
	if h.pid <= 4 || len(o.members) < 2 {
		return ""
	}
	var seen []imageSeen
	add := func(image, where string) {
		if image == "" || slices.ContainsFunc(seen, func(x imageSeen) bool { return sameImage(x.image, image) }) {
			return
		}
		seen = append(seen, imageSeen{image, where})
	}
	for _, m := range o.members {
		for _, x := range m.owners {
			if x.pid == h.pid && x.ref.Socket.Image != "" {
				add(x.ref.Socket.Image, fmt.Sprintf("%s line %d", m.snap.Artifact, x.ref.Line))
			}
		}
		for _, r := range a.processRefs(m.snap) {
			if r.Process.PID == h.pid {
				add(r.Process.Image, fmt.Sprintf("%s line %d", r.Artifact, r.Line))
			}
		}
	}
	if len(seen) < 2 {
		return ""
	}
	parts := make([]string, len(seen))
	for i, s := range seen {
		parts[i] = fmt.Sprintf("%s (%s)", s.image, s.where)
	}
	return fmt.Sprintf("The captures of this observation disagree on PID %d's image: %s. The PID may have been reused by another process between them, so which program held the port is not certain; the first is named.", h.pid, strings.Join(parts, " vs "))
}

// memberText names the other captures read with the lead one.
func memberText(o *observation) string {
	if len(o.members) < 2 {
		return ""
	}
	var names []string
	for _, m := range o.members[1:] {
		names = append(names, fmt.Sprintf("%s (%s)", m.snap.Artifact, relCapture(m.snap, o.snap)))
	}
	return fmt.Sprintf("Captures of one boot taken within %s of each other are one observation whose sockets are the union: %s is read together with %s.", fmtDur(captureWindow), o.snap.Artifact, strings.Join(names, ", "))
}

// artifacts lists the captures of an observation.
func (o *observation) artifacts() string {
	if len(o.members) < 2 {
		return "snapshot " + o.snap.Artifact
	}
	names := make([]string, len(o.members))
	for i, m := range o.members {
		names[i] = m.snap.Artifact
	}
	return "captures " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// hasFormat reports whether a capture of the observation has format f.
func (o *observation) hasFormat(f parsers.Format) bool {
	if len(o.members) == 0 {
		return o.snap.Format == f
	}
	return slices.ContainsFunc(o.members, func(m *observation) bool { return m.snap.Format == f })
}

// sameImage compares two images of a PID. tasklist cuts an image name to
// its 25-character column, so a name that starts another counts as the
// same.
func sameImage(x, y string) bool {
	x, y = strings.ToLower(x), strings.ToLower(y)
	return strings.HasPrefix(x, y) || strings.HasPrefix(y, x)
}
