package correlate

import (
	"context"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// Verdict is the answer for one failure and one port.
type Verdict string

// The verdicts (DESIGN.md, Correlation §5).
const (
	// Confirmed: an owner was found in a snapshot of the same boot as the
	// failure, taken after it, with a trustworthy capture time.
	Confirmed Verdict = "CONFIRMED"
	// Probable: an owner was found, but the snapshot's time or boot is
	// uncertain, or the port comes from the catalog only.
	Probable Verdict = "PROBABLE"
	// ReservedRange: no owner, and the port lies in an excluded port range
	// of the failure's boot, or an administered one (the bind fails with
	// 10013 and netstat shows nobody). It needs no socket snapshot: a port
	// inside an excluded range cannot have an owner.
	ReservedRange Verdict = "RESERVED_RANGE"
	// NoConflictSeen: the port was free in the snapshot: not this problem.
	NoConflictSeen Verdict = "NO_CONFLICT_SEEN"
	// PortUnknown: a port-related failure whose port could not be found.
	PortUnknown Verdict = "PORT_UNKNOWN"
	// NotPortRelated: the error names another cause.
	NotPortRelated Verdict = "NOT_PORT_RELATED"
	// NoSnapshot: there is no socket snapshot to look in, and no excluded
	// range of the failure's boot explains the failure.
	NoSnapshot Verdict = "NO_SNAPSHOT"
)

// Verdicts lists every verdict, in the order they are ranked and listed:
// the ones that name a culprit first.
var Verdicts = []Verdict{Confirmed, Probable, ReservedRange, NoConflictSeen, PortUnknown, NotPortRelated, NoSnapshot}

// Evidence points at the place in an artifact that supports a claim: a
// line of a text artifact, or a record of an event log.
type Evidence struct {
	Artifact string `json:"artifact"`
	Line     int    `json:"line,omitempty"`
	Channel  string `json:"channel,omitempty"`
	RecordID uint64 `json:"record_id,omitempty"`
	// Text is what the place says (the raw line, or the event's message).
	Text string `json:"text,omitempty"`
	// Claim says what this evidence shows.
	Claim string `json:"claim"`
}

// Finding is the verdict for one failure and one needed port.
type Finding struct {
	Bundle      string
	Host        string
	Service     string
	ServiceKey  string
	FailureTime time.Time
	EventID     uint16
	ErrorCode   uint32
	HasError    bool
	ErrorClass  ErrorClass
	Proto       parsers.Proto
	Port        uint16
	// PortSource is where the port came from (PortSourceEvent, ...), ""
	// when there is no port.
	PortSource PortSource
	Verdict    Verdict
	Confidence float64
	Reasons    []string
	OwnerPID   int // -1 when no owner
	OwnerImage string
	// OwnerServices are the services hosted by the owner process.
	OwnerServices []string
	// Snapshot names the artifact the owner (or the free port) was seen in.
	Snapshot string
	// Rule is the culprit pattern (RuleDNSSocketPool, ...), or "" when
	// there is no culprit.
	Rule     Rule
	Remedy   []string
	KB       []string
	Evidence []Evidence
}

// Snapshot is one artifact that lists sockets (netstat, tcpvcon with ports,
// Get-NetTCPConnection/Get-NetUDPEndpoint), placed in time.
type Snapshot struct {
	ID         int64
	Artifact   string
	Format     parsers.Format
	Host       string
	CapturedAt time.Time
	// CaptureSource says where CapturedAt came from (see
	// parsers.CaptureSource), "" when unknown.
	CaptureSource parsers.CaptureSource
	// CapturedLocal says CapturedAt is the host's wall-clock time stored
	// with the UTC location (a zip DOS time, a `%date% %time%` line), like
	// Socket.CreatedLocal; Analyze converts it with the offset of the boot
	// it falls in, else Input.UTCOffset (see Zone). Only the
	// flag says so: a zip DOS time already converted to UTC keeps its
	// CaptureSource with the flag cleared.
	CapturedLocal bool
	// NoPorts marks an artifact that lists sockets without ports (Tcpvcon
	// 4.x): it maps PIDs to images but cannot show who held a port.
	NoPorts bool
}

// SocketRef is a socket with the snapshot and line it was seen at.
type SocketRef struct {
	SnapshotID int64
	Line       int
	Socket     parsers.Socket
}

// Owners answers which sockets held a port, per snapshot. The store
// implements it with an indexed query; tests implement it with a slice.
type Owners interface {
	// OwnersOf returns every socket of every snapshot whose local port is
	// port for proto, in any state, ordered by snapshot then line.
	OwnersOf(ctx context.Context, proto parsers.Proto, port uint16) ([]SocketRef, error)
	// CountByPID returns how many sockets of proto the process pid holds
	// in a snapshot (used to recognise a DNS socket pool).
	CountByPID(ctx context.Context, snapshotID int64, proto parsers.Proto, pid int) (int, error)
}

// ProcessRef is a PID → image/services mapping with where it was seen.
type ProcessRef struct {
	SnapshotID int64 // the artifact it came from (tasklist, tcpvcon, netstat -b)
	Artifact   string
	Line       int
	Process    parsers.Process
	// CapturedAt is when that artifact was taken (UTC), zero when unknown;
	// it ties a tasklist that is not itself a socket snapshot to the
	// snapshot taken closest to it in the same boot. CapturedLocal says
	// it is the host's wall-clock time (see Snapshot.CapturedLocal).
	CapturedAt    time.Time
	CapturedLocal bool
}

// RangeRef is an excluded or dynamic port range with its evidence and
// the capture time of the netsh table it was read from: every row of one
// artifact shares it, and it puts the table in a boot session (dynamic
// reservations are re-created at each boot).
type RangeRef struct {
	Artifact string
	Line     int
	Range    parsers.PortRange
	// CapturedAt, CaptureSource and CapturedLocal are the artifact's
	// capture time, as for Snapshot; CapturedAt is zero when unknown.
	CapturedAt    time.Time
	CaptureSource parsers.CaptureSource
	CapturedLocal bool
}

// FailureRef is a decoded failure with the artifact it came from.
type FailureRef struct {
	Artifact string
	// Line is the line of a text artifact the event was read from (an
	// XML or CSV export), 0 for a binary log.
	Line int
	// TimeLocal says Failure.Time is the host's wall-clock time (an event
	// from a text export whose zone was not known when it was stored):
	// Analyze applies Input.UTCOffset to it, or treats it as unknown.
	TimeLocal bool
	Failure   Failure
}

// BootRef is a decoded boot marker with the artifact it came from.
type BootRef struct {
	Artifact string
	// Line is as FailureRef.Line.
	Line int
	// TimeLocal says Boot.Time and Boot.BootTime are the host's wall-clock
	// time, as FailureRef.TimeLocal.
	TimeLocal bool
	Boot      BootMarker
}

// Input is everything correlation needs about one case (one host of one
// bundle). The store builds it from its tables.
type Input struct {
	Bundle    string
	Host      string
	OSVersion string // "5.2.3790" (6009, systeminfo) or "" when unknown
	// UTCOffset is the host's offset from UTC when known (systeminfo, 6008):
	// the case's offset, which converts the local times of a boot that
	// shows no offset of its own (see Zone). ZoneSource says where it came
	// from (ZoneFromFlag: every boot takes it; "" is the latest 6008).
	UTCOffset    time.Duration
	HasUTCOffset bool
	ZoneSource   string
	Failures     []FailureRef
	Boots        []BootRef
	Snapshots    []Snapshot
	Processes    []ProcessRef
	Ranges       []RangeRef
	// Refused are the bundle's files and archive entries that were not
	// read (refused by the bundle limits, unsafe, damaged beyond reading).
	Refused []Refused
	// Damaged are the event logs read only in part: their parse errors
	// stand for records (failures, boot markers) that may be missing.
	Damaged []Damaged
	// Scope says which of a bundle's hosts the case is, when the bundle
	// holds several (AssignHosts); nil for a case that is its bundle.
	Scope *Scope
	// UserPorts are extra needed ports from the user's --ports file, by
	// service key or display name (lower-cased).
	UserPorts map[string][]PortSpec
	Owners    Owners
	// Catalog is the port catalog; nil means DefaultCatalog().
	Catalog *Catalog
}

// Refused is a file or archive entry of a bundle that was not read, and
// why.
type Refused struct {
	Path   string
	Reason string
}

// Damaged is an event log that was read only in part.
type Damaged struct {
	Path    string
	Errors  int // parse errors that lost records: unreadable chunks, records, lines
	Records int // records read
}

// PortSpec is a protocol and port a service needs.
type PortSpec struct {
	Proto parsers.Proto
	Port  uint16
}

// Coverage is one check that could or could not run for a case, and why.
type Coverage struct {
	Check  string `json:"check"`
	Status string `json:"status"` // "ok", "missing", "partial"
	Reason string `json:"reason"`
}
