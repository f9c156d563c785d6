package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// localChunk is how many local times one round of toUTC reads before it
// writes them back converted.
const localChunk = 1000

// caseZone returns the offset (local − UTC) a case's local times are
// converted with: the zone the caller recorded (SetHostFacts), else the
// 6008 offset Commit found (fallback), as HostFacts reads it for reports.
func caseZone(ctx context.Context, q querier, caseID int64, fallback time.Duration, hasFallback bool) (time.Duration, bool, error) {
	var zone sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT zone_offset_seconds FROM cases WHERE id = ?`, caseID).Scan(&zone)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil // the case is gone: Commit's UPDATE says so
	}
	if err != nil {
		return 0, false, err
	}
	if off, ok := scanOffset(zone); ok {
		return off, true, nil
	}
	return fallback, hasFallback, nil
}

// localColumns are the time columns that hold a host's wall-clock time
// until its zone is known: the table, the query listing a case's local
// values (id, text; at most localChunk rows; its parameter is the case id)
// and the UPDATE writing one back as UTC (parameters: UTC text, id).
var localColumns = []struct {
	what, list, update string
}{
	{"capture times",
		`SELECT id, captured_at_local FROM artifacts WHERE case_id = ? AND captured_at_local IS NOT NULL ORDER BY id LIMIT ?`,
		`UPDATE artifacts SET captured_at = ?, captured_at_local = NULL, captured_local = FALSE WHERE id = ?`},
	{"file times",
		`SELECT id, mtime_local FROM artifacts WHERE case_id = ? AND mtime_local IS NOT NULL ORDER BY id LIMIT ?`,
		`UPDATE artifacts SET mtime = ?, mtime_local = NULL WHERE id = ?`},
	// Through sockets_created_local, which holds only local bind times:
	// a netstat listing's sockets are not read.
	{"socket bind times",
		`SELECT s.id, s.created_at_local FROM sockets s
		WHERE s.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND s.created_at_local IS NOT NULL
		ORDER BY s.id LIMIT ?`,
		`UPDATE sockets SET created_at = ?, created_at_local = NULL, created_local = FALSE WHERE id = ?`},
	// Events read from text exports (Event Viewer CSV/TXT, Export-Csv),
	// with the failures and boot markers decoded from them.
	{"event times",
		`SELECT e.id, e.event_time_local FROM events e
		WHERE e.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND e.event_time_local IS NOT NULL
		ORDER BY e.id LIMIT ?`,
		`UPDATE events SET event_time = ?, event_time_local = NULL WHERE id = ?`},
	{"failure times",
		`SELECT f.id, f.event_time_local FROM failures f
		WHERE f.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND f.event_time_local IS NOT NULL
		ORDER BY f.id LIMIT ?`,
		`UPDATE failures SET event_time = ?, event_time_local = NULL WHERE id = ?`},
	{"boot marker times",
		`SELECT b.id, b.event_time_local FROM boots b
		WHERE b.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND b.event_time_local IS NOT NULL
		ORDER BY b.id LIMIT ?`,
		`UPDATE boots SET event_time = ?, event_time_local = NULL WHERE id = ?`},
	{"boot times",
		`SELECT b.id, b.boot_time_local FROM boots b
		WHERE b.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND b.boot_time_local IS NOT NULL
		ORDER BY b.id LIMIT ?`,
		`UPDATE boots SET boot_time = ?, boot_time_local = NULL WHERE id = ?`},
}

// toUTC converts every local time of a case to UTC with the host's
// offset (local − UTC), in tx: each converted value moves from its
// *_local column to the UTC column and its flag is cleared, so that no
// reader applies the offset again. It reads localChunk values at a time
// (a converted row leaves the query) and writes them with one prepared
// statement per column. A time that falls outside years 0000–9999 once
// converted becomes NULL, like any such time.
func toUTC(ctx context.Context, tx *sql.Tx, caseID int64, offset time.Duration) error {
	type local struct {
		id   int64
		text string
	}
	buf := make([]local, 0, localChunk)
	for _, col := range localColumns {
		var upd *sql.Stmt
		for {
			buf = buf[:0]
			rows, err := tx.QueryContext(ctx, col.list, caseID, localChunk)
			if err != nil {
				return fmt.Errorf("%s: %w", col.what, err)
			}
			for rows.Next() {
				var l local
				if err := rows.Scan(&l.id, &l.text); err != nil {
					rows.Close()
					return fmt.Errorf("%s: %w", col.what, err)
				}
				buf = append(buf, l)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("%s: %w", col.what, err)
			}
			if len(buf) == 0 {
				break
			}
			if upd == nil {
				if upd, err = tx.PrepareContext(ctx, col.update); err != nil {
					return fmt.Errorf("%s: %w", col.what, err)
				}
				defer upd.Close()
			}
			for _, l := range buf {
				wall, err := time.Parse(localLayout, l.text)
				if err != nil {
					return fmt.Errorf("%s: bad local time %q: %w", col.what, l.text, err)
				}
				if _, err := upd.ExecContext(ctx, timeArg(wall.Add(-offset)), l.id); err != nil {
					return fmt.Errorf("%s: %w", col.what, err)
				}
			}
			if len(buf) < localChunk {
				break
			}
		}
	}
	return nil
}
