package reports

import (
	"fmt"
	"strings"

	"github.com/portmortem/portmortem/parsers"
)

// DamageLines says, one line per artifact, what of a case's artifacts
// could not be read (errors about an event log's slack space lose no
// record and do not count): the path, how many parts (chunks, records, lines)
// were unreadable and the first of them, and how many records were read.
// At most max lines are returned; more counts the artifacts left out
// (the Artifacts sheet lists them all).
func DamageLines(c *Case, max int) (lines []string, more int) {
	for i := range c.Artifacts {
		a := &c.Artifacts[i]
		if a.WarningCount == 0 || a.Format == parsers.FormatRefused {
			continue
		}
		// Slack errors lose no live record (parsers.SlackPrefix).
		lost, first := a.WarningCount, -1
		for j, w := range a.Warnings {
			if strings.HasPrefix(w.Message, parsers.SlackPrefix) {
				lost--
			} else if first < 0 {
				first = j
			}
		}
		if lost == 0 {
			continue
		}
		if len(lines) == max {
			more++
			continue
		}
		unit := "part(s)"
		if a.Encoding != parsers.EncBinary {
			unit = "line(s)"
		}
		line := fmt.Sprintf("%s: %s unreadable %s, %s record(s) read", a.Path, thousands(lost), unit, thousands(a.Records))
		if first >= 0 {
			w := a.Warnings[first]
			switch {
			case w.Line > 0:
				line += fmt.Sprintf("; first at line %d: %s", w.Line, w.Message)
			case w.Offset > 0:
				line += fmt.Sprintf("; first at offset 0x%X: %s", w.Offset, w.Message)
			default:
				line += "; first: " + w.Message
			}
		}
		lines = append(lines, oneLine(line))
	}
	return lines, more
}
