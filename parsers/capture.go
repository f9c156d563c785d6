package parsers

// CaptureSource says how an artifact's capture time was learnt. Its values
// are stored in artifacts.capture_source (and an entry's in
// artifacts.mtime_source) and shown in reports, so they never change. ""
// means the source is unknown.
//
// The capture time of an artifact is the first of these that gives one:
//
//  1. CaptureFlag: the user's --captured-at for files matching a pattern.
//  2. CaptureTimestampLine: what the artifact says of itself, a
//     timestamp line near its top.
//  3. CaptureFileName: a date and time in the file name (FileNameTime).
//  4. The time of the bundle entry (bundle.Entry.ModTimeSource), one of
//     CaptureZipExtended, CaptureZipDOS, CaptureTar, CaptureGzip or
//     CaptureFileModTime.
//
// Read sets CaptureTimestampLine, bundle.Walk sets the entry sources, and
// correlate.CaptureTime decides among them. correlate trusts
// a capture time for a CONFIRMED verdict only from CaptureFlag,
// CaptureTimestampLine, CaptureZipExtended and CaptureFileName; the others
// can change when a file is copied or archived.
type CaptureSource string

// The capture sources, in the order of precedence above.
const (
	// CaptureFlag is a time the user gave with --captured-at.
	CaptureFlag CaptureSource = "flag"
	// CaptureTimestampLine is a line near the top of a text artifact that
	// holds a timestamp alone, as collector scripts write it (echo %date%
	// %time%, Get-Date, date /t and time /t). Read finds it.
	CaptureTimestampLine CaptureSource = "timestamp-line"
	// CaptureFileName is a date and time in the artifact's file name
	// (FileNameTime). The caller sets it.
	CaptureFileName CaptureSource = "file-name"
	// CaptureZipExtended is a UTC time from a zip extra field: the
	// extended timestamp (0x5455), NTFS (0x000a) or Info-ZIP Unix (0x000d).
	CaptureZipExtended CaptureSource = "zip-extended-utc"
	// CaptureZipDOS is the MS-DOS time of a zip entry: the wall clock of
	// the machine that made the zip, in an unknown zone. Entry.ModTime
	// holds that wall clock with the UTC location; the host's zone must be
	// applied.
	CaptureZipDOS CaptureSource = "zip-dos-local"
	// CaptureTar is the modification time of a tar header (UTC).
	CaptureTar CaptureSource = "tar"
	// CaptureGzip is the MTIME of a gzip header (UTC).
	CaptureGzip CaptureSource = "gzip"
	// CaptureFileModTime is the modification time of a file on disk (UTC).
	CaptureFileModTime CaptureSource = "file-mtime"
)
