// Package store keeps portmortem's database: the only package that speaks
// SQL. It writes the records and decoded rows it is handed into SQLite
// (github.com/mattn/go-sqlite3, cgo: build with CGO_ENABLED=1 and gcc, or
// mingw-w64 for Windows), builds correlate's Input from them, and keeps
// correlate's findings. It decides nothing: what an event means
// (correlate.Decode), which capture time and host facts win
// (correlate.CaptureTime, correlate.DecideHost) and what is stored at all
// are decided before a row reaches it, by the analyze engine in
// store/ingest. The file is a deliverable: analysts query it, so every
// table and view below is part of the product.
//
// It imports parsers (record types) and correlate (Input, Decoded,
// Finding), and is imported by store/ingest, reports and cmd.
//
// # Lifecycle
//
//	s, _ := store.Open(ctx, "portmortem.db")  // migrations, then PurgeIncomplete
//	c, _ := s.BeginCase(ctx, store.CaseInfo{BundleHash: h, BundlePath: p})
//	a, _ := c.AddArtifact(ctx, info)          // one transaction per artifact
//	a.Add(rec) / a.AddError(pe) …             // batched, prepared statements
//	a.AddEvent(line, off, ev, correlate.Decode(ev)) // an event with its decoded rows
//	counts.Add(ev); a.AddCounts(&counts)      // events only counted (EventCounts)
//	a.Commit()                                // or a.Rollback(); c.Abort(ctx) on error
//	c.Split(ctx, parts)                       // one case per host (correlate.AssignHosts)
//	for _, id := range c.IDs() {
//		in, _ := s.Input(ctx, id)             // → correlate.Analyze
//		s.SaveFindings(ctx, id, findings, coverage)
//	}
//	c.Commit(ctx)                             // all complete; replaces older cases of the bundle
//
// A case is invisible as complete until c.Commit: an interrupted run leaves
// it in status 'ingesting', and Abort, PurgeIncomplete or the next Open
// delete it with everything in it. Committing the case last, after its
// findings are saved, means a complete case always has its findings. The
// bundle's content hash is the key: a re-run ingests new cases beside the
// old ones, and the new ones' Commit deletes the old ones in the same
// transaction, so the database always answers for a bundle with exactly one
// complete set of cases (one per collection of a host), and an interrupted
// re-run leaves the old set in place.
//
// SQLite has one writer: a case writes one artifact at a time, and a
// program should write from one goroutine (parse in parallel, insert from
// one place). Several processes may write one file at once (two analyze
// runs, a report beside an analyze): every transaction writes first, so
// it waits for the lock (busy_timeout) instead of failing, and each case
// still 'ingesting' names its writer (owner_pid, owner_host), so Open
// deletes only the cases of runs that are gone. When two runs ingest the
// same bundle at once, the first to commit wins: the other's Commit
// returns ErrSuperseded and deletes its own cases, and a set already read
// by the run that made it is not pulled away from under it.
//
// # Conventions
//
// Times are TEXT, RFC 3339 in UTC with nine fractional digits
// ("2026-02-28T08:12:03.000000000Z"), so text order is time order and
// sub-second precision (EVTX has 100 ns) is kept; NULL means unknown (and
// is also stored for a time outside years 0000–9999, which only damaged
// input has). Every column of that form is true UTC. A time a source gives
// in the host's wall clock (a zip DOS time, a `%date% %time%` line,
// Get-NetTCPConnection's CreationTime, the date and time of an event read
// from Event Viewer's CSV/TXT or an Export-Csv of Get-WinEvent/Get-EventLog)
// is written to a *_local column
// instead — the same text without the Z ("2026-02-28T08:12:03.000000000"),
// which claims no zone — with its UTC column NULL and, where the table has
// one, its *_local flag set. CaseWriter.Commit converts each one to UTC
// with the offset of the boot it falls in (correlate.Zone: the boot's own
// 6008 in boots.utc_offset_seconds, the boot found by comparing the local
// time with each boot's local span), else with the case's zone
// (cases.zone_offset_seconds, else the latest 6008's utc_offset_seconds;
// a zone_source of flag is every boot's): the UTC column gets the time,
// the *_local column becomes NULL and the flag FALSE. A local time whose
// boot and case have no known offset stays local, and no UTC column ever holds it; readers give it back
// as the wall clock in the UTC location, flagged (Artifact.CapturedLocal,
// parsers.Socket.CreatedLocal), for correlate and reports to apply a zone
// or say it is unknown. Rows written before migration 0004 were moved to
// the *_local columns by it and stay there: their readers apply the zone
// as before. Booleans are
// 0/1. Lists of names (services) are comma-joined; structured lists are
// JSON arrays (SQLite: json_extract(data, '$[0].value'), json_each(…)).
// Text columns hold the empty string rather than NULL when empty. Ports are 0–65535, PIDs
// are -1 when the artifact does not say. Every child row is deleted with
// its parent (ON DELETE CASCADE; foreign keys are enforced on every
// connection).
//
// # Tables
//
// schema_migrations — the migrations applied: version, name, applied_at.
//
// cases — one collection of one host in one ingest of a bundle (a bundle
// of one host is one case). id; bundle_hash (the bundle's content hash);
// bundle_path (as given on the command line); host (decided by
// correlate.AssignHosts, or the host most artifacts name, or the computer
// most stored events name; empty when none is known); collection (the folder
// or archive of the bundle holding the case's artifacts, empty for the whole
// bundle or for a host's files among other hosts' files); undecided (the
// case of the artifacts whose host could not be decided, which no verdict
// uses); at most one complete case per (bundle_hash, host, collection,
// undecided), enforced by a partial unique index, and a bundle's cases
// are committed, and replaced by a re-run, together; tool_version,
// run_options, catalog_version (what made the case: the portmortem build,
// the flags that change results as given with their files' SHA-256, and
// correlate.Catalog.Version);
// status ('ingesting' until the case is committed, then 'complete');
// owner_pid, owner_host (the process and machine that wrote the case; 0
// and empty before schema version 7);
// created_at, completed_at; os_version (the latest 6009 event's text,
// e.g. "5.02. 3790 Service Pack 2 Multiprocessor Free"); utc_offset_seconds
// (local − UTC, from the latest 6008 event; NULL when unknown); and what
// the caller learned beyond the event logs (CaseWriter.SetHostFacts):
// os_name (systeminfo's OS name and version), time_zone (systeminfo's zone
// name), zone_offset_seconds (local − UTC, the offset reports show the
// host's times in; NULL when unknown) and zone_source (where that offset
// came from: flag, event-6008, systeminfo).
//
// artifacts — one file of the bundle. case_id; path (inside archives
// "outer.zip!/inner/netstat.txt"; not unique, a zip may repeat a name);
// format (netstat, tasklist, tcpvcon, netsh-excluded, netsh-dynamic,
// ps-nettcp, ps-netudp, services, evtx, evtx-xml, evt, systeminfo, or
// refused: a file or archive entry the bundle walk did not read — unsafe
// name, link, over a limit, damaged — with the reason as its first note,
// which the case's "bundle" coverage line repeats); parser_version (bumped whenever the
// parser's output changes); encoding (utf-8, utf-16le-bom, cp850 …,
// binary); locale (UI language detected, e.g. de); variant (the command
// variant, e.g. anob); host (as the artifact states it); size (bytes);
// sha256 (hex); mtime, mtime_local and mtime_source (the file or
// archive-entry time and where it came from: zip-extended-utc,
// zip-dos-local, tar, gzip, file-mtime; a zip DOS time is local, so it is
// in mtime_local until the zone is known, see Conventions);
// captured_at, captured_at_local, captured_local, capture_source (when the
// artifact was collected — in UTC, or in the host's wall clock while its
// zone is unknown, then captured_local is TRUE — and the source of that
// time, a parsers.CaptureSource: flag, artifact, timestamp-line,
// file-name, or one of the mtime sources — the verdict's confidence
// depends on it; the source stays when a local time is converted); notes
// (JSON array of remarks, e.g. "no port columns (Tcpvcon 4.x)"); records
// (records parsed, Meta records not counted); warning_count (parse
// errors, all of them).
//
// parse_errors — the first 200 parse errors of an artifact (the rest are
// only counted in artifacts.warning_count). artifact_id; line (text
// formats, from 1) or byte_offset (binary formats); message.
//
// sockets — endpoints from netstat, Tcpvcon and Get-NetTCPConnection /
// Get-NetUDPEndpoint. artifact_id; line; proto (TCP, UDP); local_addr (IP
// address text, empty when the artifact printed a name, then in local_host);
// local_port and has_port (false for Tcpvcon 4.x, which prints no ports:
// local_port is then meaningless); local_port_name (a service name printed
// instead of the number); remote_addr, remote_host, remote_port,
// remote_port_name; state (LISTENING, BOUND, ESTABLISHED … normalised, empty
// for UDP) and state_raw (as printed, e.g. ABHÖREN); pid; image (netstat
// -b, Tcpvcon); services (comma-joined, netstat -b); owner (what netstat
// -b printed instead of an image, e.g. "Can not obtain ownership
// information"); created_at, created_at_local, created_local (the bind
// time Get-NetTCPConnection records, in the host's wall clock until the
// zone is known; see Conventions). Indexed on (proto, local_port) for the
// owner lookup and on (artifact_id, proto, pid) for socket counts per
// process (a DNS socket pool holds thousands); partial indexes hold only
// the rows with a local bind time (the commit's conversion) and only the
// rows with an image (PID → image lookups in netstat -b and Tcpvcon
// listings).
//
// processes — PID → image from tasklist /svc. artifact_id; line; pid;
// image; services (comma-joined key names); truncated (tasklist cuts image
// names at 25 characters).
//
// port_ranges — from netsh. artifact_id; line; kind (excluded, dynamic);
// proto; ip_version (ipv4, ipv6 or empty); start_port, end_port (inclusive);
// administered (the persistent, netsh-added exclusions marked '*').
//
// service_ports — lines of a host's services file. artifact_id; line;
// name; port; proto; aliases (comma-joined).
//
// event_counts — how many events of each kind an event log holds, all of
// them, stored or not. artifact_id; channel; provider; event_id; count.
// (Past 10,000 distinct kinds in one log the rest are counted under
// provider '(other)'.)
//
// events — the events correlate decodes as a failure or a boot marker
// (every event with analyze --keep-all-events). artifact_id; record_id
// (EventRecordID; an ID of 2^63 or more, only in damaged logs, reads as
// negative); line (XML exports) or byte_offset (binary formats): where in
// the file; channel;
// provider; provider_guid; event_source (the classic source name when it
// differs); event_id (masked with 0xFFFF); qualifiers; level; event_time
// (event_time_local while a text export's local time awaits its zone);
// computer; data (EventData as a JSON array of {"name", "value"} in
// document order; name is empty for unnamed <Data>); binary_hex (<Binary> as
// hex); message (the rendered message where the file carries one);
// recovered (carved from slack space or a damaged chunk).
//
// failures — service-start failures, application bind errors and related
// signals decoded from events (correlate.Failure). artifact_id;
// event_row_id (the events row); kind (service-failure, bind-error,
// signal); event_time, channel, provider, event_id, record_id, recovered
// (copied from the event); service (display name) and service_key (key
// name, from <Binary>); dependency (7001); error_code and has_error;
// service_specific (a 7024 exit code); error_class (port-conflict,
// possibly-port, not-port, unknown); proto, addr, port, has_port (the
// endpoint the event names); message (an English rendering made offline);
// event_time_local (the event's, until Commit converts it).
//
// boots — boot-session markers decoded from events (correlate.BootMarker).
// artifact_id; event_row_id; kind (boot-start, clean-shutdown,
// unexpected-shutdown, uptime); event_time, channel, provider, event_id,
// record_id, recovered; boot_time (when the OS started); last_alive (6008:
// when the previous session ended, UTC); utc_offset_seconds (6008: local −
// UTC, NULL when unknown); uptime_seconds (6013); os_version (6009);
// message; event_time_local and boot_time_local (a text export's local
// times, until Commit converts them).
//
// findings — correlate's verdicts (correlate.Finding), one per failure and
// needed port, replaced as a whole by each analysis. case_id; seq (the
// order correlate gave); bundle; host; service; service_key; failure_time;
// event_id; error_code; has_error; error_class; proto; port; port_source
// (event, catalog, history, user); verdict (CONFIRMED, PROBABLE,
// RESERVED_RANGE, NO_CONFLICT_SEEN, PORT_UNKNOWN, NOT_PORT_RELATED,
// NO_SNAPSHOT); confidence (0–1); reasons (JSON array of strings);
// owner_pid (-1 when no owner), owner_image, owner_services (JSON array);
// snapshot (the artifact the owner or the free port was seen in); rule
// (the culprit pattern: dns-socket-pool, lsass-dynamic-port,
// ephemeral-range, httpsys-pid4, excluded-range, ipsec-block-mode,
// same-product, other, or empty); remedy (JSON array of commands); kb (JSON
// array of KB references); evidence (JSON array of {"artifact", "line",
// "channel", "record_id", "text", "claim"}).
//
// coverage — which checks could or could not run for a case, and why.
// case_id; seq; check_name; status (ok, missing, partial); reason.
//
// # Views
//
// v_findings — findings with their case's bundle_path, bundle_hash,
// case_host and case_status.
//
// v_port_owners — the sockets that hold a port for incoming traffic (TCP
// LISTENING or BOUND, every UDP endpoint, with a port), with their
// artifact's path, format and capture time (captured_at,
// captured_at_local, captured_local) and the image and services of their
// PID: "who held UDP 1812?" is
// SELECT * FROM v_port_owners WHERE proto = 'UDP' AND local_port = 1812.
// image and services are the socket's own when its listing printed them
// (netstat -b, Tcpvcon; image_source 'socket'); otherwise those of the
// PID in one listing of the same case (v_process_images), whose path is
// image_source, id image_artifact_id and line image_line: another socket
// of the PID in the same artifact, else the listing captured last at or
// before the socket's artifact, else the one captured first after it,
// else (a capture time unknown or still local) the first ingested; within
// it the first row of the PID. image_source is empty and image_artifact_id
// NULL when no listing of the case has the PID. The choice compares UTC
// capture times only (no date arithmetic, for portability) and knows
// nothing of boots: a PID of another boot may name another process, which
// correlate's own lookup rules out.
//
// v_process_images — every PID → image/services mapping of every listing:
// tasklist rows (processes) and the sockets that name an image (netstat
// -b, Tcpvcon, one row per socket). case_id, artifact_id, artifact_path,
// format, captured_at, line, pid, image, services.
//
// v_failures — failures with their artifact's path and the event's record
// ID, line and byte offset, for citing.
//
// # Portability
//
// DESIGN.md plans a PostgreSQL backend for batch workers. The SQL here is
// written for it too — standard types (TEXT, INTEGER, BIGINT, BOOLEAN,
// DOUBLE PRECISION), CHECK, partial indexes, INSERT … RETURNING id instead
// of LastInsertId, FALSE/TRUE literals, no column named after a reserved
// word (hence byte_offset, check_name, binary_hex), times as
// text — except where it could not be:
//   - ids: INTEGER PRIMARY KEY (SQLite's rowid) would be BIGINT GENERATED
//     BY DEFAULT AS IDENTITY PRIMARY KEY;
//   - placeholders are ?; PostgreSQL drivers want $1, $2 … (a rebind step);
//   - the JSON columns are TEXT; analysts use json_extract here, ::jsonb
//     there;
//   - the pragmas (WAL, foreign_keys, busy_timeout, cache_size) and the
//     lock-taking first write of each transaction are SQLite's concerns;
//   - SQLite accepts invalid UTF-8 in TEXT, PostgreSQL does not.
//
// # Extending
//
// Change the schema only by adding migrations/NNNN_name.sql (never edit an
// applied one): Open applies the missing ones in order, each in a
// transaction with its schema_migrations row, and refuses a database newer
// than the program. Document every new column here.
package store
