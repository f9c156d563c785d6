package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// maxWarnings bounds the parse errors kept per artifact; the rest are
// only counted in artifacts.warning_count.
const maxWarnings = 200

// ArtifactInfo describes one artifact: what the bundle walk knows (path,
// size, modification time), what detection found (format, encoding) and
// what the caller decided about its capture time. Meta records update
// Locale, Variant, Host and Notes.
type ArtifactInfo struct {
	Path          string
	Format        parsers.Format
	ParserVersion int
	Encoding      parsers.Encoding
	Locale        string
	Variant       string
	Host          string
	Size          int64
	SHA256        string
	ModTime       time.Time
	ModTimeSource parsers.CaptureSource
	// ModTimeLocal says ModTime is the host's wall-clock time, given with
	// the UTC location. A zip DOS time (ModTimeSource zip-dos-local) is
	// one whether or not the flag is given. Read back, it is set only
	// while the host's zone is unknown: Commit converts the time to UTC
	// when the case's zone is known.
	ModTimeLocal bool
	// CapturedAt is when the artifact was collected. CapturedLocal says it
	// is the host's wall-clock time (a zip DOS time, a `%date% %time%`
	// line), given with the UTC location; CaptureSource says where it came
	// from (see correlate.Snapshot). Read back, CapturedLocal is set only
	// while the host's zone is unknown: CaseWriter.Commit converts a local
	// capture time to UTC with the case's zone and clears the flag.
	CapturedAt    time.Time
	CapturedLocal bool
	CaptureSource parsers.CaptureSource
	Notes         []string
	// Records and WarningCount are counted by the ArtifactWriter; the
	// values given to AddArtifact are ignored.
	Records      int
	WarningCount int
}

// Artifact is a stored artifact with the parse errors kept for it.
type Artifact struct {
	ID     int64
	CaseID int64
	ArtifactInfo
	// Warnings are the first parse errors (at most 200); WarningCount
	// counts them all.
	Warnings []Warning
	// Lost counts the parse errors that lost records of the artifact: all
	// of them but those about an event log's slack space
	// (parsers.SlackPrefix), which hold no live record.
	Lost int
}

// lostSQL is Artifact.Lost of the artifact row a: its warning count less
// its kept slack errors (an error past the first 200 counts as lost).
// Its two parameters are len(parsers.SlackPrefix) and the prefix.
const lostSQL = `a.warning_count - (SELECT count(*) FROM parse_errors p
	WHERE p.artifact_id = a.id AND substr(p.message, 1, ?) = ?)`

// lostArgs are lostSQL's parameters.
func lostArgs() []any { return []any{len(parsers.SlackPrefix), parsers.SlackPrefix} }

// Warning is a kept parse error: where, and the message without the
// artifact's path.
type Warning struct {
	Line    int
	Offset  int64
	Message string
}

// ArtifactWriter inserts the records of one artifact in one transaction,
// with prepared statements and multi-row batches. It is not safe for
// concurrent use. The first error it meets is kept: every later call
// returns it, and the transaction is rolled back. Call Commit, or Rollback
// (which is safe after Commit, so it can be deferred).
type ArtifactWriter struct {
	c    *CaseWriter
	ctx  context.Context
	tx   *sql.Tx
	id   int64
	info ArtifactInfo
	err  error
	done bool

	sockets, processes, ranges, servicePorts, warnings, events *batch
	eventRow, failure, boot                                    *sql.Stmt
	counts                                                     map[eventKey]int64
}

// AddArtifact starts the transaction for one artifact and inserts its
// row. ctx governs the whole transaction: when it is cancelled the
// transaction is rolled back and every later call fails. A case writes one
// artifact at a time.
func (c *CaseWriter) AddArtifact(ctx context.Context, info ArtifactInfo) (*ArtifactWriter, error) {
	if c.closed {
		return nil, ErrClosed
	}
	if c.open != nil {
		return nil, ErrArtifactOpen
	}
	tx, err := c.s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("add artifact %s: %w", info.Path, err)
	}
	info.Records, info.WarningCount = 0, 0
	a := &ArtifactWriter{c: c, ctx: ctx, tx: tx, info: info}
	info.ModTimeLocal = info.ModTimeLocal || info.ModTimeSource == parsers.CaptureZipDOS
	a.info = info
	mtime, mtimeLocal := timeArgs(info.ModTime, info.ModTimeLocal)
	captured, capturedLocal := timeArgs(info.CapturedAt, info.CapturedLocal)
	notes, err := jsonText(info.Notes)
	if err == nil {
		err = tx.QueryRowContext(ctx,
			`INSERT INTO artifacts (case_id, path, format, parser_version, encoding, locale, variant, host,
			size, sha256, mtime, mtime_local, mtime_source, captured_at, captured_at_local, captured_local,
			capture_source, notes)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.ID(), info.Path, string(info.Format), info.ParserVersion, string(info.Encoding), info.Locale,
			info.Variant, info.Host, info.Size, info.SHA256, mtime, mtimeLocal, info.ModTimeSource,
			captured, capturedLocal, info.CapturedLocal, info.CaptureSource, notes).Scan(&a.id)
	}
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("add artifact %s: %w", info.Path, err)
	}
	a.sockets = newBatch(tx, "sockets", socketColumns...)
	a.processes = newBatch(tx, "processes", "artifact_id", "line", "pid", "image", "services", "truncated")
	a.ranges = newBatch(tx, "port_ranges", "artifact_id", "line", "kind", "proto", "ip_version", "start_port", "end_port", "administered")
	a.servicePorts = newBatch(tx, "service_ports", "artifact_id", "line", "name", "port", "proto", "aliases")
	a.warnings = newBatch(tx, "parse_errors", "artifact_id", "line", "byte_offset", "message")
	a.events = newBatch(tx, "events", eventColumns...)
	c.open = a
	return a, nil
}

// ID is the artifact's id (the correlate.Snapshot ID of a socket listing).
func (a *ArtifactWriter) ID() int64 { return a.id }

// usable returns the error a call must return before it writes: the
// first error kept, ErrClosed after Commit or Rollback, or the context's
// (which fails the artifact).
func (a *ArtifactWriter) usable() error {
	if a.err != nil {
		return a.err
	}
	if a.done {
		return ErrClosed
	}
	if err := a.ctx.Err(); err != nil {
		return a.fail(err)
	}
	return nil
}

// fail keeps the first error and rolls the transaction back.
func (a *ArtifactWriter) fail(err error) error {
	if a.err == nil {
		a.err = fmt.Errorf("artifact %s: %w", a.info.Path, err)
		a.finish()
		a.tx.Rollback()
	}
	return a.err
}

// finish releases the case for its next artifact.
func (a *ArtifactWriter) finish() {
	a.done = true
	if a.c.open == a {
		a.c.open = nil
	}
}

// Add stores one record as its kind says. A Meta record updates the
// artifact row (at Commit); every other kind counts in artifacts.records.
// Events go through AddEvent (stored) or EventCounts (only counted).
func (a *ArtifactWriter) Add(rec parsers.Record) error {
	if err := a.usable(); err != nil {
		return err
	}
	var err error
	switch {
	case rec.Kind == parsers.KindMeta && rec.Meta != nil:
		a.addMeta(rec.Meta)
		return nil
	case rec.Kind == parsers.KindSocket && rec.Socket != nil:
		err = a.addSocket(rec.Line, rec.Socket)
	case rec.Kind == parsers.KindProcess && rec.Process != nil:
		p := rec.Process
		err = a.processes.add(a.ctx, a.id, rec.Line, p.PID, p.Image, joinList(p.Services), p.Truncated)
	case rec.Kind == parsers.KindPortRange && rec.PortRange != nil:
		r := rec.PortRange
		err = a.ranges.add(a.ctx, a.id, rec.Line, r.Kind, string(r.Proto), r.IPVersion, r.Start, r.End, r.Administered)
	case rec.Kind == parsers.KindServicePort && rec.ServicePort != nil:
		p := rec.ServicePort
		err = a.servicePorts.add(a.ctx, a.id, rec.Line, p.Name, p.Port, string(p.Proto), joinList(p.Aliases))
	case rec.Kind == parsers.KindEvent:
		err = errors.New("an event goes through AddEvent, with what correlate decoded from it")
	default:
		err = fmt.Errorf("record of kind %q without its payload", rec.Kind)
	}
	if err != nil {
		return a.fail(err)
	}
	a.info.Records++
	return nil
}

// addMeta merges what the artifact says about itself, as parsers.Artifact
// does. Its capture time is not taken here: the caller decides the
// capture time (correlate.CaptureTime) and sets it with SetCapture.
func (a *ArtifactWriter) addMeta(m *parsers.Meta) {
	if m.Locale != "" {
		a.info.Locale = m.Locale
	}
	if m.Variant != "" {
		a.info.Variant = m.Variant
	}
	if m.Host != "" {
		a.info.Host = m.Host
	}
	if m.Note != "" {
		a.info.Notes = append(a.info.Notes, m.Note)
	}
}

// AddError records a parse error: the first 200 are kept in parse_errors,
// all are counted in artifacts.warning_count.
func (a *ArtifactWriter) AddError(pe *parsers.ParseError) error {
	if err := a.usable(); err != nil {
		return err
	}
	a.info.WarningCount++
	if a.info.WarningCount > maxWarnings || pe == nil {
		return nil
	}
	msg := ""
	if pe.Err != nil {
		msg = pe.Err.Error()
	}
	if err := a.warnings.add(a.ctx, a.id, pe.Line, pe.Offset, msg); err != nil {
		return a.fail(err)
	}
	return nil
}

// SetCapture sets the artifact's capture time before Commit, for callers
// that learn it while the records stream (a timestamp line whose date
// order the artifact's locale settles).
func (a *ArtifactWriter) SetCapture(at time.Time, local bool, source parsers.CaptureSource) {
	a.info.CapturedAt, a.info.CapturedLocal, a.info.CaptureSource = at, local, source
}

// SetSHA256 sets the artifact's content hash (hex), when it is known only
// once the artifact is read.
func (a *ArtifactWriter) SetSHA256(hex string) { a.info.SHA256 = hex }

// Commit inserts what is still batched, the event counts and the final
// artifact row (counters and Meta facts), and commits the transaction.
func (a *ArtifactWriter) Commit() error {
	if a.err != nil {
		return a.err
	}
	if a.done {
		return ErrClosed
	}
	if err := a.commit(); err != nil {
		return a.fail(err)
	}
	a.finish()
	return nil
}

func (a *ArtifactWriter) commit() error {
	for _, b := range []*batch{a.sockets, a.processes, a.ranges, a.servicePorts, a.warnings, a.events} {
		if err := b.flush(a.ctx); err != nil {
			return err
		}
	}
	if err := a.flushCounts(); err != nil {
		return err
	}
	i := a.info
	notes, err := jsonText(i.Notes)
	if err != nil {
		return err
	}
	captured, capturedLocal := timeArgs(i.CapturedAt, i.CapturedLocal)
	if _, err := a.tx.ExecContext(a.ctx,
		`UPDATE artifacts SET locale = ?, variant = ?, host = ?, captured_at = ?, captured_at_local = ?,
		captured_local = ?, capture_source = ?, notes = ?, records = ?, warning_count = ?, sha256 = ? WHERE id = ?`,
		i.Locale, i.Variant, i.Host, captured, capturedLocal, i.CapturedLocal, i.CaptureSource, notes,
		i.Records, i.WarningCount, i.SHA256, a.id); err != nil {
		return err
	}
	return a.tx.Commit()
}

// Rollback abandons the artifact. It is a no-op after Commit or a failure.
func (a *ArtifactWriter) Rollback() error {
	if a.done {
		return nil
	}
	a.finish()
	if err := a.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("artifact %s: rollback: %w", a.info.Path, err)
	}
	return nil
}

// Artifacts lists the artifacts of a case in ingest order, each with its
// kept parse errors.
func (s *Store) Artifacts(ctx context.Context, caseID int64) ([]Artifact, error) {
	out, err := s.artifacts(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("artifacts of case %d: %w", caseID, err)
	}
	return out, nil
}

func (s *Store) artifacts(ctx context.Context, caseID int64) ([]Artifact, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT a.id, a.case_id, a.path, a.format, a.parser_version, a.encoding, a.locale, a.variant, a.host,
		a.size, a.sha256, COALESCE(a.mtime, a.mtime_local), a.mtime_local IS NOT NULL, a.mtime_source,
		COALESCE(a.captured_at, a.captured_at_local), a.captured_local, a.capture_source, a.notes,
		a.records, a.warning_count, `+lostSQL+`
		FROM artifacts a WHERE a.case_id = ? ORDER BY a.id`, append(lostArgs(), caseID)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Artifact
	byID := map[int64]int{}
	for rows.Next() {
		var a Artifact
		var format, enc, notes string
		var mtime, captured sql.NullString
		if err := rows.Scan(&a.ID, &a.CaseID, &a.Path, &format, &a.ParserVersion, &enc, &a.Locale, &a.Variant,
			&a.Host, &a.Size, &a.SHA256, &mtime, &a.ModTimeLocal, &a.ModTimeSource, &captured, &a.CapturedLocal,
			&a.CaptureSource, &notes, &a.Records, &a.WarningCount, &a.Lost); err != nil {
			return nil, err
		}
		a.Format, a.Encoding = parsers.Format(format), parsers.Encoding(enc)
		if a.ModTime, err = parseStoredTime(mtime); err != nil {
			return nil, err
		}
		if a.CapturedAt, err = parseStoredTime(captured); err != nil {
			return nil, err
		}
		if err := parseJSONList(notes, &a.Notes); err != nil {
			return nil, err
		}
		byID[a.ID] = len(out)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx,
		`SELECT p.artifact_id, p.line, p.byte_offset, p.message FROM parse_errors p
		JOIN artifacts a ON a.id = p.artifact_id WHERE a.case_id = ? ORDER BY p.id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var w Warning
		if err := rows.Scan(&id, &w.Line, &w.Offset, &w.Message); err != nil {
			return nil, err
		}
		if i, ok := byID[id]; ok {
			out[i].Warnings = append(out[i].Warnings, w)
		}
	}
	return out, rows.Err()
}
