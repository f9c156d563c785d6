package parsers

import (
	"os"
	"path/filepath"
	"testing"
)

// longTests reports whether the long sweeps run: PORTMORTEM_LONG=1, which
// .ci/run sets. Without it the README's `go test ./...` stays fast: the
// corpus sweeps leave out the logs over sampleMaxSize, the python-evtx
// dump and the mutation loops run shorter. -short wins over the switch.
func longTests() bool {
	return os.Getenv("PORTMORTEM_LONG") == "1" && !testing.Short()
}

// strictTests reports whether a missing corpus or reference tool fails
// the test instead of skipping it: in CI, and whenever the long sweeps
// were asked for.
func strictTests() bool {
	return os.Getenv("CI") != "" || os.Getenv("PORTMORTEM_LONG") == "1"
}

// sampleMaxSize is the size above which a corpus file is swept only with
// PORTMORTEM_LONG=1: the three logs over it (16.8 and twice 6.4 MB) take
// more than half of every sweep.
const sampleMaxSize = 4 << 20

// sampleCorpus returns files, without the ones over sampleMaxSize unless
// the long sweeps run, and logs what it left out.
func sampleCorpus(t testing.TB, files []string) []string {
	t.Helper()
	if longTests() {
		return files
	}
	var kept, left []string
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() > sampleMaxSize {
			left = append(left, filepath.Base(f))
			continue
		}
		kept = append(kept, f)
	}
	if len(left) > 0 {
		t.Logf("%d files over %d MiB left out (PORTMORTEM_LONG=1 sweeps them): %v", len(left), sampleMaxSize>>20, left)
	}
	return kept
}

// corpusDir returns the shared corpus of real artifacts, which lies beside
// the repository (../shared/corpus from the module root) on the team's
// machines and in CI. PORTMORTEM_CORPUS overrides it. Where it is absent (a
// plain clone elsewhere) the test is skipped with a message saying so.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := findCorpus()
	if err != nil {
		if strictTests() {
			t.Fatalf("corpus %s missing (CI or PORTMORTEM_LONG=1): %v", dir, err)
		}
		t.Skipf("corpus not found at %s (set PORTMORTEM_CORPUS): sweep skipped", dir)
	}
	return dir
}

// findCorpus locates the shared corpus without skipping.
func findCorpus() (string, error) {
	dir := os.Getenv("PORTMORTEM_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	_, err := os.Stat(dir)
	return dir, err
}

// corpusGlob returns the corpus files matching pattern (relative to the
// corpus), or none where the corpus is absent.
func corpusGlob(t testing.TB, pattern string) []string {
	t.Helper()
	dir, err := findCorpus()
	if err != nil {
		if strictTests() {
			t.Fatalf("corpus %s missing (CI or PORTMORTEM_LONG=1): %v", dir, err)
		}
		t.Logf("corpus not found at %s: checking testdata only", dir)
		return nil
	}
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	return files
}
