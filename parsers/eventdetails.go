package parsers

import (
	"bytes"
	"context"
	"io"
	"strings"
)

// Event Viewer's "Copy → Copy Details as Text" (Ctrl+C on an event), the
// form people paste into tickets and forum threads (variant
// "event-details"):
//
//	Log Name:      System
//	Source:        Service Control Manager
//	Date:          3/2/2026 9:01:30 AM
//	Event ID:      7023
//	Task Category: None
//	Level:         Error
//	Keywords:      Classic
//	User:          N/A
//	Computer:      SRV01.corp.example
//	Description:
//	The BlackBerry Router service terminated with the following error:
//	Only one usage of each socket address … is normally permitted.
//	Event Xml:
//	<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"> … </Event>
//
// The labels are in the UI language (de "Protokollname", "Quelle",
// "Datum", "Ereignis-ID" …), so they are read by position: the log, the
// source, the date and the event ID come first; the label with no value is
// the description's, and the label line before it names the computer. The
// description runs to the "Event Xml:" label or to the next event (the
// first label again). When the XML follows, it decides: its insertion
// strings, record ID and UTC time; the description is kept as the message.
const variantDetails = "event-details"

// detailsMinLabels is how many "label: value" lines open an event.
const detailsMinLabels = 6

// detailsLabel splits "Label:   value"; the label is 1–40 bytes of text
// without a colon.
func detailsLabel(line string) (label, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 || i > 40 || line[0] == ' ' || line[0] == '\t' || line[0] == '<' {
		return "", "", false
	}
	return strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:]), true
}

// evexSniffDetails reports a pasted event: its first lines are labels, the
// fourth value a number, the third a date.
func evexSniffDetails(head []byte) bool {
	var values []string
	rest := head
	for len(rest) > 0 && len(values) < detailsMinLabels {
		var line []byte
		line, rest = psSniffNextLine(rest)
		s := string(bytes.TrimRight(line, "\r"))
		if strings.TrimSpace(s) == "" {
			if len(values) == 0 {
				continue
			}
			return false
		}
		_, v, ok := detailsLabel(s)
		if !ok || v == "" {
			return false
		}
		values = append(values, v)
	}
	if len(values) < detailsMinLabels || len(values[3]) > 5 || !allDigits([]byte(values[3])) {
		return false
	}
	_, err := parseLocalTime("", evexCleanTime(values[2]))
	return err == nil
}

// evexParseDetails reads pasted event details.
func evexParseDetails(ctx context.Context, r io.Reader, yield func(Record, error) bool) {
	if !yield(Record{Kind: KindMeta, Meta: &Meta{Variant: variantDetails}}, nil) {
		return
	}
	x := newEvexReader(evexReader{variant: variantWinEvent, cols: map[string]int{
		"logname": 0, "providername": 1, "timecreated": 2, "id": 3, "machinename": 4, "message": 5}})
	const (
		inHeader = iota
		inDescription
		inMaybeXML // a label with no value in the description: "Event Xml:"?
		inXML
		inJunk
	)
	var (
		first   string // the first label: the start of each event
		values  []string
		desc    strings.Builder
		xmlBuf  bytes.Buffer
		start   int
		state   = inJunk
		xmlLine int
		held    string
	)
	addDesc := func(line string) {
		if desc.Len() < evexMaxMessage {
			if desc.Len() > 0 {
				desc.WriteByte('\n')
			}
			desc.WriteString(line)
		}
	}
	// flush emits the event read so far; a held label line the XML did
	// not follow is the description's, and XML cut short is reported.
	flush := func() bool {
		if state == inMaybeXML {
			addDesc(held)
		}
		cut := state == inXML
		defer func() {
			values = values[:0]
			desc.Reset()
			xmlBuf.Reset()
		}()
		if len(values) < detailsMinLabels {
			return true
		}
		computer := values[len(values)-1]
		rec := []string{values[0], values[1], values[2], values[3], computer, strings.TrimSpace(desc.String())}
		o := x.row(rec, start)
		if o.err == nil && cut {
			if !x.out(yield, evexPending{err: lineError(FormatEventExport, xmlLine, "event XML has no </Event>: not read"), line: xmlLine}) {
				return false
			}
		} else if o.err == nil && xmlBuf.Len() > 0 {
			ev, warns, err := evtxmlDecode(xmlBuf.Bytes(), xmlLine)
			for _, w := range warns {
				if !x.out(yield, evexPending{err: lineError(FormatEventExport, xmlLine, "event XML: %v", w), line: xmlLine}) {
					return false
				}
			}
			switch {
			case err != nil:
				if !x.out(yield, evexPending{err: lineError(FormatEventExport, xmlLine, "event XML: %v", err), line: xmlLine}) {
					return false
				}
			case ev != nil && !ev.Time.IsZero():
				ev.Message = o.rec.Event.Message
				if ev.Computer == "" {
					ev.Computer = computer
				}
				o.rec.Event, o.t = ev, nil
			}
		}
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
		line := sc.text
		label, value, isLabel := detailsLabel(line) // never an XML line: those start with < or a space
		if isLabel && (first == "" || label == first) && value != "" {
			if !flush() {
				return
			}
			if first == "" {
				first = label
			}
			state, start = inHeader, sc.line
			values = append(values, value)
			continue
		}
		switch state {
		case inHeader:
			switch {
			case isLabel && value == "":
				state = inDescription
			case isLabel && len(values) < 32:
				values = append(values, value)
			case !isLabel:
				if !x.out(yield, evexPending{err: lineError(FormatEventExport, sc.line, "not a \"label: value\" line in the event's header"), line: sc.line}) {
					return
				}
				state = inJunk
				values = values[:0]
			}
		case inDescription:
			if isLabel && value == "" {
				state, held = inMaybeXML, line
				continue
			}
			addDesc(line)
		case inMaybeXML:
			if strings.HasPrefix(strings.TrimSpace(line), "<") {
				state, xmlLine = inXML, sc.line
				xmlBuf.WriteString(line)
				xmlBuf.WriteByte('\n')
				if strings.Contains(line, "</Event>") {
					state = inJunk // complete
					if !flush() {
						return
					}
				}
				continue
			}
			addDesc(held)
			addDesc(line)
			state = inDescription
		case inXML:
			if xmlBuf.Len() < evtxmlMaxEvent {
				xmlBuf.WriteString(line)
				xmlBuf.WriteByte('\n')
			}
			if strings.Contains(line, "</Event>") {
				state = inJunk // complete
				if !flush() {
					return
				}
			}
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
	if m := x.hosts.rowsMeta("Computer"); m != nil {
		yield(Record{Kind: KindMeta, Meta: m}, nil)
	}
}
