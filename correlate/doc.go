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
//
// # Files
//
// What comes in and goes out, and the knowledge it draws on:
//
//   - model.go: Input, Snapshot, Owners and the other inputs; Finding,
//     Verdict, Evidence, Coverage.
//   - decode.go, events.go, boots.go, errcodes.go: decoding an event once
//     (Decode) into a failure (DecodeFailure) or a boot marker
//     (DecodeBoot), and error codes (LookupError, ErrorClass).
//   - sessions.go: boot sessions from boot markers (BuildSessions), each
//     with the UTC offset its own 6008s show, and the conversion of a
//     host's local time with the offset of the boot it falls in (Zone,
//     CaseZone; the case's offset where the boot shows none).
//   - catalog.go, catalog.tsv: the port catalog and the user's catalog file;
//     portsfile.go: the user's --ports file (LoadPorts).
//   - capture.go, hostfacts.go: which clue wins for an artifact's capture
//     time (CaptureTime, over parsers.CaptureSource) and for a host's
//     name, OS and UTC offset (DecideHost).
//
// Analyze, in the order it works:
//
//   - analyze.go: Analyze, the analysis state built from Input, its limits
//     (foldWindow, maxSnapshotsChecked, ...) and the cached Owners lookups.
//   - incident.go: failures folded into incidents (buildIncidents): a bind
//     error and the SCM failure of the same service, with its service key.
//   - finding.go: the findings of one incident (analyzeIncident): what every
//     finding shares (summary, failure and boot evidence) and the verdicts
//     that need no port, NOT_PORT_RELATED and PORT_UNKNOWN.
//   - ports.go: the ports an incident needs and their PortSource: the
//     event, the --ports file, the catalog, or an earlier snapshot.
//   - snapshots.go: snapshots placed in time and boot session, whether
//     their capture time is trusted (by parsers.CaptureSource), and the
//     order they are tried in for an incident.
//   - ranges.go: netsh tables (excludedportrange, dynamicport) placed in
//     their boot session like snapshots, and which of their ranges count
//     for a failure: its own boot's table decides, administered ranges
//     apply across boots, dynamic ones of another boot do not.
//   - owners.go: who held a port in a snapshot (observe), and the PID to
//     image and services mapping from the snapshot or a process listing.
//   - verdict.go: the verdict for one needed port (portFinding): CONFIRMED
//     or PROBABLE with an owner, RESERVED_RANGE, NO_CONFLICT_SEEN or
//     NO_SNAPSHOT, with its confidence, and the facts the rules need.
//   - signals.go: events that give no finding of their own (IPsec 4292,
//     Tcpip 4227/4231/4266, DNS 411) turned into reasons.
//   - rules.go: the culprit rules (Rule, matchRule).
//   - remedy.go: the remedy commands and KB references for a rule and OS
//     family.
//   - coverage.go: which checks ran, partly or not at all, and why.
//   - text.go: time and duration formatting for reason texts, orDefault
//     and clamp01.
package correlate
