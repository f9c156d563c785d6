// Package correlate is portmortem's pure logic over parsed records: it
// decodes events into service failures, bind errors and boot markers,
// knows the Windows error codes, and (from the analyze work on) places
// failures and snapshots in boot sessions, finds the ports a service needs
// and who held them, and gives verdicts with remedies.
//
// It imports only parsers (for the record types). Its data reaches it
// through plain values and small interfaces it defines itself, so every
// rule is table-tested without SQLite. To follow a new event, add its
// decoding to DecodeFailure or DecodeBoot with a table test built from a
// real event's fields (DOMAIN.md names the sources).
package correlate
