package correlate

import (
	"cmp"
	"path"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// CaptureRule is one --captured-at PATTERN=TIME: the files whose base
// name or bundle path matches Pattern (path.Match) were taken at At, the
// host's wall-clock time when Local is set.
type CaptureRule struct {
	Pattern string
	At      time.Time
	Local   bool
}

// CaptureClues are what is known of when one artifact was taken.
type CaptureClues struct {
	// Name is the artifact's path in its bundle ("outer.zip!/netstat.txt").
	Name string
	// Stated is the capture time the artifact states (a timestamp line,
	// a time in its content), with its source; zero when it states none.
	Stated       time.Time
	StatedLocal  bool
	StatedSource parsers.CaptureSource
	// ModTime is the file's or the archive entry's time, ModTimeSource
	// where it came from (bundle.Entry.ModTimeSource).
	ModTime       time.Time
	ModTimeSource parsers.CaptureSource
}

// MatchCapture returns the index of the first rule whose pattern matches
// the artifact named name (its path in the bundle, "outer.zip!/netstat.txt")
// by base name or by that path, or -1 when none does.
func MatchCapture(rules []CaptureRule, name string) int {
	base := path.Base(name)
	for i, r := range rules {
		if m, _ := path.Match(r.Pattern, base); m {
			return i
		}
		if m, _ := path.Match(r.Pattern, name); m {
			return i
		}
	}
	return -1
}

// CaptureTime decides an artifact's capture time, in the order
// parsers.CaptureSource documents: the user's --captured-at rules (the
// first that matches), what the artifact states, a time in its file name,
// then the file's or archive entry's time. local says the time is the
// host's wall clock (its zone still to be applied); source names where it
// came from.
func CaptureTime(rules []CaptureRule, c CaptureClues) (at time.Time, local bool, source parsers.CaptureSource) {
	if i := MatchCapture(rules, c.Name); i >= 0 {
		return rules[i].At, rules[i].Local, parsers.CaptureFlag
	}
	base := path.Base(c.Name)
	if !c.Stated.IsZero() {
		return c.Stated, c.StatedLocal, cmp.Or(c.StatedSource, parsers.CaptureTimestampLine)
	}
	if t, ok := parsers.FileNameTime(base); ok {
		return t, true, parsers.CaptureFileName
	}
	return c.ModTime, c.ModTimeSource == parsers.CaptureZipDOS, c.ModTimeSource
}
