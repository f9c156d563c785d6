package reports

import (
	"bufio"
	"io"
	"os"
	"path/filepath"

	"github.com/portmortem/portmortem/parsers/bundle"
)

// partialPrefix begins the name of the temporary file a report is written
// to before it is renamed: ".report.html-PID-RANDOM" beside report.html,
// with the writing process's PID (bundle.OwnedPrefix).
func partialPrefix(file string) string { return "." + file + "-" }

// RemovePartials removes from dir the partial report files (of every
// name in Formats) that a run killed while writing left behind, those
// whose owner no longer runs, and returns the paths removed.
func RemovePartials(dir string) ([]string, error) {
	prefixes := make([]string, len(Formats))
	for i, f := range Formats {
		prefixes[i] = partialPrefix(f.File)
	}
	return bundle.RemoveLeftovers(dir, prefixes...)
}

// writeFileAtomic writes a file through write into a temporary file in the
// same folder and renames it to name (mode 0644) once complete, so a reader
// never sees half a report and an interrupted run leaves the previous one.
func writeFileAtomic(name string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), bundle.OwnedPrefix(partialPrefix(filepath.Base(name)))+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// Buffered: html/template and the JSON encoder write in small pieces,
	// and a system call each made the HTML of a 200-bundle batch spend
	// half its time in write(2).
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
