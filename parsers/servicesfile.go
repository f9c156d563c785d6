package parsers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
)

// servicesFile reads the host's %SystemRoot%\System32\drivers\etc\services:
//
//	# <service name>  <port number>/<protocol>  [aliases...]   [#<comment>]
//	echo                7/tcp
//	discard             9/tcp    sink null              #Discard
//
// `#` starts a comment anywhere on a line. Each entry yields a ServicePort,
// which maps the port names netstat -a prints to numbers as this host
// knew them.
type servicesFile struct{}

// Format implements Parser.
func (servicesFile) Format() Format { return FormatServices }

// Version implements Parser.
func (servicesFile) Version() int { return 1 }

// Sniff reports at least three `name number/tcp|udp` lines that outnumber
// the other lines (comments and blank lines aside) four to one.
func (servicesFile) Sniff(head []byte) bool {
	entries, other := 0, 0
	for rest := head; len(rest) > 0; {
		var line []byte
		var complete bool
		line, rest, complete = cutSniffLine(rest)
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		name, tail := nextSniffField(line)
		if name == nil {
			continue
		}
		portProto, _ := nextSniffField(tail)
		switch {
		case servicesSniffPortProto(portProto):
			entries++
		case complete:
			other++
		}
	}
	return entries >= 3 && other*4 <= entries
}

// servicesSniffPortProto reports `digits/tcp` or `digits/udp`.
func servicesSniffPortProto(b []byte) bool {
	i := bytes.IndexByte(b, '/')
	if i < 0 {
		return false
	}
	proto := b[i+1:]
	return sniffPort(b[:i]) && (equalFoldBytes(proto, "tcp") || equalFoldBytes(proto, "udp"))
}

// Parse implements Parser.
func (servicesFile) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		const f = FormatServices
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
			text, _, _ := strings.Cut(sc.text, "#")
			fields := strings.Fields(text)
			if len(fields) == 0 {
				continue
			}
			sp, err := servicesEntry(fields)
			if err != nil {
				if !yield(Record{}, lineError(f, sc.line, "entry %q: %v", strings.TrimSpace(text), err)) {
					return
				}
				continue
			}
			if !yield(Record{Kind: KindServicePort, Line: sc.line, ServicePort: sp}, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(Record{}, &ParseError{Format: f, Line: sc.line + 1, Err: err})
		}
	}
}

// servicesEntry reads the fields of `name port/proto [aliases…]`.
func servicesEntry(fields []string) (*ServicePort, error) {
	if len(fields) < 2 {
		return nil, errors.New("want a name and port/protocol")
	}
	port, proto, ok := strings.Cut(fields[1], "/")
	if !ok {
		return nil, errors.New("want port/protocol after the name")
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, errors.New("port not in 0-65535")
	}
	sp := &ServicePort{Name: fields[0], Port: uint16(n)}
	switch strings.ToLower(proto) {
	case "tcp":
		sp.Proto = TCP
	case "udp":
		sp.Proto = UDP
	default:
		return nil, errors.New("protocol not tcp or udp")
	}
	if len(fields) > 2 {
		sp.Aliases = fields[2:]
	}
	return sp, nil
}
