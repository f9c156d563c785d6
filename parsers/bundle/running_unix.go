//go:build unix

package bundle

import (
	"errors"
	"syscall"
)

// ProcessRunning says whether a process with this PID runs on this
// machine (signal 0: it exists, or exists and is not ours to signal).
func ProcessRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
