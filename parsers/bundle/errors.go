package bundle

import "errors"

// Sentinel errors of Walk, wrapped in an *Error that names the entry.
var (
	// ErrUnsafePath marks an archive member whose name is absolute
	// (/x, C:\x, \\server\x) or climbs out with "..".
	ErrUnsafePath = errors.New("unsafe path")
	// ErrLinkEntry marks a symbolic or hard link (in an archive, or a
	// symlink or junction on disk): links are never followed.
	ErrLinkEntry = errors.New("link not followed")
	// ErrSpecialFile marks a device, FIFO, socket or other non-regular file.
	ErrSpecialFile = errors.New("not a regular file")
	// ErrEntryTooLarge marks a member larger than Limits.MaxEntryBytes, or
	// whose data is longer than its archive header declares.
	ErrEntryTooLarge = errors.New("entry too large")
	// ErrRatio marks a member that decompresses more than Limits.MaxRatio
	// times its compressed size.
	ErrRatio = errors.New("compression ratio too high")
	// ErrTotalTooLarge reports that the archives of a bundle hold more than
	// Limits.MaxTotalBytes; no further archive is read.
	ErrTotalTooLarge = errors.New("bundle too large")
	// ErrTooDeep marks an archive nested deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("archives nested too deep")
	// ErrTooManyEntries reports that the archives of a bundle hold more
	// than Limits.MaxEntries members; no further archive is read.
	ErrTooManyEntries = errors.New("too many entries")
	// ErrOverlap marks a zip whose central directory points two members
	// at overlapping bytes: the shape of an overlapping-entry bomb, which
	// no zip tool writes. No member of it is read.
	ErrOverlap = errors.New("overlapping zip entries")
)
