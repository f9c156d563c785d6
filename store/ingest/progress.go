package ingest

import "sync/atomic"

// Progress counts a run's work as it goes, for a progress line. Every
// counter is safe to read at any time.
type Progress struct {
	Bundles   atomic.Int64 // bundles finished, analyzed or not
	Artifacts atomic.Int64 // artifacts read to their end
	Records   atomic.Int64 // records read
	Bytes     atomic.Int64 // artifact bytes read (archive members once extracted)
	// InputDone counts input bytes done: files on disk read, and the rest
	// of a bundle's Options.Sizes once it is finished.
	InputDone atomic.Int64
}
