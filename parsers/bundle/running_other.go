//go:build !unix && !windows

package bundle

// ProcessRunning says whether a process with this PID runs; where it
// cannot be told, every process is taken as running, so nothing of a live
// run is removed.
func ProcessRunning(pid int) bool { return pid > 0 }
