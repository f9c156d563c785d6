package parsers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"strconv"
	"strings"
)

// tcpvcon reads the output of Sysinternals Tcpvcon (DOMAIN.md §7.5,
// corpus/FORMATS.md §2):
//
//   - `tcpvcon -a -c [-n]`: CSV without a header row, six unquoted fields
//     Protocol,Process,PID,State,LocalAddress,RemoteAddress. Protocol is
//     TCP, UDP, TCPV6 or UDPV6; UDP rows have state `*` and remote `*`;
//     IPv6 is bracketed and fully expanded ([0:0:0:0:0:0:0:0]). Tcpvcon 4.x
//     prints no ports at all, so its rows map PID to image only; older
//     versions print addr:port, and without -n a resolved host and a port
//     name (netbios-ssn).
//   - `tcpvcon -a`: one block per endpoint, `[TCP] process.exe` followed by
//     `PID:`, `State:`, `Local:` and `Remote:` lines. No real capture of
//     this layout was found; the reader is tolerant and its fixture is
//     synthetic.
//
// A banner (`TCPView v4.19`, `Copyright (C) …`) may precede the rows: lines
// that do not look like data are skipped, a line that looks like a row but
// cannot be read is a ParseError.
type tcpvcon struct{}

// Format implements Parser.
func (tcpvcon) Format() Format { return FormatTcpvcon }

// Version implements Parser.
func (tcpvcon) Version() int { return 1 }

// Sniff implements Parser. It claims a head whose first or second line
// holding a comma is a Tcpvcon CSV row (protocol token, numeric PID, six
// fields), or which holds a `[TCP] name` block header followed by a
// `Label: value` line. The protocol tokens are identifiers, not words of a
// UI language. It does not allocate.
func (tcpvcon) Sniff(head []byte) bool {
	commaLines := 0
	afterHeader := false
	for len(head) > 0 {
		var line []byte
		line, head = sniffLine(head)
		t := bytes.TrimSpace(line)
		if len(t) == 0 {
			continue
		}
		if afterHeader && tcpvconLabelEnd(t) > 0 {
			return true
		}
		afterHeader = false
		if _, ok := tcpvconBlockHeader(t); ok {
			afterHeader = true
			continue
		}
		if bytes.IndexByte(t, ',') >= 0 {
			if tcpvconRowShape(t) {
				return true
			}
			if commaLines++; commaLines >= 2 {
				return false
			}
		}
	}
	return false
}

// tcpvconRowShape reports whether line is a CSV row of six or more fields
// with a protocol token first and a numeric PID in the fourth field from
// the end.
func tcpvconRowShape(line []byte) bool {
	n := bytes.Count(line, []byte{','}) + 1
	if n < 6 {
		return false
	}
	proto, rest, _ := bytes.Cut(line, []byte{','})
	if _, ok := tcpvconProto(proto); !ok {
		return false
	}
	for range n - 5 {
		_, rest, _ = bytes.Cut(rest, []byte{','})
	}
	pid, _, _ := bytes.Cut(rest, []byte{','})
	return allDigits(bytes.TrimSpace(pid))
}

// tcpvconProto maps a protocol token (any case) to its transport.
func tcpvconProto[T string | []byte](tok T) (Proto, bool) {
	switch {
	case equalFoldASCII(tok, "TCP"), equalFoldASCII(tok, "TCPV6"):
		return TCP, true
	case equalFoldASCII(tok, "UDP"), equalFoldASCII(tok, "UDPV6"):
		return UDP, true
	}
	return "", false
}

// equalFoldASCII compares a with the upper-case ASCII word b, ignoring case.
func equalFoldASCII[T string | []byte](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

// tcpvconBlockHeader reports whether line is `[TCP] process.exe` and
// returns the index of the closing bracket.
func tcpvconBlockHeader[T string | []byte](line T) (int, bool) {
	if len(line) == 0 || line[0] != '[' {
		return 0, false
	}
	for i := 1; i < len(line) && i <= 6; i++ {
		if line[i] == ']' {
			_, ok := tcpvconProto(line[1:i])
			return i, ok
		}
	}
	return 0, false
}

// tcpvconLabelEnd returns the index of the colon of a `Label: value` line of
// a text block (the label is up to 20 letters and spaces), or -1.
func tcpvconLabelEnd[T string | []byte](line T) int {
	for i := 0; i < len(line) && i <= 20; i++ {
		c := line[i]
		switch {
		case c == ':':
			if i == 0 {
				return -1
			}
			return i
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == ' ':
		default:
			return -1
		}
	}
	return -1
}

// Parse implements Parser.
func (tcpvcon) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		t := &tcpvconRun{yield: yield}
		s := newLineScanner(r)
		for s.Scan() {
			if err := ctx.Err(); err != nil {
				yield(Record{}, &ParseError{Format: FormatTcpvcon, Line: s.line, Err: err})
				return
			}
			if !t.line(s.line, s.text, s.long) {
				return
			}
		}
		if !t.flush() {
			return
		}
		if err := s.Err(); err != nil {
			yield(Record{}, &ParseError{Format: FormatTcpvcon, Line: s.line + 1, Err: fmt.Errorf("read: %w", err)})
			return
		}
		if t.rows == 0 && t.errs == 0 && t.sawText {
			yield(Record{}, lineError(FormatTcpvcon, 1, "no tcpvcon rows or blocks in %d lines", s.line))
		}
	}
}

// tcpvconRun is the state of one Parse.
type tcpvconRun struct {
	yield   func(Record, error) bool
	rows    int  // data rows and blocks seen
	errs    int  // parse errors yielded
	sawText bool // a non-blank line was seen
	noPorts bool // the "no port columns" note was given

	// block is the text block being read.
	block     *tcpvconBlock
	blockLine int
}

// tcpvconBlock holds the fields of one `tcpvcon -a` text block.
type tcpvconBlock struct {
	proto, process, pid, state, local, remote string
	hasPID, hasLocal                          bool
}

func (t *tcpvconRun) fail(pe *ParseError) bool {
	t.errs++
	return t.yield(Record{}, pe)
}

// line handles one input line. It returns false when the consumer stopped.
func (t *tcpvconRun) line(n int, text string, long bool) bool {
	if long {
		return t.flush() && t.fail(lineError(FormatTcpvcon, n, "line longer than %d bytes", maxLine))
	}
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return t.flush()
	}
	t.sawText = true
	if end, ok := tcpvconBlockHeader(trimmed); ok {
		if !t.flush() {
			return false
		}
		t.block = &tcpvconBlock{proto: trimmed[1:end], process: strings.TrimSpace(trimmed[end+1:])}
		t.blockLine = n
		return true
	}
	first, _, hasComma := strings.Cut(trimmed, ",")
	_, isProto := tcpvconProto(strings.TrimSpace(first))
	if t.block != nil && isProto && hasComma && !t.flush() {
		return false
	}
	if t.block != nil {
		colon := tcpvconLabelEnd(trimmed)
		if colon < 0 {
			return t.fail(lineError(FormatTcpvcon, n, "not a Label: value line in a [%s] block: %q", t.block.proto, trimmed))
		}
		label := strings.ToLower(strings.ReplaceAll(trimmed[:colon], " ", ""))
		value := strings.TrimSpace(trimmed[colon+1:])
		b := t.block
		switch label {
		case "pid":
			b.pid, b.hasPID = value, true
		case "state":
			b.state = value
		case "local", "localaddress":
			b.local, b.hasLocal = value, true
		case "remote", "remoteaddress":
			b.remote = value
		default:
			return t.fail(lineError(FormatTcpvcon, n, "unknown field %q in a [%s] block", label, b.proto))
		}
		return true
	}
	if !isProto && !hasComma {
		return true // banner or other text
	}
	f := strings.Split(trimmed, ",")
	if !isProto && (len(f) < 6 || t.rows == 0) {
		// A header a collector wrote before the rows, or other text.
		return true
	}
	if len(f) < 6 {
		return t.fail(lineError(FormatTcpvcon, n, "%d fields, want 6", len(f)))
	}
	// A comma in a process name splits it; the other fields are fixed.
	k := len(f)
	process := strings.Join(f[1:k-4], ",")
	return t.emit(n, "csv", f[0], process, f[k-4], f[k-3], f[k-2], f[k-1])
}

// flush emits the text block being read.
func (t *tcpvconRun) flush() bool {
	b := t.block
	if b == nil {
		return true
	}
	t.block = nil
	switch {
	case !b.hasPID:
		return t.fail(lineError(FormatTcpvcon, t.blockLine, "[%s] %s: no PID line", b.proto, b.process))
	case !b.hasLocal:
		return t.fail(lineError(FormatTcpvcon, t.blockLine, "[%s] %s: no Local line", b.proto, b.process))
	}
	return t.emit(t.blockLine, "text", b.proto, b.process, b.pid, b.state, b.local, b.remote)
}

// emit turns the fields of one row or block into a Socket record, preceded
// by a Meta record for the first one and by the note when a row has no port.
func (t *tcpvconRun) emit(n int, variant, proto, process, pid, state, local, remote string) bool {
	s, err := tcpvconSocket(proto, process, pid, state, local, remote)
	if err != nil {
		return t.fail(&ParseError{Format: FormatTcpvcon, Line: n, Err: err})
	}
	var m *Meta
	if t.rows == 0 {
		m = &Meta{Variant: variant}
	}
	t.rows++
	if !s.HasPort && s.LocalPortName == "" && !t.noPorts {
		t.noPorts = true
		if m == nil {
			m = &Meta{}
		}
		m.Note = "no port columns (Tcpvcon 4.x): PID to image only"
	}
	if m != nil && !t.yield(Record{Kind: KindMeta, Line: n, Meta: m}, nil) {
		return false
	}
	return t.yield(Record{Kind: KindSocket, Line: n, Socket: s}, nil)
}

// tcpvconSocket builds a Socket from the text of its fields.
func tcpvconSocket(protoTok, process, pidText, stateText, local, remote string) (*Socket, error) {
	proto, ok := tcpvconProto(strings.TrimSpace(protoTok))
	if !ok {
		return nil, fmt.Errorf("unknown protocol %q", protoTok)
	}
	pid, err := parsePIDText(strings.TrimSpace(pidText))
	if err != nil {
		return nil, fmt.Errorf("PID %q: %v", pidText, err)
	}
	s := &Socket{Proto: proto, PID: pid, Image: strings.TrimSpace(process)}
	s.StateRaw = strings.TrimSpace(stateText)
	switch {
	case proto == UDP && (s.StateRaw == "*" || s.StateRaw == ""):
	case proto == UDP:
		return nil, fmt.Errorf("UDP endpoint with state %q", s.StateRaw)
	case s.StateRaw == "":
		// Text blocks of an unverified layout may leave it out.
	default:
		if s.State, ok = tcpvconState(s.StateRaw); !ok {
			return nil, fmt.Errorf("unknown state %q", s.StateRaw)
		}
	}
	ep, err := parseTcpvconEndpoint(local, proto)
	if err != nil {
		return nil, fmt.Errorf("local address %q: %v", local, err)
	}
	if ep.wildcard {
		return nil, fmt.Errorf("local address %q: not an endpoint", local)
	}
	s.LocalAddr, s.LocalHost = ep.addr, ep.host
	s.LocalPort, s.HasPort, s.LocalPortName = ep.port, ep.hasPort, ep.portName
	ep, err = parseTcpvconEndpoint(remote, proto)
	if err != nil {
		return nil, fmt.Errorf("remote address %q: %v", remote, err)
	}
	s.RemoteAddr, s.RemoteHost = ep.addr, ep.host
	s.RemotePort, s.RemotePortName = ep.port, ep.portName
	return s, nil
}

// tcpvconEndpoint is one address field.
type tcpvconEndpoint struct {
	addr     netip.Addr
	host     string
	port     uint16
	hasPort  bool
	portName string
	wildcard bool // `*` or `*:*` (UDP remote), or an empty remote
}

// parseTcpvconEndpoint reads an address field: `0.0.0.0`, `[0:0:…:0]`
// (4.x, no port), `10.0.0.5:445`, `[::]:135`, `host:netbios-ssn`, `*:*`.
// A port name is resolved with LookupPortName.
func parseTcpvconEndpoint(field string, proto Proto) (tcpvconEndpoint, error) {
	var ep tcpvconEndpoint
	field = strings.TrimSpace(field)
	if field == "" || field == "*" || field == "*:*" {
		ep.wildcard = true
		return ep, nil
	}
	host, port := field, ""
	bracketed := strings.HasPrefix(field, "[")
	switch {
	case bracketed:
		end := strings.IndexByte(field, ']')
		if end < 0 {
			return ep, fmt.Errorf("no closing bracket")
		}
		host = field[1:end]
		switch rest := field[end+1:]; {
		case rest == "":
		case strings.HasPrefix(rest, ":"):
			port = rest[1:]
			if port == "" {
				return ep, fmt.Errorf("empty port")
			}
		default:
			return ep, fmt.Errorf("text after the bracket")
		}
	case strings.Count(field, ":") == 1:
		host, port, _ = strings.Cut(field, ":")
	}
	if host == "" {
		return ep, fmt.Errorf("empty host")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		ep.addr = a
	} else if bracketed || strings.ContainsAny(host, ": \t,[]") {
		return ep, fmt.Errorf("bad address")
	} else if host != "*" {
		ep.host = host
	}
	switch {
	case port == "" || port == "*":
	case allDigits(port):
		v, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return ep, fmt.Errorf("port out of range")
		}
		ep.port, ep.hasPort = uint16(v), true
	case strings.ContainsAny(port, " \t:[]"):
		return ep, fmt.Errorf("bad port %q", port)
	default:
		ep.portName = port
		ep.port, ep.hasPort = LookupPortName(port, proto)
	}
	return ep, nil
}

// tcpvconState maps a TCP state word to one of the State constants. It
// accepts netstat's words (LISTENING, TIME_WAIT) and TCPView's (Listen,
// Time Wait, SYN_RCVD), in any case, with `_`, `-` or spaces.
func tcpvconState(raw string) (string, bool) {
	key := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ':
			return -1
		}
		return r
	}, strings.ToUpper(raw))
	switch key {
	case "LISTENING", "LISTEN":
		return StateListening, true
	case "ESTABLISHED":
		return StateEstablished, true
	case "TIMEWAIT":
		return StateTimeWait, true
	case "CLOSEWAIT":
		return StateCloseWait, true
	case "SYNSENT":
		return StateSynSent, true
	case "SYNRECEIVED", "SYNRCVD", "SYNRECV":
		return StateSynReceived, true
	case "FINWAIT1":
		return StateFinWait1, true
	case "FINWAIT2":
		return StateFinWait2, true
	case "LASTACK":
		return StateLastAck, true
	case "CLOSING":
		return StateClosing, true
	case "CLOSED":
		return StateClosed, true
	case "BOUND":
		return StateBound, true
	case "DELETETCB":
		return StateDeleteTCB, true
	}
	return "", false
}
