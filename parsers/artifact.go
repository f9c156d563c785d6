package parsers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// maxKeptErrors bounds the parse errors an Artifact keeps; the rest are
// only counted.
const maxKeptErrors = 200

// Artifact describes one input file as parsed. Its counters and the facts
// taken from Meta records are complete once the record sequence returned
// with it has been consumed.
type Artifact struct {
	Path          string
	Format        Format
	ParserVersion int
	Encoding      Encoding
	Locale        string
	Variant       string
	Host          string
	// CapturedAt is when the artifact was taken, if it says: a timestamp
	// line in its head (Read finds it). When CapturedLocal is set it is
	// the host's wall-clock time, stored with the UTC location.
	// CaptureSource is CaptureTimestampLine, or "" (the caller then sets
	// its own: the file name, the archive entry's or the file's time, a
	// flag).
	CapturedAt    time.Time
	CapturedLocal bool
	CaptureSource CaptureSource
	// System holds the host facts of a systeminfo capture (the last host's
	// when it describes several), nil otherwise.
	System  *SystemFacts
	Notes   []string
	Records int
	// Errors are the first problems found (at most maxKeptErrors);
	// ErrorCount counts them all.
	Errors     []*ParseError
	ErrorCount int
}

// Read detects the format of r (unless format is set) and returns the
// artifact with the sequence of its records. path names the input in
// errors. Text is decoded to UTF-8 on the way; binary formats get r itself
// and may need it to be an io.ReaderAt (an *os.File is). An input that no
// parser claims gives Format FormatUnknown and an empty sequence. The
// host of an event log is the computer its latest events name (see
// hostTally): a last Meta record gives it, unless the log named one
// itself.
func Read(ctx context.Context, path string, r io.Reader, format Format) (*Artifact, iter.Seq2[Record, error]) {
	a := &Artifact{Path: path, Format: FormatUnknown}
	head, body, err := peek(r)
	if err != nil {
		return a, errSeq(a, &ParseError{Format: FormatUnknown, Path: path, Err: err})
	}
	var p Parser
	var enc Encoding
	if format != "" {
		p, err = ByName(string(format))
		if err != nil {
			return a, errSeq(a, &ParseError{Format: FormatUnknown, Path: path, Err: err})
		}
		enc = EncBinary
		if _, ok := p.(binaryParser); !ok {
			enc = DetectEncoding(head)
		}
	} else {
		p, enc, err = Detect(head)
		a.Encoding = enc
		if err != nil {
			return a, func(func(Record, error) bool) {}
		}
	}
	a.Format, a.ParserVersion, a.Encoding = p.Format(), p.Version(), enc
	// A timestamp line in the head gives the capture time. The head is
	// decoded again here, from memory: the input is not read twice.
	var capture headCapture
	var hasCapture bool
	noteAt := -1
	if enc != EncBinary {
		text := decodeHead(head, enc)
		if capture, hasCapture = findHeadCapture(text, len(head) < rawHeadLen && len(text) < SniffLen); hasCapture {
			noteAt = a.setCapture(capture, orderUnknown, "", noteAt)
		}
	}
	in := body
	if enc != EncBinary {
		in = Decoder(body, enc)
	}
	seq := p.Parse(ctx, in)
	return a, func(yield func(Record, error) bool) {
		var hosts hostTally
		for rec, err := range seq {
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					pe = &ParseError{Format: a.Format, Err: err}
				}
				if pe.Path == "" {
					pe.Path = path
				}
				a.addError(pe)
				if !yield(Record{}, pe) {
					return
				}
				continue
			}
			switch {
			case rec.Kind == KindMeta && rec.Meta != nil:
				a.addMeta(rec.Meta)
			case rec.Kind == KindEvent && rec.Event != nil:
				hosts.observe(rec.Event, a.Records)
				a.Records++
			default:
				a.Records++
			}
			if !yield(rec, nil) {
				return
			}
		}
		// An event log names its host in its events: a last Meta record
		// says which, unless the artifact named one itself.
		if m := hosts.meta(); m != nil && a.Host == "" {
			a.addMeta(m)
			if !yield(Record{Kind: KindMeta, Meta: m}, nil) {
				return
			}
		}
		// The artifact's locale may settle a capture date whose day and
		// month could be swapped.
		if hasCapture && a.CaptureSource == CaptureTimestampLine && capture.st.ambiguous() && capture.st.evidence() == orderUnknown {
			if o := localeOrder(a.Locale); o != orderUnknown {
				a.setCapture(capture, o, "the artifact's locale "+a.Locale, noteAt)
			}
		}
	}
}

// setCapture sets the capture time from a timestamp line, reading an
// ambiguous numeric date in order (orderUnknown: the default guess, see
// stamp.guessOrder) and saying so in a note, which replaces the note at
// noteAt if there is one. It returns the note's index, or -1.
func (a *Artifact) setCapture(c headCapture, order int, reason string, noteAt int) int {
	if order == orderUnknown && c.st.ambiguous() && c.st.evidence() == orderUnknown {
		order, reason = c.st.guessOrder()
	}
	t, local, err := c.st.time(order)
	if err != nil {
		return noteAt
	}
	a.CapturedAt, a.CapturedLocal, a.CaptureSource = t, local, CaptureTimestampLine
	if reason == "" {
		return noteAt
	}
	note := fmt.Sprintf("capture time from line %d %q read as %s: %s", c.line, c.text, orderName(order), reason)
	if noteAt >= 0 && noteAt < len(a.Notes) {
		a.Notes[noteAt] = note
		return noteAt
	}
	a.Notes = append(a.Notes, note)
	return len(a.Notes) - 1
}

func (a *Artifact) addError(pe *ParseError) {
	a.ErrorCount++
	if len(a.Errors) < maxKeptErrors {
		a.Errors = append(a.Errors, pe)
	}
}

func (a *Artifact) addMeta(m *Meta) {
	if m.Locale != "" {
		a.Locale = m.Locale
	}
	if m.Variant != "" {
		a.Variant = m.Variant
	}
	if m.Host != "" {
		a.Host = m.Host
	}
	if m.System != nil {
		a.System = m.System
	}
	if m.Note != "" {
		a.Notes = append(a.Notes, m.Note)
	}
}

func errSeq(a *Artifact, pe *ParseError) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		a.addError(pe)
		yield(Record{}, pe)
	}
}

// peek returns the first rawHeadLen bytes of r and a reader that still
// yields all of r. A reader with random access is read with ReadAt and
// returned unchanged, so binary parsers keep their io.ReaderAt.
func peek(r io.Reader) ([]byte, io.Reader, error) {
	if ra, ok := r.(io.ReaderAt); ok {
		head := make([]byte, rawHeadLen)
		n, err := ra.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			return nil, r, err
		}
		return head[:n], r, nil
	}
	br := bufio.NewReaderSize(r, rawHeadLen)
	head, err := br.Peek(rawHeadLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, br, err
	}
	return head, br, nil
}
