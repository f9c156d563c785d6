package reports

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/store"
	"github.com/xuri/excelize/v2"
)

// TestReleaseStreamBuffer: once flushed, a sheet streamed past excelize's
// in-memory chunk lets go of its buffer, one of a few MB held whole in it
// moves to a temporary file, and a small one stays; all read back
// complete, and Close removes the files. If an excelize upgrade moves the
// fields, release reports false and this fails.
func TestReleaseStreamBuffer(t *testing.T) {
	cell := strings.Repeat("x", 1000)
	tmp := t.TempDir()
	f := excelize.NewFile(excelize.Options{TmpDir: tmp})
	defer f.Close()
	rowsFor := map[string]int{"Big": excelize.StreamChunkSize/len(cell) + 100, "Medium": 2 * spillMin / len(cell), "Small": 10}
	for _, sheet := range []string{"Big", "Medium", "Small"} {
		if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for r := 1; r <= rowsFor[sheet]; r++ {
			if err := sw.SetRow(fmt.Sprintf("A%d", r), []any{r, cell}); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, want := releaseStreamBuffer(sw), sheet != "Small"; got != want {
			t.Errorf("%s: released %v, want %v", sheet, got, want)
		}
	}
	if files, _ := os.ReadDir(tmp); len(files) != 2 {
		t.Errorf("%d temporary files, want 2 (Big, Medium)", len(files))
	}
	name := filepath.Join(t.TempDir(), "b.xlsx")
	if err := f.SaveAs(name); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(tmp); len(files) != 0 {
		t.Errorf("%d temporary files left after Close", len(files))
	}
	g, err := excelize.OpenFile(name)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for sheet, n := range rowsFor {
		last := fmt.Sprintf("A%d", n)
		if v, err := g.GetCellValue(sheet, last); err != nil || v != fmt.Sprint(n) {
			t.Errorf("%s!%s = %q, %v; want %d", sheet, last, v, err, n)
		}
	}
}

// writeSizes keeps what is written and the size of the largest Write.
// (It has Write only, so that io.WriteString goes through it too.)
type writeSizes struct {
	buf             bytes.Buffer
	largest, writes int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	w.writes++
	return w.buf.Write(p)
}

// TestXLSXWritesThrough: the workbook reaches its writer in pieces as the
// zip is made, not as one buffer of the whole file (excelize's WriteTo
// builds the file in memory first; writeXLSX bypasses it).
func TestXLSXWritesThrough(t *testing.T) {
	s := openStore(t)
	var socks []parsers.Socket
	for i := range 20000 {
		socks = append(socks, udp(uint16(1024+i), 1640, "dns.exe"))
	}
	id := ingest(t, s, "through", store.HostFacts{}, netstat("through/netstat.txt", base, socks...))
	m := loadModel(t, s, id)
	var w writeSizes
	if err := writeXLSX(context.Background(), m, &w, excelize.TotalRows); err != nil {
		t.Fatal(err)
	}
	if w.buf.Len() <= 64<<10 || w.largest > 64<<10 {
		t.Errorf("%d bytes in %d writes, the largest %d: want a workbook over 64 KiB in writes of at most 64 KiB", w.buf.Len(), w.writes, w.largest)
	}
	f, err := excelize.OpenReader(&w.buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, err := f.GetCellValue(sheetPortOwners, "A20001"); err != nil || v == "" {
		t.Errorf("%s!A20001 = %q, %v: want the last socket", sheetPortOwners, v, err)
	}
}
