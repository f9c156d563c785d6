package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portmortem/portmortem/correlate"
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
	// Committed is called right after bundle i's case was committed (or,
	// with SkipKnown, found), before any later write: the case read then
	// is the case as committed, even if a later bundle of the same
	// content replaces it. An error fails bundle i.
	Committed(ctx context.Context, i int, caseID int64) error
	// Done receives each bundle's result in argument order, as soon as it
	// and every bundle before it are finished. An error stops the run: no
	// further bundle is started, and Run returns it.
	Done(r Result) error
}

// Result is what one bundle gave.
type Result struct {
	Index  int    // its place among Run's bundles
	Bundle string // its path as given
	CaseID int64
	// Known says the bundle was not read again (Options.SkipKnown): its
	// findings are those stored.
	Known    bool
	Findings []correlate.Finding
	Coverage []correlate.Coverage
	// Err is why the bundle could not be analyzed; the run goes on with
	// the others. It is ErrNoArtifact when the path holds nothing portmortem
	// reads (not a bundle, or an empty one).
	Err error
}

// Run analyzes each bundle into s as one case: it walks the bundle,
// stores its artifacts, decides the host facts and the capture times,
// correlates the case, saves its findings and commits it. Bundles run in
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
		cw, err = s.BeginCase(ctx, store.CaseInfo{BundleHash: hash, BundlePath: bundlePath})
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
	clues := correlate.HostClues{Offset: o.Offset}
	for _, a := range arts {
		if a.System != nil {
			clues.System = a.System
		}
	}
	// The case is committed with its findings: an interrupted run leaves
	// neither a half-ingested case nor a case without findings.
	in, err := s.Input(ctx, cw.ID())
	if err != nil {
		return err
	}
	clues.Logs = in
	facts := correlate.DecideHost(clues)
	facts.Apply(&in)
	in.UserPorts, in.Catalog = o.UserPorts, o.Catalog
	fs, cov, err := correlate.Analyze(ctx, in)
	if err != nil {
		return err
	}
	err = p.do(func() error {
		if err := s.SaveFindings(ctx, cw.ID(), fs, cov); err != nil {
			return err
		}
		if err := cw.SetHostFacts(ctx, store.HostFacts{OSName: facts.OSName, TimeZone: facts.TimeZone,
			ZoneOffset: facts.UTCOffset, HasZone: facts.HasUTCOffset, ZoneSource: facts.ZoneSource}); err != nil {
			return err
		}
		if err := cw.Commit(ctx); err != nil {
			return err
		}
		committed = true
		// Before the writer goes on: a later case of the same content
		// (the bundle given twice) replaces this one.
		return p.obs.Committed(ctx, i, cw.ID())
	})
	if err != nil {
		return err
	}
	r.CaseID, r.Findings, r.Coverage = cw.ID(), fs, cov
	return nil
}

// knownCase fills r from what the store holds of a bundle already
// analyzed (Options.SkipKnown): ok is false when it has no complete case
// of that content.
func (p *pipeline) knownCase(ctx context.Context, r *Result, hash string) (ok bool, err error) {
	c, err := p.s.CaseByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	fs, err := p.s.Findings(ctx, c.ID)
	if err != nil {
		return false, err
	}
	cov, err := p.s.Coverage(ctx, c.ID)
	if err != nil {
		return false, err
	}
	if err := p.do(func() error { return p.obs.Committed(ctx, r.Index, c.ID) }); err != nil {
		return false, err
	}
	r.CaseID, r.Known, r.Findings, r.Coverage = c.ID, true, fs, cov
	return true, nil
}
