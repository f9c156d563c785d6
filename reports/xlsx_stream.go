package reports

import (
	"bytes"
	"reflect"
	"unsafe"

	"github.com/xuri/excelize/v2"
)

// releaseStreamBuffer lets go of the memory a flushed stream writer no
// longer needs, and says whether it did.
//
// A stream writer buffers its sheet in memory and, past
// excelize.StreamChunkSize (16 MiB), moves the buffer to a temporary file
// each time it fills. The buffer is reset, not freed: it keeps its 16 to
// 32 MiB until the workbook is closed, after the whole file is written.
// A socket table of 5 million rows is five sheets (Excel's 1,048,576 rows
// each), 20 million twenty, so those idle buffers grew with the input.
// Once Flush has moved everything to the file the buffer is empty, and an
// empty bytes.Buffer and a new one are the same, so replacing it changes
// nothing but the memory held. excelize has no API for it; the field is
// reached by name and type, and left alone if its layout ever changes
// (TestReleaseStreamBuffer then fails, so an excelize upgrade that moves
// it is noticed). A sheet that never filled the buffer holds its content
// there and keeps it.
func releaseStreamBuffer(sw *excelize.StreamWriter) bool {
	raw := reflect.ValueOf(sw).Elem().FieldByName("rawData")
	if !raw.IsValid() || raw.Kind() != reflect.Struct {
		return false
	}
	f := raw.FieldByName("buf")
	if !f.IsValid() || f.Type() != reflect.TypeFor[bytes.Buffer]() || !f.CanAddr() {
		return false
	}
	buf := (*bytes.Buffer)(unsafe.Pointer(f.UnsafeAddr()))
	if buf.Len() != 0 {
		return false
	}
	*buf = bytes.Buffer{}
	return true
}
