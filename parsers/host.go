package parsers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxComputers bounds the distinct computer names a hostTally keeps.
const maxComputers = 16

// hostTally finds the host an event log belongs to from its events'
// Computer values. A log belongs to one machine, but that machine's name
// changes over its life: setup names it WIN-XXXXXXX and the owner renames
// it, a domain join turns NAME into NAME.domain, and a log written on an
// image's build machine keeps that machine's name in its first records.
// Each event names the computer as it was called then, so the host is the
// name of the latest event; the others are its earlier names. Events
// carved from slack space or damaged chunks count only when no live event
// names a computer.
type hostTally struct {
	names []computerName // at most maxComputers, first seen first
	more  int            // events naming a computer past maxComputers
}

type computerName struct {
	name      string
	events    int
	latest    time.Time
	live      bool // named by a live (not recovered) event
	lastOrder int  // order of its last event, for equal times
}

// observe counts one event.
func (h *hostTally) observe(e *Event, order int) {
	name := strings.TrimSpace(e.Computer)
	if name == "" {
		return
	}
	i := slices.IndexFunc(h.names, func(c computerName) bool { return strings.EqualFold(c.name, name) })
	if i < 0 {
		if len(h.names) == maxComputers {
			h.more++
			return
		}
		h.names = append(h.names, computerName{name: name})
		i = len(h.names) - 1
	}
	c := &h.names[i]
	c.events++
	if !e.Recovered {
		c.live = true
	}
	if !e.Time.Before(c.latest) {
		c.latest, c.lastOrder = e.Time, order
	}
}

// meta is the Meta record naming the host, with a note listing the
// earlier names when there are any; nil when no event names a computer.
func (h *hostTally) meta() *Meta {
	if len(h.names) == 0 {
		return nil
	}
	live := slices.ContainsFunc(h.names, func(c computerName) bool { return c.live })
	names := slices.Clone(h.names)
	// Latest first: the host's name, then its earlier ones.
	slices.SortStableFunc(names, func(a, b computerName) int {
		if live && a.live != b.live {
			if a.live {
				return -1
			}
			return 1
		}
		return cmp.Or(b.latest.Compare(a.latest), cmp.Compare(b.lastOrder, a.lastOrder))
	})
	m := &Meta{Host: names[0].name}
	if len(names) > 1 || h.more > 0 {
		var others []string
		for _, c := range names[1:] {
			others = append(others, fmt.Sprintf("%s (%d events)", c.name, c.events))
		}
		if h.more > 0 {
			others = append(others, fmt.Sprintf("%d events of other names", h.more))
		}
		m.Note = fmt.Sprintf("host %s: the computer its latest events name (%d events); other names in this log (earlier names or forwarded events): %s",
			names[0].name, names[0].events, strings.Join(others, ", "))
	}
	return m
}

// rowsMeta is the Meta record naming the host of a table whose rows name
// their computer in column col: the name most rows give, with a note when
// rows name several (the table then holds several hosts' rows). nil when
// no row names one.
func (h *hostTally) rowsMeta(col string) *Meta {
	if len(h.names) == 0 {
		return nil
	}
	names := slices.Clone(h.names)
	slices.SortStableFunc(names, func(a, b computerName) int { return cmp.Compare(b.events, a.events) })
	m := &Meta{Host: names[0].name}
	if len(names) > 1 || h.more > 0 {
		var all []string
		for _, c := range names {
			all = append(all, fmt.Sprintf("%s (%d rows)", c.name, c.events))
		}
		if h.more > 0 {
			all = append(all, fmt.Sprintf("%d rows of other names", h.more))
		}
		m.Note = fmt.Sprintf("%s names %d computers: %s; the artifact is taken as %s's",
			col, len(names)+min(h.more, 1), strings.Join(all, ", "), names[0].name)
	}
	return m
}
