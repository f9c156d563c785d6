package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

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
	golden := filepath.Join("..", "..", "testdata", "reports", "scenarios.findings.golden.json")
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
