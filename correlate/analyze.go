package correlate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// Port sources (Finding.PortSource).
const (
	SourceEvent   = "event"
	SourceUser    = "user"
	SourceCatalog = "catalog"
	SourceHistory = "history"
)

// PIDSockets is implemented by an Owners that can also list the sockets
// one process held in one snapshot. Analyze uses it to learn the ports a
// service's process held in an earlier snapshot (the "history" source);
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

var errNoOwners = errors.New("correlate: input has snapshots but no Owners")

// Analyze correlates one case (one host of one bundle): for every failure
// it finds the ports the service needed, who held them in the best
// snapshot, the verdict with its confidence and reasons, the culprit rule
// and its remedy, and the evidence for each claim. Coverage lists the
// checks that could not run and why. Signals (IPsec 4292, Tcpip
// 4227/4231/4266, DNS 411) give no finding of their own; they feed the
// reasons of the findings they bear on.
//
// Snapshot times are UTC except where CapturedLocal is set (or the source
// is "zip-dos-local"): that CapturedAt is the host's wall-clock time, and
// Input.UTCOffset is applied to it when known. Analyze reads in.Owners only through OwnersOf, CountByPID
// and, when implemented, PIDSockets; their errors end the analysis.
func Analyze(ctx context.Context, in Input) ([]Finding, []Coverage, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	a, err := newAnalysis(in)
	if err != nil {
		return nil, nil, err
	}
	var findings []Finding
	for _, c := range a.buildCases() {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		fs, err := a.analyzeCase(ctx, c)
		if err != nil {
			return nil, nil, err
		}
		findings = append(findings, fs...)
	}
	a.finishCoverage(findings)
	return findings, a.cov.list(), nil
}

// placedSnapshot is a snapshot with its time made UTC and its boot session.
type placedSnapshot struct {
	Snapshot
	at       time.Time // zero when unknown
	trusted  bool
	timeNote string // why the time is not trusted, "" when it is
	session  int    // -1 when unknown
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
	family   osFamily
	osLabel  string
	snaps    []placedSnapshot
	noPorts  []Snapshot
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
			if p.CapturedLocal && in.HasUTCOffset {
				at = at.Add(-in.UTCOffset)
			} else if p.CapturedLocal {
				at = time.Time{} // local time, offset unknown: not comparable
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

// trustedSources are the capture-time sources a CONFIRMED verdict may rest on.
var trustedSources = []string{"flag", "timestamp-line", "zip-extended-utc", "file-name"}

// place puts a snapshot in time and in its boot session.
func (a *analysis) place(s Snapshot) placedSnapshot {
	p := placedSnapshot{Snapshot: s, session: -1}
	if s.CapturedAt.IsZero() {
		p.timeNote = "its capture time is unknown"
		return p
	}
	p.at = s.CapturedAt.UTC()
	local := s.CapturedLocal || s.CaptureSource == "zip-dos-local"
	switch {
	case local && !a.in.HasUTCOffset:
		p.timeNote = fmt.Sprintf("its capture time (from %s) is the host's local time, and the host's UTC offset is unknown: it may be off by up to 14 hours", captureSourceText(s.CaptureSource))
		a.localNoOffset = true
	case local && (s.CaptureSource == "zip-dos-local" || slices.Contains(trustedSources, s.CaptureSource)):
		p.at = p.at.Add(-a.in.UTCOffset)
		p.trusted = true
	case slices.Contains(trustedSources, s.CaptureSource):
		p.trusted = true
	case s.CaptureSource == "":
		p.timeNote = "the source of its capture time is unknown"
	default:
		p.timeNote = fmt.Sprintf("its capture time comes from %s, which copying or archiving can change", captureSourceText(s.CaptureSource))
	}
	p.session = a.sessions.At(p.at)
	return p
}

func captureSourceText(src string) string {
	switch src {
	case "file-mtime":
		return "the file's modification time"
	case "tar":
		return "the tar entry's time"
	case "gzip":
		return "the gzip header's time"
	}
	return "the " + src + " time"
}

// ---------------------------------------------------------------------------
// Failure cases

// failureCase is one incident: a failure, with the events of the same
// service folded into it (an SCM 7024 and the Apache 3299 that names the
// address, a SQL 26023 and its 17182).
type failureCase struct {
	primary FailureRef
	related []FailureRef
	key     string // resolved service key, "" when unknown
	keyWhy  string // how the key was found, when not from the event
	class   ErrorClass
	session int
}

func (c *failureCase) all() []FailureRef {
	return append([]FailureRef{c.primary}, c.related...)
}

// displayName prefers the SCM display name, else the primary's service.
func (c *failureCase) displayName() string {
	for _, f := range c.all() {
		if f.Failure.Kind == KindServiceFailure && f.Failure.Service != "" {
			return f.Failure.Service
		}
	}
	if c.primary.Failure.Service != "" {
		return c.primary.Failure.Service
	}
	return c.key
}

// names are the display names of the case, for catalog and user lookups.
func (c *failureCase) names() []string {
	var out []string
	for _, f := range c.all() {
		if n := strings.TrimSpace(f.Failure.Service); n != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, n) }) {
			out = append(out, n)
		}
	}
	return out
}

// label is "Internet Authentication Service (IAS)".
func (c *failureCase) label() string {
	name := c.displayName()
	switch {
	case name == "" && c.key == "":
		return "An unnamed service"
	case name == "" || strings.EqualFold(name, c.key):
		return orDefault(name, c.key)
	case c.key == "":
		return name
	}
	return name + " (" + c.key + ")"
}

func classRank(c ErrorClass) int {
	switch c {
	case ClassPortConflict:
		return 3
	case ClassPossiblyPort:
		return 2
	case ClassUnknown, "":
		return 1
	}
	return 0
}

// resolveKey finds a failure's service key: the event's own, else the
// catalog's entry for its display name.
func (a *analysis) resolveKey(f Failure) (key, why string) {
	if f.ServiceKey != "" {
		return f.ServiceKey, ""
	}
	if e, dn, ok := a.cat.ByName(f.Service); ok && !isPattern(e.Key) {
		lang := ""
		if dn.Lang != "" {
			lang = " (" + dn.Lang + ")"
		}
		return e.Key, fmt.Sprintf("The event gives only the display name %q; the catalog knows it%s as the service %s.", f.Service, lang, e.Key)
	}
	return "", ""
}

func sameService(a, b *failureCase) bool {
	if a.key != "" && b.key != "" {
		return strings.EqualFold(a.key, b.key)
	}
	for _, x := range a.names() {
		for _, y := range b.names() {
			if strings.EqualFold(x, y) {
				return true
			}
		}
		if b.key != "" && strings.EqualFold(x, b.key) {
			return true
		}
	}
	for _, y := range b.names() {
		if a.key != "" && strings.EqualFold(y, a.key) {
			return true
		}
	}
	return false
}

func within(a, b time.Time, d time.Duration) bool {
	if a.IsZero() || b.IsZero() {
		return false
	}
	x := a.Sub(b)
	return x <= d && x >= -d
}

// buildCases groups the failures into incidents: every bind error that
// names its port is a case and takes in the other failures of the same
// service within foldWindow; the remaining failures of one service within
// foldWindow form one case; a not-port-related SCM failure is always its
// own case.
func (a *analysis) buildCases() []*failureCase {
	var singles []*failureCase
	for _, f := range a.in.Failures {
		if f.Failure.Kind == KindSignal {
			continue
		}
		c := &failureCase{primary: f, class: f.Failure.Class}
		c.key, c.keyWhy = a.resolveKey(f.Failure)
		singles = append(singles, c)
	}
	slices.SortStableFunc(singles, func(x, y *failureCase) int { return x.primary.Failure.Time.Compare(y.primary.Failure.Time) })

	var cases []*failureCase
	folded := make([]bool, len(singles))
	isPortBind := func(c *failureCase) bool {
		return c.primary.Failure.Kind == KindBindError && c.primary.Failure.HasPort
	}
	for i, c := range singles {
		if isPortBind(c) {
			cases = append(cases, c)
			folded[i] = true
		}
	}
	for i, c := range singles {
		if folded[i] || c.class == ClassNotPort {
			continue
		}
		for _, p := range cases {
			if isPortBind(p) && sameService(p, c) && within(p.primary.Failure.Time, c.primary.Failure.Time, foldWindow) {
				p.related = append(p.related, c.primary)
				if p.key == "" {
					p.key, p.keyWhy = c.key, c.keyWhy
				}
				folded[i] = true
			}
		}
	}
	var rest []*failureCase
	for i, c := range singles {
		if folded[i] {
			continue
		}
		if c.class != ClassNotPort {
			if n := len(rest); n > 0 {
				if last := rest[n-1]; last.class != ClassNotPort && sameService(last, c) &&
					within(last.primary.Failure.Time, c.primary.Failure.Time, foldWindow) {
					last.related = append(last.related, c.primary)
					continue
				}
			}
		}
		rest = append(rest, c)
	}
	cases = append(cases, rest...)
	for _, c := range cases {
		// The primary is the strongest evidence of a conflict.
		all := c.all()
		best := 0
		for i, f := range all {
			if classRank(f.Failure.Class) > classRank(all[best].Failure.Class) ||
				classRank(f.Failure.Class) == classRank(all[best].Failure.Class) && f.Failure.HasPort && !all[best].Failure.HasPort {
				best = i
			}
		}
		if best != 0 {
			c.primary, all[best] = all[best], c.primary
			c.related = all[1:]
		}
		c.class = c.primary.Failure.Class
		if c.class == "" {
			c.class = ClassUnknown
		}
		slices.SortStableFunc(c.related, func(x, y FailureRef) int { return x.Failure.Time.Compare(y.Failure.Time) })
		c.session = a.sessions.At(c.primary.Failure.Time)
	}
	slices.SortStableFunc(cases, func(x, y *failureCase) int { return x.primary.Failure.Time.Compare(y.primary.Failure.Time) })
	return cases
}

// ---------------------------------------------------------------------------
// One case

func (a *analysis) analyzeCase(ctx context.Context, c *failureCase) ([]Finding, error) {
	if c.class == ClassNotPort {
		return []Finding{a.notPortFinding(c)}, nil
	}
	ports, err := a.neededPorts(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(ports) == 0 {
		return []Finding{a.portUnknownFinding(c)}, nil
	}
	out := make([]Finding, 0, len(ports))
	for _, p := range ports {
		f, err := a.portFinding(ctx, c, p, ports)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// newFinding fills what every finding of a case shares.
func (a *analysis) newFinding(c *failureCase) Finding {
	f := c.primary.Failure
	fd := Finding{
		Bundle: a.in.Bundle, Host: a.in.Host,
		Service: c.displayName(), ServiceKey: c.key,
		FailureTime: f.Time, EventID: f.EventID,
		ErrorCode: f.ErrorCode, HasError: f.HasError, ErrorClass: c.class,
		OwnerPID: -1,
	}
	fd.Reasons = append(fd.Reasons, a.failureSummary(c))
	if c.keyWhy != "" {
		fd.Reasons = append(fd.Reasons, c.keyWhy)
	}
	for _, r := range c.all() {
		fd.Evidence = append(fd.Evidence, failureEvidence(r))
	}
	if r, ev := a.sessionReason(c); r != "" {
		fd.Reasons = append(fd.Reasons, r)
		fd.Evidence = append(fd.Evidence, ev...)
	}
	return fd
}

func (a *analysis) failureSummary(c *failureCase) string {
	f := c.primary.Failure
	s := fmt.Sprintf("%s failed at %s: event %d from %s%s.", c.label(), fmtTime(f.Time), f.EventID, orDefault(f.Provider, "an unknown provider"), errorPart(f))
	for _, r := range c.related {
		s += fmt.Sprintf(" It also logged event %d from %s at %s%s.", r.Failure.EventID, orDefault(r.Failure.Provider, "an unknown provider"), fmtTime(r.Failure.Time), errorPart(r.Failure))
	}
	return s
}

func errorPart(f Failure) string {
	switch {
	case !f.HasError:
		return ""
	case f.ServiceSpecific:
		return fmt.Sprintf(", service-specific exit code %d, %s", f.ErrorCode, classText(f.Class))
	}
	return fmt.Sprintf(", error %s, %s", FormatCode(f.ErrorCode), classText(f.Class))
}

func classText(c ErrorClass) string {
	switch c {
	case ClassPortConflict:
		return "a port conflict"
	case ClassPossiblyPort:
		return "often a hidden bind failure"
	case ClassNotPort:
		return "not a port problem"
	}
	return "an error portmortem does not know"
}

func failureEvidence(r FailureRef) Evidence {
	f := r.Failure
	who := orDefault(f.Service, f.Provider)
	if f.Kind == KindSignal {
		who = orDefault(f.Provider, f.Service)
	}
	claim := fmt.Sprintf("%s logged event %d at %s", who, f.EventID, fmtTime(f.Time))
	if f.HasError {
		claim += " with " + strings.TrimPrefix(errorPart(f), ", ")
	}
	if f.HasPort && f.Kind != KindSignal {
		claim += "; it names " + endpointText(&f)
	}
	if f.Recovered {
		claim += " (record recovered from a damaged log)"
	}
	return Evidence{Artifact: r.Artifact, Channel: f.Channel, RecordID: f.RecordID, Text: f.Message, Claim: claim + "."}
}

// sessionReason places the failure in its boot session.
func (a *analysis) sessionReason(c *failureCase) (string, []Evidence) {
	if len(a.sessions) == 0 || c.primary.Failure.Time.IsZero() {
		return "", nil
	}
	if c.session < 0 {
		return "The failure comes before the first boot marker in the logs, so its boot session is unknown.", nil
	}
	s := a.sessions[c.session]
	r := fmt.Sprintf("It happened in boot session %d, which started at %s (%s).", s.Index+1, fmtTime(s.Start), s.StartSource)
	if s.AfterDirty {
		r += " That boot followed an unexpected shutdown."
	}
	return r, bootEvidence(s)
}

func bootEvidence(s Session) []Evidence {
	var out []Evidence
	for _, b := range s.Starts {
		m := b.Boot
		out = append(out, Evidence{Artifact: b.Artifact, Channel: m.Channel, RecordID: m.RecordID, Text: m.Message,
			Claim: fmt.Sprintf("%s at %s marks the start of boot session %d.", markerName(m), fmtTime(m.Time), s.Index+1)})
	}
	return out
}

func (a *analysis) notPortFinding(c *failureCase) Finding {
	fd := a.newFinding(c)
	f := c.primary.Failure
	fd.Verdict, fd.Confidence = NotPortRelated, 0.9
	switch {
	case f.EventID == 7001 && f.Dependency != "":
		r := fmt.Sprintf("%s did not start because the service it depends on, %s, failed first%s. Look at %s's own failure, not at ports.",
			c.label(), f.Dependency, errorPart(f), f.Dependency)
		if dep := a.dependencyFailure(c, f.Dependency); dep != nil {
			r += fmt.Sprintf(" %s logged event %d at %s%s.", f.Dependency, dep.Failure.EventID, fmtTime(dep.Failure.Time), errorPart(dep.Failure))
			fd.Evidence = append(fd.Evidence, failureEvidence(*dep))
		} else {
			r += " No failure of " + f.Dependency + " was found in the logs supplied."
		}
		fd.Reasons = append(fd.Reasons, r)
		fd.Confidence = 0.8
	case f.HasError:
		info, _ := LookupError(f.ErrorCode)
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("%d: %s. This is not a port conflict, so no port was checked.",
			f.ErrorCode, strings.TrimSuffix(shortErrorText(info), ".")))
	default:
		fd.Reasons = append(fd.Reasons, "The error names a cause other than a port, so no port was checked.")
	}
	return fd
}

// shortErrorText gives a plain reading of the not-port errors people meet.
func shortErrorText(info ErrorInfo) string {
	switch info.Code {
	case 1058:
		return "the service is disabled (or has no enabled devices)"
	case 1069, 1326, 1385:
		return "the service account could not log on"
	case 2, 3:
		return "the service's program file or path was not found"
	case 5:
		return "access was denied"
	case 1068:
		return "a service it depends on failed to start"
	}
	if info.Text != "" {
		return info.Text
	}
	return "the error is not a bind error"
}

func (a *analysis) dependencyFailure(c *failureCase, dep string) *FailureRef {
	var best *FailureRef
	for i := range a.in.Failures {
		f := &a.in.Failures[i]
		if f.Failure.Kind != KindServiceFailure || f.Failure.RecordID == c.primary.Failure.RecordID && f.Failure.Time.Equal(c.primary.Failure.Time) {
			continue
		}
		if !strings.EqualFold(f.Failure.Service, dep) && !strings.EqualFold(f.Failure.ServiceKey, dep) {
			continue
		}
		if !within(f.Failure.Time, c.primary.Failure.Time, 6*time.Hour) {
			continue
		}
		if best == nil || f.Failure.Time.After(best.Failure.Time) && !f.Failure.Time.After(c.primary.Failure.Time) {
			best = f
		}
	}
	return best
}

func (a *analysis) portUnknownFinding(c *failureCase) Finding {
	fd := a.newFinding(c)
	fd.Verdict = PortUnknown
	fd.Reasons = append(fd.Reasons, fmt.Sprintf(
		"No port could be found for %s: the event names none, the --ports file has no entry for it, the catalog does not know it by key, display name or image, and no earlier snapshot shows its process holding ports. Give its ports in a --ports file to check them.",
		c.label()))
	return fd
}

// ---------------------------------------------------------------------------
// Needed ports

// neededPort is one port a case needs, with where it comes from.
type neededPort struct {
	PortSpec
	Addr   netip.Addr
	Source string
	Why    string
	Ev     []Evidence
}

func (a *analysis) neededPorts(ctx context.Context, c *failureCase) ([]neededPort, error) {
	f := c.primary.Failure
	if f.HasPort && f.Port != 0 {
		proto := f.Proto
		if proto == "" {
			proto = parsers.TCP
		}
		return []neededPort{{PortSpec: PortSpec{proto, f.Port}, Addr: f.Addr, Source: SourceEvent,
			Why: fmt.Sprintf("The port comes from the event itself: %s %s.", proto, endpointText(&f))}}, nil
	}
	if ps, name := a.userPorts(c); len(ps) > 0 {
		return specPorts(ps, SourceUser, fmt.Sprintf("The port comes from the --ports file, which lists %s for %s.", specsText(ps), name)), nil
	}
	if e, how, ok := a.catalogEntry(c); ok && len(e.Ports) > 0 {
		origin := "built-in catalog"
		if e.User {
			origin = "user's catalog file"
		}
		why := fmt.Sprintf("The port comes from the %s, which finds the service %s and lists %s for %s", origin, how, specsText(e.Ports), e.Key)
		if src, _, _ := strings.Cut(e.Source, " "); strings.HasPrefix(src, "KB") {
			why += " (" + strings.TrimRight(src, ";,") + ")"
		}
		why += "; a service configured for other ports would not match."
		return specPorts(e.Ports, SourceCatalog, why), nil
	}
	return a.historyPorts(ctx, c)
}

func specPorts(ps []PortSpec, source, why string) []neededPort {
	out := make([]neededPort, 0, len(ps))
	seen := map[PortSpec]bool{}
	for _, p := range ps {
		if p.Port == 0 || p.Proto != parsers.TCP && p.Proto != parsers.UDP || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, neededPort{PortSpec: p, Source: source, Why: why})
	}
	return out
}

func specsText(ps []PortSpec) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s %d", p.Proto, p.Port))
	}
	return strings.Join(parts, ", ")
}

func (a *analysis) userPorts(c *failureCase) ([]PortSpec, string) {
	if len(a.in.UserPorts) == 0 {
		return nil, ""
	}
	for _, n := range append([]string{c.key}, c.names()...) {
		if n == "" {
			continue
		}
		if ps := a.in.UserPorts[strings.ToLower(n)]; len(ps) > 0 {
			return ps, n
		}
	}
	return nil, ""
}

// catalogEntry finds the case's service in the catalog: by key, then by
// display name, then by the image of a process that hosted the service.
func (a *analysis) catalogEntry(c *failureCase) (CatalogEntry, string, bool) {
	if c.key != "" {
		if e, ok := a.cat.ByKey(c.key); ok {
			return e, "by its key " + c.key, true
		}
	}
	for _, n := range c.names() {
		if e, dn, ok := a.cat.ByName(n); ok {
			how := fmt.Sprintf("by its display name %q", n)
			if dn.Lang != "" {
				how += " (" + dn.Lang + ")"
			}
			return e, how, true
		}
	}
	if img := a.serviceImage(c); img != "" {
		if e, ok := a.cat.ByImage(img); ok {
			return e, "by its image " + img, true
		}
	}
	return CatalogEntry{}, "", false
}

// serviceImage is the image of a process that hosted the failed service
// in any snapshot or listing, when it is not a shared host.
func (a *analysis) serviceImage(c *failureCase) string {
	if c.key == "" {
		return ""
	}
	for _, p := range a.in.Processes {
		if hostsKey(p.Process.Services, c.key) && !isSharedHost(p.Process.Image) {
			return p.Process.Image
		}
	}
	return ""
}

func hostsKey(services []string, key string) bool {
	return key != "" && slices.ContainsFunc(services, func(s string) bool { return strings.EqualFold(s, key) })
}

// historyPorts are the listening and UDP ports the service's own process
// held in a snapshot where it ran: the latest before the failure first.
func (a *analysis) historyPorts(ctx context.Context, c *failureCase) ([]neededPort, error) {
	if c.key == "" || len(a.snaps) == 0 {
		return nil, nil
	}
	a.historyNeeded = true
	ps, ok := a.in.Owners.(PIDSockets)
	if !ok {
		a.historyFailed = true
		return nil, nil
	}
	ft := c.primary.Failure.Time
	order := make([]*placedSnapshot, 0, len(a.snaps))
	for i := range a.snaps {
		order = append(order, &a.snaps[i])
	}
	slices.SortStableFunc(order, func(x, y *placedSnapshot) int {
		xb, yb := !x.at.IsZero() && x.at.Before(ft), !y.at.IsZero() && y.at.Before(ft)
		if xb != yb {
			if xb {
				return -1
			}
			return 1
		}
		if xb {
			return y.at.Compare(x.at) // latest before the failure first
		}
		return x.at.Compare(y.at)
	})
	for _, s := range order {
		pid, ev, others := a.servicePID(s, c.key)
		if pid < 0 {
			continue
		}
		refs, err := ps.SocketsOf(ctx, s.ID, pid)
		if err != nil {
			return nil, fmt.Errorf("correlate: sockets of PID %d in %s: %w", pid, s.Artifact, err)
		}
		var specs []PortSpec
		var evs []Evidence
		for _, r := range refs {
			sk := r.Socket
			if !sk.HasPort || sk.LocalPort == 0 || !sk.Listening() || sk.PID != pid {
				continue
			}
			p := PortSpec{sk.Proto, sk.LocalPort}
			if slices.Contains(specs, p) {
				continue
			}
			specs = append(specs, p)
			evs = append(evs, Evidence{Artifact: s.Artifact, Line: r.Line, Text: socketText(&sk),
				Claim: fmt.Sprintf("The process of %s (PID %d) held %s %d in this earlier snapshot.", c.key, pid, sk.Proto, sk.LocalPort)})
		}
		if len(specs) == 0 {
			continue
		}
		slices.SortFunc(specs, func(x, y PortSpec) int {
			return cmp.Or(cmp.Compare(x.Proto, y.Proto), cmp.Compare(x.Port, y.Port))
		})
		why := fmt.Sprintf("The port comes from snapshot %s, where the process hosting %s (PID %d) held %s.", s.Artifact, c.key, pid, specsText(specs))
		if len(specs) > maxHistoryPorts {
			why += fmt.Sprintf(" Only the first %d of its %d ports are checked.", maxHistoryPorts, len(specs))
			specs = specs[:maxHistoryPorts]
		}
		if len(others) > 0 {
			why += fmt.Sprintf(" That process also hosts %s, so some of these ports may be theirs.", strings.Join(others, ", "))
		}
		out := specPorts(specs, SourceHistory, why)
		for i := range out {
			out[i].Ev = append([]Evidence{ev}, evs...)
		}
		return out, nil
	}
	return nil, nil
}

// servicePID finds the PID hosting key in a snapshot (with the mapping's
// evidence and the other services of that process), or -1.
func (a *analysis) servicePID(s *placedSnapshot, key string) (int, Evidence, []string) {
	for _, p := range a.processRefs(s) {
		if hostsKey(p.Process.Services, key) {
			var others []string
			for _, o := range p.Process.Services {
				if !strings.EqualFold(o, key) {
					others = append(others, o)
				}
			}
			return p.Process.PID, processEvidence(p, ""), others
		}
	}
	return -1, Evidence{}, nil
}

// ---------------------------------------------------------------------------
// One port

type tier int

const (
	tierSameAfter tier = iota
	tierSameBefore
	tierLater
	tierEarlier
	tierUnknown
)

// tierOf ranks a snapshot for a failure: the same boot after the failure
// is best (its PIDs are the failure's), then the same boot before it, then
// later boots, then earlier ones; snapshots that cannot be placed last.
func (a *analysis) tierOf(c *failureCase, s *placedSnapshot) tier {
	ft := c.primary.Failure.Time
	if ft.IsZero() || s.at.IsZero() || len(a.sessions) == 0 {
		return tierUnknown
	}
	fs, ss := c.session, s.session
	switch {
	case fs < 0 && ss < 0:
		return tierUnknown
	case fs < 0:
		return tierLater // the failure precedes the first boot start, the snapshot follows one
	case ss < 0:
		return tierEarlier
	case fs == ss && !s.at.Before(ft):
		return tierSameAfter
	case fs == ss:
		return tierSameBefore
	case ss > fs:
		return tierLater
	}
	return tierEarlier
}

func (a *analysis) orderSnapshots(c *failureCase) []*placedSnapshot {
	ft := c.primary.Failure.Time
	out := make([]*placedSnapshot, 0, len(a.snaps))
	for i := range a.snaps {
		out = append(out, &a.snaps[i])
	}
	dist := func(s *placedSnapshot) time.Duration {
		if s.at.IsZero() || ft.IsZero() {
			return math.MaxInt64
		}
		d := s.at.Sub(ft)
		if d < 0 {
			return -d
		}
		return d
	}
	after := func(s *placedSnapshot) bool { return !s.at.IsZero() && !ft.IsZero() && !s.at.Before(ft) }
	slices.SortStableFunc(out, func(x, y *placedSnapshot) int {
		tx, ty := a.tierOf(c, x), a.tierOf(c, y)
		if tx != ty {
			return cmp.Compare(tx, ty)
		}
		if tx == tierUnknown && after(x) != after(y) {
			if after(x) {
				return -1
			}
			return 1
		}
		if x.trusted != y.trusted {
			if x.trusted {
				return -1
			}
			return 1
		}
		return cmp.Compare(dist(x), dist(y))
	})
	if len(out) > maxSnapshotsChecked {
		out = out[:maxSnapshotsChecked]
	}
	return out
}

// snapshotReason says which snapshot was used and why.
func (a *analysis) snapshotReason(c *failureCase, o *observation) string {
	s := o.snap
	ft := c.primary.Failure.Time
	rel := ""
	if !s.at.IsZero() && !ft.IsZero() {
		if s.at.Before(ft) {
			rel = fmtDur(ft.Sub(s.at)) + " before the failure"
		} else {
			rel = fmtDur(s.at.Sub(ft)) + " after the failure"
		}
	}
	var r string
	switch o.tier {
	case tierSameAfter:
		r = fmt.Sprintf("Snapshot %s was taken %s, in the same boot session, so its PIDs are those of the failure's boot.", s.Artifact, rel)
	case tierSameBefore:
		r = fmt.Sprintf("Snapshot %s was taken %s, in the same boot session (PIDs are comparable); no snapshot of that boot was taken after the failure.", s.Artifact, rel)
	case tierLater:
		r = fmt.Sprintf("Snapshot %s comes from a later boot session (taken %s): PIDs are not comparable across boots, so the process holding the port then need not be the one that held it at the failure, though the same program holding it again is a strong hint.", s.Artifact, rel)
	case tierEarlier:
		r = fmt.Sprintf("Snapshot %s comes from an earlier boot session (taken %s): PIDs are not comparable across boots, so it shows who held the port in that boot, not at the failure.", s.Artifact, rel)
	default:
		switch {
		case s.at.IsZero():
			r = fmt.Sprintf("The capture time of snapshot %s is unknown, so it cannot be placed relative to the failure or in a boot session.", s.Artifact)
		case c.primary.Failure.Time.IsZero():
			r = fmt.Sprintf("The failure's time is unknown, so snapshot %s cannot be placed relative to it.", s.Artifact)
		case len(a.sessions) == 0:
			r = fmt.Sprintf("Snapshot %s was taken %s; no boot markers were supplied, so whether the host rebooted in between is unknown.", s.Artifact, rel)
		default:
			r = fmt.Sprintf("Snapshot %s was taken %s; both precede the first boot marker in the logs, so whether they share a boot is unknown.", s.Artifact, rel)
		}
	}
	if s.timeNote != "" && !s.at.IsZero() {
		r += " Its time is uncertain: " + s.timeNote + "."
	}
	return r
}

// portFinding gives the verdict for one needed port of a case.
func (a *analysis) portFinding(ctx context.Context, c *failureCase, p neededPort, all []neededPort) (Finding, error) {
	fd := a.newFinding(c)
	fd.Proto, fd.Port, fd.PortSource = p.Proto, p.Port, p.Source
	fd.Reasons = append(fd.Reasons, p.Why)
	fd.Evidence = append(fd.Evidence, p.Ev...)
	signalReasons, signalEv := a.relatedSignals(c, p)
	rng, rngRef := a.excludedRange(p)

	if len(a.snaps) == 0 {
		fd.Verdict = NoSnapshot
		r := fmt.Sprintf("No socket snapshot (netstat -ano, Get-NetTCPConnection/Get-NetUDPEndpoint, tcpvcon with ports) was supplied, so who held %s %d cannot be checked.", p.Proto, p.Port)
		if len(a.noPorts) > 0 {
			r += fmt.Sprintf(" %s lists sockets without ports (Tcpvcon 4.x), which cannot show a port's owner.", a.noPorts[0].Artifact)
		}
		fd.Reasons = append(fd.Reasons, r)
		for _, r := range signalReasons {
			fd.Reasons = append(fd.Reasons, r.text)
		}
		fd.Evidence = append(fd.Evidence, signalEv...)
		if rngRef != nil {
			fd.Reasons = append(fd.Reasons, fmt.Sprintf("%s %d lies in the excluded port range %d-%d, which by itself makes a bind fail with 10013.", p.Proto, p.Port, rng.Start, rng.End))
			fd.Evidence = append(fd.Evidence, rangeEvidence(*rngRef, p.Proto))
			fd.Rule = RuleExcludedRange
			fd.Remedy, fd.KB = remedyFor(a.remedyInput(c, p, all, RuleExcludedRange, nil, rng))
		}
		fd.Remedy = append(fd.Remedy, collectLines(a.family, p.Proto)...)
		return fd, nil
	}

	var obs []*observation
	for _, s := range a.orderSnapshots(c) {
		o, err := a.observe(ctx, c, p, s)
		if err != nil {
			return Finding{}, err
		}
		obs = append(obs, o)
	}
	chosen := obs[0]
	if len(chosen.owners) == 0 {
		for _, o := range obs[1:] {
			if len(o.owners) > 0 && (o.tier == tierSameBefore || chosen.tier != tierSameAfter) {
				chosen = o
				break
			}
		}
	}
	fd.Snapshot = chosen.snap.Artifact
	fd.Reasons = append(fd.Reasons, a.snapshotReason(c, chosen))
	if chosen != obs[0] {
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("The preferred snapshot, %s, shows %s %d free; %s is used because it shows an owner.", obs[0].snap.Artifact, p.Proto, p.Port, chosen.snap.Artifact))
	}
	if s := a.snapshotSession(chosen.snap); s != nil && chosen.snap.session != c.session {
		fd.Evidence = append(fd.Evidence, bootEvidence(*s)...)
	}

	switch {
	case len(chosen.owners) > 0:
		if err := a.ownerVerdict(ctx, c, p, all, chosen, &fd); err != nil {
			return Finding{}, err
		}
	case rngRef != nil:
		a.rangeVerdict(c, p, all, chosen, rng, *rngRef, &fd)
	default:
		a.freeVerdict(c, p, chosen, &fd)
	}
	fd.Reasons = append(fd.Reasons, a.otherObservations(obs, chosen, p)...)
	for _, r := range signalReasons {
		if fd.Rule == RuleIPsecBlockMode && r.eventID == 4292 {
			continue // the rule's own reason says it
		}
		fd.Reasons = append(fd.Reasons, r.text)
	}
	fd.Evidence = append(fd.Evidence, signalEv...)
	fd.Confidence = math.Round(clamp01(fd.Confidence)*100) / 100
	return fd, nil
}

func (a *analysis) snapshotSession(s *placedSnapshot) *Session {
	if s.session < 0 || s.session >= len(a.sessions) {
		return nil
	}
	return &a.sessions[s.session]
}

// otherObservations mentions what the other snapshots showed.
func (a *analysis) otherObservations(obs []*observation, chosen *observation, p neededPort) []string {
	var out []string
	for _, o := range obs {
		if o == chosen || len(out) >= maxListed {
			continue
		}
		if len(o.owners) > 0 {
			h := o.owners[0]
			out = append(out, fmt.Sprintf("In snapshot %s (%s), %s held %s %d.", o.snap.Artifact, tierText(o.tier), h.describe(), p.Proto, p.Port))
		}
	}
	return out
}

func tierText(t tier) string {
	switch t {
	case tierSameAfter:
		return "same boot, after the failure"
	case tierSameBefore:
		return "same boot, before the failure"
	case tierLater:
		return "a later boot"
	case tierEarlier:
		return "an earlier boot"
	}
	return "boot unknown"
}

// ownerVerdict: CONFIRMED or PROBABLE, with the culprit rule.
func (a *analysis) ownerVerdict(ctx context.Context, c *failureCase, p neededPort, all []neededPort, o *observation, fd *Finding) error {
	h := o.owners[0]
	fd.OwnerPID, fd.OwnerImage, fd.OwnerServices = h.pid, h.image, h.services
	fd.Reasons = append(fd.Reasons, h.heldText(o.snap.Artifact, p))
	fd.Evidence = append(fd.Evidence, h.socketEvidence(o.snap.Artifact, p))
	if h.mapNote != "" {
		fd.Reasons = append(fd.Reasons, h.mapNote)
	}
	if h.procEv != nil {
		fd.Evidence = append(fd.Evidence, *h.procEv)
	}
	for i, x := range o.owners[1:] {
		if i >= maxListed {
			break
		}
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("Also on that port in the same snapshot: %s.", x.describe()))
		fd.Evidence = append(fd.Evidence, x.socketEvidence(o.snap.Artifact, p))
	}
	fd.Reasons = append(fd.Reasons, o.notes()...)

	// Confidence: the snapshot's placement, the port's source, the error.
	conf := map[tier]float64{tierSameAfter: 0.95, tierSameBefore: 0.75, tierLater: 0.5, tierEarlier: 0.4, tierUnknown: 0.5}[o.tier]
	if o.tier == tierSameAfter && !o.snap.trusted {
		conf = 0.75
	}
	if o.tier == tierUnknown && o.snap.at.IsZero() {
		conf = 0.45
	}
	confirmed := o.tier == tierSameAfter && o.snap.trusted
	switch p.Source {
	case SourceCatalog:
		if c.class == ClassPortConflict {
			conf *= 0.9
		} else {
			conf *= 0.75
			confirmed = false
		}
	case SourceHistory:
		conf *= 0.8
		confirmed = false
	}
	switch c.class {
	case ClassPossiblyPort:
		conf *= 0.85
	case ClassUnknown:
		conf *= 0.8
	}
	if r, bound := a.createdText(h, c); r != "" {
		fd.Reasons = append(fd.Reasons, r)
		switch bound {
		case boundBefore:
			conf += 0.03
		case boundAfter:
			conf *= 0.7
			confirmed = false
		}
	}
	fd.Verdict, fd.Confidence = Probable, conf
	if confirmed {
		fd.Verdict = Confirmed
	}
	switch {
	case confirmed && p.Source == SourceCatalog:
		fd.Reasons = append(fd.Reasons, "Confirmed: the error says the bind failed for a conflict, and the port the catalog names for this service was held by another process in the failure's boot after the failure.")
	case !confirmed && o.tier == tierSameAfter && !o.snap.trusted:
		fd.Reasons = append(fd.Reasons, "Probable rather than confirmed: the snapshot's capture time is not trustworthy, so it may not follow the failure in the same boot.")
	case !confirmed && p.Source == SourceCatalog && c.class != ClassPortConflict:
		fd.Reasons = append(fd.Reasons, "Probable rather than confirmed: the port comes from the catalog and the error does not itself say the bind failed.")
	case !confirmed && p.Source == SourceHistory:
		fd.Reasons = append(fd.Reasons, "Probable rather than confirmed: the port comes only from what the service's process held in an earlier snapshot.")
	}

	facts, err := a.ruleFacts(ctx, c, p, o, h)
	if err != nil {
		return err
	}
	m := matchRule(facts)
	fd.Rule = m.Rule
	fd.Reasons = append(fd.Reasons, m.Reasons...)
	fd.Remedy, fd.KB = remedyFor(a.remedyInput(c, p, all, m.Rule, &h, nil))
	return nil
}

type boundWhen int

const (
	boundUnknown boundWhen = iota
	boundBefore
	boundAfter
)

// createdText compares the socket's bind time (Get-NetTCPConnection
// CreationTime) with the failure's time.
func (a *analysis) createdText(h holder, c *failureCase) (string, boundWhen) {
	s := h.ref.Socket
	ft := c.primary.Failure.Time
	if s.CreatedAt.IsZero() || ft.IsZero() {
		return "", boundUnknown
	}
	at := s.CreatedAt.UTC()
	if s.CreatedLocal {
		if !a.in.HasUTCOffset {
			a.localNoOffset = true
			return fmt.Sprintf("The socket's bind time (%s) is the host's local time and its UTC offset is unknown, so it was not compared with the failure's time.", s.CreatedAt.Format("2006-01-02 15:04:05")), boundUnknown
		}
		at = at.Add(-a.in.UTCOffset)
	}
	if at.After(ft) {
		return fmt.Sprintf("The socket was bound at %s, %s after the failure at %s: it may have taken the port after the service gave up.", fmtTime(at), fmtDur(at.Sub(ft)), fmtTime(ft)), boundAfter
	}
	return fmt.Sprintf("The socket was bound at %s, before the failure at %s.", fmtTime(at), fmtTime(ft)), boundBefore
}

// rangeVerdict: no owner, and the port lies in an excluded range.
func (a *analysis) rangeVerdict(c *failureCase, p neededPort, all []neededPort, o *observation, rng *parsers.PortRange, ref RangeRef, fd *Finding) {
	kind := "a dynamic reservation (no *: WinNAT for Hyper-V, WSL 2 or Docker reserves such blocks at each boot)"
	if rng.Administered {
		kind = "an administered exclusion (*: added on purpose with netsh or by an installer)"
	}
	fd.Verdict = ReservedRange
	fd.Reasons = append(fd.Reasons, fmt.Sprintf(
		"Nothing held %s %d in snapshot %s, and it lies in the excluded port range %d-%d, %s. A bind to a port in an excluded range fails with 10013 (WSAEACCES) while netstat shows no owner.",
		p.Proto, p.Port, o.snap.Artifact, rng.Start, rng.End, kind))
	fd.Evidence = append(fd.Evidence, rangeEvidence(ref, p.Proto))
	conf := 0.6
	switch code := a.caseWin32(c); {
	case code == 10013:
		conf = 0.9
		fd.Reasons = append(fd.Reasons, "The failure's error maps to 10013 (WSAEACCES), which is what an excluded range gives.")
	case code == 10048:
		conf = 0.55
		fd.Reasons = append(fd.Reasons, "The failure's error is 10048 (address in use), which usually means a socket holds the port; an excluded range gives 10013, so this is less certain.")
	case c.class == ClassPortConflict:
		conf = 0.75
	default:
		conf = 0.5
	}
	if o.tier != tierSameAfter {
		conf *= 0.85
	}
	fd.Reasons = append(fd.Reasons, "The capture time of the range list is not known to portmortem; dynamic reservations can move at each boot.")
	fd.Reasons = append(fd.Reasons, o.notes()...)
	fd.Confidence = conf
	fd.Rule = RuleExcludedRange
	fd.Remedy, fd.KB = remedyFor(a.remedyInput(c, p, all, RuleExcludedRange, nil, rng))
}

// caseWin32 is the Win32 form of the case's error: NTSTATUS and HRESULT
// forms of 10013/10048 map to them.
func (a *analysis) caseWin32(c *failureCase) uint32 {
	for _, f := range c.all() {
		if !f.Failure.HasError {
			continue
		}
		code := f.Failure.ErrorCode
		switch {
		case code == 10013 || code == 10048:
			return code
		case code == 0xC0000022 || code == 0x80072743:
			return 10013
		case code == 0xC000020A || code == 0xC0000043 || code == 0x80072740:
			return 10048
		}
	}
	return 0
}

// freeVerdict: the port was free in the snapshot.
func (a *analysis) freeVerdict(c *failureCase, p neededPort, o *observation, fd *Finding) {
	fd.Verdict = NoConflictSeen
	addr := "any address"
	if p.Addr.IsValid() {
		addr = p.Addr.String()
	}
	fd.Reasons = append(fd.Reasons, fmt.Sprintf("As far as snapshot %s shows, this is not a port conflict on %s %d: no other process held it (on %s) when the snapshot was taken.", o.snap.Artifact, p.Proto, p.Port, addr))
	var hide []string
	switch o.tier {
	case tierSameAfter:
		if !o.snap.at.IsZero() {
			hide = append(hide, fmt.Sprintf("the holder may have exited or released the port in the %s between the failure and the snapshot", fmtDur(o.snap.at.Sub(c.primary.Failure.Time))))
		}
	case tierSameBefore:
		hide = append(hide, "the snapshot was taken before the failure, and the port may have been taken after it")
	default:
		hide = append(hide, "the snapshot does not come from the failure's boot, and who holds a port changes from boot to boot")
	}
	if o.snap.Format == parsers.FormatNetstat || o.snap.Format == "" {
		hide = append(hide, "a socket that is bound but not listening (BOUND) appears only with netstat -q or Get-NetTCPConnection")
	}
	if len(o.other) > 0 {
		hide = append(hide, fmt.Sprintf("%s holds the port on another address or IP family, which does not block this bind on Windows unless the address is wrong", o.other[0].describe()))
	}
	if !a.haveRanges(p.Proto) {
		hide = append(hide, fmt.Sprintf("excluded port ranges for %s were not collected, so a reserved range (a bind fails with 10013 and netstat shows nobody) cannot be ruled out", p.Proto))
	}
	fd.Reasons = append(fd.Reasons, "What could still hide a conflict: "+strings.Join(hide, "; ")+".")
	fd.Reasons = append(fd.Reasons, o.notes()...)

	conf := map[tier]float64{tierSameAfter: 0.7, tierSameBefore: 0.45, tierLater: 0.35, tierEarlier: 0.3, tierUnknown: 0.35}[o.tier]
	if c.class == ClassPortConflict {
		if p.Source == SourceEvent {
			conf *= 0.5
			fd.Reasons = append(fd.Reasons, fmt.Sprintf("Yet the event's own error says %s %d was unavailable at the failure: whatever held it was gone by the snapshot.", p.Proto, p.Port))
		} else {
			conf *= 0.85
		}
	}
	if len(o.weak) > 0 {
		conf *= 0.9
	}
	if len(o.own) > 0 {
		conf = math.Max(conf, 0.5)
	}
	fd.Confidence = conf
}

// excludedRange finds an excluded range of the port's proto and IP
// version that holds the port.
func (a *analysis) excludedRange(p neededPort) (*parsers.PortRange, *RangeRef) {
	for i := range a.in.Ranges {
		r := &a.in.Ranges[i]
		if r.Range.Kind != "excluded" || r.Range.Proto != "" && r.Range.Proto != p.Proto {
			continue
		}
		if p.Port < r.Range.Start || p.Port > r.Range.End || !ipVersionMatches(r.Range.IPVersion, p.Addr) {
			continue
		}
		return &r.Range, r
	}
	return nil, nil
}

func ipVersionMatches(v string, addr netip.Addr) bool {
	if v == "" || !addr.IsValid() {
		return true
	}
	if addr.Unmap().Is4() {
		return strings.EqualFold(v, "ipv4")
	}
	return strings.EqualFold(v, "ipv6")
}

func (a *analysis) haveRanges(proto parsers.Proto) bool {
	for _, r := range a.in.Ranges {
		if r.Range.Kind == "excluded" && (r.Range.Proto == "" || r.Range.Proto == proto) {
			return true
		}
	}
	return false
}

// dynamicRange is the dynamic port range for a port: collected with netsh,
// else the default of the OS version, else (version unknown) whichever of
// the two defaults holds the port.
func (a *analysis) dynamicRange(proto parsers.Proto, port uint16, addr netip.Addr) (portRange, string, bool) {
	for _, r := range a.in.Ranges {
		if r.Range.Kind == "dynamic" && (r.Range.Proto == "" || r.Range.Proto == proto) && ipVersionMatches(r.Range.IPVersion, addr) {
			return portRange{r.Range.Start, r.Range.End}, fmt.Sprintf("netsh, %s line %d", r.Artifact, r.Line), true
		}
	}
	switch a.family {
	case osLegacy:
		return portRange{1025, 5000}, "the default of " + a.osLabel, true
	case osVista, osModern:
		return portRange{49152, 65535}, "the default of " + a.osLabel, true
	}
	if port >= 1025 && port <= 5000 {
		return portRange{1025, 5000}, "the default of Windows 2000/XP/Server 2003; the OS version is unknown, and on Vista/2008 and later the default is 49152-65535", true
	}
	return portRange{49152, 65535}, "the default of Windows Vista/Server 2008 and later; the OS version is unknown, and on 2000/XP/2003 the default is 1025-5000", true
}

// signalReason is a reason drawn from a signal event.
type signalReason struct {
	eventID uint16
	text    string
}

// relatedSignals turns the signals of the failure's boot into reasons.
func (a *analysis) relatedSignals(c *failureCase, p neededPort) ([]signalReason, []Evidence) {
	var rs []signalReason
	var evs []Evidence
	for _, s := range a.signals {
		if !a.sameBoot(c, s.Failure.Time) {
			continue
		}
		f := s.Failure
		switch {
		case f.EventID == 4292:
			if !isIPsec(c) {
				continue
			}
			if p.Proto == parsers.UDP && (p.Port == 500 || p.Port == 4500) {
				rs = append(rs, signalReason{f.EventID, fmt.Sprintf("The IPsec driver entered Block mode at %s (event 4292): until IPsec starts, the server drops all traffic not exempted at boot.", fmtTime(f.Time))})
			}
		case f.EventID == 411:
			if p.Proto != parsers.UDP {
				continue
			}
			rs = append(rs, signalReason{f.EventID, fmt.Sprintf("The DNS server logged event 411 at %s: its socket pool bound ports from an excluded range, so it is active on this host's UDP ports.", fmtTime(f.Time))})
		case f.EventID == 4231 || f.EventID == 4266:
			if f.Proto != p.Proto {
				continue
			}
			rs = append(rs, signalReason{f.EventID, fmt.Sprintf("Tcpip logged event %d at %s: ephemeral %s ports ran out in this boot, which makes binds fail on its own.", f.EventID, fmtTime(f.Time), f.Proto)})
		case f.EventID == 4227:
			if p.Proto != parsers.TCP {
				continue
			}
			rs = append(rs, signalReason{f.EventID, fmt.Sprintf("Tcpip logged event 4227 at %s: outgoing connections were reusing local ports in TIME_WAIT, a sign of heavy ephemeral port use.", fmtTime(f.Time))})
		default:
			continue
		}
		evs = append(evs, failureEvidence(s))
	}
	return rs, evs
}

// sameBoot reports whether t lies in the case's boot session, or near the
// failure when no boots are known.
func (a *analysis) sameBoot(c *failureCase, t time.Time) bool {
	if len(a.sessions) == 0 || c.session < 0 {
		return within(t, c.primary.Failure.Time, signalWindow)
	}
	return a.sessions.At(t) == c.session
}

func isIPsec(c *failureCase) bool {
	for _, k := range []string{"PolicyAgent", "IKEEXT"} {
		if strings.EqualFold(c.key, k) {
			return true
		}
	}
	return slices.ContainsFunc(c.names(), func(n string) bool { return strings.EqualFold(n, "IPSEC Services") })
}

func (a *analysis) blockMode(c *failureCase) *FailureRef {
	if !isIPsec(c) {
		return nil
	}
	for i := range a.signals {
		if a.signals[i].Failure.EventID == 4292 && a.sameBoot(c, a.signals[i].Failure.Time) {
			return &a.signals[i]
		}
	}
	return nil
}

// ruleFacts gathers what the culprit rules need about an owner.
func (a *analysis) ruleFacts(ctx context.Context, c *failureCase, p neededPort, o *observation, h holder) (ruleFacts, error) {
	f := ruleFacts{
		Proto: p.Proto, Port: p.Port,
		OwnerPID: h.pid, OwnerImage: h.image, OwnerServices: h.services,
		Outgoing: h.outgoing, RemoteText: h.remoteText(),
		BlockMode: a.blockMode(c), IPsecService: isIPsec(c),
		ServiceImage: a.serviceImage(c),
	}
	if p.Proto == parsers.UDP && h.pid > 0 {
		n, err := a.countByPID(ctx, o.snap.ID, h.pid)
		if err != nil {
			return f, err
		}
		f.UDPCount, f.HasCount = n, true
	}
	f.Dynamic, f.DynamicSource, f.DynamicKnown = a.dynamicRange(p.Proto, p.Port, p.Addr)
	if e, _, ok := a.catalogEntry(c); ok {
		f.CaseProduct = e.Product
		if f.ServiceImage == "" && len(e.Images) == 1 && !isPattern(e.Images[0]) && !isSharedHost(e.Images[0]) {
			f.ServiceImage = e.Images[0]
		}
	}
	for _, svc := range h.services {
		e, ok := a.cat.ByKey(svc)
		if !ok {
			continue
		}
		if f.OwnerProduct == "" && e.Product != "" && !strings.EqualFold(svc, c.key) {
			f.OwnerProduct, f.OwnerProdSvc = e.Product, svc
		}
		if !f.OwnerStatic && slices.Contains(e.Ports, p.PortSpec) {
			f.OwnerStatic, f.OwnerStaticSvc = true, svc
		}
	}
	if !isSharedHost(h.image) && h.image != "" {
		if e, ok := a.cat.ByImage(h.image); ok {
			if f.OwnerProduct == "" && e.Product != "" {
				f.OwnerProduct, f.OwnerProdSvc = e.Product, h.image
			}
			if !f.OwnerStatic && slices.Contains(e.Ports, p.PortSpec) {
				f.OwnerStatic, f.OwnerStaticSvc = true, e.Key
			}
		}
	}
	if h.pid == 4 && !f.OwnerStatic {
		if e, ok := a.cat.ByKey("lanmanserver"); ok && slices.Contains(e.Ports, p.PortSpec) {
			f.OwnerStatic, f.OwnerStaticSvc = true, "lanmanserver"
		}
	}
	return f, nil
}

func (a *analysis) remedyInput(c *failureCase, p neededPort, all []neededPort, rule string, h *holder, rng *parsers.PortRange) remedyInput {
	in := remedyInput{
		Rule: rule, Family: a.family, Proto: p.Proto, Port: p.Port, Addr: p.Addr,
		ServiceKey: orDefault(c.key, c.displayName()), OwnerPID: -1, Range: rng,
	}
	if h != nil {
		in.OwnerPID, in.OwnerImage = h.pid, h.image
	}
	in.Dynamic, _, _ = a.dynamicRange(p.Proto, p.Port, p.Addr)
	if rule == RuleDNSSocketPool {
		for _, q := range all {
			if q.Proto == p.Proto {
				in.Ports = append(in.Ports, q.Port)
			}
		}
	}
	return in
}

func (a *analysis) countByPID(ctx context.Context, snap int64, pid int) (int, error) {
	k := countKey{snap, pid}
	if n, ok := a.countCache[k]; ok {
		return n, nil
	}
	n, err := a.in.Owners.CountByPID(ctx, snap, parsers.UDP, pid)
	if err != nil {
		return 0, fmt.Errorf("correlate: count sockets of PID %d: %w", pid, err)
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
		return nil, fmt.Errorf("correlate: owners of %s %d: %w", proto, port, err)
	}
	a.ownersCache[k] = refs
	return refs, nil
}

// ---------------------------------------------------------------------------
// Text helpers

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		m := int((d % time.Hour) / time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}
