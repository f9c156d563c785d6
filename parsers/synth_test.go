package parsers

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestSyntheticSystemLog writes a synthetic System log across many chunks
// and reads it back through Read: every record comes back in order, with
// the boots and failures the generator promises.
func TestSyntheticSystemLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "System.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewEVTXWriter(f)
	const records, every = 12000, 500
	if err := SyntheticSystemLog(w, records, every, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
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
	a, seq := Read(context.Background(), path, in, "")
	ids := map[uint16]int{}
	var last uint64
	for rec, err := range seq {
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if rec.Event.RecordID != last+1 {
			t.Fatalf("record %d after %d", rec.Event.RecordID, last)
		}
		last = rec.Event.RecordID
		ids[rec.Event.EventID]++
	}
	if a.Format != FormatEVTX || a.Records != records {
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

// TestSyntheticLogAllReadersCount writes a log of some hundred chunks and
// checks that libevtx reads every record too. Chunks filled to the last
// byte lost their last record in libevtx (4 of 20,000 here) until the
// writer kept the slack Windows keeps.
func TestSyntheticLogAllReadersCount(t *testing.T) {
	exe := needTool(t, "evtxexport", "-V")
	path := filepath.Join(t.TempDir(), "System.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewEVTXWriter(f)
	const records = 20000
	if err := SyntheticSystemLog(w, records, 1000, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
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
