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
	// ErrSuperseded is returned by CaseWriter.Commit when another run on
	// the same database at the same time committed cases of the same
	// bundle first: they stay, and this writer's cases are deleted
	// (CasesByHash gives the ones that stand).
	ErrSuperseded = errors.New("another run committed the same bundle first")
)
