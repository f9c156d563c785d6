package reports

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/store"
)

// TestJSONGolden writes findings.json of three cases (the classic IAS case
// with a Fax failure, the same with svchost.exe holding the port, and a
// case with no failure) and compares it byte for byte with
// testdata/reports/cases.findings.golden.json. Regenerate with
// go test ./reports -run TestJSONGolden -update, then read the diff.
func TestJSONGolden(t *testing.T) {
	s := openStore(t)
	fax := scm(base.Add(3*time.Minute), 3, 7000, "Fax", "Fax", "%%1058")
	ids := []int64{
		iasCase(t, s, "bundles/ias", "dns.exe", fax),
		iasCase(t, s, "bundles/ias-svchost", "svchost.exe"),
		ingest(t, s, "bundles/quiet", store.HostFacts{}, netstat("bundles/quiet/netstat.txt", base, udp(53, 1640, "dns.exe"))),
	}
	m := loadModel(t, s, ids...)
	var b bytes.Buffer
	if err := writeJSON(context.Background(), m, &b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("..", "testdata", "reports", "cases.findings.golden.json")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	got, w := b.String(), strings.ReplaceAll(string(want), "\r\n", "\n")
	if got != w {
		gl, wl := strings.Split(got, "\n"), strings.Split(w, "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\ngot  %.300q\nwant %.300q\n(go test ./reports -run TestJSONGolden -update, then review)", golden, i+1, g, w)
			}
		}
	}
}

// TestJSONEmpty: a run without findings writes an empty array, not null.
func TestJSONEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *Model
	}{
		{"no_case", NewModel(nil)},
		{"no_finding", NewModel(nil, &Case{Bundle: "b"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeJSON(context.Background(), tc.m, &b); err != nil {
				t.Fatal(err)
			}
			if got, want := b.String(), "[]\n"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestJSONWritesAtomically: a failed write leaves the previous file and no
// temporary one; a good one replaces it, readable by everyone.
func TestJSONWritesAtomically(t *testing.T) {
	s := openStore(t)
	m := loadModel(t, s, iasCase(t, s, "ias", "dns.exe"))
	dir := t.TempDir()
	name := filepath.Join(dir, "findings.json")
	if err := os.WriteFile(name, []byte("previous"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WriteJSON(ctx, m, name); err == nil {
		t.Fatal("a cancelled write succeeded")
	}
	if b, _ := os.ReadFile(name); !bytes.Equal(b, []byte("previous")) {
		t.Errorf("the previous findings.json was replaced")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := WriteJSON(context.Background(), m, name); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o644); got != want {
		t.Errorf("mode %v, want %v", got, want)
	}
}

// TestJSONStreamsFindings: findings.json reaches its writer one finding at
// a time (then the closing bracket), not as one encoded array.
func TestJSONStreamsFindings(t *testing.T) {
	s := openStore(t)
	fax := scm(base.Add(3*time.Minute), 3, 7000, "Fax", "Fax", "%%1058")
	m := loadModel(t, s, iasCase(t, s, "bundles/ias", "dns.exe", fax), iasCase(t, s, "bundles/ias-svchost", "svchost.exe"))
	n := 0
	for _, c := range m.Cases {
		n += len(c.Findings)
	}
	var w writeSizes
	if err := writeJSON(context.Background(), m, &w); err != nil {
		t.Fatal(err)
	}
	if n < 2 || w.writes != n+1 {
		t.Fatalf("%d findings in %d writes, want one write per finding and one to close", n, w.writes)
	}
	if got := strings.Count(w.buf.String(), `"verdict":`); got != n {
		t.Errorf("%d verdicts written, want %d", got, n)
	}
}
