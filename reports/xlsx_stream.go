package reports

import (
	"bytes"
	"os"
	"reflect"
	"unsafe"

	"github.com/xuri/excelize/v2"
)

// spillMin is the smallest flushed sheet moved out of memory by
// releaseStreamBuffer: smaller ones cost less than their temporary file.
const spillMin = 1 << 20

// releaseStreamBuffer lets go of the memory a flushed stream writer holds
// until the workbook is written, and says whether it did.
//
// A stream writer buffers its sheet in memory and, past
// excelize.StreamChunkSize (16 MiB), moves the buffer to a temporary file
// each time it fills. Either way the memory stays until the whole
// workbook is written, after the last sheet: a sheet that never filled
// the buffer holds all of it (up to 16 MiB, in a buffer of up to 32), and
// one that did keeps its reset, empty buffer of 16 to 32 MiB. A socket
// table of 5 million rows is five sheets (Excel's 1,048,576 rows each),
// 20 million twenty; a batch has nine table sheets. So once Flush has run,
// the buffer is dropped if empty, and otherwise (from spillMin on) moved
// to a temporary file the way excelize itself does it: the sheet then
// reads back from the file as every spilled sheet does, and the file is
// removed by excelize.File.Close. excelize has no API for it; the fields
// are reached by name and type and left alone if their layout ever
// changes (TestReleaseStreamBuffer then fails, so an excelize upgrade
// that moves them is noticed). Any failure leaves the sheet in memory,
// as it was.
func releaseStreamBuffer(sw *excelize.StreamWriter) bool {
	raw := reflect.ValueOf(sw).Elem().FieldByName("rawData")
	if !raw.IsValid() || raw.Kind() != reflect.Struct || !raw.CanAddr() {
		return false
	}
	bf, tf, df := raw.FieldByName("buf"), raw.FieldByName("tmp"), raw.FieldByName("tmpDir")
	if !bf.IsValid() || bf.Type() != reflect.TypeFor[bytes.Buffer]() ||
		!tf.IsValid() || tf.Type() != reflect.TypeFor[*os.File]() ||
		!df.IsValid() || df.Kind() != reflect.String {
		return false
	}
	buf := (*bytes.Buffer)(unsafe.Pointer(bf.UnsafeAddr()))
	tmp := (**os.File)(unsafe.Pointer(tf.UnsafeAddr()))
	switch {
	case buf.Len() == 0 && *tmp != nil:
	case buf.Len() >= spillMin && *tmp == nil:
		f, err := os.CreateTemp(df.String(), "excelize-")
		if err != nil {
			return false
		}
		if _, err := f.Write(buf.Bytes()); err != nil {
			f.Close()
			os.Remove(f.Name())
			return false
		}
		*tmp = f
	default:
		return false
	}
	*buf = bytes.Buffer{}
	return true
}
