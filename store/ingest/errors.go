package ingest

import "errors"

// ErrNoArtifact is a bundle's Result.Err when nothing in it is an artifact
// portmortem reads: a stray file or an empty folder given as a bundle.
var ErrNoArtifact = errors.New("no usable artifact")
