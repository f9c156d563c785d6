package ingest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers/bundle"
	"github.com/portmortem/portmortem/store"
)

// hostCase is what a case says once its bundle's path is set aside: its
// host, host facts and findings, with its coverage less the "hosts"
// entry (which only a bundle of several hosts has).
type hostCase struct {
	Host     string
	OS       string
	Facts    store.HostFacts
	Findings []correlate.Finding
	Coverage []correlate.Coverage
	paths    []string // the case's artifacts
}

// analyzeCases runs dirs through Run into a fresh store and returns each
// bundle's cases.
func analyzeCases(t *testing.T, dirs ...string) [][]hostCase {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "pm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	res, err := Run(ctx, s, dirs, Options{Jobs: 2, Limits: bundle.DefaultLimits()}, &observer{})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]hostCase
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Bundle, r.Err)
		}
		var cases []hostCase
		for _, c := range r.Cases {
			sc, err := s.Case(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			hf, err := s.HostFacts(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			arts, err := s.Artifacts(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			hc := hostCase{Host: sc.Host, OS: sc.OSVersion, Facts: hf}
			for _, f := range c.Findings {
				f.Bundle = ""
				hc.Findings = append(hc.Findings, f)
			}
			for _, v := range c.Coverage {
				if v.Check != correlate.CheckHosts {
					hc.Coverage = append(hc.Coverage, v)
				}
			}
			for _, a := range arts {
				hc.paths = append(hc.paths, a.Path)
			}
			if c.Host != sc.Host && !c.Undecided {
				t.Errorf("%s: result host %q, stored %q", r.Bundle, c.Host, sc.Host)
			}
			cases = append(cases, hc)
		}
		out = append(out, cases)
	}
	return out
}

// checkOwnEvidence fails when a finding of c cites an artifact of
// another case: no evidence crosses hosts.
func checkOwnEvidence(t *testing.T, c hostCase) {
	t.Helper()
	for _, f := range c.Findings {
		cited := []string{f.Snapshot}
		for _, e := range f.Evidence {
			cited = append(cited, e.Artifact)
		}
		for _, p := range cited {
			if p != "" && !slices.Contains(c.paths, p) {
				t.Errorf("host %s: finding for %s cites %s, not one of its artifacts", c.Host, f.Service, p)
			}
		}
	}
}

// TestHostsParentFolder analyzes the folder of all scenario bundles as
// one bundle: each scenario becomes its host's case, with the findings,
// host facts and coverage it has alone, and no evidence crosses hosts.
// (Two scenarios are of one host, SBS01, taken apart: they stay two
// cases.)
func TestHostsParentFolder(t *testing.T) {
	parent := filepath.Join("..", "..", "testdata", "bundles")
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	var scenarios []string
	for _, e := range entries {
		if e.IsDir() {
			scenarios = append(scenarios, e.Name())
		}
	}
	dirs := []string{parent}
	for _, sc := range scenarios {
		dirs = append(dirs, filepath.Join(parent, sc))
	}
	all := analyzeCases(t, dirs...)
	together := all[0]
	if len(together) != len(scenarios) {
		t.Fatalf("%d cases for %d scenarios", len(together), len(scenarios))
	}
	for i, sc := range scenarios {
		alone := all[i+1]
		if len(alone) != 1 {
			t.Fatalf("%s alone gives %d cases, want 1", sc, len(alone))
		}
		got := together[i]
		if !strings.HasPrefix(got.paths[0], filepath.Join(parent, sc)+string(filepath.Separator)) {
			t.Fatalf("case %d is %v, want %s's", i, got.paths, sc)
		}
		checkOwnEvidence(t, got)
		compareHostCase(t, sc, got, alone[0])
	}
}

// compareHostCase fails when a host's case in a bundle of several hosts
// differs from the same files analyzed alone.
func compareHostCase(t *testing.T, name string, got, alone hostCase) {
	t.Helper()
	if got.Host != alone.Host || got.OS != alone.OS || got.Facts != alone.Facts {
		t.Errorf("%s: host %q OS %q facts %+v; alone %q %q %+v", name, got.Host, got.OS, got.Facts, alone.Host, alone.OS, alone.Facts)
	}
	if !reflect.DeepEqual(got.Findings, alone.Findings) {
		t.Errorf("%s: %d findings among the other hosts, %d alone; first difference:\n%s", name,
			len(got.Findings), len(alone.Findings), firstDifference(got.Findings, alone.Findings))
	}
	if !reflect.DeepEqual(got.Coverage, alone.Coverage) {
		t.Errorf("%s: coverage\n got %+v\nalone %+v", name, got.Coverage, alone.Coverage)
	}
}

func firstDifference(a, b []correlate.Finding) string {
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			return "missing: " + b[i].Service
		case i >= len(b):
			return "extra: " + a[i].Service
		case !reflect.DeepEqual(a[i], b[i]):
			return a[i].Service + ": " + strings.Join(a[i].Reasons, " | ") + "\nalone: " + strings.Join(b[i].Reasons, " | ")
		}
	}
	return ""
}

// TestHostsCorpus analyzes the whole shared corpus as one bundle (32
// hosts' event logs and text captures of no host) and then each host's
// files alone, copied with their times to a folder of their own: every
// host's findings, facts and coverage are the same, and none cites
// another host's artifact.
func TestHostsCorpus(t *testing.T) {
	if !longTests() {
		t.Skip("the corpus split by host runs with PORTMORTEM_LONG=1 (CI sets it)")
	}
	corpus := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err != nil {
		t.Fatalf("corpus missing (PORTMORTEM_LONG=1): %v", err)
	}
	together := analyzeCases(t, corpus)[0]
	if len(together) < 10 {
		t.Fatalf("%d cases for the corpus, want one per host", len(together))
	}
	hosts, undecided := 0, 0
	for _, c := range together {
		checkOwnEvidence(t, c)
		if c.Host == "" {
			undecided++
			if len(c.Findings) != 0 {
				t.Errorf("the undecided files have %d findings, want none", len(c.Findings))
			}
			continue
		}
		hosts++
		// The host's files alone, at the same place below a folder of
		// their own: paths then differ only by that folder.
		dir := t.TempDir()
		root := filepath.Join(dir, "corpus")
		for _, p := range c.paths {
			rel, err := filepath.Rel(corpus, p)
			if err != nil {
				t.Fatal(err)
			}
			copyFile(t, p, filepath.Join(root, rel))
		}
		alone := analyzeCases(t, root)[0]
		if len(alone) != 1 {
			t.Fatalf("host %s alone gives %d cases", c.Host, len(alone))
		}
		a := alone[0]
		for i := range a.Findings {
			unroot(&a.Findings[i], root, corpus)
		}
		for i := range a.Coverage {
			a.Coverage[i].Reason = strings.ReplaceAll(a.Coverage[i].Reason, root, corpus)
		}
		compareHostCase(t, c.Host, c, a)
	}
	if hosts < 10 || undecided != 1 {
		t.Errorf("%d host cases and %d undecided, want many hosts and the text captures undecided", hosts, undecided)
	}
}

// unroot rewrites the paths a finding cites from one root to another.
func unroot(f *correlate.Finding, from, to string) {
	re := func(s string) string { return strings.ReplaceAll(s, from, to) }
	f.Snapshot = re(f.Snapshot)
	for i := range f.Evidence {
		f.Evidence[i].Artifact = re(f.Evidence[i].Artifact)
	}
	for i := range f.Reasons {
		f.Reasons[i] = re(f.Reasons[i])
	}
}

// copyFile copies src to dst, creating dst's folder, with src's times.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := in.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(dst, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// longTests reports whether the long sweeps run: PORTMORTEM_LONG=1, which
// CI sets.
func longTests() bool { return os.Getenv("PORTMORTEM_LONG") == "1" }
