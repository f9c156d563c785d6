package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/portmortem/portmortem/parsers/bundle"
	"github.com/portmortem/portmortem/reports"
	"github.com/portmortem/portmortem/store"
	"github.com/spf13/pflag"
)

const reportUsage = "portmortem report [flags] [BUNDLE...]"

// reportOptions are the report flags analyze and report share.
type reportOptions struct {
	formats []string
	paper   string
}

func (r *reportOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringSliceVar(&r.formats, "format", []string{"xlsx", "html", "json"},
		"reports to write to the output folder: xlsx (report.xlsx), html (report.html), json (findings.json)")
	fs.Lookup("format").DefValue = strings.Join(r.formats, ",") // as the flag takes it, not pflag's [a,b]
	fs.StringVar(&r.paper, "paper", "", "paper size report.html prints on: "+strings.Join(reports.Papers, " or ")+" (default: the printer's, from the locale)")
}

func (r *reportOptions) validate() error {
	for i, f := range r.formats {
		f = strings.ToLower(strings.TrimSpace(f))
		r.formats[i] = f
		if !slices.ContainsFunc(reports.Formats, func(rf struct{ Name, File string }) bool { return rf.Name == f }) {
			return fmt.Errorf("%w: --format %q: formats are xlsx, html, json", errUsage, f)
		}
	}
	r.paper = strings.ToLower(strings.TrimSpace(r.paper))
	if r.paper != "" && !slices.Contains(reports.Papers, r.paper) {
		return fmt.Errorf("%w: --paper %q: papers are %s", errUsage, r.paper, strings.Join(reports.Papers, ", "))
	}
	return nil
}

// writeReports writes the reports --format asks for of cases to dir, and
// returns the files written.
func writeReports(ctx context.Context, s *store.Store, db, dir string, cases []*reports.Case, r reportOptions) ([]string, error) {
	m := reports.NewModel(s, cases...)
	m.Database = db
	m.Paper = r.paper
	return reports.Write(ctx, m, dir, r.formats)
}

// printBundle prints the terminal tables of one bundle's cases. A bundle
// of several hosts prints one table per host within about the finding
// lines one host's table takes, each with its gaps in its head line.
func printBundle(w io.Writer, cases []*reports.Case) error {
	opts := reports.TextOptions{Color: colorOutput(w)}
	if len(cases) > 1 {
		opts.Brief, opts.MaxFindings = true, max(1, maxFindingLines/len(cases))
	}
	for _, c := range cases {
		if err := reports.WriteText(w, c, opts); err != nil {
			return err
		}
	}
	return nil
}

// maxFindingLines bounds the finding lines printed per bundle.
const maxFindingLines = 20

// colorOutput says whether w is a terminal that wants colour: a character
// device, with NO_COLOR unset and TERM not "dumb".
func colorOutput(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	// The classic Windows console shows escape codes as text unless the
	// program turns on their processing; Windows Terminal (WT_SESSION) and
	// terminals that set TERM interpret them.
	if runtime.GOOS == "windows" && os.Getenv("WT_SESSION") == "" && os.Getenv("TERM") == "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// reportCmdOptions are the flags of `portmortem report`.
type reportCmdOptions struct {
	out    string
	db     string
	quiet  bool
	report reportOptions
}

func (o *reportCmdOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.out, "output", "o", "", "folder for the reports (default: the database's folder)")
	fs.StringVar(&o.db, "db", filepath.Join("portmortem-out", "portmortem.db"), "the database 'portmortem analyze' wrote")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print only the findings")
	o.report.AddFlags(fs)
}

func (o *reportCmdOptions) validate() error {
	if _, err := os.Stat(o.db); err != nil {
		return fmt.Errorf("%w: --db: %v", errUsage, err)
	}
	if o.out == "" {
		o.out = filepath.Dir(o.db)
	}
	return o.report.validate()
}

// runReport writes the reports of cases already in a database, without
// reading the bundles again: every complete case, or those of the bundles
// named (by path as analyzed, base name or content).
func runReport(ctx context.Context, e env, args []string) error {
	var o reportCmdOptions
	flags := newFlagSet(e, "report", reportUsage)
	o.AddFlags(flags)
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	s, err := store.Open(ctx, o.db)
	if err != nil {
		return err
	}
	defer s.Close()
	all, err := s.Cases(ctx)
	if err != nil {
		return err
	}
	var complete []store.Case
	for _, c := range all {
		if c.Status == store.StatusComplete {
			complete = append(complete, c)
		}
	}
	if len(complete) == 0 {
		return errors.New("no analyzed bundle to report on in " + o.db)
	}
	ids, err := casesNamed(ctx, complete, flags.Args())
	if err != nil {
		return fmt.Errorf("%v in %s; it holds:%s", err, o.db, knownBundles(complete))
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	removeLeftovers(e, o.out, o.quiet)
	hashes := make(map[int64]string, len(complete))
	for _, c := range complete {
		hashes[c.ID] = c.BundleHash
	}
	var cases []*reports.Case
	loaded := map[int64]bool{}
	for _, id := range ids {
		cs, err := loadCurrent(ctx, s, id, hashes[id], loaded)
		if err != nil {
			return err
		}
		cases = append(cases, cs...)
	}
	// One bundle's cases are consecutive: their ids follow one another.
	for i := 0; i < len(cases); {
		j := i + 1
		for j < len(cases) && cases[j].BundleHash == cases[i].BundleHash && cases[j].Bundle == cases[i].Bundle {
			j++
		}
		if err := printBundle(e.stdout, cases[i:j]); err != nil {
			return err
		}
		i = j
	}
	written, err := writeReports(ctx, s, o.db, o.out, cases, o.report)
	if err != nil {
		return err
	}
	if !o.quiet {
		printWritten(e, written, o.db)
	}
	return nil
}

// casesNamed returns the cases of the bundles named on the command line,
// every case when none is named. A name is a bundle's path as analyzed, its
// base name, or a path with the same content; a name that matches no case
// is an error.
func casesNamed(ctx context.Context, cases []store.Case, names []string) ([]int64, error) {
	var ids []int64
	if len(names) == 0 {
		for _, c := range cases {
			ids = append(ids, c.ID)
		}
		return ids, nil
	}
	matched := make([]bool, len(cases))
	var missing []string
	for _, n := range names {
		hash, _ := bundle.Hash(ctx, n) // "" when n is not a bundle here
		found := false
		for i, c := range cases {
			if bundleNamed(c, n, hash) {
				found = true
				matched[i] = true
			}
		}
		if !found {
			missing = append(missing, strconv.Quote(n))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no analyzed bundle named %s", strings.Join(missing, ", "))
	}
	for i, c := range cases {
		if matched[i] {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

// bundleNamed says whether a case is the bundle called name: the same
// path as analyzed, the same base name when name is a bare name, or the
// same content (hash, "" if name could not be read).
func bundleNamed(c store.Case, name, hash string) bool {
	p := filepath.Clean(c.BundlePath)
	switch n := filepath.Clean(name); {
	case n == p:
		return true
	case n == filepath.Base(n) && n == filepath.Base(p):
		return true
	}
	return hash != "" && hash == c.BundleHash
}

// knownBundles lists cases for an error message, one per line.
func knownBundles(cases []store.Case) string {
	var b strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&b, "\n  %s", c.BundlePath)
		if c.Host != "" {
			fmt.Fprintf(&b, " (host %s)", c.Host)
		}
	}
	return b.String()
}

// printWritten lists the files a run wrote.
func printWritten(e env, files []string, db string) {
	fmt.Fprintln(e.stdout)
	for _, f := range files {
		fmt.Fprintf(e.stdout, "report:   %s\n", f)
	}
	fmt.Fprintf(e.stdout, "database: %s\n", db)
}

// loadTries bounds how often loadCurrent looks again for a bundle's
// cases that yet another run replaced while they were being read.
const loadTries = 5

// loadCurrent loads case id, listed complete, or, when an analyze on the
// same database replaced it since (a re-run of its bundle, hash), the
// cases that replaced it, unless loaded has them already. A case is
// read again when it was deleted while being read, so no report holds
// half a case.
func loadCurrent(ctx context.Context, s *store.Store, id int64, hash string, loaded map[int64]bool) ([]*reports.Case, error) {
	ids := []int64{id}
	var err error
	for range loadTries {
		var out []*reports.Case
		for _, id := range ids {
			if loaded[id] {
				continue
			}
			var c *reports.Case
			if c, err = reports.LoadCase(ctx, s, id); err == nil {
				_, err = s.Case(ctx, id) // still there after the read: whole
			}
			if err != nil {
				break
			}
			out = append(out, c)
		}
		if err == nil {
			for _, c := range out {
				loaded[c.ID] = true
			}
			return out, nil
		}
		if !errors.Is(err, store.ErrNotFound) || hash == "" {
			return nil, err
		}
		cs, herr := s.CasesByHash(ctx, hash)
		if herr != nil {
			return nil, herr
		}
		ids = ids[:0]
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	return nil, err
}
