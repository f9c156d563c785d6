package parsers

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// psNetTCP reads `Get-NetTCPConnection | Export-Csv`: Windows PowerShell 5.1
// writes a first line `#TYPE Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetTCPConnection`
// unless -NoTypeInformation (PowerShell 6+ omits it by default), then a
// header of property names and one row per connection, all fields quoted,
// separated by `,` or, with -UseCulture, by the list separator (often `;`).
// A full export has some thirty CIM columns, a Select-Object subset only
// the chosen ones; columns are found by header name. State is the enum name
// (Listen, Established …) or its number (Listen = 2 …). CreationTime, the
// bind time, is the host's wall-clock time in the host culture's format
// (see psTime); the day/month order is decided from the file and reported
// in a Meta note.
type psNetTCP struct{}

// Format implements Parser.
func (psNetTCP) Format() Format { return FormatPSNetTCP }

// Version implements Parser.
func (psNetTCP) Version() int { return 1 }

// Sniff implements Parser: see psSniff.
func (psNetTCP) Sniff(head []byte) bool {
	p, ok := psSniff(head)
	return ok && p == TCP
}

// Parse implements Parser.
func (psNetTCP) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return parsePSCSV(ctx, r, FormatPSNetTCP, TCP)
}

// psNetUDP reads `Get-NetUDPEndpoint | Export-Csv`: the same layout as
// psNetTCP with the class MSFT_NetUDPEndpoint and no remote or state
// columns.
type psNetUDP struct{}

// Format implements Parser.
func (psNetUDP) Format() Format { return FormatPSNetUDP }

// Version implements Parser.
func (psNetUDP) Version() int { return 1 }

// Sniff implements Parser: see psSniff.
func (psNetUDP) Sniff(head []byte) bool {
	p, ok := psSniff(head)
	return ok && p == UDP
}

// Parse implements Parser.
func (psNetUDP) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return parsePSCSV(ctx, r, FormatPSNetUDP, UDP)
}

// The columns psNetTCP and psNetUDP read; the names are CIM property names,
// which Export-Csv does not localize.
const (
	psColLocalAddress = iota
	psColLocalPort
	psColRemoteAddress
	psColRemotePort
	psColState
	psColOwningProcess
	psColCreationTime
	// PSComputerName is added by Invoke-Command and by a CIM session to
	// another computer: the host the row was read on.
	psColComputer
	psNumCols
)

func psColName(c int) string {
	return [psNumCols]string{
		"LocalAddress", "LocalPort", "RemoteAddress", "RemotePort",
		"State", "OwningProcess", "CreationTime", "PSComputerName",
	}[c]
}

// psSniff decides from the #TYPE line when it names the CIM class, else
// from the header: LocalAddress and LocalPort columns make an export, and
// RemotePort or State columns make it a TCP one.
func psSniff(head []byte) (Proto, bool) {
	line, rest := psSniffNextLine(head)
	if len(line) >= 5 && equalFoldBytes(line[:5], "#TYPE") {
		switch {
		case containsFoldBytes(line, "MSFT_NetTCPConnection"):
			return TCP, true
		case containsFoldBytes(line, "MSFT_NetUDPEndpoint"):
			return UDP, true
		}
		line, _ = psSniffNextLine(rest)
	}
	var has [psNumCols]bool
	for len(line) > 0 {
		i, quoted := 0, false
		for ; i < len(line); i++ {
			c := line[i]
			if c == '"' {
				quoted = !quoted
			} else if !quoted && (c == ',' || c == ';' || c == '\t') {
				break
			}
		}
		name := trimQuotesSpace(line[:i])
		for c := range psNumCols {
			if equalFoldBytes(name, psColName(c)) {
				has[c] = true
			}
		}
		if i == len(line) {
			break
		}
		line = line[i+1:]
	}
	if !has[psColLocalAddress] || !has[psColLocalPort] {
		return "", false
	}
	if has[psColRemotePort] || has[psColState] {
		return TCP, true
	}
	return UDP, true
}

// psSniffNextLine returns the first non-blank line of b and the rest.
func psSniffNextLine(b []byte) (line, rest []byte) {
	for len(b) > 0 {
		line, b, _ = cutSniffLine(b)
		if !isBlankBytes(line) {
			return line, b
		}
	}
	return nil, nil
}

func trimQuotesSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '"') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '"') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFoldBytes compares b and s ignoring ASCII case, without allocating.
func equalFoldBytes(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func containsFoldBytes(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFoldBytes(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// psMaxRecord bounds the bytes of one CSV record (a quote left open would
// otherwise make encoding/csv gather the rest of the input).
const psMaxRecord = 1 << 20

// psMaxPending bounds the rows held back while the day/month order of
// CreationTime is not yet known.
const psMaxPending = 4096

var errPSRecordTooLong = fmt.Errorf("csv record longer than %d bytes", psMaxRecord)

// psRecordLimit fails a read once n bytes have been read since the last
// reset, which the parser does after each record.
type psRecordLimit struct {
	r io.Reader
	n int
}

func (l *psRecordLimit) Read(p []byte) (int, error) {
	if l.n >= psMaxRecord {
		return 0, errPSRecordTooLong
	}
	if len(p) > psMaxRecord-l.n {
		p = p[:psMaxRecord-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

func parsePSCSV(ctx context.Context, r io.Reader, f Format, proto Proto) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		offset, typeProto, typeLine := psSkipBlankLines(br), Proto(""), false
		if b, _ := br.Peek(len("#TYPE")); strings.EqualFold(string(b), "#TYPE") {
			line := psReadLine(br, 4096)
			offset, typeLine = offset+1, true
			switch {
			case strings.Contains(line, "MSFT_NetTCPConnection"):
				typeProto = TCP
			case strings.Contains(line, "MSFT_NetUDPEndpoint"):
				typeProto = UDP
			}
		}
		if typeProto != "" && typeProto != proto {
			yield(Record{}, lineError(f, offset, "#TYPE names a %s export, not %s", typeProto, proto))
			return
		}
		lim := &psRecordLimit{r: br}
		cr := csv.NewReader(lim)
		cr.Comma = psSeparator(br)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = true

		header, err := cr.Read()
		lim.n = 0
		switch {
		case err == io.EOF && typeLine:
			yield(Record{}, &ParseError{Format: f, Line: offset, Err: fmt.Errorf("no header after #TYPE: %w", ErrTruncated)})
			return
		case err == io.EOF:
			return
		case err != nil:
			yield(Record{}, psReadError(f, err, offset, 1))
			return
		}
		p := &psReader{format: f, proto: proto, nfields: len(header)}
		p.days = dayOrder[psPending]{what: "CreationTime", maxPending: psMaxPending, emit: p.emit,
			timeOf: func(o psPending) (*psTime, int) { return o.t, o.line }}
		for c := range p.cols {
			p.cols[c] = -1
		}
		for i, name := range header {
			for c := range psNumCols {
				if strings.EqualFold(strings.TrimSpace(name), psColName(c)) && p.cols[c] < 0 {
					p.cols[c] = i
				}
			}
		}
		headerLine, _ := cr.FieldPos(0)
		headerLine += offset
		if p.cols[psColLocalAddress] < 0 || p.cols[psColLocalPort] < 0 {
			yield(Record{}, lineError(f, headerLine, "header names no LocalAddress and LocalPort columns"))
			return
		}
		if proto == UDP && typeProto == "" && (p.cols[psColRemotePort] >= 0 || p.cols[psColState] >= 0) {
			yield(Record{}, lineError(f, headerLine, "header has RemotePort or State columns: a TCP connection export"))
			return
		}

		lastLine := headerLine
		for {
			if err := ctx.Err(); err != nil {
				if p.flush(yield) {
					yield(Record{}, &ParseError{Format: f, Line: lastLine, Err: err})
				}
				return
			}
			rec, err := cr.Read()
			lim.n = 0
			if err == io.EOF {
				break
			}
			if err != nil {
				pe := psReadError(f, err, offset, lastLine+1)
				if !p.out(yield, psPending{err: pe, line: pe.Line}) {
					return
				}
				var cpe *csv.ParseError
				if errors.As(err, &cpe) {
					lastLine = pe.Line
					continue
				}
				break
			}
			line, _ := cr.FieldPos(0)
			line += offset
			lastLine = line
			if name, ok := p.field(rec, psColComputer); ok {
				p.hosts.observe(&Event{Computer: name}, line)
			}
			if !p.out(yield, p.row(rec, line)) {
				return
			}
		}
		if !p.flush(yield) {
			return
		}
		if m := p.hosts.rowsMeta("PSComputerName"); m != nil {
			yield(Record{Kind: KindMeta, Meta: m}, nil)
		}
	}
}

// psSkipBlankLines discards the blank lines at the start of br (within its
// buffer) and returns how many there were.
func psSkipBlankLines(br *bufio.Reader) int {
	b, _ := br.Peek(br.Size())
	n, skip := 0, 0
	for i, c := range b {
		if c == '\n' {
			n, skip = n+1, i+1
		} else if c != ' ' && c != '\t' && c != '\r' {
			break
		}
	}
	br.Discard(skip)
	return n
}

// psReadLine reads one line, keeping at most limit bytes of it.
func psReadLine(br *bufio.Reader, limit int) string {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if room := limit - len(line); room > 0 {
			line = append(line, chunk[:min(room, len(chunk))]...)
		}
		if err != bufio.ErrBufferFull {
			return strings.TrimRight(string(line), "\r\n")
		}
	}
}

// psSeparator finds the field separator of the header line: the first
// `,`, `;` or tab outside quotes (-UseCulture writes the culture's list
// separator).
func psSeparator(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	quoted, content := false, false
	for _, c := range b {
		switch {
		case c == '"':
			quoted, content = !quoted, true
		case quoted:
		case c == ',' || c == ';' || c == '\t':
			return rune(c)
		case c == '\n' && content:
			return ','
		case c != '\n' && c != '\r' && c != ' ':
			content = true
		}
	}
	return ','
}

// psReadError turns an error of csv.Reader.Read into a ParseError at the
// line the bad record starts on.
func psReadError(f Format, err error, offset, line int) *ParseError {
	var cpe *csv.ParseError
	if errors.As(err, &cpe) {
		if cpe.Line != cpe.StartLine {
			return &ParseError{Format: f, Line: offset + cpe.StartLine,
				Err: fmt.Errorf("record to line %d: %w", offset+cpe.Line, cpe.Err)}
		}
		return &ParseError{Format: f, Line: offset + cpe.StartLine, Err: cpe.Err}
	}
	return &ParseError{Format: f, Line: line, Err: err}
}

// The day/month order of CreationTime in a file.
const (
	psOrderUnknown = iota
	psOrderMDY
	psOrderDMY
)

// psPending is an output of the parser: a record or an error, and the
// CreationTime of the record while it is not resolved.
type psPending struct {
	rec  Record
	err  error
	line int
	t    *psTime
}

// psReader is the state of parsePSCSV after the header.
type psReader struct {
	format  Format
	proto   Proto
	cols    [psNumCols]int
	nfields int
	// days holds the outputs back from the first CreationTime whose
	// day/month order is unknown on.
	days dayOrder[psPending]
	// hosts counts the PSComputerName values.
	hosts hostTally
}

// field returns a row's value of column c, if the header has it.
func (p *psReader) field(rec []string, c int) (string, bool) {
	if i := p.cols[c]; i >= 0 && i < len(rec) {
		return strings.TrimSpace(rec[i]), true
	}
	return "", false
}

// row turns one CSV record into a socket.
func (p *psReader) row(rec []string, line int) psPending {
	bad := func(format string, args ...any) psPending {
		return psPending{err: lineError(p.format, line, format, args...)}
	}
	if len(rec) != p.nfields {
		return bad("row has %d fields, the header %d", len(rec), p.nfields)
	}
	get := func(c int) (string, bool) {
		if i := p.cols[c]; i >= 0 {
			return strings.TrimSpace(rec[i]), true
		}
		return "", false
	}
	s := &Socket{Proto: p.proto, HasPort: true, PID: -1}
	v, _ := get(psColLocalAddress)
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return bad("LocalAddress %q is not an IP address", v)
	}
	s.LocalAddr = addr
	v, _ = get(psColLocalPort)
	port, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return bad("LocalPort %q is not a port number", v)
	}
	s.LocalPort = uint16(port)
	if v, ok := get(psColOwningProcess); ok && v != "" {
		pid, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("OwningProcess %q is not a process ID", v)
		}
		s.PID = int(pid)
	}
	if p.proto == TCP {
		if v, ok := get(psColRemoteAddress); ok && v != "" {
			addr, err := netip.ParseAddr(v)
			if err != nil {
				return bad("RemoteAddress %q is not an IP address", v)
			}
			s.RemoteAddr = addr
		}
		if v, ok := get(psColRemotePort); ok && v != "" {
			port, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return bad("RemotePort %q is not a port number", v)
			}
			s.RemotePort = uint16(port)
		}
		if v, ok := get(psColState); ok && v != "" {
			st, ok := psTCPState(v)
			if !ok {
				return bad("State %q is not a TCP state", v)
			}
			s.State, s.StateRaw = st, v
		}
	}
	out := psPending{rec: Record{Kind: KindSocket, Line: line, Socket: s}, line: line}
	if v, ok := get(psColCreationTime); ok && v != "" {
		t, err := parsePSTime(v)
		if err != nil {
			// The socket is still good evidence of a port owner: keep
			// it, and report its time.
			out.err = lineError(p.format, line, "%v", err)
			return out
		}
		out.t = &t
	}
	return out
}

// psTCPState maps a MSFT_NetTCPConnection State, by name or number, to
// the State constants.
func psTCPState(v string) (string, bool) {
	if n, err := strconv.Atoi(v); err == nil {
		switch n {
		case 1:
			return StateClosed, true
		case 2:
			return StateListening, true
		case 3:
			return StateSynSent, true
		case 4:
			return StateSynReceived, true
		case 5:
			return StateEstablished, true
		case 6:
			return StateFinWait1, true
		case 7:
			return StateFinWait2, true
		case 8:
			return StateCloseWait, true
		case 9:
			return StateClosing, true
		case 10:
			return StateLastAck, true
		case 11:
			return StateTimeWait, true
		case 12:
			return StateDeleteTCB, true
		case 100:
			return StateBound, true
		}
		return "", false
	}
	switch strings.ToLower(v) {
	case "closed":
		return StateClosed, true
	case "listen":
		return StateListening, true
	case "synsent":
		return StateSynSent, true
	case "synreceived":
		return StateSynReceived, true
	case "established":
		return StateEstablished, true
	case "finwait1":
		return StateFinWait1, true
	case "finwait2":
		return StateFinWait2, true
	case "closewait":
		return StateCloseWait, true
	case "closing":
		return StateClosing, true
	case "lastack":
		return StateLastAck, true
	case "timewait":
		return StateTimeWait, true
	case "deletetcb":
		return StateDeleteTCB, true
	case "bound":
		return StateBound, true
	}
	return "", false
}

// out passes an output on, or holds it back while the day/month order is
// unknown and a CreationTime needs it (dayOrder). It returns false when
// yield asked to stop.
func (p *psReader) out(yield func(Record, error) bool, o psPending) bool { return p.days.out(yield, o) }

// flush decides the order by assumption if rows are still held back, and
// passes them on.
func (p *psReader) flush(yield func(Record, error) bool) bool { return p.days.flush(yield) }

// emit resolves the CreationTime of an output and yields it.
func (p *psReader) emit(yield func(Record, error) bool, o psPending) bool {
	if o.t != nil {
		order := p.days.order
		if ev := o.t.evidence(); ev != psOrderUnknown && order != psOrderUnknown && ev != order {
			if !yield(Record{}, lineError(p.format, o.line, "CreationTime %q is %s, but line %d reads %s",
				o.t.raw, psOrderName(ev), p.days.orderLine, psOrderName(order))) {
				return false
			}
		} else if at, local, err := o.t.resolve(order); err != nil {
			if !yield(Record{}, lineError(p.format, o.line, "%v", err)) {
				return false
			}
		} else {
			o.rec.Socket.CreatedAt, o.rec.Socket.CreatedLocal = at, local
		}
	}
	if o.err != nil {
		if !yield(Record{}, o.err) {
			return false
		}
	}
	if o.rec.Kind == "" {
		return true
	}
	return yield(o.rec, nil)
}

func psOrderName(order int) string {
	if order == psOrderDMY {
		return "day/month/year"
	}
	return "month/day/year"
}

// psTime is a CreationTime as Export-Csv writes it: DateTime.ToString() in
// the host culture, e.g. en-US `11/25/2026 8:12:33 AM`, de-DE
// `25.11.2026 08:12:33`, en-GB `25/11/2026 08:12:33`, ja-JP
// `2026/11/25 8:12:33`, or ISO 8601 `2026-11-25T08:12:33` (with an
// optional fraction and zone) when the collector formatted it.
type psTime struct {
	raw  string
	name string
	// y is the year. With ymd, a is the month and b the day; otherwise a
	// and b are the first two fields, whose order the file decides.
	y, a, b        int
	ymd            bool
	sep            byte
	clock12, pm    bool
	hh, mm, ss, ns int
	zoned          bool
	zone           int // seconds east of UTC, when zoned
}

func parsePSTime(s string) (psTime, error) { return parseLocalTime("CreationTime", s) }

// parseLocalTime parses a date and time as DateTime.ToString() writes it in
// the host culture (see psTime); name is the field, for errors.
func parseLocalTime(name, s string) (psTime, error) {
	t := psTime{raw: s, name: name}
	bad := func(why string) (psTime, error) {
		return psTime{}, fmt.Errorf("%s %q: %s", name, s, why)
	}
	i := strings.IndexAny(s, " T")
	if i < 0 {
		return bad("no time of day")
	}
	date, clock := s[:i], strings.TrimSpace(s[i+1:])
	j := strings.IndexFunc(date, func(r rune) bool { return r < '0' || r > '9' })
	if j <= 0 {
		return bad("not a date")
	}
	t.sep = date[j]
	parts := strings.Split(date, string(t.sep))
	if len(parts) != 3 {
		return bad("not a date")
	}
	var n [3]int
	for k, part := range parts {
		v, ok := psDigits(part, 4)
		if !ok {
			return bad("not a date")
		}
		n[k] = v
	}
	switch {
	case len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		t.ymd, t.y, t.a, t.b = true, n[0], n[1], n[2]
	case len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		t.y, t.a, t.b = n[2], n[0], n[1]
	default:
		return bad("want a four-digit year first or last")
	}

	k := strings.IndexFunc(clock, func(r rune) bool { return (r < '0' || r > '9') && r != ':' && r != '.' })
	tail := ""
	if k >= 0 {
		clock, tail = clock[:k], strings.TrimSpace(clock[k:])
	}
	hms := strings.Split(clock, ":")
	if len(hms) < 2 || len(hms) > 3 {
		return bad("not a time of day")
	}
	frac := ""
	if len(hms) == 3 {
		hms[2], frac, _ = strings.Cut(hms[2], ".")
	}
	for k, part := range hms {
		v, ok := psDigits(part, 2)
		if !ok {
			return bad("not a time of day")
		}
		switch k {
		case 0:
			t.hh = v
		case 1:
			t.mm = v
		case 2:
			t.ss = v
		}
	}
	if frac != "" {
		if _, ok := psDigits(frac, len(frac)); !ok {
			return bad("not a time of day")
		}
		v, _ := psDigits(frac[:min(len(frac), 9)], 9)
		for d := min(len(frac), 9); d < 9; d++ {
			v *= 10
		}
		t.ns = v
	}
	designator := strings.ToLower(strings.NewReplacer(".", "", " ", "").Replace(tail))
	switch {
	case tail == "":
	case designator == "am" || designator == "pm":
		t.clock12, t.pm = true, designator == "pm"
	case tail == "Z":
		t.zoned = true
	case (tail[0] == '+' || tail[0] == '-') && len(tail) == 6 && tail[3] == ':':
		h, ok1 := psDigits(tail[1:3], 2)
		m, ok2 := psDigits(tail[4:], 2)
		if !ok1 || !ok2 || h > 14 || m > 59 {
			return bad("bad zone offset")
		}
		t.zoned, t.zone = true, (h*60+m)*60
		if tail[0] == '-' {
			t.zone = -t.zone
		}
	default:
		return bad(fmt.Sprintf("unknown text %q after the time", tail))
	}
	if t.clock12 && (t.hh < 1 || t.hh > 12) || t.hh > 23 || t.mm > 59 || t.ss > 59 {
		return bad("no such time of day")
	}
	return t, nil
}

// psDigits parses 1 to max ASCII digits.
func psDigits(s string, max int) (int, bool) {
	if s == "" || len(s) > max {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// needsOrder reports a date whose day/month order only the file can tell.
func (t *psTime) needsOrder() bool {
	return !t.ymd && t.a >= 1 && t.a <= 12 && t.b >= 1 && t.b <= 12
}

// evidence returns the order a date shows by a field above 12, or
// psOrderUnknown.
func (t *psTime) evidence() int {
	switch {
	case t.ymd:
		return psOrderUnknown
	case t.a > 12 && t.b >= 1 && t.b <= 12:
		return psOrderDMY
	case t.b > 12 && t.a >= 1 && t.a <= 12:
		return psOrderMDY
	}
	return psOrderUnknown
}

// resolve returns the time in UTC and whether it is the host's wall-clock
// time (no zone in the text) rather than a true UTC instant.
func (t *psTime) resolve(order int) (time.Time, bool, error) {
	month, day := t.a, t.b
	if !t.ymd && order == psOrderDMY {
		month, day = t.b, t.a
	}
	if month < 1 || month > 12 || day < 1 || day > time.Date(t.y, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, false, fmt.Errorf("%s %q: no such date", t.name, t.raw)
	}
	hh := t.hh
	if t.clock12 {
		hh %= 12
		if t.pm {
			hh += 12
		}
	}
	at, local := time.Date(t.y, time.Month(month), day, hh, t.mm, t.ss, t.ns, time.UTC), true
	if t.zoned {
		at, local = time.Date(t.y, time.Month(month), day, hh, t.mm, t.ss, t.ns, time.FixedZone("", t.zone)).UTC(), false
	}
	// Windows times start in 1601; this also keeps the time printable.
	if at.Year() < 1601 || at.Year() > 9999 {
		return time.Time{}, false, fmt.Errorf("%s %q: year out of range", t.name, t.raw)
	}
	return at, local, nil
}
