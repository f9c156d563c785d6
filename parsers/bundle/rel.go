package bundle

import (
	"path/filepath"
	"strings"
)

// Rel is an entry's name inside the bundle at bundlePath, with "/"
// between folders: Walk names a folder bundle's files by their path on
// disk (dir/sub/x.txt → sub/x.txt) and an archive bundle's members after
// the archive (case.zip!/logs/x.txt → logs/x.txt); archives inside the
// bundle keep their notation (dir/inner.zip!/x.txt → inner.zip!/x.txt).
func Rel(bundlePath, name string) string {
	dir := filepath.ToSlash(filepath.Clean(bundlePath))
	name = filepath.ToSlash(name)
	if dir == "." {
		return strings.TrimPrefix(name, "./")
	}
	for _, sep := range []string{"!/", "/"} {
		if rel, ok := strings.CutPrefix(name, strings.TrimSuffix(dir, "/")+sep); ok {
			return rel
		}
	}
	return name
}
