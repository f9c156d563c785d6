package reports

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/portmortem/portmortem/correlate"
)

// TextOptions control the terminal table.
type TextOptions struct {
	// Color marks verdicts with ANSI colours (only for a terminal).
	Color bool
	// MaxFindings bounds the finding lines (0: 20).
	MaxFindings int
	// Brief folds the checks that could not run into the head line, for a
	// bundle of several hosts that prints one table per host.
	Brief bool
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
	maxFindings := cmp.Or(o.MaxFindings, maxTextFindings)
	head := c.Bundle
	var facts []string
	switch {
	case c.Undecided:
		facts = append(facts, "files whose host could not be decided")
	case c.Host != "":
		facts = append(facts, "host "+c.Host)
	}
	if c.Collection != "" {
		facts = append(facts, "in "+c.Collection)
	}
	if c.mixed {
		facts = append(facts, "times "+c.Zone.Label()+", each boot's own offset where its events give one")
	} else {
		facts = append(facts, "times "+c.Zone.Label())
	}
	var gaps []string
	for _, v := range c.Coverage {
		if v.Status != correlate.StatusOK {
			gaps = append(gaps, v.Check)
		}
	}
	if o.Brief && len(gaps) > 0 {
		facts = append(facts, fmt.Sprintf("%d check(s) could not run: %s", len(gaps), strings.Join(gaps, ", ")))
	}
	head += "  (" + strings.Join(facts, ", ") + ")"
	b.WriteString(oneLine(head))
	b.WriteByte('\n')
	if len(c.Findings) == 0 && !c.Undecided {
		b.WriteString("  no service-start failures found\n")
	}
	shown, total := 0, 0
	var unknown []findingGroup // PORT_UNKNOWN: one line for every service
	unknownAt := -1
	groups := c.groups()
	// The ports that were free beside a failure's cause are named on the
	// cause's line, not each on a line of its own.
	free, also := c.siblings()
	groups = slices.DeleteFunc(groups, func(g findingGroup) bool { return free[g.First] })
	for _, g := range groups {
		total += g.Count
	}
	var lines []string
	for _, g := range groups {
		f := &c.Findings[g.First]
		if f.Verdict == correlate.PortUnknown {
			if unknownAt < 0 {
				unknownAt = len(lines)
				lines = append(lines, "")
			}
			unknown = append(unknown, g)
			continue
		}
		if len(lines) >= maxFindings {
			continue
		}
		shown += g.Count
		line := c.textLine(g, o)
		if ports, ok := also[g.First]; ok {
			line += "  (also needs " + ports + ": free)"
		}
		lines = append(lines, line)
	}
	if unknownAt >= 0 {
		if unknownAt < maxFindings {
			n := 0
			for _, g := range unknown {
				n += g.Count
			}
			shown += n
			lines[unknownAt] = unknownLine(c, unknown, n, o)
		} else {
			lines = slices.Delete(lines, unknownAt, unknownAt+1)
		}
	}
	for _, l := range lines[:min(len(lines), maxFindings)] {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if shown < total {
		fmt.Fprintf(&b, "  … %d more finding(s) in report.html (and the workbook, findings.json)\n", total-shown)
	}
	for _, v := range c.Coverage {
		if v.Status == correlate.StatusOK || o.Brief {
			continue
		}
		line := fmt.Sprintf("  coverage: %s %s: %s", v.Check, v.Status, clip(oneLine(v.Reason), maxCoverageText))
		if o.Color {
			line = "\x1b[2m" + line + ansiReset
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Bounds of the terminal table: finding lines per bundle (the reports
// have them all), and the characters of a coverage reason.
const (
	maxTextFindings = 20
	maxCoverageText = 240
)

// textLine is a group's terminal line.
func (c *Case) textLine(g findingGroup, o TextOptions) string {
	f := &c.Findings[g.First]
	owner := orDash(ownerLabel(f))
	line := fmt.Sprintf("  %s %4s  %-9s  %-40s  %-20s  %s", verdictText(f.Verdict, o), confidenceText(f.Verdict, g.Confidence), portLabel(f),
		clip(oneLine(serviceLabel(f)), 40), clip(oneLine(owner), 30), oneLine(string(f.Rule)))
	line = strings.TrimRight(line, " ")
	if g.Count > 1 {
		line += fmt.Sprintf("  (×%d)", g.Count)
	}
	return line
}

// unknownLine folds the PORT_UNKNOWN groups of a case into one line: the
// count and the first services.
func unknownLine(c *Case, groups []findingGroup, n int, o TextOptions) string {
	if len(groups) == 1 {
		return c.textLine(groups[0], o)
	}
	var names []string
	for _, g := range groups[:min(len(groups), 3)] {
		names = append(names, clip(oneLine(serviceLabel(&c.Findings[g.First])), 24))
	}
	more := ""
	if len(groups) > 3 {
		more = fmt.Sprintf(" and %d more", len(groups)-3)
	}
	return fmt.Sprintf("  %s %4s  %-9s  %d services: %s%s  (×%d)", verdictText(correlate.PortUnknown, o),
		confidenceText(correlate.PortUnknown, 0), "-", len(groups), strings.Join(names, ", "), more, n)
}

// verdictText is a verdict padded for the table, coloured for a terminal.
func verdictText(v correlate.Verdict, o TextOptions) string {
	s := fmt.Sprintf("%-16s", v)
	if o.Color {
		if col, ok := verdictANSI[v]; ok {
			s = col + s + ansiReset
		}
	}
	return s
}

// confidenceText is a finding's confidence; a PORT_UNKNOWN finding has
// none to give ("–", not "0%").
func confidenceText(v correlate.Verdict, conf float64) string {
	if v == correlate.PortUnknown {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", conf*100)
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
