package parsers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"golang.org/x/text/width"
)

// tasklist reads what tasklist prints: the /svc table (services wrapped
// onto continuation lines), the plain table (tasklist, tasklist /v) and the
// /fo csv forms of both, with or without /nh. Facts: DOMAIN.md §7.6 and
// corpus/FORMATS.md §3.
//
// Tables are cut at the column boundaries of the `===== ======== ====`
// separator line, never at header words: the header is localized
// (en `Image Name`, de `Abbildname`, es `Nombre de imagen`, zh `映像名称`).
type tasklist struct{}

// Format implements Parser.
func (tasklist) Format() Format { return FormatTasklist }

// Version implements Parser.
func (tasklist) Version() int { return 1 }

// Sniff implements Parser. It looks for the table separator whose first two
// columns are the 25-cell image and 8-cell PID columns every tasklist table
// has (driverquery, schtasks and getmac draw the same kind of separator with
// other widths), or for a /fo csv header or row: only quoted fields, 3
// (/svc), 5 (plain) or 9 (/v) of them, a numeric PID in the second.
func (tasklist) Sniff(head []byte) bool {
	csvHeader := 0 // field count of a CSV header line still waiting for its first row
	for len(head) > 0 {
		var line []byte
		line, head = sniffLine(head)
		if isTasklistSniffSeparator(line) {
			return true
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		n, data := tasklistCSVShape(line)
		switch {
		case csvHeader > 0:
			return n == csvHeader && data
		case n > 0 && data:
			return true
		case n > 0:
			csvHeader = n
		}
	}
	return false
}

// sniffLine splits head at the first newline, dropping the newline and a CR.
func sniffLine(head []byte) (line, rest []byte) {
	line, rest, _ = bytes.Cut(head, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'}), rest
}

// isTasklistSniffSeparator reports whether line is a tasklist table
// separator: 25 '=', a space, 8 '=', then more columns or the end.
func isTasklistSniffSeparator(line []byte) bool {
	line = bytes.TrimRight(line, " \t")
	const prefix = "========================= ========"
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return false
	}
	rest := line[len(prefix):]
	return len(rest) == 0 || (len(rest) >= 2 && rest[0] == ' ' && rest[1] == '=')
}

// tasklistCSVShape looks at a line made only of quoted fields ("a","b",…)
// as tasklist /fo csv writes it. It returns the field count (0 when the line
// is not such a line or has a field count tasklist does not print) and
// whether the line is a data row: a numeric PID in the second field, and for
// 3 fields a third field that is not a number (Get-NetUDPEndpoint exports of
// LocalAddress,LocalPort,OwningProcess have the same shape otherwise); for 5
// and 9 fields a numeric session number in the fourth. It does not allocate.
func tasklistCSVShape(line []byte) (fields int, data bool) {
	line = bytes.TrimSpace(line)
	if len(line) < 2 || line[0] != '"' || line[len(line)-1] != '"' {
		return 0, false
	}
	inner := line[1 : len(line)-1]
	sep := []byte(`","`)
	var f [4][]byte
	for {
		i := bytes.Index(inner, sep)
		field := inner
		if i >= 0 {
			field = inner[:i]
		}
		if bytes.IndexByte(field, '"') >= 0 {
			return 0, false
		}
		if fields < len(f) {
			f[fields] = field
		}
		fields++
		if i < 0 {
			break
		}
		inner = inner[i+len(sep):]
	}
	switch fields {
	case 3:
		return fields, allDigits(f[1]) && len(f[2]) > 0 && !allDigits(f[2])
	case 5, 9:
		return fields, allDigits(f[1]) && allDigits(f[3])
	}
	return 0, false
}

// allDigits reports whether b is a non-empty run of ASCII digits.
// Parse implements Parser.
func (tasklist) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		t := &tasklistRun{yield: yield}
		s := newLineScanner(r)
		for s.Scan() {
			if err := ctx.Err(); err != nil {
				yield(Record{}, &ParseError{Format: FormatTasklist, Line: s.line, Err: err})
				return
			}
			if !t.line(s.line, s.text, s.long) {
				return
			}
		}
		if err := s.Err(); err != nil {
			if t.finish() {
				yield(Record{}, &ParseError{Format: FormatTasklist, Line: s.line + 1, Err: fmt.Errorf("read: %w", err)})
			}
			return
		}
		if t.finish() && t.mode == tasklistSeeking && t.sawText {
			yield(Record{}, lineError(FormatTasklist, 1, "no tasklist table or CSV rows in %d lines", s.line))
		}
	}
}

// The states of a tasklist run.
const (
	tasklistSeeking = iota // before the first table separator or CSV row
	tasklistTable
	tasklistCSV
)

// tasklistRun is the state of one Parse.
type tasklistRun struct {
	yield   func(Record, error) bool
	mode    int
	sawText bool // a non-blank line was seen while seeking

	// last is the previous line while seeking: the header of the table
	// whose separator comes next.
	last     string
	lastLine int

	// Table state. cols holds the start cell of each column.
	cols []int
	// proc is the /svc row waiting for its continuation lines.
	proc     *Process
	procLine int
	// svc collects the row's services column across continuation lines;
	// svcCut is set once it reached maxServicesText.
	svc    strings.Builder
	svcCut bool
	// held is a line that is not a row. It is reported at the next line,
	// unless that line is a separator: then it was the header of another
	// table (outputs concatenated into one file).
	held     *ParseError
	heldText string
	heldLine int

	// CSV state: the field count of the first record.
	csvFields int

	// na is the local word for N/A, learned from PID 0 and 4.
	na string
	// modules is set when the third column lists DLLs (tasklist /m).
	modules bool
}

// line handles one input line. It returns false when the consumer stopped.
func (t *tasklistRun) line(n int, text string, long bool) bool {
	if long {
		return t.finish() && t.fail(lineError(FormatTasklist, n, "line longer than %d bytes", maxLine))
	}
	switch t.mode {
	case tasklistSeeking:
		if cols, ok := tasklistSeparator(text); ok {
			header, headerLine := t.last, t.lastLine
			if header == "" {
				headerLine = n
			}
			return t.startTable(cols, header, headerLine)
		}
		if fields, _ := tasklistCSVShape([]byte(text)); fields > 0 {
			t.mode = tasklistCSV
			return t.csvLine(n, text)
		}
		t.last, t.lastLine = "", 0
		if strings.TrimSpace(text) != "" {
			t.sawText = true
			t.last, t.lastLine = text, n
		}
		return true
	case tasklistCSV:
		if strings.TrimSpace(text) == "" {
			return true
		}
		return t.csvLine(n, text)
	}
	return t.tableLine(n, text)
}

// finish emits the pending row and the held error. It returns false when
// the consumer stopped.
func (t *tasklistRun) finish() bool {
	if !t.flush() {
		return false
	}
	if t.held != nil {
		held := t.held
		t.held = nil
		return t.yield(Record{}, held)
	}
	return true
}

func (t *tasklistRun) fail(pe *ParseError) bool { return t.yield(Record{}, pe) }

// startTable begins a table whose separator gave cols; header is the line
// before it ("" when there was none).
func (t *tasklistRun) startTable(cols []int, header string, headerLine int) bool {
	t.mode, t.cols, t.modules = tasklistTable, cols, false
	m := &Meta{Variant: "table"}
	if len(cols) == 3 {
		m.Variant = "svc-table"
	}
	if header != "" {
		m.Locale = tasklistLocale(cutConsoleColumns(header, cols[:2])[0])
	}
	return t.yield(Record{Kind: KindMeta, Line: headerLine, Meta: m}, nil)
}

// tableLine handles a line after a table separator.
func (t *tasklistRun) tableLine(n int, text string) bool {
	if t.held != nil {
		held, heldText, heldLine := t.held, t.heldText, t.heldLine
		t.held = nil
		if cols, ok := tasklistSeparator(text); ok {
			return t.startTable(cols, heldText, heldLine)
		}
		if !t.yield(Record{}, held) {
			return false
		}
	}
	if cols, ok := tasklistSeparator(text); ok {
		return t.flush() && t.startTable(cols, "", n)
	}
	if strings.TrimSpace(text) == "" {
		return t.flush()
	}
	f := cutConsoleColumns(text, t.cols)
	if len(t.cols) == 3 && f[0] == "" && f[1] == "" {
		if t.proc == nil {
			return t.fail(lineError(FormatTasklist, n, "continuation line without a process row: %q", strings.TrimSpace(text)))
		}
		if t.svc.Len()+1+len(f[2]) > maxServicesText {
			if t.svcCut {
				return true
			}
			t.svcCut = true
			return t.fail(lineError(FormatTasklist, n, "services of PID %d run past %d KiB of continuation lines: the rest is dropped", t.proc.PID, maxServicesText>>10))
		}
		t.svc.WriteByte(' ')
		t.svc.WriteString(f[2])
		return true
	}
	if !t.flush() {
		return false
	}
	pid, err := parsePIDText(f[1])
	switch {
	case f[0] == "":
		err = fmt.Errorf("no image name")
	case err != nil:
		err = fmt.Errorf("PID column %q: %w", f[1], err)
	}
	if err != nil {
		t.held = lineError(FormatTasklist, n, "bad row %q: %v", strings.TrimSpace(text), err)
		t.heldText, t.heldLine = text, n
		return true
	}
	colWidth := t.cols[1] - t.cols[0] - 1
	t.proc = &Process{PID: pid, Image: f[0], Truncated: consoleWidth(f[0]) >= colWidth}
	t.procLine = n
	if len(t.cols) == 3 {
		t.svc.WriteString(f[2])
		return true
	}
	return t.flush()
}

// maxServicesText bounds the services column of one row, continuation
// lines included: a real svchost.exe lists a few hundred names at most, and
// joining an unbounded column line by line would cost time and memory that
// grow with its square.
const maxServicesText = 64 << 10

// flush emits the pending process row.
func (t *tasklistRun) flush() bool {
	if t.proc == nil {
		return true
	}
	p, line, text := t.proc, t.procLine, t.svc.String()
	t.proc, t.svcCut = nil, false
	t.svc.Reset()
	if len(t.cols) == 3 {
		svc, switched := t.services(p.PID, text)
		p.Services = svc
		if switched && !t.yield(t.modulesMeta(line)) {
			return false
		}
	}
	return t.yield(Record{Kind: KindProcess, Line: line, Process: p}, nil)
}

// services splits the services column of a row. System Idle Process (PID
// 0) and System (PID 4) never host services, so whatever their column says
// is the local word for N/A: it is learned from them and dropped from later
// rows. Built in are only words seen in real output: en `N/A` (corpus), zh
// `暂缺` (a public zh-CN `tasklist /svc` capture) and es `No disponible`
// (DOMAIN.md §7.6); other languages rely on the PID 0/4 rows. switched
// reports that this row showed the column to hold modules (tasklist /m:
// names ending in .dll), not services; from then on no services are given.
func (t *tasklistRun) services(pid int, text string) (svc []string, switched bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, false
	}
	if (pid == 0 || pid == 4) && !strings.Contains(text, ",") {
		t.na = text
		return nil, false
	}
	if text == t.na || text == "N/A" || text == "暂缺" || text == "No disponible" {
		return nil, false
	}
	if t.modules {
		return nil, false
	}
	// Wrapped lists break after ", " in every real sample; a name that
	// itself holds spaces and was wrapped at one is rejoined by the space
	// the continuation was joined with (no sample shows it).
	for name := range strings.SplitSeq(text, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if strings.HasSuffix(strings.ToLower(name), ".dll") {
			t.modules = true
			return nil, true
		}
		svc = append(svc, name)
	}
	return svc, false
}

// modulesMeta is the Meta record that says the artifact is tasklist /m.
func (t *tasklistRun) modulesMeta(line int) (Record, error) {
	variant := "modules-table"
	if t.mode == tasklistCSV {
		variant = "modules-csv"
	}
	return Record{Kind: KindMeta, Line: line, Meta: &Meta{
		Variant: variant,
		Note:    "tasklist /m: the third column lists modules, not services; they are not reported",
	}}, nil
}

// csvLine handles one /fo csv line. Each line is read by its own
// csv.Reader: tasklist fields never span lines, and a stray quote in a
// damaged file would otherwise make one reader buffer the rest of the
// artifact as a single field.
func (t *tasklistRun) csvLine(n int, text string) bool {
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	fields, err := cr.Read()
	if err != nil {
		// The reader sees one line: its own line number is always 1.
		var ce *csv.ParseError
		if errors.As(err, &ce) {
			err = fmt.Errorf("csv column %d: %w", ce.Column, ce.Err)
		}
		return t.fail(&ParseError{Format: FormatTasklist, Line: n, Err: err})
	}
	if !strings.HasSuffix(strings.TrimSpace(text), `"`) {
		return t.fail(lineError(FormatTasklist, n, "row does not end with a quote (cut short?): %q", text))
	}
	if t.csvFields == 0 {
		t.csvFields = len(fields)
		m := &Meta{Variant: "csv"}
		if len(fields) == 3 {
			m.Variant = "svc-csv"
		}
		header := !allDigits(fields[1])
		if header {
			m.Locale = tasklistLocale(fields[0])
		}
		if !t.yield(Record{Kind: KindMeta, Line: n, Meta: m}, nil) {
			return false
		}
		if header {
			return true
		}
	}
	if len(fields) != t.csvFields {
		return t.fail(lineError(FormatTasklist, n, "%d fields, want %d", len(fields), t.csvFields))
	}
	pid, err := parsePIDText(fields[1])
	if err != nil {
		return t.fail(lineError(FormatTasklist, n, "PID %q: %v", fields[1], err))
	}
	if fields[0] == "" {
		return t.fail(lineError(FormatTasklist, n, "no image name"))
	}
	p := &Process{PID: pid, Image: fields[0]}
	if t.csvFields == 3 {
		svc, switched := t.services(pid, fields[2])
		p.Services = svc
		if switched && !t.yield(t.modulesMeta(n)) {
			return false
		}
	}
	return t.yield(Record{Kind: KindProcess, Line: n, Process: p}, nil)
}

// parsePIDText reads a process ID: decimal digits, at most 32 bits.
func parsePIDText(s string) (int, error) {
	if !allDigits(s) {
		return 0, fmt.Errorf("not a number")
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return int(v), nil
}

// tasklistSeparator parses a table separator line: runs of '=' separated by
// single spaces, at least two of them, starting at the first column. It
// returns the start cell of each column.
func tasklistSeparator(line string) ([]int, bool) {
	line = strings.TrimRight(line, " \t")
	if len(line) == 0 || line[0] != '=' {
		return nil, false
	}
	cols := []int{0}
	for i := 1; i < len(line); i++ {
		switch line[i] {
		case '=':
			if line[i-1] == ' ' {
				cols = append(cols, i)
			}
		case ' ':
			if line[i-1] != '=' {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	if len(cols) < 2 {
		return nil, false
	}
	return cols, true
}

// cutConsoleColumns cuts a table line into columns. cols holds the start cell of
// each column; a column runs to the start of the next (so the space between
// them is cut off by trimming), the last one to the end of the line. Cells
// are console cells: East Asian wide characters take two, which is how the
// console pads them (the zh-CN header `映像名称` is followed by 23 spaces
// where `Image Name` is followed by 21).
func cutConsoleColumns(line string, cols []int) []string {
	out := make([]string, len(cols))
	col, cell, start := 0, 0, 0
	for i, r := range line {
		for col+1 < len(cols) && cell >= cols[col+1] {
			out[col] = strings.TrimSpace(line[start:i])
			col++
			start = i
		}
		cell += consoleRuneWidth(r)
	}
	out[col] = strings.TrimSpace(line[start:])
	return out
}

// consoleWidth returns the console cells s takes.
func consoleWidth(s string) int {
	n := 0
	for _, r := range s {
		n += consoleRuneWidth(r)
	}
	return n
}

func consoleRuneWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// tasklistLocale maps the image column header to a language tag. Only
// headers seen in real output are listed.
func tasklistLocale(header string) string {
	switch strings.TrimSpace(header) {
	case "Image Name":
		return "en" // corpus/text/tasklist_*
	case "Abbildname":
		return "de" // DOMAIN.md §7.6; German /fo csv header in public code comments
	case "Nombre de imagen":
		return "es" // public es-ES captures of plain tasklist
	case "Nom de l'image", "Nom de l’image":
		return "fr" // public fr-FR captures of tasklist and tasklist /svc
	case "映像名称":
		return "zh" // public zh-CN capture of tasklist /svc
	case "Имя образа":
		return "ru" // public ru-RU captures of plain tasklist
	}
	return ""
}
