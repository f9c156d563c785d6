package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

// The read queries reports are built from. Small tables come back as
// slices; the tables that grow with the bundle (sockets, processes,
// events) come back as iterators over an open query, so that a report of
// a million sockets never holds them all.

// Zone sources: where HostFacts.ZoneOffset came from (correlate.DecideHost
// decides it).
const (
	ZoneFromFlag       = correlate.ZoneFromFlag
	ZoneFromEvent6008  = correlate.ZoneFromEvent6008
	ZoneFromSysteminfo = correlate.ZoneFromSysteminfo
)

// HostFacts are what the caller learned about a case's host beyond what
// Commit derives from the event logs: the OS as systeminfo names it, and
// the time zone reports show the host's times in.
type HostFacts struct {
	// OSName is systeminfo's OS name and version, as printed.
	OSName string
	// TimeZone is systeminfo's zone name, "(UTC-06:00) Central Time (US &
	// Canada)", or "".
	TimeZone string
	// ZoneOffset (local − UTC), valid when HasZone is set, is the offset
	// reports show times in; ZoneSource says where it came from
	// (ZoneFromFlag, ZoneFromEvent6008, ZoneFromSysteminfo).
	ZoneOffset time.Duration
	HasZone    bool
	ZoneSource string
}

// SetHostFacts records the host facts of one of the bundle's cases, still
// being ingested (Commit leaves them alone).
func (c *CaseWriter) SetHostFacts(ctx context.Context, caseID int64, f HostFacts) error {
	if c.closed {
		return ErrClosed
	}
	if !c.owns(caseID) {
		return fmt.Errorf("host facts of case %d: not a case of this writer: %w", caseID, ErrNotFound)
	}
	res, err := c.s.db.ExecContext(ctx,
		`UPDATE cases SET os_name = ?, time_zone = ?, zone_offset_seconds = ?, zone_source = ?
		WHERE id = ? AND status = ?`,
		f.OSName, f.TimeZone, offsetArg(f.ZoneOffset, f.HasZone), f.ZoneSource, caseID, StatusIngesting)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n != 1 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("host facts of case %d: %w", caseID, err)
	}
	return nil
}

// HostFacts returns the host facts of a case. When none were recorded but
// an event 6008 gave the host's UTC offset, that offset is the zone.
func (s *Store) HostFacts(ctx context.Context, caseID int64) (HostFacts, error) {
	var f HostFacts
	var zone, evt sql.NullInt64
	err := s.db.QueryRowContext(ctx,
		`SELECT os_name, time_zone, zone_offset_seconds, zone_source, utc_offset_seconds FROM cases WHERE id = ?`,
		caseID).Scan(&f.OSName, &f.TimeZone, &zone, &f.ZoneSource, &evt)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return HostFacts{}, fmt.Errorf("host facts of case %d: %w", caseID, err)
	}
	f.ZoneOffset, f.HasZone = scanOffset(zone)
	if !f.HasZone {
		if f.ZoneOffset, f.HasZone = scanOffset(evt); f.HasZone {
			f.ZoneSource = ZoneFromEvent6008
		}
	}
	return f, nil
}

// Case returns a case in any status, or ErrNotFound.
func (s *Store) Case(ctx context.Context, caseID int64) (Case, error) {
	c, err := caseByID(ctx, s.db, caseID)
	if err != nil {
		return Case{}, fmt.Errorf("case %d: %w", caseID, err)
	}
	return c, nil
}

// FailureRow is a decoded failure with the place it was read from: the
// artifact, and the event's line (XML exports) or byte offset.
type FailureRow struct {
	ArtifactID int64
	Artifact   string
	Line       int
	Offset     int64
	Failure    correlate.Failure
}

// FailureRows returns the failures of a case in time order (unknown times
// last), then ingest order.
func (s *Store) FailureRows(ctx context.Context, caseID int64) ([]FailureRow, error) {
	out, err := s.failureRows(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("failures of case %d: %w", caseID, err)
	}
	return out, nil
}

func (s *Store) failureRows(ctx context.Context, caseID int64) ([]FailureRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT f.artifact_id, a.path, e.line, e.byte_offset, f.kind,
		f.event_time, f.channel, f.provider, f.event_id, f.record_id, f.recovered, f.service, f.service_key,
		f.dependency, f.error_code, f.has_error, f.service_specific, f.error_class, f.proto, f.addr, f.port,
		f.has_port, f.message
		FROM failures f JOIN artifacts a ON a.id = f.artifact_id JOIN events e ON e.id = f.event_row_id
		WHERE a.case_id = ? ORDER BY f.event_time IS NULL, f.event_time, f.id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FailureRow
	for rows.Next() {
		var r FailureRow
		f := &r.Failure
		var kind, class, proto, addr string
		var t sql.NullString
		var rid int64
		if err := rows.Scan(&r.ArtifactID, &r.Artifact, &r.Line, &r.Offset, &kind, &t, &f.Channel, &f.Provider,
			&f.EventID, &rid, &f.Recovered, &f.Service, &f.ServiceKey, &f.Dependency, &f.ErrorCode, &f.HasError,
			&f.ServiceSpecific, &class, &proto, &addr, &f.Port, &f.HasPort, &f.Message); err != nil {
			return nil, err
		}
		f.Kind, f.Class, f.Proto, f.RecordID = correlate.FailureKind(kind), correlate.ErrorClass(class), parsers.Proto(proto), uint64(rid)
		if f.Time, err = parseTime(t); err != nil {
			return nil, err
		}
		if f.Addr, err = parseAddr(addr); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Boots returns the boot markers of a case in ingest order.
func (s *Store) Boots(ctx context.Context, caseID int64) ([]correlate.BootRef, error) {
	out, err := bootRefs(ctx, s.db, caseID)
	if err != nil {
		return nil, fmt.Errorf("boots of case %d: %w", caseID, err)
	}
	return out, nil
}

// PortRanges returns the excluded and dynamic port ranges of a case in
// ingest order.
func (s *Store) PortRanges(ctx context.Context, caseID int64) ([]correlate.RangeRef, error) {
	out, err := rangeRefs(ctx, s.db, caseID)
	if err != nil {
		return nil, fmt.Errorf("port ranges of case %d: %w", caseID, err)
	}
	return out, nil
}

// Snapshots returns the socket listings of a case that hold sockets with
// ports, in ingest order: the snapshots correlate looks for owners in.
func (s *Store) Snapshots(ctx context.Context, caseID int64) ([]correlate.Snapshot, error) {
	out, err := snapshots(ctx, s.db, caseID, "")
	if err != nil {
		return nil, fmt.Errorf("snapshots of case %d: %w", caseID, err)
	}
	return out, nil
}

// TableCounts are the sizes of a case's large tables, as the iterators
// below return them.
type TableCounts struct {
	Sockets   int64 // sockets with a port
	Processes int64 // rows of CaseProcesses
	Events    int64 // stored events
}

// TableCounts counts the rows the iterators of a case will return.
func (s *Store) TableCounts(ctx context.Context, caseID int64) (TableCounts, error) {
	var c TableCounts
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM sockets s JOIN artifacts a ON a.id = s.artifact_id WHERE a.case_id = ? AND s.has_port),
		(SELECT COUNT(*) FROM processes p JOIN artifacts a ON a.id = p.artifact_id WHERE a.case_id = ?)
		+ (SELECT COUNT(*) FROM (SELECT 1 FROM sockets s JOIN artifacts a ON a.id = s.artifact_id
			WHERE a.case_id = ? AND s.image <> '' AND s.pid >= 0
			GROUP BY s.artifact_id, s.pid, s.image, s.services)),
		(SELECT COUNT(*) FROM events e JOIN artifacts a ON a.id = e.artifact_id WHERE a.case_id = ?)`,
		caseID, caseID, caseID, caseID).Scan(&c.Sockets, &c.Processes, &c.Events)
	if err != nil {
		return TableCounts{}, fmt.Errorf("table counts of case %d: %w", caseID, err)
	}
	return c, nil
}

// rowsSeq runs query and yields scan(rows) for each row. The query stays
// open while the caller consumes the rows; breaking out of the loop
// closes it. ctx is checked once per 1,000 rows (the driver also watches
// it).
func rowsSeq[T any](ctx context.Context, db *sql.DB, what, query string, scan func(*sql.Rows) (T, error), args ...any) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		fail := func(err error) { yield(zero, fmt.Errorf("%s: %w", what, err)) }
		rows, err := db.QueryContext(ctx, query, args...)
		if err != nil {
			fail(err)
			return
		}
		defer rows.Close()
		for n := 0; rows.Next(); n++ {
			if n%1000 == 999 {
				if err := ctx.Err(); err != nil {
					fail(err)
					return
				}
			}
			v, err := scan(rows)
			if err != nil {
				fail(err)
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			fail(err)
		}
	}
}

// CaseSockets yields the sockets with a port of a case (every state:
// listeners, UDP endpoints and the local ports of connections), per
// snapshot, then protocol, then PID (a process's sockets together, a DNS
// socket pool as one block), then line. That is the order of the
// sockets_artifact_proto_pid index, so the first row comes without
// sorting a million. SnapshotID is the artifact's id.
func (s *Store) CaseSockets(ctx context.Context, caseID int64) iter.Seq2[correlate.SocketRef, error] {
	return rowsSeq(ctx, s.db, fmt.Sprintf("sockets of case %d", caseID), `SELECT `+socketSelect+`
		FROM sockets s WHERE s.has_port AND s.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?)
		ORDER BY s.artifact_id, s.proto, s.pid, s.id`, scanSocket, caseID)
}

// ProcessRow is one PID → image mapping: a tasklist row, or one distinct
// PID/image/services of a socket listing that names images (netstat -b,
// Tcpvcon), at the first line it appears on, with the number of sockets
// it holds there (Sockets is -1 for tasklist rows).
type ProcessRow struct {
	ArtifactID int64
	Line       int
	Process    parsers.Process
	Sockets    int64
}

// CaseProcesses yields the process mappings of a case in ingest order.
func (s *Store) CaseProcesses(ctx context.Context, caseID int64) iter.Seq2[ProcessRow, error] {
	return rowsSeq(ctx, s.db, fmt.Sprintf("processes of case %d", caseID), `
		SELECT p.artifact_id, p.line, p.pid, p.image, p.services, p.truncated, -1
		FROM processes p JOIN artifacts a ON a.id = p.artifact_id
		WHERE a.case_id = ?
		UNION ALL
		SELECT s.artifact_id, MIN(s.line), s.pid, s.image, s.services, FALSE, COUNT(*)
		FROM sockets s JOIN artifacts a ON a.id = s.artifact_id
		WHERE a.case_id = ? AND s.image <> '' AND s.pid >= 0
		GROUP BY s.artifact_id, s.pid, s.image, s.services
		ORDER BY 1, 2, 3`, func(rows *sql.Rows) (ProcessRow, error) {
		var r ProcessRow
		var services string
		err := rows.Scan(&r.ArtifactID, &r.Line, &r.Process.PID, &r.Process.Image, &services, &r.Process.Truncated, &r.Sockets)
		r.Process.Services = splitList(services)
		return r, err
	}, caseID, caseID)
}

// EventRow is a stored event with where it was read: the artifact, and
// the line (XML exports) or byte offset (binary logs).
type EventRow struct {
	ArtifactID int64
	Line       int
	Offset     int64
	Event      parsers.Event
}

// CaseEvents yields the stored events of a case (the decoded failures and
// boot markers, or every event with ingest.Options.KeepAllEvents) per artifact, in record
// ID order (the events_artifact_record index: no sort).
func (s *Store) CaseEvents(ctx context.Context, caseID int64) iter.Seq2[EventRow, error] {
	return rowsSeq(ctx, s.db, fmt.Sprintf("events of case %d", caseID), `SELECT e.artifact_id, e.line,
		e.byte_offset, e.record_id, e.channel, e.provider, e.provider_guid, e.event_source, e.event_id,
		e.qualifiers, e.level, e.event_time, e.computer, e.data, e.binary_hex, e.message, e.recovered
		FROM events e WHERE e.artifact_id IN (SELECT id FROM artifacts WHERE case_id = ?)
		ORDER BY e.artifact_id, e.record_id, e.id`, func(rows *sql.Rows) (EventRow, error) {
		var r EventRow
		ev := &r.Event
		var rid int64
		var t sql.NullString
		var data string
		if err := rows.Scan(&r.ArtifactID, &r.Line, &r.Offset, &rid, &ev.Channel, &ev.Provider, &ev.ProviderGUID,
			&ev.EventSource, &ev.EventID, &ev.Qualifiers, &ev.Level, &t, &ev.Computer, &data, &ev.Binary,
			&ev.Message, &ev.Recovered); err != nil {
			return r, err
		}
		ev.RecordID = uint64(rid)
		var err error
		if ev.Time, err = parseTime(t); err != nil {
			return r, err
		}
		var fields []dataField
		if err := parseJSONList(data, &fields); err != nil {
			return r, err
		}
		for _, f := range fields {
			ev.Data = append(ev.Data, parsers.Field(f))
		}
		return r, nil
	}, caseID)
}
