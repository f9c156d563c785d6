package parsers

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// systeminfo reads the output of Windows `systeminfo` in any UI language:
// the default list form (`Label:   value`, values aligned in one column,
// multi-valued fields such as Hotfix(s) and Network Card(s) continued on
// indented lines) and `/fo csv` (a row of labels unless /nh, then one row
// of values a host; multi-valued fields joined with commas). `/fo table`
// is not read: no capture of it was found.
//
// It yields one Meta record per host: host name, OS name and version,
// domain, boot time (or, on Windows XP/2003, the up time), time zone and
// its UTC offset, and the IP addresses of the network cards.
//
// Labels are matched in English, French, Spanish, Chinese and German
// (sources in testdata/systeminfo/SOURCES.md). Where a label is unknown
// (another language, or a label damaged by a wrong code page) the field is
// recognised by structure: systeminfo prints its fields in a fixed order,
// the same in every language and from Windows XP to 11, and the fields we
// keep have recognisable values (an OS version "10.0.17763 N/A Build
// 17763" repeats its build number; a zone starts "(UTC+01:00)" or
// "(GMT+01:00)"). A list-form field's value starts at the block's value
// column (counted in console cells: Chinese labels are two cells a
// character), so labels that hold a colon themselves ("Virtual Memory: Max
// Size:") still split right.
type systeminfo struct{}

func (systeminfo) Format() Format { return FormatSysteminfo }
func (systeminfo) Version() int   { return 1 }

// Sniff reports whether head holds a systeminfo field whose value is an
// OS version (a build number repeated at the end) with at least four more
// fields aligned on the same value column, or a CSV row whose third field
// is such a version. It looks at shapes only, not at the localized labels.
func (systeminfo) Sniff(head []byte) bool {
	col := -1
	for rest := head; len(rest) > 0 && col < 0; {
		var line []byte
		line, rest = cutHeadLine(rest)
		if len(line) > 0 && line[0] == '"' {
			if f, ok := csvQuotedField(line, 2); ok && isOSVersion(f) {
				return true
			}
			continue
		}
		col = sniffVersionColumn(line)
	}
	if col < 0 {
		return false
	}
	n := 0
	for rest := head; len(rest) > 0; {
		var line []byte
		line, rest = cutHeadLine(rest)
		if _, ok := valueAtCol(line, col); ok {
			n++
		}
	}
	return n >= 5
}

// cutHeadLine returns the first line of b, without CR, and the rest.
func cutHeadLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			line, rest = b[:i], b[i+1:]
			break
		}
	}
	if line == nil && rest == nil {
		line = b
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// sniffVersionColumn returns the value column (in console cells) of a
// field line whose value is an OS version, or -1.
func sniffVersionColumn(line []byte) int {
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return -1
	}
	for i := 0; i+1 < len(line); i++ {
		if line[i] != ':' || line[i+1] != ' ' {
			continue
		}
		j := i + 1
		for j < len(line) && line[j] == ' ' {
			j++
		}
		if j < len(line) && isOSVersion(line[j:]) {
			w := 0
			for k := 0; k < j; {
				r, n := utf8.DecodeRune(line[k:])
				w += cellWidth(r)
				k += n
			}
			return w
		}
	}
	return -1
}

// valueAtCol returns the value of a field line whose value starts at
// console cell col after "label:" and blanks.
func valueAtCol(line []byte, col int) ([]byte, bool) {
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return nil, false
	}
	off := cellOffsetBytes(line, col)
	if off <= 1 || off >= len(line) || line[off-1] != ' ' || line[off] == ' ' {
		return nil, false
	}
	k := off - 1
	for k > 0 && line[k] == ' ' {
		k--
	}
	if line[k] != ':' {
		return nil, false
	}
	return line[off:], true
}

// csvQuotedField returns field n (from 0) of a line of quoted CSV fields,
// without its quotes (doubled quotes are left as they are).
func csvQuotedField(line []byte, n int) ([]byte, bool) {
	i := 0
	for k := 0; ; k++ {
		if i >= len(line) || line[i] != '"' {
			return nil, false
		}
		start := i + 1
		j := start
		for {
			if j >= len(line) {
				return nil, false
			}
			if line[j] == '"' {
				if j+1 < len(line) && line[j+1] == '"' {
					j += 2
					continue
				}
				break
			}
			j++
		}
		if k == n {
			return line[start:j], true
		}
		i = j + 1
		if i >= len(line) || line[i] != ',' {
			return nil, false
		}
		i++
	}
}

// isOSVersion reports the shape of systeminfo's OS Version value:
// major.minor.build, a blank, anything, and the build number again at the
// end ("10.0.17763 N/A Build 17763", "5.2.3790 Service Pack 2 Build 3790",
// "6.3.9600 N/D Compilación 9600", "10.0.22000 暂缺 Build 22000").
func isOSVersion[T string | []byte](v T) bool {
	n := len(v)
	for n > 0 && (v[n-1] == ' ' || v[n-1] == '\t' || v[n-1] == '\r') {
		n--
	}
	i, ok := digitRun(v, 0, n, 1, 2)
	if !ok || i >= n || v[i] != '.' {
		return false
	}
	if i, ok = digitRun(v, i+1, n, 1, 2); !ok || i >= n || v[i] != '.' {
		return false
	}
	build := i + 1
	if i, ok = digitRun(v, build, n, 3, 5); !ok || i >= n || v[i] != ' ' {
		return false
	}
	blen := i - build
	j := n
	for j > i && v[j-1] >= '0' && v[j-1] <= '9' {
		j--
	}
	if n-j != blen || v[j-1] != ' ' {
		return false
	}
	for k := 0; k < blen; k++ {
		if v[j+k] != v[build+k] {
			return false
		}
	}
	return true
}

// digitRun returns the end of a run of min to max ASCII digits at i.
func digitRun[T string | []byte](v T, i, n, min, max int) (int, bool) {
	j := i
	for j < n && j-i < max && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	if j-i < min || j < n && v[j] >= '0' && v[j] <= '9' {
		return j, false
	}
	return j, true
}

// sysKey names the systeminfo fields we keep.
type sysKey int

const (
	sysNone sysKey = iota
	sysHost
	sysOSName
	sysOSVersion
	sysInstall
	sysBoot
	sysUptime
	sysSysLocale
	sysInputLocale
	sysTimeZone
	sysDomain
	sysNICs
	sysKeys
)

// sysPos is the place of a field in systeminfo's fixed order (1 = Host
// Name … 32 = Network Card(s)), the same from Windows XP to 11: XP/2003
// print "System Up Time" where later versions print "System Boot Time",
// and "Page File: …" where they print "Virtual Memory: …".
func sysPos(k sysKey) int {
	switch k {
	case sysHost:
		return 1
	case sysOSName:
		return 2
	case sysOSVersion:
		return 3
	case sysInstall:
		return 10
	case sysBoot, sysUptime:
		return 11
	case sysSysLocale:
		return 20
	case sysInputLocale:
		return 21
	case sysTimeZone:
		return 22
	case sysDomain:
		return 29
	case sysNICs:
		return 32
	}
	return 0
}

// sysinfoLabels are the labels of the fields we keep, lower-cased, with
// typographic apostrophes made plain. Sources (testdata/systeminfo/SOURCES.md):
// en from jc's fixtures (Windows 7, 10, 2012 R2) and a Windows Server 2003
// capture; fr from a Windows 10 capture; es from Windows Server 2008 and
// 2012 R2 captures; zh from Windows 10, Server 2012 R2 and 2016 captures;
// de from fragments only (a Windows 10 capture's OS lines, collector
// scripts matching Systemstartzeit, Systemgebietsschema, Dom?ne and
// Ursprüngliches Installationsdatum; Hostname, Zeitzone and
// Netzwerkkarte(n) are unverified).
var sysinfoLabels = []struct {
	label string
	key   sysKey
	lang  string
}{
	{"host name", sysHost, "en"}, {"os name", sysOSName, "en"}, {"os version", sysOSVersion, "en"},
	{"original install date", sysInstall, "en"}, {"system boot time", sysBoot, "en"},
	{"system up time", sysUptime, "en"}, {"system locale", sysSysLocale, "en"},
	{"input locale", sysInputLocale, "en"}, {"time zone", sysTimeZone, "en"},
	{"domain", sysDomain, "en"}, {"network card(s)", sysNICs, "en"},

	{"nom de l'hôte", sysHost, "fr"}, {"nom du système d'exploitation", sysOSName, "fr"},
	{"version du système", sysOSVersion, "fr"}, {"date d'installation originale", sysInstall, "fr"},
	{"heure de démarrage du système", sysBoot, "fr"}, {"option régionale du système", sysSysLocale, "fr"},
	{"paramètres régionaux d'entrée", sysInputLocale, "fr"}, {"fuseau horaire", sysTimeZone, "fr"},
	{"domaine", sysDomain, "fr"}, {"carte(s) réseau", sysNICs, "fr"},

	{"nombre de host", sysHost, "es"}, {"nombre del sistema operativo", sysOSName, "es"},
	{"versión del sistema operativo", sysOSVersion, "es"}, {"fecha de instalación original", sysInstall, "es"},
	{"tiempo de arranque del sistema", sysBoot, "es"}, {"configuración regional del sistema", sysSysLocale, "es"},
	{"idioma de entrada", sysInputLocale, "es"}, {"zona horaria", sysTimeZone, "es"},
	{"dominio", sysDomain, "es"}, {"tarjeta(s) de red", sysNICs, "es"},

	{"主机名", sysHost, "zh"}, {"os 名称", sysOSName, "zh"}, {"os 版本", sysOSVersion, "zh"},
	{"初始安装日期", sysInstall, "zh"}, {"系统启动时间", sysBoot, "zh"}, {"系统区域设置", sysSysLocale, "zh"},
	{"输入法区域设置", sysInputLocale, "zh"}, {"时区", sysTimeZone, "zh"}, {"域", sysDomain, "zh"},
	{"网卡", sysNICs, "zh"},

	{"hostname", sysHost, "de"}, {"betriebssystemname", sysOSName, "de"},
	{"betriebssystemversion", sysOSVersion, "de"}, {"ursprüngliches installationsdatum", sysInstall, "de"},
	{"systemstartzeit", sysBoot, "de"}, {"systemgebietsschema", sysSysLocale, "de"},
	{"zeitzone", sysTimeZone, "de"}, {"domäne", sysDomain, "de"}, {"netzwerkkarte(n)", sysNICs, "de"},
}

// sysLabel returns the field a label names, and its language.
func sysLabel(label string) (sysKey, string) {
	l := strings.ToLower(strings.Join(strings.Fields(label), " "))
	l = strings.ReplaceAll(strings.ReplaceAll(l, "’", "'"), "‘", "'")
	for _, e := range sysinfoLabels {
		if e.label == l {
			return e.key, e.lang
		}
	}
	return sysNone, ""
}

// sysFacts gathers the facts of one host (one list block or CSV row).
type sysFacts struct {
	start     int
	lang      string
	anchored  bool // a known label or an OS version: this is systeminfo
	host      string
	osName    string
	osVersion string
	domain    string
	locale    string // System Locale code: en-us, fr, es-mx
	tz        string
	tzOff     time.Duration
	hasTZ     bool
	boot      stamp
	bootRaw   string
	bootLine  int
	hasBoot   bool
	install   stamp
	hasInst   bool
	uptime    time.Duration
	addrs     []netip.Addr
}

// sysinfoParser holds the state of one Parse: the list block being read
// and the CSV header.
type sysinfoParser struct {
	yield   func(Record, error) bool
	stopped bool

	in   bool     // inside a list block
	f    sysFacts // its facts
	col  int      // its value column in console cells, 0 until known
	pos  int      // place of the current field in systeminfo's order
	cur  sysKey   // the current field, for its continuation lines
	seen [sysKeys]bool

	csvKeys []sysKey // columns of the CSV header, nil without one
	csvLang string
}

// Parse yields one Meta record per host, after the ParseErrors of its
// fields (a boot time, up time, zone or address that cannot be read).
func (systeminfo) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		p := &sysinfoParser{yield: yield}
		p.run(ctx, r)
	}
}

func (p *sysinfoParser) emit(rec Record, err error) bool {
	if p.stopped {
		return false
	}
	if !p.yield(rec, err) {
		p.stopped = true
	}
	return !p.stopped
}

// fail reports a field that cannot be read; an unterminated last line is
// a file cut in the middle of it.
func (p *sysinfoParser) fail(line int, last bool, format string, args ...any) bool {
	err := fmt.Errorf(format, args...)
	if last {
		err = fmt.Errorf("%w: %w", ErrTruncated, err)
	}
	return p.emit(Record{}, &ParseError{Format: FormatSysteminfo, Line: line, Err: err})
}

func (p *sysinfoParser) run(ctx context.Context, r io.Reader) {
	sc := newLineScanner(r)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			p.emit(Record{}, &ParseError{Format: FormatSysteminfo, Line: sc.line, Err: err})
			return
		}
		if sc.long {
			if !p.fail(sc.line, false, "line longer than %d bytes", maxLine) {
				return
			}
			continue
		}
		if !p.line(sc.text, sc.line, sc.err == io.EOF) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		if !p.endBlock() {
			return
		}
		p.emit(Record{}, &ParseError{Format: FormatSysteminfo, Line: sc.line + 1, Err: err})
		return
	}
	p.endBlock()
}

// line handles one line; last marks an unterminated last line.
func (p *sysinfoParser) line(line string, n int, last bool) bool {
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "":
		return p.endBlock()
	case line[0] == '"':
		return p.endBlock() && p.csvRow(line, n, last)
	case line[0] == ' ' || line[0] == '\t':
		return p.continuation(trimmed, n, last)
	}
	if _, ok := itemValue(trimmed); ok {
		// A list item that lost its indent on the way (seen in copies).
		return p.continuation(trimmed, n, last)
	}
	label, value, col, ok := p.splitField(line)
	if !ok {
		return p.endBlock() // a prompt, a timestamp, other output
	}
	key, lang := sysLabel(label)
	if key != sysNone && p.in && p.seen[key] {
		if !p.endBlock() { // the next host
			return false
		}
	}
	if !p.in {
		p.in, p.f, p.col, p.pos, p.seen = true, sysFacts{start: n}, 0, 0, [sysKeys]bool{}
	}
	if p.col == 0 && value != "" {
		p.col = col
	}
	if key != sysNone {
		p.pos = sysPos(key)
		p.f.anchored = true
		if p.f.lang == "" {
			p.f.lang = lang
		}
	} else {
		p.pos++
		key = sysKeyAt(p.pos, value)
	}
	if p.seen[key] {
		key = sysNone
	}
	p.cur = key
	p.seen[key] = true
	return p.apply(&p.f, key, value, n, last)
}

// splitField splits a field line at the block's value column, or else at
// the first colon followed by a blank or the end of the line. col is the
// value column the line shows.
func (p *sysinfoParser) splitField(line string) (label, value string, col int, ok bool) {
	if p.in && p.col > 0 {
		if off := cellOffset(line, p.col); off > 1 && line[off-1] == ' ' {
			head := strings.TrimRight(line[:off], " \t")
			if l, found := strings.CutSuffix(head, ":"); found && strings.TrimSpace(l) != "" {
				return strings.TrimSpace(l), strings.TrimSpace(line[off:]), p.col, true
			}
		}
	}
	for i := 0; i < len(line); i++ {
		if line[i] != ':' || i+1 < len(line) && line[i+1] != ' ' && line[i+1] != '\t' {
			continue
		}
		label = strings.TrimSpace(line[:i])
		if label == "" || strings.ContainsAny(label, `\>"<=`) || strings.IndexFunc(label, unicode.IsLetter) < 0 || len(label) > 120 {
			return "", "", 0, false
		}
		j := i + 1
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		w := 0
		for _, r := range line[:j] {
			w += cellWidth(r)
		}
		return label, strings.TrimSpace(line[j:]), w, true
	}
	return "", "", 0, false
}

// sysKeyAt recognises an unknown label's field by its place and value.
func sysKeyAt(pos int, value string) sysKey {
	switch {
	case isTimeZoneValue(value):
		return sysTimeZone
	case pos == 1 && value != "" && !strings.ContainsAny(value, " \t:"):
		return sysHost
	case pos == 2 && value != "":
		return sysOSName
	case pos == 3 && isOSVersion(value):
		return sysOSVersion
	case pos == 10 || pos == 11:
		if st, err := parseStamp(value, true); err == nil && st.hasDate && st.hasTime {
			if pos == 10 {
				return sysInstall
			}
			return sysBoot
		}
		if _, ok := parseUptime(value); ok && pos == 11 {
			return sysUptime
		}
	case pos == 20 && localeCode(value) != "":
		return sysSysLocale
	case pos == 29 && value != "" && !strings.ContainsAny(value, " \t:"):
		return sysDomain
	case pos == 32:
		return sysNICs
	}
	return sysNone
}

// apply keeps the value of a field.
func (p *sysinfoParser) apply(f *sysFacts, key sysKey, value string, n int, last bool) bool {
	switch key {
	case sysHost:
		f.host = value
	case sysOSName:
		f.osName = value
	case sysOSVersion:
		f.osVersion = value
		f.anchored = f.anchored || isOSVersion(value)
	case sysDomain:
		f.domain = value
	case sysInstall:
		if st, err := parseStamp(value, true); err == nil && st.hasDate {
			f.install, f.hasInst = st, true
		}
	case sysBoot:
		st, err := parseStamp(value, true)
		if err == nil && (!st.hasDate || !st.hasTime) {
			err = fmt.Errorf("want a date and a time")
		}
		if err == nil && !st.ambiguous() {
			// Only a date whose day and month could be swapped waits for
			// the block's evidence, and it is valid either way.
			_, _, err = st.time(orderUnknown)
		}
		if err != nil {
			return p.fail(n, last, "system boot time %q: %v", value, err)
		}
		f.boot, f.bootRaw, f.bootLine, f.hasBoot = st, value, n, true
	case sysUptime:
		d, ok := parseUptime(value)
		if !ok {
			return p.fail(n, last, "system up time %q: want days, hours, minutes and seconds", value)
		}
		f.uptime = d
	case sysSysLocale:
		f.locale = localeCode(value)
	case sysInputLocale:
		if f.locale == "" {
			f.locale = localeCode(value)
		}
	case sysTimeZone:
		f.tz = value
		off, ok, bad := parseTimeZone(value)
		if bad {
			return p.fail(n, last, "time zone %q: bad UTC offset", value)
		}
		f.tzOff, f.hasTZ = off, ok
	}
	return true
}

// continuation reads an indented line of the current field: only the
// address items of Network Card(s) are kept.
func (p *sysinfoParser) continuation(trimmed string, n int, last bool) bool {
	if !p.in || p.cur != sysNICs {
		return true
	}
	return p.nicItem(&p.f, trimmed, n, last)
}

// nicItem keeps an "[NN]: address" item of Network Card(s); the other
// items name the cards and their settings.
func (p *sysinfoParser) nicItem(f *sysFacts, item string, n int, last bool) bool {
	v, ok := itemValue(item)
	if !ok {
		return true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		if looksLikeIP(v) {
			return p.fail(n, last, "network card address %q: %v", v, err)
		}
		return true // a card's name
	}
	for _, b := range f.addrs {
		if b == a {
			return true
		}
	}
	f.addrs = append(f.addrs, a)
	return true
}

// itemValue returns x of a list item "[NN]: x" (fr: "[01] : x").
func itemValue(s string) (string, bool) {
	if len(s) < 4 || s[0] != '[' {
		return "", false
	}
	end := strings.IndexByte(s, ']')
	if end < 2 || !allDigits(s[1:end]) {
		return "", false
	}
	rest := strings.TrimLeft(s[end+1:], " ")
	v, ok := strings.CutPrefix(rest, ":")
	if !ok {
		return "", false
	}
	return strings.TrimSpace(v), true
}

// looksLikeIP reports text made of the characters of an IP address, with
// a dot or a colon: what a card's address item holds, even when damaged.
func looksLikeIP(s string) bool {
	if s == "" || !strings.ContainsAny(s, ".:") {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':', c == '%':
		default:
			return false
		}
	}
	return digit
}

// parseUptime reads "0 Days, 23 Hours, 54 Minutes, 7 Seconds" (the words
// may be in any language).
func parseUptime(v string) (time.Duration, bool) {
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return 0, false
	}
	var n [4]int
	for i, part := range parts {
		f := strings.Fields(part)
		if len(f) != 2 || strings.IndexFunc(f[1], unicode.IsLetter) < 0 {
			return 0, false
		}
		d, ok := psDigitsMax(f[0], 6)
		if !ok {
			return 0, false
		}
		n[i] = d
	}
	if n[1] > 23 || n[2] > 59 || n[3] > 59 {
		return 0, false
	}
	return time.Duration(n[0])*24*time.Hour + time.Duration(n[1])*time.Hour +
		time.Duration(n[2])*time.Minute + time.Duration(n[3])*time.Second, true
}

// isTimeZoneValue reports a zone display name: "(UTC-05:00) …",
// "(GMT+02:00) …", "(UTC) …", "(GMT) …".
func isTimeZoneValue(v string) bool {
	_, ok, _ := parseTimeZone(v)
	return ok
}

// parseTimeZone returns the standard UTC offset a zone display name starts
// with. bad is set for a name that starts like one but cannot be read.
func parseTimeZone(v string) (off time.Duration, ok, bad bool) {
	var rest string
	var found bool
	if rest, found = strings.CutPrefix(v, "(UTC"); !found {
		if rest, found = strings.CutPrefix(v, "(GMT"); !found {
			return 0, false, false
		}
	}
	inner, _, closed := strings.Cut(rest, ")")
	if !closed {
		return 0, false, true
	}
	if inner == "" {
		return 0, true, false
	}
	secs, good := parseOffset(inner)
	if !good || !strings.Contains(inner, ":") {
		return 0, false, true
	}
	return time.Duration(secs) * time.Second, true, false
}

// localeCode returns the code of a locale value, "en-us;English (United
// States)" → "en-us".
func localeCode(v string) string {
	code, _, ok := strings.Cut(v, ";")
	if !ok || len(code) < 2 || len(code) > 12 {
		return ""
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return ""
		}
	}
	return strings.ToLower(code)
}

// endBlock emits the Meta of the list block being read, if it is one.
func (p *sysinfoParser) endBlock() bool {
	if p.stopped {
		return false
	}
	if !p.in {
		return true
	}
	p.in, p.cur = false, sysNone
	f := p.f
	p.f = sysFacts{}
	if !f.anchored {
		return true
	}
	return p.finish(&f, "list")
}

// finish resolves the boot time and emits the host's Meta.
func (p *sysinfoParser) finish(f *sysFacts, variant string) bool {
	sys := &SystemFacts{
		OSName: f.osName, OSVersion: f.osVersion, Domain: f.domain, Uptime: f.uptime,
		TimeZone: f.tz, UTCOffset: f.tzOff, HasUTCOffset: f.hasTZ, Addresses: f.addrs,
	}
	m := &Meta{Locale: f.lang, Variant: variant, Host: f.host, System: sys}
	if f.hasBoot {
		order := f.boot.evidence()
		if order == orderUnknown && f.hasInst {
			order = f.install.evidence() // printed in the same format
		}
		if order == orderUnknown && f.boot.ambiguous() {
			reason := ""
			if order = localeOrder(f.locale); order != orderUnknown {
				reason = "the system locale " + f.locale
			} else {
				order, reason = f.boot.guessOrder()
			}
			m.Note = fmt.Sprintf("boot time %q read as %s: %s", f.bootRaw, orderName(order), reason)
		}
		t, _, err := f.boot.time(order)
		if err != nil {
			if !p.emit(Record{}, &ParseError{Format: FormatSysteminfo, Line: f.bootLine,
				Err: fmt.Errorf("system boot time %q: %w", f.bootRaw, err)}) {
				return false
			}
			m.Note = ""
		} else {
			sys.BootTime, sys.BootTimeLocal = t, true
		}
	}
	return p.emit(Record{Kind: KindMeta, Line: f.start, Meta: m}, nil)
}

// csvRow reads a line of `systeminfo /fo csv`: the header (labels) or a
// host's row, whose third field is the OS version.
func (p *sysinfoParser) csvRow(line string, n int, last bool) bool {
	rd := csv.NewReader(strings.NewReader(line))
	rd.FieldsPerRecord = -1
	fields, err := rd.Read()
	versionAt2 := false
	if f, ok := csvQuotedField([]byte(line), 2); ok && isOSVersion(f) {
		versionAt2 = true
	}
	if err != nil {
		if versionAt2 || p.csvKeys != nil {
			return p.fail(n, last, "csv row: %v", err)
		}
		return true
	}
	if !versionAt2 {
		keys, lang, known := make([]sysKey, len(fields)), "", 0
		for i, f := range fields {
			if k, l := sysLabel(f); k != sysNone {
				keys[i], known = k, known+1
				if lang == "" {
					lang = l
				}
			}
		}
		switch {
		case known >= 3 || len(fields) >= 20:
			p.csvKeys, p.csvLang = keys, lang
		case p.csvKeys != nil:
			return p.fail(n, last, "csv row without an OS version in its third field")
		}
		return true
	}
	f := sysFacts{start: n, lang: p.csvLang, anchored: true}
	var seen [sysKeys]bool
	for i, v := range fields {
		key := sysNone
		if i < len(p.csvKeys) {
			key = p.csvKeys[i]
		}
		if key == sysNone {
			key = sysKeyAt(i+1, v)
		}
		if key == sysNone || seen[key] {
			continue
		}
		seen[key] = true
		if key == sysNICs {
			for _, item := range strings.Split(v, ",") {
				if !p.nicItem(&f, strings.TrimSpace(item), n, last) {
					return false
				}
			}
			continue
		}
		if !p.apply(&f, key, v, n, last) {
			return false
		}
	}
	if len(p.csvKeys) > 0 && len(fields) < len(p.csvKeys) {
		if !p.fail(n, last, "csv row has %d fields, the header %d", len(fields), len(p.csvKeys)) {
			return false
		}
	}
	return p.finish(&f, "csv")
}
