//go:build windows

package bundle

import (
	"errors"
	"syscall"
)

// stillActive is the exit code GetExitCodeProcess gives a running process.
const stillActive = 259

// ProcessRunning says whether a process with this PID runs on this
// machine: it can be opened and has no exit code yet, or it exists but is
// not ours to open.
func ProcessRunning(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := syscall.OpenProcess(syscall.PROCESS_QUERY_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, syscall.ERROR_ACCESS_DENIED)
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	return code == stillActive
}
