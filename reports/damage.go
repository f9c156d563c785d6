package reports

import (
	"fmt"
	"strings"

	"github.com/portmortem/portmortem/parsers"
)

// DamageLines says, one line per artifact that lost records to parse
// errors (store.Artifact.Lost: slack-space errors lose none), what could
// not be read: the path, how many parts (chunks, records) or lines were
// unreadable, how many records were read and the first error.
// At most max lines are returned; more counts the artifacts left out
// (the Artifacts sheet lists them all).
func DamageLines(c *Case, max int) (lines []string, more int) {
	for i := range c.Artifacts {
		a := &c.Artifacts[i]
		if a.Lost == 0 || a.Format == parsers.FormatRefused {
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
		line := fmt.Sprintf("%s: %s unreadable %s, %s record(s) read", a.Path, thousands(a.Lost), unit, thousands(a.Records))
		for _, w := range a.Warnings {
			if !strings.HasPrefix(w.Message, parsers.SlackPrefix) {
				line += "; first error: " + warningText(w)
				break
			}
		}
		lines = append(lines, oneLine(line))
	}
	return lines, more
}
