package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/bundle"
	"github.com/portmortem/portmortem/store"
)

// Options are what a run is asked to do beyond its bundles.
type Options struct {
	// Jobs is how many bundles are walked and artifacts parsed at once
	// (at least 1). The caller sets GOMAXPROCS: the event-log decoder
	// uses every CPU the program may.
	Jobs int
	// Limits bound what is read of one bundle (archives unpacked).
	Limits bundle.Limits
	// KeepAllEvents stores every event, not only those correlation uses.
	KeepAllEvents bool
	// SkipKnown reports a bundle whose content already has a complete
	// case in the store from that case, without reading it again.
	SkipKnown bool
	// Captures are the user's --captured-at rules (correlate.CaptureTime).
	Captures []correlate.CaptureRule
	// Offset is the user's --tz, nil when not given (correlate.DecideHost).
	Offset *time.Duration
	// UserPorts and Catalog go to correlate.Input as they are.
	UserPorts map[string][]correlate.PortSpec
	Catalog   *correlate.Catalog
	// Provenance is recorded on every case (its CatalogVersion is
	// Catalog's).
	Provenance store.Provenance
	// Progress, when not nil, counts the work as it goes; Sizes, when
	// not nil, are the bundles' bytes on disk in argument order, which
	// Progress.InputDone reaches as each bundle ends.
	Progress *Progress
	Sizes    []int64
}

// Observer is told what a run does as it goes. Run calls Warning from
// any goroutine, Committed from the store's writer goroutine, and Done
// from the goroutine that called Run.
type Observer interface {
	// Warning is a problem with one file of a bundle that does not stop
	// the bundle: a refused or damaged archive entry.
	Warning(bundle string, err error)
	// Committed is called right after bundle i's cases (one per
	// collection of a host) were committed (or, with SkipKnown, found),
	// before any later write: the cases read then are the cases as
	// committed, even if a later bundle of the same content replaces
	// them. An error fails bundle i.
	Committed(ctx context.Context, i int, caseIDs []int64) error
	// Done receives each bundle's result in argument order, as soon as it
	// and every bundle before it are finished. An error stops the run: no
	// further bundle is started, and Run returns it.
	Done(r Result) error
}

// Result is what one bundle gave.
type Result struct {
	Index  int    // its place among Run's bundles
	Bundle string // its path as given
	// Cases are the bundle's cases: one per collection of a host
	// (correlate.AssignHosts), in the order of their first artifact.
	Cases []Case
	// Known says the bundle was not read again (Options.SkipKnown): its
	// findings are those stored.
	Known bool
	// Err is why the bundle could not be analyzed; the run goes on with
	// the others. It is ErrNoArtifact when the path holds nothing portmortem
	// reads (not a bundle, or an empty one).
	Err error
}

// Case is one case of a bundle.
type Case struct {
	ID         int64
	Host       string
	Collection string
	// Undecided marks the case of the artifacts whose host could not be
	// decided: it has no findings.
	Undecided bool
	Findings  []correlate.Finding
	Coverage  []correlate.Coverage
}

// Run analyzes each bundle into s: it walks the bundle, stores its
// artifacts, splits them into one case per collection of a host
// (correlate.AssignHosts), decides each case's host facts and the capture
// times, correlates each case, saves the findings and commits the
// bundle's cases together. Bundles run in
// parallel (Options.Jobs); their results come back in argument order, to
// obs.Done as they are ready and as Run's result. Run returns early with
// ctx's error when it is cancelled (the cases not committed are rolled
// back) or with Done's error; a bundle that fails only fails its Result.
func Run(ctx context.Context, s *store.Store, bundles []string, o Options, obs Observer) ([]Result, error) {
	if o.Jobs < 1 {
		return nil, fmt.Errorf("jobs %d: want 1 or more", o.Jobs)
	}
	prog := o.Progress
	if prog == nil {
		prog = &Progress{}
	}
	p := &pipeline{s: s, o: &o, obs: obs, prog: prog, writes: make(chan func()), slots: make(chan struct{}, o.Jobs)}
	for range bundles {
		p.begun = append(p.begun, make(chan struct{}))
	}
	writerDone := make(chan struct{})
	go p.writer(writerDone)

	// Up to Jobs bundles at once; their results are taken in argument
	// order, so what the caller sees does not depend on which finishes
	// first.
	stop := make(chan struct{}) // closed when Done fails: no more bundles
	next, results := make(chan int), make(chan Result)
	var wg sync.WaitGroup
	for range min(o.Jobs, len(bundles)) {
		wg.Go(func() {
			for i := range next {
				results <- p.analyzeBundle(ctx, i, bundles[i])
			}
		})
	}
	go func() {
		defer func() {
			close(next)
			wg.Wait()
			close(results)
		}()
		for i := range bundles {
			if ctx.Err() != nil {
				return
			}
			select {
			case next <- i:
			case <-stop:
				return
			}
		}
	}()

	var out []Result
	var doneErr error
	got := make([]*Result, len(bundles))
	taken := 0
	for r := range results {
		got[r.Index] = &r
		for ; taken < len(bundles) && got[taken] != nil; taken++ {
			r := got[taken]
			got[taken] = nil
			if ctx.Err() != nil || doneErr != nil {
				continue
			}
			if doneErr = obs.Done(*r); doneErr != nil {
				close(stop)
				continue
			}
			out = append(out, *r)
		}
	}
	close(p.writes)
	<-writerDone
	if err := ctx.Err(); err != nil {
		return out, err
	}
	return out, doneErr
}

// analyzeBundle ingests bundle i into the store as one case, then
// correlates it and saves the findings.
func (p *pipeline) analyzeBundle(ctx context.Context, i int, bundlePath string) Result {
	r := Result{Index: i, Bundle: bundlePath}
	r.Err = p.analyze(ctx, &r)
	return r
}

// analyze fills r; its error is the bundle's.
func (p *pipeline) analyze(ctx context.Context, r *Result) error {
	i, bundlePath := r.Index, r.Bundle
	defer p.prog.Bundles.Add(1)
	var onDisk atomic.Int64 // bytes of the bundle's files on disk already counted as done
	if i < len(p.o.Sizes) {
		size := p.o.Sizes[i]
		defer func() { p.prog.InputDone.Add(max(0, size-onDisk.Load())) }()
	}
	o, s := p.o, p.s
	begun := false
	defer func() {
		if !begun {
			close(p.begun[i])
		}
	}()
	hash, err := bundle.Hash(ctx, bundlePath)
	if err != nil {
		return err
	}
	if i > 0 {
		<-p.begun[i-1]
	}
	if o.SkipKnown { // after the previous bundle's case began: ids stay in argument order
		if ok, err := p.knownCase(ctx, r, hash); ok || err != nil {
			return err
		}
	}
	var cw *store.CaseWriter
	err = p.do(func() (err error) {
		prov := o.Provenance
		prov.CatalogVersion = o.Catalog.Version()
		cw, err = s.BeginCase(ctx, store.CaseInfo{BundleHash: hash, BundlePath: bundlePath, Provenance: prov})
		return err
	})
	close(p.begun[i])
	begun = true
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			p.do(func() error { return cw.Abort(context.WithoutCancel(ctx)) })
		}
	}()
	arts, err := p.ingest(ctx, cw, bundlePath, &onDisk)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	if len(arts) == 0 {
		return fmt.Errorf("%w (run 'portmortem inspect %s' to see what was found)", ErrNoArtifact, bundlePath)
	}
	plan, cases, err := p.split(ctx, cw, bundlePath, arts)
	if err != nil {
		return err
	}
	// The cases are committed with their findings: an interrupted run
	// leaves neither a half-ingested case nor a case without findings.
	type saved struct {
		facts    correlate.HostFacts
		findings []correlate.Finding
		coverage []correlate.Coverage
	}
	out := make([]saved, len(cases))
	for g, c := range cases {
		grp := plan.Groups[g]
		in, err := s.Input(ctx, c.id)
		if err != nil {
			return err
		}
		clues := correlate.HostClues{Offset: o.Offset, Logs: in, System: c.system}
		facts := correlate.DecideHost(clues)
		facts.Apply(&in)
		in.UserPorts, in.Catalog = o.UserPorts, o.Catalog
		if plan.Hosts > 1 || len(cases) > 1 {
			in.Scope = &correlate.Scope{Hosts: plan.Hosts, Cases: len(cases), Host: grp.Host, Collection: grp.Collection,
				Undecided: plan.UndecidedPaths, UndecidedCase: grp.Undecided}
		}
		if grp.Undecided {
			// No verdict uses these artifacts: the case says why, and has
			// no findings.
			out[g] = saved{facts: facts, coverage: []correlate.Coverage{{Check: correlate.CheckHosts,
				Status: correlate.StatusMissing, Reason: correlate.ScopeReason(in.Scope)}}}
			continue
		}
		fs, cov, err := correlate.Analyze(ctx, in)
		if err != nil {
			return err
		}
		out[g] = saved{facts: facts, findings: fs, coverage: cov}
	}
	ids := cw.IDs()
	err = p.do(func() error {
		for g, sv := range out {
			if err := s.SaveFindings(ctx, ids[g], sv.findings, sv.coverage); err != nil {
				return err
			}
			f := sv.facts
			if err := cw.SetHostFacts(ctx, ids[g], store.HostFacts{OSName: f.OSName, TimeZone: f.TimeZone,
				ZoneOffset: f.UTCOffset, HasZone: f.HasUTCOffset, ZoneSource: f.ZoneSource}); err != nil {
				return err
			}
		}
		if err := cw.Commit(ctx); err != nil {
			return err
		}
		committed = true
		// Before the writer goes on: a later bundle of the same content
		// (the bundle given twice) takes these cases as its own.
		return p.obs.Committed(ctx, i, ids)
	})
	if errors.Is(err, store.ErrSuperseded) || (committed && errors.Is(err, store.ErrNotFound)) {
		// Another run on the database committed this bundle's content
		// too, after these cases began (its answer stands) or right after
		// they were committed (it replaced them): its cases are this
		// bundle's result.
		return p.adopt(ctx, r, hash)
	}
	if err != nil {
		return err
	}
	for g, sv := range out {
		grp := plan.Groups[g]
		r.Cases = append(r.Cases, Case{ID: ids[g], Host: grp.Host, Collection: grp.Collection, Undecided: grp.Undecided,
			Findings: sv.findings, Coverage: sv.coverage})
	}
	return nil
}

// splitCase is one case of a bundle as split: its id and its host's
// systeminfo (the last one read), if any.
type splitCase struct {
	id     int64
	system *parsers.SystemFacts
}

// split decides the host of every artifact of the bundle's case and
// splits the case into one case per collection of a host. A bundle of
// several hosts gets a note on each artifact saying how its host was
// decided, and a warning naming the artifacts whose host could not be.
func (p *pipeline) split(ctx context.Context, cw *store.CaseWriter, bundlePath string, arts []ingested) (hostPlan, []splitCase, error) {
	stored, err := p.s.Artifacts(ctx, cw.ID())
	if err != nil {
		return hostPlan{}, nil, err
	}
	// Folder bundles name their files by their path on disk: the folders
	// AssignHosts compares are those inside the bundle.
	in := make([]correlate.HostArtifact, len(stored))
	for i, a := range stored {
		in[i] = correlate.HostArtifact{Path: bundle.Rel(bundlePath, a.Path), Host: a.Host}
	}
	plan := hostPlan{HostPlan: correlate.AssignHosts(in)}
	systems := make(map[int64]*parsers.SystemFacts, len(arts))
	for _, a := range arts {
		if a.a.System != nil {
			systems[a.id] = a.a.System
		}
	}
	parts := make([]store.CasePart, len(plan.Groups))
	cases := make([]splitCase, len(plan.Groups))
	for g, grp := range plan.Groups {
		part := store.CasePart{Host: grp.Host, Collection: grp.Collection, Undecided: grp.Undecided}
		for _, m := range grp.Members {
			id := stored[m].ID
			part.Artifacts = append(part.Artifacts, id)
			if sys := systems[id]; sys != nil {
				cases[g].system = sys
			}
			if plan.Hosts > 1 {
				if part.Notes == nil {
					part.Notes = map[int64]string{}
				}
				part.Notes[id] = "host: " + plan.How[m]
			}
			if grp.Undecided {
				plan.UndecidedPaths = append(plan.UndecidedPaths, stored[m].Path)
			}
		}
		parts[g] = part
	}
	if len(plan.UndecidedPaths) > 0 {
		p.obs.Warning(bundlePath, fmt.Errorf("%s: the bundle holds %d hosts, and %d file(s) name none and sit among several hosts' files: no verdict uses them (%s)",
			bundlePath, plan.Hosts, len(plan.UndecidedPaths), shortList(plan.UndecidedPaths, 3)))
	}
	if err := p.do(func() error { return cw.Split(ctx, parts) }); err != nil {
		return hostPlan{}, nil, err
	}
	for g, id := range cw.IDs() {
		cases[g].id = id
	}
	return plan, cases, nil
}

// hostPlan is correlate's plan with the paths of the undecided artifacts.
type hostPlan struct {
	correlate.HostPlan
	UndecidedPaths []string
}

// shortList joins the first n items and counts the rest.
func shortList(items []string, n int) string {
	s := strings.Join(items[:min(n, len(items))], ", ")
	if len(items) > n {
		s += fmt.Sprintf(" and %d more", len(items)-n)
	}
	return s
}

// knownCase fills r from what the store holds of a bundle already
// analyzed (Options.SkipKnown): ok is false when it has no complete case
// of that content.
func (p *pipeline) knownCase(ctx context.Context, r *Result, hash string) (ok bool, err error) {
	ok, err = p.storedCases(ctx, r, hash)
	r.Known = ok
	return ok, err
}

// adoptTries bounds how often adopt looks again for a bundle's cases that
// yet another run replaced while they were being loaded.
const adoptTries = 5

// adopt fills r with the complete cases another run on the database
// committed for the bundle's content (hash), which replaced this run's.
func (p *pipeline) adopt(ctx context.Context, r *Result, hash string) error {
	var err error
	for range adoptTries {
		var ok bool
		ok, err = p.storedCases(ctx, r, hash)
		if ok {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("bundle %s: %w", hash, store.ErrNotFound)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return fmt.Errorf("cases of the bundle replaced by other runs while being read: %w", err)
}

// storedCases fills r from the complete cases the store holds of a
// bundle's content: ok is false when it has none.
func (p *pipeline) storedCases(ctx context.Context, r *Result, hash string) (ok bool, err error) {
	cs, err := p.s.CasesByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var cases []Case
	var ids []int64
	for _, c := range cs {
		fs, err := p.s.Findings(ctx, c.ID)
		if err != nil {
			return false, err
		}
		cov, err := p.s.Coverage(ctx, c.ID)
		if err != nil {
			return false, err
		}
		cases = append(cases, Case{ID: c.ID, Host: c.Host, Collection: c.Collection, Undecided: c.Undecided, Findings: fs, Coverage: cov})
		ids = append(ids, c.ID)
	}
	if err := p.do(func() error { return p.obs.Committed(ctx, r.Index, ids) }); err != nil {
		return false, err
	}
	r.Cases = cases
	return true, nil
}
