package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// ---- archive builders ----

// zfile is one member of a test archive.
type zfile struct {
	name string
	data []byte
	mod  time.Time
	// mode, for tar: a type flag other than a regular file, and link target.
	typ      byte
	linkname string
}

// makeZip builds a zip the way archive/zip writes it by default: deflate,
// with data descriptors, and an extended timestamp when mod is set.
func makeZip(t testing.TB, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: f.mod})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// makeZipSized builds a zip whose local headers carry the sizes (no data
// descriptor), stored or deflated, as Windows Explorer and 7-Zip write it.
func makeZipSized(t testing.TB, method uint16, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		data := f.data
		if method == zip.Deflate {
			data = deflateBytes(t, f.data)
		}
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: f.name, Method: method, CRC32: crc32.ChecksumIEEE(f.data),
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(f.data)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deflateBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(b)
	fw.Close()
	return buf.Bytes()
}

func makeTar(t testing.TB, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		typ := f.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: f.name, Typeflag: typ, Mode: 0o644, Linkname: f.linkname, ModTime: f.mod}
		if typ == tar.TypeReg {
			h.Size = int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(f.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, name string, mod time.Time, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name, zw.ModTime = name, mod
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zeroDeflate returns a deflate stream of n zero bytes without compressing
// n bytes: independently compressed, flushed 1 MiB chunks can be
// concatenated, and a fresh writer's output ends the stream.
func zeroDeflate(t testing.TB, n int64) []byte {
	t.Helper()
	const chunk = 1 << 20
	var c bytes.Buffer
	fw, _ := flate.NewWriter(&c, flate.BestCompression)
	fw.Write(make([]byte, chunk))
	fw.Flush()
	var out bytes.Buffer
	for range n / chunk {
		out.Write(c.Bytes())
	}
	fw, _ = flate.NewWriter(&out, flate.BestCompression)
	fw.Write(make([]byte, n%chunk))
	fw.Close()
	return out.Bytes()
}

func zeroCRC(n int64) uint32 {
	zero := make([]byte, 1<<20)
	var crc uint32
	for ; n > 0; n -= int64(len(zero)) {
		crc = crc32.Update(crc, crc32.IEEETable, zero[:min(n, int64(len(zero)))])
	}
	return crc
}

// zeroGzip is a gzip file of n zero bytes.
func zeroGzip(t testing.TB, n int64) []byte {
	t.Helper()
	b := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	b = append(b, zeroDeflate(t, n)...)
	b = binary.LittleEndian.AppendUint32(b, zeroCRC(n))
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// zipRaw adds a member whose compressed bytes and header are given as is.
func zipRaw(t testing.TB, zw *zip.Writer, fh *zip.FileHeader, data []byte) {
	t.Helper()
	w, err := zw.CreateRaw(fh)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
}

// stripCentral cuts a zip (without comment) before its central directory.
func stripCentral(b []byte) []byte {
	return b[:binary.LittleEndian.Uint32(b[len(b)-22+16:])]
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ---- walking ----

// walked is what a test keeps of an Entry.
type walked struct {
	name  string
	sha   string
	data  []byte // the first 64 KiB
	size  int64
	mt    time.Time
	src   parsers.CaptureSource
	depth int
}

// walkAll walks root with a private temporary parent, checks the entry
// invariants and that the temporary directory is gone afterwards.
func walkAll(t *testing.T, ctx context.Context, root string, lim Limits) ([]walked, []error, *walkHooks) {
	t.Helper()
	hooks := &walkHooks{tempParent: t.TempDir()}
	var got []walked
	var errs []error
	for e, err := range walk(ctx, root, lim, hooks) {
		if err != nil {
			var be *Error
			if !errors.As(err, &be) && !errors.Is(err, context.Canceled) {
				t.Errorf("error %v is %T, want *Error", err, err)
			}
			errs = append(errs, err)
			continue
		}
		got = append(got, readEntry(t, e, hooks.tempParent))
	}
	checkEmpty(t, hooks.tempParent)
	return got, errs, hooks
}

func readEntry(t *testing.T, e Entry, tempParent string) walked {
	t.Helper()
	if e.File == nil {
		t.Fatalf("%s: nil File", e.Name)
	}
	if off, _ := e.File.Seek(0, io.SeekCurrent); off != 0 {
		t.Errorf("%s: offset %d, want 0", e.Name, off)
	}
	if st, err := e.File.Stat(); err != nil || st.Size() != e.Size {
		t.Errorf("%s: Size %d, file has %v (%v)", e.Name, e.Size, st.Size(), err)
	}
	if e.Depth > 0 && !strings.HasPrefix(e.File.Name(), tempParent+string(filepath.Separator)) {
		t.Errorf("%s: member copy %s is not under %s", e.Name, e.File.Name(), tempParent)
	}
	h := sha256.New()
	var head bytes.Buffer
	if _, err := io.Copy(io.MultiWriter(h, &limitedWriter{&head, 64 << 10}), e.File); err != nil {
		t.Fatal(err)
	}
	return walked{e.Name, hex.EncodeToString(h.Sum(nil)), head.Bytes(), e.Size, e.ModTime, e.ModTimeSource, e.Depth}
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if k := min(len(p), l.n); k > 0 {
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left in the temporary parent: %s", e.Name())
	}
}

// errFor returns the error whose Error path is p.
func errFor(errs []error, p string) error {
	for _, err := range errs {
		var be *Error
		if errors.As(err, &be) && be.Path == p {
			return err
		}
	}
	return nil
}

func names(ws []walked) []string {
	var n []string
	for _, w := range ws {
		n = append(n, w.name)
	}
	return n
}

// corpusFiles reads every file of the shared text corpus.
func corpusFiles(t *testing.T) []zfile {
	t.Helper()
	dir := filepath.Join(corpusDir(t), "text")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []zfile
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, zfile{name: e.Name(), data: b})
	}
	if len(files) == 0 {
		t.Skip("empty corpus")
	}
	return files
}

func prefixed(prefix string, files []zfile) []zfile {
	out := make([]zfile, len(files))
	for i, f := range files {
		out[i] = f
		out[i].name = prefix + f.name
	}
	return out
}

// ---- tests ----

func TestWalkNestedCorpus(t *testing.T) {
	files := corpusFiles(t)
	inner := makeZip(t, prefixed("text/", files)...)
	tgz := gzipBytes(t, "", time.Time{}, makeTar(t, prefixed("logs/", files)...))
	outer := makeZip(t, zfile{name: "inner.zip", data: inner}, zfile{name: "logs.tgz", data: tgz})
	root := writeFile(t, t.TempDir(), "outer.zip", outer)

	got, errs, _ := walkAll(t, context.Background(), root, DefaultLimits())
	for _, err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	prefix := filepath.ToSlash(root) + "!/"
	var want []walked
	for _, f := range files {
		want = append(want, walked{name: prefix + "inner.zip!/text/" + f.name, sha: sha(f.data), depth: 2})
	}
	for _, f := range files {
		want = append(want, walked{name: prefix + "logs.tgz!/logs/" + f.name, sha: sha(f.data), depth: 2})
	}
	if g, w := names(got), names(want); !slices.Equal(g, w) {
		t.Fatalf("names:\n got %q\nwant %q", g, w)
	}
	for i := range got {
		if got[i].sha != want[i].sha || got[i].depth != want[i].depth {
			t.Errorf("%s: sha %s depth %d, want %s depth %d", got[i].name, got[i].sha, got[i].depth, want[i].sha, want[i].depth)
		}
	}
}

func TestWalkFormats(t *testing.T) {
	data := []byte("Proto  Local Address  Foreign Address  State\r\n")
	v7 := makeTar(t, zfile{name: "v7.txt", data: data})
	// Make it a pre-POSIX v7 tar: no magic, checksum recomputed.
	h := v7[:512]
	clear(h[257:265])
	clear(h[148:156])
	var sum int
	for j, c := range h {
		if j >= 148 && j < 156 {
			c = ' '
		}
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	// A text file with "ustar" at offset 257 is not a tar.
	fake := bytes.Repeat([]byte("x"), 600)
	copy(fake[257:], "ustar")

	mod := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name  string
		file  string
		input []byte
		want  []string // entry names after the file's own path
	}{
		{"plain", "netstat.txt", data, []string{""}},
		{"empty_file", "empty.txt", nil, []string{""}},
		{"empty_zip", "e.zip", makeZip(t), nil},
		{"zip_stored_sized", "s.zip", makeZipSized(t, zip.Store, zfile{name: "a/b.txt", data: data}), []string{"!/a/b.txt"}},
		{"zip_deflate_sized", "d.zip", makeZipSized(t, zip.Deflate, zfile{name: `win\path\c.txt`, data: data}), []string{"!/win/path/c.txt"}},
		{"zip_dir_entries", "d.zip", makeZip(t, zfile{name: "dir/"}, zfile{name: "./dir//x.txt", data: data}), []string{"!/dir/x.txt"}},
		{"tar", "t.tar", makeTar(t, zfile{name: "./x.txt", data: data}, zfile{name: "d/", typ: tar.TypeDir}), []string{"!/x.txt"}},
		{"tar_v7", "old", v7, []string{"!/v7.txt"}},
		{"gz_named", "whatever.bin", gzipBytes(t, "netstat.txt", mod, data), []string{"!/netstat.txt"}},
		{"gz_unnamed", "netstat.txt.gz", gzipBytes(t, "", mod, data), []string{"!/netstat.txt"}},
		{"gz_unsafe_header_name", "ns.gz", gzipBytes(t, "../../x", mod, data), []string{"!/ns"}},
		{"tgz", "c.tgz", gzipBytes(t, "c.tar", mod, makeTar(t, zfile{name: "x.txt", data: data})), []string{"!/x.txt"}},
		{"gz_of_zip", "c.zip.gz", gzipBytes(t, "", mod, makeZip(t, zfile{name: "x.txt", data: data})), []string{"!/c.zip!/x.txt"}},
		{"zip_of_gz_of_tar", "c.zip", makeZip(t, zfile{name: "l.tar.gz", data: gzipBytes(t, "", mod, makeTar(t, zfile{name: "x.txt", data: data}))}), []string{"!/l.tar.gz!/x.txt"}},
		{"ustar_text", "fake.txt", fake, []string{""}},
		{"docx_is_a_zip", "r.docx", makeZip(t, zfile{name: "word/document.xml", data: data}), []string{"!/word/document.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeFile(t, t.TempDir(), tt.file, tt.input)
			got, errs, _ := walkAll(t, context.Background(), root, DefaultLimits())
			for _, err := range errs {
				t.Errorf("unexpected error: %v", err)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, filepath.ToSlash(root)+w)
			}
			if g := names(got); !slices.Equal(g, want) {
				t.Fatalf("got %q, want %q", g, want)
			}
			for _, g := range got {
				if tt.name == "plain" || tt.name == "empty_file" || tt.name == "ustar_text" {
					continue
				}
				if !bytes.Equal(g.data, data) {
					t.Errorf("%s: content %q, want %q", g.name, g.data, data)
				}
			}
		})
	}
}

func TestWalkDirectory(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "bundle")
	writeFile(t, root, "b.txt", []byte("b"))
	writeFile(t, root, "a/c.txt", []byte("c"))
	writeFile(t, root, "a/d.zip", makeZip(t, zfile{name: "z.txt", data: []byte("z")}))
	writeFile(t, dir, "outside/secret.txt", []byte("secret"))
	var wantErrs []string
	if err := os.Symlink(filepath.Join(dir, "outside"), filepath.Join(root, "dirlink")); err == nil {
		os.Symlink(filepath.Join(dir, "outside", "secret.txt"), filepath.Join(root, "filelink"))
		wantErrs = append(wantErrs, "dirlink", "filelink")
	}
	if exec.Command("mkfifo", filepath.Join(root, "fifo")).Run() == nil {
		wantErrs = append(wantErrs, "fifo")
	}
	slices.Sort(wantErrs)

	got, errs, _ := walkAll(t, context.Background(), root, DefaultLimits())
	r := filepath.ToSlash(root)
	want := []string{r + "/a/c.txt", r + "/a/d.zip!/z.txt", r + "/b.txt"}
	if g := names(got); !slices.Equal(g, want) {
		t.Errorf("got %q, want %q", g, want)
	}
	for _, g := range got {
		if g.depth == 0 && g.src != parsers.CaptureFileModTime {
			t.Errorf("%s: time source %q, want %q", g.name, g.src, parsers.CaptureFileModTime)
		}
	}
	if len(errs) != len(wantErrs) {
		t.Errorf("errors %v, want one for each of %q", errs, wantErrs)
	}
	for _, n := range wantErrs {
		want := ErrLinkEntry
		if n == "fifo" {
			want = ErrSpecialFile
		}
		if err := errFor(errs, r+"/"+n); !errors.Is(err, want) {
			t.Errorf("%s: error %v, want %v", n, err, want)
		}
	}
}

func TestWalkMissing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "nope")
	got, errs, _ := walkAll(t, context.Background(), root, DefaultLimits())
	if len(got) != 0 || len(errs) != 1 || !errors.Is(errs[0], fs.ErrNotExist) {
		t.Errorf("got %v, errors %v, want one ErrNotExist", got, errs)
	}
}

// checkMemory runs f and checks that the heap stayed small.
func checkMemory(t *testing.T, f func()) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB during the walk, heap in use %d MiB after", alloc>>10, after.HeapInuse>>20)
	if alloc > 16<<20 {
		t.Errorf("allocated %d MiB during the walk", alloc>>20)
	}
	if after.HeapInuse > 64<<20 {
		t.Errorf("heap in use %d MiB after the walk", after.HeapInuse>>20)
	}
}

func TestWalkBomb(t *testing.T) {
	const big = 1 << 30 // 1 GiB of zeros
	bomb := zeroDeflate(t, big)
	crc := zeroCRC(big)
	normal := []byte("normal entry\n")
	t.Logf("1 GiB of zeros deflates to %d bytes", len(bomb))

	build := func(fh *zip.FileHeader) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		zipRaw(t, zw, fh, bomb)
		zipRaw(t, zw, &zip.FileHeader{Name: "normal.txt", Method: zip.Store, CRC32: crc32.ChecksumIEEE(normal),
			CompressedSize64: uint64(len(normal)), UncompressedSize64: uint64(len(normal))}, normal)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	honest := build(&zip.FileHeader{Name: "bomb.bin", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(bomb)), UncompressedSize64: big})
	lying := build(&zip.FileHeader{Name: "bomb.bin", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(bomb)), UncompressedSize64: 1000})
	// Without a central directory and with a data descriptor, nothing
	// declares the size: only the stream limits stop it.
	streamed := stripCentral(build(&zip.FileHeader{Name: "bomb.bin", Method: zip.Deflate, Flags: 0x8, CRC32: crc,
		CompressedSize64: uint64(len(bomb)), UncompressedSize64: big}))

	tests := []struct {
		name      string
		file      string
		input     []byte
		lim       Limits
		bombPath  string
		wantErr   error
		wantNames []string
		maxBytes  int64 // written to the temporary directory
	}{
		{"declared_ratio", "b.zip", honest, DefaultLimits(), "!/bomb.bin", ErrRatio, []string{"!/normal.txt"}, int64(len(normal))},
		{"declared_entry_size", "b.zip", honest, Limits{MaxEntryBytes: 100 << 20}, "!/bomb.bin", ErrEntryTooLarge, []string{"!/normal.txt"}, int64(len(normal))},
		{"declared_total", "b.zip", honest, Limits{MaxTotalBytes: 100 << 20, MaxRatio: 1e9}, "!/bomb.bin", ErrTotalTooLarge, nil, 0},
		{"lying_header", "b.zip", lying, DefaultLimits(), "!/bomb.bin", ErrEntryTooLarge, []string{"!/normal.txt"}, 1000 + int64(len(normal))},
		{"stream_ratio_no_central_dir", "b.zip", streamed, DefaultLimits(), "!/bomb.bin", ErrRatio, []string{"!/normal.txt"}, ratioFloor + 64<<10},
		{"stream_entry_size_no_central_dir", "b.zip", streamed, Limits{MaxEntryBytes: 1 << 20}, "!/bomb.bin", ErrEntryTooLarge, []string{"!/normal.txt"}, 1<<20 + int64(len(normal))},
		{"gzip_ratio", "b.gz", zeroGzip(t, big), DefaultLimits(), "!/b", ErrRatio, nil, ratioFloor + 64<<10},
		{"tgz_skipped_member", "b.tgz", tarGzipBomb(t, big), Limits{MaxEntryBytes: 100 << 20}, "", ErrRatio, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeFile(t, t.TempDir(), tt.file, tt.input)
			r := filepath.ToSlash(root)
			var got []walked
			var errs []error
			var hooks *walkHooks
			checkMemory(t, func() { got, errs, hooks = walkAll(t, context.Background(), root, tt.lim) })
			var want []string
			for _, n := range tt.wantNames {
				want = append(want, r+n)
			}
			if g := names(got); !slices.Equal(g, want) {
				t.Errorf("got %q, want %q", g, want)
			}
			if err := errFor(errs, r+tt.bombPath); !errors.Is(err, tt.wantErr) {
				t.Errorf("bomb error %v, want %v (all: %v)", err, tt.wantErr, errs)
			}
			if hooks.written > tt.maxBytes {
				t.Errorf("%d bytes written to the temporary directory, want at most %d", hooks.written, tt.maxBytes)
			}
			t.Logf("errors: %v; %d bytes written", errs, hooks.written)
		})
	}
}

// tarGzipBomb is a tgz whose only member, 1 GiB of zeros, is refused by
// its declared size: skipping it still decompresses the stream, which the
// gzip stream's ratio limit stops.
func tarGzipBomb(t testing.TB, n int64) []byte {
	t.Helper()
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: n, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	tw.Flush()
	// The header is deflated first, then n zeros (the data and, at the
	// end, the tar's padding and end blocks would follow).
	var out bytes.Buffer
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	fw, _ := flate.NewWriter(&out, flate.BestCompression)
	fw.Write(hdr.Bytes())
	fw.Flush()
	out.Write(zeroDeflate(t, n))
	return out.Bytes() // no trailer: the stream limit trips long before
}

func TestWalkUnsafe(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "in", "bundle")
	ok := []byte("ok\n")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, n := range []string{"../evil.txt", "/etc/x", `C:\x\evil.txt`, `\\server\share\evil.txt`, "a/../../evil.txt", "ok.txt"} {
		w, _ := zw.Create(n)
		w.Write(ok)
	}
	fh := &zip.FileHeader{Name: "zlink"}
	fh.SetMode(fs.ModeSymlink | 0o777)
	w, _ := zw.CreateHeader(fh)
	w.Write([]byte("../../../../etc/passwd"))
	zw.Close()
	writeFile(t, dir, "u.zip", zbuf.Bytes())
	writeFile(t, dir, "u.tar", makeTar(t,
		zfile{name: "../evil.txt", data: ok},
		zfile{name: "/etc/x", data: ok},
		zfile{name: "link", typ: tar.TypeSymlink, linkname: "/etc/passwd"},
		zfile{name: "hard", typ: tar.TypeLink, linkname: "ok2.txt"},
		zfile{name: "dev", typ: tar.TypeChar},
		zfile{name: "fifo", typ: tar.TypeFifo},
		zfile{name: "ok2.txt", data: ok},
	))

	got, errs, _ := walkAll(t, context.Background(), dir, DefaultLimits())
	r := filepath.ToSlash(dir)
	if g, want := names(got), []string{r + "/u.tar!/ok2.txt", r + "/u.zip!/ok.txt"}; !slices.Equal(g, want) {
		t.Errorf("got %q, want %q", g, want)
	}
	tests := []struct {
		path string
		want error
	}{
		{"/u.zip!/../evil.txt", ErrUnsafePath},
		{"/u.zip!//etc/x", ErrUnsafePath},
		{`/u.zip!/C:\x\evil.txt`, ErrUnsafePath},
		{`/u.zip!/\\server\share\evil.txt`, ErrUnsafePath},
		{"/u.zip!/a/../../evil.txt", ErrUnsafePath},
		{"/u.zip!/zlink", ErrLinkEntry},
		{"/u.tar!/../evil.txt", ErrUnsafePath},
		{"/u.tar!//etc/x", ErrUnsafePath},
		{"/u.tar!/link", ErrLinkEntry},
		{"/u.tar!/hard", ErrLinkEntry},
		{"/u.tar!/dev", ErrSpecialFile},
		{"/u.tar!/fifo", ErrSpecialFile},
	}
	for _, tt := range tests {
		if err := errFor(errs, r+tt.path); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.path, err, tt.want)
		}
	}
	if len(errs) != len(tests) {
		t.Errorf("%d errors, want %d: %v", len(errs), len(tests), errs)
	}
	// Nothing was written anywhere under base but the two archives (the
	// temporary parent is elsewhere and checked by walkAll).
	var files []string
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, filepath.ToSlash(strings.TrimPrefix(p, base)))
		}
		return nil
	})
	if want := []string{"/in/bundle/u.tar", "/in/bundle/u.zip"}; !slices.Equal(files, want) {
		t.Errorf("files under the bundle's parent: %q, want %q", files, want)
	}
}

func TestWalkLimits(t *testing.T) {
	txt := []byte("x\n")
	// nest wraps level i in a zip holding f<i>.txt and the next level.
	nested := makeZip(t, zfile{name: "f7.txt", data: txt})
	for i := 6; i >= 1; i-- {
		nested = makeZip(t, zfile{name: fmt.Sprintf("f%d.txt", i), data: txt}, zfile{name: fmt.Sprintf("z%d.zip", i+1), data: nested})
	}
	var many []zfile
	for i := range 30 {
		many = append(many, zfile{name: fmt.Sprintf("m%02d.txt", i), data: txt})
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	var large []zfile
	for i := range 10 {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(rnd.Uint32())
		}
		large = append(large, zfile{name: fmt.Sprintf("l%d.bin", i), data: b})
	}

	tests := []struct {
		name    string
		files   map[string][]byte // the bundle directory
		lim     Limits
		want    []string
		errPath string
		wantErr error
	}{
		{
			name:  "depth",
			files: map[string][]byte{"z1.zip": nested},
			lim:   Limits{MaxDepth: 3},
			want:  []string{"/z1.zip!/f1.txt", "/z1.zip!/z2.zip!/f2.txt", "/z1.zip!/z2.zip!/z3.zip!/f3.txt"},
			// z4.zip sits at depth 3: its members would be at depth 4.
			errPath: "/z1.zip!/z2.zip!/z3.zip!/z4.zip", wantErr: ErrTooDeep,
		},
		{
			name:  "entries",
			files: map[string][]byte{"a.zip": makeZip(t, many...), "b.zip": makeZip(t, many[:1]...), "c.txt": txt},
			lim:   Limits{MaxEntries: 10},
			want: []string{"/a.zip!/m00.txt", "/a.zip!/m01.txt", "/a.zip!/m02.txt", "/a.zip!/m03.txt", "/a.zip!/m04.txt",
				"/a.zip!/m05.txt", "/a.zip!/m06.txt", "/a.zip!/m07.txt", "/a.zip!/m08.txt", "/a.zip!/m09.txt", "/c.txt"},
			errPath: "/a.zip", wantErr: ErrTooManyEntries,
		},
		{
			name:    "total",
			files:   map[string][]byte{"l.zip": makeZip(t, large...)},
			lim:     Limits{MaxTotalBytes: 3<<20 + 1<<19},
			want:    []string{"/l.zip!/l0.bin", "/l.zip!/l1.bin", "/l.zip!/l2.bin"},
			errPath: "/l.zip!/l3.bin", wantErr: ErrTotalTooLarge,
		},
		{
			name:    "total_tgz_stream",
			files:   map[string][]byte{"l.tgz": gzipBytes(t, "", time.Time{}, makeTar(t, large...))},
			lim:     Limits{MaxTotalBytes: 3<<20 + 1<<19},
			want:    []string{"/l.tgz!/l0.bin", "/l.tgz!/l1.bin", "/l.tgz!/l2.bin"},
			errPath: "/l.tgz!/l3.bin", wantErr: ErrTotalTooLarge,
		},
		{
			name:    "entry_size_tar",
			files:   map[string][]byte{"l.tar": makeTar(t, large[:3]...)},
			lim:     Limits{MaxEntryBytes: 1<<20 - 1},
			errPath: "/l.tar!/l1.bin", wantErr: ErrEntryTooLarge,
		},
		{
			name:    "entry_size_gzip_stream",
			files:   map[string][]byte{"l.gz": gzipBytes(t, "l.bin", time.Time{}, large[0].data)},
			lim:     Limits{MaxEntryBytes: 1 << 19},
			errPath: "/l.gz!/l.bin", wantErr: ErrEntryTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, b := range tt.files {
				writeFile(t, dir, n, b)
			}
			got, errs, hooks := walkAll(t, context.Background(), dir, tt.lim)
			r := filepath.ToSlash(dir)
			var want []string
			for _, n := range tt.want {
				want = append(want, r+n)
			}
			if g := names(got); !slices.Equal(g, want) {
				t.Errorf("got %q, want %q", g, want)
			}
			if err := errFor(errs, r+tt.errPath); !errors.Is(err, tt.wantErr) {
				t.Errorf("error for %s: %v, want %v (all: %v)", tt.errPath, err, tt.wantErr, errs)
			}
			if lim := tt.lim.orDefault(); hooks.written > lim.MaxTotalBytes {
				t.Errorf("%d bytes written, limit %d", hooks.written, lim.MaxTotalBytes)
			}
			t.Logf("errors: %v", errs)
		})
	}
}

func TestWalkDamaged(t *testing.T) {
	files := corpusFiles(t)
	if len(files) > 8 {
		files = files[:8]
	}
	tb := makeTar(t, files...)
	variants := []struct {
		name  string
		file  string
		input []byte
	}{
		{"zip_descriptors", "c.zip", makeZip(t, files...)},
		{"zip_stored_sized", "c.zip", makeZipSized(t, zip.Store, files...)},
		{"zip_deflate_sized", "c.zip", makeZipSized(t, zip.Deflate, files...)},
		{"tgz", "c.tgz", gzipBytes(t, "", time.Time{}, tb)},
		{"tar", "c.tar", tb},
	}
	for _, v := range variants {
		for _, cut := range []float64{0.3, 0.6, 0.97} {
			t.Run(fmt.Sprintf("%s_%.0f", v.name, cut*100), func(t *testing.T) {
				n := int(float64(len(v.input)) * cut)
				root := writeFile(t, t.TempDir(), v.file, v.input[:n])
				got, errs, _ := walkAll(t, context.Background(), root, DefaultLimits())
				r := filepath.ToSlash(root)
				truncated := false
				for _, err := range errs {
					var be *Error
					errors.As(err, &be)
					if errors.Is(err, parsers.ErrTruncated) && strings.HasPrefix(be.Path, r) {
						truncated = true
					}
				}
				if !truncated {
					t.Errorf("no parsers.ErrTruncated naming %s in %v", r, errs)
				}
				// Every entry is a member, complete or a prefix of it.
				complete := 0
				for i, g := range got {
					if i >= len(files) || g.name != r+"!/"+files[i].name {
						t.Fatalf("entry %d is %s, want %s", i, g.name, files[i].name)
					}
					f := files[i]
					switch {
					case g.sha == sha(f.data):
						complete++
					case g.size < int64(len(f.data)) && bytes.HasPrefix(f.data, g.data):
						if errFor(errs, g.name) == nil {
							t.Errorf("%s: partial entry without an error", g.name)
						}
					default:
						t.Errorf("%s: content differs", g.name)
					}
				}
				if cut > 0.5 && complete == 0 {
					t.Errorf("no complete entry recovered")
				}
				t.Logf("%d complete, %d entries of %d; errors %v", complete, len(got), len(files), errs)
			})
		}
	}

	t.Run("zip_damaged_central_directory", func(t *testing.T) {
		b := makeZip(t, files...)
		cd := binary.LittleEndian.Uint32(b[len(b)-22+16:])
		b[cd+1] ^= 0xff // the first central header's signature
		root := writeFile(t, t.TempDir(), "c.zip", b)
		got, errs, _ := walkAll(t, context.Background(), root, DefaultLimits())
		if len(got) != len(files) {
			t.Errorf("%d entries, want %d", len(got), len(files))
		}
		for i, g := range got {
			if g.sha != sha(files[i].data) {
				t.Errorf("%s: content differs", g.name)
			}
		}
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "central directory") {
			t.Errorf("errors %v, want one about the central directory", errs)
		}
	})
}

func TestWalkStop(t *testing.T) {
	files := corpusFiles(t)
	inner := makeZip(t, files...)
	root := writeFile(t, t.TempDir(), "o.zip", makeZip(t, zfile{name: "i.zip", data: inner}, zfile{name: "t.tgz", data: gzipBytes(t, "", time.Time{}, makeTar(t, files...))}))

	t.Run("break", func(t *testing.T) {
		hooks := &walkHooks{tempParent: t.TempDir()}
		n := 0
		for e, err := range walk(context.Background(), root, Limits{}, hooks) {
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(e.File.Name()); err != nil {
				t.Fatal(err)
			}
			n++
			break
		}
		if n != 1 {
			t.Errorf("%d entries", n)
		}
		checkEmpty(t, hooks.tempParent)
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		hooks := &walkHooks{tempParent: t.TempDir()}
		var got []error
		n := 0
		for _, err := range walk(ctx, root, Limits{}, hooks) {
			if err != nil {
				got = append(got, err)
				continue
			}
			n++
			cancel()
		}
		if n != 1 || len(got) != 1 || !errors.Is(got[0], context.Canceled) {
			t.Errorf("%d entries, errors %v; want 1 entry then context.Canceled", n, got)
		}
		checkEmpty(t, hooks.tempParent)
	})
	t.Run("cancel_during_copy", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		hooks := &walkHooks{tempParent: t.TempDir()}
		w := &walker{ctx: ctx, lim: DefaultLimits(), hooks: hooks, yield: func(Entry, error) bool { return true }}
		if _, _, err := w.extract(bytes.NewReader(make([]byte, 1<<20)), nil, -1); !errors.Is(err, context.Canceled) {
			t.Errorf("extract error %v, want context.Canceled", err)
		}
		w.cleanup()
		checkEmpty(t, hooks.tempParent)
	})
}

func TestWalkTimes(t *testing.T) {
	data := []byte("x\n")
	zone := time.FixedZone("CEST", 2*3600)
	local := time.Date(2024, 3, 1, 10, 0, 0, 0, zone)
	utc := local.UTC() // 08:00 UTC
	wall := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

	dosOnly := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		fh := &zip.FileHeader{Name: "x.txt", Method: zip.Store}
		fh.ModifiedDate = uint16((2024-1980)<<9 | 3<<5 | 1)
		fh.ModifiedTime = uint16(10 << 11)
		w, _ := zw.CreateHeader(fh)
		w.Write(data)
		zw.Close()
		return buf.Bytes()
	}
	ntfs := func() []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		extra := binary.LittleEndian.AppendUint16(nil, 0x000a)
		extra = binary.LittleEndian.AppendUint16(extra, 32)
		extra = append(extra, 0, 0, 0, 0, 1, 0, 24, 0)
		ft := uint64(utc.UnixNano()/100) + 116444736000000000
		for range 3 {
			extra = binary.LittleEndian.AppendUint64(extra, ft)
		}
		fh := &zip.FileHeader{Name: "x.txt", Method: zip.Store, Extra: extra}
		fh.ModifiedDate = uint16((2024-1980)<<9 | 3<<5 | 1)
		fh.ModifiedTime = uint16(10 << 11)
		w, _ := zw.CreateHeader(fh)
		w.Write(data)
		zw.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name    string
		file    string
		input   []byte
		mtime   time.Time // of the file on disk
		wantT   time.Time
		wantSrc parsers.CaptureSource
	}{
		{"zip_extended", "a.zip", makeZip(t, zfile{name: "x.txt", data: data, mod: local}), utc.Add(time.Hour), utc, parsers.CaptureZipExtended},
		{"zip_extended_stripped_central_dir", "a.zip", stripCentral(makeZip(t, zfile{name: "x.txt", data: data, mod: local})), utc.Add(time.Hour), utc, parsers.CaptureZipExtended},
		{"zip_dos", "a.zip", dosOnly(), utc.Add(time.Hour), wall, parsers.CaptureZipDOS},
		{"zip_ntfs", "a.zip", ntfs(), utc.Add(time.Hour), utc, parsers.CaptureZipExtended},
		{"tar", "a.tar", makeTar(t, zfile{name: "x.txt", data: data, mod: local}), utc.Add(time.Hour), utc, parsers.CaptureTar},
		{"gzip_mtime", "x.gz", gzipBytes(t, "x", local, data), utc.Add(time.Hour), utc, parsers.CaptureGzip},
		{"gzip_no_mtime", "x.gz", gzipBytes(t, "x", time.Time{}, data), utc.Add(time.Hour), utc.Add(time.Hour), parsers.CaptureFileModTime},
		{"file", "x.txt", data, utc, utc, parsers.CaptureFileModTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeFile(t, t.TempDir(), tt.file, tt.input)
			if err := os.Chtimes(root, tt.mtime, tt.mtime); err != nil {
				t.Fatal(err)
			}
			got, errs, _ := walkAll(t, context.Background(), root, DefaultLimits())
			if len(got) != 1 {
				t.Fatalf("entries %v, errors %v", names(got), errs)
			}
			if g := got[0]; !g.mt.Equal(tt.wantT) || g.mt.Location() != time.UTC || g.src != tt.wantSrc {
				t.Errorf("time %v (%s), want %v (%s)", g.mt, g.src, tt.wantT, tt.wantSrc)
			}
			if tt.name == "zip_extended_stripped_central_dir" && len(errs) != 1 {
				t.Errorf("errors %v, want one about the missing central directory", errs)
			}
		})
	}
}

func TestMemberName(t *testing.T) {
	tests := []struct {
		input   string
		want    string
		wantErr bool
	}{
		{"a/b.txt", "a/b.txt", false},
		{`a\b.txt`, "a/b.txt", false},
		{"./a//b/./c", "a/b/c", false},
		{"a..b/..c", "a..b/..c", false},
		{"../x", "", true},
		{"a/../../x", "", true},
		{"a/..", "", true},
		{"/x", "", true},
		{`\x`, "", true},
		{`C:\x`, "", true},
		{"c:x", "", true},
		{`\\server\share\x`, "", true},
		{"//server/x", "", true},
		{"", "", true},
		{".", "", true},
		{"a\x00b", "", true},
	}
	for _, tt := range tests {
		got, err := memberName(tt.input)
		if got != tt.want || (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrUnsafePath)) {
			t.Errorf("memberName(%q) = %q, %v; want %q, error %v", tt.input, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestErrorQuotes(t *testing.T) {
	e := &Error{Path: "a.zip!/x\ny", Err: ErrUnsafePath}
	if got, want := e.Error(), `"a.zip!/x\ny": unsafe path`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// FuzzWalk walks one fuzzed archive with small limits: no panic, no
// hang, every error a *Error, no file left anywhere.
func FuzzWalk(f *testing.F) {
	data := []byte("netstat -ano\r\n  TCP    0.0.0.0:135    0.0.0.0:0    LISTENING    912\r\n")
	mod := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	z := makeZip(f, zfile{name: "a.txt", data: data, mod: mod}, zfile{name: "d/b.txt", data: data})
	tr := makeTar(f, zfile{name: "a.txt", data: data, mod: mod}, zfile{name: "l", typ: tar.TypeSymlink, linkname: "/x"})
	seeds := [][]byte{
		z,
		stripCentral(z),
		z[:len(z)/2],
		makeZip(f),
		makeZipSized(f, zip.Store, zfile{name: "s.txt", data: data}),
		makeZipSized(f, zip.Deflate, zfile{name: `w\s.txt`, data: data}),
		makeZip(f, zfile{name: "in.zip", data: z}, zfile{name: "in.tgz", data: gzipBytes(f, "", mod, tr)}),
		tr,
		gzipBytes(f, "t.tar", mod, tr),
		gzipBytes(f, "a.txt", mod, data),
		zeroGzip(f, 64<<10),
		makeTar(f, zfile{name: "../x", data: data}, zfile{name: "in.zip", data: z}),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	lim := Limits{MaxTotalBytes: 1 << 20, MaxEntryBytes: 256 << 10, MaxRatio: 50, MaxDepth: 3, MaxEntries: 64}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		dir, tmp := t.TempDir(), t.TempDir()
		root := writeFile(t, dir, "in.bin", b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		prefix := filepath.ToSlash(root)
		hooks := &walkHooks{tempParent: tmp}
		for e, err := range walk(ctx, root, lim, hooks) {
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("walk took more than 10 s")
				}
				var be *Error
				if !errors.As(err, &be) {
					t.Fatalf("error %v is %T", err, err)
				}
				continue
			}
			readEntry(t, e, tmp)
			if !strings.HasPrefix(e.Name, prefix) {
				t.Fatalf("name %q outside %q", e.Name, prefix)
			}
			for _, part := range strings.Split(e.Name[len(prefix):], "!/") {
				if slices.Contains(strings.Split(part, "/"), "..") || strings.HasPrefix(part, "/") {
					t.Fatalf("unsafe name %q", e.Name)
				}
			}
		}
		if hooks.written > lim.MaxTotalBytes {
			t.Fatalf("%d bytes written, limit %d", hooks.written, lim.MaxTotalBytes)
		}
		checkEmpty(t, tmp)
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("%d files next to the input", len(ents))
		}
	})
}

func TestWalkZip64(t *testing.T) {
	// archive/zip writes zip64 end records from 65535 entries on.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 65536 {
		zipRaw(t, zw, &zip.FileHeader{Name: fmt.Sprintf("%05d.txt", i), Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte("x")),
			CompressedSize64: 1, UncompressedSize64: 1}, []byte("x"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	d, err := findZipDir(bytes.NewReader(b), int64(len(b)))
	if err != nil || !d.zip64 || d.records != 65536 {
		t.Fatalf("findZipDir: %+v, %v; want zip64 with 65536 records", d, err)
	}
	if _, err := checkCentral(bytes.NewReader(b), d); err != nil {
		t.Fatal(err)
	}
	root := writeFile(t, t.TempDir(), "big.zip", b)
	got, errs, _ := walkAll(t, context.Background(), root, Limits{MaxEntries: 100})
	if len(got) != 100 || len(errs) != 1 || !errors.Is(errs[0], ErrTooManyEntries) {
		t.Errorf("%d entries, errors %v; want 100 and ErrTooManyEntries", len(got), errs)
	}
	if len(got) > 0 && got[99].name != filepath.ToSlash(root)+"!/00099.txt" {
		t.Errorf("entry 99 is %s", got[99].name)
	}
}

// overlapBomb is a zip of one stored member whose central directory lists
// it n times under other names, all pointing at the same local header:
// the overlapping-entry shape, in which n records share one member's bytes.
func overlapBomb(t *testing.T, n int, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "m0000.txt", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	end := b[len(b)-22:]
	dirSize, dirOff := binary.LittleEndian.Uint32(end[12:]), binary.LittleEndian.Uint32(end[16:])
	rec := b[dirOff : dirOff+dirSize]
	out := append([]byte(nil), b[:dirOff]...)
	for i := range n {
		r := append([]byte(nil), rec...)
		copy(r[46:], fmt.Sprintf("m%04d.txt", i))
		out = append(out, r...)
	}
	e := append([]byte(nil), end...)
	binary.LittleEndian.PutUint16(e[8:], uint16(n))
	binary.LittleEndian.PutUint16(e[10:], uint16(n))
	binary.LittleEndian.PutUint32(e[12:], uint32(n*len(rec)))
	return append(out, e...)
}

// TestWalkOverlappingEntries: an archive whose members share bytes is
// refused from its central directory, before any member is inflated, with
// one error; an honest archive of the same members passes.
func TestWalkOverlappingEntries(t *testing.T) {
	data := bytes.Repeat([]byte("TCP    0.0.0.0:135    0.0.0.0:0    LISTENING    880\r\n"), 20_000)
	root := writeFile(t, t.TempDir(), "bomb.zip", overlapBomb(t, 2000, data))
	got, errs, _ := walkAll(t, context.Background(), root, DefaultLimits())
	if len(got) != 0 || len(errs) != 1 || !errors.Is(errs[0], ErrOverlap) || !strings.Contains(errs[0].Error(), "2000 members") {
		t.Fatalf("got %d entries and errors %v, want none and one ErrOverlap naming 2000 members", len(got), errs)
	}
	one := writeFile(t, t.TempDir(), "one.zip", overlapBomb(t, 1, data))
	got, errs, _ = walkAll(t, context.Background(), one, DefaultLimits())
	if len(got) != 1 || len(errs) != 0 {
		t.Fatalf("the same archive with one record: %d entries, errors %v", len(got), errs)
	}
}

// nestBomb builds a 42.zip-style nest: levels archives, each holding copies
// of the one below (deflated once, stored raw copies times), the bottom one
// copies pages of page bytes of zeros. It returns the top archive.
func nestBomb(t *testing.T, levels, copies int, page int64) []byte {
	t.Helper()
	zipOf := func(member []byte, usize uint64, crc uint32, name string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i := range copies {
			zipRaw(t, zw, &zip.FileHeader{Name: fmt.Sprintf("%s %d", name, i), Method: zip.Deflate, CRC32: crc,
				CompressedSize64: uint64(len(member)), UncompressedSize64: usize}, member)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	var crc uint32
	zeros := make([]byte, 1<<20)
	for left := page; left > 0; left -= int64(len(zeros)) {
		crc = crc32.Update(crc, crc32.IEEETable, zeros[:min(left, int64(len(zeros)))])
	}
	level := zipOf(zeroDeflate(t, page), uint64(page), crc, "page")
	for i := 1; i < levels; i++ {
		var c bytes.Buffer
		fw, _ := flate.NewWriter(&c, flate.BestCompression)
		fw.Write(level)
		fw.Close()
		level = zipOf(c.Bytes(), uint64(len(level)), crc32.ChecksumIEEE(level), fmt.Sprintf("level%d", i))
	}
	return level
}

// TestWalkNestBomb: a 42.zip-style nest (4 levels of 16, 1 GiB pages:
// 64 TiB declared in all) is refused as soon as what its nested members
// declare passes MaxRatio times its size, after extracting one archive per
// level and refusing a few members, instead of refusing its 4,096 bottom
// archives one by one; a nest of honest archives is read whole.
func TestWalkNestBomb(t *testing.T) {
	bomb := nestBomb(t, 4, 16, 1<<30)
	t.Logf("nest: %d bytes", len(bomb))
	root := writeFile(t, t.TempDir(), "42.zip", bomb)
	got, errs, hooks := walkAll(t, context.Background(), root, DefaultLimits())
	last := errs[len(errs)-1]
	if len(got) != 0 || len(errs) > 16 || !errors.Is(last, ErrRatio) || !strings.Contains(last.Error(), "nested archive bomb") {
		t.Fatalf("got %d entries and %d errors (last %v), want none and a few members refused, then the nest", len(got), len(errs), last)
	}
	if hooks.written > 64<<20 {
		t.Errorf("%d bytes extracted before the nest was refused", hooks.written)
	}
	t.Logf("refused after %d bytes extracted and %d errors: %v", hooks.written, len(errs), last)

	honest := nestBomb(t, 3, 4, 4<<20)
	got, errs, _ = walkAll(t, context.Background(), writeFile(t, t.TempDir(), "honest.zip", honest), Limits{MaxRatio: 1e6})
	if len(got) != 4*4*4 || len(errs) != 0 {
		t.Errorf("honest nest: %d entries (want 64), errors %v", len(got), errs)
	}
}
