package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/portmortem/portmortem/store"
)

// concurrentBundles are small scenario bundles for TestConcurrentRuns.
var concurrentBundles = []string{"sbs2003-ias-dns", "apache-httpsys", "blackberry-lsass", "ias-port-free"}

// concurrentRef is the cases per bundle hash of one run alone.
var concurrentRef struct {
	once sync.Once
	want map[string]int
}

// runResult is what one in-process run gave.
type runResult struct {
	args           []string
	code           int
	stdout, stderr string
}

// runAll runs each argument list at once and returns their results.
func runAll(argss ...[]string) []runResult {
	res := make([]runResult, len(argss))
	var wg sync.WaitGroup
	for i, args := range argss {
		wg.Go(func() {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, &stdout, &stderr)
			res[i] = runResult{args, code, stdout.String(), stderr.String()}
		})
	}
	wg.Wait()
	return res
}

// casesByHash counts a database's cases per bundle hash, and fails on a
// case that is not complete.
func casesByHash(t *testing.T, db string) map[string]int {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	cases, err := s.Cases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, c := range cases {
		if c.Status != store.StatusComplete {
			t.Errorf("case %d (%s) left %s", c.ID, c.BundlePath, c.Status)
		}
		n[c.BundleHash]++
	}
	return n
}

// findingsByBundle reads a findings.json and groups its entries by bundle.
func findingsByBundle(t *testing.T, name string) map[string][]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var all []json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string][]json.RawMessage{}
	for _, f := range all {
		var k struct{ Bundle string }
		if err := json.Unmarshal(f, &k); err != nil {
			t.Fatal(err)
		}
		out[k.Bundle] = append(out[k.Bundle], f)
	}
	return out
}

// checkRuns fails on a run that did not exit 0 or met a locked database.
func checkRuns(t *testing.T, what string, res []runResult) {
	t.Helper()
	for _, r := range res {
		if r.code != exitOK || strings.Contains(r.stderr, "locked") || strings.Contains(r.stderr, "busy") {
			t.Errorf("%s: %v: exit %d\n%s", what, r.args, r.code, r.stderr)
		}
	}
}

// TestConcurrentRuns runs two analyze runs on one database at once, with
// disjoint and with equal bundle sets, then reports while an analyze
// runs. Every bundle ends as one complete set of cases, as many as a run
// alone makes, nothing is duplicated, no run fails (no "database is
// locked"), and a report sees only complete cases: the findings it
// prints for a bundle are the bundle's final ones. Run it with -race
// -count=20 (see BENCHMARKS.md).
func TestConcurrentRuns(t *testing.T) {
	dir := t.TempDir()
	paths := make([]string, len(concurrentBundles))
	for i, b := range concurrentBundles {
		paths[i] = filepath.Join(bundlesDir(), b)
	}
	// The reference: every bundle analyzed by one run alone (once for
	// all of -count's runs).
	concurrentRef.once.Do(func() {
		refDir, err := os.MkdirTemp("", "ref-")
		if err != nil {
			t.Fatal(err)
		}
		ref := filepath.Join(refDir, "ref.db")
		checkRuns(t, "reference", runAll(append([]string{"analyze", "-q", "--jobs", "2", "-o", refDir, "--db", ref}, paths...)))
		concurrentRef.want = casesByHash(t, ref)
	})
	want := concurrentRef.want
	if len(want) != len(paths) {
		t.Fatalf("reference: %d bundles, want %d", len(want), len(paths))
	}

	analyze := func(out, db string, bundles ...string) []string {
		return append([]string{"analyze", "-q", "--jobs", "2", "-o", out, "--db", db}, bundles...)
	}
	half := len(paths) / 2

	t.Run("disjoint", func(t *testing.T) {
		db := filepath.Join(dir, "disjoint.db")
		checkRuns(t, "disjoint", runAll(
			analyze(filepath.Join(dir, "d1"), db, paths[:half]...),
			analyze(filepath.Join(dir, "d2"), db, paths[half:]...)))
		if got := casesByHash(t, db); !mapsEqual(got, want) {
			t.Errorf("cases per bundle %v, want %v", got, want)
		}
	})

	t.Run("equal", func(t *testing.T) {
		db := filepath.Join(dir, "equal.db")
		out := filepath.Join(dir, "e") // one folder: the reports are replaced whole
		res := runAll(analyze(out, db, paths...), analyze(out, db, paths...))
		checkRuns(t, "equal", res)
		if got := casesByHash(t, db); !mapsEqual(got, want) {
			t.Errorf("cases per bundle %v, want %v", got, want)
		}
		if res[0].stdout != res[1].stdout {
			t.Errorf("the two runs printed different findings:\n%s\n---\n%s", res[0].stdout, res[1].stdout)
		}
		if ents, _ := filepath.Glob(filepath.Join(out, ".*")); len(ents) != 0 {
			t.Errorf("partial report files left: %v", ents)
		}
	})

	t.Run("report_during_analyze", func(t *testing.T) {
		db := filepath.Join(dir, "report.db")
		checkRuns(t, "first half", runAll(analyze(filepath.Join(dir, "r0"), db, paths[:half]...)))
		// The analyze re-runs the first half (replacing its cases) and adds
		// the second while two reports read the database.
		res := runAll(
			analyze(filepath.Join(dir, "r1"), db, paths...),
			[]string{"report", "-q", "--format", "json", "--db", db, "-o", filepath.Join(dir, "r2")},
			[]string{"report", "-q", "--format", "json", "--db", db, "-o", filepath.Join(dir, "r3")})
		checkRuns(t, "report during analyze", res)
		if got := casesByHash(t, db); !mapsEqual(got, want) {
			t.Errorf("cases per bundle %v, want %v", got, want)
		}
		final := findingsByBundle(t, filepath.Join(dir, "r1", "findings.json"))
		for _, r := range []string{"r2", "r3"} {
			got := findingsByBundle(t, filepath.Join(dir, r, "findings.json"))
			for b, fs := range got {
				if !slices.Contains(paths, b) {
					t.Errorf("%s: findings of %s, not a bundle given", r, b)
				}
				if !slices.EqualFunc(fs, final[b], func(x, y json.RawMessage) bool { return bytes.Equal(x, y) }) {
					t.Errorf("%s: %s has %d findings, the final case %d (or they differ)", r, b, len(fs), len(final[b]))
				}
			}
			for _, b := range paths[:half] {
				if _, ok := got[b]; !ok && len(final[b]) > 0 {
					t.Errorf("%s: %s, complete before the analyze began, is missing", r, b)
				}
			}
		}
	})
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
