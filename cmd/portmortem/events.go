package main

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

// maxListed bounds the failures and boots inspect lists per artifact.
const maxListed = 1000

// eventCount is one row of the per-artifact event histogram.
type eventCount struct {
	Channel  string `json:"channel"`
	Provider string `json:"provider"`
	EventID  uint16 `json:"event_id"`
	Count    int    `json:"count"`
}

// failureJSON is a decoded failure as inspect prints it.
type failureJSON struct {
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	Channel    string    `json:"channel,omitempty"`
	Provider   string    `json:"provider"`
	EventID    uint16    `json:"event_id"`
	RecordID   uint64    `json:"record_id"`
	Recovered  bool      `json:"recovered,omitempty"`
	Service    string    `json:"service,omitempty"`
	ServiceKey string    `json:"service_key,omitempty"`
	ErrorCode  *uint32   `json:"error_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	Class      string    `json:"class"`
	Proto      string    `json:"proto,omitempty"`
	Address    string    `json:"address,omitempty"`
	Port       uint16    `json:"port,omitempty"`
	Message    string    `json:"message"`
}

// bootJSON is a decoded boot marker as inspect prints it.
type bootJSON struct {
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Provider  string    `json:"provider"`
	EventID   uint16    `json:"event_id"`
	RecordID  uint64    `json:"record_id"`
	Recovered bool      `json:"recovered,omitempty"`
	BootTime  time.Time `json:"boot_time,omitzero"`
	LastAlive time.Time `json:"last_alive,omitzero"`
	UTCOffset string    `json:"utc_offset,omitempty"`
	Message   string    `json:"message"`
}

// eventSummary collects what inspect shows of an event log.
type eventSummary struct {
	counts       map[eventCount]int
	failures     []failureJSON
	boots        []bootJSON
	moreFailures int
	moreBoots    int
}

func (s *eventSummary) add(ev *parsers.Event) {
	if s.counts == nil {
		s.counts = map[eventCount]int{}
	}
	s.counts[eventCount{Channel: ev.Channel, Provider: ev.Provider, EventID: ev.EventID}]++
	if f, ok := correlate.DecodeFailure(ev); ok {
		if len(s.failures) >= maxListed {
			s.moreFailures++
		} else {
			s.failures = append(s.failures, toFailureJSON(f))
		}
	}
	if b, ok := correlate.DecodeBoot(ev); ok {
		if len(s.boots) >= maxListed {
			s.moreBoots++
		} else {
			s.boots = append(s.boots, toBootJSON(b))
		}
	}
}

// histogram returns the event counts, most frequent first.
func (s *eventSummary) histogram() []eventCount {
	out := make([]eventCount, 0, len(s.counts))
	for k, n := range s.counts {
		k.Count = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b eventCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Channel, b.Channel),
			cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.EventID, b.EventID))
	})
	return out
}

func toFailureJSON(f correlate.Failure) failureJSON {
	out := failureJSON{
		Time: f.Time, Kind: string(f.Kind), Channel: f.Channel, Provider: f.Provider, EventID: f.EventID,
		RecordID: f.RecordID, Recovered: f.Recovered, Service: f.Service, ServiceKey: f.ServiceKey,
		Class: string(f.Class), Proto: string(f.Proto), Message: f.Message,
	}
	if f.HasError {
		code := f.ErrorCode
		out.ErrorCode = &code
		out.Error = correlate.FormatCode(code)
	}
	if f.HasPort {
		out.Port = f.Port
		if f.Addr.IsValid() {
			out.Address = f.Addr.String()
		}
	}
	return out
}

func toBootJSON(b correlate.BootMarker) bootJSON {
	out := bootJSON{
		Time: b.Time, Kind: string(b.Kind), Provider: b.Provider, EventID: b.EventID, RecordID: b.RecordID,
		Recovered: b.Recovered, BootTime: b.BootTime, LastAlive: b.LastAlive, Message: b.Message,
	}
	if b.HasOffset {
		out.UTCOffset = fmt.Sprintf("%+.1fh", b.UTCOffset.Hours())
	}
	return out
}

// failureGroup is a run of alike failures, as the inspect table shows them.
type failureGroup struct {
	class, service, message string
	eventID                 uint16
	count                   int
	first, last             time.Time
}

// groupFailures folds failures with the same event, service, class and
// message together, port conflicts first, then the most frequent.
func groupFailures(fs []failureJSON) []failureGroup {
	type key struct {
		class, service, message string
		eventID                 uint16
	}
	index := map[key]int{}
	var out []failureGroup
	for _, f := range fs {
		k := key{f.Class, cmp.Or(f.Service, f.Provider), f.Message, f.EventID}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, failureGroup{class: k.class, service: k.service, message: k.message, eventID: k.eventID, first: f.Time, last: f.Time})
		}
		g := &out[i]
		g.count++
		if f.Time.Before(g.first) {
			g.first = f.Time
		}
		if f.Time.After(g.last) {
			g.last = f.Time
		}
	}
	rank := map[string]int{"port-conflict": 0, "possibly-port": 1, "unknown": 2, "not-port": 3}
	slices.SortStableFunc(out, func(a, b failureGroup) int {
		return cmp.Or(cmp.Compare(rank[a.class], rank[b.class]), cmp.Compare(b.count, a.count))
	})
	return out
}
