// Package evtxwrite writes Windows XML event logs (.evtx) the way Windows
// lays them out: a file header, 64 KiB chunks, records as BinXML template
// instances with their templates and names listed in each chunk's tables.
// Writer streams a log of any size with one chunk in memory; Event, Field
// and System are its input, UTF16Hex encodes a service key name for
// Event.Binary as Service Control Manager writes it.
//
// portmortem only reads event logs; the writer makes test and benchmark
// data (the scenario bundles of testdata/bundles, package parsers/synth,
// the writer's own sample in testdata/evtxwriter) and stays off the
// product's read path. It is its own package so that it can serve every
// package's tests: it imports nothing of ours, so parsers' tests use it as
// an oracle for the reader and correlate's, store's and cmd's tests may
// import it without a cycle. Its Event is therefore its own type, not
// parsers.Event. The layout constants (FileMagic, ChunkSize …) are also
// defined by the reader in package parsers; a test there pins them equal.
//
// writer_test.go checks the output with independent readers (golang-evtx,
// libevtx's evtxexport and evtxinfo, python-evtx; CI installs them) and
// pins testdata/evtxwriter/sample.evtx byte for byte: a change to the
// output needs a reason and go test ./parsers/evtxwrite -update.
package evtxwrite
