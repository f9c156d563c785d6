// Package correlate is portmortem's pure logic over parsed records: it
// decodes events into service failures, bind errors and boot markers,
// knows the Windows error codes, places failures and snapshots in boot
// sessions (BuildSessions), finds the ports a service needs (the event,
// the user's --ports, the port Catalog, or what its process held in an
// earlier snapshot) and who held them, and gives verdicts with culprit
// rules, remedies, evidence and coverage (Analyze).
//
// It imports only parsers (for the record types). Its data reaches it
// through plain values (Input) and small interfaces it defines itself
// (Owners, and optionally PIDSockets), so every rule is table-tested
// without SQLite. To follow a new event, add its decoding to DecodeFailure
// or DecodeBoot with a table test built from a real event's fields
// (DOMAIN.md names the sources). To teach it a service's ports, add a row
// to catalog.tsv with its source (localized display names only when a
// source shows them). To add a culprit pattern, add a Rule constant, its
// case in matchRule (rules.go) and in remedyFor (remedy.go), and tests that
// check its commands exactly for each OS family.
package correlate
