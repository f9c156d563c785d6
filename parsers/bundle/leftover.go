package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TempPrefix begins the name of the private temporary directory a Walk
// copies archive members into: "portmortem-bundle-PID-RANDOM" in
// os.TempDir(), mode 0700, with the PID of the process that owns it, so
// that RemoveLeftovers can tell a killed run's copies from a live one's.
const TempPrefix = "portmortem-bundle-"

// OwnedPrefix is prefix followed by this process's PID and a dash: the
// pattern prefix of a temporary name (os.MkdirTemp, os.CreateTemp) that
// RemoveLeftovers recognises.
func OwnedPrefix(prefix string) string {
	return prefix + strconv.Itoa(os.Getpid()) + "-"
}

// Owner reads the PID from a name made with OwnedPrefix(prefix).
func Owner(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(num)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// RemoveLeftovers removes the files and folders of dir named with
// OwnedPrefix of one of prefixes whose owner no longer runs (a run killed
// before it could clean up: SIGKILL, a power cut) and returns the paths
// removed. The files of live processes, this one's included, are left
// alone. A dir that does not exist holds no leftovers.
func RemoveLeftovers(dir string, prefixes ...string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range ents {
		for _, p := range prefixes {
			pid, ok := Owner(e.Name(), p)
			if !ok || ProcessRunning(pid) {
				continue
			}
			path := filepath.Join(dir, e.Name())
			if err := os.RemoveAll(path); err != nil {
				errs = append(errs, err)
				break
			}
			removed = append(removed, path)
			break
		}
	}
	return removed, errors.Join(errs...)
}

// RemoveTempLeftovers removes the temporary directories of Walks whose
// process is gone from os.TempDir() (RemoveLeftovers).
func RemoveTempLeftovers() ([]string, error) {
	return RemoveLeftovers(os.TempDir(), TempPrefix)
}
