package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

var socketColumns = []string{
	"artifact_id", "line", "proto", "local_addr", "local_host", "local_port", "has_port", "local_port_name",
	"remote_addr", "remote_host", "remote_port", "remote_port_name", "state", "state_raw", "pid", "image",
	"services", "owner", "created_at", "created_at_local", "created_local",
}

// addSocket queues one socket. A bind time in the host's wall clock
// (CreatedLocal) goes in created_at_local until Commit converts it.
func (a *ArtifactWriter) addSocket(line int, s *parsers.Socket) error {
	created, createdLocal := timeArgs(s.CreatedAt, s.CreatedLocal)
	return a.sockets.add(a.ctx, a.id, line, string(s.Proto), addrText(s.LocalAddr), s.LocalHost, s.LocalPort,
		s.HasPort, s.LocalPortName, addrText(s.RemoteAddr), s.RemoteHost, s.RemotePort, s.RemotePortName,
		s.State, s.StateRaw, s.PID, s.Image, joinList(s.Services), s.Owner, created, createdLocal, s.CreatedLocal)
}

const socketSelect = `s.artifact_id, s.line, s.proto, s.local_addr, s.local_host, s.local_port, s.has_port,
	s.local_port_name, s.remote_addr, s.remote_host, s.remote_port, s.remote_port_name, s.state, s.state_raw,
	s.pid, s.image, s.services, s.owner, COALESCE(s.created_at, s.created_at_local), s.created_local`

func scanSocket(rows *sql.Rows) (correlate.SocketRef, error) {
	var r correlate.SocketRef
	s := &r.Socket
	var proto, local, remote, services string
	var created sql.NullString
	if err := rows.Scan(&r.SnapshotID, &r.Line, &proto, &local, &s.LocalHost, &s.LocalPort, &s.HasPort,
		&s.LocalPortName, &remote, &s.RemoteHost, &s.RemotePort, &s.RemotePortName, &s.State, &s.StateRaw,
		&s.PID, &s.Image, &services, &s.Owner, &created, &s.CreatedLocal); err != nil {
		return r, err
	}
	s.Proto, s.Services = parsers.Proto(proto), splitList(services)
	var err error
	if s.LocalAddr, err = parseAddr(local); err != nil {
		return r, err
	}
	if s.RemoteAddr, err = parseAddr(remote); err != nil {
		return r, err
	}
	s.CreatedAt, err = parseStoredTime(created)
	return r, err
}

// owners is the store's correlate.Owners for one case.
type owners struct {
	db     *sql.DB
	caseID int64
}

var (
	_ correlate.Owners     = owners{}
	_ correlate.PIDSockets = owners{}
)

// ownersQuery finds the sockets on one proto/port in the snapshots of a
// case, through the sockets_proto_port index (TestOwnersUsesIndex).
const ownersQuery = `SELECT ` + socketSelect + `
FROM sockets s JOIN artifacts a ON a.id = s.artifact_id
WHERE s.proto = ? AND s.local_port = ? AND s.has_port AND a.case_id = ?
ORDER BY s.artifact_id, s.line, s.id`

// OwnersOf returns the sockets of the case on proto/port, in any state,
// ordered by snapshot (artifact id) then line.
func (o owners) OwnersOf(ctx context.Context, proto parsers.Proto, port uint16) ([]correlate.SocketRef, error) {
	rows, err := o.db.QueryContext(ctx, ownersQuery, string(proto), port, o.caseID)
	if err != nil {
		return nil, fmt.Errorf("owners of %s %d: %w", proto, port, err)
	}
	defer rows.Close()
	var out []correlate.SocketRef
	for rows.Next() {
		r, err := scanSocket(rows)
		if err != nil {
			return nil, fmt.Errorf("owners of %s %d: %w", proto, port, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("owners of %s %d: %w", proto, port, err)
	}
	return out, nil
}

// countQuery is answered from the sockets_artifact_proto_pid index alone.
const countQuery = `SELECT COUNT(*) FROM sockets WHERE artifact_id = ? AND proto = ? AND pid = ?`

// CountByPID returns how many sockets of proto process pid holds in the
// snapshot.
func (o owners) CountByPID(ctx context.Context, snapshotID int64, proto parsers.Proto, pid int) (int, error) {
	var n int
	if err := o.db.QueryRowContext(ctx, countQuery, snapshotID, string(proto), pid).Scan(&n); err != nil {
		return 0, fmt.Errorf("sockets of pid %d in snapshot %d: %w", pid, snapshotID, err)
	}
	return n, nil
}

// pidQuery lists one process's sockets in a snapshot, through the
// sockets_artifact_proto_pid index.
const pidQuery = `SELECT ` + socketSelect + `
FROM sockets s JOIN artifacts a ON a.id = s.artifact_id
WHERE s.artifact_id = ? AND s.pid = ? AND s.has_port AND a.case_id = ?
ORDER BY s.line, s.id`

// SocketsOf returns the sockets process pid holds in a snapshot, so that
// correlation can learn the ports a service held in an earlier snapshot.
func (o owners) SocketsOf(ctx context.Context, snapshotID int64, pid int) ([]correlate.SocketRef, error) {
	rows, err := o.db.QueryContext(ctx, pidQuery, snapshotID, pid, o.caseID)
	if err != nil {
		return nil, fmt.Errorf("sockets of pid %d in snapshot %d: %w", pid, snapshotID, err)
	}
	defer rows.Close()
	var out []correlate.SocketRef
	for rows.Next() {
		r, err := scanSocket(rows)
		if err != nil {
			return nil, fmt.Errorf("sockets of pid %d in snapshot %d: %w", pid, snapshotID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
