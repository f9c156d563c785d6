package parsers_test

// The benchmarks on synthetic data are in the external test package:
// package parsers/synth may import parsers, so parsers' own tests cannot
// import it.

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	goevtx "github.com/0xrawsec/golang-evtx/evtx"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
	"github.com/portmortem/portmortem/parsers/synth"
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
		if err := synth.Netstat(bw, bc.rows, true); err != nil {
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
				a, seq := parsers.Read(context.Background(), path, f, "")
				for _, err := range seq {
					if err != nil {
						b.Fatal(err)
					}
				}
				f.Close()
				if a.Format != parsers.FormatNetstat {
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

// BenchmarkEVTXVsReaders decodes the largest corpus System log (16.8 MB,
// 60,189 records) and a 200 MB log from the EVTX writer with our reader
// (through Read, as the CLI does), with a plain golang-evtx FastEvents loop
// and with libevtx's evtxexport, in the same run. Run with:
//
//	go test ./parsers -run '^$' -bench EVTXVsReaders -benchtime 3x -timeout 30m
//
// benchEVTXRecords sizes BenchmarkEVTXVsReaders' synthetic log: 460,000
// records make 200 MB, 2,300,000 make 1 GB.
var benchEVTXRecords = flag.Int("bench-evtx-records", 460000, "records of the synthetic log of BenchmarkEVTXVsReaders")

func BenchmarkEVTXVsReaders(b *testing.B) {
	parsers.QuietLibraryLog(b)
	synthetic := filepath.Join(b.TempDir(), "System-synthetic.evtx")
	f, err := os.Create(synthetic)
	if err != nil {
		b.Fatal(err)
	}
	w := evtxwrite.New(f)
	if err := synth.SystemLog(w, *benchEVTXRecords, 5000, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, err := os.Stat(synthetic)
	if err != nil {
		b.Fatal(err)
	}
	for _, file := range []struct{ name, path string }{
		{"Corpus16MB", filepath.Join(parsers.EVTXCorpus(b), "system", "museum_Win2012R2_StolenSzechuan_System_LARGE.evtx")},
		{fmt.Sprintf("Synthetic%dMB", (fi.Size()+500_000)/1_000_000), synthetic},
	} {
		info, err := os.Stat(file.path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(file.name+"/portmortem", func(b *testing.B) {
			b.SetBytes(info.Size())
			records := 0
			for b.Loop() {
				f, err := os.Open(file.path)
				if err != nil {
					b.Fatal(err)
				}
				a, seq := parsers.Read(context.Background(), file.path, f, "")
				for range seq {
				}
				f.Close()
				records = a.Records
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(file.name+"/golang-evtx-FastEvents", func(b *testing.B) {
			b.SetBytes(info.Size())
			records := 0
			for b.Loop() {
				ef, err := goevtx.OpenDirty(file.path)
				if err != nil {
					b.Fatal(err)
				}
				records = 0
				for range ef.FastEvents() {
					records++
				}
				ef.Close()
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(file.name+"/evtxexport", func(b *testing.B) {
			exe, err := exec.LookPath("evtxexport")
			if err != nil {
				b.Skip("evtxexport not installed")
			}
			b.SetBytes(info.Size())
			for b.Loop() {
				cmd := exec.Command(exe, file.path)
				cmd.Stdout = io.Discard
				_ = cmd.Run() // exits 1 on records it cannot read; the time is what counts
			}
		})
	}
}

// BenchmarkNetstat runs the netstat parser alone over synthetic captures
// held in memory.
func BenchmarkNetstat(b *testing.B) {
	p, err := parsers.ByName(string(parsers.FormatNetstat))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		rows int
	}{{"DNSPool3000", 3000}, {"Rows1M", 1_000_000}} {
		b.Run(bc.name, func(b *testing.B) {
			var buf bytes.Buffer
			if err := synth.Netstat(&buf, bc.rows, true); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				records = 0
				for _, err := range p.Parse(context.Background(), bytes.NewReader(data)) {
					if err != nil {
						b.Fatal(err)
					}
					records++
				}
			}
			b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
