package parsers

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkNetstatVsGrep measures the whole text path — detection,
// decoding, parsing — on synthetic netstat captures, and in the same run
// `grep -c ':'` over the same file as the baseline (BENCHMARKS.md divides
// the two). Run with:
//
//	go test ./parsers -run '^$' -bench NetstatVsGrep -benchtime 5x
func BenchmarkNetstatVsGrep(b *testing.B) {
	grep, err := exec.LookPath("grep")
	if err != nil {
		b.Skip("grep not found")
	}
	for _, bc := range []struct {
		name string
		rows int
	}{
		{"DNSPool3000", 3000},         // a DNS server with its 2,500-port socket pool
		{"Synthetic100MB", 1_330_000}, // ≈ 100 MB
	} {
		path := filepath.Join(b.TempDir(), "netstat.txt")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriter(f)
		if err := SyntheticNetstat(bw, bc.rows, true); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		info, _ := f.Stat()
		f.Close()
		size := info.Size()

		b.Run(bc.name+"/portmortem", func(b *testing.B) {
			b.SetBytes(size)
			records := 0
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				a, seq := Read(context.Background(), path, f, "")
				for _, err := range seq {
					if err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
				if a.Format != FormatNetstat {
					b.Fatalf("detected %s", a.Format)
				}
				records = a.Records
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(bc.name+"/grep", func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if out, err := exec.Command(grep, "-c", ":", path).Output(); err != nil || len(out) == 0 {
					b.Fatalf("grep: %v", err)
				}
			}
		})
	}
}
