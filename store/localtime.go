package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/portmortem/portmortem/correlate"
)

// localChunk is how many local times one round of toUTC reads before it
// writes them back converted.
const localChunk = 1000

// caseZone returns how a case's local times are converted: with the
// offset of the boot each falls in (correlate.Zone, from the case's boot
// markers), else with the case's offset — the zone the caller recorded
// (SetHostFacts), else the 6008 offset Commit found (fallback), as
// HostFacts reads it for reports. A zone from the user's flag is every
// boot's.
func caseZone(ctx context.Context, q querier, caseID int64, fallback time.Duration, hasFallback bool) (correlate.Zone, error) {
	var zone sql.NullInt64
	var source string
	err := q.QueryRowContext(ctx, `SELECT zone_offset_seconds, zone_source FROM cases WHERE id = ?`, caseID).Scan(&zone, &source)
	if errors.Is(err, sql.ErrNoRows) {
		return correlate.Zone{}, nil // the case is gone: Commit's UPDATE says so
	}
	if err != nil {
		return correlate.Zone{}, err
	}
	off, has := scanOffset(zone)
	if !has {
		off, has, source = fallback, hasFallback, ZoneFromEvent6008
	}
	boots, err := bootRefs(ctx, q, caseID)
	if err != nil {
		return correlate.Zone{}, err
	}
	// Boot markers from text exports are still the host's clock here:
	// converted as Analyze converts them before sessions are built.
	boots = correlate.ResolveLocalBoots(boots, off, has)
	return correlate.CaseZone(correlate.BuildSessions(boots), off, has, source), nil
}

// localColumns are the time columns that hold a host's wall-clock time
// until its zone is known: the table, the query listing a case's local
// values (id, text; at most localChunk rows; its parameters are the case
// id, the last id read and the limit)
// and the UPDATE writing one back as UTC (parameters: UTC text, id).
var localColumns = []struct {
	what, list, update string
}{
	{"capture times",
		`SELECT id, captured_at_local FROM artifacts WHERE case_id = ? AND captured_at_local IS NOT NULL AND id > ? ORDER BY id LIMIT ?`,
		`UPDATE artifacts SET captured_at = ?, captured_at_local = NULL, captured_local = FALSE WHERE id = ?`},
	{"file times",
		`SELECT id, mtime_local FROM artifacts WHERE case_id = ? AND mtime_local IS NOT NULL AND id > ? ORDER BY id LIMIT ?`,
		`UPDATE artifacts SET mtime = ?, mtime_local = NULL WHERE id = ?`},
	// Through sockets_created_local, which holds only local bind times:
	// a netstat listing's sockets are not read.
	{"socket bind times",
		`SELECT s.id, s.created_at_local FROM sockets s
		WHERE s.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND s.created_at_local IS NOT NULL AND s.id > ?
		ORDER BY s.id LIMIT ?`,
		`UPDATE sockets SET created_at = ?, created_at_local = NULL, created_local = FALSE WHERE id = ?`},
	// Events read from text exports (Event Viewer CSV/TXT, Export-Csv),
	// with the failures and boot markers decoded from them.
	{"event times",
		`SELECT e.id, e.event_time_local FROM events e
		WHERE e.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND e.event_time_local IS NOT NULL AND e.id > ?
		ORDER BY e.id LIMIT ?`,
		`UPDATE events SET event_time = ?, event_time_local = NULL WHERE id = ?`},
	{"failure times",
		`SELECT f.id, f.event_time_local FROM failures f
		WHERE f.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND f.event_time_local IS NOT NULL AND f.id > ?
		ORDER BY f.id LIMIT ?`,
		`UPDATE failures SET event_time = ?, event_time_local = NULL WHERE id = ?`},
	{"boot marker times",
		`SELECT b.id, b.event_time_local FROM boots b
		WHERE b.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND b.event_time_local IS NOT NULL AND b.id > ?
		ORDER BY b.id LIMIT ?`,
		`UPDATE boots SET event_time = ?, event_time_local = NULL WHERE id = ?`},
	{"boot times",
		`SELECT b.id, b.boot_time_local FROM boots b
		WHERE b.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?) AND b.boot_time_local IS NOT NULL AND b.id > ?
		ORDER BY b.id LIMIT ?`,
		`UPDATE boots SET boot_time = ?, boot_time_local = NULL WHERE id = ?`},
}

// toUTC converts every local time of a case to UTC with zone (the offset,
// local − UTC, of the boot it falls in, else the case's), in tx: each
// converted value moves from its *_local column to the UTC column and its
// flag is cleared, so that no reader applies the offset again. A value no
// offset converts stays local. It reads localChunk values at a time, in
// id order from the last one read, and writes them with one prepared
// statement per column. A time that falls outside years 0000–9999 once
// converted becomes NULL, like any such time.
func toUTC(ctx context.Context, tx *sql.Tx, caseID int64, zone correlate.Zone) error {
	if !zone.Converts() {
		return nil // no offset at all: every local time stays local
	}
	type local struct {
		id   int64
		text string
	}
	buf := make([]local, 0, localChunk)
	for _, col := range localColumns {
		var upd *sql.Stmt
		var last int64
		for {
			buf = buf[:0]
			rows, err := tx.QueryContext(ctx, col.list, caseID, last, localChunk)
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
				last = l.id
				wall, err := time.Parse(localLayout, l.text)
				if err != nil {
					return fmt.Errorf("%s: bad local time %q: %w", col.what, l.text, err)
				}
				lt := zone.ToUTC(wall)
				if !lt.OK() {
					continue // no offset for its boot: it stays local
				}
				if _, err := upd.ExecContext(ctx, timeArg(lt.UTC), l.id); err != nil {
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
