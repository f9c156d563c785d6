package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/reports"
	"github.com/xuri/excelize/v2"
)

// analyzeInto runs `portmortem analyze -o out args...` and fails the test
// unless it exits 0.
func analyzeInto(t *testing.T, out string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"analyze", "-o", out}, args...)
	if code := run(context.Background(), full, &stdout, &stderr); code != exitOK {
		t.Fatalf("analyze %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func scenarioDirs() []string {
	var dirs []string
	for _, sc := range scenarios() {
		dirs = append(dirs, filepath.Join(bundlesDir(), sc.name))
	}
	return dirs
}

func readFindingsJSON(t *testing.T, name string) []findingJSON {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var fs []findingJSON
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestReportWorkbook analyzes every scenario bundle in one run and reads
// report.xlsx back: the sheets, their header rows, date cells typed as
// dates in the host's zone, autofilters and frozen header rows, the
// Findings sheet equal to findings.json, and the batch index with one row
// per bundle linked to its Summary section.
func TestReportWorkbook(t *testing.T) {
	out := t.TempDir()
	analyzeInto(t, out, scenarioDirs()...)
	f, err := excelize.OpenFile(filepath.Join(out, "report.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	wantSheets := []string{"Index", "Summary", "Findings", "Failures", "Port owners", "Port ranges", "Processes", "Boots", "Artifacts", "Events"}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets %q, want %q", got, wantSheets)
	}
	filters := map[string]string{}
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm._FilterDatabase" {
			filters[d.Scope] = d.RefersTo
		}
	}
	// The first header cells of each table sheet, and the columns holding
	// dates.
	tables := []struct {
		sheet string
		head  []string
		dates []string
	}{
		{"Index", []string{"Bundle", "Host", "Failures", "Findings", "Top culprit", "Top finding", "CONFIRMED"}, nil},
		{"Findings", []string{"Bundle", "Host", "Failure time (host's zone)", "Zone", "Service", "Service key", "Proto", "Port", "Verdict", "Confidence"}, []string{"Failure time (host's zone)"}},
		{"Failures", []string{"Bundle", "Host", "Time (host's zone)", "Zone", "Kind", "Service"}, []string{"Time (host's zone)"}},
		{"Port owners", []string{"Bundle", "Host", "Snapshot", "Captured (host's zone)", "Zone", "Line", "Proto", "Local address", "Local port"}, []string{"Captured (host's zone)"}},
		{"Port ranges", []string{"Bundle", "Host", "Kind", "Proto", "IP version", "Start port", "End port"}, nil},
		{"Processes", []string{"Bundle", "Host", "Artifact", "Format", "Captured (host's zone)", "Zone", "Line", "PID", "Image"}, []string{"Captured (host's zone)"}},
		{"Boots", []string{"Bundle", "Host", "Time (host's zone)", "Zone", "Kind", "Event ID"}, []string{"Time (host's zone)", "Boot time (host's zone)"}},
		{"Artifacts", []string{"Bundle", "Host", "Artifact", "Format", "Parser version", "Encoding", "Locale"}, []string{"Captured (host's zone)"}},
		{"Events", []string{"Bundle", "Host", "Time (host's zone)", "Zone", "Channel", "Provider", "Event ID"}, []string{"Time (host's zone)"}},
	}
	for _, tt := range tables {
		rows, err := f.GetRows(tt.sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < 2 {
			t.Errorf("%s: %d rows, want a header and data", tt.sheet, len(rows))
			continue
		}
		if len(rows[0]) < len(tt.head) || !slices.Equal(rows[0][:len(tt.head)], tt.head) {
			t.Errorf("%s header %q, want it to start %q", tt.sheet, rows[0], tt.head)
		}
		if !strings.HasPrefix(filters[tt.sheet], "'"+tt.sheet+"'!$A$1:$") {
			t.Errorf("%s: autofilter %q", tt.sheet, filters[tt.sheet])
		}
		panes, err := f.GetPanes(tt.sheet)
		if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
			t.Errorf("%s: panes %+v (%v), want the header row frozen", tt.sheet, panes, err)
		}
		for _, col := range tt.dates {
			c := slices.Index(rows[0], col)
			if c < 0 {
				t.Errorf("%s: no column %q in %q", tt.sheet, col, rows[0])
				continue
			}
			checked := 0
			for r := 1; r < len(rows) && checked < 5; r++ {
				if c >= len(rows[r]) || rows[r][c] == "" {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				checkDateCell(t, f, tt.sheet, cell, rows[r][c])
				checked++
			}
			if checked == 0 {
				t.Errorf("%s: column %q has no dates", tt.sheet, col)
			}
		}
	}

	// The Findings sheet says what findings.json says.
	want := readFindingsJSON(t, filepath.Join(out, "findings.json"))
	rows, err := f.GetRows("Findings", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rows) - 1; got != len(want) {
		t.Fatalf("Findings has %d rows, findings.json %d", got, len(want))
	}
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("Findings has no column %q", name)
		}
		return i
	}
	cell := func(r []string, name string) string {
		if i := col(name); i < len(r) {
			return r[i]
		}
		return ""
	}
	for i, w := range want {
		r := rows[i+1]
		wantPID, wantCode := "", ""
		if w.OwnerPID != nil {
			wantPID = strconv.Itoa(*w.OwnerPID)
		}
		if w.ErrorCode != nil {
			wantCode = strconv.FormatUint(uint64(*w.ErrorCode), 10)
		}
		port := ""
		if w.Port != 0 {
			port = strconv.Itoa(int(w.Port))
		}
		ev := make([]correlate.Evidence, len(w.Evidence))
		copy(ev, w.Evidence)
		for _, c := range []struct{ name, got, want string }{
			{"Bundle", cell(r, "Bundle"), w.Bundle},
			{"Host", cell(r, "Host"), w.Host},
			{"Service", cell(r, "Service"), w.Service},
			{"Service key", cell(r, "Service key"), w.ServiceKey},
			{"Proto", cell(r, "Proto"), w.Proto},
			{"Port", cell(r, "Port"), port},
			{"Verdict", cell(r, "Verdict"), w.Verdict},
			{"Confidence", cell(r, "Confidence"), strconv.FormatFloat(w.Confidence, 'f', -1, 64)},
			{"Owner image", cell(r, "Owner image"), w.OwnerImage},
			{"Owner PID", cell(r, "Owner PID"), wantPID},
			{"Owner services", cell(r, "Owner services"), strings.Join(w.OwnerServices, ", ")},
			{"Rule", cell(r, "Rule"), w.Rule},
			{"Remedy", cell(r, "Remedy"), strings.Join(w.Remedy, "\n")},
			{"KB", cell(r, "KB"), strings.Join(w.KB, ", ")},
			{"Event ID", cell(r, "Event ID"), strconv.Itoa(int(w.EventID))},
			{"Error code", cell(r, "Error code"), wantCode},
			{"Error", cell(r, "Error"), deref(w.Error)},
			{"Port source", cell(r, "Port source"), deref(w.PortSource)},
			{"Snapshot", cell(r, "Snapshot"), w.Snapshot},
			{"Reasons", cell(r, "Reasons"), strings.Join(w.Reasons, "\n")},
			{"Evidence", cell(r, "Evidence"), reports.EvidenceText(ev)},
			{"Failure time", sheetTimeUTC(t, cell(r, "Failure time (host's zone)"), cell(r, "Zone")), deref(w.FailureTime)},
		} {
			if c.got != c.want {
				t.Errorf("finding %d (%s %s/%d) %s:\nsheet %q\njson  %q", i, w.Bundle, w.Proto, w.Port, c.name, c.got, c.want)
			}
		}
	}

	// The index: one row per bundle, linked to its Summary section.
	index, err := f.GetRows("Index")
	if err != nil {
		t.Fatal(err)
	}
	dirs := scenarioDirs()
	for i, dir := range dirs {
		if i+1 >= len(index) || index[i+1][0] != dir {
			t.Errorf("Index row %d: %q, want bundle %s", i+1, index[min(i+1, len(index)-1)], dir)
			continue
		}
		ok, target, err := f.GetCellHyperLink("Index", fmt.Sprintf("A%d", i+2))
		m := regexp.MustCompile(`^'Summary'!A(\d+)$`).FindStringSubmatch(target)
		if err != nil || !ok || m == nil {
			t.Errorf("Index row %d links to %q (%v, %v)", i+1, target, ok, err)
			continue
		}
		if got, _ := f.GetCellValue("Summary", "B"+m[1]); got != dir {
			t.Errorf("Index row %d leads to Summary!B%s = %q, want %s", i+1, m[1], got, dir)
		}
	}
	if row := index[len(dirs)+1]; len(row) > 0 && row[0] != "" {
		t.Errorf("Index has a row past the bundles: %q", row)
	}
	var recurring []string
	for _, r := range index[len(dirs)+2:] {
		if len(r) > 0 && strings.HasPrefix(r[0], "dns-socket-pool") {
			recurring = r
		}
	}
	if recurring == nil || recurring[1] != "3" || !strings.Contains(recurring[5], "sbs2003-ias-dns") ||
		!strings.Contains(recurring[5], "nps-german-2008r2") || !strings.Contains(recurring[5], "stale-snapshot") {
		t.Errorf("recurring culprit row %q, want dns-socket-pool in 3 bundles", recurring)
	}

	// The HTML page has the same index.
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for i, dir := range dirs {
		if !strings.Contains(string(page), fmt.Sprintf(`<tr><td><a href="#case-%d" title="%s">%s</a></td>`, i+1, dir, filepath.Base(dir))) {
			t.Errorf("report.html index lacks the row of %s", dir)
		}
	}
	if got := strings.Count(string(page), `<tr><td><a href="#case-`); got != len(dirs) {
		t.Errorf("report.html index has %d bundle rows, want %d", got, len(dirs))
	}
}

// workbookPages is the most pages a one-case workbook may print to
// (issue 11: the classic case printed to 255).
const workbookPages = 10

// libreOffice returns the LibreOffice binary, skipping the test when there
// is none (and failing it in CI, which installs Debian's
// libreoffice-calc-nogui, or with PORTMORTEM_LONG=1).
func libreOffice(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"libreoffice", "soffice"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || longTests() {
		t.Fatal("libreoffice is not installed (CI installs Debian's libreoffice-calc-nogui; PORTMORTEM_LONG=1 needs it)")
	}
	t.Skip("libreoffice is not installed: apt-get install --no-install-recommends libreoffice-calc-nogui")
	return ""
}

// TestReportWorkbookPDF prints the workbook of a one-case run to PDF with
// headless LibreOffice, as a customer printing every sheet would get it,
// and checks it takes at most workbookPages pages. chromiumQuick is the
// case: one failure (IAS, on four ports) and a 2,506-socket netstat. With
// PORTMORTEM_LONG=1 every scenario bundle is printed, each on its own,
// and the batch of all of them is printed and its page count logged. A
// conversion takes 3-6 s (LibreOffice's start). With
// PORTMORTEM_SCREENSHOTS=DIR the PDFs are kept there.
func TestReportWorkbookPDF(t *testing.T) {
	bin := libreOffice(t)
	work := t.TempDir()
	var names []string
	for _, sc := range scenarios() {
		if !longTests() && sc.name != chromiumQuick {
			continue
		}
		out := filepath.Join(work, sc.name)
		analyzeInto(t, out, "-q", "--format", "xlsx", filepath.Join(bundlesDir(), sc.name))
		names = append(names, sc.name)
	}
	if longTests() {
		analyzeInto(t, filepath.Join(work, "batch"), append([]string{"-q", "--format", "xlsx"}, scenarioDirs()...)...)
		names = append(names, "batch")
	}
	// One LibreOffice for every file (its start is most of the time); each
	// file gets its own name, since the PDF is named after it.
	args := []string{"-env:UserInstallation=file://" + filepath.ToSlash(filepath.Join(work, "profile")), "--headless",
		"--norestore", "--convert-to", "pdf", "--outdir", filepath.Join(work, "pdf")}
	for _, name := range names {
		xlsx := filepath.Join(work, name+".xlsx")
		if err := os.Rename(filepath.Join(work, name, "report.xlsx"), xlsx); err != nil {
			t.Fatal(err)
		}
		args = append(args, xlsx)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+work) // nothing of the user's LibreOffice is read or written
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("libreoffice: %v\n%s", err, out)
	}
	t.Logf("libreoffice converted %d workbooks in %v", len(names), time.Since(start).Round(time.Millisecond))
	keep := os.Getenv("PORTMORTEM_SCREENSHOTS")
	for _, name := range names {
		pdf := filepath.Join(work, "pdf", name+".pdf")
		data, err := os.ReadFile(pdf)
		if err != nil {
			t.Errorf("%s: no PDF: %v", name, err)
			continue
		}
		pages, err := pdfPages(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		t.Logf("%s: %d pages", name, pages)
		if name != "batch" && pages > workbookPages {
			t.Errorf("%s: the workbook prints to %d pages, want at most %d", name, pages, workbookPages)
		}
		if keep != "" {
			os.WriteFile(filepath.Join(keep, name+"-workbook.pdf"), data, 0o644)
		}
	}
}

// pdfPage is a page object's type entry (/Type /Page, not /Pages).
var pdfPage = regexp.MustCompile(`/Type\s*/Page\b`)

// pdfPages counts the page objects of a PDF. LibreOffice and Chromium
// write them uncompressed; a PDF with object streams, where they could hide, is an
// error rather than a wrong count.
func pdfPages(data []byte) (int, error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return 0, fmt.Errorf("not a PDF: %.20q", data)
	}
	if bytes.Contains(data, []byte("/ObjStm")) {
		return 0, errors.New("the PDF has object streams: its pages cannot be counted here")
	}
	return len(pdfPage.FindAll(data, -1)), nil
}

// checkDateCell checks a cell holds a number formatted as a date.
func checkDateCell(t *testing.T, f *excelize.File, sheet, cell, raw string) {
	t.Helper()
	if _, err := strconv.ParseFloat(raw, 64); err != nil {
		t.Errorf("%s!%s = %q: not a serial date", sheet, cell, raw)
		return
	}
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt == nil || !strings.Contains(*st.CustomNumFmt, "yyyy-mm-dd") {
		t.Errorf("%s!%s: number format %v is not a date", sheet, cell, st.CustomNumFmt)
	}
}

// sheetTimeUTC converts a serial date shown in zone ("UTC-06:00") back to
// RFC 3339 UTC.
func sheetTimeUTC(t *testing.T, serial, zone string) string {
	t.Helper()
	if serial == "" {
		return ""
	}
	v, err := strconv.ParseFloat(serial, 64)
	if err != nil {
		t.Fatalf("date %q: %v", serial, err)
	}
	wall, err := excelize.ExcelDateToTime(v, false)
	if err != nil {
		t.Fatal(err)
	}
	wall = wall.Round(time.Second)
	if zone != "UTC" {
		off, err := parseOffset(zone)
		if err != nil {
			t.Fatalf("zone %q: %v", zone, err)
		}
		wall = wall.Add(-off)
	}
	return wall.UTC().Format(time.RFC3339Nano)
}

// longTests reports whether the long tests run: PORTMORTEM_LONG=1, which
// .ci/run sets (-short wins over it).
func longTests() bool {
	return os.Getenv("PORTMORTEM_LONG") == "1" && !testing.Short()
}

// chromiumQuick is the scenario rendered in Chromium without
// PORTMORTEM_LONG=1: the README's classic case, a CONFIRMED finding and
// NO_CONFLICT_SEEN ones.
const chromiumQuick = "sbs2003-ias-dns"

// chromiumFlags are the flags the rendering test runs Chromium with: no
// sandbox (containers), no GPU, and nothing that talks to the network.
var chromiumFlags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync"}

// chromium returns the Chromium binary, skipping the test when there is
// none (and failing it in CI, which installs Debian's chromium, or with
// PORTMORTEM_LONG=1).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || longTests() {
		t.Fatal("chromium is not installed (CI installs Debian's chromium; PORTMORTEM_LONG=1 needs it)")
	}
	t.Skip("chromium is not installed: apt-get install chromium")
	return ""
}

// TestReportHTMLInChromium renders the HTML report of every scenario
// bundle in headless Chromium to a PNG (on screen) and a PDF (in print,
// on Chromium's default paper, Letter: no paper is named), counts the
// PDF's pages and checks that a bundle with one failure prints on at most
// 3, and checks the rendered page (--dump-dom) shows each verdict and ran
// its script — which it can only do if the Content-Security-Policy's hash
// matches. With PORTMORTEM_LONG=1 it also renders the batch page of every
// scenario at once. With
// PORTMORTEM_SCREENSHOTS=DIR the PNGs and PDFs are kept there. A render
// takes 3-7 s: without PORTMORTEM_LONG=1 only chromiumQuick is rendered.
func TestReportHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	keep := os.Getenv("PORTMORTEM_SCREENSHOTS")
	for _, sc := range scenarios() {
		if !longTests() && sc.name != chromiumQuick {
			continue
		}
		t.Run(sc.name, func(t *testing.T) {
			out := t.TempDir()
			dir := filepath.Join(bundlesDir(), sc.name)
			analyzeInto(t, out, "-q", "--format", "html,json", dir)
			rendered, pages := renderInChromium(t, bin, out, sc.name, keep)
			failures := pageFailures(t, rendered)
			t.Logf("%s: %d failure(s), %d PDF pages", sc.name, failures, pages)
			if failures == 1 && pages > 3 {
				t.Errorf("%s has one failure and prints on %d pages, want at most 3", sc.name, pages)
			}
			for _, f := range readFindingsJSON(t, filepath.Join(out, "findings.json")) {
				for _, want := range []string{f.Verdict, reports.VerdictMeaning(correlate.Verdict(f.Verdict))} {
					if !strings.Contains(rendered, want) {
						t.Errorf("the rendered page lacks %q", want)
					}
				}
			}
		})
	}
	if !longTests() {
		return
	}
	t.Run("batch", func(t *testing.T) {
		out := t.TempDir()
		analyzeInto(t, out, append([]string{"-q", "--format", "html,json"}, scenarioDirs()...)...)
		rendered, pages := renderInChromium(t, bin, out, "batch", keep)
		n := len(scenarioDirs())
		t.Logf("batch of %d bundles: %d PDF pages", n, pages)
		// The index, then the bundles one after another, with no forced
		// page breaks: less than their pages printed alone.
		if pages < 2 || pages > 3*n {
			t.Errorf("the batch of %d bundles prints on %d pages, want 2 to %d", n, pages, 3*n)
		}
		if !strings.Contains(rendered, `class="batch-summary"`) || strings.Count(rendered, `<td class="short">`) != n {
			t.Error("the batch page lacks its summary or an index row's summary")
		}
	})
}

// renderInChromium renders out/report.html in Chromium to name.png (a
// 1280 px wide window) and name.pdf, checks both, that the page's script
// ran, and returns the DOM Chromium built and the PDF's page count;
// with keep set, it copies the PNG and the PDF there.
func renderInChromium(t *testing.T, bin, out, name, keep string) (string, int) {
	t.Helper()
	page, err := filepath.Abs(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	shot, pdf := filepath.Join(out, name+".png"), filepath.Join(out, name+".pdf")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(slices.Clone(chromiumFlags), "--user-data-dir="+t.TempDir(), "--window-size=1280,2000",
		"--hide-scrollbars", "--no-pdf-header-footer", "--screenshot="+shot, "--print-to-pdf="+pdf, "--dump-dom",
		"file://"+filepath.ToSlash(page))
	cmd := exec.CommandContext(ctx, bin, args...)
	var dom, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &dom, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	img, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, stderr.String())
	}
	cfg, err := png.DecodeConfig(img)
	img.Close()
	if err != nil || cfg.Width < 1000 || cfg.Height < 1000 {
		t.Errorf("screenshot %s: %dx%d, %v", shot, cfg.Width, cfg.Height, err)
	}
	data, err := os.ReadFile(pdf)
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) || len(data) < 10000 {
		t.Errorf("PDF %s: %d bytes, %v", pdf, len(data), err)
	}
	pages, err := pdfPages(data) // Chromium (Skia) writes no object streams either
	if err != nil || pages == 0 {
		t.Errorf("PDF %s: %d page objects, %v", pdf, pages, err)
	}
	rendered := dom.String()
	if !regexp.MustCompile(`<html[^>]* class="[^"]*\bjs\b`).MatchString(rendered) || !strings.Contains(rendered, `class="filter"`) {
		t.Error("the page's script did not run (blocked by its Content-Security-Policy?)")
	}
	if keep != "" {
		for _, f := range []string{shot, pdf} {
			if b, err := os.ReadFile(f); err == nil {
				os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644)
			}
		}
	}
	return rendered, pages
}

// pageFailures reads how many failures a one-bundle page says it decoded
// ("1 service-start failure or bind error decoded").
func pageFailures(t *testing.T, page string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+) service-start failures? or bind errors? decoded`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page does not say how many failures it decoded")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestReportCommand: `portmortem report` writes the same reports from the
// database alone, for every case or for the bundles named.
func TestReportCommand(t *testing.T) {
	first := t.TempDir()
	dirs := scenarioDirs()[:3]
	analyzeInto(t, first, dirs...)
	again := t.TempDir()
	var stdout, stderr bytes.Buffer
	db := filepath.Join(first, "portmortem.db")
	if code := run(context.Background(), []string{"report", "--db", db, "-o", again}, &stdout, &stderr); code != exitOK {
		t.Fatalf("report: exit %d\n%s", code, stderr.String())
	}
	a, _ := os.ReadFile(filepath.Join(first, "findings.json"))
	b, _ := os.ReadFile(filepath.Join(again, "findings.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("findings.json from the database differs from analyze's:\n%s\n---\n%s", a, b)
	}
	for _, name := range []string{"report.xlsx", "report.html"} {
		if _, err := os.Stat(filepath.Join(again, name)); err != nil {
			t.Error(err)
		}
	}
	for _, d := range dirs {
		if !strings.Contains(stdout.String(), d) {
			t.Errorf("report output lacks %s:\n%s", d, stdout.String())
		}
	}

	one := t.TempDir()
	stdout.Reset()
	if code := run(context.Background(), []string{"report", "--db", db, "-o", one, "--format", "json", dirs[1]}, &stdout, &stderr); code != exitOK {
		t.Fatalf("report %s: exit %d\n%s", dirs[1], code, stderr.String())
	}
	fs := readFindingsJSON(t, filepath.Join(one, "findings.json"))
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range fs {
		if f.Bundle != dirs[1] {
			t.Errorf("finding of %s in the report of %s", f.Bundle, dirs[1])
		}
	}
	if _, err := os.Stat(filepath.Join(one, "report.xlsx")); err == nil {
		t.Error("--format json wrote report.xlsx")
	}

	base := t.TempDir()
	if code := run(context.Background(), []string{"report", "--db", db, "-o", base, "--format", "json", filepath.Base(dirs[2])}, &stdout, &stderr); code != exitOK {
		t.Fatalf("report %s: exit %d\n%s", filepath.Base(dirs[2]), code, stderr.String())
	}
	fs = readFindingsJSON(t, filepath.Join(base, "findings.json"))
	if len(fs) == 0 {
		t.Error("report by base name: no findings")
	}
	for _, f := range fs {
		if f.Bundle != dirs[2] {
			t.Errorf("finding of %s in the report of %s", f.Bundle, filepath.Base(dirs[2]))
		}
	}

	stderr.Reset()
	none := t.TempDir()
	if code := run(context.Background(), []string{"report", "--db", db, "-o", none, "nope"}, &stdout, &stderr); code != exitError {
		t.Errorf("report of an unknown bundle: exit %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr.String(), `no analyzed bundle named "nope"`) {
		t.Errorf("report of an unknown bundle does not say so:\n%s", stderr.String())
	}
	for _, d := range dirs {
		if !strings.Contains(stderr.String(), d) {
			t.Errorf("report of an unknown bundle does not list %s:\n%s", d, stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Join(none, "findings.json")); err == nil {
		t.Error("report of an unknown bundle wrote findings.json")
	}

	if code := run(context.Background(), []string{"report", "--db", filepath.Join(t.TempDir(), "none.db")}, &stdout, &stderr); code != exitUsage {
		t.Errorf("report with a missing database: exit %d, want %d", code, exitUsage)
	}
}

// TestAnalyzeFormat: --format chooses the files written; an unknown
// format is a usage error.
func TestAnalyzeFormat(t *testing.T) {
	bundle := filepath.Join(bundlesDir(), "disabled-service")
	tests := []struct {
		formats string
		want    []string
	}{
		{"json", []string{"findings.json"}},
		{"xlsx", []string{"report.xlsx"}},
		{"html,xlsx", []string{"report.html", "report.xlsx"}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.formats, ",", "_"), func(t *testing.T) {
			out := t.TempDir()
			stdout := analyzeInto(t, out, "--format", tt.formats, bundle)
			var got []string
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				if e.Name() != "portmortem.db" && !strings.HasPrefix(e.Name(), "portmortem.db-") {
					got = append(got, e.Name())
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("wrote %q, want %q", got, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, filepath.Join(out, w)) {
					t.Errorf("stdout does not name %s:\n%s", w, stdout)
				}
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "-o", t.TempDir(), "--format", "pdf", bundle}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--format pdf: exit %d, want %d", code, exitUsage)
	}
}

// TestAnalyzePaper: --paper names the page size report.html prints on;
// without it the page names none (the printer's paper); another paper is
// a usage error.
func TestAnalyzePaper(t *testing.T) {
	bundle := filepath.Join(bundlesDir(), "disabled-service")
	pageSize := regexp.MustCompile(`@page \{ size: ([^;]+);`)
	for _, tt := range []struct{ paper, want string }{{"", ""}, {"A4", "A4"}, {"letter", "letter"}} {
		out := t.TempDir()
		args := []string{"-q", "--format", "html", bundle}
		if tt.paper != "" {
			args = append([]string{"--paper", tt.paper}, args...)
		}
		analyzeInto(t, out, args...)
		page, err := os.ReadFile(filepath.Join(out, "report.html"))
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if m := pageSize.FindSubmatch(page); m != nil {
			got = string(m[1])
		}
		if got != tt.want {
			t.Errorf("--paper %q: page size %q, want %q", tt.paper, got, tt.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "-o", t.TempDir(), "--paper", "a3", bundle}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--paper a3: exit %d, want %d", code, exitUsage)
	}
}

// TestColorOutput: colour only on a terminal, never into a buffer, a
// pipe or a file; analyze's output to a buffer has no escape codes.
func TestColorOutput(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tt := range []struct {
		name string
		w    io.Writer
	}{{"buffer", &bytes.Buffer{}}, {"pipe", w}, {"file", file}} {
		if colorOutput(tt.w) {
			t.Errorf("%s: colour on", tt.name)
		}
	}
	if out := analyzeInto(t, t.TempDir(), filepath.Join(bundlesDir(), "sbs2003-ias-dns")); strings.Contains(out, "\x1b[") {
		t.Errorf("escape codes in output to a buffer:\n%q", out)
	}
}

// hostileBundle writes a bundle whose netstat -anob names the process on
// UDP 1812 <script>alert(1)</script>, and whose event log (an XML export)
// has a Fax failure whose error text is </table><img src=x onerror=…>.
func hostileBundle(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hostile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	event := func(rec int, at, provider string, id int, data ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="%s"/>`+
			`<EventID Qualifiers="49152">%d</EventID><Level>2</Level><TimeCreated SystemTime="%s"/>`+
			`<EventRecordID>%d</EventRecordID><Channel>System</Channel><Computer>EVIL01</Computer></System><EventData>`, provider, id, at, rec)
		for i, d := range data {
			fmt.Fprintf(&b, `<Data Name="param%d">%s</Data>`, i+1, d)
		}
		b.WriteString("</EventData></Event>\n")
		return b.String()
	}
	xml := "<Events>\n" +
		event(1, "2026-03-02T08:00:00.000Z", "EventLog", 6005) +
		event(2, "2026-03-02T08:02:00.000Z", "Service Control Manager", 7023, "Internet Authentication Service", "%%10048") +
		event(3, "2026-03-02T08:03:00.000Z", "Service Control Manager", 7000, "Fax", "&lt;/table&gt;&lt;img src=x onerror=alert(2)&gt;") +
		"</Events>\n"
	netstat := "2026-03-02T08:30:00.0000000+00:00\r\n\r\nActive Connections\r\n\r\n" +
		"  Proto  Local Address          Foreign Address        State           PID\r\n" +
		"  UDP    0.0.0.0:1812           *:*                                    1640\r\n" +
		" [<script>alert(1)</script>]\r\n"
	for name, data := range map[string]string{"System.xml": xml, "netstat-anob.txt": netstat} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestReportHostileBundle analyzes a bundle carrying HTML and renders its
// page: the process name and the event text show as text, and the page
// Chromium builds (when installed) has no img and no other script.
func TestReportHostileBundle(t *testing.T) {
	out := t.TempDir()
	analyzeInto(t, out, "-q", hostileBundle(t))
	fs := readFindingsJSON(t, filepath.Join(out, "findings.json"))
	var owner string
	for _, f := range fs {
		if f.Port == 1812 {
			owner = f.OwnerImage
		}
	}
	if owner != "<script>alert(1)</script>" {
		t.Fatalf("owner of UDP 1812 = %q: the bundle did not carry its payload (findings %+v)", owner, fs)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;/table&gt;&lt;img src=x onerror=alert(2)&gt;"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks the escaped %q", want)
		}
	}
	if strings.Contains(string(page), "<img") || strings.Count(string(page), "<script") != 1 {
		t.Error("report.html has an <img> or a second <script>")
	}
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	abs, _ := filepath.Abs(filepath.Join(out, "report.html"))
	cmd := exec.CommandContext(ctx, bin, append(slices.Clone(chromiumFlags), "--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+filepath.ToSlash(abs))...)
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if strings.Contains(string(dom), "<img") || strings.Count(string(dom), "<script") != 1 {
		t.Errorf("the rendered page has an <img> or a second <script>")
	}
	if !strings.Contains(string(dom), "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the rendered page does not show the process name as text")
	}
}

// deref is *p, or "" for nil (a findings.json null).
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
