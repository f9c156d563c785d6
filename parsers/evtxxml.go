package parsers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// evtxmlNS is the namespace of the Windows event schema.
const evtxmlNS = "http://schemas.microsoft.com/win/2004/08/events/event"

// evtxmlMaxEvent bounds the size of one <Event> element.
const evtxmlMaxEvent = 1 << 20

// evtxXML reads events exported as XML:
//
//	wevtutil qe System /f:xml > system.xml            (a stream of <Event> elements, no root)
//	wevtutil qe System /f:RenderedXml > system.xml    (the same with <RenderingInfo>)
//	Event Viewer, "Save All Events As…", XML           (<Events> root after an <?xml?> prolog)
//
// PowerShell redirection writes the wevtutil stream as UTF-16LE; Read
// decodes it before Parse sees it. python-evtx's evtx_dump.py writes the
// same schema (with an XML 1.1 prolog, times as "2017-07-12 17:16:28.214161"
// and <Binary> in base64), and is read too.
//
// Parse frames the input itself, one <Event> element at a time: it skips
// the prolog, comments and the <Events> root, copies the bytes from
// "<Event" to the matching "</Event>" (at most evtxmlMaxEvent) and decodes
// them with an encoding/xml Decoder (DecodeElement). Framing by hand is
// what makes resynchronisation possible: an encoding/xml Decoder keeps its
// first syntax error for good, and it rejects the XML 1.1 prolog of
// python-evtx and encoding declarations (UTF-16) that no longer hold once
// the text is decoded. So a malformed event is one *ParseError with the
// line where it starts (its message gives the line of the fault, counted
// as xml.Decoder.InputPos does, offset to the whole input), and parsing
// goes on at the next "<Event" — which also ends an event that lacks its
// end tag. Text outside events is reported once per run.
//
// Event fields: EventID masked with 0xFFFF (the high bits, when a tool
// wrote the 32-bit identifier, go to Qualifiers unless the Qualifiers
// attribute says otherwise), Provider Name (else EventSourceName),
// EventSourceName when it differs, Guid, TimeCreated SystemTime as UTC,
// EventRecordID, Channel, Computer, Level, EventData <Data> in order
// (unnamed ones with an empty Name), UserData, DebugData and
// ProcessingErrorData flattened to path-like names ("LogFileCleared/
// SubjectUserName", attributes as ".../@Name"), <Binary> or
// BinaryEventData as upper-case hex, RenderingInfo/Message as Message.
// Characters that XML 1.0 forbids (control characters that some
// exporters write raw or as character references) become U+FFFD.
type evtxXML struct{}

// Format implements Parser.
func (evtxXML) Format() Format { return FormatEVTXXML }

// Version implements Parser.
func (evtxXML) Version() int { return 1 }

// Sniff implements Parser: an <Event> or <Events> start tag and the event
// schema namespace in the head.
//
// Event Viewer's "Copy Details as Text" carries the XML after a labelled
// header and the description: that is the event-export parser's
// (eventdetails.go), which reads the XML too.
func (evtxXML) Sniff(head []byte) bool {
	if !bytes.Contains(head, []byte(evtxmlNS)) || evexSniffDetails(head) {
		return false
	}
	for i := 0; ; {
		j := bytes.Index(head[i:], []byte("<Event"))
		if j < 0 {
			return false
		}
		i += j + len("<Event")
		if i < len(head) && head[i] == 's' {
			i++
		}
		if i == len(head) || evtxmlDelim(head[i]) {
			return true
		}
	}
}

// evtxmlDelim reports whether b may follow an element name in a tag.
func evtxmlDelim(b byte) bool {
	return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '>' || b == '/'
}

// Parse implements Parser.
func (evtxXML) Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		s := &evtxmlScanner{r: bufio.NewReaderSize(r, 64<<10), line: 1}
		for {
			if err := ctx.Err(); err != nil {
				yield(Record{}, &ParseError{Format: FormatEVTXXML, Line: s.line, Err: err})
				return
			}
			chunk, line, err := s.next()
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					pe = &ParseError{Format: FormatEVTXXML, Line: s.line, Err: err}
				}
				if !yield(Record{}, pe) || s.done {
					return
				}
				continue
			}
			if chunk == nil {
				return
			}
			ev, warns, err := evtxmlDecode(chunk, line)
			for _, w := range warns {
				if !yield(Record{}, &ParseError{Format: FormatEVTXXML, Line: line, Err: w}) {
					return
				}
			}
			if err != nil {
				if !yield(Record{}, &ParseError{Format: FormatEVTXXML, Line: line, Err: err}) {
					return
				}
				continue
			}
			if !yield(Record{Kind: KindEvent, Line: line, Event: ev}, nil) {
				return
			}
		}
	}
}

// evtxmlScanner frames the input into <Event> elements.
type evtxmlScanner struct {
	r    *bufio.Reader
	line int // line of the next byte
	buf  []byte
	// pending is set when an event ended at the start of the next one:
	// its "<" is consumed and its line is pendingLine.
	pending     bool
	pendingLine int
	// junk is set while skipping text outside events, reported once.
	junk bool
	// done is set when the input ended or failed.
	done bool
}

func (s *evtxmlScanner) readByte() (byte, error) {
	b, err := s.r.ReadByte()
	if err == nil && b == '\n' {
		s.line++
	}
	return b, err
}

// peekIs reports whether the bytes after the current position start with p.
func (s *evtxmlScanner) peekIs(p string) bool {
	b, _ := s.r.Peek(len(p))
	return string(b) == p
}

// peekEventTag reports whether the next bytes are name (after a "<" or
// "</" already read) followed by a tag delimiter.
func (s *evtxmlScanner) peekEventTag(name string) bool {
	b, _ := s.r.Peek(len(name) + 1)
	if len(b) < len(name) || string(b[:len(name)]) != name {
		return false
	}
	return len(b) == len(name) || evtxmlDelim(b[len(name)])
}

// skipPast consumes input up to and including end; keep appends the
// bytes to the event being copied.
func (s *evtxmlScanner) skipPast(end string, keep bool) error {
	w := make([]byte, 0, len(end)) // the last len(end) bytes read
	for {
		b, err := s.readByte()
		if err != nil {
			return err
		}
		if keep {
			s.buf = append(s.buf, b)
		}
		if len(w) == len(end) {
			copy(w, w[1:])
			w = w[:len(w)-1]
		}
		w = append(w, b)
		if string(w) == end {
			return nil
		}
	}
}

// skipTag consumes the rest of a tag up to its ">", outside quotes, and
// reports whether it was self-closing.
func (s *evtxmlScanner) skipTag(keep bool) (selfClosing bool, err error) {
	var quote, prev byte
	for {
		b, err := s.readByte()
		if err != nil {
			return false, err
		}
		if keep {
			s.buf = append(s.buf, b)
		}
		switch {
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '"' || b == '\'':
			quote = b
		case b == '>':
			return prev == '/', nil
		}
		prev = b
	}
}

// next returns the next <Event> element and the line it starts on, nil
// at the end of the input, or an error for what could not be framed.
func (s *evtxmlScanner) next() ([]byte, int, error) {
	for {
		if s.pending {
			s.pending = false
			return s.event(s.pendingLine)
		}
		line := s.line
		b, err := s.readByte()
		if err != nil {
			return s.end(err)
		}
		switch {
		case b == ' ' || b == '\t' || b == '\r' || b == '\n':
			continue
		case b != '<':
			if err := s.startJunk(line); err != nil {
				return nil, 0, err
			}
			continue
		}
		switch {
		case s.peekEventTag("Event"):
			s.junk = false
			return s.event(line)
		case s.peekIs("?"):
			err = s.skipPast("?>", false)
		case s.peekIs("!--"):
			err = s.skipPast("-->", false)
		case s.peekIs("![CDATA["):
			if err = s.startJunk(line); err == nil {
				err = s.skipPast("]]>", false)
			}
		case s.peekIs("!"):
			_, err = s.skipTag(false) // DOCTYPE
		case s.peekEventTag("Events"), s.peekEventTag("/Events"):
			_, err = s.skipTag(false)
		default:
			if err = s.startJunk(line); err == nil {
				_, err = s.skipTag(false)
			}
		}
		if err != nil {
			return s.end(err)
		}
	}
}

// startJunk reports text or markup outside events, once per run of it.
func (s *evtxmlScanner) startJunk(line int) error {
	if s.junk {
		return nil
	}
	s.junk = true
	return lineError(FormatEVTXXML, line, "text outside an <Event> element: skipped to the next <Event>")
}

// end finishes at the end of the input or on a read error.
func (s *evtxmlScanner) end(err error) ([]byte, int, error) {
	s.done = true
	if err == io.EOF {
		return nil, 0, nil
	}
	return nil, 0, &ParseError{Format: FormatEVTXXML, Line: s.line, Err: err}
}

// event copies one <Event> element whose "<" was read at line.
func (s *evtxmlScanner) event(line int) ([]byte, int, error) {
	s.buf = append(s.buf[:0], '<')
	selfClosing, err := s.skipTag(true)
	if err != nil {
		return s.cut(line, err)
	}
	if selfClosing {
		return s.buf, line, nil
	}
	for {
		if len(s.buf) > evtxmlMaxEvent {
			s.junk = true // skip what is left of it silently
			return nil, 0, lineError(FormatEVTXXML, line, "event larger than %d bytes: skipped", evtxmlMaxEvent)
		}
		at := s.line
		b, err := s.readByte()
		if err != nil {
			return s.cut(line, err)
		}
		if b != '<' {
			s.buf = append(s.buf, b)
			continue
		}
		switch {
		case s.peekEventTag("Event"):
			// A new event starts before this one ended.
			s.pending, s.pendingLine = true, at
			return nil, 0, lineError(FormatEVTXXML, line, "event has no </Event> before the next <Event> on line %d: %w", at, ErrTruncated)
		case s.peekEventTag("/Event"):
			s.buf = append(s.buf, b)
			if _, err := s.skipTag(true); err != nil {
				return s.cut(line, err)
			}
			return s.buf, line, nil
		case s.peekIs("!--"):
			s.buf = append(s.buf, b)
			err = s.skipPast("-->", true)
		case s.peekIs("![CDATA["):
			s.buf = append(s.buf, b)
			err = s.skipPast("]]>", true)
		default:
			s.buf = append(s.buf, b)
		}
		if err != nil {
			return s.cut(line, err)
		}
	}
}

// cut reports an event that the end of the input (or a read error) cut.
func (s *evtxmlScanner) cut(line int, err error) ([]byte, int, error) {
	s.done = true
	if err == io.EOF {
		err = ErrTruncated
	}
	return nil, 0, lineError(FormatEVTXXML, line, "event cut by the end of the input: %w", err)
}

// The XML shapes decoded. Elements are matched by local name only: the
// namespace is checked on <Event> itself, and an <Events> root that
// declared it for its children is not seen by the per-event decoder.
type (
	evtxmlEvent struct {
		XMLName             xml.Name
		System              *evtxmlSystem `xml:"System"`
		EventData           *evtxmlNode   `xml:"EventData"`
		UserData            *evtxmlNode   `xml:"UserData"`
		DebugData           *evtxmlNode   `xml:"DebugData"`
		ProcessingErrorData *evtxmlNode   `xml:"ProcessingErrorData"`
		BinaryEventData     *string       `xml:"BinaryEventData"`
		RenderingInfo       *struct {
			Message *string `xml:"Message"`
		} `xml:"RenderingInfo"`
	}
	evtxmlSystem struct {
		Provider struct {
			Name            string `xml:"Name,attr"`
			GUID            string `xml:"Guid,attr"`
			EventSourceName string `xml:"EventSourceName,attr"`
		} `xml:"Provider"`
		EventID *struct {
			Qualifiers string `xml:"Qualifiers,attr"`
			Value      string `xml:",chardata"`
		} `xml:"EventID"`
		Level       string `xml:"Level"`
		TimeCreated *struct {
			SystemTime string `xml:"SystemTime,attr"`
		} `xml:"TimeCreated"`
		EventRecordID string `xml:"EventRecordID"`
		Channel       string `xml:"Channel"`
		Computer      string `xml:"Computer"`
	}
	evtxmlNode struct {
		XMLName  xml.Name
		Attrs    []xml.Attr   `xml:",any,attr"`
		Text     string       `xml:",chardata"`
		Children []evtxmlNode `xml:",any"`
	}
)

// evtxmlDecode decodes one framed <Event> element that starts on line.
// warns are problems with single fields of an event that is still
// returned; err means there is no event.
func evtxmlDecode(chunk []byte, line int) (*Event, []error, error) {
	chunk = evtxmlSanitize(chunk)
	dec := xml.NewDecoder(bytes.NewReader(chunk))
	var x evtxmlEvent
	var start xml.StartElement
	err := func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		st, ok := tok.(xml.StartElement)
		if !ok {
			return errors.New("no start tag")
		}
		start = st
		return dec.DecodeElement(&x, &start)
	}()
	if err != nil {
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			if at := line + se.Line - 1; at != line {
				return nil, nil, fmt.Errorf("malformed event (line %d: %s)", at, se.Msg)
			}
			return nil, nil, fmt.Errorf("malformed event: %s", se.Msg)
		}
		return nil, nil, fmt.Errorf("malformed event: %w", err)
	}
	if ns := start.Name.Space; ns != "" && ns != evtxmlNS {
		return nil, nil, fmt.Errorf("<Event> in namespace %q, not the event schema's", ns)
	}
	sys := x.System
	if sys == nil {
		return nil, nil, errors.New("event without <System>")
	}
	ev := &Event{
		Channel:      strings.TrimSpace(sys.Channel),
		Provider:     strings.TrimSpace(sys.Provider.Name),
		ProviderGUID: strings.TrimSpace(sys.Provider.GUID),
		Computer:     strings.TrimSpace(sys.Computer),
	}
	var warns []error
	if src := strings.TrimSpace(sys.Provider.EventSourceName); ev.Provider == "" {
		ev.Provider = src
	} else if src != ev.Provider {
		ev.EventSource = src
	}
	if ev.Provider == "" {
		warns = append(warns, errors.New("event without a provider name"))
	}

	if sys.EventID == nil {
		return nil, nil, errors.New("event without <EventID>")
	}
	id, err := strconv.ParseUint(strings.TrimSpace(sys.EventID.Value), 10, 32)
	if err != nil {
		return nil, nil, fmt.Errorf("bad EventID %q", sys.EventID.Value)
	}
	ev.EventID, ev.Qualifiers = uint16(id), uint16(id>>16)
	if q := strings.TrimSpace(sys.EventID.Qualifiers); q != "" {
		if v, err := strconv.ParseUint(q, 10, 16); err == nil {
			ev.Qualifiers = uint16(v)
		} else {
			warns = append(warns, fmt.Errorf("bad EventID Qualifiers %q", q))
		}
	}

	if sys.TimeCreated == nil {
		return nil, nil, errors.New("event without <TimeCreated>")
	}
	ev.Time, err = evtxmlTime(sys.TimeCreated.SystemTime)
	if err != nil {
		return nil, nil, err
	}
	if v := strings.TrimSpace(sys.EventRecordID); v != "" {
		if ev.RecordID, err = strconv.ParseUint(v, 10, 64); err != nil {
			warns = append(warns, fmt.Errorf("bad EventRecordID %q", v))
		}
	}
	if v := strings.TrimSpace(sys.Level); v != "" {
		if l, err := strconv.ParseUint(v, 10, 8); err == nil {
			ev.Level = uint8(l)
		} else {
			warns = append(warns, fmt.Errorf("bad Level %q", v))
		}
	}

	binaries := []string{}
	if d := x.EventData; d != nil {
		for _, c := range d.Children {
			switch c.XMLName.Local {
			case "Data":
				ev.Data = append(ev.Data, Field{Name: evtxmlAttr(c.Attrs, "Name"), Value: c.Text})
			case "Binary":
				binaries = append(binaries, c.Text)
			default:
				ev.Data = evtxmlFlatten(ev.Data, c, c.XMLName.Local)
			}
		}
	}
	for _, n := range []*evtxmlNode{x.UserData, x.DebugData, x.ProcessingErrorData} {
		if n == nil {
			continue
		}
		for _, c := range n.Children {
			prefix := c.XMLName.Local
			if n != x.UserData {
				prefix = n.XMLName.Local + "/" + prefix
			}
			ev.Data = evtxmlFlatten(ev.Data, c, prefix)
		}
	}
	if x.BinaryEventData != nil {
		binaries = append(binaries, *x.BinaryEventData)
	}
	for _, b := range binaries {
		h, err := evtxmlBinary(b)
		if err != nil {
			warns = append(warns, err)
			continue
		}
		ev.Binary += h
	}
	if x.RenderingInfo != nil && x.RenderingInfo.Message != nil {
		ev.Message = *x.RenderingInfo.Message
	}
	return ev, warns, nil
}

func evtxmlAttr(attrs []xml.Attr, name string) string {
	for _, a := range attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// evtxmlFlatten appends n's attributes, text and children as fields named
// by their path under UserData.
func evtxmlFlatten(out []Field, n evtxmlNode, path string) []Field {
	for _, a := range n.Attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		out = append(out, Field{Name: path + "/@" + a.Name.Local, Value: a.Value})
	}
	if len(n.Children) == 0 {
		return append(out, Field{Name: path, Value: n.Text})
	}
	if t := strings.TrimSpace(n.Text); t != "" {
		out = append(out, Field{Name: path, Value: t})
	}
	for _, c := range n.Children {
		out = evtxmlFlatten(out, c, path+"/"+c.XMLName.Local)
	}
	return out
}

// evtxmlBinary converts a <Binary> value to upper-case hex. Windows writes
// hex; python-evtx writes base64, recognised when the value is not hex.
func evtxmlBinary(s string) (string, error) {
	s = strings.TrimSpace(s)
	if _, err := hex.DecodeString(s); err == nil {
		return strings.ToUpper(s), nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return strings.ToUpper(hex.EncodeToString(b)), nil
	}
	return "", fmt.Errorf("<Binary> is neither hex nor base64: %.40q", s)
}

// evtxmlTime parses a SystemTime: RFC 3339 in UTC with up to 9 fractional
// digits as Windows writes it, or python-evtx's "2006-01-02 15:04:05.999999"
// (UTC, no zone).
func evtxmlTime(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if len(v) > 10 && v[10] == ' ' {
		v = v[:10] + "T" + v[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05.999999999", v)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("bad TimeCreated SystemTime %q", s)
	}
	return t.UTC(), nil
}

// evtxmlSanitize replaces what XML 1.0 forbids and encoding/xml rejects
// (invalid UTF-8, raw control characters, character references to them)
// with U+FFFD, so that one odd character does not cost the whole event.
func evtxmlSanitize(b []byte) []byte {
	clean := utf8.Valid(b)
	for i := 0; clean && i < len(b); i++ {
		if c := b[i]; (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c == '&' && i+1 < len(b) && b[i+1] == '#') {
			clean = false
		}
	}
	if clean {
		return b
	}
	b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			out = append(out, "\uFFFD"...)
		case c == '&' && i+1 < len(b) && b[i+1] == '#':
			end := bytes.IndexByte(b[i:min(len(b), i+16)], ';')
			if end < 0 {
				out = append(out, c)
				continue
			}
			ref := string(b[i+2 : i+end])
			var n uint64
			var err error
			if strings.HasPrefix(ref, "x") {
				n, err = strconv.ParseUint(ref[1:], 16, 32)
			} else {
				n, err = strconv.ParseUint(ref, 10, 32)
			}
			if err == nil && !evtxmlChar(rune(n)) {
				out = append(out, "\uFFFD"...)
				i += end
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// evtxmlChar reports whether r is allowed in XML 1.0 text.
func evtxmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
