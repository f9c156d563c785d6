package ingest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/bundle"
	"github.com/portmortem/portmortem/store"
)

// How a run goes in parallel (Options.Jobs = N):
//
//   - up to N bundles are walked at once, each by its own goroutine;
//   - every artifact is parsed by a goroutine holding one of N parse slots
//     shared by all bundles, so at most N artifacts are parsed at once;
//   - one writer goroutine owns every write to the store (SQLite has one
//     writer): it runs the writes it is handed one after the other, and
//     writes an artifact as a whole, in one transaction, before the next.
//
// A parser streams its records to the writer in chunks of chunkRecords
// through a channel of chunkBuffer chunks, so memory is bounded by N ×
// (chunkBuffer + 2) chunks whatever the artifacts' sizes. Each event is
// decoded once, by the parser's goroutine (an eventFilter); the events
// the store would only count are counted there and never reach the
// writer: an event log sends it a few hundred records, not millions, each
// with what was decoded from it. The writer writes one artifact at a
// time, waiting for its parser when it gets there first; the other
// parsers go on meanwhile, and only one that outruns the writer by
// chunkBuffer chunks (a netstat of a million rows) waits for it. The walk
// hands each artifact's file over to its parser with Entry.Keep (an
// archive member's temporary copy lives until the parse is done) and
// submits the artifact's write to the writer in walk order before it goes
// on: a case's artifacts are stored in the order Jobs = 1 stores them,
// and the writer always waits on a parser that is running, never on one
// that waits for a slot. Correlation reads the committed case and runs in
// the bundle's goroutine; only its results go through the writer.
const (
	chunkRecords = 4096
	chunkBuffer  = 16
)

// pipeline is the shared state of one run.
type pipeline struct {
	s      *store.Store
	o      *Options
	obs    Observer
	prog   *Progress
	writes chan func()   // run in order by the writer goroutine
	slots  chan struct{} // parse slots
	// begun[i] is closed once bundle i has its case (or will have none):
	// cases begin in argument order, so their ids, which reports follow,
	// are those of Jobs = 1.
	begun []chan struct{}
}

// halt keeps a bundle's first write error; the bundle's walk and parsers
// stop on it. (Not a derived context: callers interrupt through a context
// whose Err alone reports the cancellation.)
type halt struct{ p atomic.Pointer[error] }

func (h *halt) set(err error) { h.p.CompareAndSwap(nil, &err) }

func (h *halt) err() error {
	if e := h.p.Load(); e != nil {
		return *e
	}
	return nil
}

// writer runs the writes until p.writes is closed, then closes done.
func (p *pipeline) writer(done chan<- struct{}) {
	for f := range p.writes {
		f()
	}
	close(done)
}

// do runs f on the writer goroutine and waits for it.
func (p *pipeline) do(f func() error) error {
	errc := make(chan error, 1)
	p.writes <- func() { errc <- f() }
	return <-errc
}

// item is one parse result: a record (an event with what was decoded from
// it) or a parse error.
type item struct {
	rec parsers.Record
	dec correlate.Decoded
	pe  *parsers.ParseError
}

// chunk is a batch of an artifact's parse results. The last chunk of an
// artifact parsed to its end carries its capture time; an artifact whose
// channel closes without one is rolled back.
type chunk struct {
	items   []item
	end     *capture
	counted *store.EventCounts // in the last chunk: the events counted, not sent
}

type capture struct {
	at     time.Time
	local  bool
	source parsers.CaptureSource
	sha256 string // the artifact's content hash, hex
}

// pending is an artifact handed to a parser and to the writer.
type pending struct {
	a    *parsers.Artifact // nil for a refused entry
	id   *int64            // its row's id, set by the write before done
	done chan error        // the write's outcome
}

// ingested is an artifact stored: its row's id and what was read of it.
type ingested struct {
	id int64
	a  *parsers.Artifact
}

// ingest walks a bundle and stores its artifacts into cw, parsing them in
// parallel. It returns once every artifact it started is written or rolled
// back, with the artifacts read in walk order. The first write error
// stops the rest of the bundle. A file the walk refuses is stored as an
// artifact of format parsers.FormatRefused, with the reason as its note;
// a damaged member the walk yields after its error gets the error as a
// note instead.
func (p *pipeline) ingest(ctx context.Context, cw *store.CaseWriter, bundlePath string, onDisk *atomic.Int64) ([]ingested, error) {
	h := &halt{}
	var pend []pending
	submit := func(write func() error) chan error {
		done := make(chan error, 1)
		p.writes <- func() {
			err := write()
			if err != nil {
				h.set(err)
			}
			done <- err
		}
		return done
	}
	// refused holds the walk's errors until the next entry: a damaged
	// member is yielded after its error, which then becomes the member's
	// note; every other error becomes a refused artifact, in walk order.
	var refused []*bundle.Error
	flush := func(keep string) (notes []string) {
		for _, be := range refused {
			if be.Path == keep {
				notes = append(notes, be.Err.Error())
				continue
			}
			info := store.ArtifactInfo{Path: be.Path, Format: parsers.FormatRefused, Notes: []string{be.Err.Error()}}
			pend = append(pend, pending{done: submit(func() error { _, err := writeRefused(ctx, cw, info); return err })})
		}
		refused = refused[:0]
		return notes
	}
	walkErr := func() error {
		for entry, err := range bundle.Walk(ctx, bundlePath, p.o.Limits) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if h.err() != nil {
				return nil
			}
			if err != nil {
				p.obs.Warning(bundlePath, err)
				var be *bundle.Error
				if errors.As(err, &be) {
					refused = append(refused, be)
				}
				continue
			}
			a, seq := parsers.Read(ctx, entry.Name, entry.File, "")
			if a.Format == parsers.FormatUnknown {
				flush("") // a damaged member read as nothing: its error is the row
				continue
			}
			notes := flush(entry.Name)
			select {
			case p.slots <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			release, _ := entry.Keep() // in its yield: always kept
			chunks := make(chan chunk, chunkBuffer)
			go func() {
				defer func() { <-p.slots }()
				p.parse(ctx, h, entry, a, seq, release, chunks, onDisk)
			}()
			info := store.ArtifactInfo{
				Path: entry.Name, Format: a.Format, ParserVersion: a.ParserVersion, Encoding: a.Encoding,
				Size: entry.Size, ModTime: entry.ModTime, ModTimeSource: entry.ModTimeSource, Notes: notes,
			}
			id := new(int64)
			pend = append(pend, pending{a: a, id: id, done: submit(func() (err error) {
				*id, err = writeArtifact(ctx, h, cw, info, chunks)
				return err
			})})
		}
		if ctx.Err() == nil && h.err() == nil {
			flush("")
		}
		return ctx.Err()
	}()
	var arts []ingested
	var first error
	for _, pd := range pend {
		err := <-pd.done
		if err != nil && first == nil {
			first = err
		}
		if pd.a != nil && err == nil {
			arts = append(arts, ingested{id: *pd.id, a: pd.a})
		}
	}
	if first == nil {
		first = walkErr
	}
	return arts, first
}

// parse streams an artifact's records to out in chunks, then releases its
// file. Cancellation or a halt ends the artifact without a capture
// time: the writer rolls it back.
func (p *pipeline) parse(ctx context.Context, h *halt, entry bundle.Entry, a *parsers.Artifact, seq func(func(parsers.Record, error) bool), release func(), out chan<- chunk, onDisk *atomic.Int64) {
	defer close(out)
	buf := make([]item, 0, chunkRecords)
	filter := &eventFilter{keepAll: p.o.KeepAllEvents}
	parsed := 0 // records not yet counted in the progress
	// Bytes counted so far: a binary artifact's records carry their
	// offset, so its MB advance while it is parsed, not only at its end.
	var counted, upto int64
	advance := func(to int64) {
		if to = min(to, entry.Size); to > counted {
			p.prog.Bytes.Add(to - counted)
			if entry.Depth == 0 {
				onDisk.Add(to - counted)
				p.prog.InputDone.Add(to - counted)
			}
			counted = to
		}
	}
	for rec, err := range seq {
		if h.err() != nil {
			break
		}
		upto = max(upto, rec.Offset)
		if parsed++; parsed == chunkRecords {
			p.prog.Records.Add(int64(parsed))
			parsed = 0
			advance(upto)
		}
		it := item{rec: rec}
		switch {
		case err != nil:
			// parsers.Read yields every error as a *parsers.ParseError.
			pe := &parsers.ParseError{Format: a.Format, Path: entry.Name, Err: err}
			errors.As(err, &pe)
			it = item{pe: pe}
		case rec.Kind == parsers.KindEvent && rec.Event != nil:
			var pass bool
			if it.dec, pass = filter.pass(rec.Event); !pass {
				continue
			}
		}
		buf = append(buf, it)
		if len(buf) == chunkRecords {
			out <- chunk{items: buf}
			buf = make([]item, 0, chunkRecords)
		}
	}
	p.prog.Records.Add(int64(parsed))
	if ctx.Err() != nil || h.err() != nil {
		release()
		return
	}
	// Hashed after the parse, while the file is in the page cache: a
	// report names each artifact with its SHA-256 (chain of custody).
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(entry.File, 0, entry.Size)); err != nil {
		sum = nil
	}
	release()
	c := &capture{}
	if sum != nil {
		c.sha256 = hex.EncodeToString(sum.Sum(nil))
	}
	c.at, c.local, c.source = correlate.CaptureTime(p.o.Captures, correlate.CaptureClues{
		Name: entry.Name, Stated: a.CapturedAt, StatedLocal: a.CapturedLocal, StatedSource: a.CaptureSource,
		ModTime: entry.ModTime, ModTimeSource: entry.ModTimeSource,
	})
	out <- chunk{items: buf, end: c, counted: &filter.counted}
	p.prog.Artifacts.Add(1)
	advance(entry.Size)
}

// writeArtifact stores one artifact from its parser's chunks, in one
// transaction, and returns its id. It always reads in to its end, so the
// parser never blocks.
func writeArtifact(ctx context.Context, h *halt, cw *store.CaseWriter, info store.ArtifactInfo, in <-chan chunk) (int64, error) {
	aw, err := cw.AddArtifact(ctx, info)
	ended := false
	for c := range in {
		if err != nil {
			continue
		}
		for _, it := range c.items {
			switch {
			case it.pe != nil:
				err = aw.AddError(it.pe)
			case it.rec.Kind == parsers.KindEvent:
				err = aw.AddEvent(it.rec.Line, it.rec.Offset, it.rec.Event, it.dec)
			default:
				err = aw.Add(it.rec)
			}
			if err != nil {
				break
			}
		}
		if err == nil && c.end != nil {
			aw.SetCapture(c.end.at, c.end.local, c.end.source)
			aw.SetSHA256(c.end.sha256)
			err = aw.AddCounts(c.counted)
			ended = err == nil
		}
	}
	switch {
	case aw == nil:
		return 0, err
	case err == nil && !ended:
		cause := cmp.Or(h.err(), ctx.Err(), errors.New("parser stopped"))
		err = fmt.Errorf("%s: not parsed to its end: %w", info.Path, cause)
	case err == nil:
		return aw.ID(), aw.Commit()
	}
	aw.Rollback()
	return 0, err
}

// writeRefused stores a file the walk did not read.
func writeRefused(ctx context.Context, cw *store.CaseWriter, info store.ArtifactInfo) (int64, error) {
	aw, err := cw.AddArtifact(ctx, info)
	if err != nil {
		return 0, err
	}
	return aw.ID(), aw.Commit()
}
