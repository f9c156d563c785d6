package parsers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// netstat reads Windows `netstat -an`, `-ano`, `-anob`, `-anb`, `-anoq` and
// `-a` output in any UI language (DOMAIN.md §7.1–7.4, corpus/FORMATS.md §1).
//
// Rows are split on runs of white space, never by column: long IPv6 rows
// overflow the column grid. A row is `proto local foreign [state] [pid]`;
// UDP rows have no state. With -b, the lines after a row belong to it:
// component (service) lines indented by two spaces, then ` [image.exe]`, or
// an owner line such as ` Can not obtain ownership information`.
//
// Titles, headers, blank lines, prompts and other chatter are not data and
// are passed over; they only tell the locale. A line that starts like a row
// (TCP or UDP) but cannot be read is a *ParseError. The last record is a
// Meta with the locale and the command variant inferred from the rows.
type netstat struct{}

func (netstat) Format() Format { return FormatNetstat }
func (netstat) Version() int   { return 1 }

// maxOwnerLines bounds the -b lines kept for one socket.
const maxOwnerLines = 64

// maxStateWords bounds the words of a TCP state: some locales are said to
// use two words (Italian "IN ASCOLTO", in third-party tests only).
const maxStateWords = 3

// Sniff reports whether a line of head reads as a netstat row: TCP or UDP,
// two endpoints, then a state and a PID as the protocol allows. It looks
// at structure only, since titles and headers are localized.
func (netstat) Sniff(head []byte) bool {
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if sniffNetstatRow(line) {
			return true
		}
	}
	return false
}

func sniffNetstatRow(line []byte) bool {
	var f [6][]byte
	n := 0
	for i := 0; i < len(line); {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && !isBlank(line[j]) {
			j++
		}
		if n == len(f) {
			return false
		}
		f[n] = line[i:j]
		n++
		i = j
	}
	if n < 3 || !sniffEndpoint(f[1]) || !sniffEndpoint(f[2]) {
		return false
	}
	switch string(f[0]) {
	case "TCP":
		return (n == 4 || n == 5 && allDigits(f[4])) && !allDigits(f[3])
	case "UDP":
		return n == 3 || n == 4 && allDigits(f[3])
	}
	return false
}

// sniffEndpoint reports whether tok looks like host:port, [v6]:port or *:*.
func sniffEndpoint(tok []byte) bool {
	i := bytes.LastIndexByte(tok, ':')
	if i <= 0 || i == len(tok)-1 {
		return false
	}
	host, port := tok[:i], tok[i+1:]
	if host[0] == '[' {
		if len(host) < 3 || host[len(host)-1] != ']' {
			return false
		}
	} else if bytes.ContainsAny(host, "[]") {
		return false
	}
	for _, c := range port {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.' || c == '*') {
			return false
		}
	}
	return true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// Parse yields one Socket record per row, in order, then Meta records:
// notes (unknown or damaged state words, no -a) and the locale and variant.
func (netstat) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		p := &netstatParser{yield: yield}
		p.run(ctx, r)
	}
}

// netstatParser holds the state of one Parse: the row waiting for its -b
// owner lines and the evidence for the final Meta records.
type netstatParser struct {
	yield   func(Record, error) bool
	stopped bool

	pending    *Socket // the last row, until its owner lines are read
	pendingAt  int
	ownerLines int

	// Evidence.
	rows           int
	sawAll         bool // a listener or a UDP row: -a
	sawName        bool // a host or port name: no -n
	sawPID         bool // -o
	sawOwner       bool // -b: owner lines (not the elevation message)
	sawBound       bool // -q
	titleLocale    string
	stateLocale    string
	unknown        []unknownState
	damaged        string // first code-page-damaged state word
	damagedAt      int
	firstUnknownAt int
}

type unknownState struct {
	word  string
	line  int
	count int
}

// maxUnknownStates bounds the distinct unknown state words listed.
const maxUnknownStates = 8

func (p *netstatParser) emit(rec Record, err error) bool {
	if p.stopped {
		return false
	}
	if !p.yield(rec, err) {
		p.stopped = true
	}
	return !p.stopped
}

func (p *netstatParser) fail(line int, format string, args ...any) bool {
	return p.emit(Record{}, lineError(FormatNetstat, line, format, args...))
}

// flush emits the row waiting for owner lines.
func (p *netstatParser) flush() bool {
	if p.pending == nil {
		return !p.stopped
	}
	s, at := p.pending, p.pendingAt
	p.pending = nil
	return p.emit(Record{Kind: KindSocket, Line: at, Socket: s}, nil)
}

func (p *netstatParser) run(ctx context.Context, r io.Reader) {
	sc := newLineScanner(r)
	var f [8]string
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			p.flush()
			p.emit(Record{}, &ParseError{Format: FormatNetstat, Line: sc.line, Err: err})
			return
		}
		if sc.long {
			if !p.flush() || !p.fail(sc.line, "line longer than %d bytes", maxLine) {
				return
			}
			continue
		}
		line := sc.text
		fields, extra := splitFields(line, f[:0])
		if len(fields) == 0 {
			if !p.flush() {
				return
			}
			continue
		}
		if isNetstatRowStart(line, fields) {
			if !p.flush() {
				return
			}
			if extra {
				if !p.fail(sc.line, "row has too many fields") {
					return
				}
				continue
			}
			s, err := p.parseRow(fields, sc.line)
			if err != nil {
				// An unterminated last line that does not read is a
				// file cut in the middle of a row.
				if sc.err == io.EOF {
					err = fmt.Errorf("%w: %w", ErrTruncated, err)
				}
				if !p.emit(Record{}, &ParseError{Format: FormatNetstat, Line: sc.line, Err: err}) {
					return
				}
				continue
			}
			p.pending, p.pendingAt, p.ownerLines = s, sc.line, 0
			continue
		}
		if p.pending != nil {
			if done, ok := p.ownerLine(line, sc.line); ok {
				if done && !p.flush() {
					return
				}
				if p.stopped {
					return
				}
				continue
			}
			if !p.flush() {
				return
			}
		}
		if !p.otherLine(line, sc.line) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		if !p.flush() || !p.emit(Record{}, &ParseError{Format: FormatNetstat, Line: sc.line + 1, Err: err}) {
			return
		}
	}
	if p.flush() {
		p.finish()
	}
}

// splitFields splits line on runs of white space into dst, which has room
// for the fields of any row; extra reports that there were more.
func splitFields(line string, dst []string) (fields []string, extra bool) {
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if len(dst) == cap(dst) {
			return dst, true
		}
		dst = append(dst, line[i:j])
		i = j
	}
	return dst, false
}

// isNetstatRowStart reports whether a line starts like a row: a TCP or UDP
// token, indented as netstat prints it or followed by an address. An
// unindented "TCP Statistics for IPv4" (netstat -s) is not a row.
func isNetstatRowStart(line string, fields []string) bool {
	if fields[0] != "TCP" && fields[0] != "UDP" {
		return false
	}
	return line[0] == ' ' || line[0] == '\t' || len(fields) > 1 && strings.ContainsRune(fields[1], ':')
}

// parseRow reads the fields of one row.
func (p *netstatParser) parseRow(f []string, line int) (*Socket, error) {
	proto := Proto(f[0])
	if len(f) < 3 {
		return nil, fmt.Errorf("%s row has %d fields, want at least 3", proto, len(f))
	}
	local, err := parseNetstatEndpoint(f[1], proto)
	if err != nil {
		return nil, fmt.Errorf("local address %q: %w", f[1], err)
	}
	remote, err := parseNetstatEndpoint(f[2], proto)
	if err != nil {
		return nil, fmt.Errorf("foreign address %q: %w", f[2], err)
	}
	s := &Socket{
		Proto:          proto,
		LocalAddr:      local.addr,
		LocalHost:      local.host,
		LocalPort:      local.port,
		HasPort:        local.hasPort,
		LocalPortName:  local.portName,
		RemoteAddr:     remote.addr,
		RemoteHost:     remote.host,
		RemotePort:     remote.port,
		RemotePortName: remote.portName,
		PID:            -1,
	}
	rest := f[3:]
	if n := len(rest); n > 0 && allDigits(rest[n-1]) && (proto == UDP || n > 1) {
		pid, err := strconv.ParseUint(rest[n-1], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad PID %q", rest[n-1])
		}
		s.PID = int(pid)
		rest = rest[:n-1]
	}
	switch proto {
	case UDP:
		if len(rest) > 0 {
			return nil, fmt.Errorf("UDP row has unexpected field %q", rest[0])
		}
	case TCP:
		if len(rest) == 0 {
			return nil, errors.New("TCP row has no state")
		}
		if len(rest) > maxStateWords {
			return nil, fmt.Errorf("TCP row has %d fields after the addresses", len(rest))
		}
		if allDigits(rest[0]) {
			return nil, fmt.Errorf("TCP row has no state before %q", rest[0])
		}
		s.StateRaw = strings.Join(rest, " ")
		p.setState(s, remote, line)
	}
	p.rows++
	p.sawPID = p.sawPID || s.PID >= 0
	p.sawName = p.sawName || local.name || remote.name
	p.sawAll = p.sawAll || s.Listening()
	p.sawBound = p.sawBound || s.State == StateBound
	return s, nil
}

// setState maps the raw state word, applying the listener rule: a TCP row
// whose foreign address is 0.0.0.0:0 or [::]:0 (or HOST:0 without -n)
// listens whatever the state word says. BOUND (-q) is kept: such sockets
// also show a 0.0.0.0:0 foreign address.
func (p *netstatParser) setState(s *Socket, remote netstatEndpoint, line int) {
	state, locale, damaged := netstatStateOf(s.StateRaw)
	if locale != "" && p.stateLocale == "" {
		p.stateLocale = locale
	}
	if damaged && p.damaged == "" {
		p.damaged, p.damagedAt = s.StateRaw, line
	}
	if state == "" {
		p.noteUnknown(s.StateRaw, line)
	}
	listenerPeer := remote.hasPort && remote.port == 0 && (remote.addr.IsValid() && remote.addr.IsUnspecified() || remote.host != "")
	if listenerPeer && state != StateBound {
		state = StateListening
	}
	s.State = state
}

func (p *netstatParser) noteUnknown(word string, line int) {
	if p.firstUnknownAt == 0 {
		p.firstUnknownAt = line
	}
	for i := range p.unknown {
		if p.unknown[i].word == word {
			p.unknown[i].count++
			return
		}
	}
	if len(p.unknown) < maxUnknownStates {
		p.unknown = append(p.unknown, unknownState{word: word, line: line, count: 1})
	}
}

// netstatStateOf maps a state word to a State constant. locale is set for
// words of one language only; damaged marks a German ABHÖREN whose Ö was
// lost to a code page mix-up (ABH™REN: CP850 read as CP1252; ABH?REN: an
// ASCII export). Sources: corpus/FORMATS.md §1 (English; German ABHÖREN,
// HERGESTELLT, WARTEND, SCHLIESSEN_WARTEN, FIN_WARTEN_2 from a real capture;
// SYN_GESENDET, SCHLIESSEND from the Checkmk agent's regexes, SYN_EMPFANGEN
// from its tests; FIN_WARTEN_1 by analogy). Spanish ESCUCHANDO and
// ESTABLECIDO are from third-party test fixtures, not a real capture.
func netstatStateOf(raw string) (state, locale string, damaged bool) {
	switch raw {
	case "LISTENING", "LISTEN":
		return StateListening, "", false
	case "ESTABLISHED":
		return StateEstablished, "", false
	case "TIME_WAIT":
		return StateTimeWait, "", false
	case "CLOSE_WAIT":
		return StateCloseWait, "", false
	case "SYN_SENT":
		return StateSynSent, "", false
	case "SYN_RECEIVED":
		return StateSynReceived, "", false
	case "FIN_WAIT_1":
		return StateFinWait1, "", false
	case "FIN_WAIT_2":
		return StateFinWait2, "", false
	case "LAST_ACK":
		return StateLastAck, "", false
	case "CLOSING":
		return StateClosing, "", false
	case "CLOSED":
		return StateClosed, "", false
	case "BOUND":
		return StateBound, "", false
	case "DELETE_TCB":
		return StateDeleteTCB, "", false

	case "ABHÖREN", "ABHOEREN":
		return StateListening, "de", false
	case "HERGESTELLT":
		return StateEstablished, "de", false
	case "WARTEND":
		return StateTimeWait, "de", false
	case "SCHLIESSEN_WARTEN":
		return StateCloseWait, "de", false
	case "SYN_GESENDET":
		return StateSynSent, "de", false
	case "SYN_EMPFANGEN":
		return StateSynReceived, "de", false
	case "FIN_WARTEN_1":
		return StateFinWait1, "de", false
	case "FIN_WARTEN_2":
		return StateFinWait2, "de", false
	case "SCHLIESSEND":
		return StateClosing, "de", false

	case "ESCUCHANDO":
		return StateListening, "es", false
	case "ESTABLECIDO":
		return StateEstablished, "es", false
	}
	if mid, ok := strings.CutPrefix(raw, "ABH"); ok {
		if mid, ok := strings.CutSuffix(mid, "REN"); ok {
			if n := utf8.RuneCountInString(mid); n >= 1 && n <= 2 {
				return StateListening, "de", true
			}
		}
	}
	return "", "", false
}

// netstatEndpoint is one address:port as netstat prints it.
type netstatEndpoint struct {
	addr     netip.Addr
	host     string // a host name, printed without -n
	port     uint16
	portName string // a service name, printed without -n
	hasPort  bool   // port holds a number (given or looked up)
	name     bool   // host or port was a name
}

// parseNetstatEndpoint reads a.b.c.d:port, [v6%zone]:port, host:port,
// host:service or *:*.
func parseNetstatEndpoint(tok string, proto Proto) (netstatEndpoint, error) {
	var e netstatEndpoint
	i := strings.LastIndexByte(tok, ':')
	if i < 0 {
		return e, errors.New("no port")
	}
	host, port := tok[:i], tok[i+1:]
	switch {
	case host == "":
		return e, errors.New("no address")
	case host[0] == '[':
		inner, ok := strings.CutSuffix(host[1:], "]")
		if !ok {
			return e, errors.New("unclosed bracket")
		}
		a, err := netip.ParseAddr(inner)
		if err != nil {
			return e, fmt.Errorf("bad IPv6 address %q", inner)
		}
		e.addr = a
	case host == "*":
	case strings.Trim(host, "0123456789.") == "":
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is4() {
			return e, fmt.Errorf("bad IPv4 address %q", host)
		}
		e.addr = a
	default:
		if !isHostName(host) {
			return e, fmt.Errorf("bad host name %q", host)
		}
		e.host, e.name = host, true
	}
	switch {
	case port == "":
		return e, errors.New("no port")
	case port == "*":
	case allDigits(port):
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return e, fmt.Errorf("port %s out of range", port)
		}
		e.port, e.hasPort = uint16(n), true
	case isPortName(port):
		e.portName, e.name = port, true
		e.port, e.hasPort = LookupPortName(port, proto)
	default:
		return e, fmt.Errorf("bad port %q", port)
	}
	return e, nil
}

// isHostName accepts the names netstat prints without -n: letters (any
// script, as NetBIOS names may carry them), digits, '-', '.', '_'.
func isHostName(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '.' && r != '_' {
			return false
		}
	}
	return true
}

// isPortName accepts a services-file name: ASCII letters, digits, '-',
// '_', '.', with at least one letter.
func isPortName(s string) bool {
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.':
		default:
			return false
		}
	}
	return letter
}

// ownerLine reads a -b line after a row into the pending socket. ok is
// false when the line is not an owner line; done is set after the
// [image] line, which ends the block.
func (p *netstatParser) ownerLine(line string, at int) (done, ok bool) {
	text := strings.TrimSpace(line)
	indent := len(line) - len(strings.TrimLeft(line, " "))
	s := p.pending
	kind := ""
	switch {
	case indent >= 1 && indent <= 2 && len(text) > 2 && text[0] == '[' && text[len(text)-1] == ']':
		kind = "image"
	case strings.HasPrefix(text, "--") && strings.HasSuffix(text, "--") && len(text) > 4 && indent >= 1 && indent <= 2:
		kind = "owner" // -- unknown component(s) --
	case indent == 1:
		kind = "owner"
	case indent == 2 && !strings.Contains(text, "  ") && strings.Trim(text, ".…") != "":
		kind = "component"
	default:
		return false, false
	}
	p.ownerLines++
	if p.ownerLines > maxOwnerLines {
		p.fail(at, "more than %d owner lines after the row at line %d", maxOwnerLines, p.pendingAt)
		return false, true
	}
	p.sawOwner = true
	switch kind {
	case "image":
		s.Image = text[1 : len(text)-1]
		return true, true
	case "owner":
		if s.Owner != "" {
			s.Owner += "; "
		}
		s.Owner += text
	case "component":
		s.Services = append(s.Services, text)
	}
	return false, true
}

// otherLine looks at a line that is neither row nor owner line: a title,
// a header, the -b elevation message, a prompt or anything else. It only
// gathers evidence; it is never an error.
func (p *netstatParser) otherLine(line string, at int) bool {
	text := strings.TrimSpace(line)
	if isElevationMessage(text) {
		return p.emit(Record{Kind: KindMeta, Line: at, Meta: &Meta{
			Note: "netstat -b ran without elevation, no process names: " + text,
		}}, nil)
	}
	if p.titleLocale == "" {
		p.titleLocale = netstatTitleLocale(text)
	}
	return true
}

// isElevationMessage recognises the Win32 error 740 text that netstat -b
// prints when not elevated (en; de and fr as seen in public error reports).
func isElevationMessage(text string) bool {
	for _, m := range []string{
		"The requested operation requires elevation",
		"Der angeforderte Vorgang erfordert erhöhte Rechte",
		"opération demandée nécessite une élévation",
	} {
		if strings.Contains(text, m) {
			return true
		}
	}
	return false
}

// netstatTitleLocale returns the locale whose title or header words text
// contains. Sources: DOMAIN.md §7.3 and the corpus (en, de, fr; zh from
// DOMAIN.md); es from third-party test fixtures; cs, pl, hu, ru, ja from
// the keywords text.go uses to pick a code page. None of the latter is
// verified by a capture.
func netstatTitleLocale(text string) string {
	for _, k := range []struct{ locale, word string }{
		{"en", "Active Connections"}, {"en", "Local Address"}, {"en", "Foreign Address"},
		{"de", "Aktive Verbindungen"}, {"de", "Lokale Adresse"}, {"de", "Remoteadresse"},
		{"fr", "Connexions actives"}, {"fr", "Adresse locale"}, {"fr", "Adresse distante"},
		{"zh", "活动连接"}, {"zh", "本地地址"}, {"zh", "外部地址"},
		{"es", "Conexiones activas"}, {"es", "Dirección local"}, {"es", "Dirección remota"},
		{"cs", "Aktivní připojení"}, {"cs", "Místní adresa"},
		{"pl", "Aktywne połączenia"}, {"pl", "Adres lokalny"},
		{"hu", "Aktív kapcsolatok"},
		{"ru", "Активные подключения"}, {"ru", "Локальный адрес"},
		{"ja", "アクティブな接続"}, {"ja", "ローカル アドレス"},
	} {
		if strings.Contains(text, k.word) {
			return k.locale
		}
	}
	return ""
}

// finish emits the notes and the Meta with locale and variant.
func (p *netstatParser) finish() {
	if p.damaged != "" {
		note := fmt.Sprintf("state %q read as ABHÖREN: the text passed through the wrong code page (German netstat writes CP850)", p.damaged)
		if !p.emit(Record{Kind: KindMeta, Line: p.damagedAt, Meta: &Meta{Note: note}}, nil) {
			return
		}
	}
	if len(p.unknown) > 0 {
		var b strings.Builder
		b.WriteString("unknown state words kept raw:")
		for i, u := range p.unknown {
			if i > 0 {
				b.WriteByte(',')
			}
			rows := "rows"
			if u.count == 1 {
				rows = "row"
			}
			fmt.Fprintf(&b, " %q (first at line %d, %d %s)", u.word, u.line, u.count, rows)
		}
		if !p.emit(Record{Kind: KindMeta, Line: p.firstUnknownAt, Meta: &Meta{Note: b.String()}}, nil) {
			return
		}
	}
	if p.rows > 0 && !p.sawAll {
		note := "no listening or UDP rows: netstat ran without -a (or the output was filtered), listeners are not in this capture"
		if !p.emit(Record{Kind: KindMeta, Meta: &Meta{Note: note}}, nil) {
			return
		}
	}
	m := &Meta{Locale: p.titleLocale, Variant: p.variant()}
	if m.Locale == "" {
		m.Locale = p.stateLocale
	}
	if m.Locale != "" || m.Variant != "" {
		p.emit(Record{Kind: KindMeta, Meta: m}, nil)
	}
}

// variant names the netstat switches the rows show, in the order
// consultants type them: -a, -n, -o, -b, -q.
func (p *netstatParser) variant() string {
	if p.rows == 0 {
		return ""
	}
	v := "-"
	for _, f := range []struct {
		on   bool
		flag string
	}{{p.sawAll, "a"}, {!p.sawName, "n"}, {p.sawPID, "o"}, {p.sawOwner, "b"}, {p.sawBound, "q"}} {
		if f.on {
			v += f.flag
		}
	}
	if v == "-" {
		return ""
	}
	return v
}
