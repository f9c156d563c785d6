package parsers

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir returns the shared corpus of real artifacts, which lies beside
// the repository (../shared/corpus from the module root) on the team's
// machines and in CI. PORTMORTEM_CORPUS overrides it. Where it is absent (a
// plain clone elsewhere) the test is skipped with a message saying so.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := findCorpus()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus %s missing in CI: %v", dir, err)
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
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus %s missing in CI: %v", dir, err)
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
