package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// CaseWriter ingests one bundle: its artifacts are added one transaction
// each into one case, which Split may then divide into one case per
// collection of a host, and Commit makes every case of the bundle visible
// as complete at once. Until then the cases are in status 'ingesting', and
// Abort, PurgeIncomplete or the next Open delete them. It is not safe for
// concurrent use.
type CaseWriter struct {
	s       *Store
	info    CaseInfo
	created string          // cases.created_at of the first case
	parts   []casePart      // the first is the case artifacts are added to
	open    *ArtifactWriter // the artifact being written, if any
	split   bool
	closed  bool
}

type casePart struct {
	id        int64
	host      string // "" to take it from the artifacts at Commit
	undecided bool
}

// BeginCase creates a case in status 'ingesting'.
func (s *Store) BeginCase(ctx context.Context, info CaseInfo) (*CaseWriter, error) {
	if info.BundleHash == "" {
		return nil, errors.New("begin case: empty bundle hash")
	}
	var id int64
	created := formatTime(s.now())
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO cases (bundle_hash, bundle_path, host, tool_version, run_options, catalog_version, status, created_at,
		owner_pid, owner_host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		info.BundleHash, info.BundlePath, info.Host, info.ToolVersion, info.Options, info.CatalogVersion,
		StatusIngesting, created, s.pid, s.host).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("begin case: %w", err)
	}
	return &CaseWriter{s: s, info: info, created: created, parts: []casePart{{id: id, host: info.Host}}}, nil
}

// ID is the id of the case artifacts are added to: the bundle's first
// case.
func (c *CaseWriter) ID() int64 { return c.parts[0].id }

// IDs are the ids of the bundle's cases, in Split's order.
func (c *CaseWriter) IDs() []int64 {
	ids := make([]int64, len(c.parts))
	for i, p := range c.parts {
		ids[i] = p.id
	}
	return ids
}

// CasePart is one case a bundle is split into: a collection of one host
// (correlate.HostGroup).
type CasePart struct {
	// Host names the host; "" takes it from the artifacts at Commit
	// (unless Undecided).
	Host       string
	Collection string
	Undecided  bool
	// Artifacts are the ids of the part's artifacts. The first part keeps
	// the case the artifacts were added to, with every artifact no other
	// part lists, so its list is not read.
	Artifacts []int64
	// Notes are added to the notes of the artifacts they are keyed by
	// (how each one's host was decided).
	Notes map[int64]string
}

// Split divides the bundle's case into parts, in one transaction: the
// first part keeps the case, each other one becomes a new case in status
// 'ingesting' that takes its artifacts with everything stored of them.
// It is called at most once, after every artifact is added and before the
// findings are saved; IDs then lists the cases in the parts' order.
func (c *CaseWriter) Split(ctx context.Context, parts []CasePart) error {
	switch {
	case c.closed:
		return ErrClosed
	case c.open != nil:
		return ErrArtifactOpen
	case c.split || len(parts) == 0:
		return fmt.Errorf("split case %d: split once, into one part or more", c.ID())
	}
	next, err := c.splitTx(ctx, parts)
	if err != nil {
		return fmt.Errorf("split case %d: %w", c.ID(), err)
	}
	c.parts, c.split = next, true
	return nil
}

func (c *CaseWriter) splitTx(ctx context.Context, parts []CasePart) ([]casePart, error) {
	tx, err := c.s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	first := c.ID()
	var out []casePart
	for i, p := range parts {
		host := cmp.Or(p.Host, c.info.Host)
		if p.Undecided {
			host = ""
		}
		id := first
		if i == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET host = ?, collection = ?, undecided = ? WHERE id = ?`,
				host, p.Collection, p.Undecided, id); err != nil {
				return nil, err
			}
		} else {
			err := tx.QueryRowContext(ctx,
				`INSERT INTO cases (bundle_hash, bundle_path, host, collection, undecided, tool_version, run_options,
				catalog_version, status, created_at, owner_pid, owner_host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				c.info.BundleHash, c.info.BundlePath, host, p.Collection, p.Undecided, c.info.ToolVersion,
				c.info.Options, c.info.CatalogVersion, StatusIngesting, formatTime(c.s.now()), c.s.pid, c.s.host).Scan(&id)
			if err != nil {
				return nil, err
			}
			for _, a := range p.Artifacts {
				res, err := tx.ExecContext(ctx, `UPDATE artifacts SET case_id = ? WHERE id = ? AND case_id = ?`, id, a, first)
				if err != nil {
					return nil, err
				}
				if n, err := res.RowsAffected(); err != nil {
					return nil, err
				} else if n != 1 {
					return nil, fmt.Errorf("artifact %d is not in case %d: %w", a, first, ErrNotFound)
				}
			}
		}
		ids := make([]int64, 0, len(p.Notes))
		for a := range p.Notes {
			ids = append(ids, a)
		}
		slices.Sort(ids)
		for _, a := range ids {
			if err := addArtifactNote(ctx, tx, a, p.Notes[a]); err != nil {
				return nil, err
			}
		}
		out = append(out, casePart{id: id, host: host, undecided: p.Undecided})
	}
	return out, tx.Commit()
}

// addArtifactNote appends a note to an artifact's notes.
func addArtifactNote(ctx context.Context, tx *sql.Tx, id int64, note string) error {
	var raw string
	if err := tx.QueryRowContext(ctx, `SELECT notes FROM artifacts WHERE id = ?`, id).Scan(&raw); err != nil {
		return fmt.Errorf("notes of artifact %d: %w", id, err)
	}
	var notes []string
	if err := json.Unmarshal([]byte(raw), &notes); err != nil {
		return fmt.Errorf("notes of artifact %d: %w", id, err)
	}
	text, err := jsonText(append(notes, note))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE artifacts SET notes = ? WHERE id = ?`, text, id)
	return err
}

// owns says whether id is one of the bundle's cases.
func (c *CaseWriter) owns(id int64) bool {
	return slices.ContainsFunc(c.parts, func(p casePart) bool { return p.id == id })
}

// Commit marks every case of the bundle complete, fills in each one's
// host (unless given), OS version and UTC offset from what was ingested,
// converts each one's local times (capture, file and bind times in the
// host's wall clock) to UTC with the offset of the boot each falls in
// (its 6008), else the case's zone when known — the zone SetHostFacts
// recorded, else the latest 6008's offset; a --tz zone is every boot's —
// and, in the same transaction, deletes the complete cases of the same
// bundle hash (cases of it still ingesting are left to their own Commit).
// When a complete set of the bundle begun after this one, or committed
// since it began, is there (a run at the same time that committed first),
// that set stays, this writer's cases are deleted and Commit returns an
// error wrapping ErrSuperseded. A local time whose zone stays unknown stays
// in its *_local column, flagged. Afterwards the writer is closed.
func (c *CaseWriter) Commit(ctx context.Context) error {
	if c.closed {
		return ErrClosed
	}
	if c.open != nil {
		return ErrArtifactOpen
	}
	if err := c.commit(ctx); err != nil {
		if errors.Is(err, ErrSuperseded) {
			c.closed = true
		}
		return fmt.Errorf("commit case %d: %w", c.ID(), err)
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
	// Written first, so the transaction holds the write lock before the
	// reads below: a no-op update of the bundle's own first case.
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = status WHERE id = ?`, c.ID()); err != nil {
		return err
	}
	// A complete set of the same bundle begun after this one, or
	// committed since this one began, is the answer of a run on the same
	// database at the same time that committed first: it stands (so what
	// that run reads of it stays there), and this writer's cases go. A set
	// committed before this one began is an earlier run's: it is replaced.
	var newer int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases WHERE bundle_hash = ? AND status = 'complete'
		AND (id > ? OR completed_at > ?)`, c.info.BundleHash, c.ID(), c.created).Scan(&newer); err != nil {
		return err
	}
	if newer > 0 {
		for _, p := range c.parts {
			if _, err := tx.ExecContext(ctx, `DELETE FROM cases WHERE id = ?`, p.id); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		return ErrSuperseded
	}
	// The unique index allows one complete case per key: the older set
	// goes. The status is a literal, not a parameter: SQLite 3.54.1 fails
	// to plan "h = ? AND (status = ? OR id < ?)" next to the partial index
	// on status = 'complete' ("internal query planner error"). Cases of the
	// bundle still ingesting are another run's (or another argument's of
	// this run) and are left to their own Commit.
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM cases WHERE bundle_hash = ? AND status = 'complete'`, c.info.BundleHash); err != nil {
		return err
	}
	for _, p := range c.parts {
		f, err := caseFacts(ctx, tx, p.id)
		if err != nil {
			return err
		}
		host := p.host
		if host == "" && !p.undecided {
			host = f.host
		}
		if zone, err := caseZone(ctx, tx, p.id, f.utcOffset, f.hasOffset); err != nil {
			return err
		} else if err := toUTC(ctx, tx, p.id, zone); err != nil {
			return fmt.Errorf("case %d: %w", p.id, err)
		}
		res, err := tx.ExecContext(ctx,
			`UPDATE cases SET status = ?, completed_at = ?, host = ?, os_version = ?, utc_offset_seconds = ?
			WHERE id = ? AND status = ?`,
			StatusComplete, formatTime(c.s.now()), host, f.osVersion, offsetArg(f.utcOffset, f.hasOffset),
			p.id, StatusIngesting)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("case %d is gone (purged by another run?): %w", p.id, ErrNotFound)
		}
	}
	return tx.Commit()
}

// Abort rolls back the artifact being written, if any, and deletes the
// bundle's cases with everything ingested into them. It runs even when
// ctx is already cancelled (it is the cleanup after a cancelled ingest);
// ctx's values are kept. Afterwards the writer is closed.
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
	for _, p := range c.parts {
		if _, err := c.s.db.ExecContext(ctx, "DELETE FROM cases WHERE id = ?", p.id); err != nil {
			errs = append(errs, fmt.Errorf("abort case %d: %w", p.id, err))
		}
	}
	return errors.Join(errs...)
}
