package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/reports"
	"github.com/portmortem/portmortem/store"
	"github.com/portmortem/portmortem/store/ingest"
	"github.com/spf13/pflag"
)

const analyzeUsage = "portmortem analyze [flags] BUNDLE..."

// errFailOn selects the exit code of --fail-on.
var errFailOn = errors.New("a finding has a verdict named by --fail-on")

// analyzeOptions are the flags of `portmortem analyze`.
type analyzeOptions struct {
	out           string
	db            string
	capturedAt    []string
	tz            string
	ports         string
	catalog       string
	failOn        []string
	keepAllEvents bool
	skipKnown     bool
	quiet         bool
	jobs          int
	cpuProfile    string
	limits        limitFlags
	report        reportOptions

	// parsed
	captures []correlate.CaptureRule
	offset   *time.Duration
	user     map[string][]correlate.PortSpec
	cat      *correlate.Catalog
}

func (o *analyzeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.out, "output", "o", "portmortem-out", "folder for the reports and findings.json (created if missing)")
	fs.StringVar(&o.db, "db", "", "SQLite database to write (default OUTPUT/portmortem.db)")
	fs.StringArrayVar(&o.capturedAt, "captured-at", nil, "capture time of the files matching a pattern, e.g. 'netstat*=2026-03-02T08:30:00Z' (RFC 3339; without a zone it is the host's local time); repeatable")
	fs.StringVar(&o.tz, "tz", "", "the host's UTC offset, e.g. +01:00 or -05:00 (overrides systeminfo and event 6008)")
	fs.StringVar(&o.ports, "ports", "", "CSV file of extra needed ports: service,proto,port (port may be a range a-b)")
	fs.StringVar(&o.catalog, "catalog", "", "extra port catalog rows (correlate/catalog.tsv format)")
	fs.StringSliceVar(&o.failOn, "fail-on", nil, "exit 4 when a finding has one of these verdicts (e.g. CONFIRMED,PROBABLE)")
	fs.BoolVar(&o.keepAllEvents, "keep-all-events", false, "store every event in the database, not only failures and boot markers")
	fs.BoolVar(&o.skipKnown, "skip-known", false, "a bundle whose content already has a complete case in the database is not analyzed again: its stored findings are reported (to resume an interrupted batch, or add bundles to a database)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print only the findings (no warnings, no progress line)")
	fs.IntVar(&o.jobs, "jobs", runtime.NumCPU(), "CPUs to use: artifacts parsed at once, bundles walked at once, event-log chunks decoded at once; the database has one writer")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file (for performance reports: go tool pprof)")
	o.limits.AddFlags(fs)
	o.report.AddFlags(fs)
}

func (o *analyzeOptions) validate(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: analyze needs at least one BUNDLE", errUsage)
	}
	for _, v := range o.capturedAt {
		pat, ts, ok := strings.Cut(v, "=")
		if !ok || pat == "" {
			return fmt.Errorf("%w: --captured-at %q: want PATTERN=TIME", errUsage, v)
		}
		if _, err := path.Match(pat, "x"); err != nil {
			return fmt.Errorf("%w: --captured-at %q: %v", errUsage, v, err)
		}
		c := correlate.CaptureRule{Pattern: pat}
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			c.At = t.UTC()
		} else if t, err := time.Parse("2006-01-02T15:04:05", strings.Replace(ts, " ", "T", 1)); err == nil {
			c.At, c.Local = t, true
		} else {
			return fmt.Errorf("%w: --captured-at %q: time must be RFC 3339 (2026-03-02T08:30:00Z) or local 2026-03-02 08:30:00", errUsage, v)
		}
		o.captures = append(o.captures, c)
	}
	if o.tz != "" {
		d, err := parseOffset(o.tz)
		if err != nil {
			return fmt.Errorf("%w: --tz %q: %v", errUsage, o.tz, err)
		}
		o.offset = &d
	}
	for _, v := range o.failOn {
		if !slices.Contains(correlate.Verdicts, correlate.Verdict(strings.ToUpper(v))) {
			return fmt.Errorf("%w: --fail-on %q: verdicts are %s", errUsage, v, verdictList(correlate.Verdicts))
		}
	}
	if o.ports != "" {
		u, err := readPortsFile(o.ports)
		if err != nil {
			return fmt.Errorf("%w: --ports: %v", errUsage, err)
		}
		o.user = u
	}
	if o.catalog != "" {
		f, err := os.Open(o.catalog)
		if err != nil {
			return fmt.Errorf("%w: --catalog: %v", errUsage, err)
		}
		defer f.Close()
		if o.cat, err = correlate.LoadCatalog(f); err != nil {
			return fmt.Errorf("%w: --catalog %s: %v", errUsage, o.catalog, err)
		}
	}
	if o.jobs < 1 {
		return fmt.Errorf("%w: --jobs %d: want 1 or more", errUsage, o.jobs)
	}
	if o.db == "" {
		o.db = filepath.Join(o.out, "portmortem.db")
	}
	if err := o.report.validate(); err != nil {
		return err
	}
	return o.limits.validate()
}

// verdictList joins verdicts with commas, as --fail-on takes them.
func verdictList(vs []correlate.Verdict) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

// parseOffset reads +01:00, -0500, +1, UTC.
func parseOffset(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	if s == "UTC" || s == "Z" || s == "GMT" {
		return 0, nil
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "UTC"), "GMT")
	if s == "" || (s[0] != '+' && s[0] != '-') {
		return 0, errors.New("want +HH:MM or -HH:MM")
	}
	sign := time.Duration(1)
	if s[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	h, m := -1, 0
	var err error
	switch len(digits) {
	case 1, 2:
		h, err = strconv.Atoi(digits)
	case 3, 4:
		if h, err = strconv.Atoi(digits[:len(digits)-2]); err == nil {
			m, err = strconv.Atoi(digits[len(digits)-2:])
		}
	}
	if err != nil || h < 0 || h > 14 || m > 59 {
		return 0, errors.New("want +HH:MM or -HH:MM")
	}
	return sign * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute), nil
}

// readPortsFile reads a --ports file (correlate.LoadPorts).
func readPortsFile(name string) (map[string][]correlate.PortSpec, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return correlate.LoadPorts(f, name)
}

func runAnalyze(ctx context.Context, e env, args []string) error {
	var o analyzeOptions
	flags := newFlagSet(e, "analyze", analyzeUsage)
	o.AddFlags(flags)
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if err := o.validate(flags.Args()); err != nil {
		return err
	}
	prov := store.Provenance{ToolVersion: toolVersion(), Options: resultOptions(flags)}
	// What this run creates it removes again when it analyzes nothing: a
	// typo in a path leaves no empty database or folder behind.
	outExisted, dbExisted := exists(o.out), exists(o.db)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	removeLeftovers(e, o.out, o.quiet)
	// --jobs is the number of CPUs the run uses, the event-log decoder's
	// chunk workers included: --jobs 1 runs on one core.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.jobs))
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	s, err := store.Open(ctx, o.db)
	if err != nil {
		return err
	}
	defer s.Close()

	bundles := flags.Args()
	con := &console{w: e.stderr}
	prog := &progress{start: time.Now(), total: len(bundles)}
	var sizes []int64
	if !o.quiet && isTerminal(e.stderr) {
		sizes = make([]int64, len(bundles))
		for i, b := range bundles {
			sizes[i] = inputSize(b)
			prog.inTotal += sizes[i]
		}
		stop := startProgress(ctx, con, prog)
		defer stop()
	}
	obs := &analyzeObserver{e: e, o: &o, s: s, con: con, views: make([][]*reports.Case, len(bundles))}
	results, err := ingest.Run(ctx, s, bundles, ingest.Options{
		Jobs: o.jobs, Limits: o.limits.Limits, KeepAllEvents: o.keepAllEvents, SkipKnown: o.skipKnown,
		Captures: o.captures, Offset: o.offset, UserPorts: o.user, Catalog: o.cat,
		Provenance: prov, Progress: &prog.Progress, Sizes: sizes,
	}, obs)
	if err != nil {
		return err
	}
	var cases []*reports.Case
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			if !obs.notBundle(r) {
				failed++
			}
			continue
		}
		cases = append(cases, obs.views[r.Index]...)
	}
	if len(cases) == 0 {
		// Reports are replaced only by a run that has something to report:
		// the ones a good run left in the folder stay as they were.
		s.Close()
		if !dbExisted {
			for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
				os.Remove(o.db + suffix)
			}
		}
		if !outExisted {
			os.Remove(o.out) // only when empty
		}
		return fmt.Errorf("nothing analyzed (%d bundle(s) given, none could be analyzed): no report written, %s left as it was", len(bundles), o.out)
	}
	obs.unmatchedCaptures(cases)
	written, err := writeReports(ctx, s, o.db, o.out, cases, o.report)
	if err != nil {
		return err
	}
	if !o.quiet {
		con.pause(func() { printWritten(e, written, o.db) })
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d bundle(s) could not be analyzed", failed, len(bundles))
	}
	for _, c := range cases {
		for _, f := range c.Findings {
			for _, v := range o.failOn {
				if strings.EqualFold(string(f.Verdict), v) {
					return errFailOn
				}
			}
		}
	}
	return nil
}

// resultFlags are the analyze flags that change what a case says: its
// capture times, zone, needed ports, catalog and what is read of a bundle.
var resultFlags = []string{"captured-at", "tz", "ports", "catalog", "max-total", "max-entry", "max-ratio", "max-depth", "max-entries"}

// resultOptions lists the result-changing flags the user set, as given,
// with the SHA-256 of the files they name: "--tz +02:00 --ports p.csv
// (sha256 1f2e…)". Each case records it.
func resultOptions(fs *pflag.FlagSet) string {
	var parts []string
	for _, name := range resultFlags {
		f := fs.Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		values := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			values = sv.GetSlice()
		}
		for _, v := range values {
			p := "--" + name + " " + v
			if name == "ports" || name == "catalog" {
				if sum, err := fileSum(v); err == nil {
					p += " (sha256 " + sum[:12] + ")"
				}
			}
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// fileSum is the SHA-256 of a file, in hex.
func fileSum(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// exists says whether a file or folder is there.
func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// maxDamageLines bounds the damaged artifacts analyze names per bundle.
const maxDamageLines = 5

// analyzeObserver prints what an analyze run reports: warnings, each
// bundle's findings table as its turn comes, and the bundles that failed.
type analyzeObserver struct {
	e     env
	o     *analyzeOptions
	s     *store.Store
	con   *console
	views [][]*reports.Case // each bundle's cases as loaded right after their commit
}

func (a *analyzeObserver) Warning(bundle string, err error) {
	if !a.o.quiet {
		a.con.printf("warning: %s\n", oneLine(err.Error()))
	}
}

func (a *analyzeObserver) Committed(ctx context.Context, i int, caseIDs []int64) error {
	a.views[i] = nil
	for _, id := range caseIDs {
		c, err := reports.LoadCase(ctx, a.s, id)
		if err == nil {
			// Still there after the read, so read whole: another run on
			// the database may have replaced it (ingest then takes that
			// run's cases, store.ErrNotFound).
			_, err = a.s.Case(ctx, id)
		}
		if err != nil {
			return err
		}
		a.views[i] = append(a.views[i], c)
	}
	return nil
}

func (a *analyzeObserver) Done(r ingest.Result) error {
	if a.notBundle(r) {
		if !a.o.quiet {
			a.con.printf("warning: %s: not a bundle (no usable artifact), skipped\n", r.Bundle)
		}
		return nil
	}
	if r.Err != nil {
		a.con.printf("portmortem: %s: %v\n", r.Bundle, r.Err)
		return nil
	}
	cases := a.views[r.Index]
	if !a.o.quiet {
		shown, more := 0, 0
		for _, c := range cases {
			lines, n := reports.DamageLines(c, maxDamageLines-shown)
			for _, l := range lines {
				a.con.printf("damaged: %s\n", l)
			}
			shown, more = shown+len(lines), more+n
		}
		if more > 0 {
			a.con.printf("damaged: … and %d more (see the Artifacts sheet)\n", more)
		}
	}
	var err error
	a.con.pause(func() { err = printBundle(a.e.stdout, cases) })
	return err
}

// notBundle says r is a path that holds nothing portmortem reads, given
// among other bundles (a glob such as dir/* that picked up a README): a
// warning, where a bundle given alone is an error.
func (a *analyzeObserver) notBundle(r ingest.Result) bool {
	return len(a.views) > 1 && errors.Is(r.Err, ingest.ErrNoArtifact)
}

// unmatchedCaptures warns of each --captured-at rule that set the capture
// time of no artifact of cases (correlate.MatchCapture is the rule
// CaptureTime applied).
func (a *analyzeObserver) unmatchedCaptures(cases []*reports.Case) {
	if a.o.quiet || len(a.o.captures) == 0 {
		return
	}
	used := make([]bool, len(a.o.captures))
	for _, c := range cases {
		for _, art := range c.Artifacts {
			if art.CaptureSource != parsers.CaptureFlag {
				continue
			}
			if i := correlate.MatchCapture(a.o.captures, art.Path); i >= 0 {
				used[i] = true
			}
		}
	}
	for i, u := range used {
		if !u {
			a.con.printf("warning: --captured-at %q matched no artifact\n", a.o.capturedAt[i])
		}
	}
}

// startCPUProfile writes a CPU profile to name until stop is called.
func startCPUProfile(name string) (stop func(), err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
