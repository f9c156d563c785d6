package reports

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/store"
	"github.com/xuri/excelize/v2"
)

// writeWorkbook loads the cases and writes their workbook with the given
// row limit, then opens it with excelize.
func writeWorkbook(t testing.TB, s *store.Store, rowsPerSheet int, ids ...int64) (*excelize.File, string) {
	t.Helper()
	ctx := context.Background()
	m := loadModel(t, s, ids...)
	name := filepath.Join(t.TempDir(), "report.xlsx")
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeXLSX(ctx, m, out, rowsPerSheet); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	// The workbook opens on its first sheet, the only selected tab.
	if got := f.GetActiveSheetIndex(); got != 0 {
		t.Errorf("active sheet %d, want 0", got)
	}
	for i, sheet := range f.GetSheetList() {
		selected := regexp.MustCompile(`<sheetView [^>]*tabSelected="(1|true)"`).MatchString(sheetHead(t, f, name, sheet))
		if selected != (i == 0) {
			t.Errorf("%s: tab selected %v, want %v", sheet, selected, i == 0)
		}
	}
	return f, name
}

// readRows reads the first n rows of a sheet through the streaming
// reader (a sheet of a million rows is never loaded whole).
func readRows(t testing.TB, f *excelize.File, sheet string, n int) [][]string {
	t.Helper()
	rows, err := f.Rows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]string
	for len(out) < n && rows.Next() {
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cols)
	}
	return out
}

// filterRef returns a sheet's autofilter range, from its
// _xlnm._FilterDatabase defined name.
func filterRef(f *excelize.File, sheet string) string {
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm._FilterDatabase" && d.Scope == sheet {
			return d.RefersTo
		}
	}
	return ""
}

func checkTableSheet(t *testing.T, f *excelize.File, path, sheet string, wantRows int, header []string) {
	t.Helper()
	rows := readRows(t, f, sheet, 1)
	if len(rows) == 0 || !slices.Equal(rows[0], header) {
		t.Errorf("%s header = %q, want %q", sheet, rows, header)
	}
	lastCol, _ := excelize.ColumnNumberToName(len(header))
	if got, want := filterRef(f, sheet), fmt.Sprintf("'%s'!$A$1:$%s$%d", sheet, lastCol, wantRows); got != want {
		t.Errorf("%s autofilter = %q, want %q", sheet, got, want)
	}
	head := sheetHead(t, f, path, sheet)
	pane := regexp.MustCompile(`<pane [^>]*>`).FindString(head)
	for _, attr := range []string{`state="frozen"`, `ySplit="1"`, `topLeftCell="A2"`} {
		if !strings.Contains(pane, attr) {
			t.Errorf("%s: pane %q lacks %s: the header row is not frozen", sheet, pane, attr)
		}
	}
}

// sheetHead returns the start of a sheet's XML, where its views (the
// frozen pane) are. excelize's GetPanes would parse the whole sheet, which
// for a million rows takes minutes and gigabytes; the streaming writer
// names the sheets' parts in the order they were added.
func sheetHead(t testing.TB, f *excelize.File, path, sheet string) string {
	t.Helper()
	i := slices.Index(f.GetSheetList(), sheet)
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	r, err := z.Open(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head := make([]byte, 16<<10)
	n, _ := io.ReadFull(r, head)
	return string(head[:n])
}

// TestXLSXSplitsRows writes a socket listing longer than a (lowered) row
// limit: the sheet continues on "Port owners (2)" and "(3)", each with its
// header, frozen pane and autofilter, and no row lost.
func TestXLSXSplitsRows(t *testing.T) {
	s := openStore(t)
	var socks []parsers.Socket
	for i := range 12 {
		socks = append(socks, udp(uint16(5000+i), 1640, "dns.exe"))
	}
	id := ingest(t, s, "split", store.HostFacts{}, netstat("split/netstat.txt", base, socks...))
	f, path := writeWorkbook(t, s, 6, id) // 5 data rows per sheet
	for _, tt := range []struct {
		sheet string
		rows  int
		first string // the first data row's port
	}{{"Port owners", 6, "5000"}, {"Port owners (2)", 6, "5005"}, {"Port owners (3)", 3, "5010"}} {
		rows := readRows(t, f, tt.sheet, 100)
		if got := len(rows); got != tt.rows {
			t.Errorf("%s: %d rows, want %d", tt.sheet, got, tt.rows)
			continue
		}
		if got := rows[1][8]; got != tt.first {
			t.Errorf("%s: first port %s, want %s", tt.sheet, got, tt.first)
		}
		checkTableSheet(t, f, path, tt.sheet, tt.rows, rows[0])
	}
	sheets := f.GetSheetList()
	i := slices.Index(sheets, "Port owners")
	if i < 0 || !slices.Equal(sheets[i:i+4], []string{"Port owners", "Port owners (2)", "Port owners (3)", "Port ranges"}) {
		t.Errorf("sheets %q: continuations must follow their sheet", sheets)
	}
}

// TestXLSXMillionSockets: a snapshot of 1,100,000 sockets fills "Port
// owners" to Excel's last row (1,048,576) and continues on "Port owners
// (2)" with the remaining 51,425, through the streaming writer. It takes
// 40-100 s, so it runs with PORTMORTEM_LONG=1 only; TestXLSXSplitsRows
// checks the same continuation with a small row limit every time.
func TestXLSXMillionSockets(t *testing.T) {
	if !longTests() {
		t.Skip("1,100,000 sockets: set PORTMORTEM_LONG=1")
	}
	const total = 1_100_000
	start := time.Now()
	s := openStore(t)
	anyAddr := netip.MustParseAddr("0.0.0.0")
	art := netstat("big/netstat-anob.txt", base)
	art.records = func(yield func(parsers.Record) bool) {
		sock := parsers.Socket{Proto: parsers.UDP, LocalAddr: anyAddr, HasPort: true, PID: 1640, Image: "dns.exe", Services: []string{"DNS"}}
		for i := range total {
			sock.LocalPort = uint16(1024 + i%60000)
			if !yield(parsers.Record{Kind: parsers.KindSocket, Line: i + 1, Socket: &sock}) {
				return
			}
		}
	}
	id := ingest(t, s, "big", store.HostFacts{}, art)
	ingested := time.Since(start)
	f, path := writeWorkbook(t, s, excelize.TotalRows, id)
	written := time.Since(start) - ingested
	sheets := f.GetSheetList()
	if !slices.Contains(sheets, "Port owners (2)") || slices.Contains(sheets, "Port owners (3)") {
		t.Fatalf("sheets %q: want Port owners and Port owners (2)", sheets)
	}
	head := readRows(t, f, "Port owners", 2)
	checkTableSheet(t, f, path, "Port owners", excelize.TotalRows, head[0])
	if got, want := head[1][5], "1"; got != want {
		t.Errorf("first row's line = %s, want %s", got, want)
	}
	rest := readRows(t, f, "Port owners (2)", total)
	if got, want := len(rest), 1+total-(excelize.TotalRows-1); got != want {
		t.Errorf("Port owners (2): %d rows, want %d", got, want)
	}
	checkTableSheet(t, f, path, "Port owners (2)", len(rest), head[0])
	if got, want := rest[1][5], fmt.Sprint(excelize.TotalRows); got != want {
		t.Errorf("Port owners (2) starts at line %s, want %s (none lost, none repeated)", got, want)
	}
	if got, want := rest[len(rest)-1][5], fmt.Sprint(total); got != want {
		t.Errorf("last line %s, want %s", got, want)
	}
	t.Logf("1,100,000 sockets: ingest %v, workbook %v, read back %v", ingested.Round(time.Millisecond),
		written.Round(time.Millisecond), (time.Since(start) - ingested - written).Round(time.Millisecond))
}

// TestXLSXCutsLongCell: an event text of 40,000 characters is cut to
// Excel's 32,767 with a note in front saying so.
func TestXLSXCutsLongCell(t *testing.T) {
	s := openStore(t)
	long := strings.Repeat("0123456789", 4000) // 40,000 characters
	ev := boot(base, 7)
	ev.Message = long
	id := ingest(t, s, "long", store.HostFacts{}, systemLog("long/System.evtx", ev))
	f, _ := writeWorkbook(t, s, excelize.TotalRows, id)
	rows := readRows(t, f, "Events", 10)
	col := slices.Index(rows[0], "Message")
	if len(rows) != 2 || col < 0 {
		t.Fatalf("Events rows = %d, Message column %d", len(rows), col)
	}
	got := rows[1][col]
	wantNote := "[cut: 40,000 characters in all, the first 32,"
	if !strings.HasPrefix(got, wantNote) || !strings.Contains(got, "the full text is in the portmortem database] 0123456789") {
		t.Errorf("cell starts %.120q, want the note %q", got, wantNote)
	}
	if n := utf16Len(got); n > excelize.TotalCellChars || n < excelize.TotalCellChars-10 {
		t.Errorf("cell has %d characters, want just under %d", n, excelize.TotalCellChars)
	}
	body := got[strings.Index(got, "] ")+2:]
	if !strings.HasPrefix(long, body) {
		t.Errorf("the kept text is not the start of the message")
	}
	if !strings.Contains(got, fmt.Sprintf("the first %s shown", thousands(len(body)))) {
		t.Errorf("the note does not say how much is shown (%d): %.100q", len(body), got)
	}
}

func TestCutText(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"fits", "short", 10, "short"},
		{"exactly", "0123456789", 10, "0123456789"},
		{"cut", strings.Repeat("x", 200), 100, "[cut: 200 characters in all, the first 26 shown; the full text is in db] " + strings.Repeat("x", 26)},
		// A character outside the BMP is two UTF-16 units, as Excel counts.
		{"surrogates", strings.Repeat("😀", 100), 100, "[cut: 200 characters in all, the first 26 shown; the full text is in db] " + strings.Repeat("😀", 13)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutText(tt.in, tt.limit, "db")
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if utf16Len(got) > tt.limit {
				t.Errorf("%d units, over the limit %d", utf16Len(got), tt.limit)
			}
		})
	}
}

// TestXLSXDatesInHostZone: date cells are real dates (numbers with a date
// format) showing the host's wall clock, and the header names the zone.
func TestXLSXDatesInHostZone(t *testing.T) {
	s := openStore(t)
	id := iasCase(t, s, "ias", "dns.exe")
	f, _ := writeWorkbook(t, s, excelize.TotalRows, id)
	rows := readRows(t, f, "Findings", 5)
	col := slices.Index(rows[0], "Failure time (UTC-06:00)")
	if col < 0 {
		t.Fatalf("Findings header %q names no zone", rows[0])
	}
	cell, _ := excelize.CoordinatesToCellName(col+1, 2)
	typ, err := f.GetCellType("Findings", cell)
	if err != nil {
		t.Fatal(err)
	}
	style, _ := f.GetCellStyle("Findings", cell)
	st, err := f.GetStyle(style)
	if err != nil {
		t.Fatal(err)
	}
	if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber || st.CustomNumFmt == nil || *st.CustomNumFmt != dateFormat {
		t.Errorf("%s: type %v, format %v; want a number with format %q", cell, typ, st.CustomNumFmt, dateFormat)
	}
	if got, want := rows[1][col], "2026-03-02 02:02:00"; got != want {
		t.Errorf("failure time shown %q, want %q (08:02 UTC in UTC-06:00)", got, want)
	}
	raw, _ := f.GetCellValue("Findings", cell, excelize.Options{RawCellValue: true})
	if _, err := fmt.Sscanf(raw, "%f", new(float64)); err != nil {
		t.Errorf("raw value %q is not a serial date", raw)
	}
}

// TestXLSXHostileText: bundle text is written as text, never as a formula.
func TestXLSXHostileText(t *testing.T) {
	s := openStore(t)
	id := iasCase(t, s, "hostile", `=HYPERLINK("http://x","y")`)
	f, _ := writeWorkbook(t, s, excelize.TotalRows, id)
	rows := readRows(t, f, "Port owners", 5)
	col := slices.Index(rows[0], "Image")
	var found bool
	for r := 1; r < len(rows); r++ {
		cell, _ := excelize.CoordinatesToCellName(col+1, r+1)
		if rows[r][col] == `=HYPERLINK("http://x","y")` {
			found = true
			if formula, _ := f.GetCellFormula("Port owners", cell); formula != "" {
				t.Errorf("%s is a formula: %q", cell, formula)
			}
		}
	}
	if !found {
		t.Errorf("the hostile image name is not in Port owners: %q", rows)
	}
}

// TestXLSXWritesAtomically: a failed write leaves neither a partial file
// nor a temporary one, and an existing report in place.
func TestXLSXWritesAtomically(t *testing.T) {
	s := openStore(t)
	id := iasCase(t, s, "ias", "dns.exe")
	m := loadModel(t, s, id)
	dir := t.TempDir()
	name := filepath.Join(dir, "report.xlsx")
	if err := os.WriteFile(name, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WriteXLSX(ctx, m, name); err == nil {
		t.Fatal("a cancelled write succeeded")
	}
	if b, _ := os.ReadFile(name); !bytes.Equal(b, []byte("previous")) {
		t.Errorf("the previous report was replaced")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := WriteXLSX(context.Background(), m, name); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// TestXLSXPageSetup: every sheet prints landscape, fitted to the page's
// width, with its header row repeated on each printed page, a print area,
// and a page header naming the sheet and a footer numbering the pages.
func TestXLSXPageSetup(t *testing.T) {
	s := openStore(t)
	m := loadModel(t, s, iasCase(t, s, "ias", "dns.exe"), iasCase(t, s, "ias2", "svchost.exe"))
	path := filepath.Join(t.TempDir(), "report.xlsx")
	if err := WriteXLSX(context.Background(), m, path); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	titles, areas := map[string]string{}, map[string]string{}
	for _, d := range f.GetDefinedName() {
		switch d.Name {
		case "_xlnm.Print_Titles":
			titles[d.Scope] = d.RefersTo
		case "_xlnm.Print_Area":
			areas[d.Scope] = d.RefersTo
		}
	}
	sheets := f.GetSheetList()
	if len(sheets) < 9 {
		t.Fatalf("sheets %q", sheets)
	}
	for _, sh := range sheets {
		pl, err := f.GetPageLayout(sh)
		if err != nil {
			t.Fatal(err)
		}
		if pl.Orientation == nil || *pl.Orientation != "landscape" || pl.FitToWidth == nil || *pl.FitToWidth != 1 ||
			pl.FitToHeight == nil || *pl.FitToHeight != 0 {
			t.Errorf("%s: page layout %+v, want landscape, 1 page wide, any number tall", sh, pl)
		}
		props, err := f.GetSheetProps(sh)
		if err != nil {
			t.Fatal(err)
		}
		if props.FitToPage == nil || !*props.FitToPage {
			t.Errorf("%s: fit to page not set", sh)
		}
		if want := "'" + sh + "'!$1:$1"; titles[sh] != want {
			t.Errorf("%s: print titles %q, want %q", sh, titles[sh], want)
		}
		if !strings.HasPrefix(areas[sh], "'"+sh+"'!$A$1:$") {
			t.Errorf("%s: print area %q", sh, areas[sh])
		}
		hf, err := f.GetHeaderFooter(sh)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(hf.OddHeader, sh) || !strings.HasSuffix(hf.OddFooter, "&RPage &P of &N") {
			t.Errorf("%s: header %q, footer %q: want the sheet's name and the page number", sh, hf.OddHeader, hf.OddFooter)
		}
	}
}

// TestXLSXPrintsFirstRows: a table sheet prints its header and first
// printRows rows, and its footer says how many it holds; an empty one
// says it has none.
func TestXLSXPrintsFirstRows(t *testing.T) {
	s := openStore(t)
	var socks []parsers.Socket
	for i := range printRows + 50 {
		socks = append(socks, udp(uint16(5000+i), 1640, "dns.exe"))
	}
	id := ingest(t, s, "many", store.HostFacts{}, netstat("many/netstat.txt", base, socks...))
	f, _ := writeWorkbook(t, s, excelize.TotalRows, id)
	areas := map[string]string{}
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm.Print_Area" {
			areas[d.Scope] = d.RefersTo
		}
	}
	for _, tt := range []struct{ sheet, area, note string }{
		{"Port owners", fmt.Sprintf("'Port owners'!$A$1:$R$%d", printRows+1), "&LThe first 100 of 150 rows are printed; the sheet holds them all."},
		{"Port ranges", "'Port ranges'!$A$1:$J$1", "&LNo rows."},
		{"Artifacts", "'Artifacts'!$A$1:$T$", "&L&R"},
	} {
		if !strings.HasPrefix(areas[tt.sheet], tt.area) {
			t.Errorf("%s: print area %q, want %q", tt.sheet, areas[tt.sheet], tt.area)
		}
		hf, err := f.GetHeaderFooter(tt.sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hf.OddFooter, tt.note) {
			t.Errorf("%s: footer %q, want it to start %q", tt.sheet, hf.OddFooter, tt.note)
		}
	}
	if rows := readRows(t, f, "Port owners", 1000); len(rows) != printRows+51 {
		t.Errorf("Port owners has %d rows, want all %d and the header", len(rows), printRows+50)
	}
}

// TestXLSXPackage reads the parts of a written batch workbook: every
// sheet's <dimension> is its used range (the streamed ones too, which
// excelize leaves at A1), its <col> elements ascend, its sheet properties
// keep fit to page (excelize's AutoFilter drops them), the document's
// created and modified dates are the generation time, and so is every zip
// member's time.
func TestXLSXPackage(t *testing.T) {
	s := openStore(t)
	m := loadModel(t, s, iasCase(t, s, "ias", "dns.exe"), iasCase(t, s, "ias2", "svchost.exe"))
	m.Generated = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "report.xlsx")
	if err := WriteXLSX(context.Background(), m, path); err != nil {
		t.Fatal(err)
	}
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	part := func(name string) string {
		r, err := z.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, zf := range z.File {
		if !zf.Modified.Equal(m.Generated) {
			t.Errorf("zip member %s: modified %v, want %v", zf.Name, zf.Modified, m.Generated)
		}
	}
	core := part("docProps/core.xml")
	for _, el := range []string{"created", "modified"} {
		want := fmt.Sprintf(`<dcterms:%s xsi:type="dcterms:W3CDTF">2026-03-03T09:00:00Z</dcterms:%[1]s>`, el)
		if !strings.Contains(core, want) {
			t.Errorf("core.xml lacks %s\n%s", want, core)
		}
	}

	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Each sheet's part, from the workbook and its relationships.
	rels := map[string]string{}
	for _, m := range regexp.MustCompile(`<Relationship Id="([^"]+)" [^>]*Target="([^"]+)"`).FindAllStringSubmatch(part("xl/_rels/workbook.xml.rels"), -1) {
		rels[m[1]] = "xl/" + strings.TrimPrefix(m[2], "/xl/")
	}
	sheets := regexp.MustCompile(`<sheet name="([^"]+)" sheetId="\d+" r:id="([^"]+)"`).FindAllStringSubmatch(part("xl/workbook.xml"), -1)
	if len(sheets) < 10 {
		t.Fatalf("workbook.xml names %d sheets", len(sheets))
	}
	colMin := regexp.MustCompile(`<col [^>]*min="(\d+)"`)
	for _, sh := range sheets {
		name, xml := sh[1], part(rels[sh[2]])
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		width := 0
		for _, r := range rows {
			width = max(width, len(r))
		}
		last, _ := excelize.CoordinatesToCellName(width, len(rows))
		if got, want := regexp.MustCompile(`<dimension ref="[^"]*"`).FindString(xml), `<dimension ref="A1:`+last+`"`; got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
		prev := 0
		for _, m := range colMin.FindAllStringSubmatch(xml, -1) {
			n, _ := strconv.Atoi(m[1])
			if n <= prev {
				t.Errorf("%s: <col min=%d> after min=%d: columns not in ascending order", name, n, prev)
			}
			prev = n
		}
		if prev == 0 {
			t.Errorf("%s: no column widths", name)
		}
		if !regexp.MustCompile(`<sheetPr[^>]*>(<[^>]*>)*<pageSetUpPr fitToPage="(true|1)"`).MatchString(xml) {
			t.Errorf("%s: sheetPr without fitToPage: %.200s", name, regexp.MustCompile(`<sheetPr.*?</sheetPr>|<sheetPr/>`).FindString(xml))
		}
	}
}

// TestDimensionWriter: the <dimension> is replaced however the part is
// cut into writes, and a part without one goes through unchanged.
func TestDimensionWriter(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"streamed", `<worksheet><sheetPr/><dimension ref="A1"></dimension><sheetData><row r="1"/></sheetData></worksheet>`,
			`<worksheet><sheetPr/><dimension ref="A1:C9"></dimension><sheetData><row r="1"/></sheetData></worksheet>`},
		{"none", `<worksheet><sheetData><row r="1"><c><is><t>&lt;dimension ref="A1"</t></is></c></row></sheetData></worksheet>`,
			`<worksheet><sheetData><row r="1"><c><is><t>&lt;dimension ref="A1"</t></is></c></row></sheetData></worksheet>`},
		{"short", `<worksheet>`, `<worksheet>`},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 7, 1 << 20} {
			t.Run(fmt.Sprintf("%s_%d", tt.name, chunk), func(t *testing.T) {
				var out bytes.Buffer
				d := &dimensionWriter{w: &out, ref: "A1:C9"}
				for in := tt.in; in != ""; {
					n := min(chunk, len(in))
					if w, err := d.Write([]byte(in[:n])); err != nil || w != n {
						t.Fatalf("Write = %d, %v", w, err)
					}
					in = in[n:]
				}
				if err := d.done(); err != nil {
					t.Fatal(err)
				}
				if got := out.String(); got != tt.want {
					t.Errorf("got  %s\nwant %s", got, tt.want)
				}
			})
		}
	}
}

// TestXLSXEventMessages: the Events sheet shows an event's own message
// (an XML export's), else the one stored with the failure or boot marker
// decoded from it; with no message for any event the column is left out
// rather than left empty.
func TestXLSXEventMessages(t *testing.T) {
	s := openStore(t)
	ias := iasCase(t, s, "ias", "dns.exe") // a 6005 with its own message, a 7023 decoded
	other := &parsers.Event{Provider: "Microsoft-Windows-Kernel-Processor-Power", EventID: 37, Channel: "System",
		Time: base, RecordID: 9, Data: []parsers.Field{{Name: "Speed", Value: "53"}}}
	bare := ingest(t, s, "bare", store.HostFacts{}, systemLog("bare/System.evtx", other))

	f, _ := writeWorkbook(t, s, excelize.TotalRows, ias)
	rows := readRows(t, f, "Events", 10)
	col := slices.Index(rows[0], "Message")
	if col < 0 || len(rows) != 3 {
		t.Fatalf("Events: Message column %d, %d rows: %q", col, len(rows), rows)
	}
	want := []string{"The Event log service was started.",
		"The Internet Authentication Service service terminated with the following error: Only one usage of each socket address (protocol/network address/port) is normally permitted."}
	for i, w := range want {
		if got := rows[i+1][col]; got != w {
			t.Errorf("event %d message %q, want %q", i+1, got, w)
		}
	}

	f, _ = writeWorkbook(t, s, excelize.TotalRows, bare)
	rows = readRows(t, f, "Events", 10)
	if len(rows) != 2 || slices.Contains(rows[0], "Message") || !slices.Contains(rows[1], "Speed: 53") {
		t.Errorf("Events of an undecoded event without a message: %q, want no Message column", rows)
	}
}
