package correlate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// PIDSockets is implemented by an Owners that can also list the sockets
// one process held in one snapshot. Analyze uses it to learn the ports a
// service's process held in an earlier snapshot (PortSourceHistory);
// without it that source is skipped and Coverage says so.
type PIDSockets interface {
	SocketsOf(ctx context.Context, snapshotID int64, pid int) ([]SocketRef, error)
}

// Analysis limits, so that odd input cannot make the work explode.
const (
	// foldWindow: an SCM failure and a bind error of the same service this
	// close in time are one incident.
	foldWindow = 10 * time.Minute
	// maxSnapshotsChecked bounds the snapshots looked at per port.
	maxSnapshotsChecked = 16
	// maxHistoryPorts bounds the ports taken from an earlier snapshot.
	maxHistoryPorts = 16
	// maxListed bounds the extra owners and snapshots a reason lists.
	maxListed = 3
	// signalWindow relates a signal to a failure when there are no boots.
	signalWindow = time.Hour
)

var errNoOwners = errors.New("input has snapshots but no Owners")

// Analyze correlates one case (one host of one bundle): for every failure
// it finds the ports the service needed, who held them in the best
// snapshot, the verdict with its confidence and reasons, the culprit rule
// and its remedy, and the evidence for each claim. Coverage lists the
// checks that could not run and why. Signals (IPsec 4292, Tcpip
// 4227/4231/4266, DNS 411) give no finding of their own; they feed the
// reasons of the findings they bear on.
//
// Snapshot times are UTC except where CapturedLocal is set: that CapturedAt is the host's wall-clock time,
// converted with the offset of the boot it falls in (Session.UTCOffset), else Input.UTCOffset when known (see Zone). Analyze reads in.Owners only through OwnersOf, CountByPID
// and, when implemented, PIDSockets; their errors end the analysis.
func Analyze(ctx context.Context, in Input) ([]Finding, []Coverage, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	a, err := newAnalysis(resolveLocalTimes(in))
	if err != nil {
		return nil, nil, err
	}
	var findings []Finding
	for _, c := range a.buildIncidents() {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		fs, err := a.analyzeIncident(ctx, c)
		if err != nil {
			return nil, nil, err
		}
		findings = append(findings, fs...)
	}
	a.finishCoverage(findings)
	return findings, a.cov.list(), nil
}

// listing is a process listing (tasklist, tcpvcon) that is not itself a
// socket snapshot.
type listing struct {
	id       int64
	artifact string
	at       time.Time
	session  int
	refs     []ProcessRef
}

type portKey struct {
	proto parsers.Proto
	port  uint16
}

type countKey struct {
	snap int64
	pid  int
}

type analysis struct {
	in       Input
	cat      *Catalog
	sessions Sessions
	zone     Zone
	family   osFamily
	osLabel  string
	snaps    []placedSnapshot
	noPorts  []Snapshot
	// tables are the netsh artifacts, placed in their boots (ranges.go).
	tables []*rangeTable
	// staleTables are "kind artifact" keys of tables of another boot
	// that a failure could not use, for coverage.
	staleTables []string
	// procBySnap are process refs of socket snapshots (netstat -b, or a
	// tasklist the store tied to the snapshot).
	procBySnap  map[int64][]ProcessRef
	listings    []listing
	listingPick map[int64]*listing
	listingWhy  map[int64]string
	signals     []FailureRef
	ownersCache map[portKey][]SocketRef
	countCache  map[countKey]int
	cov         *coverage
	// what happened during the analysis, for coverage
	unmappedPIDs  int
	mappedPIDs    int
	localNoOffset bool
	// fallbackZone lists the local times converted with the case's offset
	// because their boot shows none of its own.
	fallbackZone []string
	// changedZone lists the local times of boots whose offset changed
	// during them (Session.OffsetChanged).
	changedZone   []string
	historyNeeded bool
	historyFailed bool
}

func newAnalysis(in Input) (*analysis, error) {
	a := &analysis{
		in:          in,
		cat:         in.Catalog,
		sessions:    BuildSessions(in.Boots),
		procBySnap:  map[int64][]ProcessRef{},
		listingPick: map[int64]*listing{},
		listingWhy:  map[int64]string{},
		ownersCache: map[portKey][]SocketRef{},
		countCache:  map[countKey]int{},
		cov:         &coverage{},
	}
	a.zone = CaseZone(a.sessions, in.UTCOffset, in.HasUTCOffset, in.ZoneSource)
	if a.cat == nil {
		cat, err := DefaultCatalog()
		if err != nil {
			return nil, err
		}
		a.cat = cat
	}
	osText := in.OSVersion
	if osText == "" {
		// 6009 says the version at each boot; the latest one counts.
		for _, b := range in.Boots {
			if b.Boot.OSVersion != "" {
				osText = b.Boot.OSVersion
			}
		}
	}
	a.family, a.osLabel = parseOSFamily(osText)

	socketIDs := map[int64]bool{}
	for _, s := range in.Snapshots {
		if s.NoPorts {
			a.noPorts = append(a.noPorts, s)
			continue
		}
		socketIDs[s.ID] = true
		a.snaps = append(a.snaps, a.place(s))
	}
	a.placeTables()
	if len(a.snaps) > 0 && in.Owners == nil {
		return nil, errNoOwners
	}
	byListing := map[int64]int{}
	for _, p := range in.Processes {
		if socketIDs[p.SnapshotID] {
			a.procBySnap[p.SnapshotID] = append(a.procBySnap[p.SnapshotID], p)
			continue
		}
		i, ok := byListing[p.SnapshotID]
		if !ok {
			at := p.CapturedAt.UTC()
			if p.CapturedLocal {
				// The boot's offset, else the case's; zero (not
				// comparable) when neither is known.
				lt := a.zone.ToUTC(at)
				at = lt.UTC
				a.noteFallback(lt, p.Artifact)
			}
			a.listings = append(a.listings, listing{id: p.SnapshotID, artifact: p.Artifact, at: at, session: a.sessions.At(at)})
			i = len(a.listings) - 1
			byListing[p.SnapshotID] = i
		}
		a.listings[i].refs = append(a.listings[i].refs, p)
	}
	for _, f := range in.Failures {
		if f.Failure.Kind == KindSignal {
			a.signals = append(a.signals, f)
		}
	}
	a.initCoverage()
	return a, nil
}

func (a *analysis) countByPID(ctx context.Context, snap int64, pid int) (int, error) {
	k := countKey{snap, pid}
	if n, ok := a.countCache[k]; ok {
		return n, nil
	}
	n, err := a.in.Owners.CountByPID(ctx, snap, parsers.UDP, pid)
	if err != nil {
		return 0, fmt.Errorf("count sockets of PID %d: %w", pid, err)
	}
	a.countCache[k] = n
	return n, nil
}

func (a *analysis) ownersOf(ctx context.Context, proto parsers.Proto, port uint16) ([]SocketRef, error) {
	k := portKey{proto, port}
	if refs, ok := a.ownersCache[k]; ok {
		return refs, nil
	}
	refs, err := a.in.Owners.OwnersOf(ctx, proto, port)
	if err != nil {
		return nil, fmt.Errorf("owners of %s %d: %w", proto, port, err)
	}
	a.ownersCache[k] = refs
	return refs, nil
}
