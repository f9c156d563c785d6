package parsers

import (
	"bytes"
	"os"
	"strconv"
)

// peakRSS returns the peak resident memory of process pid: VmHWM, the
// high-water mark of its address space, from /proc. The rusage of a
// child is no use here: Linux starts its ru_maxrss from the parent's
// resident size at the fork, so it measures the test binary that holds
// the corpus, not the mutant's parse.
func peakRSS(pid int) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
