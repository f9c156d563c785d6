package correlate

import "github.com/portmortem/portmortem/parsers"

// Decoded is what correlate makes of one event: a service-start failure,
// a boot marker, both, or neither (then the store only counts it). Decode
// is the one place an ingest decodes an event; the store is handed the
// result and never decodes again.
type Decoded struct {
	Failure *Failure    // nil when ev is not a failure correlate follows
	Boot    *BootMarker // nil when ev is not a boot marker
}

// Kept reports whether the event is one correlation uses, and so is
// stored as an event row with its decoded rows.
func (d Decoded) Kept() bool { return d.Failure != nil || d.Boot != nil }

// Decode decodes ev as a failure (DecodeFailure) and as a boot marker
// (DecodeBoot).
func Decode(ev *parsers.Event) Decoded {
	// Copied to the heap only when decoded: most events are neither, and
	// taking f's or b's address would move them there for every event.
	var d Decoded
	if f, ok := DecodeFailure(ev); ok {
		kept := f
		d.Failure = &kept
	}
	if b, ok := DecodeBoot(ev); ok {
		kept := b
		d.Boot = &kept
	}
	return d
}
