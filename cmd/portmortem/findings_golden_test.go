package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/reports"
)

// findingJSON is how the tests read findings.json back.
type findingJSON = reports.JSONFinding

// TestFindingsJSONGolden pins findings.json byte for byte: every scenario
// bundle analyzed in one run, and the same database reported on again,
// must both write testdata/reports/scenarios.findings.golden.json.
// Regenerate with go test ./cmd/portmortem -run TestFindingsJSONGolden
// -update, then read the diff.
func TestFindingsJSONGolden(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("..", "..", "testdata", "reports", "scenarios.findings.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	pinScenarioTimes(t)
	out := t.TempDir()
	analyzeInto(t, out, scenarioDirs()...)
	got, err := os.ReadFile(filepath.Join(out, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	got = maskCatalog(t, got)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	want = bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n"))
	checkSame(t, "analyze", got, want, golden)

	again := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"report", "--db", filepath.Join(out, "portmortem.db"), "-o", again, "--format", "json"}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("report: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	got, err = os.ReadFile(filepath.Join(again, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	got = maskCatalog(t, got)
	checkSame(t, "report", got, want, golden)
}

// pinnedTime is every scenario file's time in the golden run.
var pinnedTime = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// pinScenarioTimes makes the test run in a copy of the scenario bundles
// whose files all have pinnedTime as their modification time, at the same
// relative paths: a capture time taken from a file's time (a file with no
// timestamp line) is then the same on every checkout and every day,
// where a clone's files have the time of the clone.
func pinScenarioTimes(t *testing.T) {
	t.Helper()
	root := t.TempDir()
	src := bundlesDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, "testdata", "bundles", rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		return os.Chtimes(dst, pinnedTime, pinnedTime)
	})
	if err != nil {
		t.Fatal(err)
	}
	cwd := filepath.Join(root, "cmd", "portmortem")
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd) // bundlesDir() is now the copy
}

// maskCatalog replaces the built-in catalog's hash, which every edit of
// catalog.tsv changes, so that the golden pins the findings.
func maskCatalog(t *testing.T, b []byte) []byte {
	t.Helper()
	cat, err := correlate.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte(`"catalog_version": "`+cat.Version()+`"`), []byte(`"catalog_version": "built-in (hash)"`))
}

// checkSame fails the test at the first line where got and want differ.
func checkSame(t *testing.T, what string, got, want []byte, golden string) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range max(len(gl), len(wl)) {
		var g, w []byte
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if !bytes.Equal(g, w) {
			t.Fatalf("%s: findings.json differs from %s at line %d:\ngot  %.300q\nwant %.300q\n(go test ./cmd/portmortem -run TestFindingsJSONGolden -update, then review)",
				what, golden, i+1, g, w)
		}
	}
}
