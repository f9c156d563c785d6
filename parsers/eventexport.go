package parsers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
)

// eventExport reads event logs exported as text tables, which carry the
// message rendered in the server's UI language instead of the insertion
// strings:
//
//	Event Viewer, "Save All Events As…", CSV (Comma Separated)   variant "eventviewer-csv"
//	Event Viewer, "Save All Events As…", Text (Tab delimited)    variant "eventviewer-tsv"
//	Get-WinEvent -LogName System | Export-Csv system.csv         variant "get-winevent"
//	Get-EventLog -LogName System | Export-Csv system.csv         variant "get-eventlog"
//
// Event Viewer writes the columns Level, Date and Time, Source, Event ID
// and Task Category, then the message, which has no header of its own;
// the header names and the level words are in the UI language, so the
// columns are taken by position and the format is recognised by the shape
// of the first row (a date, a source, a numeric ID). The PowerShell
// exports name .NET properties, which are not localized (Id, ProviderName,
// TimeCreated, RecordId, LogName, MachineName, Message; EventID, Source,
// TimeGenerated, Index, EntryType, InstanceId, MachineName, Message), after
// an optional #TYPE line (Get-EventLog's names the log: "#TYPE
// System.Diagnostics.EventLogEntry#System/Service Control Manager/…").
//
// The same cmdlets' output pasted as text is read too (variant
// "format-list"): `Get-WinEvent … | Format-List` (TimeCreated, ProviderName,
// Id, Message …) and `Get-EventLog … | Format-List` (Index, EntryType,
// Message, Source, TimeGenerated …), one "Name : value" line a property,
// long values continued on indented lines. A record ends where a property
// name repeats; its line is that of its first property.
//
// Times are the exporter's wall clock in its culture's format (en-US
// "12/3/2026 1:05:06 PM", de-DE "03.12.2026 13:05:06", ja-JP "2026/12/03
// 13:05:06", ko-KR "2026-12-03 오후 1:05:06", …) with no zone: Event.Time
// holds that wall-clock time in the UTC location and Event.TimeLocal is set,
// so that the store converts it with the host's zone. When no date of a
// file has a day above 12, the day/month order is assumed from the clock
// (12-hour with "/" as en-US: month first; otherwise day first) and the
// assumption is reported in a Meta note. Every event has the line its row
// starts on; RecordID is set only where the export has one (RecordId,
// Index).
type eventExport struct{}

// Event export variants (Meta.Variant).
const (
	variantEVCSV     = "eventviewer-csv"
	variantEVTSV     = "eventviewer-tsv"
	variantWinEvent  = "get-winevent"
	variantEventLog  = "get-eventlog"
	variantList      = "format-list"
	evexMaxPending   = 4096
	evexMaxMessage   = 64 << 10
	evexTimeFieldMax = 64
)

// Format implements Parser.
func (eventExport) Format() Format { return FormatEventExport }

// Version implements Parser.
func (eventExport) Version() int { return 1 }

// Sniff implements Parser.
func (eventExport) Sniff(head []byte) bool {
	v, _ := evexSniff(head)
	return v != ""
}

// evexSniff returns the variant of head and its field separator, or "".
func evexSniff(head []byte) (string, byte) {
	if evexSniffList(head) {
		return variantList, 0
	}
	if evexSniffDetails(head) {
		return variantDetails, 0
	}
	rest := head
	var line []byte
	for len(rest) > 0 {
		line, rest = psSniffNextLine(rest)
		if len(bytes.TrimSpace(line)) > 0 {
			break
		}
	}
	if len(line) > 5 && equalFoldBytes(line[:5], "#TYPE") {
		line, rest = psSniffNextLine(rest)
	}
	sep := evexSeparator(line)
	names := evexSplit(line, sep)
	has := func(n string) bool {
		for _, f := range names {
			if equalFoldBytes(trimQuotesSpace(f), n) {
				return true
			}
		}
		return false
	}
	switch {
	case has("Id") && has("ProviderName") && has("TimeCreated"):
		return variantWinEvent, sep
	case has("EventID") && has("Source") && has("TimeGenerated"):
		return variantEventLog, sep
	}
	// Event Viewer: five header names, then a row whose second field is a
	// date and whose fourth is the event ID.
	if len(names) < 5 || len(names) > 6 || sep == ';' {
		return "", 0
	}
	row, _ := psSniffNextLine(rest)
	fields := evexSplit(row, sep)
	if len(fields) < 5 {
		return "", 0
	}
	id := trimQuotesSpace(fields[3])
	if len(id) == 0 || len(id) > 5 || !allDigits(id) {
		return "", 0
	}
	if _, err := parseLocalTime("", evexCleanTime(string(trimQuotesSpace(fields[1])))); err != nil {
		return "", 0
	}
	if sep == '\t' {
		return variantEVTSV, sep
	}
	return variantEVCSV, sep
}

// evexSeparator is the first tab, comma or semicolon outside quotes.
func evexSeparator(line []byte) byte {
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == '\t' || c == ',' || c == ';'):
			return c
		}
	}
	return ','
}

// evexSplit splits a line at sep outside quotes, without allocating more
// than the slice of fields.
func evexSplit(line []byte, sep byte) [][]byte {
	var out [][]byte
	quoted, start := false, 0
	for i, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			out = append(out, line[start:i])
			start = i + 1
		}
	}
	return append(out, line[start:])
}

// evexCleanTime removes the direction marks some exports put into dates
// and turns the AM/PM designators of other cultures, which may come before
// the time of day (ko-KR, zh-CN, ja-JP), into a trailing AM or PM.
func evexCleanTime(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u200e', '\u200f', '\u202a', '\u202c', '\u00a0':
			if r == '\u00a0' {
				return ' '
			}
			return -1
		}
		return r
	}, s)
	for _, d := range []struct{ word, to string }{
		{"오전", "AM"}, {"오후", "PM"}, {"午前", "AM"}, {"午後", "PM"}, {"上午", "AM"}, {"下午", "PM"},
		{"a.m.", "AM"}, {"p.m.", "PM"}, {"a. m.", "AM"}, {"p. m.", "PM"},
	} {
		if strings.Contains(s, d.word) {
			s = strings.Join(strings.Fields(strings.Replace(s, d.word, "", 1)), " ") + " " + d.to
			break
		}
	}
	return strings.TrimSpace(s)
}

// evexLevels maps the level words of Event Viewer's exports to levels.
var evexLevels = map[string]uint8{
	"critical": 1, "kritisch": 1, "critique": 1, "crítico": 1, "critico": 1, "kritiek": 1, "критический": 1, "krytyczny": 1, "重大": 1, "严重": 1, "위험": 1,
	"error": 2, "fehler": 2, "erreur": 2, "errore": 2, "erro": 2, "fout": 2, "ошибка": 2, "błąd": 2, "エラー": 2, "错误": 2, "오류": 2,
	"warning": 3, "warnung": 3, "avertissement": 3, "advertencia": 3, "avviso": 3, "aviso": 3, "waarschuwing": 3, "предупреждение": 3, "ostrzeżenie": 3, "警告": 3, "경고": 3,
	"information": 4, "informationen": 4, "información": 4, "informazioni": 4, "informações": 4, "informatie": 4, "сведения": 4, "informacje": 4, "情報": 4, "信息": 4, "정보": 4,
}

// Parse implements Parser.
func (eventExport) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		head, _ := br.Peek(SniffLen)
		variant, sep := evexSniff(head)
		if variant == "" {
			yield(Record{}, lineError(FormatEventExport, 1, "not an event export: no known header and no event row after it"))
			return
		}
		switch variant {
		case variantList:
			evexParseList(ctx, br, yield)
			return
		case variantDetails:
			evexParseDetails(ctx, br, yield)
			return
		}
		offset := psSkipBlankLines(br)
		channel := ""
		if b, _ := br.Peek(len("#TYPE")); strings.EqualFold(string(b), "#TYPE") {
			line := psReadLine(br, 4096)
			offset++
			// "#TYPE System.Diagnostics.EventLogEntry#System/Service Control Manager/3221232472"
			if _, after, ok := strings.Cut(line, "EventLogEntry#"); ok {
				channel, _, _ = strings.Cut(after, "/")
			}
		}
		if !yield(Record{Kind: KindMeta, Meta: &Meta{Variant: variant}}, nil) {
			return
		}
		lim := &psRecordLimit{r: br}
		cr := csv.NewReader(lim)
		cr.Comma = rune(sep)
		cr.FieldsPerRecord = -1
		header, err := cr.Read()
		lim.n = 0
		if err != nil {
			if err != io.EOF {
				yield(Record{}, psReadError(FormatEventExport, err, offset, 1))
			}
			return
		}
		x := newEvexReader(evexReader{variant: variant, channel: channel, cols: map[string]int{}})
		for i, name := range header {
			name = strings.ToLower(strings.TrimSpace(name))
			if _, dup := x.cols[name]; !dup {
				x.cols[name] = i
			}
		}
		last := offset + 1
		for {
			if err := ctx.Err(); err != nil {
				if x.flush(yield) {
					yield(Record{}, &ParseError{Format: FormatEventExport, Line: last, Err: err})
				}
				return
			}
			rec, err := cr.Read()
			lim.n = 0
			if err == io.EOF {
				break
			}
			if err != nil {
				pe := psReadError(FormatEventExport, err, offset, last+1)
				if !x.out(yield, evexPending{err: pe, line: pe.Line}) {
					return
				}
				var cpe *csv.ParseError
				if errors.As(err, &cpe) {
					last = pe.Line
					continue
				}
				break
			}
			line, _ := cr.FieldPos(0)
			line += offset
			last = line
			if !x.out(yield, x.row(rec, line)) {
				return
			}
		}
		if !x.flush(yield) {
			return
		}
		if m := x.hosts.rowsMeta("MachineName"); m != nil {
			yield(Record{Kind: KindMeta, Meta: m}, nil)
		}
	}
}

// evexPending is one output held back while the day/month order is open.
type evexPending struct {
	rec  Record
	err  error
	line int
	t    *psTime
}

// evexReader is the state of one Parse after the header.
type evexReader struct {
	variant, channel string
	cols             map[string]int
	days             dayOrder[evexPending]
	hosts            hostTally
}

// newEvexReader returns x ready to pass outputs on.
func newEvexReader(x evexReader) *evexReader {
	r := &x
	r.days = dayOrder[evexPending]{what: "dates", maxPending: evexMaxPending, emit: r.emit,
		timeOf: func(o evexPending) (*psTime, int) { return o.t, o.line }}
	return r
}

func (x *evexReader) col(rec []string, name string) string {
	if i, ok := x.cols[strings.ToLower(name)]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

// row turns one CSV record into an event (its time still to resolve).
func (x *evexReader) row(rec []string, line int) evexPending {
	bad := func(format string, args ...any) evexPending {
		return evexPending{err: lineError(FormatEventExport, line, format, args...), line: line}
	}
	ev := &Event{Channel: x.channel}
	var idText, timeText string
	switch x.variant {
	case variantWinEvent:
		idText, timeText = x.col(rec, "Id"), x.col(rec, "TimeCreated")
		ev.Provider, ev.Message, ev.Computer = x.col(rec, "ProviderName"), x.col(rec, "Message"), x.col(rec, "MachineName")
		ev.Channel = x.col(rec, "LogName")
		if v, err := strconv.ParseUint(x.col(rec, "Level"), 10, 8); err == nil {
			ev.Level = uint8(v)
		}
		if v, err := strconv.ParseUint(x.col(rec, "Qualifiers"), 10, 16); err == nil {
			ev.Qualifiers = uint16(v)
		}
		ev.RecordID, _ = strconv.ParseUint(x.col(rec, "RecordId"), 10, 64)
	case variantEventLog:
		idText, timeText = x.col(rec, "EventID"), x.col(rec, "TimeGenerated")
		if idText == "" {
			// Format-List shows no EventID: it is InstanceId's low word.
			if v, err := strconv.ParseInt(x.col(rec, "InstanceId"), 10, 64); err == nil {
				idText = strconv.FormatUint(uint64(v)&0xFFFF, 10)
			}
		}
		ev.Provider, ev.Message, ev.Computer = x.col(rec, "Source"), x.col(rec, "Message"), x.col(rec, "MachineName")
		ev.Level = evexLevels[strings.ToLower(x.col(rec, "EntryType"))]
		ev.RecordID, _ = strconv.ParseUint(x.col(rec, "Index"), 10, 64)
		if v, err := strconv.ParseInt(x.col(rec, "InstanceId"), 10, 64); err == nil {
			ev.Qualifiers = uint16(uint64(v) >> 16)
		}
	default:
		if len(rec) < 5 {
			return bad("%d fields, want level, date and time, source, event ID, task category and message", len(rec))
		}
		ev.Level = evexLevels[strings.ToLower(strings.TrimSpace(rec[0]))]
		timeText, ev.Provider, idText = strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2]), strings.TrimSpace(rec[3])
		if len(rec) > 5 {
			ev.Message = strings.TrimSpace(strings.Join(rec[5:], string(rune(x.cols0sep()))))
		}
	}
	if len(ev.Message) > evexMaxMessage {
		ev.Message = ev.Message[:evexMaxMessage]
	}
	id, err := strconv.ParseUint(idText, 10, 32)
	if err != nil {
		return bad("event ID %q is not a number", cut(idText, 40))
	}
	ev.EventID = uint16(id)
	if id > 0xFFFF && ev.Qualifiers == 0 {
		ev.Qualifiers = uint16(id >> 16)
	}
	if ev.Provider == "" {
		return bad("event %d has no source", id)
	}
	if len(timeText) > evexTimeFieldMax {
		return bad("date and time %q is too long", cut(timeText, 40))
	}
	t, err := parseLocalTime("date and time", evexCleanTime(timeText))
	if err != nil {
		return evexPending{err: lineError(FormatEventExport, line, "%v", err), line: line}
	}
	x.hosts.observe(ev, line)
	return evexPending{rec: Record{Kind: KindEvent, Line: line, Event: ev}, line: line, t: &t}
}

// cols0sep is the separator Event Viewer rows were split at.
func (x *evexReader) cols0sep() byte {
	if x.variant == variantEVTSV {
		return '\t'
	}
	return ','
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// out passes an output on, or holds it back while the file's day/month
// order is unknown and the output's time needs it (dayOrder).
func (x *evexReader) out(yield func(Record, error) bool, o evexPending) bool {
	return x.days.out(yield, o)
}

// flush decides the order by assumption while rows are held back.
func (x *evexReader) flush(yield func(Record, error) bool) bool { return x.days.flush(yield) }

// emit resolves an output's time and yields it.
func (x *evexReader) emit(yield func(Record, error) bool, o evexPending) bool {
	if o.err != nil {
		return yield(Record{}, o.err)
	}
	if o.t == nil { // a UTC time of its own (the event XML of a pasted event)
		return yield(o.rec, nil)
	}
	if ev := o.t.evidence(); ev != psOrderUnknown && x.days.order != psOrderUnknown && ev != x.days.order {
		return yield(Record{}, lineError(FormatEventExport, o.line, "date and time %q is %s, but line %d reads %s",
			o.t.raw, psOrderName(ev), x.days.orderLine, psOrderName(x.days.order)))
	}
	at, local, err := o.t.resolve(x.days.order)
	if err != nil {
		return yield(Record{}, lineError(FormatEventExport, o.line, "%v", err))
	}
	o.rec.Event.Time, o.rec.Event.TimeLocal = at, local
	return yield(o.rec, nil)
}

// evexListKey splits a Format-List line "Name   : value"; the name starts
// at column 0 and is ASCII letters.
func evexListKey(line string) (key, value string, ok bool) {
	i := 0
	for i < len(line) && (line[i] >= 'A' && line[i] <= 'Z' || line[i] >= 'a' && line[i] <= 'z') {
		i++
	}
	if i == 0 {
		return "", "", false
	}
	j := i
	for j < len(line) && line[j] == ' ' {
		j++
	}
	if j >= len(line) || line[j] != ':' {
		return "", "", false
	}
	return line[:i], strings.TrimSpace(line[j+1:]), true
}

// evexSniffList reports Format-List output of Get-WinEvent or Get-EventLog:
// the first non-blank line is a property line, and the head names the
// properties of one of them.
func evexSniffList(head []byte) bool {
	rest := head
	var seen [6]bool // timecreated, id, providername, timegenerated, source, eventid|instanceid
	first := true
	for n := 0; len(rest) > 0 && n < 40; n++ {
		var line []byte
		line, rest = psSniffNextLine(rest)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		key, _, ok := evexListKey(string(bytes.TrimRight(line, "\r")))
		if first && !ok {
			return false
		}
		first = false
		switch strings.ToLower(key) {
		case "timecreated":
			seen[0] = true
		case "id":
			seen[1] = true
		case "providername":
			seen[2] = true
		case "timegenerated":
			seen[3] = true
		case "source":
			seen[4] = true
		case "eventid", "instanceid":
			seen[5] = true
		}
	}
	return seen[0] && seen[1] && seen[2] || seen[3] && seen[4] && seen[5]
}

// evexParseList reads Format-List output.
func evexParseList(ctx context.Context, r io.Reader, yield func(Record, error) bool) {
	if !yield(Record{Kind: KindMeta, Meta: &Meta{Variant: variantList}}, nil) {
		return
	}
	x := newEvexReader(evexReader{})
	var names, values []string
	start, last := 0, -1
	// cont collects the continuation lines of values[last], joined once
	// (settle): appending to the string line by line would copy it each time.
	var cont strings.Builder
	settle := func() {
		if cont.Len() > 0 {
			values[last] = cont.String()
			cont.Reset()
		}
	}
	flush := func() bool {
		settle()
		if len(names) == 0 {
			return true
		}
		x.cols = make(map[string]int, len(names))
		for i, n := range names {
			x.cols[strings.ToLower(n)] = i
		}
		x.variant = variantEventLog
		if _, ok := x.cols["timecreated"]; ok {
			x.variant = variantWinEvent
		}
		o := x.row(values, start)
		names, values, last = names[:0], values[:0], -1
		return x.out(yield, o)
	}
	sc := newLineScanner(r)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			if x.flush(yield) {
				yield(Record{}, &ParseError{Format: FormatEventExport, Line: sc.line, Err: err})
			}
			return
		}
		line := strings.TrimSuffix(sc.text, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last < 0 {
				if !x.out(yield, evexPending{err: lineError(FormatEventExport, sc.line, "continuation line without a property"), line: sc.line}) {
					return
				}
				continue
			}
			if cont.Len() == 0 {
				cont.WriteString(values[last])
			}
			if cont.Len() < evexMaxMessage {
				cont.WriteByte('\n')
				cont.WriteString(strings.TrimSpace(line))
			}
			continue
		}
		settle()
		key, value, ok := evexListKey(line)
		if !ok {
			if !flush() || !x.out(yield, evexPending{err: lineError(FormatEventExport, sc.line, "not a \"Name : value\" line"), line: sc.line}) {
				return
			}
			last = -1
			continue
		}
		for _, n := range names {
			if strings.EqualFold(n, key) {
				if !flush() {
					return
				}
				break
			}
		}
		if len(names) == 0 {
			start = sc.line
		}
		if len(names) < 256 {
			names, values, last = append(names, key), append(values, value), len(names)
		} else {
			last = -1 // dropped: its continuation lines are not the previous property's
		}
	}
	if err := sc.Err(); err != nil {
		if !x.out(yield, evexPending{err: &ParseError{Format: FormatEventExport, Line: sc.line, Err: err}, line: sc.line}) {
			return
		}
	}
	if !flush() || !x.flush(yield) {
		return
	}
	if m := x.hosts.rowsMeta("MachineName"); m != nil {
		yield(Record{Kind: KindMeta, Meta: m}, nil)
	}
}
