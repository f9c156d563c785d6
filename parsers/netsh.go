package parsers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
)

// netshExcluded reads `netsh int ipv4 show excludedportrange protocol=tcp`
// (or udp, or ipv6):
//
//	Protocol tcp Port Exclusion Ranges
//
//	Start Port    End Port
//	----------    --------
//	      5357        5357
//	     50000       50059     *
//
//	* - Administered port exclusions.
//
// Title, header and footer are localized, so rows are read positionally:
// two integers and an optional `*` (an administered, persistent exclusion).
// The protocol comes from the only tcp/udp word of the title line (or of a
// command line echoed before it), the IP version from a line naming ipv4 or
// ipv6. A file may hold several tables one after the other, and may also
// hold dynamicport blocks (collector scripts append both commands to one
// file): both parsers read both kinds of blocks, so none is lost whichever
// format was detected.
type netshExcluded struct{}

// Format implements Parser.
func (netshExcluded) Format() Format { return FormatNetshExcluded }

// Version implements Parser.
func (netshExcluded) Version() int { return 1 }

// Sniff reports a header rule made of two runs of dashes followed by a
// range row or by the `* -` footer of an empty table.
func (netshExcluded) Sniff(head []byte) bool { return netshSniffExcluded(head) }

func netshSniffExcluded(head []byte) bool {
	for rest := head; len(rest) > 0; {
		var line []byte
		line, rest, _ = cutSniffLine(rest)
		if !netshIsTableRule(line) {
			continue
		}
		for next := rest; len(next) > 0; {
			line, next, _ = cutSniffLine(next)
			if isBlankBytes(line) {
				continue
			}
			if netshSniffRow(line) || netshIsFooter(line) {
				return true
			}
			break
		}
	}
	return false
}

// Parse implements Parser.
func (netshExcluded) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return parseNetsh(ctx, r, FormatNetshExcluded)
}

// netshDynamic reads `netsh int ipv4 show dynamicport tcp` (or udp, or ipv6):
//
//	Protocol tcp Dynamic Port Range
//	---------------------------------
//	Start Port      : 49152
//	Number of Ports : 16384
//
// The labels are localized (French `Port de démarrage`, Chinese `启动端口`),
// so the block is read by structure: a line of dashes, then two
// `label : integer` lines, the start port and the number of ports, in that
// order. See netshExcluded for the protocol, the IP version and mixed files.
type netshDynamic struct{}

// Format implements Parser.
func (netshDynamic) Format() Format { return FormatNetshDynamic }

// Version implements Parser.
func (netshDynamic) Version() int { return 1 }

// Sniff reports a line of dashes followed by two `label : integer` lines,
// in a head that netshExcluded does not claim (a file holding both kinds of
// output is read as netsh-excluded, which reads both).
func (netshDynamic) Sniff(head []byte) bool {
	if netshSniffExcluded(head) {
		return false
	}
	for rest := head; len(rest) > 0; {
		var line []byte
		line, rest, _ = cutSniffLine(rest)
		if !netshIsDashLine(line) {
			continue
		}
		n := 0
		for next := rest; len(next) > 0 && n < 2; {
			line, next, _ = cutSniffLine(next)
			if isBlankBytes(line) {
				continue
			}
			if !netshSniffLabelInt(line) {
				break
			}
			n++
		}
		if n == 2 {
			return true
		}
	}
	return false
}

// Parse implements Parser.
func (netshDynamic) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return parseNetsh(ctx, r, FormatNetshDynamic)
}

// The steps of a dynamicport block.
const (
	netshDynNone      = iota // not in a block
	netshDynWantStart        // after the dash line
	netshDynWantCount        // after the start port line
)

// netshState is the reading state of parseNetsh.
type netshState struct {
	format    Format
	proto     Proto
	ipVersion string
	dyn       int
	dynLine   int  // line of the dash line or of the start port
	dynStart  int  // start port, when dyn == netshDynWantCount
	dynBad    bool // the start port was reported bad: drop the block
}

func parseNetsh(ctx context.Context, r io.Reader, f Format) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		s := &netshState{format: f}
		sc := newLineScanner(r)
		for sc.Scan() {
			if err := ctx.Err(); err != nil {
				yield(Record{}, &ParseError{Format: f, Line: sc.line, Err: err})
				return
			}
			if sc.long {
				if !yield(Record{}, lineError(f, sc.line, "line longer than %d bytes", maxLine)) {
					return
				}
				continue
			}
			if !s.feed(sc.line, sc.text, yield) {
				return
			}
		}
		if !s.endBlock(yield) {
			return
		}
		if s.dyn == netshDynWantStart {
			if !yield(Record{}, &ParseError{Format: f, Line: s.dynLine,
				Err: fmt.Errorf("dynamic port block ends after the dash line: %w", ErrTruncated)}) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(Record{}, &ParseError{Format: f, Line: sc.line + 1, Err: err})
		}
	}
}

// feed reads one line. It returns false when yield asked to stop.
func (s *netshState) feed(n int, text string, yield func(Record, error) bool) bool {
	trimmed := strings.TrimSpace(text)
	switch {
	case trimmed == "":
		return true
	case netshIsDashLine([]byte(trimmed)):
		if !s.endBlock(yield) {
			return false
		}
		s.dyn, s.dynLine = netshDynWantStart, n
		return true
	case netshIsTableRule([]byte(trimmed)):
		s.dyn = netshDynNone
		return s.endBlock(yield)
	case netshIsIntToken(firstField(trimmed)):
		if !s.endBlock(yield) {
			return false
		}
		s.dyn = netshDynNone
		return s.excludedRow(n, trimmed, yield)
	}
	if label, value, ok := netshCutLabel(trimmed); ok && label != "" && s.dyn != netshDynNone {
		return s.dynamicValue(n, value, yield)
	}
	if !s.endBlock(yield) {
		return false
	}
	s.dyn = netshDynNone
	s.noteContext(trimmed)
	return true
}

// endBlock reports a dynamicport block cut after its start port line.
func (s *netshState) endBlock(yield func(Record, error) bool) bool {
	if s.dyn != netshDynWantCount {
		return true
	}
	s.dyn = netshDynNone
	if s.dynBad {
		return true
	}
	return yield(Record{}, &ParseError{Format: s.format, Line: s.dynLine,
		Err: fmt.Errorf("start port %d without a number of ports: %w", s.dynStart, ErrTruncated)})
}

// excludedRow reads `start end [*]`.
func (s *netshState) excludedRow(n int, text string, yield func(Record, error) bool) bool {
	f := strings.Fields(text)
	if len(f) == 1 || len(f) > 3 || (len(f) == 3 && f[2] != "*") {
		return yield(Record{}, lineError(s.format, n, "excluded range row %q: want start port, end port and an optional *", text))
	}
	start, ok1 := netshPort(f[0])
	end, ok2 := netshPort(f[1])
	switch {
	case !ok1 || !ok2:
		return yield(Record{}, lineError(s.format, n, "excluded range row %q: port out of 0-65535", text))
	case end < start:
		return yield(Record{}, lineError(s.format, n, "excluded range row %q: end before start", text))
	}
	return yield(Record{Kind: KindPortRange, Line: n, PortRange: &PortRange{
		Kind: "excluded", Proto: s.proto, IPVersion: s.ipVersion,
		Start: uint16(start), End: uint16(end), Administered: len(f) == 3,
	}}, nil)
}

// dynamicValue reads the value of a `label : value` line inside a
// dynamicport block: the start port, then the number of ports.
func (s *netshState) dynamicValue(n int, value string, yield func(Record, error) bool) bool {
	v, isInt := netshInt(value)
	if s.dyn == netshDynWantStart {
		s.dyn, s.dynLine, s.dynStart, s.dynBad = netshDynWantCount, n, v, false
		if !isInt || v < 0 || v > 65535 {
			s.dynBad = true
			return yield(Record{}, lineError(s.format, n, "dynamic port start %q: want a port number", value))
		}
		return true
	}
	s.dyn = netshDynNone
	if s.dynBad {
		return true
	}
	if !isInt || v < 1 || s.dynStart+v-1 > 65535 {
		return yield(Record{}, lineError(s.format, n, "number of dynamic ports %q: want 1 to %d from start port %d", value, 65536-s.dynStart, s.dynStart))
	}
	return yield(Record{Kind: KindPortRange, Line: s.dynLine, PortRange: &PortRange{
		Kind: "dynamic", Proto: s.proto, IPVersion: s.ipVersion,
		Start: uint16(s.dynStart), End: uint16(s.dynStart + v - 1),
	}}, nil)
}

// noteContext takes the protocol and the IP version from a title or an
// echoed command line: the only tcp/udp word and the only ipv4/ipv6 word.
func (s *netshState) noteContext(text string) {
	var tcp, udp, v4, v6 bool
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !isASCIIAlnum(r) }) {
		switch strings.ToLower(w) {
		case "tcp":
			tcp = true
		case "udp":
			udp = true
		case "ipv4":
			v4 = true
		case "ipv6":
			v6 = true
		}
	}
	switch {
	case tcp && !udp:
		s.proto = TCP
	case udp && !tcp:
		s.proto = UDP
	}
	switch {
	case v4 && !v6:
		s.ipVersion = "ipv4"
	case v6 && !v4:
		s.ipVersion = "ipv6"
	}
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// netshPort parses a port number 0-65535.
func netshPort(s string) (int, bool) {
	v, ok := netshInt(s)
	return v, ok && v >= 0 && v <= 65535
}

// netshInt parses an optionally signed decimal integer.
func netshInt(s string) (int, bool) {
	if !netshIsIntToken(s) {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		// Too many digits: an integer, but out of any range.
		return -1, true
	}
	return v, true
}

// netshIsIntToken reports whether s is an optionally signed run of digits.
func netshIsIntToken(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// netshCutLabel splits `label : value` at the first ASCII or full-width
// colon and trims both sides.
func netshCutLabel(s string) (label, value string, ok bool) {
	i := strings.IndexByte(s, ':')
	w := 1
	if j := strings.Index(s, "："); j >= 0 && (i < 0 || j < i) {
		i, w = j, len("：")
	}
	if i < 0 {
		return "", "", false
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+w:]), true
}

func firstField(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// netshIsDashLine reports a line that is one run of dashes (the rule under
// a dynamicport title).
func netshIsDashLine(line []byte) bool {
	tok, rest := nextSniffField(line)
	f, _ := nextSniffField(rest)
	return len(tok) >= 3 && f == nil && onlyDashes(tok)
}

// netshIsTableRule reports the `----------    --------` rule under the
// excludedportrange column headers: exactly two runs of dashes.
func netshIsTableRule(line []byte) bool {
	a, rest := nextSniffField(line)
	b, rest := nextSniffField(rest)
	c, _ := nextSniffField(rest)
	return len(a) >= 2 && len(b) >= 2 && c == nil && onlyDashes(a) && onlyDashes(b)
}

// netshIsFooter reports the `* - …` footer of an excludedportrange table.
func netshIsFooter(line []byte) bool {
	a, rest := nextSniffField(line)
	b, _ := nextSniffField(rest)
	return string(a) == "*" && string(b) == "-"
}

// netshSniffRow reports a `start end [*]` row of port numbers.
func netshSniffRow(line []byte) bool {
	a, rest := nextSniffField(line)
	b, rest := nextSniffField(rest)
	c, rest := nextSniffField(rest)
	d, _ := nextSniffField(rest)
	return sniffPort(a) && sniffPort(b) && (c == nil || string(c) == "*") && d == nil
}

// netshSniffLabelInt reports a `label : integer` line.
func netshSniffLabelInt(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	w := 1
	if j := bytes.Index(line, []byte("：")); j >= 0 && (i < 0 || j < i) {
		i, w = j, len("：")
	}
	if i < 0 || isBlankBytes(line[:i]) {
		return false
	}
	return sniffPort(bytes.TrimSpace(line[i+w:]))
}

// sniffPort reports 1 to 5 digits.
func sniffPort(b []byte) bool {
	if len(b) == 0 || len(b) > 5 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func onlyDashes(b []byte) bool {
	for _, c := range b {
		if c != '-' {
			return false
		}
	}
	return true
}

func isBlankBytes(b []byte) bool {
	return len(bytes.TrimSpace(b)) == 0
}

// cutSniffLine returns the first line of b without its line ending, the
// rest of b, and whether the line was ended by a newline (the last line of
// a sniffed head may be cut).
func cutSniffLine(b []byte) (line, rest []byte, complete bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte("\r")), nil, false
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:], true
}

// nextSniffField returns the first space- or tab-separated field of b and
// what follows it; field is nil when b holds no more fields.
func nextSniffField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}
