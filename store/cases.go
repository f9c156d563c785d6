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
	Provenance
}

// Provenance is what made a case: the program, the flags that change
// results and the port catalog.
type Provenance struct {
	// ToolVersion is the portmortem build: "v1.2.0", "devel 41b9b4a+dirty".
	ToolVersion string
	// Options are the flags that change results, as given, "" for none.
	Options string
	// CatalogVersion names the port catalog (correlate.Catalog.Version).
	CatalogVersion string
}

// Case is a stored case, as Cases and CasesByHash return it.
type Case struct {
	ID         int64
	BundleHash string
	BundlePath string
	Host       string
	// Collection is the folder or archive of the bundle that holds the
	// case's artifacts, "" for the whole bundle (see CasePart).
	Collection string
	// Undecided marks the case of a bundle's artifacts whose host could
	// not be decided: no verdict uses them.
	Undecided    bool
	Provenance   Provenance
	Status       string
	CreatedAt    time.Time
	CompletedAt  time.Time
	OSVersion    string
	UTCOffset    time.Duration
	HasUTCOffset bool
}

// PurgeIncomplete deletes the cases an interrupted run left in status
// 'ingesting', with everything ingested into them, and says how many.
// Open calls it. A case still ingesting belongs to a run that is gone when
// its owner process (cases.owner_pid) no longer runs on this machine, or
// when it has no owner (written before owners were recorded). The cases
// of live runs — another analyze on the same file, this process's own —
// and those of other machines (a database on a shared folder: their
// processes cannot be seen from here) are left alone.
func (s *Store) PurgeIncomplete(ctx context.Context) (int64, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, owner_pid, owner_host FROM cases WHERE status = ?", StatusIngesting)
	if err != nil {
		return 0, fmt.Errorf("purge incomplete cases: %w", err)
	}
	var gone []int64
	for rows.Next() {
		var id, pid int64
		var host string
		if err := rows.Scan(&id, &pid, &host); err != nil {
			rows.Close()
			return 0, fmt.Errorf("purge incomplete cases: %w", err)
		}
		if pid == 0 || (host == s.host && !s.running(int(pid))) {
			gone = append(gone, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("purge incomplete cases: %w", err)
	}
	var n int64
	for _, id := range gone {
		res, err := s.db.ExecContext(ctx, "DELETE FROM cases WHERE id = ? AND status = ?", id, StatusIngesting)
		if err != nil {
			return n, fmt.Errorf("purge incomplete cases: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("purge incomplete cases: %w", err)
		}
		n += k
	}
	return n, nil
}

const caseColumns = `id, bundle_hash, bundle_path, host, collection, undecided, tool_version, run_options, catalog_version, status, created_at, completed_at, os_version, utc_offset_seconds`

func scanCase(row interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var created, completed sql.NullString
	var off sql.NullInt64
	if err := row.Scan(&c.ID, &c.BundleHash, &c.BundlePath, &c.Host, &c.Collection, &c.Undecided,
		&c.Provenance.ToolVersion, &c.Provenance.Options, &c.Provenance.CatalogVersion, &c.Status, &created, &completed, &c.OSVersion, &off); err != nil {
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

// CasesByHash returns the complete cases of a bundle (one per collection
// of a host, in id order), or ErrNotFound when it has none.
func (s *Store) CasesByHash(ctx context.Context, hash string) ([]Case, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT "+caseColumns+" FROM cases WHERE bundle_hash = ? AND status = ? ORDER BY id", hash, StatusComplete)
	if err != nil {
		return nil, fmt.Errorf("cases of bundle %s: %w", hash, err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("cases of bundle %s: %w", hash, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cases of bundle %s: %w", hash, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cases of bundle %s: %w", hash, ErrNotFound)
	}
	return out, nil
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
