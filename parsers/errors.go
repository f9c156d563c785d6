package parsers

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrUnknownFormat is returned by Detect when no parser claims the input.
	ErrUnknownFormat = errors.New("unknown format")
	// ErrTruncated reports input that ends in the middle of a structure.
	ErrTruncated = errors.New("truncated")
	// ErrNeedReaderAt is returned by parsers of binary formats given a
	// reader without random access.
	ErrNeedReaderAt = errors.New("parser needs an io.ReaderAt")
)

// ParseError is a problem at one place of one artifact. Parsers yield it and
// go on with the next line or chunk. Line is set for text formats, Offset for
// binary ones (Line is then 0).
type ParseError struct {
	Format Format
	Path   string
	Line   int
	Offset int64
	Err    error
}

func (e *ParseError) Error() string {
	path := e.Path
	if path == "" {
		path = "<input>"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s: %s:%d: %v", e.Format, path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %s: offset 0x%x: %v", e.Format, path, e.Offset, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// lineError is a shorthand for text parsers.
func lineError(f Format, line int, format string, args ...any) *ParseError {
	return &ParseError{Format: f, Line: line, Err: fmt.Errorf(format, args...)}
}

// SlackPrefix starts the message of a parse error about an event log's
// slack space: the remnants of overwritten records past a chunk's last
// live record, carved as a bonus. Such an error loses no record of the
// log itself, so it is not damage.
const SlackPrefix = "slack: "
