package reports

import (
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"iter"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/store"
)

//go:embed templates/report.html.tmpl templates/report.css templates/report.js
var templateFiles embed.FS

// htmlRowLimit is how many rows of a large table (sockets, processes,
// events) a case's section shows at most; the workbook and the database
// have them all. A batch page shares htmlPageRows among its cases, down to
// htmlMinRows each: the page of 200 typical bundles was 98 MB at 1,000
// rows a table, too big for a browser to open usefully.
const (
	htmlRowLimit = 1000
	htmlPageRows = 20000
	htmlMinRows  = 100
)

// rowLimit is how many rows of each large table a case's section shows on
// a page of cases cases.
func rowLimit(cases int) int {
	return max(htmlMinRows, min(htmlRowLimit, htmlPageRows/max(cases, 1)))
}

// htmlCardLimit is how many verdict cards a case shows before it only
// counts the rest (a log where one service failed a thousand ways).
const htmlCardLimit = 24

// htmlCellLimit bounds the text of one table cell on the page.
const htmlCellLimit = 4000

// WriteHTML writes the self-contained HTML report to path: a temporary
// file in the same folder, renamed when complete.
func WriteHTML(ctx context.Context, m *Model, path string) error {
	if err := writeFileAtomic(path, func(w io.Writer) error { return writeHTML(ctx, m, w) }); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func writeHTML(ctx context.Context, m *Model, w io.Writer) error {
	page, err := newHTMLPage(ctx, m)
	if err != nil {
		return err
	}
	t, err := pageTemplate()
	if err != nil {
		return err
	}
	return t.Execute(w, page)
}

func pageTemplate() (*template.Template, error) {
	return template.New("report.html.tmpl").Option("missingkey=error").ParseFS(templateFiles, "templates/report.html.tmpl")
}

// htmlPage is what the template renders.
type htmlPage struct {
	Title     string
	Generated string
	Database  string
	CSP       string
	Style     template.CSS
	Script    template.JS
	Batch     bool
	// BatchSummary tells a batch in a sentence or two, above its index.
	BatchSummary string
	// Count says how many bundles the page holds, and how many hosts'
	// cases when a bundle holds several hosts: "1 bundle, 10 cases (one per
	// host's files)".
	Count     string
	Cases     []*htmlCase
	Recurring []htmlCulprit
}

type htmlCase struct {
	Anchor, Bundle, Host, OS, Zone string
	// Name is the bundle's base name, what the page calls it, with the
	// host when the bundle holds several; Bundle is its path as given, in
	// the facts.
	Name string
	// Collection is the folder of the bundle holding the host's files
	// ("" for the whole bundle); Provenance says what made the case.
	Collection, Provenance string
	FailureCount           int
	FindingCount           int
	Verdicts               []htmlVerdictCount
	TopCulprit             string
	// Summary is the executive summary: one item per failure, best first,
	// at most htmlSummaryLimit; SummaryMore counts the failures left out.
	Summary     []htmlSummary
	SummaryMore int
	Cards       []htmlCard
	MoreCards   []htmlVerdictCount // findings past htmlCardLimit, per verdict
	Failures    []htmlFailure
	Gaps        []correlate.Coverage
	Timeline    *timeline
	// tables makes the case's tables when the template gets to them, so
	// that a batch page holds one case's rows at a time, not every case's.
	tables func() ([]htmlTable, error)
	// leads are the verdicts of each failure's best-ranked finding.
	leads []correlate.Verdict
}

// Tables returns the case's tables, made now (see htmlCase.tables).
func (hc *htmlCase) Tables() ([]htmlTable, error) { return hc.tables() }

type htmlVerdictCount struct {
	Verdict, Class string
	Count          int
}

type htmlCulprit struct {
	Label, Ports string
	Cases        []*htmlCase
}

// htmlFailure is one failure and its findings, folded (see fold.go):
// what every fold cites is said once, here.
type htmlFailure struct {
	ID, Service, Time, Event, Error string
	Reasons                         []string
	Evidence                        []htmlEvidence
	Folds                           []htmlFold
}

// htmlFold is the findings of one failure that differ only by their
// port: one verdict, one owner, the ports listed.
type htmlFold struct {
	ID, Class, Verdict, Confidence, Meaning    string
	Ports                                      string
	PortCount                                  int
	PortSource, Owner, OwnerServices, Snapshot string
	Rule, KB                                   string
	Reasons                                    []string
	Evidence                                   []htmlEvidence
	Remedies                                   []htmlRemedy
}

type htmlEvidence struct{ Place, Text, Claim string }

// htmlRemedy is one distinct remedy of a fold, in blocks that each get
// a copy button; For names its ports when the fold's remedies differ.
type htmlRemedy struct {
	For    string
	Blocks []string
	lines  []string
}

// htmlCard is a verdict card: one fold, or the folds of several failures
// that read the same.
type htmlCard struct {
	ID, Class, Verdict, Confidence, Meaning string
	Service, Ports, Time, Culprit           string
	// AlsoNeeds names the failure's other ports, free in the snapshot,
	// when this card gives the failure's cause: they take no card of
	// their own ("Also needs UDP 1813, 1645 and 1646: free in the
	// snapshot.").
	AlsoNeeds string
	Count     int
}

type htmlTable struct {
	ID, Title, Note, Empty string
	Head                   []string
	Rows                   [][]htmlCell
	// Raw marks the large listings, left out of print.
	Raw bool
}

type htmlCell struct{ Text, Class, Sort string }

// verdictClass is the CSS class of a verdict.
func verdictClass(v correlate.Verdict) string {
	switch v {
	case correlate.Confirmed:
		return "v-confirmed"
	case correlate.Probable:
		return "v-probable"
	case correlate.ReservedRange:
		return "v-reserved"
	case correlate.NoConflictSeen:
		return "v-free"
	case correlate.NotPortRelated:
		return "v-notport"
	case correlate.NoSnapshot:
		return "v-nosnap"
	}
	return "v-unknown"
}

// VerdictMeaning says in one sentence what a verdict means for the
// customer, as the page shows it (exported for cmd's tests, which read the
// page in a browser).
func VerdictMeaning(v correlate.Verdict) string {
	switch v {
	case correlate.Confirmed:
		return "Another process held the port in a snapshot of the same boot, taken after the failure."
	case correlate.Probable:
		return "An owner was found, but the snapshot's time or boot is uncertain: likely, not proven."
	case correlate.ReservedRange:
		return "Nobody held the port: it lies in an excluded port range, so the bind is refused."
	case correlate.NoConflictSeen:
		return "The port was free in the snapshot: not a port conflict as far as the evidence shows."
	case correlate.PortUnknown:
		return "The failure may be port-related, but its port is unknown: add it with --ports."
	case correlate.NotPortRelated:
		return "The error names another cause: look elsewhere."
	case correlate.NoSnapshot:
		return "There is no socket listing in the bundle to see who held the port."
	}
	return ""
}

// inlineAsset reads an embedded style or script.
func inlineAsset(name string) (string, error) {
	b, err := templateFiles.ReadFile("templates/" + name)
	return string(b), err
}

// cspHash is the Content-Security-Policy source that allows one inline
// style or script.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// Papers are the paper sizes the page can be told to print on (--paper);
// without one, the printer's paper, from the user's locale, is used.
var Papers = []string{"a4", "letter"}

// paperRule is the print rule of a paper size ("" for none).
func paperRule(paper string) (string, error) {
	switch strings.ToLower(paper) {
	case "":
		return "", nil
	case "a4":
		return "\n@media print { @page { size: A4; } }\n", nil
	case "letter":
		return "\n@media print { @page { size: letter; } }\n", nil
	}
	return "", fmt.Errorf("paper %q: papers are %s", paper, strings.Join(Papers, ", "))
}

func newHTMLPage(ctx context.Context, m *Model) (*htmlPage, error) {
	style, err := inlineAsset("report.css")
	if err != nil {
		return nil, err
	}
	paper, err := paperRule(m.Paper)
	if err != nil {
		return nil, err
	}
	style += paper
	script, err := inlineAsset("report.js")
	if err != nil {
		return nil, err
	}
	styleHash, scriptHash := cspHash(style), cspHash(script)
	p := &htmlPage{
		Title:     "portmortem report",
		Generated: m.Generated.UTC().Format("2006-01-02 15:04:05") + " UTC",
		Database:  m.Database,
		// Nothing may load from anywhere: only the page's own style and
		// script run, identified by their hashes.
		CSP: "default-src 'none'; style-src " + styleHash + "; script-src " + scriptHash +
			"; img-src 'none'; font-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'",
		Style:  template.CSS(style),
		Script: template.JS(script),
		Batch:  len(m.Cases) > 1,
	}
	if len(m.Cases) == 1 {
		p.Title = "portmortem: " + m.Cases[0].Bundle
	}
	byID := map[int64]*htmlCase{}
	for _, c := range m.Cases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hc, err := newHTMLCase(ctx, m, c)
		if err != nil {
			return nil, err
		}
		byID[c.ID] = hc
		p.Cases = append(p.Cases, hc)
	}
	for _, r := range m.recurringCulprits() {
		hr := htmlCulprit{Label: r.Label(), Ports: strings.Join(r.Ports, ", ")}
		for _, c := range r.Cases {
			hr.Cases = append(hr.Cases, byID[c.ID])
		}
		p.Recurring = append(p.Recurring, hr)
	}
	p.Count = m.countLabel()
	if p.Batch {
		p.BatchSummary = batchSummary(p.Count, p.Cases, p.Recurring)
	}
	return p, nil
}

func newHTMLCase(ctx context.Context, m *Model, c *Case) (*htmlCase, error) {
	hc := &htmlCase{Anchor: c.Anchor, Bundle: c.Bundle, Name: baseName(c.Bundle), Host: c.hostLabel(), OS: c.OS, Zone: c.zoneFact(),
		Collection: c.Collection, Provenance: c.provenanceLine(), FailureCount: c.failureCount(), TopCulprit: culprit(c.top())}
	if c.Collection != "" || c.Undecided {
		// One of several hosts' cases of a bundle: the heading names which.
		switch {
		case c.Undecided:
			hc.Name += " — files of no decided host"
		case c.Host != "":
			hc.Name += " — " + c.Host
		}
		if c.Collection != "" {
			hc.Name += " (" + c.Collection + ")"
		}
	}
	for _, vc := range c.verdictCounts() {
		hc.Verdicts = append(hc.Verdicts, htmlVerdictCount{string(vc.Verdict), verdictClass(vc.Verdict), vc.Count})
	}
	folds := c.failureFolds()
	hc.FindingCount = len(c.Findings)
	hc.Summary, hc.SummaryMore = newHTMLSummary(c, folds)
	hc.Cards, hc.MoreCards = newHTMLCards(c, folds)
	for n := range folds {
		hc.Failures = append(hc.Failures, newHTMLFailure(c, &folds[n]))
		hc.leads = append(hc.leads, c.Findings[folds[n].Findings[0]].Verdict)
	}
	for _, v := range c.Coverage {
		if v.Status != correlate.StatusOK {
			hc.Gaps = append(hc.Gaps, v)
		}
	}
	hc.Timeline = newTimeline(c)
	hc.tables = func() ([]htmlTable, error) {
		var out []htmlTable
		for _, t := range []func(context.Context, *Model, *Case) (htmlTable, error){
			failuresTable, bootsTable, artifactsTable, coverageTable, rangesTable, socketsTable, processesTable, eventsTable,
		} {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			tab, err := t(ctx, m, c)
			if err != nil {
				return nil, err
			}
			out = append(out, tab)
		}
		return out, nil
	}
	return hc, nil
}

// findingID is the page anchor of a finding.
func findingID(c *Case, i int) string { return fmt.Sprintf("%s-f%d", c.Anchor, i+1) }

func portSourceText(s correlate.PortSource) string {
	switch s {
	case correlate.PortSourceEvent:
		return "the event itself"
	case correlate.PortSourceCatalog:
		return "the built-in port catalog"
	case correlate.PortSourceHistory:
		return "an earlier snapshot, where the service held it"
	case correlate.PortSourceUser:
		return "the --ports file"
	}
	return ""
}

// findingReasons are a finding's reasons with the host's times.
func findingReasons(c *Case, i int) []string {
	var out []string
	for _, r := range c.Findings[i].Reasons {
		out = append(out, c.withHostTimes(r))
	}
	return out
}

// findingEvidence is a finding's evidence as evidenceKey lines.
func findingEvidence(c *Case, i int) []string {
	var out []string
	for _, e := range c.Findings[i].Evidence {
		e.Artifact = c.rel(e.Artifact)
		out = append(out, evidenceKey(htmlEvidence{Place: evidencePlace(e), Text: e.Text, Claim: c.withHostTimes(e.Claim)}))
	}
	return out
}

func newHTMLFailure(c *Case, ff *failureFold) htmlFailure {
	lead := &c.Findings[ff.Findings[0]]
	h := htmlFailure{ID: findingID(c, ff.Findings[0]) + "-failure", Service: serviceLabel(lead),
		Time: c.formatTime(lead.FailureTime, false), Error: errorLabel(lead)}
	if lead.EventID != 0 {
		h.Event = strconv.Itoa(int(lead.EventID))
	}
	reasons := func(i int) []string { return findingReasons(c, i) }
	evidence := func(i int) []string { return findingEvidence(c, i) }
	var sharedReasons, sharedEvidence map[string]bool
	if len(ff.Folds) > 1 {
		h.Reasons = shared(ff.Findings, reasons)
		sharedReasons = setOf(h.Reasons)
		ev := shared(ff.Findings, evidence)
		sharedEvidence = setOf(ev)
		for _, k := range ev {
			h.Evidence = append(h.Evidence, evidenceOfKey(k))
		}
	}
	for _, fo := range ff.Folds {
		first := fo.Findings[0]
		f := &c.Findings[first]
		conf := 0.0
		for _, i := range fo.Findings {
			conf = max(conf, c.Findings[i].Confidence)
		}
		hf := htmlFold{ID: findingID(c, first), Class: verdictClass(f.Verdict), Verdict: string(f.Verdict),
			Confidence: fmt.Sprintf("%.0f%%", conf*100), Meaning: VerdictMeaning(f.Verdict),
			Ports: portsLabel(c, fo.Findings), PortCount: len(fo.Findings),
			PortSource: portSourceText(f.PortSource), Owner: ownerLabel(f), OwnerServices: strings.Join(f.OwnerServices, ", "),
			Snapshot: c.rel(f.Snapshot), Rule: string(f.Rule), KB: strings.Join(f.KB, ", "),
			Reasons: foldedLines(c, fo.Findings, reasons, sharedReasons), Remedies: foldRemedies(c, fo.Findings)}
		for _, k := range foldedLines(c, fo.Findings, evidence, sharedEvidence) {
			hf.Evidence = append(hf.Evidence, evidenceOfKey(k))
		}
		h.Folds = append(h.Folds, hf)
	}
	return h
}

func setOf(ls []string) map[string]bool {
	m := make(map[string]bool, len(ls))
	for _, l := range ls {
		m[l] = true
	}
	return m
}

// newHTMLCards makes the verdict cards: one per fold, the folds of
// several failures that read the same (a service that failed the same
// way many times) on one card, best-ranked first; past htmlCardLimit
// cards, the rest are counted per verdict.
func newHTMLCards(c *Case, folds []failureFold) (cards []htmlCard, more []htmlVerdictCount) {
	type group struct {
		card     htmlCard
		conf     float64
		rank     int
		from, to time.Time
		findings int
	}
	var gs []*group
	byKey := map[string]*group{}
	for _, ff := range folds {
		cause, free := siblingFold(c, ff)
		for n, fo := range ff.Folds {
			if cause >= 0 && slices.Contains(free, n) {
				continue // told on the cause's card
			}
			f := &c.Findings[fo.Findings[0]]
			ports := portsLabel(c, fo.Findings)
			k := strings.Join([]string{string(f.Verdict), serviceLabel(f), ports, ownerLabel(f), string(f.Rule)}, "\x00")
			g := byKey[k]
			if g == nil {
				g = &group{card: htmlCard{ID: findingID(c, fo.Findings[0]), Class: verdictClass(f.Verdict), Verdict: string(f.Verdict),
					Meaning: VerdictMeaning(f.Verdict), Service: serviceLabel(f), Ports: ports, Culprit: culprit(f)},
					rank: verdictRank(f.Verdict), from: f.FailureTime, to: f.FailureTime}
				byKey[k] = g
				gs = append(gs, g)
				if n == cause {
					var idx []int
					for _, m := range free {
						idx = append(idx, ff.Folds[m].Findings...)
					}
					g.card.AlsoNeeds = "Also needs " + portsPhrase(c, idx) + ": free in the snapshot."
				}
			}
			g.card.Count++
			g.findings += len(fo.Findings)
			for _, i := range fo.Findings {
				g.conf = max(g.conf, c.Findings[i].Confidence)
			}
			if t := f.FailureTime; !t.IsZero() {
				if g.from.IsZero() || t.Before(g.from) {
					g.from = t
				}
				if t.After(g.to) {
					g.to = t
				}
			}
		}
	}
	slices.SortStableFunc(gs, func(a, b *group) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return cmp.Compare(b.conf, a.conf)
	})
	counts := map[string]int{}
	for n, g := range gs {
		if n >= htmlCardLimit {
			counts[g.card.Verdict] += g.findings
			continue
		}
		g.card.Confidence = fmt.Sprintf("%.0f%%", g.conf*100)
		g.card.Time = c.formatTime(g.from, false)
		if g.card.Count > 1 && !g.from.Equal(g.to) {
			g.card.Time = c.formatTime(g.from, false) + " to " + c.formatTime(g.to, false)
		}
		cards = append(cards, g.card)
	}
	for _, v := range correlate.Verdicts {
		if n := counts[string(v)]; n > 0 {
			more = append(more, htmlVerdictCount{string(v), verdictClass(v), n})
		}
	}
	return cards, more
}

// cellText bounds a cell's text on the page.
func cellText(s string) htmlCell {
	return htmlCell{Text: cutText(s, htmlCellLimit, "report.xlsx and the portmortem database")}
}

func longCell(s string) htmlCell {
	c := cellText(s)
	c.Class = "long"
	return c
}

func numCell(n int64, show bool) htmlCell {
	if !show {
		return htmlCell{}
	}
	return htmlCell{Text: strconv.FormatInt(n, 10), Class: "num", Sort: strconv.FormatInt(n, 10)}
}

// timeCell shows a stored time in the case's zone, sorting by UTC. The
// column's head names the zone, so the cell does not repeat it, unless
// the time is the host's wall clock in a zone nobody knows.
func timeCell(c *Case, t time.Time, local bool) htmlCell {
	if t.IsZero() {
		return htmlCell{}
	}
	s, hostLocal := c.shown(t, local)
	text := s.Format("2006-01-02 15:04:05")
	if hostLocal || c.mixed {
		text = c.formatTime(t, local) // the boots ran at different offsets: each time names its own
	}
	return htmlCell{Text: text, Class: "time", Sort: s.UTC().Format(time.RFC3339Nano)}
}

func failuresTable(_ context.Context, _ *Model, c *Case) (htmlTable, error) {
	t := htmlTable{ID: c.Anchor + "-failures", Title: "Failures", Empty: "No failure was decoded from the event logs.",
		Head: []string{"Time (" + c.timeHead() + ")", "Kind", "Service", "Event", "Error", "Class", "Endpoint", "Message", "Where"}}
	for _, r := range c.Failures {
		f := &r.Failure
		svc := correlate.ServiceLabel(f.Service, f.ServiceKey)
		t.Rows = append(t.Rows, []htmlCell{timeCell(c, f.Time, false), cellText(string(f.Kind)), cellText(svc),
			cellText(fmt.Sprintf("%d %s", f.EventID, f.Provider)), cellText(failureError(f)), cellText(string(f.Class)),
			cellText(failureEndpoint(f)), longCell(f.Message),
			cellText(evidencePlace(correlate.Evidence{Artifact: c.rel(r.Artifact), Line: r.Line, Channel: f.Channel, RecordID: f.RecordID}))})
	}
	return t, nil
}

func bootsTable(_ context.Context, _ *Model, c *Case) (htmlTable, error) {
	t := htmlTable{ID: c.Anchor + "-boots", Title: "Boots", Empty: "No boot marker was found in the event logs.",
		Head: []string{"Time (" + c.timeHead() + ")", "Kind", "Event", "Boot time (" + c.timeHead() + ")", "Previous session ended", "Message", "Where"}}
	for _, r := range c.Boots {
		b := &r.Boot
		t.Rows = append(t.Rows, []htmlCell{timeCell(c, b.Time, false), cellText(string(b.Kind)),
			cellText(fmt.Sprintf("%d %s", b.EventID, b.Provider)), timeCell(c, b.BootTime, false),
			timeCell(c, b.LastAlive, false), longCell(b.Message),
			cellText(evidencePlace(correlate.Evidence{Artifact: c.rel(r.Artifact), Channel: b.Channel, RecordID: b.RecordID}))})
	}
	return t, nil
}

func artifactsTable(_ context.Context, _ *Model, c *Case) (htmlTable, error) {
	t := htmlTable{ID: c.Anchor + "-artifacts", Title: "Artifacts", Empty: "No artifact was read.",
		Head: []string{"Artifact", "Format", "Encoding", "Locale", "Records", "Captured (" + c.timeHead() + ")", "Capture time from", "Notes and warnings"}}
	for i := range c.Artifacts {
		a := &c.Artifacts[i]
		format := string(a.Format)
		if a.Variant != "" {
			format += " (" + a.Variant + ")"
		}
		src := string(a.CaptureSource)
		if _, hostLocal := c.shown(a.CapturedAt, a.CapturedLocal); hostLocal {
			src += " (host's local time; zone unknown)"
		}
		warn := warningsText(a)
		if len(a.Notes) > 0 {
			warn = strings.TrimSpace(strings.Join(a.Notes, "\n") + "\n" + warn)
		}
		t.Rows = append(t.Rows, []htmlCell{cellText(c.rel(a.Path)), cellText(format), cellText(string(a.Encoding)),
			cellText(a.Locale), numCell(int64(a.Records), true), timeCell(c, a.CapturedAt, a.CapturedLocal),
			cellText(src), longCell(warn)})
	}
	return t, nil
}

func coverageTable(_ context.Context, _ *Model, c *Case) (htmlTable, error) {
	t := htmlTable{ID: c.Anchor + "-coverage", Title: "Coverage", Empty: "No coverage was recorded.",
		Head: []string{"Check", "Status", "Why"}}
	for _, v := range c.Coverage {
		t.Rows = append(t.Rows, []htmlCell{cellText(v.Check), cellText(v.Status), longCell(v.Reason)})
	}
	return t, nil
}

func rangesTable(_ context.Context, _ *Model, c *Case) (htmlTable, error) {
	t := htmlTable{ID: c.Anchor + "-ranges", Title: "Port ranges", Empty: "No netsh port range listing was collected.",
		Head: []string{"Kind", "Proto", "IP version", "Start", "End", "Administered", "Where"}}
	for _, r := range c.Ranges {
		adm := ""
		if r.Range.Administered {
			adm = "yes"
		}
		t.Rows = append(t.Rows, []htmlCell{cellText(r.Range.Kind), cellText(string(r.Range.Proto)),
			cellText(r.Range.IPVersion), numCell(int64(r.Range.Start), true), numCell(int64(r.Range.End), true),
			cellText(adm), cellText(fmt.Sprintf("%s:%d", c.rel(r.Artifact), r.Line))})
	}
	return t, nil
}

// firstRows collects up to limit rows of a large table, and a note
// when there are more.
func firstRows[T any](seq iter.Seq2[T, error], limit int, total int64, what, sheet string, row func(T) []htmlCell) ([][]htmlCell, string, error) {
	var rows [][]htmlCell
	for v, err := range seq {
		if err != nil {
			return nil, "", err
		}
		if len(rows) == limit {
			break
		}
		rows = append(rows, row(v))
	}
	if total > int64(len(rows)) {
		return rows, fmt.Sprintf("Showing the first %s of %s %s; all of them are in report.xlsx (sheet %s) and the database.",
			thousands(len(rows)), thousands(int(total)), what, sheet), nil
	}
	return rows, "", nil
}

func socketsTable(ctx context.Context, m *Model, c *Case) (htmlTable, error) {
	t := htmlTable{ID: c.Anchor + "-sockets", Title: "Port owners", Empty: "No socket listing with ports was collected.", Raw: true,
		Head: []string{"Snapshot", "Line", "Proto", "Local address", "Port", "State", "PID", "Image", "Services", "Remote"}}
	var err error
	t.Rows, t.Note, err = firstRows(m.tables.CaseSockets(ctx, c.ID), rowLimit(len(m.Cases)), c.Counts.Sockets, "sockets", sheetPortOwners,
		func(r correlate.SocketRef) []htmlCell {
			s := &r.Socket
			state := s.State
			if s.StateRaw != "" && s.StateRaw != s.State {
				state += " (" + s.StateRaw + ")"
			}
			remote := ""
			if s.RemoteAddr.IsValid() || s.RemoteHost != "" {
				remote = hostPort(addrOr(s.RemoteAddr.String(), s.RemoteAddr.IsValid(), s.RemoteHost), s.RemotePort, true)
			}
			img := s.Image
			if img == "" {
				img = s.Owner
			}
			return []htmlCell{cellText(c.rel(c.artifact(r.SnapshotID).Path)), numCell(int64(r.Line), true),
				cellText(string(s.Proto)), cellText(addrOr(s.LocalAddr.String(), s.LocalAddr.IsValid(), s.LocalHost)),
				numCell(int64(s.LocalPort), true), cellText(state), numCell(int64(s.PID), s.PID >= 0), cellText(img),
				cellText(strings.Join(s.Services, ", ")), cellText(remote)}
		})
	return t, err
}

func processesTable(ctx context.Context, m *Model, c *Case) (htmlTable, error) {
	t := htmlTable{ID: c.Anchor + "-processes", Title: "Processes", Raw: true,
		Empty: "No process listing (tasklist /svc, netstat -b, Tcpvcon) was collected.",
		Head:  []string{"Artifact", "Line", "PID", "Image", "Services", "Sockets held"}}
	var err error
	t.Rows, t.Note, err = firstRows(m.tables.CaseProcesses(ctx, c.ID), rowLimit(len(m.Cases)), c.Counts.Processes, "process rows", sheetProcesses,
		func(r store.ProcessRow) []htmlCell {
			img := r.Process.Image
			if r.Process.Truncated {
				img += " (name may be cut)"
			}
			return []htmlCell{cellText(c.rel(c.artifact(r.ArtifactID).Path)), numCell(int64(r.Line), true),
				numCell(int64(r.Process.PID), true), cellText(img), cellText(strings.Join(r.Process.Services, ", ")),
				numCell(r.Sockets, r.Sockets >= 0)}
		})
	return t, err
}

func eventsTable(ctx context.Context, m *Model, c *Case) (htmlTable, error) {
	t := htmlTable{ID: c.Anchor + "-events", Title: "Events", Empty: "No event was stored.", Raw: true,
		Head: []string{"Time (" + c.timeHead() + ")", "Channel", "Provider", "Event", "Record", "Message", "Data", "Artifact"}}
	var err error
	t.Rows, t.Note, err = firstRows(m.tables.CaseEvents(ctx, c.ID), rowLimit(len(m.Cases)), c.Counts.Events, "events", sheetEvents,
		func(r store.EventRow) []htmlCell {
			e := &r.Event
			return []htmlCell{timeCell(c, e.Time, false), cellText(e.Channel), cellText(e.Provider),
				numCell(int64(e.EventID), true), numCell(int64(e.RecordID), e.RecordID > 0 && e.RecordID < 1<<63),
				longCell(e.Message), longCell(eventData(e.Data)), cellText(c.rel(c.artifact(r.ArtifactID).Path))}
		})
	return t, err
}

// rel shows an artifact's path inside its bundle: the section already
// names the bundle.
func (c *Case) rel(p string) string {
	b := strings.TrimSuffix(c.Bundle, "/")
	if r, ok := strings.CutPrefix(p, b+"/"); ok && r != "" {
		return r
	}
	return p
}

// utcStamp matches the UTC times correlate writes in its reasons.
var utcStamp = regexp.MustCompile(`\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC\b`)

// withHostTimes follows each UTC time in a sentence with the host's time,
// so that the reasons read in the same zone as the rest of the page.
func (c *Case) withHostTimes(s string) string {
	if !c.mixed && (!c.Zone.Known || c.Zone.Offset == 0) {
		return s
	}
	return utcStamp.ReplaceAllStringFunc(s, func(m string) string {
		t, err := time.Parse("2006-01-02 15:04:05", strings.TrimSuffix(m, " UTC"))
		if err != nil {
			return m
		}
		z := c.offsetAt(t)
		return m + " (" + t.In(z.Location()).Format("2006-01-02 15:04:05") + " " + z.Label() + ")"
	})
}

// baseName is the last element of a bundle's path as given, with / or \
// separators (C:\cases\4711\bundle.zip → bundle.zip).
func baseName(p string) string {
	p = strings.TrimRight(p, `/\`)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	if p == "" || p == "." {
		return "bundle"
	}
	return p
}
