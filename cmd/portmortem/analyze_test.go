package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portmortem/portmortem/store"
)

// copyBundle copies a scenario bundle into a temp dir, applying edit to the
// named file's content.
func copyBundle(t *testing.T, name, file string, edit func([]byte) []byte) string {
	t.Helper()
	src := filepath.Join(bundlesDir(), name)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "expected.json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == file {
			data = edit(data)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func findingFor(t *testing.T, fs []findingJSON, proto string, port uint16) findingJSON {
	t.Helper()
	for _, f := range fs {
		if f.Proto == proto && f.Port == port {
			return f
		}
	}
	t.Fatalf("no finding for %s/%d in %+v", proto, port, fs)
	return findingJSON{}
}

// openCases opens the database an analyze run wrote into out (closed with
// the test) and lists its cases.
func openCases(t *testing.T, out string) (*store.Store, []store.Case) {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(out, "portmortem.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cases, err := s.Cases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, cases
}

// TestAnalyzeMutations changes one fact of the sbs2003 bundle and checks
// the verdict moves with it.
func TestAnalyzeMutations(t *testing.T) {
	orig, _ := runAnalyzeOn(t, filepath.Join(bundlesDir(), "sbs2003-ias-dns"))
	if f := findingFor(t, orig, "UDP", 1812); f.Verdict != "CONFIRMED" || f.Rule != "dns-socket-pool" {
		t.Fatalf("original: %s %s, want CONFIRMED dns-socket-pool", f.Verdict, f.Rule)
	}
	tests := []struct {
		name, file  string
		edit        func([]byte) []byte
		wantVerdict string
		wantReason  string
	}{
		{"owner_row_removed", "netstat-ano.txt", func(b []byte) []byte {
			var out []string
			for _, l := range strings.SplitAfter(string(b), "\r\n") {
				if !strings.Contains(l, "0.0.0.0:1812 ") {
					out = append(out, l)
				}
			}
			return []byte(strings.Join(out, ""))
		}, "NO_CONFLICT_SEEN", "this is not a port conflict"},
		{"snapshot_in_earlier_boot", "netstat-ano.txt", func(b []byte) []byte {
			return bytes.Replace(b, []byte("Mon 03/02/2026  2:30:00.00"), []byte("Sun 03/01/2026  2:30:00.00"), 1)
		}, "PROBABLE", "PIDs are not comparable across boots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := runAnalyzeOn(t, copyBundle(t, "sbs2003-ias-dns", tt.file, tt.edit))
			f := findingFor(t, fs, "UDP", 1812)
			if f.Verdict != tt.wantVerdict {
				t.Errorf("verdict %s, want %s", f.Verdict, tt.wantVerdict)
			}
			if !strings.Contains(strings.Join(f.Reasons, " "), tt.wantReason) {
				t.Errorf("reasons lack %q:\n%s", tt.wantReason, strings.Join(f.Reasons, "\n"))
			}
		})
	}
}

// TestAnalyzeTwiceOneCase: the same bundle analyzed twice into one
// database leaves one case with one set of findings.
func TestAnalyzeTwiceOneCase(t *testing.T) {
	out := t.TempDir()
	bundle := filepath.Join(bundlesDir(), "apache-httpsys")
	for range 2 {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"analyze", "-q", "-o", out, bundle}, &stdout, &stderr); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
	s, cases := openCases(t, out)
	if len(cases) != 1 {
		t.Fatalf("%d cases after two runs, want 1", len(cases))
	}
	fs, err := s.Findings(context.Background(), cases[0].ID)
	if err != nil || len(fs) != 1 {
		t.Fatalf("%d findings (%v), want 1", len(fs), err)
	}
}

// cancelAfter is a context that reports itself cancelled from the n-th
// call of Err on: it interrupts an ingest at a chosen point, deterministically.
type cancelAfter struct {
	context.Context
	n     int64
	calls atomic.Int64
	done  chan struct{}
	once  atomic.Bool
}

func newCancelAfter(n int64) *cancelAfter {
	return &cancelAfter{Context: context.Background(), n: n, done: make(chan struct{})}
}

func (c *cancelAfter) Err() error {
	if c.calls.Add(1) >= c.n {
		if c.once.CompareAndSwap(false, true) {
			close(c.done)
		}
		return context.Canceled
	}
	return nil
}

func (c *cancelAfter) Done() <-chan struct{} {
	if c.calls.Load() >= c.n {
		return c.done
	}
	return c.Context.Done()
}

// TestAnalyzeCancelledLeavesNoHalfCase interrupts the ingest at many
// points: the run exits 130 and the database holds no case, complete or
// half.
func TestAnalyzeCancelledLeavesNoHalfCase(t *testing.T) {
	bundle := filepath.Join(bundlesDir(), "sbs2003-ias-dns")
	// A full run checks ctx this many times: interrupt at points spread
	// over it, from before the first artifact to the last ones.
	full := newCancelAfter(1 << 62)
	if code := run(full, []string{"analyze", "-q", "-o", t.TempDir(), bundle}, io.Discard, io.Discard); code != exitOK {
		t.Fatalf("uninterrupted run: exit %d", code)
	}
	total := full.calls.Load()
	if total < 100 {
		t.Fatalf("only %d context checks in a full run", total)
	}
	// (The count varies a little from run to run: event logs are decoded by
	// parallel workers. The largest point keeps a margin.)
	for _, n := range []int64{1, 5, total / 10, total / 3, total / 2, total * 7 / 10} {
		out := t.TempDir()
		var stdout, stderr bytes.Buffer
		code := run(newCancelAfter(n), []string{"analyze", "-q", "-o", out, bundle}, &stdout, &stderr)
		if code != exitInterrupted {
			t.Errorf("cancel after %d checks: exit %d, want %d (stderr %s)", n, code, exitInterrupted, stderr.String())
			continue
		}
		db := filepath.Join(out, "portmortem.db")
		if _, err := os.Stat(db); err != nil {
			continue // interrupted before the database was created
		}
		s, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		cases, err := s.Cases(context.Background())
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(cases) != 0 {
			t.Errorf("cancel after %d checks: %d case(s) left: %+v", n, len(cases), cases)
		}
	}
}

// TestAnalyzeNoUsableArtifact: a bundle with nothing portmortem reads is
// an error, not an empty success.
func TestAnalyzeNoUsableArtifact(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("the customer says it broke\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"analyze", "-o", t.TempDir(), dir}, &stdout, &stderr)
	if code != exitError || !strings.Contains(stderr.String(), "no usable artifact") {
		t.Errorf("exit %d, stderr %q; want 1 and 'no usable artifact'", code, stderr.String())
	}
}

// TestAnalyzeFailedRunKeepsReports: a run that analyzes nothing (a typo
// in the bundle's path, a folder of nothing portmortem reads) exits 1,
// says so, prints no "report:" line, and leaves the reports and the
// database a good run wrote as they were; into a new folder it leaves no
// folder behind.
func TestAnalyzeFailedRunKeepsReports(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "-q", "-o", out, filepath.Join(bundlesDir(), "disabled-service")}, &stdout, &stderr); code != exitOK {
		t.Fatalf("good run: exit %d: %s", code, stderr.String())
	}
	db := dumpStore(t, filepath.Join(out, "portmortem.db"))
	before := map[string][]byte{}
	for _, name := range []string{"report.xlsx", "report.html", "findings.json"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		before[name] = data
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("nothing to read\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{filepath.Join(bundlesDir(), "disabled-servic")}, {empty}, {empty, filepath.Join(empty, "missing")}} {
		stdout.Reset()
		stderr.Reset()
		code := run(context.Background(), append([]string{"analyze", "-o", out}, bad...), &stdout, &stderr)
		if code != exitError || !strings.Contains(stderr.String(), "nothing analyzed") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and 'nothing analyzed'", bad, code, stderr.String())
		}
		if strings.Contains(stdout.String(), "report:") {
			t.Errorf("%v: a report line for a run that wrote none:\n%s", bad, stdout.String())
		}
		for name, data := range before {
			if got, err := os.ReadFile(filepath.Join(out, name)); err != nil || !bytes.Equal(got, data) {
				t.Errorf("%v: %s changed by a run that analyzed nothing (%v)", bad, name, err)
			}
		}
		if got := dumpStore(t, filepath.Join(out, "portmortem.db")); got != db {
			t.Errorf("%v: the database changed by a run that analyzed nothing", bad)
		}
	}
	fresh := filepath.Join(t.TempDir(), "new-out")
	if code := run(context.Background(), []string{"analyze", "-q", "-o", fresh, filepath.Join(bundlesDir(), "disabled-servic")}, &stdout, &stderr); code != exitError {
		t.Errorf("typo into a new folder: exit %d, want 1", code)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a run that analyzed nothing left %s behind (%v)", fresh, err)
	}
}

// TestAnalyzeFailOn: --fail-on turns a matching verdict into exit 4.
func TestAnalyzeFailOn(t *testing.T) {
	bundle := filepath.Join(bundlesDir(), "disabled-service")
	for _, tt := range []struct {
		flag string
		want int
	}{{"CONFIRMED", exitOK}, {"not_port_related", exitFailOn}} {
		var stdout, stderr bytes.Buffer
		if got := run(context.Background(), []string{"analyze", "-q", "-o", t.TempDir(), "--fail-on", tt.flag, bundle}, &stdout, &stderr); got != tt.want {
			t.Errorf("--fail-on %s: exit %d, want %d (%s)", tt.flag, got, tt.want, stderr.String())
		}
	}
}

// TestAnalyzeCorpus analyzes the whole shared corpus as one bundle: it
// completes, with coverage notes, whatever the damaged files hold.
func TestAnalyzeCorpus(t *testing.T) {
	corpus := os.Getenv("PORTMORTEM_CORPUS")
	if corpus == "" {
		corpus = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus missing in CI: %v", err)
		}
		t.Skipf("corpus not found at %s", corpus)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"analyze", "-o", out, corpus}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr.String())
	}
	// The corpus holds many hosts: one table each, its gaps in its head.
	if !strings.Contains(stdout.String(), "check(s) could not run:") {
		t.Errorf("no coverage notes:\n%s", stdout.String())
	}
	data, err := os.ReadFile(filepath.Join(out, "findings.json"))
	if err != nil || len(data) < 100 {
		t.Fatalf("findings.json: %v (%d bytes)", err, len(data))
	}
}

// TestAnalyzeArtifactHashes: every stored artifact carries the SHA-256 of
// its content, for a file on disk and for a member of a zip inside the
// bundle folder.
func TestAnalyzeArtifactHashes(t *testing.T) {
	src := filepath.Join(bundlesDir(), "sbs2003-ias-dns")
	dir := t.TempDir()
	want := map[string]string{}
	for _, name := range []string{"System.evtx", "netstat-ano.txt", "tasklist-svc.txt", "systeminfo.txt"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if name == "netstat-ano.txt" {
			if err := os.WriteFile(filepath.Join(dir, "capture.zip"), zipOf(t, map[string][]byte{"logs/" + name: data}, []string{"logs/" + name}), 0o644); err != nil {
				t.Fatal(err)
			}
			name = "capture.zip!/logs/" + name
		} else if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = hex.EncodeToString(sum[:])
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "-q", "--format", "json", "-o", out, dir}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s, cases := openCases(t, out)
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	arts, err := s.Artifacts(context.Background(), cases[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range arts {
		got[strings.TrimPrefix(a.Path, filepath.ToSlash(dir)+"/")] = a.SHA256
	}
	for name, sum := range want {
		if got[name] != sum {
			t.Errorf("%s: sha256 %q, want %q (stored: %v)", name, got[name], sum, got)
		}
	}
}

// TestAnalyzeSkipKnown resumes a batch: bundles already in the database
// keep their cases (same ids, not analyzed again), the new one is
// analyzed, and what is printed and written is what a fresh run of the
// whole batch gives.
func TestAnalyzeSkipKnown(t *testing.T) {
	b := func(name string) string { return filepath.Join(bundlesDir(), name) }
	first := []string{b("sbs2003-ias-dns"), b("apache-httpsys")}
	all := append(first[:len(first):len(first)], b("winnat-excluded"))
	analyze := func(out string, extra []string, bundles []string) (string, map[string]int64) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := append(append([]string{"analyze", "--jobs", "2", "--format", "json", "-o", out}, extra...), bundles...)
		if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		_, cases := openCases(t, out)
		ids := map[string]int64{}
		for _, c := range cases {
			ids[c.BundlePath] = c.ID
		}
		return strings.ReplaceAll(stdout.String(), out, "OUT"), ids
	}
	readJSON := func(out string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(out, "findings.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}

	fresh := t.TempDir()
	wantOut, _ := analyze(fresh, nil, all)

	out := t.TempDir()
	_, before := analyze(out, nil, first)
	gotOut, after := analyze(out, []string{"--skip-known"}, all)
	for _, bundle := range first {
		if before[bundle] == 0 || after[bundle] != before[bundle] {
			t.Errorf("%s: case %d before, %d after: want it kept", bundle, before[bundle], after[bundle])
		}
	}
	if after[all[2]] == 0 || len(after) != 3 {
		t.Errorf("cases after: %v, want the new bundle added", after)
	}
	if gotOut != wantOut {
		t.Errorf("printed:\n%s\nwant (a fresh run):\n%s", gotOut, wantOut)
	}
	if got, want := readJSON(out), readJSON(fresh); got != want {
		t.Errorf("findings.json differs from a fresh run's:\n%s\nwant\n%s", got, want)
	}

	// Without the flag the known bundles are analyzed again: new cases.
	_, again := analyze(out, nil, first)
	for _, bundle := range first {
		if again[bundle] == after[bundle] {
			t.Errorf("%s: case %d kept without --skip-known", bundle, again[bundle])
		}
	}
}

// TestAnalyzeCPUProfile: --cpuprofile writes a profile (gzip-compressed
// protobuf, as go tool pprof reads it) even for a short run.
func TestAnalyzeCPUProfile(t *testing.T) {
	out := t.TempDir()
	prof := filepath.Join(out, "cpu.pprof")
	var stdout, stderr bytes.Buffer
	args := []string{"analyze", "-q", "--format", "json", "--cpuprofile", prof, "-o", out, filepath.Join(bundlesDir(), "apache-httpsys")}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Errorf("profile of %d bytes does not start with the gzip magic", len(data))
	}
	var stderr2 bytes.Buffer
	bad := []string{"analyze", "-q", "--cpuprofile", filepath.Join(out, "no", "such", "dir", "cpu.pprof"), "-o", out, filepath.Join(bundlesDir(), "apache-httpsys")}
	if code := run(context.Background(), bad, &stdout, &stderr2); code != exitError {
		t.Errorf("unwritable profile: exit %d, want %d (%s)", code, exitError, stderr2.String())
	}
}

// TestAnalyzeSaysWhatWasDamaged: analyze names each event log it could
// read only in part, with how much was lost and read, at most
// maxDamageLines of them then a count, and the case's coverage has an
// event-logs entry.
func TestAnalyzeSaysWhatWasDamaged(t *testing.T) {
	dir, _ := corpusText(t)
	corrupt := filepath.Join(filepath.Dir(dir), "evtx", "corrupt")
	truncated, err := os.ReadFile(filepath.Join(corrupt, "plaso_System2_truncated.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	// Seven damaged logs (the same truncated one under seven names) and
	// one whose only errors are in slack space, which loses no record.
	bundle := t.TempDir()
	for i := range maxDamageLines + 2 {
		if err := os.WriteFile(filepath.Join(bundle, fmt.Sprintf("System%d.evtx", i)), truncated, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slackOnly, err := os.ReadFile(filepath.Join(corrupt, "omerbenamram_issue_201.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "Slack.evtx"), slackOnly, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "--format", "json", "-o", out, bundle}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var named, more int
	for _, l := range strings.Split(stderr.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "damaged: … and 2 more (see the Artifacts sheet)"):
			more++
		case strings.HasPrefix(l, "damaged: "):
			named++
			if !strings.Contains(l, "System") || !strings.Contains(l, "1 unreadable part(s), 283 record(s) read; first error: offset 0x30D40: chunk: truncated") {
				t.Errorf("damage line without path, loss or records read: %q", l)
			}
		}
	}
	if named != maxDamageLines || more != 1 {
		t.Errorf("%d damaged lines and %d 'and 2 more' lines, want %d and 1:\n%s", named, more, maxDamageLines, stderr.String())
	}
	// The slack-only log is another host's: each host prints one table
	// whose head names the checks that could not run, and only the
	// damaged logs' host has event-logs among them.
	var damagedHost, slackHost bool
	for _, l := range strings.Split(stdout.String(), "\n") {
		switch {
		case strings.Contains(l, "(host Student-PC1."):
			damagedHost = strings.Contains(l, "event-logs")
		case strings.Contains(l, "(host WEC.ave.local"):
			slackHost = !strings.Contains(l, "event-logs")
		}
	}
	if !damagedHost || !slackHost {
		t.Errorf("want event-logs among the damaged logs' host's gaps and not the slack-only log's host's:\n%s", stdout.String())
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"analyze", "-q", "--format", "json", "-o", t.TempDir(), bundle}, &stdout, &stderr); code != exitOK || strings.Contains(stderr.String(), "damaged:") {
		t.Errorf("--quiet: exit %d, stderr %q", code, stderr.String())
	}
}

// TestAnalyzeParentFolder analyzes the folder of every scenario bundle as
// one bundle: the terminal prints one table per host within the bundle's
// lines, and every report names each host's case with its host and its
// folder.
func TestAnalyzeParentFolder(t *testing.T) {
	out := t.TempDir()
	stdout := analyzeInto(t, out, bundlesDir())
	heads := 0
	for _, l := range strings.Split(stdout, "\n") {
		if strings.Contains(l, "(host ") && strings.Contains(l, ", in ") {
			heads++
		}
	}
	if n := len(scenarios()); heads != n {
		t.Errorf("%d host tables, want %d:\n%s", heads, n, stdout)
	}
	if lines := strings.Count(stdout, "\n"); lines > 2*len(scenarios())+25 {
		t.Errorf("%d terminal lines for %d hosts:\n%s", lines, len(scenarios()), stdout)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h2>bundles — SBS01 (sbs2003-ias-dns)</h2>", "<h2>bundles — SBS01 (stale-snapshot)</h2>",
		fmt.Sprintf("1 bundle, %d cases (one per host&#39;s files)", len(scenarios())), "<dt>Files in</dt><dd class=\"mono\">winnat-excluded</dd>"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fs []findingJSON
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Collection == "" || !strings.HasPrefix(f.Snapshot, filepath.Join(bundlesDir(), f.Collection)) && f.Snapshot != "" {
			t.Errorf("finding of %s on %s: collection %q, snapshot %q", f.Host, f.Service, f.Collection, f.Snapshot)
		}
	}
}

// TestAnalyzeTchopperBounded: the Tchopper log (244 services that failed
// to start, each a PORT_UNKNOWN) prints within 25 terminal lines, its
// PORT_UNKNOWN findings folded into one line with no "0%".
func TestAnalyzeTchopperBounded(t *testing.T) {
	dir, _ := corpusText(t)
	log := filepath.Join(filepath.Dir(dir), "evtx", "system", "mitre_T1569.002_Tchopper_7000_7009_7045_System.evtx")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"analyze", "-o", t.TempDir(), log}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	all := stdout.String() + stderr.String()
	if n := strings.Count(all, "\n"); n > 25 {
		t.Errorf("%d lines, want at most 25:\n%s", n, all)
	}
	if !strings.Contains(all, "PORT_UNKNOWN        –  -          244 services:") || strings.Contains(all, " 0%") {
		t.Errorf("want the 244 PORT_UNKNOWN findings on one line without a 0%% confidence:\n%s", all)
	}
}
