package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Day/month orders of a numeric date.
const (
	orderUnknown = iota
	orderMDY
	orderDMY
)

// stamp is a date and time as an artifact writes it, before the order of
// an all-numeric day and month is decided.
type stamp struct {
	hasDate, hasTime bool
	// y is the year. With ymd or named set, a is the month and b the day;
	// otherwise a and b are the first two fields as written, and their
	// order is decided by the caller (see order).
	y, a, b   int
	ymd       bool
	named     bool // the month was written as a name
	sep       byte // separator of a numeric date: '/', '.' or '-'
	weekdayEN bool // an English weekday name came first (cmd %date% on en-US)

	hh, mm, ss, ns int
	clock12, pm    bool
	// zoned is set when the text names the offset (ISO 8601 with Z or
	// ±hh:mm); offset is then in seconds east of UTC.
	zoned  bool
	offset int
	// utcMark is a "Z" or "GMT" that .NET's u and r formats append to a
	// local time without converting it (Get-Date -Format u or r): the
	// time stays a wall-clock time.
	utcMark bool
}

// ambiguous reports a numeric date whose day and month could be swapped.
func (s *stamp) ambiguous() bool {
	return s.hasDate && !s.ymd && !s.named && s.a != s.b && s.a >= 1 && s.a <= 12 && s.b >= 1 && s.b <= 12
}

// evidence returns the order a numeric date proves by a field above 12.
func (s *stamp) evidence() int {
	switch {
	case s.ymd || s.named || !s.hasDate:
		return orderUnknown
	case s.a > 12 && s.b <= 12:
		return orderDMY
	case s.b > 12 && s.a <= 12:
		return orderMDY
	}
	return orderUnknown
}

// guessOrder is the order assumed when neither the date nor the locale
// decides: month/day for an English weekday or a 12-hour clock with '/'
// (en-US), day/month otherwise ('.' de, '/' fr, en-GB, es, it, '-' nl).
func (s *stamp) guessOrder() (int, string) {
	switch {
	case s.sep == '/' && s.weekdayEN:
		return orderMDY, "month/day (slash date after an English weekday, as cmd prints %date% on en-US)"
	case s.sep == '/' && s.clock12:
		return orderMDY, "month/day (slash date with AM/PM, as en-US prints it)"
	case s.sep == '.':
		return orderDMY, "day/month (dotted date, as de and most dotted locales print it)"
	}
	return orderDMY, fmt.Sprintf("day/month (%q date without AM/PM, as fr, en-GB, es and it print it)", string(s.sep))
}

// time returns the stamp as a time, in UTC, and whether it is the host's
// wall-clock time (stored with the UTC location) rather than an instant.
// order applies to ambiguous numeric dates; orderUnknown means the
// evidence, then guessOrder.
func (s *stamp) time(order int) (time.Time, bool, error) {
	month, day := s.a, s.b
	if !s.ymd && !s.named {
		if order == orderUnknown {
			order = s.evidence()
		}
		if order == orderUnknown {
			order, _ = s.guessOrder()
		}
		if order == orderDMY {
			month, day = s.b, s.a
		}
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(s.y, month) {
		return time.Time{}, false, fmt.Errorf("no such date: year %d, month %d, day %d", s.y, month, day)
	}
	hh := s.hh
	if s.clock12 {
		hh %= 12
		if s.pm {
			hh += 12
		}
	}
	if s.zoned {
		t := time.Date(s.y, time.Month(month), day, hh, s.mm, s.ss, s.ns, time.FixedZone("", s.offset))
		return t.UTC(), false, nil
	}
	return time.Date(s.y, time.Month(month), day, hh, s.mm, s.ss, s.ns, time.UTC), true, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Month and weekday names of the long date Get-Date prints, from the .NET
// culture data (CLDR) of en, de, fr, es, it, pt and nl, plus the English,
// German and French abbreviations cmd and the C library print. Month
// names map to their number, weekday names to 0 (English: 1).
var (
	monthNames = map[string]int{
		"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
		"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
		"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
		"oct": 10, "nov": 11, "dec": 12,
		"januar": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
		"janvier": 1, "février": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8,
		"septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
		"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
		"agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
		"gennaio": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
		"ottobre": 10, "dicembre": 12,
		"janeiro": 1, "fevereiro": 2, "março": 3, "maio": 5, "junho": 6, "julho": 7, "setembro": 9,
		"outubro": 10, "novembro": 11, "dezembro": 12,
		"januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8,
	}
	weekdayNames = map[string]int{
		"monday": 1, "tuesday": 1, "wednesday": 1, "thursday": 1, "friday": 1, "saturday": 1, "sunday": 1,
		"mon": 1, "tue": 1, "wed": 1, "thu": 1, "fri": 1, "sat": 1, "sun": 1,
		"montag": 0, "dienstag": 0, "mittwoch": 0, "donnerstag": 0, "freitag": 0, "samstag": 0, "sonntag": 0,
		"mo": 0, "di": 0, "mi": 0, "do": 0, "fr": 0, "sa": 0, "so": 0,
		"lundi": 0, "mardi": 0, "mercredi": 0, "jeudi": 0, "vendredi": 0, "samedi": 0, "dimanche": 0,
		"lun": 0, "mer": 0, "jeu": 0, "ven": 0, "sam": 0, "dim": 0,
		"lunes": 0, "martes": 0, "miércoles": 0, "jueves": 0, "viernes": 0, "sábado": 0, "domingo": 0,
		"lunedì": 0, "martedì": 0, "mercoledì": 0, "giovedì": 0, "venerdì": 0, "sabato": 0, "domenica": 0,
		"segunda-feira": 0, "terça-feira": 0, "quarta-feira": 0, "quinta-feira": 0, "sexta-feira": 0,
		"maandag": 0, "dinsdag": 0, "woensdag": 0, "donderdag": 0, "vrijdag": 0, "zaterdag": 0, "zondag": 0,
	}
)

// dayPeriod maps AM/PM designators: English, Spanish ("a. m.", split in
// two tokens, is joined first), and the Chinese, Japanese and Korean
// ones, which come before the time.
func dayPeriod(tok string) (pm, ok bool) {
	switch strings.ToLower(tok) {
	case "am", "a.m.", "a.m", "上午", "午前", "오전":
		return false, true
	case "pm", "p.m.", "p.m", "下午", "午後", "오후":
		return true, true
	}
	return false, false
}

// parseStamp reads a date, a time or both: numeric dates (11/20/2026,
// 20.11.2026, 2026-11-20, 2026/11/20) or long ones with a month name
// (Thursday, November 20, 2026; Donnerstag, 20. November 2026; 20 de
// noviembre de 2026), an optional leading weekday, a clock (8:12,
// 8:12:33, 8:12:33.45, 8:12:33,45) with an optional AM/PM designator, and
// ISO 8601 (2026-11-20T08:12:33.4512345-05:00). dateComma allows the
// comma systeminfo puts between a numeric date and the time; timestamp
// lines reject it so that systeminfo's own dates are never taken for one.
func parseStamp(s string, dateComma bool) (stamp, error) {
	var st stamp
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return st, fmt.Errorf("empty")
	}
	if len(fields) > 12 { // the longest, pt-BR Get-Date, has 8
		return st, fmt.Errorf("too many words")
	}
	// Join the Spanish designators "a. m." and "p. m.".
	toks := make([]string, 0, len(fields))
	for i := 0; i < len(fields); i++ {
		if i+1 < len(fields) && (fields[i] == "a." || fields[i] == "p.") && fields[i+1] == "m." {
			toks = append(toks, fields[i]+"m.")
			i++
			continue
		}
		toks = append(toks, fields[i])
	}
	var day, month, year int
	var sawDay, sawYear, commaAfterDate bool
	for i, tok := range toks {
		raw := tok
		tok = strings.TrimRight(tok, ",")
		comma := tok != raw
		if tok == "" {
			return st, fmt.Errorf("stray comma")
		}
		lower := strings.ToLower(strings.TrimSuffix(tok, "."))
		if i == 0 {
			if en, ok := weekdayNames[lower]; ok {
				st.weekdayEN = en == 1
				continue
			}
		}
		switch {
		case strings.ContainsRune(tok, 'T') && len(tok) > 10 && tok[4] == '-':
			if st.hasDate || st.hasTime {
				return st, fmt.Errorf("two dates")
			}
			if err := st.iso(tok); err != nil {
				return st, err
			}
		case strings.ContainsRune(tok, ':'):
			if st.hasTime {
				return st, fmt.Errorf("two times")
			}
			if err := st.clock(tok); err != nil {
				return st, err
			}
			if commaAfterDate && !dateComma {
				return st, fmt.Errorf("comma between date and time")
			}
		case isNumericDate(tok):
			if st.hasDate || sawDay || sawYear || month != 0 {
				return st, fmt.Errorf("two dates")
			}
			if err := st.numericDate(tok); err != nil {
				return st, err
			}
			commaAfterDate = comma
		case allDigits(strings.TrimSuffix(tok, ".")):
			d := strings.TrimSuffix(tok, ".")
			v, _ := strconv.Atoi(d)
			switch {
			case len(d) <= 2 && !sawDay:
				day, sawDay = v, true
			case len(d) == 4 && !sawYear:
				year, sawYear = v, true
			default:
				return st, fmt.Errorf("unexpected number %q", tok)
			}
		case monthNames[lower] != 0 && month == 0:
			month = monthNames[lower]
		case (lower == "de" || lower == "del") && month+day > 0:
			// es, pt: "20 de noviembre de 2026"
		case st.hasTime && !st.clock12 && isDayPeriod(tok):
			pm, _ := dayPeriod(tok)
			st.clock12, st.pm = true, pm
		case !st.hasTime && !st.clock12 && isDayPeriod(tok) && i+1 < len(toks) && strings.ContainsRune(toks[i+1], ':'):
			pm, _ := dayPeriod(tok) // 上午 8:12:33
			st.clock12, st.pm = true, pm
		case (tok == "GMT" || tok == "UTC" || tok == "Z") && st.hasTime && !st.zoned && !st.utcMark:
			st.utcMark = true
		case (tok[0] == '+' || tok[0] == '-') && st.hasTime && !st.zoned && !st.utcMark:
			off, ok := parseOffset(tok) // RFC 1123: Thu, 20 Nov 2026 08:12:33 +0100
			if !ok {
				return st, fmt.Errorf("unexpected %q", tok)
			}
			st.zoned, st.offset = true, off
		default:
			return st, fmt.Errorf("unexpected %q", tok)
		}
	}
	if sawDay || sawYear || month != 0 {
		if st.hasDate || !sawDay || !sawYear || month == 0 {
			return st, fmt.Errorf("incomplete long date")
		}
		st.hasDate, st.named, st.y, st.a, st.b = true, true, year, month, day
	}
	if st.clock12 && (st.hh < 1 || st.hh > 12) {
		return st, fmt.Errorf("hour %d with a 12-hour designator", st.hh)
	}
	if !st.hasDate && !st.hasTime {
		return st, fmt.Errorf("no date or time")
	}
	if st.utcMark && !st.hasDate {
		return st, fmt.Errorf("zone without a date")
	}
	return st, nil
}

func isDayPeriod(tok string) bool {
	_, ok := dayPeriod(tok)
	return ok
}

// isNumericDate reports digits with '/', '.' or '-' in between, the shape
// of a numeric date (checked further by numericDate).
func isNumericDate(tok string) bool {
	tok = strings.TrimSuffix(tok, ".")
	if tok == "" || tok[0] < '0' || tok[0] > '9' {
		return false
	}
	return strings.Trim(tok, "0123456789/.-") == "" && strings.ContainsAny(tok, "/.-")
}

// numericDate reads d/m/yyyy, m/d/yyyy, dd.mm.yyyy, yyyy-mm-dd,
// yyyy/m/d and the like (a four-digit year first or last).
func (st *stamp) numericDate(tok string) error {
	tok = strings.TrimSuffix(tok, ".") // hu, lv: "2026.11.20."
	var sep byte
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c == '/' || c == '.' || c == '-' {
			sep = c
			break
		}
	}
	parts := strings.Split(tok, string(sep))
	if len(parts) != 3 {
		return fmt.Errorf("date %q: want three fields", tok)
	}
	var n [3]int
	for i, p := range parts {
		v, ok := psDigitsMax(p, 4)
		if !ok {
			return fmt.Errorf("date %q: bad field %q", tok, p)
		}
		n[i] = v
	}
	switch {
	case len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		st.ymd, st.y, st.a, st.b = true, n[0], n[1], n[2]
	case len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		st.y, st.a, st.b = n[2], n[0], n[1]
	default:
		return fmt.Errorf("date %q: want a four-digit year first or last", tok)
	}
	st.hasDate, st.sep = true, sep
	return nil
}

// psDigitsMax parses 1 to max ASCII digits.
func psDigitsMax(s string, max int) (int, bool) {
	if s == "" || len(s) > max || !allDigits(s) {
		return 0, false
	}
	v, _ := strconv.Atoi(s)
	return v, true
}

// clock reads h:mm, h:mm:ss and h:mm:ss(.|,)fraction, with a designator
// or zone written against it (8:12AM, 08:12:33Z, 08:12:33+01:00).
func (st *stamp) clock(tok string) error {
	end := 0
	for end < len(tok) && (tok[end] >= '0' && tok[end] <= '9' || tok[end] == ':' || tok[end] == '.' || tok[end] == ',') {
		end++
	}
	body, tail := tok[:end], tok[end:]
	if tail != "" {
		switch {
		case isDayPeriod(tail):
			st.pm, _ = dayPeriod(tail)
			st.clock12 = true
		case tail == "Z":
			st.utcMark = true
		default:
			off, ok := parseOffset(tail)
			if !ok {
				return fmt.Errorf("time %q: unexpected %q", tok, tail)
			}
			st.zoned, st.offset = true, off
		}
	}
	hms := strings.Split(body, ":")
	if len(hms) < 2 || len(hms) > 3 {
		return fmt.Errorf("time %q: want h:mm or h:mm:ss", tok)
	}
	frac := ""
	if len(hms) == 3 {
		if i := strings.IndexAny(hms[2], ".,"); i >= 0 {
			hms[2], frac = hms[2][:i], hms[2][i+1:]
			if frac == "" || !allDigits(frac) {
				return fmt.Errorf("time %q: bad fraction", tok)
			}
		}
	}
	var v [3]int
	for i, p := range hms {
		n, ok := psDigitsMax(p, 2)
		if !ok || i > 0 && len(p) != 2 {
			return fmt.Errorf("time %q: bad field %q", tok, p)
		}
		v[i] = n
	}
	if v[0] > 23 || v[1] > 59 || v[2] > 59 {
		return fmt.Errorf("time %q: out of range", tok)
	}
	st.hasTime, st.hh, st.mm, st.ss = true, v[0], v[1], v[2]
	if frac != "" {
		f := frac[:min(len(frac), 9)]
		n, _ := strconv.Atoi(f)
		for d := len(f); d < 9; d++ {
			n *= 10
		}
		st.ns = n
	}
	return nil
}

// parseOffset reads +hh:mm, -hh:mm, +hhmm or +hh as seconds east of UTC.
func parseOffset(s string) (int, bool) {
	if len(s) < 3 || s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	d := strings.ReplaceAll(s[1:], ":", "")
	if !allDigits(d) || len(d) != 2 && len(d) != 4 || strings.Count(s, ":") > 1 {
		return 0, false
	}
	h, _ := strconv.Atoi(d[:2])
	m := 0
	if len(d) == 4 {
		m, _ = strconv.Atoi(d[2:])
	}
	if h > 14 || m > 59 {
		return 0, false
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// iso reads 2026-11-20T08:12:33[.fraction][Z|±hh:mm]. A Z here is a true
// UTC marker: Get-Date -Format o writes the offset of a local time and Z
// only for a UTC one.
func (st *stamp) iso(tok string) error {
	date, clock, _ := strings.Cut(tok, "T")
	if len(date) != 10 || date[4] != '-' || date[7] != '-' {
		return fmt.Errorf("ISO date %q: want yyyy-mm-dd", tok)
	}
	if err := st.numericDate(date); err != nil {
		return err
	}
	if err := st.clock(clock); err != nil {
		return err
	}
	if st.utcMark {
		st.utcMark, st.zoned, st.offset = false, true, 0
	}
	return nil
}

// Words a timestamp line may put before a colon: capture words and the
// short function words around them, in the languages we read (en, de, fr,
// es), and the prompts of cmd's date and time commands ("The current date
// is:", "Aktuelles Datum:", "La date du jour est :").
var captureLabelWords = map[string]bool{
	"collected": true, "collection": true, "captured": true, "capture": true, "snapshot": true,
	"taken": true, "timestamp": true, "date": true, "time": true, "datetime": true, "start": true,
	"started": true, "end": true, "ended": true, "finished": true, "run": true, "generated": true,
	"now": true, "current": true, "the": true, "is": true, "at": true, "on": true, "of": true,
	"erfasst": true, "erstellt": true, "gesammelt": true, "zeitstempel": true, "datum": true,
	"zeit": true, "uhrzeit": true, "aktuelles": true, "aktuelle": true, "beginn": true, "ende": true, "am": true, "um": true,
	"collecté": true, "collectée": true, "horodatage": true, "heure": true, "début": true, "fin": true,
	"le": true, "la": true, "du": true, "jour": true, "est": true, "actuelle": true,
	"fecha": true, "hora": true, "inicio": true, "del": true, "recopilado": true, "actual": true, "es": true,
}

// stampLine reads a line that holds a timestamp alone, as collector
// scripts write it above or below a command's output: cmd `echo %date%
// %time%` (en-US "Thu 11/20/2026  8:12:33.45", de "20.11.2026
// 8:12:33,45", fr "20/11/2026  8:12:33,45", ISO "2026-11-20  8:12:33.45"),
// PowerShell Get-Date ("Thursday, November 20, 2026 8:12:33 AM", de
// "Donnerstag, 20. November 2026 08:12:33") and Get-Date -Format o
// ("2026-11-20T08:12:33.4512345-05:00"). A prompt (C:\case> or PS
// C:\case>, with an optional echo) or a label made of captureLabelWords
// ("Collected at:") may come first. A line with anything else on it (a
// data row, an XML element, a systeminfo field) is not a timestamp line.
// It returns the stamp even when it is only a date or only a time (date
// /t and time /t); stamp.time turns it into a time.
func stampLine(line string) (stamp, bool) {
	s := strings.TrimSpace(line)
	s = stripPrompt(s)
	if i := strings.IndexByte(s, ':'); i > 0 && strings.IndexFunc(s[:i], unicode.IsDigit) < 0 {
		if !isCaptureLabel(s[:i]) {
			return stamp{}, false
		}
		s = strings.TrimSpace(s[i+1:])
	}
	if s == "" || len(s) > 80 {
		return stamp{}, false
	}
	st, err := parseStamp(s, false)
	if err != nil || st.hasDate && (st.y < 1990 || st.y > 2100) {
		return stamp{}, false
	}
	return st, true
}

// stripPrompt removes a cmd or PowerShell prompt and an echo command
// before the text they print.
func stripPrompt(s string) string {
	t := strings.TrimPrefix(s, "PS ")
	if len(t) >= 3 && t[1] == ':' && t[2] == '\\' && (t[0]|0x20 >= 'a' && t[0]|0x20 <= 'z') {
		if i := strings.IndexByte(t, '>'); i > 0 {
			s = strings.TrimSpace(t[i+1:])
		}
	}
	if len(s) > 5 && strings.EqualFold(s[:5], "echo ") {
		s = strings.TrimSpace(s[5:])
	}
	return s
}

func isCaptureLabel(label string) bool {
	words := strings.FieldsFunc(strings.ToLower(label), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '-' || r == '_'
	})
	if len(words) == 0 || len(words) > 5 {
		return false
	}
	for _, w := range words {
		if !captureLabelWords[w] {
			return false
		}
	}
	return true
}

// headCapture is a capture time found at the top of a text artifact.
type headCapture struct {
	st   stamp
	line int
	text string
}

// findHeadCapture looks for the first timestamp line in the decoded head
// of an artifact. complete says whether head is the whole artifact; if
// not, its last line may be cut and is not read. A date alone (date /t)
// followed within two lines by a time alone (time /t) counts as one.
func findHeadCapture(head []byte, complete bool) (headCapture, bool) {
	text := string(head)
	if !complete {
		if i := strings.LastIndexByte(text, '\n'); i >= 0 {
			text = text[:i]
		} else {
			return headCapture{}, false
		}
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		st, ok := stampLine(strings.TrimSuffix(l, "\r"))
		if !ok || !st.hasDate {
			continue
		}
		if st.hasTime {
			return headCapture{st: st, line: i + 1, text: strings.TrimSpace(l)}, true
		}
		for j := i + 1; j < len(lines) && j <= i+2; j++ {
			tt, ok := stampLine(strings.TrimSuffix(lines[j], "\r"))
			if !ok || tt.hasDate || !tt.hasTime {
				continue
			}
			st.hasTime, st.hh, st.mm, st.ss, st.ns, st.clock12, st.pm = true, tt.hh, tt.mm, tt.ss, tt.ns, tt.clock12, tt.pm
			return headCapture{st: st, line: i + 1, text: strings.TrimSpace(l) + " " + strings.TrimSpace(lines[j])}, true
		}
	}
	return headCapture{}, false
}

// localeOrder returns the day/month order of a locale as parsers report
// it ("en", "de", "en-us" …): month/day for en-US, day/month for the
// other languages, unknown for bare English (en-US or en-GB?).
func localeOrder(locale string) int {
	switch l := strings.ToLower(locale); {
	case l == "":
		return orderUnknown
	case l == "en-us":
		return orderMDY
	case l == "en":
		return orderUnknown
	}
	return orderDMY
}

func orderName(order int) string {
	if order == orderMDY {
		return "month/day"
	}
	return "day/month"
}

// fileNameStamps are the date-time patterns of collector file names:
// compact (netstat_20261120_081233.txt, 20261120-0812_netstat.log,
// 20261120T081233) and dashed (netstat-2026-11-20T08-12-33.txt,
// 2026-11-20_08.12.33, 2026-11-20 08h12).
var fileNameStamps = []*regexp.Regexp{
	regexp.MustCompile(`(?:^|[^0-9])((?:19|20|21)[0-9]{2})([01][0-9])([0-3][0-9])[T_-]?([0-2][0-9])([0-5][0-9])([0-5][0-9])?(?:[^0-9]|$)`),
	regexp.MustCompile(`(?:^|[^0-9])((?:19|20|21)[0-9]{2})-([01][0-9])-([0-3][0-9])[T_ .-]([0-2][0-9])[-.:h]([0-5][0-9])(?:[-.:m]([0-5][0-9]))?(?:[^0-9]|$)`),
}

// FileNameTime reads the date and time a collector wrote into a file
// name: netstat_20261120_081233.txt, netstat-2026-11-20T08-12-33.txt,
// 20261120-0812_netstat.log. The time is the host's wall clock, stored
// with the UTC location (collectors name files after local time; a
// trailing Z is not interpreted). A date without a time of day is not
// enough and gives false. Only the base name is read.
func FileNameTime(name string) (time.Time, bool) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	for _, re := range fileNameStamps {
		for _, m := range re.FindAllStringSubmatch(name, -1) {
			y, _ := strconv.Atoi(m[1])
			mo, _ := strconv.Atoi(m[2])
			d, _ := strconv.Atoi(m[3])
			h, _ := strconv.Atoi(m[4])
			mi, _ := strconv.Atoi(m[5])
			s := 0
			if m[6] != "" {
				s, _ = strconv.Atoi(m[6])
			}
			if y < 1990 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 {
				continue
			}
			return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC), true
		}
	}
	return time.Time{}, false
}

// cellWidth is the number of console cells a rune takes: two for East
// Asian wide characters (systeminfo aligns its Chinese and Japanese
// labels in cells, not runes), one otherwise.
func cellWidth(r rune) int {
	switch {
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF && r != 0x303F,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6:
		return 2
	}
	return 1
}

// cellOffset returns the byte offset of console cell col in s, or -1 when
// s is shorter or a wide rune straddles col.
func cellOffset(s string, col int) int {
	w := 0
	for i, r := range s {
		if w == col {
			return i
		}
		if w > col {
			return -1
		}
		w += cellWidth(r)
	}
	if w == col {
		return len(s)
	}
	return -1
}

// cellOffsetBytes is cellOffset for Sniff, which must not allocate.
func cellOffsetBytes(b []byte, col int) int {
	w := 0
	for i := 0; i < len(b); {
		if w == col {
			return i
		}
		if w > col {
			return -1
		}
		r, n := utf8.DecodeRune(b[i:])
		w += cellWidth(r)
		i += n
	}
	if w == col {
		return len(b)
	}
	return -1
}
