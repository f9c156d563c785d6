package correlate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portmortem/portmortem/parsers"
)

var update = flag.Bool("update", false, "update golden files")

// longTests reports whether the long sweeps run: PORTMORTEM_LONG=1, which
// .ci/run sets (-short wins over it). Without it the cross-check with
// evtxexport leaves out the System logs over sampleMaxSize.
func longTests() bool {
	return os.Getenv("PORTMORTEM_LONG") == "1" && !testing.Short()
}

// strictTests reports whether a missing corpus or reference tool fails
// the test instead of skipping it: in CI, and with PORTMORTEM_LONG=1.
func strictTests() bool {
	return os.Getenv("CI") != "" || os.Getenv("PORTMORTEM_LONG") == "1"
}

// sampleMaxSize is the size above which a corpus log is cross-checked
// only with PORTMORTEM_LONG=1: evtxexport takes most of a minute on the
// 16.8 MB System log alone.
const sampleMaxSize = 4 << 20

// sampleCorpus returns files, without the ones over sampleMaxSize unless
// the long sweeps run, and logs what it left out.
func sampleCorpus(t *testing.T, files []string) []string {
	t.Helper()
	if longTests() {
		return files
	}
	var kept, left []string
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() > sampleMaxSize {
			left = append(left, filepath.Base(f))
			continue
		}
		kept = append(kept, f)
	}
	if len(left) > 0 {
		t.Logf("%d files over %d MiB left out (PORTMORTEM_LONG=1 checks them): %v", len(left), sampleMaxSize>>20, left)
	}
	return kept
}

// corpusDir returns the shared corpus beside the repository, skipping the
// test where it is absent (failing it under strictTests).
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PORTMORTEM_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		if strictTests() {
			t.Fatalf("corpus %s missing (CI or PORTMORTEM_LONG=1): %v", dir, err)
		}
		t.Skipf("corpus not found at %s: sweep skipped", dir)
	}
	return dir
}

// decoded is one failure or boot marker, as the goldens hold it.
type decoded struct {
	RecordID  uint64      `json:"record_id"`
	Recovered bool        `json:"recovered,omitempty"`
	Failure   *Failure    `json:"failure,omitempty"`
	Boot      *BootMarker `json:"boot,omitempty"`
}

// decodeFile reads an event log with parsers.Read (format "" = detect) and
// decodes its failures and boots, in file order.
func decodeFile(t *testing.T, path string, format parsers.Format) []decoded {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, seq := parsers.Read(context.Background(), path, f, format)
	var out []decoded
	for rec, err := range seq {
		if err != nil || rec.Event == nil {
			continue
		}
		if fl, ok := DecodeFailure(rec.Event); ok {
			out = append(out, decoded{RecordID: rec.Event.RecordID, Recovered: rec.Event.Recovered, Failure: &fl})
		}
		if b, ok := DecodeBoot(rec.Event); ok {
			out = append(out, decoded{RecordID: rec.Event.RecordID, Recovered: rec.Event.Recovered, Boot: &b})
		}
	}
	return out
}

func systemLogs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "evtx", "system", "*.evtx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus System logs: %v", err)
	}
	return files
}

// TestDecodedCorpusGolden pins the failures and boots decoded from every
// corpus System log (testdata/decoded/<log>.golden.jsonl, reviewed).
func TestDecodedCorpusGolden(t *testing.T) {
	log.SetOutput(io.Discard) // golang-evtx logs decoding errors
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	for _, path := range systemLogs(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".evtx")
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			for _, d := range decodeFile(t, path, "") {
				if err := enc.Encode(d); err != nil {
					t.Fatal(err)
				}
			}
			golden := filepath.Join("..", "testdata", "decoded", name+".golden.jsonl")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./correlate -update)", err)
			}
			if got := buf.String(); got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := range max(len(gl), len(wl)) {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("line %d differs\n got: %s\nwant: %s", i+1, g, w)
					}
				}
			}
		})
	}
}

// TestDecodedMatchesEvtxexport decodes every corpus System log twice: from
// our evtx reader, and from libevtx's reading (evtxexport -f xml, read back
// with our evtx-xml parser). Every failure and boot that libevtx's records
// give must come out the same from ours: service, key, error code, class,
// time, boot kind and boot time. Without PORTMORTEM_LONG=1 the logs over
// sampleMaxSize are left out (TestDecodedCorpusGolden still reads them).
func TestDecodedMatchesEvtxexport(t *testing.T) {
	evtxexport, err := exec.LookPath("evtxexport")
	if err != nil {
		if strictTests() {
			t.Fatalf("evtxexport not found (apt-get install libevtx-utils): %v", err)
		}
		t.Skipf("evtxexport not installed: %v", err)
	}
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	totalF, totalB := 0, 0
	for _, path := range sampleCorpus(t, systemLogs(t)) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".evtx"), func(t *testing.T) {
			xmlOut, _ := exec.Command(evtxexport, "-f", "xml", path).Output() // exits 1 on files it cannot finish
			ref := filepath.Join(t.TempDir(), "ref.xml")
			if err := os.WriteFile(ref, xmlOut, 0o644); err != nil {
				t.Fatal(err)
			}
			key := func(d decoded) string {
				if d.Failure != nil {
					f := d.Failure
					return fmt.Sprintf("F %d %d %s %q %q %d %s %s", d.RecordID, f.EventID, f.Time.UTC().Format("2006-01-02T15:04:05.0000000"),
						f.Service, f.ServiceKey, f.ErrorCode, f.Class, f.Kind)
				}
				b := d.Boot
				return fmt.Sprintf("B %d %d %s %s %s %s", d.RecordID, b.EventID, b.Time.UTC().Format("2006-01-02T15:04:05.0000000"),
					b.Kind, b.BootTime.UTC().Format("2006-01-02T15:04:05.0000000"), b.LastAlive.UTC().Format(
						"2006-01-02T15:04:05"))
			}
			ours := map[string]bool{}
			for _, d := range decodeFile(t, path, "") {
				ours[key(d)] = true
			}
			theirs := decodeFile(t, ref, parsers.FormatEVTXXML)
			for _, d := range theirs {
				if !ours[key(d)] {
					t.Errorf("libevtx's record decodes as %s; ours does not", key(d))
				}
				if d.Failure != nil {
					totalF++
				} else {
					totalB++
				}
			}
		})
	}
	t.Logf("%d failures and %d boot markers from libevtx's records, all decoded alike from ours", totalF, totalB)
}

// TestWinlogon7001IsNotAFailure: omerbenamram_system.evtx holds Winlogon
// 7001/7002 events (user logon notifications), which share their IDs with
// SCM's "depends on a service that failed": none may decode as a failure.
func TestWinlogon7001IsNotAFailure(t *testing.T) {
	log.SetOutput(io.Discard)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	path := filepath.Join(corpusDir(t), "evtx", "system", "omerbenamram_system.evtx")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, seq := parsers.Read(context.Background(), path, f, "")
	winlogon := 0
	for rec, err := range seq {
		if err != nil || rec.Event == nil || rec.Event.Provider != "Microsoft-Windows-Winlogon" {
			continue
		}
		if rec.Event.EventID == 7001 || rec.Event.EventID == 7002 {
			winlogon++
			if fl, ok := DecodeFailure(rec.Event); ok {
				t.Errorf("Winlogon %d (record %d) decoded as a failure: %+v", rec.Event.EventID, rec.Event.RecordID, fl)
			}
		}
	}
	if winlogon != 7 {
		t.Errorf("%d Winlogon 7001/7002 events, want the 7 this log holds", winlogon)
	}
}
