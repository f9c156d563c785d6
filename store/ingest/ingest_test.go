package ingest

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/bundle"
	"github.com/portmortem/portmortem/store"
)

// observer records what a run reports.
type observer struct {
	mu        sync.Mutex
	warnings  []string
	committed map[int][]int64
	done      []Result
}

func (o *observer) Warning(bundle string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.warnings = append(o.warnings, err.Error())
}

func (o *observer) Committed(_ context.Context, i int, caseIDs []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.committed == nil {
		o.committed = map[int][]int64{}
	}
	o.committed[i] = caseIDs
	return nil
}

func (o *observer) Done(r Result) error {
	o.done = append(o.done, r)
	return nil
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "portmortem.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func scenario(name string) string { return filepath.Join("..", "..", "testdata", "bundles", name) }

// TestDecodeOnce runs a bundle with event logs and counts the calls to
// correlate.Decode: every event is decoded exactly once, and only there
// (the store is handed the decoded rows and has no decoder of its own).
func TestDecodeOnce(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	total := 0
	decode = func(ev *parsers.Event) correlate.Decoded {
		mu.Lock()
		calls[fmt.Sprintf("%s/%d", ev.Channel, ev.RecordID)]++
		total++
		mu.Unlock()
		return correlate.Decode(ev)
	}
	t.Cleanup(func() { decode = correlate.Decode })

	s := openStore(t)
	bundles := []string{scenario("apache-httpsys"), scenario("nps-german-2008r2")}
	obs := &observer{}
	res, err := Run(context.Background(), s, bundles, Options{Jobs: 2, Limits: bundle.DefaultLimits()}, obs)
	if err != nil {
		t.Fatal(err)
	}
	events, kept := 0, 0
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Bundle, r.Err)
		}
		for _, c := range r.Cases {
			arts, err := s.Artifacts(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range arts {
				if a.Format == parsers.FormatEVTX {
					events += a.Records
				}
			}
			rows, err := s.FailureRows(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			kept += len(rows)
		}
	}
	if events == 0 || kept == 0 {
		t.Fatalf("%d events, %d failures stored: the bundles should have both", events, kept)
	}
	if total != events {
		t.Errorf("Decode called %d times for %d events", total, events)
	}
	for k, n := range calls {
		if n != 1 {
			t.Errorf("event %s decoded %d times", k, n)
		}
	}
	if len(calls) != events {
		t.Errorf("%d distinct events decoded, %d stored", len(calls), events)
	}
}

// TestRefusedEntry: an archive member the walk refuses becomes an
// artifact of format refused with the reason as its note, a warning, and
// a coverage line of the case; the members read are analyzed as usual.
func TestRefusedEntry(t *testing.T) {
	netstat, err := os.ReadFile(filepath.Join(scenario("ias-port-free"), "netstat-ano.txt"))
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "bundle.zip")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range []string{"netstat-ano.txt", "../escape.txt"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(netstat)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s := openStore(t)
	obs := &observer{}
	res, err := Run(context.Background(), s, []string{archive}, Options{Jobs: 1, Limits: bundle.DefaultLimits()}, obs)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("run: %v %+v", err, res)
	}
	if len(obs.warnings) != 1 || !strings.Contains(obs.warnings[0], "escape.txt") {
		t.Errorf("warnings %q, want one naming escape.txt", obs.warnings)
	}
	arts, err := s.Artifacts(context.Background(), res[0].Cases[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var formats []string
	var refused *store.Artifact
	for i, a := range arts {
		formats = append(formats, string(a.Format))
		if a.Format == parsers.FormatRefused {
			refused = &arts[i]
		}
	}
	if len(arts) != 2 || refused == nil {
		t.Fatalf("artifacts %v, want the netstat and the refused member", formats)
	}
	if want := archive + "!/../escape.txt"; refused.Path != want || len(refused.Notes) != 1 ||
		!strings.Contains(refused.Notes[0], "unsafe path") {
		t.Errorf("refused artifact %q notes %q; want %q with the reason", refused.Path, refused.Notes, want)
	}
	for _, c := range [][]correlate.Coverage{res[0].Cases[0].Coverage, stored(t, s, res[0].Cases[0].ID)} {
		var got *correlate.Coverage
		for i := range c {
			if c[i].Check == correlate.CheckBundle {
				got = &c[i]
			}
		}
		if got == nil || got.Status != correlate.StatusPartial || !strings.Contains(got.Reason, "escape.txt") {
			t.Errorf("bundle coverage %+v; want partial, naming escape.txt", got)
		}
	}
}

func stored(t *testing.T, s *store.Store, caseID int64) []correlate.Coverage {
	t.Helper()
	c, err := s.Coverage(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDamagedMemberNote: a member the walk reads only up to damage (a
// truncated gzip) is stored from what was read, with the damage as its
// note, and no refused row of its own.
func TestDamagedMemberNote(t *testing.T) {
	netstat, err := os.ReadFile(filepath.Join("..", "..", "testdata", "netstat", "netstat_win10_jc_netstat-aonb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Name = "netstat-ano.txt"
	zw.Write(netstat)
	zw.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "netstat-ano.txt.gz"), gz.Bytes()[:gz.Len()*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	res, err := Run(context.Background(), s, []string{dir}, Options{Jobs: 1, Limits: bundle.DefaultLimits()}, &observer{})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("run: %v %+v", err, res)
	}
	arts, err := s.Artifacts(context.Background(), res[0].Cases[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 1 || arts[0].Format != parsers.FormatNetstat || len(arts[0].Notes) == 0 || arts[0].Records == 0 {
		t.Fatalf("artifacts %+v; want the netstat read up to the damage, with a note", arts)
	}
}
