package parsers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"unicode/utf8"
)

// Parser reads one artifact format. Implementations are stateless values.
type Parser interface {
	// Format is the stable name of the format.
	Format() Format
	// Version changes whenever the parser's output changes.
	Version() int
	// Sniff reports whether head, the first bytes of an input, is this
	// format. Text parsers see at most SniffLen bytes of text decoded to
	// UTF-8; binary parsers see the raw bytes. Sniff must be cheap.
	Sniff(head []byte) bool
	// Parse yields the records of r in order. A damaged line or chunk
	// yields (Record{}, *ParseError) and parsing goes on. Text parsers get
	// UTF-8 (see Decoder); binary parsers may require an io.ReaderAt.
	Parse(ctx context.Context, r io.Reader) iter.Seq2[Record, error]
}

// binaryParser is implemented by parsers that read raw bytes: they are
// tried first, on the undecoded head, and get the undecoded input.
type binaryParser interface {
	Parser
	binary()
}

// registry lists the parsers, most specific first: magic bytes before
// structural heuristics.
var registry = []Parser{
	evtx{},
	evt{},
	evtxXML{},
	eventExport{},
	psNetTCP{},
	psNetUDP{},
	tcpvcon{},
	tasklist{},
	netshExcluded{},
	netshDynamic{},
	netstat{},
	systeminfo{},
	servicesFile{},
}

// SniffLen is how much decoded text the text sniffers see. It is larger
// than a magic number needs because collector scripts often put a banner,
// the command line and a timestamp before the output itself.
const SniffLen = 4096

// rawHeadLen is how much raw input Detect reads: UTF-16 needs two bytes a
// character.
const rawHeadLen = 2 * SniffLen

// Parsers returns the registered parsers in detection order.
func Parsers() []Parser {
	return append([]Parser(nil), registry...)
}

// ByName returns the parser of a format name.
func ByName(name string) (Parser, error) {
	for _, p := range registry {
		if string(p.Format()) == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownFormat, name)
}

// Detect finds the parser for an input from its first raw bytes and says
// which text encoding they are in (EncBinary for binary formats).
func Detect(head []byte) (Parser, Encoding, error) {
	for _, p := range registry {
		if _, ok := p.(binaryParser); ok && p.Sniff(head) {
			return p, EncBinary, nil
		}
	}
	enc := DetectEncoding(head)
	text := decodeHead(head, enc)
	for _, p := range registry {
		if _, ok := p.(binaryParser); !ok && p.Sniff(text) {
			return p, enc, nil
		}
	}
	return nil, enc, ErrUnknownFormat
}

// decodeHead decodes the head of an input to at most SniffLen bytes of
// UTF-8, cut at a rune boundary.
func decodeHead(head []byte, enc Encoding) []byte {
	text, _ := io.ReadAll(io.LimitReader(Decoder(bytes.NewReader(head), enc), SniffLen+utf8.UTFMax))
	if len(text) > SniffLen {
		text = text[:SniffLen]
		if i := lastRuneStart(text); !utf8.FullRune(text[i:]) {
			text = text[:i]
		}
	}
	return text
}

func lastRuneStart(b []byte) int {
	i := len(b) - 1
	for i > 0 && !utf8.RuneStart(b[i]) {
		i--
	}
	return i
}
