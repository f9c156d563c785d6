package store

import (
	"context"
	"database/sql"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

// processRefs returns the PID → image/services mappings of a case in
// ingest order: the processes table (tasklist), then, per socket listing
// that names images (netstat -b, Tcpvcon), one mapping per distinct
// PID/image/services at the first line it appears on.
func processRefs(ctx context.Context, q querier, caseID int64) ([]correlate.ProcessRef, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT p.artifact_id, a.path, p.line, p.pid, p.image, p.services, p.truncated, COALESCE(a.captured_at, a.captured_at_local), a.captured_local
		FROM processes p JOIN artifacts a ON a.id = p.artifact_id
		WHERE a.case_id = ?
		UNION ALL
		SELECT s.artifact_id, a.path, MIN(s.line), s.pid, s.image, s.services, FALSE, COALESCE(a.captured_at, a.captured_at_local), a.captured_local
		FROM sockets s JOIN artifacts a ON a.id = s.artifact_id
		WHERE a.case_id = ? AND s.image <> '' AND s.pid >= 0
		GROUP BY s.artifact_id, a.path, s.pid, s.image, s.services, a.captured_at, a.captured_at_local, a.captured_local
		ORDER BY 1, 3, 4`, caseID, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.ProcessRef
	for rows.Next() {
		var r correlate.ProcessRef
		var services string
		var captured sql.NullString
		if err := rows.Scan(&r.SnapshotID, &r.Artifact, &r.Line, &r.Process.PID, &r.Process.Image, &services,
			&r.Process.Truncated, &captured, &r.CapturedLocal); err != nil {
			return nil, err
		}
		var err error
		if r.CapturedAt, err = parseStoredTime(captured); err != nil {
			return nil, err
		}
		r.Process.Services = splitList(services)
		out = append(out, r)
	}
	return out, rows.Err()
}

// rangeRefs returns the excluded and dynamic port ranges of a case in
// ingest order, each with its artifact's capture time.
func rangeRefs(ctx context.Context, q querier, caseID int64) ([]correlate.RangeRef, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT a.path, r.line, r.kind, r.proto, r.ip_version, r.start_port, r.end_port, r.administered,
			COALESCE(a.captured_at, a.captured_at_local), a.captured_local, a.capture_source
		FROM port_ranges r JOIN artifacts a ON a.id = r.artifact_id
		WHERE a.case_id = ? ORDER BY a.id, r.id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.RangeRef
	for rows.Next() {
		var r correlate.RangeRef
		var proto string
		var captured sql.NullString
		if err := rows.Scan(&r.Artifact, &r.Line, &r.Range.Kind, &proto, &r.Range.IPVersion, &r.Range.Start,
			&r.Range.End, &r.Range.Administered, &captured, &r.CapturedLocal, &r.CaptureSource); err != nil {
			return nil, err
		}
		r.Range.Proto = parsers.Proto(proto)
		var err error
		if r.CapturedAt, err = parseStoredTime(captured); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
