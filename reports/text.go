package reports

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/portmortem/portmortem/correlate"
)

// TextOptions control the terminal table.
type TextOptions struct {
	// Color marks verdicts with ANSI colours (only for a terminal).
	Color bool
}

// ANSI colours of the verdicts in the terminal.
var verdictANSI = map[correlate.Verdict]string{
	correlate.Confirmed:      "\x1b[1;31m",
	correlate.Probable:       "\x1b[1;33m",
	correlate.ReservedRange:  "\x1b[1;35m",
	correlate.NoConflictSeen: "\x1b[32m",
	correlate.PortUnknown:    "\x1b[2m",
	correlate.NotPortRelated: "\x1b[34m",
	correlate.NoSnapshot:     "\x1b[33m",
}

const ansiReset = "\x1b[0m"

// WriteText writes a case as a compact table: the bundle with its host and
// zone, one line per finding (verdict, confidence, port, service, owner,
// rule) and one per check that could not run.
func WriteText(w io.Writer, c *Case, o TextOptions) error {
	var b strings.Builder
	head := c.Bundle
	var facts []string
	if c.Host != "" {
		facts = append(facts, "host "+c.Host)
	}
	facts = append(facts, "times "+c.Zone.Label())
	head += "  (" + strings.Join(facts, ", ") + ")"
	b.WriteString(oneLine(head))
	b.WriteByte('\n')
	if len(c.Findings) == 0 {
		b.WriteString("  no service-start failures found\n")
	}
	for _, g := range c.groups() {
		f := &c.Findings[g.First]
		verdict := fmt.Sprintf("%-16s", f.Verdict)
		if o.Color {
			if col, ok := verdictANSI[f.Verdict]; ok {
				verdict = col + verdict + ansiReset
			}
		}
		owner := orDash(ownerLabel(f))
		line := fmt.Sprintf("  %s %3.0f%%  %-9s  %-40s  %-20s  %s", verdict, g.Confidence*100, portLabel(f),
			clip(oneLine(serviceLabel(f)), 40), clip(oneLine(owner), 30), oneLine(string(f.Rule)))
		line = strings.TrimRight(line, " ")
		if g.Count > 1 {
			line += fmt.Sprintf("  (×%d)", g.Count)
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	for _, v := range c.Coverage {
		if v.Status == correlate.StatusOK {
			continue
		}
		line := fmt.Sprintf("  coverage: %s %s: %s", v.Check, v.Status, oneLine(v.Reason))
		if o.Color {
			line = "\x1b[2m" + line + ansiReset
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps bundle text on one terminal line and strips control
// characters (C0, C1: 0x9b is a CSI to many terminals) and bidirectional
// controls, so a hostile string cannot move the cursor, recolour the
// terminal or reorder what the line shows.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
}
