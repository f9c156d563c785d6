package ingest

import (
	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/store"
)

// decode is correlate.Decode; a test counts its calls.
var decode = correlate.Decode

// eventFilter runs in a parser's goroutine: it decodes each event of one
// artifact once, passes on those the case stores (the failures and boot
// markers correlation uses, or every event with Options.KeepAllEvents)
// with what was decoded, and only counts the others, which then never
// reach the writer. Not safe for concurrent use.
type eventFilter struct {
	keepAll bool
	counted store.EventCounts
}

// pass decodes ev and says whether it goes to the writer; when not, it is
// counted.
func (f *eventFilter) pass(ev *parsers.Event) (correlate.Decoded, bool) {
	d := decode(ev)
	if d.Kept() || f.keepAll {
		return d, true
	}
	f.counted.Add(ev)
	return d, false
}
