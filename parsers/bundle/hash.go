package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
)

// Hash returns the content key of the bundle at root, the key under which
// a database keeps one case per bundle: the hex SHA-256 of a file's bytes,
// or, for a folder, the hex SHA-256 of the list of its regular files in
// lexical walk order, one line each: the path relative to root in forward
// slashes, a NUL, the hex SHA-256 of the file's bytes and "\n". The key
// does not depend on where the bundle lies or on file times; any changed
// byte, name or added or removed file changes it.
//
// Like Walk, Hash follows root when it is a link but no link inside a
// folder; links, special files and files that cannot be read do not count
// (Walk reports them). A root that is not a regular file or a folder (a
// FIFO or a device, which might never end) is refused with ErrSpecialFile.
// Hash stops with ctx.Err() when ctx is cancelled.
func Hash(ctx context.Context, root string) (string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	switch {
	case info.Mode().IsRegular():
		f, err := os.Open(root)
		if err != nil {
			return "", err
		}
		defer f.Close()
		if err := hashReader(ctx, h, f); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	case !info.IsDir():
		return "", &Error{Path: root, Err: fmt.Errorf("%w: %v", ErrSpecialFile, info.Mode().Type())}
	}
	// os.DirFS opens root itself through a link, and fs.WalkDir does not
	// follow the links below it.
	fsys := os.DirFS(root)
	fh := sha256.New()
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // Walk reports unreadable entries; they do not change the key
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fh.Reset()
		if err := hashFile(ctx, fh, fsys, p); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
		fmt.Fprintf(h, "%s\x00%x\n", p, fh.Sum(nil))
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(ctx context.Context, h hash.Hash, fsys fs.FS, name string) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return hashReader(ctx, h, f)
}

// hashReader copies r into h, checking ctx once per MiB.
func hashReader(ctx context.Context, h hash.Hash, r io.Reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := io.CopyN(h, r, 1<<20)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
