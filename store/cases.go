package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Case statuses.
const (
	StatusIngesting = "ingesting"
	StatusComplete  = "complete"
)

// CaseInfo says which bundle a new case holds.
type CaseInfo struct {
	// BundleHash is the bundle's content hash: the key that makes a re-run
	// replace the earlier case instead of adding one.
	BundleHash string
	BundlePath string
	// Host names the host when the caller knows it; otherwise Commit takes
	// the host most artifacts name, or the computer most stored events name.
	Host string
}

// Case is a stored case, as Cases and CaseByHash return it.
type Case struct {
	ID           int64
	BundleHash   string
	BundlePath   string
	Host         string
	Status       string
	CreatedAt    time.Time
	CompletedAt  time.Time
	OSVersion    string
	UTCOffset    time.Duration
	HasUTCOffset bool
}

// CaseWriter ingests one case: its artifacts are added one transaction
// each, and Commit makes the case visible as complete. Until then the case
// is in status 'ingesting', and Abort, PurgeIncomplete or the next Open
// delete it. It is not safe for concurrent use.
type CaseWriter struct {
	s      *Store
	id     int64
	info   CaseInfo
	open   *ArtifactWriter // the artifact being written, if any
	closed bool
}

// BeginCase creates a case in status 'ingesting'.
func (s *Store) BeginCase(ctx context.Context, info CaseInfo) (*CaseWriter, error) {
	if info.BundleHash == "" {
		return nil, errors.New("begin case: empty bundle hash")
	}
	var id int64
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO cases (bundle_hash, bundle_path, host, status, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`,
		info.BundleHash, info.BundlePath, info.Host, StatusIngesting, formatTime(s.now())).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("begin case: %w", err)
	}
	return &CaseWriter{s: s, id: id, info: info}, nil
}

// ID is the case's id.
func (c *CaseWriter) ID() int64 { return c.id }

// Commit marks the case complete, fills in its host, OS version and UTC
// offset from what was ingested, and, in the same transaction, deletes
// every older case of the same bundle hash (a newer one still ingesting is
// left alone). Afterwards the writer is closed.
func (c *CaseWriter) Commit(ctx context.Context) error {
	if c.closed {
		return ErrClosed
	}
	if c.open != nil {
		return ErrArtifactOpen
	}
	if err := c.commit(ctx); err != nil {
		return fmt.Errorf("commit case %d: %w", c.id, err)
	}
	c.closed = true
	return nil
}

func (c *CaseWriter) commit(ctx context.Context) error {
	tx, err := c.s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Written first: the unique index allows one complete case per hash,
	// and a write first takes the lock before the reads below. The status
	// is a literal, not a parameter: SQLite 3.54.1 fails to plan
	// "h = ? AND (status = ? OR id < ?)" next to the partial index on
	// status = 'complete' ("internal query planner error").
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM cases WHERE bundle_hash = ? AND id <> ? AND (status = 'complete' OR id < ?)`,
		c.info.BundleHash, c.id, c.id); err != nil {
		return err
	}
	f, err := caseFacts(ctx, tx, c.id)
	if err != nil {
		return err
	}
	host := c.info.Host
	if host == "" {
		host = f.host
	}
	res, err := tx.ExecContext(ctx,
		`UPDATE cases SET status = ?, completed_at = ?, host = ?, os_version = ?, utc_offset_seconds = ?
		WHERE id = ? AND status = ?`,
		StatusComplete, formatTime(c.s.now()), host, f.osVersion, offsetArg(f.utcOffset, f.hasOffset),
		c.id, StatusIngesting)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("case is gone (purged by another run?): %w", ErrNotFound)
	}
	return tx.Commit()
}

// Abort rolls back the artifact being written, if any, and deletes the
// case with everything ingested into it. It runs even when ctx is already
// cancelled (it is the cleanup after a cancelled ingest); ctx's values are
// kept. Afterwards the writer is closed.
func (c *CaseWriter) Abort(ctx context.Context) error {
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	if c.open != nil {
		errs = append(errs, c.open.Rollback())
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*busyTimeout)
	defer cancel()
	if _, err := c.s.db.ExecContext(ctx, "DELETE FROM cases WHERE id = ?", c.id); err != nil {
		errs = append(errs, fmt.Errorf("abort case %d: %w", c.id, err))
	}
	return errors.Join(errs...)
}

// PurgeIncomplete deletes the cases an interrupted run left in status
// 'ingesting', with everything ingested into them, and says how many.
// Open calls it: a database has one writing process at a time (the
// portmortem run that opened it), so a case still ingesting when the file
// is opened belongs to a run that is gone.
func (s *Store) PurgeIncomplete(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM cases WHERE status = ?", StatusIngesting)
	if err != nil {
		return 0, fmt.Errorf("purge incomplete cases: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge incomplete cases: %w", err)
	}
	return n, nil
}

const caseColumns = `id, bundle_hash, bundle_path, host, status, created_at, completed_at, os_version, utc_offset_seconds`

func scanCase(row interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var created, completed sql.NullString
	var off sql.NullInt64
	if err := row.Scan(&c.ID, &c.BundleHash, &c.BundlePath, &c.Host, &c.Status, &created, &completed, &c.OSVersion, &off); err != nil {
		return Case{}, err
	}
	var err error
	if c.CreatedAt, err = parseTime(created); err != nil {
		return Case{}, err
	}
	if c.CompletedAt, err = parseTime(completed); err != nil {
		return Case{}, err
	}
	c.UTCOffset, c.HasUTCOffset = scanOffset(off)
	return c, nil
}

// Cases lists every case, in any status, oldest first.
func (s *Store) Cases(ctx context.Context) ([]Case, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+caseColumns+" FROM cases ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return out, nil
}

// CaseByHash returns the complete case of a bundle, or ErrNotFound.
func (s *Store) CaseByHash(ctx context.Context, hash string) (Case, error) {
	c, err := scanCase(s.db.QueryRowContext(ctx,
		"SELECT "+caseColumns+" FROM cases WHERE bundle_hash = ? AND status = ?", hash, StatusComplete))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, fmt.Errorf("case of bundle %s: %w", hash, ErrNotFound)
	}
	if err != nil {
		return Case{}, fmt.Errorf("case of bundle %s: %w", hash, err)
	}
	return c, nil
}

// caseByID returns a case in any status, or ErrNotFound.
func caseByID(ctx context.Context, q querier, id int64) (Case, error) {
	c, err := scanCase(q.QueryRowContext(ctx, "SELECT "+caseColumns+" FROM cases WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	return c, err
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// facts are what a case's artifacts say about its host.
type facts struct {
	host      string
	osVersion string
	utcOffset time.Duration
	hasOffset bool
}

// caseFacts finds the host (named by most artifacts, else by most stored
// events), the OS version (the latest 6009) and the UTC offset (the
// latest 6008) of a case.
func caseFacts(ctx context.Context, q querier, caseID int64) (facts, error) {
	var f facts
	err := q.QueryRowContext(ctx,
		`SELECT host FROM artifacts WHERE case_id = ? AND host <> ''
		GROUP BY host ORDER BY COUNT(*) DESC, host LIMIT 1`, caseID).Scan(&f.host)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, err
	}
	if f.host == "" {
		err = q.QueryRowContext(ctx,
			`SELECT e.computer FROM events e JOIN artifacts a ON a.id = e.artifact_id
			WHERE a.case_id = ? AND e.computer <> ''
			GROUP BY e.computer ORDER BY COUNT(*) DESC, e.computer LIMIT 1`, caseID).Scan(&f.host)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return f, err
		}
	}
	err = q.QueryRowContext(ctx,
		`SELECT b.os_version FROM boots b JOIN artifacts a ON a.id = b.artifact_id
		WHERE a.case_id = ? AND b.os_version <> '' AND b.event_time IS NOT NULL
		ORDER BY b.event_time DESC, b.id DESC LIMIT 1`, caseID).Scan(&f.osVersion)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, err
	}
	var off sql.NullInt64
	err = q.QueryRowContext(ctx,
		`SELECT b.utc_offset_seconds FROM boots b JOIN artifacts a ON a.id = b.artifact_id
		WHERE a.case_id = ? AND b.utc_offset_seconds IS NOT NULL AND b.event_time IS NOT NULL
		ORDER BY b.event_time DESC, b.id DESC LIMIT 1`, caseID).Scan(&off)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, err
	}
	f.utcOffset, f.hasOffset = scanOffset(off)
	return f, nil
}
