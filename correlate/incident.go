package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// incident is one failure, with the events of the same service folded
// into it (an SCM 7024 and the Apache 3299 that names the
// address, a SQL 26023 and its 17182).
type incident struct {
	primary FailureRef
	related []FailureRef
	key     string // resolved service key, "" when unknown
	keyWhy  string // how the key was found, when not from the event
	class   ErrorClass
	session int
}

func (c *incident) all() []FailureRef {
	return append([]FailureRef{c.primary}, c.related...)
}

// displayName prefers the SCM display name, else the primary's service.
func (c *incident) displayName() string {
	for _, f := range c.all() {
		if f.Failure.Kind == KindServiceFailure && f.Failure.Service != "" {
			return f.Failure.Service
		}
	}
	if c.primary.Failure.Service != "" {
		return c.primary.Failure.Service
	}
	return c.key
}

// names are the display names of the incident, for catalog and user lookups.
func (c *incident) names() []string {
	var out []string
	for _, f := range c.all() {
		if n := strings.TrimSpace(f.Failure.Service); n != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, n) }) {
			out = append(out, n)
		}
	}
	return out
}

// label is "Internet Authentication Service (IAS)".
func (c *incident) label() string {
	if c.displayName() == "" && c.key == "" {
		return "An unnamed service"
	}
	return ServiceLabel(c.displayName(), c.key)
}

// ServiceLabel names a service by its display name with its key name
// when that adds something: "Netzwerkrichtlinienserver (IAS)", but "SQL
// Server (MSSQLSERVER)" as it is, and the key alone when there is no
// display name.
func ServiceLabel(name, key string) string {
	switch {
	case name == "" || strings.EqualFold(name, key):
		return orDefault(name, key)
	case key == "" || strings.HasSuffix(strings.ToUpper(name), "("+strings.ToUpper(key)+")"):
		return name
	}
	return name + " (" + key + ")"
}

func classRank(c ErrorClass) int {
	switch c {
	case ClassPortConflict:
		return 3
	case ClassPossiblyPort:
		return 2
	case ClassUnknown, "":
		return 1
	}
	return 0
}

// resolveKey finds a failure's service key: the event's own, else the
// catalog's entry for its display name.
func (a *analysis) resolveKey(f Failure) (key, why string) {
	if f.ServiceKey != "" {
		return f.ServiceKey, ""
	}
	if e, dn, ok := a.cat.ByName(f.Service); ok && !isPattern(e.Key) {
		lang := ""
		if dn.Lang != "" {
			lang = " (" + dn.Lang + ")"
		}
		return e.Key, fmt.Sprintf("The event gives only the display name %q; the catalog knows it%s as the service %s.", f.Service, lang, e.Key)
	}
	return "", ""
}

func sameService(a, b *incident) bool {
	if a.key != "" && b.key != "" {
		return strings.EqualFold(a.key, b.key)
	}
	for _, x := range a.names() {
		for _, y := range b.names() {
			if strings.EqualFold(x, y) {
				return true
			}
		}
		if b.key != "" && strings.EqualFold(x, b.key) {
			return true
		}
	}
	for _, y := range b.names() {
		if a.key != "" && strings.EqualFold(y, a.key) {
			return true
		}
	}
	return false
}

func within(a, b time.Time, d time.Duration) bool {
	if a.IsZero() || b.IsZero() {
		return false
	}
	x := a.Sub(b)
	return x <= d && x >= -d
}

// buildIncidents groups the failures into incidents: every bind error that
// names its port is an incident and takes in the other failures of the
// same service within foldWindow; the remaining failures of one service
// within foldWindow form one incident; a not-port-related SCM failure is
// always its own incident.
func (a *analysis) buildIncidents() []*incident {
	var singles []*incident
	for _, f := range a.in.Failures {
		if f.Failure.Kind == KindSignal {
			continue
		}
		c := &incident{primary: f, class: f.Failure.Class}
		c.key, c.keyWhy = a.resolveKey(f.Failure)
		singles = append(singles, c)
	}
	slices.SortStableFunc(singles, func(x, y *incident) int { return x.primary.Failure.Time.Compare(y.primary.Failure.Time) })

	var incidents []*incident
	folded := make([]bool, len(singles))
	isPortBind := func(c *incident) bool {
		return c.primary.Failure.Kind == KindBindError && c.primary.Failure.HasPort
	}
	for i, c := range singles {
		if isPortBind(c) {
			incidents = append(incidents, c)
			folded[i] = true
		}
	}
	for i, c := range singles {
		if folded[i] || c.class == ClassNotPort {
			continue
		}
		for _, p := range incidents {
			if isPortBind(p) && sameService(p, c) && within(p.primary.Failure.Time, c.primary.Failure.Time, foldWindow) {
				p.related = append(p.related, c.primary)
				if p.key == "" {
					p.key, p.keyWhy = c.key, c.keyWhy
				}
				folded[i] = true
			}
		}
	}
	var rest []*incident
	for i, c := range singles {
		if folded[i] {
			continue
		}
		if c.class != ClassNotPort {
			if n := len(rest); n > 0 {
				if last := rest[n-1]; last.class != ClassNotPort && sameService(last, c) &&
					within(last.primary.Failure.Time, c.primary.Failure.Time, foldWindow) {
					last.related = append(last.related, c.primary)
					continue
				}
			}
		}
		rest = append(rest, c)
	}
	incidents = append(incidents, rest...)
	for _, c := range incidents {
		// The primary is the strongest evidence of a conflict.
		all := c.all()
		best := 0
		for i, f := range all {
			if classRank(f.Failure.Class) > classRank(all[best].Failure.Class) ||
				classRank(f.Failure.Class) == classRank(all[best].Failure.Class) && f.Failure.HasPort && !all[best].Failure.HasPort {
				best = i
			}
		}
		if best != 0 {
			c.primary, all[best] = all[best], c.primary
			c.related = all[1:]
		}
		c.class = c.primary.Failure.Class
		if c.class == "" {
			c.class = ClassUnknown
		}
		slices.SortStableFunc(c.related, func(x, y FailureRef) int { return x.Failure.Time.Compare(y.Failure.Time) })
		c.session = a.sessions.At(c.primary.Failure.Time)
	}
	slices.SortStableFunc(incidents, func(x, y *incident) int { return x.primary.Failure.Time.Compare(y.primary.Failure.Time) })
	return incidents
}
