package synth

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// TestSystemLog writes a synthetic System log across many chunks
// and reads it back through Read: every record comes back in order, with
// the boots and failures the generator promises.
func TestSystemLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "System.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := evtxwrite.New(f)
	const records, every = 12000, 500
	if err := SystemLog(w, records, every, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	a, seq := parsers.Read(context.Background(), path, in, "")
	ids := map[uint16]int{}
	var last uint64
	for rec, err := range seq {
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if rec.Kind == parsers.KindMeta {
			continue // the host the events name
		}
		if rec.Event.RecordID != last+1 {
			t.Fatalf("record %d after %d", rec.Event.RecordID, last)
		}
		last = rec.Event.RecordID
		ids[rec.Event.EventID]++
	}
	if a.Format != parsers.FormatEVTX || a.Records != records {
		t.Fatalf("read %s with %d records, want evtx with %d", a.Format, a.Records, records)
	}
	if got := ids[7000] + ids[7023] + ids[7024]; got < records/every-2 || got > records/every+2 {
		t.Errorf("%d failures, want about %d", got, records/every)
	}
	if ids[6005] != 3 || ids[12] != 3 || ids[6006]+ids[6008] != 2 {
		t.Errorf("boots: 6005 ×%d, 12 ×%d, 6006 ×%d, 6008 ×%d; want 3 boots and 2 ends", ids[6005], ids[12], ids[6006], ids[6008])
	}
	if ids[7036] < records/2 {
		t.Errorf("only %d 7036 events", ids[7036])
	}
}

// TestSystemLogAllReadersCount writes a log of some hundred chunks and
// checks that libevtx reads every record too. Chunks filled to the last
// byte lost their last record in libevtx (4 of 20,000 here) until the
// writer kept the slack Windows keeps.
func TestSystemLogAllReadersCount(t *testing.T) {
	exe := needTool(t, "evtxexport", "-V")
	path := filepath.Join(t.TempDir(), "System.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := evtxwrite.New(f)
	const records = 20000
	if err := SystemLog(w, records, 1000, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(exe, path).Output()
	if err != nil {
		t.Fatalf("evtxexport: %v", err)
	}
	if got := bytes.Count(out, []byte("\nEvent number\t")); got != records {
		t.Errorf("evtxexport reads %d records, want %d", got, records)
	}
}

// TestNetstat reads synthetic netstat captures back with the netstat
// parser: the number of rows asked for, dns.exe's socket pool, an English
// -ano header, no error.
func TestNetstat(t *testing.T) {
	for _, tt := range []struct {
		rows    int
		dnsPool bool
		wantDNS int
	}{{3000, true, 2500 + 1}, {12, false, 0}, {1, true, 0}, {40000, true, 2500 + 1}} {
		t.Run(fmt.Sprint(tt.rows, tt.dnsPool), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Netstat(&buf, tt.rows, tt.dnsPool); err != nil {
				t.Fatal(err)
			}
			a, seq := parsers.Read(context.Background(), "netstat.txt", bytes.NewReader(buf.Bytes()), "")
			dns := 0
			for rec, err := range seq {
				if err != nil {
					t.Fatal(err)
				}
				if s := rec.Socket; s != nil && s.PID == 1868 && s.Proto == parsers.UDP {
					dns++
				}
			}
			if a.Format != parsers.FormatNetstat || a.Records != tt.rows {
				t.Errorf("read %s with %d records, want netstat with %d", a.Format, a.Records, tt.rows)
			}
			if tt.wantDNS > 0 && dns != tt.wantDNS {
				t.Errorf("dns.exe holds %d UDP ports, want %d", dns, tt.wantDNS)
			}
			if a.Variant != "-ano" || a.Locale != "en" {
				t.Errorf("variant %q locale %q, want -ano en", a.Variant, a.Locale)
			}
		})
	}
}

// needTool skips the test when an external reader is missing, unless CI
// or PORTMORTEM_LONG=1 is set: those must run them.
func needTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil && len(args) > 0 {
		err = exec.Command(path, args...).Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" || os.Getenv("PORTMORTEM_LONG") == "1" {
			t.Fatalf("%s not usable (CI or PORTMORTEM_LONG=1): %v", name, err)
		}
		t.Skipf("%s not usable: %v", name, err)
	}
	return path
}
