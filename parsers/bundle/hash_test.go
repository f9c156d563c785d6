package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// hashOf is Hash that fails the test on an error.
func hashOf(t *testing.T, root string) string {
	t.Helper()
	h, err := Hash(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// writeTree writes files (slash-separated names) under dir and returns dir.
func writeTree(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, data := range files {
		writeFile(t, dir, filepath.FromSlash(name), []byte(data))
	}
	return dir
}

func TestHashFolder(t *testing.T) {
	base := map[string]string{"netstat.txt": "netstat -ano\r\n", "logs/System.evtx": "ElfFile\x00", "logs/a b.txt": ""}
	with := func(change func(map[string]string)) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		change(m)
		return m
	}
	want := hashOf(t, writeTree(t, t.TempDir(), base))

	t.Run("same_content_elsewhere", func(t *testing.T) {
		dir := writeTree(t, filepath.Join(t.TempDir(), "deeper", "copy"), base)
		old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		if err := os.Chtimes(filepath.Join(dir, "netstat.txt"), old, old); err != nil {
			t.Fatal(err)
		}
		for _, root := range []string{dir, dir + string(filepath.Separator)} {
			if got := hashOf(t, root); got != want {
				t.Errorf("Hash(%s) = %s, want %s", root, got, want)
			}
		}
	})

	tests := []struct {
		name  string
		files map[string]string
	}{
		{"byte_changed", with(func(m map[string]string) { m["logs/System.evtx"] = "ElfFile\x01" })},
		{"byte_added", with(func(m map[string]string) { m["netstat.txt"] += " " })},
		{"renamed", with(func(m map[string]string) { m["netstat-ano.txt"] = m["netstat.txt"]; delete(m, "netstat.txt") })},
		{"moved_to_a_folder", with(func(m map[string]string) { m["x/netstat.txt"] = m["netstat.txt"]; delete(m, "netstat.txt") })},
		{"empty_file_added", with(func(m map[string]string) { m["empty.txt"] = "" })},
		{"file_removed", with(func(m map[string]string) { delete(m, "logs/a b.txt") })},
		{"contents_swapped", with(func(m map[string]string) {
			m["netstat.txt"], m["logs/System.evtx"] = m["logs/System.evtx"], m["netstat.txt"]
		})},
	}
	seen := map[string]string{want: "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hashOf(t, writeTree(t, t.TempDir(), tt.files))
			if prev, ok := seen[got]; ok {
				t.Errorf("key %s, the same as %s", got, prev)
			}
			seen[got] = tt.name
		})
	}
}

// TestHashFormat pins the key's construction: databases store it, so a
// change would make every bundle analyzed before a new case.
func TestHashFormat(t *testing.T) {
	sum := func(s string) string { b := sha256.Sum256([]byte(s)); return hex.EncodeToString(b[:]) }
	dir := writeTree(t, t.TempDir(), map[string]string{"b.txt": "bee", "a/z.txt": "zed", "a.txt": "ay"})
	list := fmt.Sprintf("a/z.txt\x00%s\na.txt\x00%s\nb.txt\x00%s\n", sum("zed"), sum("ay"), sum("bee"))
	if got, want := hashOf(t, dir), sum(list); got != want {
		t.Errorf("folder key %s, want %s", got, want)
	}
	if got, want := hashOf(t, filepath.Join(dir, "b.txt")), sum("bee"); got != want {
		t.Errorf("file key %s, want %s", got, want)
	}
	if got, want := hashOf(t, t.TempDir()), sum(""); got != want {
		t.Errorf("empty folder key %s, want %s", got, want)
	}
}

func TestHashLinks(t *testing.T) {
	files := map[string]string{"netstat.txt": "netstat", "sub/tasklist.txt": "tasklist"}
	dir := writeTree(t, t.TempDir(), files)
	want := hashOf(t, dir)
	outside := writeTree(t, t.TempDir(), map[string]string{"secret.txt": "secret"})
	if err := os.Symlink(outside, filepath.Join(dir, "dirlink")); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "filelink")); err != nil {
		t.Fatal(err)
	}
	if got := hashOf(t, dir); got != want {
		t.Errorf("links inside the folder changed the key: %s, want %s", got, want)
	}
	// A bundle given through a link is the folder it points to, not an
	// empty folder: two linked bundles must not share a key.
	link := filepath.Join(t.TempDir(), "current")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if got := hashOf(t, link); got != want {
		t.Errorf("Hash(link to the folder) = %s, want %s", got, want)
	}
	n := 0
	for _, err := range Walk(context.Background(), link, DefaultLimits()) {
		if err == nil {
			n++
		}
	}
	if n != len(files) {
		t.Errorf("Walk(link) yields %d files, want %d", n, len(files))
	}
}

func TestHashErrors(t *testing.T) {
	if _, err := Hash(context.Background(), filepath.Join(t.TempDir(), "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing root: error %v, want fs.ErrNotExist", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := writeTree(t, t.TempDir(), map[string]string{"a.txt": "a"})
	for _, root := range []string{dir, filepath.Join(dir, "a.txt")} {
		if _, err := Hash(ctx, root); !errors.Is(err, context.Canceled) {
			t.Errorf("Hash(%s) with a cancelled context: error %v, want context.Canceled", root, err)
		}
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if exec.Command("mkfifo", fifo).Run() != nil {
		t.Skip("no mkfifo")
	}
	if _, err := Hash(context.Background(), fifo); !errors.Is(err, ErrSpecialFile) {
		t.Errorf("FIFO root: error %v, want ErrSpecialFile", err)
	}
}
