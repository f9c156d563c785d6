package bundle

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/portmortem/portmortem/parsers"
)

// Limits bound the work Walk does on one bundle. A field ≤ 0 takes its
// DefaultLimits value: there is always a limit.
type Limits struct {
	// MaxTotalBytes bounds the bytes extracted from all the archives of the
	// bundle together (nested archives count at every level). Files that
	// are plain files on disk do not count.
	MaxTotalBytes int64
	// MaxEntryBytes bounds one archive member once extracted.
	MaxEntryBytes int64
	// MaxRatio bounds the uncompressed / compressed size of a member and of
	// a gzip stream. It is enforced once the member has produced more than
	// 16 MiB, so that small zero-padded files pass.
	MaxRatio float64
	// MaxDepth bounds archive nesting: the members of a top-level archive
	// are at depth 1, those of an archive inside it at depth 2.
	MaxDepth int
	// MaxEntries bounds the members of all the archives of the bundle
	// together, directories and refused members included.
	MaxEntries int
}

// ratioFloor is the output below which MaxRatio is not enforced.
const ratioFloor = 16 << 20

// DefaultLimits returns limits that let through any real support bundle
// while refusing archive bombs: 64 GiB extracted in all, 16 GiB per member,
// a compression ratio of 200 (checked beyond 16 MiB of output), archives
// nested 5 deep and 100,000 members.
func DefaultLimits() Limits {
	return Limits{
		MaxTotalBytes: 64 << 30,
		MaxEntryBytes: 16 << 30,
		MaxRatio:      200,
		MaxDepth:      5,
		MaxEntries:    100_000,
	}
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxEntryBytes <= 0 {
		l.MaxEntryBytes = d.MaxEntryBytes
	}
	if !(l.MaxRatio > 0) {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	return l
}

// Entry is one file of a bundle.
type Entry struct {
	// Name is the path as given to Walk, in forward slashes, followed for
	// archive members by "!/" after each archive and the member's cleaned
	// name: "case.zip!/inner.zip!/logs/netstat.txt".
	Name string
	// File is open for reading at offset 0: the file itself, or a private
	// temporary copy of an archive member. It is valid only during the
	// yield call: Walk closes it (and removes a copy) afterwards.
	File *os.File
	// Size is the length of File.
	Size int64
	// ModTime is zero when the source records no time; ModTimeSource (one
	// of the entry sources of parsers.CaptureSource, or "") says where it
	// comes from. A gzip member without a time of its own inherits the gzip
	// file's.
	ModTime       time.Time
	ModTimeSource parsers.CaptureSource
	// Depth is the number of archives around the entry: 0 for a file on
	// disk.
	Depth int

	keep *keeper
}

// keeper is the state behind Entry.Keep for one yielded entry.
type keeper struct {
	w       *walker
	kept    bool
	expired bool // the yield returned
}

// Keep lets the consumer use File after the yield returns, e.g. to parse it
// in another goroutine while the walk goes on. It works only during the
// yield, once (else ok is false and File stays the walker's). release must
// then be called once File is no longer needed (later calls do nothing):
// it closes File and removes a temporary copy. Walk does not return before
// every kept entry is released (its temporary directory is removed last),
// so release must not wait for the goroutine ranging over Walk. Each kept
// member holds its temporary copy on disk until released.
func (e Entry) Keep() (release func(), ok bool) {
	k := e.keep
	if k == nil || k.expired || k.kept {
		return func() {}, false
	}
	k.kept = true
	k.w.kept.Add(1)
	f, temp := e.File, e.Depth > 0
	var once sync.Once
	return func() {
		once.Do(func() {
			f.Close()
			if temp {
				os.Remove(f.Name())
			}
			k.w.kept.Done()
		})
	}, true
}

// Error is a problem with one file, archive or member of a bundle.
// Path names it like Entry.Name does. Walk yields it and goes on with the
// rest of the bundle.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string {
	p := e.Path
	if !utf8.ValidString(p) || strings.ContainsFunc(p, func(r rune) bool { return !unicode.IsPrint(r) }) {
		p = strconv.Quote(p)
	}
	return p + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Walk yields every file of the bundle at path: a directory (walked in
// sorted order), a single file, or an archive (zip, tar, gzip of a tar or
// of a single file, nested in any order). Archives are recognised by their
// content, never by their name, and their members are yielded in place of
// the archive.
//
// The bundle is untrusted. Members are copied, under the limits, into a
// private temporary directory (mode 0700) that Walk removes when it ends,
// also when the consumer stops early or ctx is cancelled; member names
// never become file system paths. Links, special files, absolute names or
// names with ".." are not read. Each such problem, each limit hit and each
// damaged archive yields (Entry{}, *Error) and the walk goes on with
// the rest of the bundle; once MaxTotalBytes or MaxEntries is exhausted no
// further archive is read. A damaged member yields its error followed by
// the entry holding the bytes read before the damage. When ctx is
// cancelled Walk yields ctx.Err() and stops.
func Walk(ctx context.Context, path string, lim Limits) iter.Seq2[Entry, error] {
	return walk(ctx, path, lim, &walkHooks{})
}

// walkHooks lets tests choose the parent of the temporary directory and see
// how many bytes were written to it.
type walkHooks struct {
	tempParent string
	written    int64
}

func walk(ctx context.Context, root string, lim Limits, hooks *walkHooks) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		w := &walker{ctx: ctx, lim: lim.orDefault(), yield: yield, hooks: hooks}
		defer w.cleanup()
		w.walkPath(root)
	}
}

// walker is the state of one Walk.
type walker struct {
	ctx   context.Context
	lim   Limits
	yield func(Entry, error) bool
	hooks *walkHooks
	dir   string // private temporary directory, created on first use
	done  bool   // the consumer stopped or ctx was cancelled
	// spent is set once a bundle-wide limit is exhausted.
	spent   error
	entries int   // archive members seen
	total   int64 // bytes extracted
	// nest is the archive read from disk whose members (at any depth) are
	// being walked, for the ratio of a whole nest.
	nest    nest
	buf     []byte
	inflate io.ReadCloser  // reused deflate decompressor
	kept    sync.WaitGroup // entries kept by the consumer, not yet released
}

func (w *walker) cleanup() {
	w.kept.Wait()
	if w.dir == "" {
		return
	}
	if err := os.RemoveAll(w.dir); err != nil && !w.done {
		w.yield(Entry{}, &Error{Path: filepath.ToSlash(w.dir), Err: fmt.Errorf("remove temporary directory: %w", err)})
	}
}

// alive reports whether the walk goes on; it yields ctx.Err() once when ctx
// is cancelled.
func (w *walker) alive() bool {
	if w.done {
		return false
	}
	if err := w.ctx.Err(); err != nil {
		w.done = true
		w.yield(Entry{}, err)
		return false
	}
	return true
}

// more reports whether more archive members may be read.
func (w *walker) more() bool {
	return w.alive() && w.spent == nil && w.nest.spent == nil
}

// nest follows one archive of the bundle's own files through every archive
// nested in it: what their members declare in all, against the archive's
// size on disk. Each member's ratio is bounded on its own, but archives of
// small archives multiply (42.zip: five levels of 16, 4.3 GB at the
// bottom, 42 KB on disk), and only the sum shows it early: once the
// members seen declare more than MaxRatio times the archive (beyond
// ratioFloor), the rest of the nest is certain to be a bomb and is not read.
//
// Only members of nested archives count (the archive's own members are
// bounded one by one), and the nest is refused only once two of them
// declare more than ratioFloor each: one large member is refused alone,
// and the rest of the archive is still read.
type nest struct {
	name     string
	size     int64
	depth    int // of the archive being read: 1 for the nest's own members
	declared int64
	big      int
	spent    error
}

// declare counts a member's declared size against the nest it is in.
func (w *walker) declare(usize int64) error {
	n := &w.nest
	if n.name == "" || n.depth < 2 || usize <= 0 {
		return nil
	}
	n.declared += usize
	if usize > ratioFloor {
		n.big++
	}
	if n.big >= 2 && float64(n.declared) > w.lim.MaxRatio*float64(max(n.size, 1)) {
		n.spent = fmt.Errorf("%w: the archives nested in %s declare more than %d bytes from its %d, limit %g: a nested archive bomb; the rest of it is not read", ErrRatio, n.name, n.declared, n.size, w.lim.MaxRatio)
		return n.spent
	}
	return nil
}

// emit yields e and reports whether the consumer kept its file (then the
// consumer closes it and removes a copy).
func (w *walker) emit(e Entry) bool {
	if w.done {
		return false
	}
	k := &keeper{w: w}
	e.keep = k
	if !w.yield(e, nil) {
		w.done = true
	}
	k.expired = true
	return k.kept
}

// fail yields err about the file, archive or member p.
func (w *walker) fail(p string, err error) {
	if w.done {
		return
	}
	if cerr := w.ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		w.alive()
		return
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	if !w.yield(Entry{}, &Error{Path: p, Err: err}) {
		w.done = true
	}
}

func (w *walker) walkPath(root string) {
	if !w.alive() {
		return
	}
	name := filepath.ToSlash(root)
	fi, err := os.Stat(root)
	if err != nil {
		w.fail(name, err)
		return
	}
	if fi.IsDir() {
		w.walkDir(root, strings.TrimSuffix(name, "/"))
		return
	}
	w.diskFile(root, name, fi)
}

// walkDir walks a directory on disk in sorted order. Symbolic links and
// junctions are not followed.
func (w *walker) walkDir(dir, name string) {
	d, err := os.Open(dir)
	if err != nil {
		w.fail(name, err)
		return
	}
	var names []string
	for {
		batch, err := d.Readdirnames(1024)
		names = append(names, batch...)
		if len(names) > w.lim.MaxEntries {
			d.Close()
			w.fail(name, fmt.Errorf("%w: more than %d names in one directory", ErrTooManyEntries, w.lim.MaxEntries))
			return
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			d.Close()
			w.fail(name, err)
			return
		}
	}
	d.Close()
	slices.Sort(names)
	for _, n := range names {
		if !w.alive() {
			return
		}
		p, pname := filepath.Join(dir, n), name+"/"+n
		if w.dir != "" && p == w.dir {
			continue // our own temporary directory, when walking the system temp dir
		}
		fi, err := os.Lstat(p)
		if err != nil {
			w.fail(pname, err)
			continue
		}
		m := fi.Mode()
		switch {
		case m&fs.ModeSymlink != 0:
			w.fail(pname, fmt.Errorf("%w: symbolic link", ErrLinkEntry))
		case m.IsDir() && m&fs.ModeIrregular != 0:
			w.fail(pname, fmt.Errorf("%w: directory junction or mount point", ErrLinkEntry))
		case m.IsDir():
			w.walkDir(p, pname)
		default:
			w.diskFile(p, pname, fi)
		}
	}
}

// special is the mode of files that are never opened: opening a FIFO
// blocks and a device may never end.
const special = fs.ModeNamedPipe | fs.ModeSocket | fs.ModeDevice | fs.ModeCharDevice

func (w *walker) diskFile(p, name string, fi fs.FileInfo) {
	if fi.Mode()&special != 0 {
		w.fail(name, fmt.Errorf("%w: %v", ErrSpecialFile, fi.Mode().Type()))
		return
	}
	f, err := os.Open(p)
	if err != nil {
		w.fail(name, err)
		return
	}
	kept := false
	defer func() {
		if !kept {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		w.fail(name, err)
		return
	}
	if st.IsDir() || st.Mode()&special != 0 { // replaced since Lstat
		w.fail(name, fmt.Errorf("%w: %v", ErrSpecialFile, st.Mode().Type()))
		return
	}
	kept = w.file(name, f, st.Size(), st.ModTime().UTC(), parsers.CaptureFileModTime, 0)
}

// The archive formats Walk opens.
const (
	notArchive = iota
	kindZip
	kindTar
	kindGzip
)

// archiveKind recognises an archive from its first 512 bytes.
func archiveKind(head []byte) int {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return kindZip
	case bytes.HasPrefix(head, []byte("\x1f\x8b\x08")):
		return kindGzip
	case isTarHeader(head):
		return kindTar
	}
	return notArchive
}

// isTarHeader reports whether b starts with a tar header: ustar (POSIX or
// GNU magic at offset 257) or plain v7, recognised by its checksum. The
// checksum is verified in both cases: a header that fails it cannot be
// read, and a text file that happens to hold "ustar" at 257 stays a file.
func isTarHeader(b []byte) bool {
	if len(b) < 512 {
		return false
	}
	var want int64
	digits := 0
	for _, c := range b[148:156] {
		if c == ' ' || c == 0 {
			if digits > 0 {
				break
			}
			continue
		}
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int64(c-'0')
		digits++
	}
	if digits == 0 {
		return false
	}
	var unsigned, signed int64
	for i, c := range b[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}

// file yields f, or walks it when it is an archive. f is read with ReadAt
// (or from a fresh section) and left at offset 0 when yielded. It reports
// whether the consumer kept f (Entry.Keep): then f is no longer the
// walker's to close.
func (w *walker) file(name string, f *os.File, size int64, mt time.Time, src parsers.CaptureSource, depth int) bool {
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		w.fail(name, err)
		return false
	}
	kind := archiveKind(head[:n])
	if kind == notArchive {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			w.fail(name, err)
			return false
		}
		return w.emit(Entry{Name: name, File: f, Size: size, ModTime: mt, ModTimeSource: src, Depth: depth})
	}
	if depth >= w.lim.MaxDepth {
		w.fail(name, fmt.Errorf("%w: archive at depth %d, limit %d", ErrTooDeep, depth+1, w.lim.MaxDepth))
		return false
	}
	if w.spent != nil {
		w.fail(name, fmt.Errorf("archive not read: %w", w.spent))
		return false
	}
	if depth == 0 {
		w.nest = nest{name: name, size: size}
		defer func() { w.nest = nest{} }()
	}
	outer := w.nest.depth
	w.nest.depth = depth + 1
	defer func() { w.nest.depth = outer }()
	switch kind {
	case kindZip:
		w.zip(name, f, size, depth+1)
	case kindTar:
		sr := io.NewSectionReader(f, 0, size)
		w.tar(name, sr, depth+1, func() int64 { off, _ := sr.Seek(0, io.SeekCurrent); return off }, nil)
	case kindGzip:
		w.gzip(name, io.NewSectionReader(f, 0, size), mt, src, depth+1)
	}
	return false
}

// member hands an extracted member to file and removes it afterwards.
func (w *walker) member(name string, f *os.File, size int64, mt time.Time, src parsers.CaptureSource, depth int) {
	if !w.file(name, f, size, mt, src, depth) {
		w.drop(f)
	}
}

func (w *walker) drop(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// count counts one archive member against MaxEntries.
func (w *walker) count() error {
	w.entries++
	if w.entries > w.lim.MaxEntries {
		w.spent = fmt.Errorf("%w: more than %d archive members in the bundle", ErrTooManyEntries, w.lim.MaxEntries)
		return w.spent
	}
	return nil
}

// checkDeclared refuses a member from the sizes its header declares, before
// reading any data. csize < 0 means unknown.
func (w *walker) checkDeclared(usize, csize int64) error {
	if err := w.declare(usize); err != nil {
		return err
	}
	switch {
	case usize > w.lim.MaxEntryBytes:
		return fmt.Errorf("%w: header declares %d bytes, limit %d", ErrEntryTooLarge, usize, w.lim.MaxEntryBytes)
	case csize >= 0 && usize > ratioFloor && float64(usize) > w.lim.MaxRatio*float64(csize):
		return fmt.Errorf("%w: header declares %d bytes compressed to %d, limit %g", ErrRatio, usize, csize, w.lim.MaxRatio)
	case w.total+usize > w.lim.MaxTotalBytes:
		w.spent = fmt.Errorf("%w: more than %d bytes extracted from the bundle's archives", ErrTotalTooLarge, w.lim.MaxTotalBytes)
		return w.spent
	}
	return nil
}

// checkGrowth enforces the limits on a member that has produced n bytes so
// far, in compressed bytes (nil when unknown). declared < 0 means unknown.
func (w *walker) checkGrowth(n int64, in func() int64, declared int64) error {
	switch {
	case declared >= 0 && n > declared:
		return fmt.Errorf("%w: data longer than the %d bytes its header declares", ErrEntryTooLarge, declared)
	case n > w.lim.MaxEntryBytes:
		return fmt.Errorf("%w: more than %d bytes", ErrEntryTooLarge, w.lim.MaxEntryBytes)
	case w.total+n > w.lim.MaxTotalBytes:
		w.spent = fmt.Errorf("%w: more than %d bytes extracted from the bundle's archives", ErrTotalTooLarge, w.lim.MaxTotalBytes)
		return w.spent
	case in != nil && n > ratioFloor && float64(n) > w.lim.MaxRatio*float64(in()):
		return fmt.Errorf("%w: %d bytes from %d compressed, limit %g", ErrRatio, n, in(), w.lim.MaxRatio)
	}
	return nil
}

// isLimit reports whether err is a refusal by the limits rather than damage.
func isLimit(err error) bool {
	return errors.Is(err, ErrEntryTooLarge) || errors.Is(err, ErrRatio) || errors.Is(err, ErrTotalTooLarge) || errors.Is(err, ErrOverlap)
}

// writeError is a failure of the temporary directory, not of the bundle.
type writeError struct{ err error }

func (e writeError) Error() string { return "temporary copy: " + e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

func (w *walker) tempDir() (string, error) {
	if w.dir == "" {
		dir, err := os.MkdirTemp(w.hooks.tempParent, OwnedPrefix(TempPrefix))
		if err != nil {
			return "", err
		}
		w.dir = dir
	}
	return w.dir, nil
}

// extract copies a member into a new file of the private temporary
// directory, enforcing the limits on the bytes r really produces. in
// reports the compressed bytes consumed so far (nil for stored data);
// declared is the size the header gives (-1 if none). On a refusal (limits, ctx, the temporary directory) it
// returns no file. On damage (a read error) it returns the file holding
// what was read before, at offset 0, with the error; the file is nil if
// nothing was read.
func (w *walker) extract(r io.Reader, in func() int64, declared int64) (*os.File, int64, error) {
	dir, err := w.tempDir()
	if err != nil {
		return nil, 0, writeError{err}
	}
	f, err := os.CreateTemp(dir, "member-")
	if err != nil {
		return nil, 0, writeError{err}
	}
	if w.buf == nil {
		w.buf = make([]byte, 32<<10)
	}
	var n int64
	var rerr error
	for {
		if err := w.ctx.Err(); err != nil {
			rerr = err
			break
		}
		k, err := r.Read(w.buf)
		if k > 0 {
			if lerr := w.checkGrowth(n+int64(k), in, declared); lerr != nil {
				rerr = lerr
				break
			}
			if _, werr := f.Write(w.buf[:k]); werr != nil {
				rerr = writeError{werr}
				break
			}
			n += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	w.total += n
	w.hooks.written += n
	var we writeError
	if rerr != nil && (n == 0 || isLimit(rerr) || errors.As(rerr, &we) || w.ctx.Err() != nil) {
		w.drop(f)
		return nil, n, rerr
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		w.drop(f)
		return nil, n, writeError{err}
	}
	return f, n, rerr
}

// extractMember extracts a member and yields it (or walks it). A damaged
// member yields its error, then what could be read. It reports whether the
// archive's own stream is still usable.
func (w *walker) extractMember(name string, r io.Reader, in func() int64, declared int64, mt time.Time, src parsers.CaptureSource, depth int) bool {
	f, n, err := w.extract(r, in, declared)
	if err != nil {
		var we writeError
		if errors.As(err, &we) {
			w.fail(name, err)
			w.done = true // the temporary directory is unusable: nothing more can be read
			return false
		}
		if isLimit(err) {
			w.fail(name, err)
			return true
		}
		if f == nil {
			w.fail(name, damage(err))
			return false
		}
		w.fail(name, fmt.Errorf("%w; keeping the %d bytes read", damage(err), n))
		w.member(name, f, n, mt, src, depth)
		return false
	}
	w.member(name, f, n, mt, src, depth)
	return true
}

// damage turns an unexpected end of input into parsers.ErrTruncated.
func damage(err error) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return parsers.ErrTruncated
	}
	return err
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

func (c *counter) count() int64 { return c.n }

// byteCounter counts the bytes read through a bufio.Reader. It is an
// io.ByteReader, so flate reads exactly the bytes of its stream from it.
type byteCounter struct {
	br *bufio.Reader
	n  int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	k, err := c.br.Read(p)
	c.n += int64(k)
	return k, err
}

func (c *byteCounter) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

func (c *byteCounter) count() int64 { return c.n }

// errAt adds where in its archive a read failed to the error.
type errAt struct {
	r    io.Reader
	what string
	pos  func() int64
}

func (e *errAt) Read(p []byte) (int, error) {
	k, err := e.r.Read(p)
	if err != nil && err != io.EOF && !isLimit(err) {
		err = fmt.Errorf("%s %d: %w", e.what, e.pos(), damage(err))
	}
	return k, err
}

// meter enforces MaxTotalBytes and MaxRatio on a whole decompressed stream
// (a tar inside a gzip): skipping a refused member still decompresses it.
// Once it fails it keeps failing.
type meter struct {
	w   *walker
	r   io.Reader
	in  *counter
	n   int64
	err error
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	k, err := m.r.Read(p)
	m.n += int64(k)
	switch {
	case m.n > m.w.lim.MaxTotalBytes:
		m.err = fmt.Errorf("%w: gzip stream longer than %d bytes", ErrTotalTooLarge, m.w.lim.MaxTotalBytes)
	case m.n > ratioFloor && float64(m.n) > m.w.lim.MaxRatio*float64(m.in.n):
		m.err = fmt.Errorf("%w: gzip stream of %d bytes from %d compressed, limit %g", ErrRatio, m.n, m.in.n, m.w.lim.MaxRatio)
	default:
		return k, err
	}
	return 0, m.err
}

// memberName cleans an archive member name: backslashes become slashes,
// "." and empty components go. It refuses absolute names (/x, C:\x, C:x,
// \\server\x), names with a ".." component or a NUL, and empty names.
func memberName(raw string) (string, error) {
	s := strings.ReplaceAll(raw, `\`, "/")
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "", fmt.Errorf("%w: NUL in name", ErrUnsafePath)
	case strings.HasPrefix(s, "/"):
		return "", fmt.Errorf("%w: absolute name", ErrUnsafePath)
	case len(s) >= 2 && s[1] == ':' && ('a' <= s[0]|0x20 && s[0]|0x20 <= 'z'):
		return "", fmt.Errorf("%w: name with a drive letter", ErrUnsafePath)
	case slices.Contains(strings.Split(s, "/"), ".."):
		return "", fmt.Errorf("%w: name with a \"..\" component", ErrUnsafePath)
	}
	c := path.Clean(s)
	if c == "." {
		return "", fmt.Errorf("%w: empty name", ErrUnsafePath)
	}
	return c, nil
}

// isDirName reports whether an archive member name names a directory.
func isDirName(raw string) bool {
	return strings.HasSuffix(raw, "/") || strings.HasSuffix(raw, `\`)
}
