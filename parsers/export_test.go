package parsers

// Test helpers for the external test package parsers_test (bench_test.go),
// which imports parsers/synth.
var (
	EVTXCorpus      = evtxCorpus
	QuietLibraryLog = quietLibraryLog
)
