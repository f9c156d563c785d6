package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestWalkKeep keeps every entry of a nested archive and of a folder and
// reads them in other goroutines after their yields returned: the files
// stay readable until released, Walk waits for the releases, and nothing
// is left in the temporary directory.
func TestWalkKeep(t *testing.T) {
	files := corpusFiles(t)
	if len(files) > 8 {
		files = files[:8]
	}
	inner := makeZip(t, prefixed("text/", files)...)
	tgz := gzipBytes(t, "", time.Time{}, makeTar(t, prefixed("logs/", files)...))
	dir := t.TempDir()
	writeFile(t, dir, "outer.zip", makeZip(t, zfile{name: "inner.zip", data: inner}, zfile{name: "logs.tgz", data: tgz}))
	for _, f := range files {
		writeFile(t, dir, filepath.Join("plain", f.name), f.data)
	}

	want, errs, _ := walkAll(t, context.Background(), dir, DefaultLimits())
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}

	hooks := &walkHooks{tempParent: t.TempDir()}
	var mu sync.Mutex
	got := map[string]string{}
	var wg sync.WaitGroup
	for e, err := range walk(context.Background(), dir, DefaultLimits(), hooks) {
		if err != nil {
			t.Fatal(err)
		}
		release, ok := e.Keep()
		if !ok {
			t.Fatalf("%s: Keep refused during the yield", e.Name)
		}
		if _, again := e.Keep(); again {
			t.Errorf("%s: second Keep accepted", e.Name)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer release()
			time.Sleep(time.Millisecond) // read after the yield returned
			if _, err := os.Stat(e.File.Name()); err != nil {
				t.Errorf("%s: kept file gone before its release: %v", e.Name, err)
			}
			h := sha256.New()
			if _, err := io.Copy(h, e.File); err != nil {
				t.Errorf("%s: %v", e.Name, err)
			}
			mu.Lock()
			got[e.Name] = hex.EncodeToString(h.Sum(nil))
			mu.Unlock()
		}()
		defer func() {
			if _, late := e.Keep(); late {
				t.Errorf("%s: Keep accepted after the yield", e.Name)
			}
		}()
	}
	wg.Wait()
	checkEmpty(t, hooks.tempParent)
	if g, w := len(got), len(want); g != w {
		t.Fatalf("kept %d entries, want %d", g, w)
	}
	for _, w := range want {
		if got[w.name] != w.sha {
			t.Errorf("%s: sha %s, want %s", w.name, got[w.name], w.sha)
		}
	}
	if !slices.ContainsFunc(want, func(w walked) bool { return w.depth == 0 }) {
		t.Error("no file on disk among the entries")
	}
}
