package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// synthOptions are the flags of `portmortem synth`.
type synthOptions struct {
	records      int
	failureEvery int
	dnsPool      bool
	out          string
}

const synthUsage = "portmortem synth evtx|netstat -n N -o FILE [flags]"

// runSynth writes synthetic artifacts for benchmarks and scale tests.
func runSynth(ctx context.Context, e env, args []string) error {
	var o synthOptions
	fs := newFlagSet(e, "synth", synthUsage)
	fs.IntVarP(&o.records, "records", "n", 100000, "records (evtx) or socket rows (netstat) to write")
	fs.IntVar(&o.failureEvery, "failure-every", 5000, "evtx: one service-start failure every this many records (0: none)")
	fs.BoolVar(&o.dnsPool, "dns-pool", true, "netstat: a dns.exe holding a 2,500-port UDP socket pool")
	fs.StringVarP(&o.out, "output", "o", "", "file to write (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || o.out == "" || o.records < 0 {
		return fmt.Errorf("%w: %s", errUsage, synthUsage)
	}
	f, err := os.Create(o.out)
	if err != nil {
		return err
	}
	defer f.Close()
	switch fs.Arg(0) {
	case "evtx":
		w := parsers.NewEVTXWriter(f)
		if err := parsers.SyntheticSystemLog(w, o.records, o.failureEvery, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	case "netstat":
		bw := bufio.NewWriter(f)
		if err := parsers.SyntheticNetstat(bw, o.records, o.dnsPool); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: synth writes evtx or netstat, not %q", errUsage, fs.Arg(0))
	}
	if err := f.Close(); err != nil {
		return err
	}
	return ctx.Err()
}
