package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/bundle"
)

// TestSynthBundles writes three small synthetic bundles and checks what
// the generator promises the benchmarks: each bundle is a host of its own
// (a case of its own), tasklist names every PID netstat shows, netstat and
// tasklist are captured a minute after the last event with a timestamp
// line, and analyze finds every failure the logs hold.
func TestSynthBundles(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"synth", "bundles", "-n", "3", "--system-records", "6000", "--application-records", "4000",
		"--netstat-rows", "800", "--failure-every", "1000", "-o", dir}
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("synth bundles: exit %d: %s", code, stderr.String())
	}
	bundles, err := filepath.Glob(filepath.Join(dir, "bundle-*"))
	if err != nil || len(bundles) != 3 {
		t.Fatalf("bundles: %v %v", bundles, err)
	}

	ctx := context.Background()
	hashes := map[string]bool{}
	wantFailures := map[string]int{}
	lastEvent := map[string]time.Time{}
	for _, b := range bundles {
		h, err := bundle.Hash(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		hashes[h] = true
		pids := map[int]bool{}
		var netstatPIDs []int
		for _, name := range []string{"System.evtx", "Application.evtx", "netstat-ano.txt", "tasklist-svc.txt"} {
			for rec := range readAll(t, filepath.Join(b, name)) {
				switch {
				case rec.Event != nil:
					if _, ok := correlate.DecodeFailure(rec.Event); ok {
						wantFailures[b]++
					}
					if rec.Event.Time.After(lastEvent[b]) {
						lastEvent[b] = rec.Event.Time
					}
				case rec.Socket != nil:
					netstatPIDs = append(netstatPIDs, rec.Socket.PID)
				case rec.Process != nil:
					pids[rec.Process.PID] = true
				}
			}
		}
		if len(netstatPIDs) != 800 {
			t.Errorf("%s: %d sockets, want 800", b, len(netstatPIDs))
		}
		for _, pid := range netstatPIDs {
			if !pids[pid] {
				t.Errorf("%s: PID %d in netstat is not in tasklist", b, pid)
				break
			}
		}
		if wantFailures[b] < 6 {
			t.Errorf("%s: only %d failures in the logs", b, wantFailures[b])
		}
	}
	if len(hashes) != 3 {
		t.Errorf("%d distinct bundle hashes, want 3", len(hashes))
	}

	out := t.TempDir()
	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, append([]string{"analyze", "-q", "--jobs", "2", "--format", "json", "-o", out}, bundles...), &stdout, &stderr); code != exitOK {
		t.Fatalf("analyze: exit %d: %s", code, stderr.String())
	}
	s, cases := openCases(t, out)
	if len(cases) != 3 {
		t.Fatalf("%d cases, want 3", len(cases))
	}
	hosts := map[string]bool{}
	for _, c := range cases {
		hosts[c.Host] = true
		rows, err := s.FailureRows(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(rows), wantFailures[c.BundlePath]; got != want {
			t.Errorf("%s: %d failures stored, the logs hold %d", c.BundlePath, got, want)
		}
		snaps, err := s.Snapshots(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		hf, err := s.HostFacts(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range snaps {
			// The timestamp line is local; the store converts it to UTC when
			// the case's zone is known.
			if sn.CaptureSource != parsers.CaptureTimestampLine || sn.CapturedLocal == hf.HasZone {
				t.Errorf("%s %s: captured at %v from %q (local %v, zone known %v), want the timestamp line's time, UTC once the zone is known",
					c.BundlePath, sn.Artifact, sn.CapturedAt, sn.CaptureSource, sn.CapturedLocal, hf.HasZone)
				continue
			}
			// Local UTC−5; the tasklist line is two seconds after netstat's.
			utc := sn.CapturedAt
			if sn.CapturedLocal {
				utc = utc.Add(5 * time.Hour)
			}
			if d := utc.Sub(lastEvent[c.BundlePath]); d < time.Minute-time.Second || d > time.Minute+3*time.Second {
				t.Errorf("%s %s: captured %v after the last event, want a minute", c.BundlePath, sn.Artifact, d)
			}
		}
	}
	if len(hosts) != 3 {
		t.Errorf("hosts %v, want three", hosts)
	}
}

// readAll parses a file through parsers.Read and fails the test on any
// parse error.
func readAll(t *testing.T, name string) func(func(parsers.Record) bool) {
	t.Helper()
	return func(yield func(parsers.Record) bool) {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		_, seq := parsers.Read(context.Background(), name, f, "")
		for rec, err := range seq {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !yield(rec) {
				return
			}
		}
	}
}
