package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

// snapshotFormats are the formats whose artifacts list sockets with ports.
// A Tcpvcon listing counts only when it has ports (4.x prints none).
var snapshotFormats = []parsers.Format{parsers.FormatNetstat, parsers.FormatTcpvcon, parsers.FormatPSNetTCP, parsers.FormatPSNetUDP}

// Input builds correlate's view of a case (complete or still ingesting):
// its failures, boots, socket snapshots, process mappings, port ranges
// and host facts, read in one transaction so they agree, and an Owners
// that queries the sockets table. A snapshot is an artifact of a socket
// format holding at least one socket with a port: an empty or unreadable
// listing proves nothing about who held a port.
func (s *Store) Input(ctx context.Context, caseID int64) (correlate.Input, error) {
	in, err := s.input(ctx, caseID)
	if err != nil {
		return correlate.Input{}, fmt.Errorf("input of case %d: %w", caseID, err)
	}
	return in, nil
}

func (s *Store) input(ctx context.Context, caseID int64) (correlate.Input, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return correlate.Input{}, err
	}
	defer tx.Rollback()
	c, err := caseByID(ctx, tx, caseID)
	if err != nil {
		return correlate.Input{}, err
	}
	f, err := caseFacts(ctx, tx, caseID)
	if err != nil {
		return correlate.Input{}, err
	}
	in := correlate.Input{
		Bundle: c.BundlePath, Host: c.Host, OSVersion: f.osVersion, UTCOffset: f.utcOffset, HasUTCOffset: f.hasOffset,
		Owners: owners{db: s.db, caseID: caseID},
	}
	if in.Host == "" {
		in.Host = f.host
	}
	if in.Failures, err = failureRefs(ctx, tx, caseID); err != nil {
		return correlate.Input{}, err
	}
	if in.Boots, err = bootRefs(ctx, tx, caseID); err != nil {
		return correlate.Input{}, err
	}
	if in.Snapshots, err = snapshots(ctx, tx, caseID, in.Host); err != nil {
		return correlate.Input{}, err
	}
	if in.Processes, err = processRefs(ctx, tx, caseID); err != nil {
		return correlate.Input{}, err
	}
	if in.Ranges, err = rangeRefs(ctx, tx, caseID); err != nil {
		return correlate.Input{}, err
	}
	if in.Refused, err = refused(ctx, tx, caseID); err != nil {
		return correlate.Input{}, err
	}
	if in.Damaged, err = damaged(ctx, tx, caseID); err != nil {
		return correlate.Input{}, err
	}
	return in, tx.Commit()
}

// snapshots lists the socket listings of a case in ingest order. An
// artifact that names no host takes the case's.
func snapshots(ctx context.Context, q querier, caseID int64, host string) ([]correlate.Snapshot, error) {
	args := []any{caseID}
	for _, f := range snapshotFormats {
		args = append(args, string(f))
	}
	rows, err := q.QueryContext(ctx, `
		SELECT a.id, a.path, a.format, a.host, COALESCE(a.captured_at, a.captured_at_local), a.captured_local, a.capture_source
		FROM artifacts a
		WHERE a.case_id = ? AND a.format IN (`+placeholders(len(snapshotFormats))+`)
		AND EXISTS (SELECT 1 FROM sockets s WHERE s.artifact_id = a.id AND s.has_port)
		ORDER BY a.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.Snapshot
	for rows.Next() {
		var sn correlate.Snapshot
		var format string
		var captured sql.NullString
		if err := rows.Scan(&sn.ID, &sn.Artifact, &format, &sn.Host, &captured, &sn.CapturedLocal, &sn.CaptureSource); err != nil {
			return nil, err
		}
		sn.Format = parsers.Format(format)
		if sn.Host == "" {
			sn.Host = host
		}
		if sn.CapturedAt, err = parseStoredTime(captured); err != nil {
			return nil, err
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}

// refused lists the files of a case's bundle that were not read: the
// artifacts of format parsers.FormatRefused, whose first note says why.
func refused(ctx context.Context, q querier, caseID int64) ([]correlate.Refused, error) {
	rows, err := q.QueryContext(ctx, `SELECT path, COALESCE(json_extract(notes, '$[0]'), '') FROM artifacts
		WHERE case_id = ? AND format = ? ORDER BY id`, caseID, string(parsers.FormatRefused))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.Refused
	for rows.Next() {
		var r correlate.Refused
		if err := rows.Scan(&r.Path, &r.Reason); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// eventLogFormats are the formats whose parse errors may hide failures.
var eventLogFormats = []parsers.Format{parsers.FormatEVTX, parsers.FormatEVTXXML, parsers.FormatEVT, parsers.FormatEventExport}

// damaged lists the event logs of a case that lost records to parse
// errors (Artifact.Lost).
func damaged(ctx context.Context, q querier, caseID int64) ([]correlate.Damaged, error) {
	args := append(lostArgs(), caseID)
	for _, f := range eventLogFormats {
		args = append(args, string(f))
	}
	rows, err := q.QueryContext(ctx, `SELECT a.path, `+lostSQL+` AS lost, a.records
		FROM artifacts a WHERE a.case_id = ? AND a.warning_count > 0
		AND a.format IN (`+placeholders(len(eventLogFormats))+`) AND lost > 0 ORDER BY a.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.Damaged
	for rows.Next() {
		var d correlate.Damaged
		if err := rows.Scan(&d.Path, &d.Errors, &d.Records); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Owners returns the store's correlate.Owners for a case (Input sets it).
func (s *Store) Owners(caseID int64) correlate.Owners { return owners{db: s.db, caseID: caseID} }
