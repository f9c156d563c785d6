package correlate

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/portmortem/portmortem/parsers"
)

// PortSource says where a needed port came from (Finding.PortSource). Its
// values are stored in findings.port_source and written to findings.json.
type PortSource string

// The port sources, in the order neededPorts tries them.
const (
	// PortSourceEvent: the failure's event names the port.
	PortSourceEvent PortSource = "event"
	// PortSourceUser: the user's --ports file lists it for the service.
	PortSourceUser PortSource = "user"
	// PortSourceCatalog: the port catalog lists it for the service.
	PortSourceCatalog PortSource = "catalog"
	// PortSourceHistory: the service's own process held it in an earlier
	// snapshot.
	PortSourceHistory PortSource = "history"
)

// neededPort is one port an incident needs, with where it comes from.
type neededPort struct {
	PortSpec
	Addr   netip.Addr
	Source PortSource
	Why    string
	Ev     []Evidence
}

func (a *analysis) neededPorts(ctx context.Context, c *incident) ([]neededPort, error) {
	f := c.primary.Failure
	if f.HasPort && f.Port != 0 {
		proto := f.Proto
		if proto == "" {
			proto = parsers.TCP
		}
		return []neededPort{{PortSpec: PortSpec{proto, f.Port}, Addr: f.Addr, Source: PortSourceEvent,
			Why: fmt.Sprintf("The port comes from the event itself: %s %s.", proto, endpointText(&f))}}, nil
	}
	if ps, name := a.userPorts(c); len(ps) > 0 {
		return specPorts(ps, PortSourceUser, fmt.Sprintf("The port comes from the --ports file, which lists %s for %s.", specsText(ps), name)), nil
	}
	if e, how, ok := a.catalogEntry(c); ok && len(e.Ports) > 0 {
		origin := "built-in catalog"
		if e.User {
			origin = "user's catalog file"
		}
		why := fmt.Sprintf("The port comes from the %s, which finds the service %s and lists %s for %s", origin, how, specsText(e.Ports), e.Key)
		if src, _, _ := strings.Cut(e.Source, " "); strings.HasPrefix(src, "KB") {
			why += " (" + strings.TrimRight(src, ";,") + ")"
		}
		why += "; a service configured for other ports would not match."
		return specPorts(e.Ports, PortSourceCatalog, why), nil
	}
	return a.historyPorts(ctx, c)
}

func specPorts(ps []PortSpec, source PortSource, why string) []neededPort {
	out := make([]neededPort, 0, len(ps))
	seen := map[PortSpec]bool{}
	for _, p := range ps {
		if p.Port == 0 || p.Proto != parsers.TCP && p.Proto != parsers.UDP || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, neededPort{PortSpec: p, Source: source, Why: why})
	}
	return out
}

func specsText(ps []PortSpec) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s %d", p.Proto, p.Port))
	}
	return strings.Join(parts, ", ")
}

func (a *analysis) userPorts(c *incident) ([]PortSpec, string) {
	if len(a.in.UserPorts) == 0 {
		return nil, ""
	}
	for _, n := range append([]string{c.key}, c.names()...) {
		if n == "" {
			continue
		}
		if ps := a.in.UserPorts[strings.ToLower(n)]; len(ps) > 0 {
			return ps, n
		}
	}
	return nil, ""
}

// catalogEntry finds the incident's service in the catalog: by key, then by
// display name, then by the image of a process that hosted the service.
func (a *analysis) catalogEntry(c *incident) (CatalogEntry, string, bool) {
	if c.key != "" {
		if e, ok := a.cat.ByKey(c.key); ok {
			return e, "by its key " + c.key, true
		}
	}
	for _, n := range c.names() {
		if e, dn, ok := a.cat.ByName(n); ok {
			how := fmt.Sprintf("by its display name %q", n)
			if dn.Lang != "" {
				how += " (" + dn.Lang + ")"
			}
			return e, how, true
		}
	}
	if img := a.serviceImage(c); img != "" {
		if e, ok := a.cat.ByImage(img); ok {
			return e, "by its image " + img, true
		}
	}
	return CatalogEntry{}, "", false
}

// serviceImage is the image of a process that hosted the failed service
// in any snapshot or listing, when it is not a shared host.
func (a *analysis) serviceImage(c *incident) string {
	if c.key == "" {
		return ""
	}
	for _, p := range a.in.Processes {
		if hostsKey(p.Process.Services, c.key) && !isSharedHost(p.Process.Image) {
			return p.Process.Image
		}
	}
	return ""
}

func hostsKey(services []string, key string) bool {
	return key != "" && slices.ContainsFunc(services, func(s string) bool { return strings.EqualFold(s, key) })
}

// historyPorts are the listening and UDP ports the service's own process
// held in a snapshot where it ran: the latest before the failure first.
func (a *analysis) historyPorts(ctx context.Context, c *incident) ([]neededPort, error) {
	if c.key == "" || len(a.snaps) == 0 {
		return nil, nil
	}
	a.historyNeeded = true
	ps, ok := a.in.Owners.(PIDSockets)
	if !ok {
		a.historyFailed = true
		return nil, nil
	}
	ft := c.primary.Failure.Time
	order := make([]*placedSnapshot, 0, len(a.snaps))
	for i := range a.snaps {
		order = append(order, &a.snaps[i])
	}
	slices.SortStableFunc(order, func(x, y *placedSnapshot) int {
		xb, yb := !x.at.IsZero() && x.at.Before(ft), !y.at.IsZero() && y.at.Before(ft)
		if xb != yb {
			if xb {
				return -1
			}
			return 1
		}
		if xb {
			return y.at.Compare(x.at) // latest before the failure first
		}
		return x.at.Compare(y.at)
	})
	for _, s := range order {
		pid, ev, others := a.servicePID(s, c.key)
		if pid < 0 {
			continue
		}
		refs, err := ps.SocketsOf(ctx, s.ID, pid)
		if err != nil {
			return nil, fmt.Errorf("sockets of PID %d in %s: %w", pid, s.Artifact, err)
		}
		var specs []PortSpec
		var evs []Evidence
		for _, r := range refs {
			sk := r.Socket
			if !sk.HasPort || sk.LocalPort == 0 || !sk.Listening() || sk.PID != pid {
				continue
			}
			p := PortSpec{sk.Proto, sk.LocalPort}
			if slices.Contains(specs, p) {
				continue
			}
			specs = append(specs, p)
			evs = append(evs, Evidence{Artifact: s.Artifact, Line: r.Line, Text: socketText(&sk),
				Claim: fmt.Sprintf("The process of %s (PID %d) held %s %d in this earlier snapshot.", c.key, pid, sk.Proto, sk.LocalPort)})
		}
		if len(specs) == 0 {
			continue
		}
		slices.SortFunc(specs, func(x, y PortSpec) int {
			return cmp.Or(cmp.Compare(x.Proto, y.Proto), cmp.Compare(x.Port, y.Port))
		})
		why := fmt.Sprintf("The port comes from snapshot %s, where the process hosting %s (PID %d) held %s.", s.Artifact, c.key, pid, specsText(specs))
		if len(specs) > maxHistoryPorts {
			why += fmt.Sprintf(" Only the first %d of its %d ports are checked.", maxHistoryPorts, len(specs))
			specs = specs[:maxHistoryPorts]
		}
		if len(others) > 0 {
			why += fmt.Sprintf(" That process also hosts %s, so some of these ports may be theirs.", strings.Join(others, ", "))
		}
		out := specPorts(specs, PortSourceHistory, why)
		for i := range out {
			out[i].Ev = append([]Evidence{ev}, evs...)
		}
		return out, nil
	}
	return nil, nil
}

// servicePID finds the PID hosting key in a snapshot (with the mapping's
// evidence and the other services of that process), or -1.
func (a *analysis) servicePID(s *placedSnapshot, key string) (int, Evidence, []string) {
	for _, p := range a.processRefs(s) {
		if hostsKey(p.Process.Services, key) {
			var others []string
			for _, o := range p.Process.Services {
				if !strings.EqualFold(o, key) {
					others = append(others, o)
				}
			}
			return p.Process.PID, processEvidence(p, ""), others
		}
	}
	return -1, Evidence{}, nil
}
