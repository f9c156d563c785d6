package reports

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
)

// Formats are the reports Write can write: a format name (--format) and
// the file it is written to.
var Formats = []struct{ Name, File string }{
	{"xlsx", "report.xlsx"},
	{"html", "report.html"},
	{"json", "findings.json"},
}

// Write writes the reports of m named in formats (Formats' names) into
// dir and returns the files written, in Formats' order. The workbook and
// the page are written at the same time: each reads the store through
// its own connection and is mostly single-threaded. Each file is replaced
// whole or not at all.
func Write(ctx context.Context, m *Model, dir string, formats []string) ([]string, error) {
	writers := map[string]func(context.Context, *Model, string) error{
		"xlsx": WriteXLSX, "html": WriteHTML, "json": WriteJSON,
	}
	type job struct {
		name  string
		write func(context.Context, *Model, string) error
	}
	var jobs []job
	for _, f := range Formats {
		if slices.Contains(formats, f.Name) {
			jobs = append(jobs, job{filepath.Join(dir, f.File), writers[f.Name]})
		}
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { errs[i] = j.write(ctx, m, j.name) })
	}
	wg.Wait()
	var written []string
	for i, j := range jobs {
		if errs[i] != nil {
			return written, errs[i]
		}
		written = append(written, j.name)
	}
	return written, nil
}
