package bundle

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir returns the shared corpus of real artifacts, which lies beside
// the repository (../shared/corpus from the module root) on the team's
// machines and in CI. PORTMORTEM_CORPUS overrides it. Where it is absent (a
// plain clone elsewhere) the test is skipped with a message saying so,
// except in CI or with PORTMORTEM_LONG=1, where it fails. It
// is parsers' helper of the same name, three levels up instead of two.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PORTMORTEM_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("PORTMORTEM_LONG") == "1" {
			t.Fatalf("corpus %s missing (CI or PORTMORTEM_LONG=1): %v", dir, err)
		}
		t.Skipf("corpus not found at %s (set PORTMORTEM_CORPUS): sweep skipped", dir)
	}
	return dir
}
