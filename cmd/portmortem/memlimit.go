package main

import (
	"os"
	"runtime/debug"
)

// softMemoryLimit is the Go heap size portmortem asks the garbage
// collector to stay under (runtime/debug.SetMemoryLimit) unless the
// GOMEMLIMIT environment variable sets one. It is a target, not a cap:
// above it the collector runs more often (at most about half the CPU),
// never fails an allocation. What the reports hold at once is a few tens
// of MB (BENCHMARKS.md, "Bounded memory"); with the collector's default
// pace the heap grew to twice that in garbage between collections, which
// on a batch was most of the peak. SQLite's page caches (16 MiB a
// connection) are outside it.
const softMemoryLimit = 192 << 20

// limitMemory sets softMemoryLimit, unless GOMEMLIMIT is set. main calls
// it, not run: tests keep the runtime's defaults.
func limitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
}
