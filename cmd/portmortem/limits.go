package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/portmortem/portmortem/parsers/bundle"
	"github.com/spf13/pflag"
)

// limitFlags are the bundle safety limits, shared by every command that
// reads bundles.
type limitFlags struct {
	bundle.Limits
	total, entry byteSize
}

func (l *limitFlags) AddFlags(fs *pflag.FlagSet) {
	l.Limits = bundle.DefaultLimits()
	l.total = byteSize(l.MaxTotalBytes)
	l.entry = byteSize(l.MaxEntryBytes)
	fs.Var(&l.total, "max-total", "most bytes read from one bundle, archives unpacked (e.g. 512MiB, 2GB)")
	fs.Var(&l.entry, "max-entry", "most bytes of one file inside an archive (e.g. 512MiB, 2GB)")
	fs.Float64Var(&l.MaxRatio, "max-ratio", l.MaxRatio, "refuse archive members that expand more than this many times (zip bombs)")
	fs.IntVar(&l.MaxDepth, "max-depth", l.MaxDepth, "most levels of archives inside archives")
	fs.IntVar(&l.MaxEntries, "max-entries", l.MaxEntries, "most files read from one bundle")
}

func (l *limitFlags) validate() error {
	l.MaxTotalBytes, l.MaxEntryBytes = int64(l.total), int64(l.entry)
	if l.MaxTotalBytes <= 0 || l.MaxEntryBytes <= 0 || l.MaxRatio <= 1 || l.MaxDepth < 0 || l.MaxEntries <= 0 {
		return fmt.Errorf("%w: bundle limits must be positive (--max-ratio above 1)", errUsage)
	}
	return nil
}

// byteSize is a flag value that accepts 1048576, 512MiB, 64GiB, 2GB …
type byteSize int64

// String shows the size in the largest binary unit that divides it
// (64GiB, 512MiB), so that the flag defaults read as written.
func (b *byteSize) String() string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n := int64(*b); n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}
func (b *byteSize) Type() string { return "size" }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range units {
		if strings.HasSuffix(u, x.suffix) {
			u, mult = strings.TrimSpace(strings.TrimSuffix(u, x.suffix)), x.mult
			break
		}
	}
	n, err := strconv.ParseFloat(u, 64)
	if err != nil || n <= 0 || n*float64(mult) > 1<<62 {
		return fmt.Errorf("bad size %q (want e.g. 512MiB or 64GiB)", s)
	}
	*b = byteSize(n * float64(mult))
	return nil
}
