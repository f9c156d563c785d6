package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/portmortem/portmortem/parsers/bundle"
	"github.com/portmortem/portmortem/reports"
)

// maxLeftoverNames bounds the paths the leftovers line names.
const maxLeftoverNames = 3

// removeLeftovers removes what killed portmortem runs (SIGKILL, a crash,
// a power cut) left: their temporary folders of unpacked archive members
// and spilled workbook rows in the system temp folder, and their partial
// report files in outDir ("" for none). A live run's files are left
// alone: each name carries its owner's PID. It prints one line saying
// what it removed, unless quiet, and a line for what it could not remove.
func removeLeftovers(e env, outDir string, quiet bool) {
	removed, err := bundle.RemoveLeftovers(os.TempDir(), bundle.TempPrefix, reports.XLSXTempPrefix)
	if outDir != "" {
		r, perr := reports.RemovePartials(outDir)
		removed, err = append(removed, r...), errors.Join(err, perr)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: leftovers of a killed run: %s\n", oneLine(err.Error()))
	}
	if len(removed) == 0 || quiet {
		return
	}
	names := removed[:min(len(removed), maxLeftoverNames)]
	more := ""
	if n := len(removed) - len(names); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	fmt.Fprintf(e.stderr, "removed what a killed portmortem run left (%d): %s%s\n", len(removed), strings.Join(names, ", "), more)
}
