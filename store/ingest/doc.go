// Package ingest is portmortem's analyze engine: it walks each bundle,
// reads its artifacts in parallel, decodes every event once, stores what
// correlation uses through one writer, correlates the case and saves its
// findings, one case per bundle:
//
//	walk (parsers/bundle) → read (parsers) → decode and filter once
//	(correlate.Decode, in the parser's goroutine) → one writer (store)
//	→ host facts and correlation (correlate) → findings saved, case committed
//
// Run is the whole job; the command line (cmd/portmortem) only parses
// flags, prints what Run reports through its Observer and writes the
// reports. The rules are not here: what an event means, which capture
// time and which host facts win, and every verdict are correlate's;
// every SQL statement is store's. ingest owns the order of the work, its
// parallelism and its memory bounds (see pipeline.go), and what a bundle
// that cannot be fully read leaves behind: each file or archive entry the
// walk refuses becomes an artifact row of format parsers.FormatRefused,
// which correlate turns into a coverage line.
//
// It sits between store, which it drives, and reports, which reads what
// it stored: it imports parsers, parsers/bundle, correlate and store, and
// nothing above.
package ingest
