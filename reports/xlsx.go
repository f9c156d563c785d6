package reports

import (
	"archive/zip"
	"cmp"
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/bundle"
	"github.com/portmortem/portmortem/store"
	"github.com/xuri/excelize/v2"
)

// Sheet names of the workbook. A table sheet that outgrows Excel's
// 1,048,576 rows continues on "Name (2)", "Name (3)" …
const (
	sheetIndex      = "Index"
	sheetSummary    = "Summary"
	sheetFindings   = "Findings"
	sheetFailures   = "Failures"
	sheetPortOwners = "Port owners"
	sheetRanges     = "Port ranges"
	sheetProcesses  = "Processes"
	sheetBoots      = "Boots"
	sheetArtifacts  = "Artifacts"
	sheetEvents     = "Events"
)

// dateFormat is the number format of date cells.
const dateFormat = "yyyy-mm-dd hh:mm:ss"

// cutWhere names where the full text of a cut cell can be found.
const cutWhere = "the portmortem database"

// XLSXTempPrefix begins the name of the private temporary folder
// (os.TempDir(), mode 0700, "portmortem-xlsx-PID-RANDOM") a workbook's
// spilled rows are kept in while it is written.
const XLSXTempPrefix = "portmortem-xlsx-"

// WriteXLSX writes the workbook report to path: a temporary file in the
// same folder, renamed when complete.
func WriteXLSX(ctx context.Context, m *Model, path string) error {
	err := writeFileAtomic(path, func(w io.Writer) error { return writeXLSX(ctx, m, w, excelize.TotalRows) })
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeXLSX writes the workbook; rowsPerSheet is Excel's row limit (tests
// lower it).
func writeXLSX(ctx context.Context, m *Model, out io.Writer, rowsPerSheet int) error {
	// Excelize's stream writer spills rows (customer data) to temporary
	// files: a private folder named after this process keeps them where
	// the next run removes them if this one is killed.
	tmp, err := os.MkdirTemp("", bundle.OwnedPrefix(XLSXTempPrefix))
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	f := excelize.NewFile(excelize.Options{TmpDir: tmp})
	defer f.Close()
	x := &xlsxWriter{ctx: ctx, f: f, m: m, rowsPerSheet: rowsPerSheet}
	if err := x.init(); err != nil {
		return err
	}
	steps := []func() error{x.summary, x.findings, x.failures, x.portOwners, x.ranges, x.processes, x.boots,
		x.artifacts, x.events}
	if len(m.Cases) > 1 {
		steps = append(steps, x.index)
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(); err != nil {
			return err
		}
	}
	// The first sheet (Index or Summary) took over the new file's Sheet1,
	// which is the active, selected tab. (excelize's SetActiveSheet would
	// read every streamed sheet back into memory to unselect it: seconds
	// and hundreds of MB on a million-row sheet.)
	generated := m.Generated.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Title: "portmortem report", Creator: "portmortem",
		Created: generated, Modified: generated}); err != nil {
		return err
	}
	// A new sheet's part is xl/worksheets/sheet<its sheetId>.xml (excelize's
	// NewSheet; Sheet1 keeps sheet1.xml when renamed).
	parts := map[string]string{}
	for id, name := range f.GetSheetMap() {
		if ref, ok := x.streamedDims[name]; ok {
			parts[fmt.Sprintf("xl/worksheets/sheet%d.xml", id)] = ref
		}
	}
	// Members are stamped with the generation time in the local zone: a
	// zip member's MS-DOS time has no zone and unzip shows it as local
	// (the extended timestamp archive/zip adds holds the exact instant).
	//
	// The zip goes straight to out. excelize's WriteTo builds the whole
	// file in a bytes.Buffer it then copies to out, and hands that buffer
	// to the zip writer made here: a 5-million-socket workbook held twice
	// over as its buffer doubled (hundreds of MB). Writing to out instead
	// leaves excelize's buffer empty. (excelize would then also mark, in
	// that buffer, the local headers of parts over 4 GiB as zip64; a sheet
	// of 1,048,576 rows passes 4 GiB only with 4 KiB a row, and archive/zip
	// still writes the zip64 sizes in the central directory.)
	var zw *workbookZip
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw = &workbookZip{zw: zip.NewWriter(out), modified: m.Generated.Local(), dims: parts}
		return zw
	})
	n, err := f.WriteTo(out)
	if err == nil && (zw == nil || n != 0) {
		err = fmt.Errorf("excelize wrote the workbook (%d bytes) around portmortem's zip writer", n)
	}
	return err
}

// xlsxWriter writes one workbook.
type xlsxWriter struct {
	ctx          context.Context
	f            *excelize.File
	m            *Model
	rowsPerSheet int
	first        bool // the next sheet replaces the default Sheet1
	// streamedDims is each streamed sheet's used range ("A1:R2507"), set
	// in its <dimension> as the file is written (workbookZip).
	streamedDims map[string]string
	st           struct {
		header, title, label, text, wrap, date, pct, num, link, bold int
		verdict                                                      map[correlate.Verdict]int
	}
}

// verdictColours are the fills of verdict cells: red for a conflict found,
// amber for a likely one, violet for a reserved range, green for a free
// port, greys and blue for the verdicts that point elsewhere.
var verdictColours = map[correlate.Verdict]string{
	correlate.Confirmed:      "F4B6B0",
	correlate.Probable:       "FFE08A",
	correlate.ReservedRange:  "D9C8EC",
	correlate.NoConflictSeen: "C6EFCE",
	correlate.PortUnknown:    "E4E4E4",
	correlate.NotPortRelated: "D6E6F5",
	correlate.NoSnapshot:     "F2DCC4",
}

func (x *xlsxWriter) init() error {
	x.first = true
	top := &excelize.Alignment{Vertical: "top"}
	styles := []struct {
		dst *int
		s   excelize.Style
	}{
		{&x.st.header, excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: top,
			Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9DEE7"}},
			Border: []excelize.Border{{Type: "bottom", Color: "7F8796", Style: 1}}}},
		{&x.st.title, excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}}},
		{&x.st.label, excelize.Style{Font: &excelize.Font{Bold: true, Color: "4A5568"}, Alignment: top}},
		{&x.st.bold, excelize.Style{Font: &excelize.Font{Bold: true, Size: 12}, Alignment: top}},
		{&x.st.text, excelize.Style{Alignment: top}},
		{&x.st.wrap, excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&x.st.date, excelize.Style{Alignment: top, CustomNumFmt: ptr(dateFormat)}},
		{&x.st.pct, excelize.Style{Alignment: top, NumFmt: 9}},
		{&x.st.num, excelize.Style{Alignment: top, NumFmt: 1}},
		{&x.st.link, excelize.Style{Alignment: top, Font: &excelize.Font{Color: "1F5FBF", Underline: "single"}}},
	}
	for _, s := range styles {
		id, err := x.f.NewStyle(&s.s)
		if err != nil {
			return err
		}
		*s.dst = id
	}
	x.st.verdict = map[correlate.Verdict]int{}
	for v, colour := range verdictColours {
		id, err := x.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: top,
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{colour}}})
		if err != nil {
			return err
		}
		x.st.verdict[v] = id
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// newSheet adds a sheet at the end (the first one takes over Sheet1),
// set up for print: landscape, fitted to the page's width (as many pages
// down as it takes), the header row repeated on every page. It is set up
// before any row is streamed: the stream writer writes the page setup
// with the rows.
func (x *xlsxWriter) newSheet(name string) error {
	if x.first {
		x.first = false
		if err := x.f.SetSheetName("Sheet1", name); err != nil {
			return err
		}
	} else if _, err := x.f.NewSheet(name); err != nil {
		return err
	}
	landscape, wide, tall := "landscape", 1, 0
	if err := x.f.SetPageLayout(name, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &wide, FitToHeight: &tall}); err != nil {
		return err
	}
	if err := x.fitToPage(name); err != nil {
		return err
	}
	// Narrow margins (inches), for as large a print of a wide table as fits.
	side, top, edge := 0.4, 0.6, 0.3
	if err := x.f.SetPageMargins(name, &excelize.PageLayoutMarginsOptions{Left: &side, Right: &side, Top: &top,
		Bottom: &top, Header: &edge, Footer: &edge}); err != nil {
		return err
	}
	return x.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", RefersTo: quoteSheet(name) + "!$1:$1", Scope: name})
}

// printRows is how many rows of a table sheet print: the socket listing
// of a busy server runs to thousands of rows, which no one reads on paper
// (the classic case printed to 255 pages). The page footer says how many
// rows the sheet holds; the sheet keeps them all.
const printRows = 100

// printSetup sets what a sheet prints, once its rows are written: the
// print area (A1 to lastCol and lastRow: text running past the last
// column is cut there, as on screen), a header naming the sheet and the
// report, and a footer with the page number and note.
func (x *xlsxWriter) printSetup(sheet string, lastCol, lastRow int, note string) error {
	last, err := excelize.CoordinatesToCellName(lastCol, max(lastRow, 1), true)
	if err != nil {
		return err
	}
	if err := x.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Area",
		RefersTo: quoteSheet(sheet) + "!$A$1:" + last, Scope: sheet}); err != nil {
		return err
	}
	generated := "portmortem report, " + x.m.Generated.UTC().Format("2006-01-02 15:04") + " UTC"
	return x.f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{
		OddHeader: "&L&\"-,Bold\"" + headerText(sheet) + "&R" + headerText(generated),
		OddFooter: "&L" + headerText(note) + "&RPage &P of &N",
	})
}

// tablePrint is the print setup of a table sheet of rows rows (the header
// not counted): the header and up to printRows rows, and a footer saying
// how many rows were left out, or that there are none.
func (x *xlsxWriter) tablePrint(sheet string, cols, rows int) error {
	note := ""
	switch {
	case rows == 0:
		note = "No rows."
	case rows > printRows:
		note = fmt.Sprintf("The first %s of %s rows are printed; the sheet holds them all.", thousands(printRows), thousands(rows))
	}
	return x.printSetup(sheet, cols, 1+min(rows, printRows), note)
}

// headerText is s in a page header or footer, where & starts a code.
func headerText(s string) string { return strings.ReplaceAll(s, "&", "&&") }

// fitToPage makes the page layout's fit to width apply.
func (x *xlsxWriter) fitToPage(name string) error {
	fit := true
	return x.f.SetSheetProps(name, &excelize.SheetPropsOptions{FitToPage: &fit})
}

// quoteSheet is a sheet name as a formula refers to it.
func quoteSheet(name string) string { return "'" + strings.ReplaceAll(name, "'", "''") + "'" }

// zoneHeader is the zone date headers name: the one zone every case
// shares, or "host's zone" when they differ (each row then names its own
// in the Zone column).
func (x *xlsxWriter) zoneHeader() string {
	label := ""
	for i, c := range x.m.Cases {
		if c.mixed {
			return "host's zone"
		}
		if i == 0 {
			label = c.Zone.Label()
		} else if c.Zone.Label() != label {
			return "host's zone"
		}
	}
	return cmp.Or(label, "UTC")
}

func (x *xlsxWriter) timeHeader(title string) string {
	return title + " (" + x.zoneHeader() + ")"
}

// A column of a table sheet.
type column struct {
	title string
	kind  cellKind
	// max bounds the fitted width (characters); 0 means 50.
	max float64
}

type cellKind int

const (
	kText    cellKind = iota
	kWrap             // text wrapped in its column; rows grow to show it
	kDate             // a time.Time shown as a date cell
	kInt              // an integer
	kPct              // a fraction shown as a percentage
	kVerdict          // a verdict, coloured
)

// sampleRows is how many rows fix a table's column widths.
const sampleRows = 1000

// maxRowHeight is Excel's largest row height, in points.
const maxRowHeight = 409

// table writes a table sheet through the streaming writer: a frozen,
// filtered header row, column widths fitted to the header and the first
// rows, then the rows, continuing on "name (2)" … past the row limit.
// Row values are nil, string, int, int64, float64, time.Time or
// correlate.Verdict, as the column's kind wants.
//
// The columns titled dropEmpty are left out when the table's rows all fit
// in the sample (sampleRows) and none has a value in them; a longer table
// keeps them, since a later row may have one, and so does an empty one.
func (x *xlsxWriter) table(name string, cols []column, rows iter.Seq2[[]any, error], dropEmpty ...string) error {
	widths := make([]float64, len(cols))
	for i, c := range cols {
		widths[i] = float64(textWidth(c.title)) + 4 // room for the filter button
	}
	var sample [][]any
	next, stop := iter.Pull2(rows)
	defer stop()
	whole := false // the sample holds every row
	for len(sample) < sampleRows {
		row, err, ok := next()
		if !ok {
			whole = true
			break
		}
		if err != nil {
			return err
		}
		sample = append(sample, row)
		for i, v := range row {
			if i < len(cols) {
				widths[i] = max(widths[i], float64(x.valueWidth(cols[i], v)))
			}
		}
	}
	for i, c := range cols {
		widths[i] = min(widths[i]+1, cmp.Or(c.max, 50))
	}
	if whole && len(sample) > 0 {
		if keep := keptColumns(cols, sample, dropEmpty); len(keep) < len(cols) {
			cols, widths = pick(cols, keep), pick(widths, keep)
			for i, row := range sample {
				sample[i] = pick(row, keep)
			}
		}
	}

	sheetNo, sheetName := 1, name
	var sw *excelize.StreamWriter
	rowNo := 0
	open := func() error {
		if err := x.newSheet(sheetName); err != nil {
			return err
		}
		var err error
		if sw, err = x.f.NewStreamWriter(sheetName); err != nil {
			return err
		}
		// Set from the last column to the first: the stream writer puts
		// each column it is given before those it has, and <cols> must be
		// in ascending order.
		for i := len(widths) - 1; i >= 0; i-- {
			if err := sw.SetColWidth(i+1, i+1, widths[i]); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		header := make([]any, len(cols))
		for i, c := range cols {
			header[i] = excelize.Cell{StyleID: x.st.header, Value: c.title}
		}
		rowNo = 1
		return sw.SetRow("A1", header)
	}
	closeSheet := func() error {
		last, err := excelize.CoordinatesToCellName(len(cols), rowNo)
		if err != nil {
			return err
		}
		// The worksheet's autoFilter is written by Flush; setting it here,
		// after the rows and before Flush, touches no cell.
		if err := x.f.AutoFilter(sheetName, "A1:"+last, nil); err != nil {
			return err
		}
		if x.streamedDims == nil {
			x.streamedDims = map[string]string{}
		}
		x.streamedDims[sheetName] = "A1:" + last
		if err := x.tablePrint(sheetName, len(cols), rowNo-1); err != nil {
			return err
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		releaseStreamBuffer(sw)
		return nil
	}
	if err := open(); err != nil {
		return err
	}
	write := func(row []any) error {
		if rowNo >= x.rowsPerSheet {
			if err := closeSheet(); err != nil {
				return err
			}
			sheetNo++
			sheetName = fmt.Sprintf("%s (%d)", name, sheetNo)
			if err := open(); err != nil {
				return err
			}
		}
		rowNo++
		if rowNo%1000 == 0 {
			if err := x.ctx.Err(); err != nil {
				return err
			}
		}
		cells, height := x.cells(cols, widths, row)
		cell, err := excelize.CoordinatesToCellName(1, rowNo)
		if err != nil {
			return err
		}
		var opts []excelize.RowOpts
		if height > 0 {
			opts = append(opts, excelize.RowOpts{Height: height})
		}
		return sw.SetRow(cell, cells, opts...)
	}
	for _, row := range sample {
		if err := write(row); err != nil {
			return err
		}
	}
	sample = nil
	for {
		row, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			return err
		}
		if err := write(row); err != nil {
			return err
		}
	}
	return closeSheet()
}

// keptColumns lists the columns of a table to write: all but those
// titled dropEmpty that have no value in rows.
func keptColumns(cols []column, rows [][]any, dropEmpty []string) []int {
	var keep []int
	for i, c := range cols {
		used := !slices.Contains(dropEmpty, c.title)
		for _, row := range rows {
			if used {
				break
			}
			used = i < len(row) && row[i] != nil && row[i] != ""
		}
		if used {
			keep = append(keep, i)
		}
	}
	return keep
}

// pick returns the elements of s at the indexes keep.
func pick[T any](s []T, keep []int) []T {
	out := make([]T, 0, len(keep))
	for _, i := range keep {
		if i < len(s) {
			out = append(out, s[i])
		}
	}
	return out
}

// valueWidth is how wide a value shows, for fitting a column.
func (x *xlsxWriter) valueWidth(c column, v any) int {
	switch v := v.(type) {
	case nil:
		return 0
	case string:
		if len(v) > 4096 {
			v = v[:4096]
		}
		return textWidth(v)
	case time.Time:
		return len(dateFormat)
	case correlate.Verdict:
		return len(v) + 2 // bold
	case float64:
		if c.kind == kPct {
			return 5
		}
		return len(fmt.Sprint(v))
	}
	return len(fmt.Sprint(v))
}

// cells turns a row's values into styled cells, and says how tall the row
// must be to show its wrapped text (0: the default height).
func (x *xlsxWriter) cells(cols []column, widths []float64, row []any) ([]any, float64) {
	out := make([]any, len(row))
	lines := 1
	for i, v := range row {
		if i >= len(cols) || v == nil {
			continue
		}
		c := cols[i]
		switch c.kind {
		case kDate:
			t, ok := v.(time.Time)
			if !ok || t.IsZero() {
				continue
			}
			out[i] = excelize.Cell{StyleID: x.st.date, Value: t}
		case kPct:
			out[i] = excelize.Cell{StyleID: x.st.pct, Value: v}
		case kInt:
			out[i] = excelize.Cell{StyleID: x.st.text, Value: v}
		case kVerdict:
			vd, _ := v.(correlate.Verdict)
			out[i] = excelize.Cell{StyleID: cmp.Or(x.st.verdict[vd], x.st.text), Value: string(vd)}
		default:
			s, ok := v.(string)
			if !ok {
				s = fmt.Sprint(v)
			}
			if s == "" {
				continue
			}
			s = cutText(s, excelize.TotalCellChars, cutWhere)
			style := x.st.text
			if c.kind == kWrap {
				style = x.st.wrap
				lines = max(lines, wrappedLines(s, int(widths[i])-1))
			}
			out[i] = excelize.Cell{StyleID: style, Value: s}
		}
	}
	if lines <= 1 {
		return out, 0
	}
	return out, min(float64(lines)*15, maxRowHeight)
}

// sliceRows yields one row per element of s.
func sliceRows[T any](s []T, row func(*T) []any) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for i := range s {
			if !yield(row(&s[i]), nil) {
				return
			}
		}
	}
}

// caseRows yields the rows of every case in turn.
func caseRows(cases []*Case, rows func(c *Case) iter.Seq2[[]any, error]) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for _, c := range cases {
			for r, err := range rows(c) {
				if !yield(r, err) || err != nil {
					return
				}
			}
		}
	}
}

// shown is a stored time as a date cell value in the case's zone (nil
// when unknown).
func (c *Case) shownCell(t time.Time, local bool) any {
	s, _ := c.shown(t, local)
	if s.IsZero() {
		return nil
	}
	return s
}

func findingColumns(x *xlsxWriter) []column {
	return []column{
		{"Bundle", kText, 40}, {"Host", kText, 20}, {x.timeHeader("Failure time"), kDate, 0}, {"Zone", kText, 12},
		{"Service", kText, 40}, {"Service key", kText, 24}, {"Proto", kText, 0}, {"Port", kInt, 0},
		{"Verdict", kVerdict, 0}, {"Confidence", kPct, 0}, {"Owner image", kText, 24}, {"Owner PID", kInt, 0},
		{"Owner services", kText, 30}, {"Rule", kText, 22}, {"Remedy", kWrap, 90}, {"KB", kText, 24},
		{"Event ID", kInt, 0}, {"Error code", kInt, 0}, {"Error", kText, 30}, {"Port source", kText, 0},
		{"Snapshot", kText, 40}, {"Reasons", kWrap, 90}, {"Evidence", kWrap, 90},
	}
}

// findingRow is one row of the Findings sheet.
func findingRow(c *Case, f *correlate.Finding) []any {
	var port, pid, code any
	if f.Port != 0 {
		port = int(f.Port)
	}
	if f.OwnerPID >= 0 {
		pid = f.OwnerPID
	}
	if f.HasError {
		code = int64(f.ErrorCode)
	}
	return []any{f.Bundle, f.Host, c.shownCell(f.FailureTime, false), c.zoneLabelAt(f.FailureTime, false), f.Service, f.ServiceKey,
		string(f.Proto), port, f.Verdict, f.Confidence, f.OwnerImage, pid, strings.Join(f.OwnerServices, ", "),
		string(f.Rule), strings.Join(f.Remedy, "\n"), strings.Join(f.KB, ", "), int(f.EventID), code, errorLabel(f),
		string(f.PortSource), f.Snapshot, strings.Join(f.Reasons, "\n"), EvidenceText(f.Evidence)}
}

func (x *xlsxWriter) findings() error {
	return x.table(sheetFindings, findingColumns(x), caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		return sliceRows(c.Findings, func(f *correlate.Finding) []any { return findingRow(c, f) })
	}))
}

func (x *xlsxWriter) failures() error {
	cols := []column{
		{"Bundle", kText, 40}, {"Host", kText, 20}, {x.timeHeader("Time"), kDate, 0}, {"Zone", kText, 12},
		{"Kind", kText, 0}, {"Service", kText, 40}, {"Service key", kText, 24}, {"Dependency", kText, 24},
		{"Event ID", kInt, 0}, {"Provider", kText, 30}, {"Error code", kInt, 0}, {"Error", kText, 30},
		{"Class", kText, 0}, {"Endpoint", kText, 24}, {"Message", kWrap, 90}, {"Artifact", kText, 40},
		{"Channel", kText, 14}, {"Record ID", kInt, 0}, {"Line", kInt, 0}, {"Recovered", kText, 0},
	}
	return x.table(sheetFailures, cols, caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		return sliceRows(c.Failures, func(r *store.FailureRow) []any {
			f := &r.Failure
			var code, line any
			if f.HasError {
				code = int64(f.ErrorCode)
			}
			if r.Line > 0 {
				line = r.Line
			}
			return []any{c.Bundle, c.Host, c.shownCell(f.Time, false), c.zoneLabelAt(f.Time, false), string(f.Kind), f.Service,
				f.ServiceKey, f.Dependency, int(f.EventID), f.Provider, code, failureError(f), string(f.Class), failureEndpoint(f),
				f.Message, r.Artifact, f.Channel, recordID(f.RecordID), line, yes(f.Recovered)}
		})
	}))
}

func recordID(id uint64) any {
	if id == 0 {
		return nil
	}
	if id > 1<<53 {
		return fmt.Sprint(id) // beyond a double's exact integers: keep every digit
	}
	return int64(id)
}

func yes(b bool) any {
	if b {
		return "yes"
	}
	return nil
}

func (x *xlsxWriter) portOwners() error {
	cols := []column{
		{"Bundle", kText, 40}, {"Host", kText, 20}, {"Snapshot", kText, 40}, {x.timeHeader("Captured"), kDate, 0},
		{"Zone", kText, 12}, {"Line", kInt, 0}, {"Proto", kText, 0}, {"Local address", kText, 40},
		{"Local port", kInt, 0}, {"State", kText, 0}, {"State as printed", kText, 0}, {"PID", kInt, 0},
		{"Image", kText, 30}, {"Services", kText, 30}, {"Remote address", kText, 40}, {"Remote port", kInt, 0},
		{x.timeHeader("Bound at"), kDate, 0}, {"Owner note", kText, 40},
	}
	return x.table(sheetPortOwners, cols, caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		return mapRows(x.m.tables.CaseSockets(x.ctx, c.ID), func(r correlate.SocketRef) []any {
			a := c.artifact(r.SnapshotID)
			s := &r.Socket
			var pid, rport any
			if s.PID >= 0 {
				pid = s.PID
			}
			if s.RemoteAddr.IsValid() || s.RemoteHost != "" || s.RemotePort != 0 {
				rport = int(s.RemotePort)
			}
			return []any{c.Bundle, c.Host, a.Path, c.shownCell(a.CapturedAt, a.CapturedLocal), c.zoneLabelAt(a.CapturedAt, a.CapturedLocal),
				r.Line, string(s.Proto), addrOr(s.LocalAddr.String(), s.LocalAddr.IsValid(), s.LocalHost),
				int(s.LocalPort), s.State, s.StateRaw, pid, s.Image, strings.Join(s.Services, ", "),
				addrOr(s.RemoteAddr.String(), s.RemoteAddr.IsValid(), s.RemoteHost), rport,
				c.shownCell(s.CreatedAt, s.CreatedLocal), s.Owner}
		})
	}))
}

// mapRows turns a store iterator into table rows.
func mapRows[T any](seq iter.Seq2[T, error], row func(T) []any) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(row(v), nil) {
				return
			}
		}
	}
}

func (x *xlsxWriter) ranges() error {
	cols := []column{
		{"Bundle", kText, 40}, {"Host", kText, 20}, {"Kind", kText, 0}, {"Proto", kText, 0}, {"IP version", kText, 0},
		{"Start port", kInt, 0}, {"End port", kInt, 0}, {"Administered (*)", kText, 0}, {"Artifact", kText, 40},
		{"Line", kInt, 0},
	}
	return x.table(sheetRanges, cols, caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		return sliceRows(c.Ranges, func(r *correlate.RangeRef) []any {
			return []any{c.Bundle, c.Host, r.Range.Kind, string(r.Range.Proto), r.Range.IPVersion, int(r.Range.Start),
				int(r.Range.End), yes(r.Range.Administered), r.Artifact, r.Line}
		})
	}))
}

func (x *xlsxWriter) processes() error {
	cols := []column{
		{"Bundle", kText, 40}, {"Host", kText, 20}, {"Artifact", kText, 40}, {"Format", kText, 0},
		{x.timeHeader("Captured"), kDate, 0}, {"Zone", kText, 12}, {"Line", kInt, 0}, {"PID", kInt, 0},
		{"Image", kText, 30}, {"Services", kText, 50}, {"Image name cut", kText, 0}, {"Sockets held", kInt, 0},
	}
	return x.table(sheetProcesses, cols, caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		return mapRows(x.m.tables.CaseProcesses(x.ctx, c.ID), func(r store.ProcessRow) []any {
			a := c.artifact(r.ArtifactID)
			var socks any
			if r.Sockets >= 0 {
				socks = r.Sockets
			}
			return []any{c.Bundle, c.Host, a.Path, string(a.Format), c.shownCell(a.CapturedAt, a.CapturedLocal),
				c.zoneLabelAt(a.CapturedAt, a.CapturedLocal), r.Line, r.Process.PID, r.Process.Image, strings.Join(r.Process.Services, ", "),
				yes(r.Process.Truncated), socks}
		})
	}))
}

func (x *xlsxWriter) boots() error {
	cols := []column{
		{"Bundle", kText, 40}, {"Host", kText, 20}, {x.timeHeader("Time"), kDate, 0}, {"Zone", kText, 12},
		{"Kind", kText, 0}, {"Event ID", kInt, 0}, {"Provider", kText, 40}, {x.timeHeader("Boot time"), kDate, 0},
		{x.timeHeader("Previous session ended"), kDate, 0}, {"UTC offset (6008)", kText, 0},
		{"Uptime", kText, 0}, {"OS version (6009)", kText, 40}, {"Message", kWrap, 80}, {"Artifact", kText, 40},
		{"Channel", kText, 14}, {"Record ID", kInt, 0}, {"Recovered", kText, 0},
	}
	return x.table(sheetBoots, cols, caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		return sliceRows(c.Boots, func(r *correlate.BootRef) []any {
			b := &r.Boot
			var off, up any
			if b.HasOffset {
				off = Zone{Offset: b.UTCOffset, Known: true}.Label()
			}
			if b.Uptime > 0 {
				up = b.Uptime.String()
			}
			return []any{c.Bundle, c.Host, c.shownCell(b.Time, false), c.zoneLabelAt(b.Time, false), string(b.Kind), int(b.EventID),
				b.Provider, c.shownCell(b.BootTime, false), c.shownCell(b.LastAlive, false), off, up, b.OSVersion,
				b.Message, r.Artifact, b.Channel, recordID(b.RecordID), yes(b.Recovered)}
		})
	}))
}

func (x *xlsxWriter) artifacts() error {
	cols := []column{
		{"Bundle", kText, 40}, {"Host", kText, 20}, {"Artifact", kText, 50}, {"Format", kText, 0},
		{"Parser version", kInt, 0}, {"Encoding", kText, 0}, {"Locale", kText, 0}, {"Variant", kText, 0},
		{"Artifact host", kText, 20}, {"Size (bytes)", kInt, 0}, {"Records", kInt, 0},
		{x.timeHeader("Captured"), kDate, 0}, {"Zone", kText, 12}, {"Capture time source", kText, 30},
		{x.timeHeader("File time"), kDate, 0}, {"File time source", kText, 0}, {"Warnings", kInt, 0},
		{"First warnings", kWrap, 80}, {"Notes", kWrap, 60}, {"SHA-256", kText, 20},
	}
	rows := caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		return sliceRows(c.Artifacts, func(a *store.Artifact) []any {
			src := string(a.CaptureSource)
			if _, hostLocal := c.shown(a.CapturedAt, a.CapturedLocal); hostLocal {
				src += " (host's local time; zone unknown)"
			}
			return []any{c.Bundle, c.Host, a.Path, string(a.Format), a.ParserVersion, string(a.Encoding), a.Locale,
				a.Variant, a.Host, a.Size, a.Records, c.shownCell(a.CapturedAt, a.CapturedLocal), c.zoneLabelAt(a.CapturedAt, a.CapturedLocal),
				src, c.shownCell(a.ModTime, a.ModTimeLocal), string(a.ModTimeSource), a.WarningCount, warningsText(a),
				strings.Join(a.Notes, "\n"), a.SHA256}
		})
	})
	// Coverage follows the artifacts in the same columns, one row per
	// check, so the sheet answers "what was in the bundle, and what could
	// not be checked" in one filterable table.
	cov := caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		return sliceRows(c.Coverage, func(v *correlate.Coverage) []any {
			return []any{c.Bundle, c.Host, "(coverage) " + v.Check, "coverage", nil, nil, nil, v.Status, nil, nil,
				nil, nil, c.Zone.Label(), nil, nil, nil, nil, v.Reason}
		})
	})
	return x.table(sheetArtifacts, cols, concatRows(rows, cov))
}

func concatRows(seqs ...iter.Seq2[[]any, error]) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for _, s := range seqs {
			for r, err := range s {
				if !yield(r, err) || err != nil {
					return
				}
			}
		}
	}
}

// warningsText lists an artifact's kept parse errors, one per line.
// warningText is a kept parse error with its place: "line 3: …",
// "offset 0x7348: …".
func warningText(w store.Warning) string {
	switch {
	case w.Line > 0:
		return fmt.Sprintf("line %d: %s", w.Line, w.Message)
	case w.Offset > 0:
		return fmt.Sprintf("offset 0x%X: %s", w.Offset, w.Message)
	}
	return w.Message
}

func warningsText(a *store.Artifact) string {
	var b strings.Builder
	for i, w := range a.Warnings {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(warningText(w))
	}
	if a.WarningCount > len(a.Warnings) {
		fmt.Fprintf(&b, "\n… and %s more", thousands(a.WarningCount-len(a.Warnings)))
	}
	return b.String()
}

// events writes the Events sheet. An event's message is the one its log
// carries (an XML export's RenderingInfo), else the English one
// correlate rendered offline for the failure or boot marker decoded from
// it (stored with that row); .evtx and .evt logs carry none, and events
// portmortem does not decode (--keep-all-events) have none. The column
// is left out when no event has one.
func (x *xlsxWriter) events() error {
	cols := []column{
		{"Bundle", kText, 40}, {"Host", kText, 20}, {x.timeHeader("Time"), kDate, 0}, {"Zone", kText, 12},
		{"Channel", kText, 14}, {"Provider", kText, 36}, {"Event ID", kInt, 0}, {"Level", kInt, 0},
		{"Record ID", kInt, 0}, {"Computer", kText, 20}, {"Message", kWrap, 90}, {"Data", kWrap, 90},
		{"Artifact", kText, 40}, {"Line", kInt, 0}, {"Byte offset", kInt, 0}, {"Recovered", kText, 0},
	}
	return x.table(sheetEvents, cols, caseRows(x.m.Cases, func(c *Case) iter.Seq2[[]any, error] {
		decoded := decodedMessages(c)
		return mapRows(x.m.tables.CaseEvents(x.ctx, c.ID), func(r store.EventRow) []any {
			e := &r.Event
			var line, off any
			if r.Line > 0 {
				line = r.Line
			}
			if r.Offset > 0 {
				off = r.Offset
			}
			path := c.artifact(r.ArtifactID).Path
			msg := cmp.Or(e.Message, decoded[eventKey{path, e.Channel, e.RecordID}])
			return []any{c.Bundle, c.Host, c.shownCell(e.Time, false), c.zoneLabelAt(e.Time, false), e.Channel, e.Provider,
				int(e.EventID), int(e.Level), recordID(e.RecordID), e.Computer, msg, eventData(e.Data),
				path, line, off, yes(e.Recovered)}
		})
	}), "Message")
}

// eventKey names a stored event: its artifact, channel and record ID.
type eventKey struct {
	artifact, channel string
	record            uint64
}

// decodedMessages maps a case's events to the messages stored with the
// failures and boot markers decoded from them. An event of two rows (a
// failure and a boot marker) has both messages, one per line.
func decodedMessages(c *Case) map[eventKey]string {
	out := map[eventKey]string{}
	add := func(k eventKey, msg string) {
		switch prev := out[k]; {
		case msg == "" || prev == msg:
		case prev == "":
			out[k] = msg
		default:
			out[k] = prev + "\n" + msg
		}
	}
	for _, r := range c.Failures {
		add(eventKey{r.Artifact, r.Failure.Channel, r.Failure.RecordID}, r.Failure.Message)
	}
	for _, r := range c.Boots {
		add(eventKey{r.Artifact, r.Boot.Channel, r.Boot.RecordID}, r.Boot.Message)
	}
	return out
}

// eventData renders EventData one "name: value" per line.
func eventData(data []parsers.Field) string {
	var b strings.Builder
	for i, d := range data {
		if i > 0 {
			b.WriteByte('\n')
		}
		if d.Name != "" {
			b.WriteString(d.Name)
			b.WriteString(": ")
		}
		b.WriteString(d.Value)
	}
	return b.String()
}
