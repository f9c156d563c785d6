package parsers

import "fmt"

// dayOrder holds a text export's outputs back while the day/month order
// of its dates is open (Get-NetTCPConnection's CreationTime, an event
// export's dates: "03/04/2026" is either): from the first output whose
// date needs the order, every output waits, to keep the file's order,
// until a date shows it (a day above 12) or maxPending outputs wait, when
// the order is assumed from the clock and the separator. Each decision is
// a Meta note. T is the reader's output; timeOf gives its date (nil when
// it has none) and line, emit yields it once the order is known (order is
// psOrderUnknown only for outputs that need none).
type dayOrder[T any] struct {
	what       string // what the notes name: "CreationTime", "dates"
	maxPending int
	timeOf     func(T) (*psTime, int)
	emit       func(yield func(Record, error) bool, o T) bool

	order int
	// orderLine is where the order was decided.
	orderLine int
	pending   []T
}

// out passes an output on, or holds it back while the order is open. It
// returns false when yield asked to stop.
func (d *dayOrder[T]) out(yield func(Record, error) bool, o T) bool {
	t, line := d.timeOf(o)
	if t != nil && d.order == psOrderUnknown {
		if ev := t.evidence(); ev != psOrderUnknown {
			d.order, d.orderLine = ev, line
			if !d.release(yield, fmt.Sprintf("%s read as %s (line %d: %q)", d.what, psOrderName(ev), line, t.raw)) {
				return false
			}
		}
	}
	if len(d.pending) > 0 || (t != nil && d.order == psOrderUnknown && t.needsOrder()) {
		d.pending = append(d.pending, o)
		if len(d.pending) >= d.maxPending {
			return d.flush(yield)
		}
		return true
	}
	return d.emit(yield, o)
}

// flush decides the order by assumption if outputs are still held back,
// and passes them on.
func (d *dayOrder[T]) flush(yield func(Record, error) bool) bool {
	if len(d.pending) == 0 {
		return true
	}
	order, why := psOrderDMY, ""
scan:
	for _, o := range d.pending {
		if t, _ := d.timeOf(o); t != nil && t.needsOrder() {
			switch {
			case t.sep == '/' && t.clock12:
				order, why = psOrderMDY, "the 12-hour clock with a / date separator (as en-US)"
			case t.clock12:
				why = fmt.Sprintf("the %q date separator", t.sep)
			default:
				why = fmt.Sprintf("the %q date separator with a 24-hour clock", t.sep)
			}
			break scan // the first date that needs the order decides
		}
	}
	_, last := d.timeOf(d.pending[len(d.pending)-1])
	d.order, d.orderLine = order, last
	return d.release(yield, fmt.Sprintf("%s read as %s, assumed: no date up to line %d has a day above 12; taken from %s",
		d.what, psOrderName(order), last, why))
}

// release yields note and the outputs held back.
func (d *dayOrder[T]) release(yield func(Record, error) bool, note string) bool {
	if !yield(Record{Kind: KindMeta, Meta: &Meta{Note: note}}, nil) {
		return false
	}
	held := d.pending
	d.pending = nil
	for _, o := range held {
		if !d.emit(yield, o) {
			return false
		}
	}
	return true
}
