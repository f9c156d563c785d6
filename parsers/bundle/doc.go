// Package bundle opens customer bundles: the folder, single file or
// archive (zip, tar, gzip, nested in any order) a consultant hands over.
// Walk yields every file of a bundle as an Entry, an open *os.File with
// its name inside the bundle ("case.zip!/logs/netstat.txt"), its size,
// its modification time and where that comes from (a parsers.CaptureSource:
// zip extra field or DOS time, tar, gzip, file on disk). Hash gives
// the bundle's content key, which a database uses to keep one case per
// bundle.
//
// A bundle is untrusted input. Walk enforces Limits (bytes in all and per
// member, compression ratio, nesting, member count), never follows links,
// never turns a member name into a file system path, and copies members
// into a private temporary directory that it removes at the end. Each
// refusal and each damaged archive is yielded as an *Error wrapping one of
// the sentinels of errors.go (or parsers.ErrTruncated), and the walk goes
// on with the rest of the bundle.
//
// Bundle opening is its own package because it is a job of its own: it
// knows archives and the file system, not artifact formats, and the
// formats in package parsers read any io.Reader without knowing where it
// came from. Package bundle may import parsers (for ErrTruncated, the
// error of input that ends too early, shared with the format parsers, and
// CaptureSource, the vocabulary of capture times) and nothing else of
// ours; parsers must not import bundle.
//
// Files: walk.go (Walk, Entry, Limits, Error, the folder walk, archive
// recognition, member extraction under the limits), tar.go, gzip.go,
// zip.go (a zip reader that keeps one central directory record in memory
// at a time and falls back to the local headers), hash.go (Hash),
// errors.go.
//
// Adding an archive format: recognise it by its magic bytes in
// archiveKind (never by its name), walk it in a walker method that counts
// each member (count), checks declared sizes before reading (checkDeclared)
// and extracts through extract, which enforces the limits on the bytes
// really produced; add builders and cases to walk_test.go (formats,
// damaged, bombs, unsafe names) and seeds to FuzzWalk.
package bundle
