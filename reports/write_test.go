package reports

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWrite writes the formats asked for, and only those, in Formats'
// order whatever the order asked; a failing writer is the error.
func TestWrite(t *testing.T) {
	s := openStore(t)
	m := loadModel(t, s, iasCase(t, s, "ias", "dns.exe"))
	dir := t.TempDir()
	got, err := Write(context.Background(), m, dir, []string{"json", "xlsx"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "report.xlsx"), filepath.Join(dir, "findings.json")}
	if !slices.Equal(got, want) {
		t.Errorf("written %q, want %q", got, want)
	}
	for _, f := range want {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); !os.IsNotExist(err) {
		t.Errorf("report.html written though not asked for: %v", err)
	}
	if _, err := Write(context.Background(), m, filepath.Join(dir, "missing", "dir"), []string{"html"}); err == nil {
		t.Error("no error writing into a folder that does not exist")
	}
}
