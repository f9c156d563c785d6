package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/portmortem/portmortem/parsers/evtxwrite"
	"github.com/portmortem/portmortem/parsers/synth"
)

// synthOptions are the flags of `portmortem synth`.
type synthOptions struct {
	records      int
	failureEvery int
	dnsPool      bool
	out          string
	// bundles
	systemRecords, appRecords, netstatRows int
}

const synthUsage = "portmortem synth evtx|netstat -n N -o FILE [flags]\n       portmortem synth bundles -n N -o DIR [flags]"

// runSynth writes synthetic artifacts for benchmarks and scale tests.
func runSynth(ctx context.Context, e env, args []string) error {
	var o synthOptions
	fs := newFlagSet(e, "synth", synthUsage)
	fs.IntVarP(&o.records, "records", "n", 100000, "records (evtx), socket rows (netstat) or bundles (bundles) to write")
	fs.IntVar(&o.failureEvery, "failure-every", 5000, "evtx, bundles: one service-start failure every this many records (0: none)")
	fs.BoolVar(&o.dnsPool, "dns-pool", true, "netstat, bundles: a dns.exe holding a 2,500-port UDP socket pool")
	fs.StringVarP(&o.out, "output", "o", "", "file (evtx, netstat) or folder (bundles) to write (required)")
	fs.IntVar(&o.systemRecords, "system-records", 45500, "bundles: records of each System.evtx (45,500 ≈ 20 MB)")
	fs.IntVar(&o.appRecords, "application-records", 43600, "bundles: records of each Application.evtx (43,600 ≈ 20 MB)")
	fs.IntVar(&o.netstatRows, "netstat-rows", 3000, "bundles: socket rows of each netstat -ano")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || o.out == "" || o.records < 0 || o.systemRecords < 0 || o.appRecords < 0 || o.netstatRows < 0 {
		return fmt.Errorf("%w: %s", errUsage, synthUsage)
	}
	var write func(*os.File) error
	switch fs.Arg(0) {
	case "bundles":
		return synthBundles(ctx, &o)
	case "evtx":
		write = func(f *os.File) error {
			w := evtxwrite.New(f)
			if err := synth.SystemLog(w, o.records, o.failureEvery, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
				return err
			}
			return w.Close()
		}
	case "netstat":
		write = func(f *os.File) error { return writeNetstat(f, "", o.records, o.dnsPool) }
	default:
		return fmt.Errorf("%w: synth writes evtx, netstat or bundles, not %q", errUsage, fs.Arg(0))
	}
	if err := writeSynthFile(o.out, write); err != nil {
		return err
	}
	return ctx.Err()
}

// synthBundles writes o.records bundle folders under o.out, each a
// made-up server of its own (name, seed, start time): System.evtx and
// Application.evtx with failures sprinkled in, netstat -ano and
// tasklist /svc captured a minute after the last event, each with a
// timestamp line in the host's local time (UTC−5, as the System log's
// 6008 events say). No two bundles have the same content, so each is a
// case of its own.
func synthBundles(ctx context.Context, o *synthOptions) error {
	const offset = -5 * time.Hour
	for i := 1; i <= o.records; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := synth.Host{
			Name: fmt.Sprintf("SRV%04d.example.test", i), Seed: uint64(i), FailureEvery: o.failureEvery,
			Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
		}
		dir := filepath.Join(o.out, fmt.Sprintf("bundle-%04d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var end time.Time
		for _, l := range []struct {
			name    string
			records int
			write   func(*evtxwrite.Writer, int) (time.Time, error)
		}{{"System.evtx", o.systemRecords, h.SystemLog}, {"Application.evtx", o.appRecords, h.ApplicationLog}} {
			err := writeSynthFile(filepath.Join(dir, l.name), func(f *os.File) error {
				w := evtxwrite.New(f)
				last, err := l.write(w, l.records)
				if err != nil {
					return err
				}
				if last.After(end) {
					end = last
				}
				return w.Close()
			})
			if err != nil {
				return err
			}
		}
		local := end.Add(time.Minute + offset)
		if err := writeSynthFile(filepath.Join(dir, "netstat-ano.txt"), func(f *os.File) error {
			return writeNetstat(f, local.Format("Mon 01/02/2006 15:04:05.00"), o.netstatRows, o.dnsPool)
		}); err != nil {
			return err
		}
		if err := writeSynthFile(filepath.Join(dir, "tasklist-svc.txt"), func(f *os.File) error {
			return synth.Tasklist(f, local.Add(2*time.Second))
		}); err != nil {
			return err
		}
	}
	return nil
}

// writeNetstat writes a synthetic netstat -ano to f, after a timestamp
// line when stamp is not empty.
func writeNetstat(f *os.File, stamp string, rows int, dnsPool bool) error {
	bw := bufio.NewWriter(f)
	if stamp != "" {
		fmt.Fprintf(bw, "%s\r\n", stamp)
	}
	if err := synth.Netstat(bw, rows, dnsPool); err != nil {
		return err
	}
	return bw.Flush()
}

// writeSynthFile creates name (and its folder), runs write on it and
// closes it.
func writeSynthFile(name string, write func(*os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
