package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/portmortem/portmortem/store"
)

// TestAnalyzeJobsSameResult analyzes every scenario bundle (and a zip of
// them, so archive members are parsed in parallel too) with --jobs 1, 2
// and 4: findings.json, the printed findings and the stored cases,
// artifacts and findings must be the same.
func TestAnalyzeJobsSameResult(t *testing.T) {
	bundles, err := filepath.Glob(filepath.Join(bundlesDir(), "*", "expected.json"))
	for i, b := range bundles {
		bundles[i] = filepath.Dir(b)
	}
	if err != nil || len(bundles) < 10 {
		t.Fatalf("scenario bundles: %v (%d)", err, len(bundles))
	}
	zipped := filepath.Join(t.TempDir(), "all.zip")
	entries, order := map[string][]byte{}, []string(nil)
	for _, b := range bundles {
		ents, err := os.ReadDir(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			data, err := os.ReadFile(filepath.Join(b, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(b) + "/" + e.Name()
			entries[name] = data
			order = append(order, name)
		}
	}
	if err := os.WriteFile(zipped, zipOf(t, entries, order), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(bundles, zipped)

	var want struct{ json, stdout, db string }
	procs := runtime.GOMAXPROCS(0)
	for _, jobs := range []int{1, 2, 4} {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"analyze", "--jobs", fmt.Sprint(jobs), "--format", "json", "-o", out}, args...), &stdout, &stderr)
		if code != exitOK {
			t.Fatalf("--jobs %d: exit %d: %s", jobs, code, stderr.String())
		}
		if got := runtime.GOMAXPROCS(0); got != procs {
			t.Errorf("--jobs %d left GOMAXPROCS at %d, want %d back", jobs, got, procs)
		}
		js, err := os.ReadFile(filepath.Join(out, "findings.json"))
		if err != nil {
			t.Fatal(err)
		}
		printed := strings.ReplaceAll(stdout.String(), out, "OUT")
		db := dumpStore(t, filepath.Join(out, "portmortem.db"))
		if jobs == 1 {
			want.json, want.stdout, want.db = string(js), printed, db
			if !strings.Contains(want.json, `"verdict": "CONFIRMED"`) {
				t.Fatal("no CONFIRMED finding with --jobs 1")
			}
			continue
		}
		if string(js) != want.json {
			t.Errorf("--jobs %d: findings.json differs from --jobs 1", jobs)
		}
		if printed != want.stdout {
			t.Errorf("--jobs %d: output differs from --jobs 1:\n%s\nwant\n%s", jobs, printed, want.stdout)
		}
		if db != want.db {
			t.Errorf("--jobs %d: store differs from --jobs 1:\n%s\nwant\n%s", jobs, db, want.db)
		}
	}
}

// dumpStore renders the cases (in id order: reports follow it), their artifacts (in their order within the
// case) and findings, without the row ids.
func dumpStore(t *testing.T, path string) string {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases, err := s.Cases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&b, "case %s %s %s %s %s\n", c.BundlePath, c.BundleHash, c.Host, c.Status, c.OSVersion)
		arts, err := s.Artifacts(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arts {
			a.ID, a.CaseID = 0, 0
			fmt.Fprintf(&b, "  artifact %+v\n", a)
		}
		fs, err := s.Findings(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			fmt.Fprintf(&b, "  finding %+v\n", f)
		}
	}
	return b.String()
}
