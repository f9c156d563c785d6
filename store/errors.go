package store

import "errors"

// Sentinel errors.
var (
	// ErrNotFound is returned when the case asked for does not exist (or,
	// for CasesByHash, is not complete).
	ErrNotFound = errors.New("not found")
	// ErrClosed is returned by a writer used after its Commit, Rollback or
	// Abort.
	ErrClosed = errors.New("writer already closed")
	// ErrArtifactOpen is returned when a case is asked for a new artifact,
	// or to commit, while one of its artifacts is still being written.
	ErrArtifactOpen = errors.New("an artifact of this case is still open")
)
