package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/reports"
	"github.com/portmortem/portmortem/store"
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
	captures []captureFlag
	offset   *time.Duration
	user     map[string][]correlate.PortSpec
	cat      *correlate.Catalog
}

// captureFlag is one --captured-at PATTERN=TIME.
type captureFlag struct {
	pattern string
	at      time.Time
	local   bool
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
		c := captureFlag{pattern: pat}
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			c.at = t.UTC()
		} else if t, err := time.Parse("2006-01-02T15:04:05", strings.Replace(ts, " ", "T", 1)); err == nil {
			c.at, c.local = t, true
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
		if !slices.Contains(allVerdicts, correlate.Verdict(strings.ToUpper(v))) {
			return fmt.Errorf("%w: --fail-on %q: verdicts are %v", errUsage, v, allVerdicts)
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

var allVerdicts = []correlate.Verdict{correlate.Confirmed, correlate.Probable, correlate.ReservedRange,
	correlate.NoConflictSeen, correlate.PortUnknown, correlate.NotPortRelated, correlate.NoSnapshot}

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

// readPortsFile reads service,proto,port lines (# comments allowed).
func readPortsFile(name string) (map[string][]correlate.PortSpec, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	r.FieldsPerRecord = 3
	r.TrimLeadingSpace = true
	out := map[string][]correlate.PortSpec{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		proto := parsers.Proto(strings.ToUpper(strings.TrimSpace(rec[1])))
		if proto != parsers.TCP && proto != parsers.UDP {
			return nil, fmt.Errorf("%s:%d: protocol %q: want tcp or udp", name, line, rec[1])
		}
		lo, hi, isRange := strings.Cut(strings.TrimSpace(rec[2]), "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || a == 0 || b < a || b-a > 1024 {
			return nil, fmt.Errorf("%s:%d: port %q: want a number or a range a-b of at most 1024 ports", name, line, rec[2])
		}
		key := strings.ToLower(strings.TrimSpace(rec[0]))
		for p := a; p <= b; p++ {
			out[key] = append(out[key], correlate.PortSpec{Proto: proto, Port: uint16(p)})
		}
	}
}

// findingJSON is one element of findings.json. The field names are stable.
type findingJSON struct {
	Bundle        string               `json:"bundle"`
	Host          string               `json:"host"`
	Service       string               `json:"service"`
	ServiceKey    string               `json:"service_key"`
	FailureTime   string               `json:"failure_time"`
	EventID       uint16               `json:"event_id"`
	ErrorCode     *uint32              `json:"error_code"`
	Error         string               `json:"error,omitempty"`
	Proto         string               `json:"proto"`
	Port          uint16               `json:"port"`
	PortSource    string               `json:"port_source,omitempty"`
	Verdict       string               `json:"verdict"`
	Confidence    float64              `json:"confidence"`
	Reasons       []string             `json:"reasons"`
	OwnerPID      *int                 `json:"owner_pid"`
	OwnerImage    string               `json:"owner_image"`
	OwnerServices []string             `json:"owner_services"`
	Snapshot      string               `json:"snapshot"`
	Rule          string               `json:"rule"`
	Remedy        []string             `json:"remedy"`
	KB            []string             `json:"kb"`
	Evidence      []correlate.Evidence `json:"evidence"`
}

func toFindingJSON(f correlate.Finding) findingJSON {
	out := findingJSON{
		Bundle: f.Bundle, Host: f.Host, Service: f.Service, ServiceKey: f.ServiceKey,
		EventID: f.EventID, Proto: string(f.Proto), Port: f.Port, PortSource: f.PortSource,
		Verdict: string(f.Verdict), Confidence: f.Confidence, Reasons: nonNil(f.Reasons),
		OwnerImage: f.OwnerImage, OwnerServices: nonNil(f.OwnerServices), Snapshot: f.Snapshot,
		Rule: f.Rule, Remedy: nonNil(f.Remedy), KB: nonNil(f.KB), Evidence: nonNil(f.Evidence),
	}
	if !f.FailureTime.IsZero() {
		out.FailureTime = f.FailureTime.UTC().Format(time.RFC3339Nano)
	}
	if f.HasError {
		code := f.ErrorCode
		out.ErrorCode = &code
		out.Error = correlate.FormatCode(code)
	}
	if f.OwnerPID >= 0 {
		pid := f.OwnerPID
		out.OwnerPID = &pid
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// caseResult is what one analyzed bundle gave.
type caseResult struct {
	bundle   string
	caseID   int64
	findings []correlate.Finding
	coverage []correlate.Coverage
	view     *reports.Case // as loaded right after its commit
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
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
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
	sizes := make([]int64, len(bundles))
	if !o.quiet && isTerminal(e.stderr) {
		for i, b := range bundles {
			sizes[i] = inputSize(b)
			prog.inTotal += sizes[i]
		}
		stop := startProgress(con, prog)
		defer stop()
	}
	p := newPipeline(s, &o, con, prog, len(bundles))
	writerDone := make(chan struct{})
	go p.writer(writerDone)

	// Up to --jobs bundles at once; their outcomes are taken in argument
	// order, so the output does not depend on which finishes first.
	var abandon atomic.Bool // no more bundles: printing failed
	type outcome struct {
		i   int
		res caseResult
		err error
	}
	next, outcomes := make(chan int), make(chan outcome)
	var wg sync.WaitGroup
	for range min(o.jobs, len(bundles)) {
		wg.Go(func() {
			for i := range next {
				res, err := analyzeBundle(ctx, p, i, bundles[i], sizes[i])
				outcomes <- outcome{i, res, err}
			}
		})
	}
	go func() {
		for i := range bundles {
			if ctx.Err() != nil || abandon.Load() {
				break
			}
			next <- i
		}
		close(next)
		wg.Wait()
		close(outcomes)
	}()

	var results []caseResult
	var cases []*reports.Case
	var failed []string
	var firstErr error
	got := make([]*outcome, len(bundles))
	taken := 0
	for oc := range outcomes {
		got[oc.i] = &oc
		for ; taken < len(bundles) && got[taken] != nil; taken++ {
			oc := got[taken]
			got[taken] = nil
			switch {
			case ctx.Err() != nil || firstErr != nil:
			case oc.err != nil:
				con.printf("portmortem: %s: %v\n", bundles[oc.i], oc.err)
				failed = append(failed, bundles[oc.i])
			default:
				results = append(results, oc.res)
				var err error
				con.pause(func() {
					err = reports.WriteText(e.stdout, oc.res.view, reports.TextOptions{Color: colorOutput(e.stdout)})
				})
				if err != nil {
					firstErr = err
					abandon.Store(true)
					continue
				}
				cases = append(cases, oc.res.view)
			}
		}
	}
	close(p.writes)
	<-writerDone
	if err := ctx.Err(); err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}
	all := []findingJSON{}
	for _, r := range results {
		for _, f := range r.findings {
			all = append(all, toFindingJSON(f))
		}
	}
	written, err := writeReports(ctx, s, o.db, o.out, cases, o.report)
	if err != nil {
		return err
	}
	if o.report.want("json") {
		if err := writeJSONFile(filepath.Join(o.out, "findings.json"), all); err != nil {
			return err
		}
		written = append(written, filepath.Join(o.out, "findings.json"))
	}
	if !o.quiet {
		con.pause(func() { printWritten(e, written, o.db) })
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d bundle(s) could not be analyzed", len(failed), len(bundles))
	}
	for _, f := range all {
		for _, v := range o.failOn {
			if strings.EqualFold(f.Verdict, v) {
				return errFailOn
			}
		}
	}
	return nil
}

// analyzeBundle ingests one bundle into the store as one case, then
// correlates it and saves the findings. i is its place among the
// arguments; size is its bytes on disk (0 if not measured), for the
// progress line.
func analyzeBundle(ctx context.Context, p *pipeline, i int, bundle string, size int64) (caseResult, error) {
	defer p.prog.bundles.Add(1)
	var onDisk atomic.Int64 // bytes of the bundle's files on disk already counted as done
	defer func() { p.prog.inDone.Add(max(0, size-onDisk.Load())) }()
	o, s := p.o, p.s
	begun := false
	defer func() {
		if !begun {
			close(p.begun[i])
		}
	}()
	hash, err := bundleHash(ctx, bundle)
	if err != nil {
		return caseResult{}, err
	}
	if i > 0 {
		<-p.begun[i-1]
	}
	if o.skipKnown { // after the previous bundle's case began: ids stay in argument order
		if res, ok, err := knownCase(ctx, s, bundle, hash); ok || err != nil {
			return res, err
		}
	}
	var cw *store.CaseWriter
	err = p.do(func() (err error) {
		cw, err = s.BeginCase(ctx, store.CaseInfo{BundleHash: hash, BundlePath: bundle, KeepAllEvents: o.keepAllEvents})
		return err
	})
	close(p.begun[i])
	begun = true
	if err != nil {
		return caseResult{}, err
	}
	committed := false
	defer func() {
		if !committed {
			p.do(func() error { return cw.Abort(context.WithoutCancel(ctx)) })
		}
	}()
	arts, err := p.ingest(ctx, cw, bundle, &onDisk)
	if cerr := ctx.Err(); cerr != nil {
		return caseResult{}, cerr
	}
	if err != nil {
		return caseResult{}, err
	}
	if len(arts) == 0 {
		return caseResult{}, fmt.Errorf("no usable artifact (run 'portmortem inspect %s' to see what was found)", bundle)
	}
	var facts *parsers.SystemFacts
	var factsHost string
	for _, a := range arts {
		if a.System != nil {
			facts, factsHost = a.System, a.Host
		}
	}
	// The case is committed with its findings: an interrupted run leaves
	// neither a half-ingested case nor a case without findings.
	in, err := s.Input(ctx, cw.ID())
	if err != nil {
		return caseResult{}, err
	}
	hf := hostFacts(in, facts, o)
	applyFacts(&in, facts, factsHost, o)
	findings, coverage, err := correlate.Analyze(ctx, in)
	if err != nil {
		return caseResult{}, err
	}
	var view *reports.Case
	err = p.do(func() error {
		if err := s.SaveFindings(ctx, cw.ID(), findings, coverage); err != nil {
			return err
		}
		if err := cw.SetHostFacts(ctx, hf); err != nil {
			return err
		}
		if err := cw.Commit(ctx); err != nil {
			return err
		}
		committed = true
		// Loaded before the writer goes on: a later case of the same
		// content (the bundle given twice) replaces this one.
		view, err = reports.LoadCase(ctx, s, cw.ID())
		return err
	})
	if err != nil {
		return caseResult{}, err
	}
	return caseResult{bundle: bundle, caseID: cw.ID(), findings: findings, coverage: coverage, view: view}, nil
}

// knownCase returns what the database holds of a bundle already analyzed
// (--skip-known): ok is false when it has no complete case of that content.
func knownCase(ctx context.Context, s *store.Store, bundle, hash string) (res caseResult, ok bool, err error) {
	c, err := s.CaseByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return caseResult{}, false, nil
	}
	if err != nil {
		return caseResult{}, false, err
	}
	res = caseResult{bundle: bundle, caseID: c.ID}
	if res.findings, err = s.Findings(ctx, c.ID); err != nil {
		return caseResult{}, false, err
	}
	if res.coverage, err = s.Coverage(ctx, c.ID); err != nil {
		return caseResult{}, false, err
	}
	if res.view, err = reports.LoadCase(ctx, s, c.ID); err != nil {
		return caseResult{}, false, err
	}
	return res, true, nil
}

// applyFacts fills what the case does not know from systeminfo and the
// flags: the OS version, the UTC offset (--tz wins), the user's ports and
// catalog.
func applyFacts(in *correlate.Input, facts *parsers.SystemFacts, host string, o *analyzeOptions) {
	if facts != nil {
		if in.OSVersion == "" {
			// "5.2.3790 Service Pack 2 Build 3790": the version is the first word.
			in.OSVersion, _, _ = strings.Cut(facts.OSVersion, " ")
		}
		if !in.HasUTCOffset && facts.HasUTCOffset {
			in.UTCOffset, in.HasUTCOffset = facts.UTCOffset, true
		}
		if in.Host == "" {
			in.Host = host
		}
	}
	if o.offset != nil {
		in.UTCOffset, in.HasUTCOffset = *o.offset, true
	}
	in.UserPorts = o.user
	in.Catalog = o.cat
}

// captureTime decides an artifact's capture time: --captured-at, then what
// the artifact says (a timestamp line), then a time in its file name, then
// the archive entry's or the file's time.
func captureTime(o *analyzeOptions, entry parsers.Entry, a *parsers.Artifact) (time.Time, bool, string) {
	base := path.Base(entry.Name)
	for _, c := range o.captures {
		if m, _ := path.Match(c.pattern, base); m {
			return c.at, c.local, "flag"
		}
		if m, _ := path.Match(c.pattern, entry.Name); m {
			return c.at, c.local, "flag"
		}
	}
	if !a.CapturedAt.IsZero() {
		return a.CapturedAt, a.CapturedLocal, cmp.Or(a.CaptureSource, "timestamp-line")
	}
	if t, ok := parsers.FileNameTime(base); ok {
		return t, true, "file-name"
	}
	local := entry.ModTimeSource == "zip-dos-local"
	return entry.ModTime, local, entry.ModTimeSource
}

// bundleHash is the content hash that keys a case: the SHA-256 of a file,
// or of the sorted names and contents of a folder's files.
func bundleHash(ctx context.Context, root string) (string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if !info.IsDir() {
		if err := hashFile(h, root); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // Walk reports unreadable entries; they do not change the key
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		fh := sha256.New()
		if err := hashFile(fh, p); err != nil {
			return nil
		}
		fmt.Fprintf(h, "%s\x00%x\n", filepath.ToSlash(rel), fh.Sum(nil))
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

func writeJSONFile(name string, v any) error {
	return reports.WriteFileAtomic(name, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
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
