package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/store"
	"golang.org/x/net/html"
)

func renderHTML(t *testing.T, s *store.Store, ids ...int64) string {
	t.Helper()
	m := loadModel(t, s, ids...)
	var b bytes.Buffer
	if err := writeHTML(context.Background(), m, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// element is one start tag of a parsed page.
type element struct {
	name  string
	attrs []html.Attribute
}

// parsePage tokenizes a page as a browser would, returning its elements
// and its text.
func parsePage(t *testing.T, page string) ([]element, string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	var els []element
	var text strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return els, text.String()
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			els = append(els, element{tok.Data, tok.Attr})
		case html.TextToken:
			text.Write(z.Text())
		}
	}
}

// TestHTMLEscapesBundleContent: a process named <script>alert(1)</script>
// and event text holding </table><img src=x onerror=…> are shown as text:
// the page has exactly its own script, no img, and no event handler.
func TestHTMLEscapesBundleContent(t *testing.T) {
	s := openStore(t)
	const proc = "<script>alert(1)</script>"
	const evil = "</table><img src=x onerror=alert(2)>"
	// The event text reaches the page three ways: a service's error text
	// (failure message and evidence), an event's rendered message, and its
	// data.
	extra := scm(base.Add(3*time.Minute), 3, 7000, "Fax", "Fax", evil)
	extra.Message = "rendered: " + evil
	id := iasCase(t, s, "evil", proc, extra)
	page := renderHTML(t, s, id)

	els, text := parsePage(t, page)
	scripts := 0
	for _, e := range els {
		switch e.name {
		case "script":
			scripts++
		case "img", "iframe", "object", "embed", "link":
			t.Errorf("page has a <%s> element: %v", e.name, e.attrs)
		}
		for _, a := range e.attrs {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s> has an event handler %s=%q", e.name, a.Key, a.Val)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d <script> elements, want 1 (the page's own)", scripts)
	}
	for _, want := range []string{proc, evil, "rendered: " + evil} {
		if !strings.Contains(text, want) {
			t.Errorf("the text of the page lacks %q", want)
		}
	}
	// The owner's name is in the verdict card, the finding and the table.
	if n := strings.Count(text, proc); n < 3 {
		t.Errorf("%q shown %d times, want it in the card, the finding and the sockets table", proc, n)
	}
}

// refAttr matches the attributes and CSS that make a browser fetch.
var refAttr = regexp.MustCompile(`(?i)\b(src|href|action|xlink:href|poster|srcset|data)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)|url\(\s*([^)]*)\)|@import`)

// TestHTMLSelfContained: nothing on the page refers outside it — no
// http:, https: or // in any src, href or url(), only #fragments as links
// — and the Content-Security-Policy allows exactly its own style and
// script.
func TestHTMLSelfContained(t *testing.T) {
	s := openStore(t)
	id1 := iasCase(t, s, "a", "dns.exe")
	id2 := iasCase(t, s, "b", "dns.exe") // a batch: index and links
	page := renderHTML(t, s, id1, id2)
	els, _ := parsePage(t, page)
	links := 0
	for _, e := range els {
		for _, a := range e.attrs {
			switch strings.ToLower(a.Key) {
			case "src", "srcset", "action", "poster", "data", "xlink:href":
				t.Errorf("<%s %s=%q>: the page must load nothing", e.name, a.Key, a.Val)
			case "href":
				links++
				if !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s href=%q>: only links within the page", e.name, a.Val)
				}
			}
		}
	}
	if links == 0 {
		t.Error("no links: the index should link to each bundle's section")
	}
	for _, m := range refAttr.FindAllString(page, -1) {
		low := strings.ToLower(m)
		if strings.Contains(low, "http:") || strings.Contains(low, "https:") || strings.Contains(low, "//") || strings.Contains(low, "@import") {
			t.Errorf("external reference %q", m)
		}
	}
	for _, bad := range []string{"http://", "https://"} {
		if strings.Contains(page, bad) {
			i := strings.Index(page, bad)
			t.Errorf("page contains %q: …%s…", bad, page[max(0, i-60):min(len(page), i+60)])
		}
	}

	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if csp == nil {
		t.Fatal("no Content-Security-Policy")
	}
	policy := html.UnescapeString(csp[1])
	for _, tt := range []struct{ tag, directive string }{{"style", "style-src"}, {"script", "script-src"}} {
		body := regexp.MustCompile(`(?s)<` + tt.tag + `>(.*?)</` + tt.tag + `>`).FindStringSubmatch(page)
		if body == nil {
			t.Fatalf("no <%s>", tt.tag)
		}
		sum := sha256.Sum256([]byte(body[1]))
		want := tt.directive + " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q: the browser would block the page's own %s", policy, want, tt.tag)
		}
	}
	if !strings.Contains(policy, "default-src 'none'") {
		t.Errorf("policy %q does not deny by default", policy)
	}
}

// TestHTMLSections: the page opens each case with its executive summary,
// has verdict cards before the findings, the timeline, the evidence chain with raw lines, the remedy,
// and the batch index with one row per bundle and the recurring culprit.
func TestHTMLSections(t *testing.T) {
	s := openStore(t)
	id1 := iasCase(t, s, "one", "dns.exe")
	id2 := iasCase(t, s, "two", "dns.exe")
	page := renderHTML(t, s, id1, id2)
	order := []string{
		`<section id="index">`,
		`<a href="#case-1" title="one">one</a>`, `<a href="#case-2" title="two">two</a>`,
		"Culprits that recur across bundles", "dns-socket-pool (dns.exe)",
		`<section class="case" id="case-1">`,
		`<section class="summary"`, `<dt>What failed</dt>`, `<dt>Why</dt>`, `<dt>Fix</dt>`, `<dt>How sure</dt>`,
		`<article class="card v-confirmed">`,
		`<svg viewBox=`, `class="tl-failure"`, `class="tl-snapshot"`, `class="tl-v-confirmed"`,
		`<article class="failure" id="case-1-f1-failure">`, `<section class="finding" id="case-1-f1">`,
		`netstat-anob.txt:6`, "UDP  0.0.0.0:1812",
		`<pre class="remedy">`,
		`<table class="data">`,
		`<section class="case" id="case-2">`,
	}
	at := 0
	for _, want := range order {
		i := strings.Index(page[at:], want)
		if i < 0 {
			t.Errorf("%q missing after offset %d", want, at)
			continue
		}
		at += i
	}
	if got := strings.Count(page, `<tr><td><a href="#case-`); got != 2 {
		t.Errorf("index has %d bundle rows, want 2", got)
	}
	if !strings.Contains(page, "2026-03-02 02:02:00 UTC-06:00") {
		t.Error("the failure time is not shown in the host's zone")
	}
	if !strings.Contains(page, "2026-03-02 08:02:00 UTC (2026-03-02 02:02:00 UTC-06:00)") {
		t.Error("the reasons' UTC times are not followed by the host's time")
	}
}

func TestZone(t *testing.T) {
	tests := []struct {
		name      string
		zone      Zone
		label     string
		describes string
	}{
		{"unknown", Zone{}, "UTC", "the host's time zone is unknown"},
		{"utc", Zone{Known: true, Source: store.ZoneFromEvent6008}, "UTC+00:00", "event 6008"},
		{"central", Zone{Offset: -6 * time.Hour, Known: true, Source: store.ZoneFromSysteminfo, Name: "(UTC-06:00) Central Time (US & Canada)"},
			"UTC-06:00", "standard time according to systeminfo: (UTC-06:00) Central Time (US & Canada) (daylight saving time is not applied)"},
		{"india", Zone{Offset: 5*time.Hour + 30*time.Minute, Known: true, Source: store.ZoneFromFlag}, "UTC+05:30", "--tz"},
		{"newfoundland", Zone{Offset: -(3*time.Hour + 30*time.Minute), Known: true}, "UTC-03:30", "the host's offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.zone.Label(); got != tt.label {
				t.Errorf("Label() = %q, want %q", got, tt.label)
			}
			if got := tt.zone.Describe(); !strings.Contains(got, tt.describes) {
				t.Errorf("Describe() = %q, want it to say %q", got, tt.describes)
			}
			if got, want := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC).In(tt.zone.Location()).Format("15:04"),
				time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC).Add(tt.zone.Offset).Format("15:04"); got != want {
				t.Errorf("12:00 UTC shows as %s, want %s", got, want)
			}
		})
	}
}

// TestHTMLRowLimitShared: a batch page shares its large-table rows among
// its cases, so that a page of hundreds of bundles stays small enough to
// open; each case's note says how many rows are shown and where the rest
// are.
func TestHTMLRowLimitShared(t *testing.T) {
	for _, tt := range []struct{ cases, want int }{{1, 1000}, {20, 1000}, {21, 952}, {40, 500}, {200, 100}, {5000, 100}} {
		if got := rowLimit(tt.cases); got != tt.want {
			t.Errorf("rowLimit(%d) = %d, want %d", tt.cases, got, tt.want)
		}
	}
	s := openStore(t)
	var ids []int64
	for i := range 40 {
		var socks []parsers.Socket
		for p := range 600 {
			socks = append(socks, udp(uint16(2000+p), 1640, "dns.exe"))
		}
		ids = append(ids, ingest(t, s, fmt.Sprintf("bundle-%02d", i), store.HostFacts{}, netstat("netstat.txt", base, socks...)))
	}
	page := renderHTML(t, s, ids...)
	if got := strings.Count(page, "Showing the first 500 of 600 sockets"); got != 40 {
		t.Errorf("%d cases say they show 500 of 600 sockets, want 40", got)
	}
	// One socket row per port shown: 2000–2499 in every case, 2500 in none.
	if got, want := strings.Count(page, `data-sort="2499">2499</td>`), 40; got != want {
		t.Errorf("port 2499 shown %d times, want %d", got, want)
	}
	if strings.Contains(page, `data-sort="2500">2500</td>`) {
		t.Error("port 2500 shown: more than 500 rows a case")
	}
}

func TestBaseName(t *testing.T) {
	for in, want := range map[string]string{
		"testdata/bundles/ias-port-free/": "ias-port-free", `C:\cases\4711\bundle.zip`: "bundle.zip",
		"bundle.zip": "bundle.zip", "/": "bundle", ".": "bundle", `D:\x/y\z`: "z",
	} {
		if got := baseName(in); got != want {
			t.Errorf("baseName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHTMLFolds: the four findings of one IAS failure (CONFIRMED on UDP
// 1812, NO_CONFLICT_SEEN on the other three) are one failure block with
// two folds, the NO_CONFLICT_SEEN one listing its three ports; the
// evidence all four cite is shown once, and so is each reason.
func TestHTMLFolds(t *testing.T) {
	s := openStore(t)
	page := renderHTML(t, s, iasCase(t, s, "one", "dns.exe"))
	if got := strings.Count(page, `<article class="failure"`); got != 1 {
		t.Errorf("%d failure blocks, want 1", got)
	}
	if got := strings.Count(page, `<section class="finding"`); got != 2 {
		t.Errorf("%d folds, want 2 (CONFIRMED and NO_CONFLICT_SEEN)", got)
	}
	if !strings.Contains(page, `<span class="mono">UDP/1813, UDP/1645, UDP/1646</span>`) {
		t.Error("the NO_CONFLICT_SEEN fold does not list its three ports")
	}
	if !strings.Contains(page, "not a port conflict on UDP 1813, 1645 and 1646") {
		t.Error("the folded reason does not name the three ports")
	}
	// The failure event is cited by every finding: once on the page as
	// evidence, whatever the number of ports.
	if got := strings.Count(page, `<span class="place mono">System.evtx record 2 (System)</span>`); got != 1 {
		t.Errorf("the failure's event is shown as evidence %d times, want 1", got)
	}
	if got := strings.Count(page, "<li>Internet Authentication Service (IAS) failed at"); got != 1 {
		t.Errorf("the failure's first reason is shown %d times, want 1", got)
	}
	// One card, the cause's, naming the free sibling ports (issue 12,
	// item 7), and one summary for the one failure.
	if got := strings.Count(page, `<article class="card `); got != 1 {
		t.Errorf("%d cards, want 1", got)
	}
	if !strings.Contains(page, `<p class="also">Also needs UDP 1813, 1645 and 1646: free in the snapshot.</p>`) {
		t.Error("the CONFIRMED card does not name the free sibling ports")
	}
	if got := strings.Count(page, `<div class="sum `); got != 1 {
		t.Errorf("%d summaries, want 1", got)
	}
	for _, want := range []string{"UDP 1812 was held by dns.exe (PID 1640)", "the DNS server&#39;s socket pool",
		"The other ports it needs — UDP 1813, 1645 and 1646: free in the snapshot."} {
		if !strings.Contains(page, want) {
			t.Errorf("the summary lacks %q", want)
		}
	}
}

// TestRemedyBlocks: each alternative of a remedy, and the steps that
// follow whichever was chosen, is a block of its own (with its own copy
// button on the page).
func TestRemedyBlocks(t *testing.T) {
	for _, tt := range []struct {
		name  string
		lines []string
		want  []string
	}{
		{"one", []string{"REM a", "x", "y"}, []string{"REM a\nx\ny"}},
		{"or_then_follow_up", []string{"REM WinNAT …:", "netsh a", "REM Or move the dynamic range …:", "netsh b",
			"REM A reboot re-creates …:", "net start x"},
			[]string{"REM WinNAT …:\nnetsh a", "REM Or move the dynamic range …:\nnetsh b", "REM A reboot re-creates …:\nnet start x"}},
		{"remarks_only_tail", []string{"REM x", "REM Or y:", "netsh b", "REM Then reboot."}, []string{"REM x\nREM Or y:\nnetsh b\nREM Then reboot."}},
		{"emergency_last", []string{"REM Block mode:", "reg add", "REM Restart the server.", "REM Emergency, …:", "sc config"},
			[]string{"REM Block mode:\nreg add\nREM Restart the server.", "REM Emergency, …:\nsc config"}},
		{"unknown_version", []string{"REM dns:", "REM The Windows version is unknown: on 2003 use ReservedPorts:", "reg add",
			"REM On Windows Vista/Server 2008 and later use netsh:", "netsh add", "net start IAS"},
			[]string{"REM dns:\nREM The Windows version is unknown: on 2003 use ReservedPorts:\nreg add",
				"REM On Windows Vista/Server 2008 and later use netsh:\nnetsh add\nnet start IAS"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := remedyBlocks(tt.lines); !slices.Equal(got, tt.want) {
				t.Errorf("remedyBlocks\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestHTMLPaper: without --paper the print style names no page size (the
// printer's paper, from the user's locale); with one it does, and the
// style's hash in the Content-Security-Policy still matches.
func TestHTMLPaper(t *testing.T) {
	s := openStore(t)
	id := iasCase(t, s, "one", "dns.exe")
	for _, tt := range []struct{ paper, want string }{{"", ""}, {"a4", "size: A4"}, {"letter", "size: letter"}} {
		m := loadModel(t, s, id)
		m.Paper = tt.paper
		var b bytes.Buffer
		if err := writeHTML(context.Background(), m, &b); err != nil {
			t.Fatal(err)
		}
		style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(b.String())[1]
		got := ""
		if m := regexp.MustCompile(`[{;\s](size:\s*[^;}]+)`).FindStringSubmatch(style); m != nil {
			got = m[1]
		}
		if got != tt.want {
			t.Errorf("paper %q: page size %q, want %q", tt.paper, got, tt.want)
		}
		if !strings.Contains(html.UnescapeString(b.String()), cspHash(style)) {
			t.Errorf("paper %q: the policy lacks the style's hash", tt.paper)
		}
	}
	m := loadModel(t, s, id)
	m.Paper = "a3"
	if err := writeHTML(context.Background(), m, &bytes.Buffer{}); err == nil {
		t.Error("paper a3: no error")
	}
}

// TestHTMLSummaryRepeats: a service that failed the same way many times
// (in different boots: correlate folds those of one boot itself) is one
// summary item saying how often and over what time, not one per failure.
func TestHTMLSummaryRepeats(t *testing.T) {
	c := &Case{Anchor: "case-1", Host: "SRV01", Zone: Zone{Offset: -6 * time.Hour, Known: true}}
	for i := range 8 {
		c.Findings = append(c.Findings, correlate.Finding{Service: "Internet Authentication Service", ServiceKey: "IAS",
			FailureTime: base.Add(time.Duration(i) * 24 * time.Hour), EventID: 7023, ErrorCode: 10048, HasError: true,
			Proto: parsers.UDP, Port: 1812, Verdict: correlate.Confirmed, Confidence: 0.86, OwnerPID: 1640, OwnerImage: "dns.exe",
			Rule: correlate.RuleDNSSocketPool})
	}
	items, more := newHTMLSummary(c, c.failureFolds())
	if len(items) != 1 || more != 0 {
		t.Fatalf("%d summary items and %d more, want 1 and 0", len(items), more)
	}
	if got, want := items[0].What, "Internet Authentication Service (IAS) failed 8 times on SRV01, from 2026-03-02 02:00:00 UTC-06:00 to 2026-03-09 02:00:00 UTC-06:00, with error 10048 (WSAEADDRINUSE)."; got != want {
		t.Errorf("What = %q, want %q", got, want)
	}
}
