package reports

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/store"
)

// Tables streams the large tables of a case: sockets, process mappings
// and stored events. *store.Store implements it.
type Tables interface {
	CaseSockets(ctx context.Context, caseID int64) iter.Seq2[correlate.SocketRef, error]
	CaseProcesses(ctx context.Context, caseID int64) iter.Seq2[store.ProcessRow, error]
	CaseEvents(ctx context.Context, caseID int64) iter.Seq2[store.EventRow, error]
}

var _ Tables = (*store.Store)(nil)

// Model is what every report renders: the cases of one run, read from the
// store. The small tables are held; the large ones are streamed from
// Tables while a report is written.
type Model struct {
	// Generated is when the reports were made (UTC).
	Generated time.Time
	// Database is the SQLite file the model was read from, as reports name it.
	Database string
	Cases    []*Case
	tables   Tables

	// Paper is the paper size the HTML page prints on ("a4", "letter"; see
	// Papers), "" for the printer's own.
	Paper string
}

// Case is one analyzed bundle.
type Case struct {
	ID int64
	// Anchor names the case's section in the HTML report and in the
	// Summary sheet ("case-1", "case-2" … in model order).
	Anchor     string
	Bundle     string
	BundleHash string
	Host       string
	// Collection is the folder or archive of the bundle holding the
	// case's artifacts when the bundle holds several hosts ("" for the
	// whole bundle); Undecided marks the case of the artifacts whose host
	// could not be decided.
	Collection string
	Undecided  bool
	// Provenance is what made the case: the program, the flags that
	// change results and the port catalog.
	Provenance store.Provenance
	// OS is systeminfo's OS name when known, else the 6009 event's text.
	OS        string
	Zone      Zone
	Findings  []correlate.Finding
	Coverage  []correlate.Coverage
	Failures  []store.FailureRow
	Boots     []correlate.BootRef
	Ranges    []correlate.RangeRef
	Artifacts []store.Artifact
	// Snapshots are the socket listings with ports (those correlate
	// looks for owners in).
	Snapshots []correlate.Snapshot
	Counts    store.TableCounts
	// summaryRow is the Summary sheet row the case's section starts on
	// (set while the workbook is written, used by the Index sheet).
	summaryRow int
	byID       map[int64]int
	// sessions are the case's boots, for the offset each ran at; mixed
	// says they ran at more than one (see offsetAt).
	sessions correlate.Sessions
	mixed    bool
}

// setClock builds the boots the case's times are shown by: a time of a
// boot whose own events give its UTC offset (6008) is shown at that
// offset, the host's clock then, so that a summer failure reads as the
// customer's Event Viewer showed it; other times take the case's zone.
// The user's --tz is every boot's.
func (c *Case) setClock() {
	if c.Zone.Source == store.ZoneFromFlag {
		return
	}
	c.sessions = correlate.BuildSessions(c.Boots)
	for _, s := range c.sessions {
		if s.HasOffset && (!c.Zone.Known || s.UTCOffset != c.Zone.Offset) {
			c.mixed = true
		}
	}
}

// offsetAt is the zone a UTC time is shown in: its boot's own offset,
// else the case's.
func (c *Case) offsetAt(t time.Time) Zone {
	if c.mixed {
		if i := c.sessions.At(t); i >= 0 && c.sessions[i].HasOffset {
			return Zone{Offset: c.sessions[i].UTCOffset, Known: true, Source: store.ZoneFromEvent6008}
		}
	}
	return c.Zone
}

// zoneLabelAt is the label of the zone t is shown in.
func (c *Case) zoneLabelAt(t time.Time, local bool) string {
	if local || t.IsZero() {
		return c.Zone.Label()
	}
	return c.offsetAt(t).Label()
}

// Zone is the time zone a case's times are shown in: the host's, when
// known, else UTC.
type Zone struct {
	Offset time.Duration
	Known  bool
	// Name is systeminfo's zone name, when it gave the offset.
	Name string
	// Source is where Offset came from: store.ZoneFromFlag,
	// store.ZoneFromEvent6008 or store.ZoneFromSysteminfo.
	Source string
}

// Label is the zone as a short name: "UTC-06:00", or "UTC" when unknown.
func (z Zone) Label() string {
	if !z.Known {
		return "UTC"
	}
	sign, d := '+', z.Offset
	if d < 0 {
		sign, d = '-', -d
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, int(d.Hours()), int(d.Minutes())%60)
}

// Location is the zone as a fixed-offset location.
func (z Zone) Location() *time.Location {
	if !z.Known {
		return time.UTC
	}
	return time.FixedZone(z.Label(), int(z.Offset/time.Second))
}

// Describe says, in a sentence fragment, which zone times are shown in and
// where it comes from.
func (z Zone) Describe() string {
	if !z.Known {
		return "UTC: the host's time zone is unknown (no systeminfo, no event 6008, no --tz)"
	}
	switch z.Source {
	case store.ZoneFromSysteminfo:
		s := z.Label() + ", the host's standard time according to systeminfo"
		if z.Name != "" {
			s += ": " + z.Name
		}
		return s + " (daylight saving time is not applied)"
	case store.ZoneFromEvent6008:
		return z.Label() + ", the host's offset from event 6008"
	case store.ZoneFromFlag:
		return z.Label() + ", the host's offset given with --tz"
	}
	return z.Label() + ", the host's offset"
}

// NewModel makes the model of cases (read with LoadCase from the store
// that implements tables), numbering their anchors in order.
func NewModel(tables Tables, cases ...*Case) *Model {
	m := &Model{Generated: time.Now().UTC(), tables: tables, Cases: cases}
	for i, c := range cases {
		c.Anchor = fmt.Sprintf("case-%d", i+1)
	}
	return m
}

// countLabel says how many bundles the model holds, and how many cases
// when a bundle holds several hosts: "10 bundles", "1 bundle, 10 cases (one
// per host's files)".
// (A bundle's cases are one per collection of a host, and the files whose
// host could not be decided.)
func (m *Model) countLabel() string {
	type key struct{ hash, path string }
	bundles := map[key]bool{}
	for _, c := range m.Cases {
		bundles[key{c.BundleHash, c.Bundle}] = true
	}
	s := fmt.Sprintf("%d bundle%s", len(bundles), plural(len(bundles)))
	if len(bundles) != len(m.Cases) {
		s += fmt.Sprintf(", %d cases (one per host's files)", len(m.Cases))
	}
	return s
}

// hostLabel is the host a case shows: its name, or why it has none.
func (c *Case) hostLabel() string {
	switch {
	case c.Undecided:
		return "undecided: these files name no host and sit among several hosts' files"
	case c.Host == "":
		return "unknown"
	}
	return c.Host
}

// provenanceLine says what made the case: "portmortem devel 41b9b4a,
// catalog built-in 9991f23710df, options --tz +02:00"; "" for a case
// stored before cases recorded it.
func (c *Case) provenanceLine() string {
	p := c.Provenance
	if p.ToolVersion == "" && p.CatalogVersion == "" {
		return ""
	}
	s := "portmortem " + cmp.Or(p.ToolVersion, "(version not recorded)")
	if p.CatalogVersion != "" {
		s += ", catalog " + p.CatalogVersion
	}
	return s + ", options " + cmp.Or(p.Options, "none that change results")
}

// osLabel is the OS a case shows: systeminfo's name, else the product
// the 6009 version names with that version as logged ("Windows 7 / Server
// 2008 R2 SP1 (6.01. 7601 Service Pack 1 Multiprocessor Free)"), else the
// version alone.
func osLabel(name, version string) string {
	if name != "" {
		return name
	}
	if p, ok := correlate.OSProduct(version); ok {
		return p + " (" + strings.TrimSpace(version) + ")"
	}
	return version
}

// LoadCase reads one case from the store.
func LoadCase(ctx context.Context, s *store.Store, id int64) (*Case, error) {
	c, err := loadCase(ctx, s, id)
	if err != nil {
		return nil, fmt.Errorf("load case %d: %w", id, err)
	}
	return c, nil
}

func loadCase(ctx context.Context, s *store.Store, id int64) (*Case, error) {
	sc, err := s.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	hf, err := s.HostFacts(ctx, id)
	if err != nil {
		return nil, err
	}
	c := &Case{ID: id, Bundle: sc.BundlePath, BundleHash: sc.BundleHash, Host: sc.Host,
		Collection: sc.Collection, Undecided: sc.Undecided, Provenance: sc.Provenance,
		OS:   osLabel(hf.OSName, sc.OSVersion),
		Zone: Zone{Offset: hf.ZoneOffset, Known: hf.HasZone, Name: hf.TimeZone, Source: hf.ZoneSource}}
	if c.Findings, err = s.Findings(ctx, id); err != nil {
		return nil, err
	}
	if c.Coverage, err = s.Coverage(ctx, id); err != nil {
		return nil, err
	}
	if c.Failures, err = s.FailureRows(ctx, id); err != nil {
		return nil, err
	}
	if c.Boots, err = s.Boots(ctx, id); err != nil {
		return nil, err
	}
	c.setClock()
	if c.Ranges, err = s.PortRanges(ctx, id); err != nil {
		return nil, err
	}
	if c.Artifacts, err = s.Artifacts(ctx, id); err != nil {
		return nil, err
	}
	if c.Snapshots, err = s.Snapshots(ctx, id); err != nil {
		return nil, err
	}
	if c.Counts, err = s.TableCounts(ctx, id); err != nil {
		return nil, err
	}
	c.index()
	return c, nil
}

func (c *Case) index() {
	c.byID = make(map[int64]int, len(c.Artifacts))
	for i, a := range c.Artifacts {
		c.byID[a.ID] = i
	}
}

// artifact returns the artifact of an id (a zero one when unknown).
func (c *Case) artifact(id int64) *store.Artifact {
	if i, ok := c.byID[id]; ok {
		return &c.Artifacts[i]
	}
	return &store.Artifact{}
}

// shown converts a stored time to the case's zone. A time stored as the
// host's wall clock (local) is converted with the zone's offset; when the
// zone is unknown it is shown as written and marked local. The zero time
// stays zero.
func (c *Case) shown(t time.Time, local bool) (shown time.Time, hostLocal bool) {
	if t.IsZero() {
		return t, false
	}
	if local {
		if !c.Zone.Known {
			return t, true
		}
		// Not converted at commit: shown with the case's offset it was
		// converted with, as zoneLabelAt names it.
		return t.Add(-c.Zone.Offset).In(c.Zone.Location()), false
	}
	return t.In(c.offsetAt(t).Location()), false
}

// formatTime renders a stored time in the case's zone, with the zone's
// label: "2026-03-02 02:03:00 UTC-06:00".
func (c *Case) formatTime(t time.Time, local bool) string {
	s, hostLocal := c.shown(t, local)
	if s.IsZero() {
		return ""
	}
	if hostLocal {
		return s.Format("2006-01-02 15:04:05") + " host time (zone unknown)"
	}
	return s.Format("2006-01-02 15:04:05") + " " + c.zoneLabelAt(t, local)
}

// failureCount counts the service-start failures and bind errors (not the
// signals, which show the climate of a conflict rather than a failure).
func (c *Case) failureCount() int {
	n := 0
	for _, f := range c.Failures {
		if f.Failure.Kind != correlate.KindSignal {
			n++
		}
	}
	return n
}

func verdictRank(v correlate.Verdict) int {
	if i := slices.Index(correlate.Verdicts, v); i >= 0 {
		return i
	}
	return len(correlate.Verdicts)
}

// verdictCount is how many findings of a case have one verdict.
type verdictCount struct {
	Verdict correlate.Verdict
	Count   int
}

// verdictCounts counts the findings of a case per verdict, in the order
// of correlate.Verdicts, leaving out the verdicts no finding has.
func (c *Case) verdictCounts() []verdictCount {
	var out []verdictCount
	for _, v := range correlate.Verdicts {
		n := 0
		for _, f := range c.Findings {
			if f.Verdict == v {
				n++
			}
		}
		if n > 0 {
			out = append(out, verdictCount{v, n})
		}
	}
	return out
}

// top is the case's most telling finding: the best-ranked verdict, then
// the highest confidence; nil when there is none.
func (c *Case) top() *correlate.Finding {
	var top *correlate.Finding
	for i := range c.Findings {
		f := &c.Findings[i]
		if top == nil || verdictRank(f.Verdict) < verdictRank(top.Verdict) ||
			(f.Verdict == top.Verdict && f.Confidence > top.Confidence) {
			top = f
		}
	}
	return top
}

// findingGroup is a run of findings that read the same on a card or a
// terminal line: the same verdict, service, port, owner and rule (a
// service that failed the same way many times).
type findingGroup struct {
	// First is the index in Case.Findings of the group's first finding.
	First int
	Count int
	// From and To are the first and last failure times (zero if unknown).
	From, To time.Time
	// Confidence is the highest of the group.
	Confidence float64
}

// groups returns the case's findings grouped, best-ranked verdicts first,
// then by confidence, then in correlate's order.
func (c *Case) groups() []findingGroup {
	type key struct{ verdict, service, port, owner, rule string }
	byKey := map[key]int{}
	var out []findingGroup
	for i := range c.Findings {
		f := &c.Findings[i]
		k := key{string(f.Verdict), serviceLabel(f), portLabel(f), ownerLabel(f), string(f.Rule)}
		g, ok := byKey[k]
		if !ok {
			byKey[k] = len(out)
			out = append(out, findingGroup{First: i, Count: 1, From: f.FailureTime, To: f.FailureTime, Confidence: f.Confidence})
			continue
		}
		grp := &out[g]
		grp.Count++
		grp.Confidence = max(grp.Confidence, f.Confidence)
		if !f.FailureTime.IsZero() {
			if grp.From.IsZero() || f.FailureTime.Before(grp.From) {
				grp.From = f.FailureTime
			}
			if f.FailureTime.After(grp.To) {
				grp.To = f.FailureTime
			}
		}
	}
	slices.SortStableFunc(out, func(a, b findingGroup) int {
		fa, fb := &c.Findings[a.First], &c.Findings[b.First]
		if d := verdictRank(fa.Verdict) - verdictRank(fb.Verdict); d != 0 {
			return d
		}
		return cmp.Compare(b.Confidence, a.Confidence)
	})
	return out
}

// ranked returns the indexes of the case's findings, best-ranked verdicts
// first, then by confidence, then in correlate's order.
func (c *Case) ranked() []int {
	idx := make([]int, len(c.Findings))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		fa, fb := &c.Findings[a], &c.Findings[b]
		if d := verdictRank(fa.Verdict) - verdictRank(fb.Verdict); d != 0 {
			return d
		}
		return cmp.Compare(fb.Confidence, fa.Confidence)
	})
	return idx
}

// namesCulprit says a verdict names what blocked the port.
func namesCulprit(v correlate.Verdict) bool {
	return v == correlate.Confirmed || v == correlate.Probable || v == correlate.ReservedRange
}

// culprit describes what blocked a port: "dns.exe (PID 1640) — dns-socket-pool".
func culprit(f *correlate.Finding) string {
	if f == nil || !namesCulprit(f.Verdict) {
		return ""
	}
	var who string
	switch {
	case f.OwnerPID >= 0:
		who = fmt.Sprintf("%s (PID %d)", cmp.Or(f.OwnerImage, "unknown image"), f.OwnerPID)
	case f.Verdict == correlate.ReservedRange:
		who = "an excluded port range"
	default:
		who = "unknown owner"
	}
	if f.Rule != "" && f.Rule != correlate.RuleExcludedRange {
		who += " — " + string(f.Rule)
	}
	return who
}

// recurringCulprit is a culprit pattern seen in more than one bundle.
type recurringCulprit struct {
	// Rule is the culprit rule ("dns-socket-pool"), or "" when findings
	// name only an owner image.
	Rule string
	// Images are the owner images seen (lower-cased, sorted).
	Images []string
	// Ports are the ports it blocked ("UDP/1812"), sorted.
	Ports []string
	Cases []*Case
}

// Label names the culprit: "dns-socket-pool (dns.exe)".
func (r recurringCulprit) Label() string {
	s := cmp.Or(r.Rule, "owner")
	if len(r.Images) > 0 {
		s += " (" + strings.Join(r.Images, ", ") + ")"
	}
	return s
}

// recurringCulprits lists the culprits that blocked a port in two bundles
// or more, most frequent first. A culprit is its rule, or, for findings
// without one (or correlate.RuleOther), the owner's image.
func (m *Model) recurringCulprits() []recurringCulprit {
	type acc struct {
		recurringCulprit
		images, ports map[string]bool
		cases         map[int64]bool
	}
	byKey := map[string]*acc{}
	var keys []string
	for _, c := range m.Cases {
		for i := range c.Findings {
			f := &c.Findings[i]
			if !namesCulprit(f.Verdict) {
				continue
			}
			img := strings.ToLower(f.OwnerImage)
			key, rule := "rule:"+string(f.Rule), string(f.Rule)
			if f.Rule == "" || f.Rule == correlate.RuleOther {
				if img == "" {
					continue
				}
				key, rule = "image:"+img, string(f.Rule)
			}
			a := byKey[key]
			if a == nil {
				a = &acc{recurringCulprit: recurringCulprit{Rule: rule}, images: map[string]bool{}, ports: map[string]bool{}, cases: map[int64]bool{}}
				byKey[key] = a
				keys = append(keys, key)
			}
			if img != "" {
				a.images[img] = true
			}
			a.ports[portLabel(f)] = true
			if !a.cases[c.ID] {
				a.cases[c.ID] = true
				a.Cases = append(a.Cases, c)
			}
		}
	}
	var out []recurringCulprit
	for _, k := range keys {
		a := byKey[k]
		if len(a.Cases) < 2 {
			continue
		}
		r := a.recurringCulprit
		for img := range a.images {
			r.Images = append(r.Images, img)
		}
		for p := range a.ports {
			r.Ports = append(r.Ports, p)
		}
		slices.Sort(r.Images)
		slices.Sort(r.Ports)
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b recurringCulprit) int { return len(b.Cases) - len(a.Cases) })
	return out
}

// timeHead names the zone of a time column: the case's, or "host clock"
// when its boots ran at different offsets and each time names its own.
func (c *Case) timeHead() string {
	if c.mixed {
		return "host clock"
	}
	return c.Zone.Label()
}

// zoneFact says which zone the case's times are shown in.
func (c *Case) zoneFact() string {
	if c.mixed {
		return c.Zone.Describe() + "; a time of a boot whose own events (6008) give its offset is shown at that offset, the host's clock then (the boots ran at different offsets: daylight saving time or a zone change)"
	}
	return c.Zone.Describe()
}
