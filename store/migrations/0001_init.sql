-- 0001_init: the whole first schema. See doc.go for what every column means.
--
-- Portability: this file is meant to run on SQLite and, with the changes
-- listed in doc.go (ids), on PostgreSQL. Times are TEXT in a fixed-width
-- RFC 3339 UTC form, booleans are BOOLEAN (0/1 in SQLite), JSON is TEXT,
-- and 64-bit numbers are BIGINT. No column is named after a keyword that
-- PostgreSQL reserves (offset, check, binary).

CREATE TABLE cases (
	id                 INTEGER PRIMARY KEY,
	bundle_hash        TEXT    NOT NULL,
	bundle_path        TEXT    NOT NULL,
	host               TEXT    NOT NULL DEFAULT '',
	status             TEXT    NOT NULL CHECK (status IN ('ingesting', 'complete')),
	created_at         TEXT    NOT NULL,
	completed_at       TEXT,
	os_version         TEXT    NOT NULL DEFAULT '',
	utc_offset_seconds INTEGER
);
-- One complete case per bundle; a re-run ingests beside it and replaces it
-- when it commits.
CREATE UNIQUE INDEX cases_complete_hash ON cases (bundle_hash) WHERE status = 'complete';
CREATE INDEX cases_hash ON cases (bundle_hash);

CREATE TABLE artifacts (
	id             INTEGER PRIMARY KEY,
	case_id        BIGINT  NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
	path           TEXT    NOT NULL,
	format         TEXT    NOT NULL,
	parser_version INTEGER NOT NULL DEFAULT 0,
	encoding       TEXT    NOT NULL DEFAULT '',
	locale         TEXT    NOT NULL DEFAULT '',
	variant        TEXT    NOT NULL DEFAULT '',
	host           TEXT    NOT NULL DEFAULT '',
	size           BIGINT  NOT NULL DEFAULT 0,
	sha256         TEXT    NOT NULL DEFAULT '',
	mtime          TEXT,
	mtime_source   TEXT    NOT NULL DEFAULT '',
	captured_at    TEXT,
	captured_local BOOLEAN NOT NULL DEFAULT FALSE,
	capture_source TEXT    NOT NULL DEFAULT '',
	notes          TEXT    NOT NULL DEFAULT '[]',
	records        BIGINT  NOT NULL DEFAULT 0,
	warning_count  BIGINT  NOT NULL DEFAULT 0
);
-- Not UNIQUE: a zip may hold two members of the same name.
CREATE INDEX artifacts_case_path ON artifacts (case_id, path);

CREATE TABLE parse_errors (
	id          INTEGER PRIMARY KEY,
	artifact_id BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	line        INTEGER NOT NULL DEFAULT 0,
	byte_offset BIGINT  NOT NULL DEFAULT 0,
	message     TEXT    NOT NULL
);
CREATE INDEX parse_errors_artifact ON parse_errors (artifact_id);

CREATE TABLE sockets (
	id               INTEGER PRIMARY KEY,
	artifact_id      BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	line             INTEGER NOT NULL DEFAULT 0,
	proto            TEXT    NOT NULL,
	local_addr       TEXT    NOT NULL DEFAULT '',
	local_host       TEXT    NOT NULL DEFAULT '',
	local_port       INTEGER NOT NULL DEFAULT 0,
	has_port         BOOLEAN NOT NULL DEFAULT FALSE,
	local_port_name  TEXT    NOT NULL DEFAULT '',
	remote_addr      TEXT    NOT NULL DEFAULT '',
	remote_host      TEXT    NOT NULL DEFAULT '',
	remote_port      INTEGER NOT NULL DEFAULT 0,
	remote_port_name TEXT    NOT NULL DEFAULT '',
	state            TEXT    NOT NULL DEFAULT '',
	state_raw        TEXT    NOT NULL DEFAULT '',
	pid              BIGINT  NOT NULL DEFAULT -1,
	image            TEXT    NOT NULL DEFAULT '',
	services         TEXT    NOT NULL DEFAULT '',
	owner            TEXT    NOT NULL DEFAULT '',
	created_at       TEXT,
	created_local    BOOLEAN NOT NULL DEFAULT FALSE
);
-- Owner lookup: who held proto/port.
CREATE INDEX sockets_proto_port ON sockets (proto, local_port);
-- Socket counts per process (DNS socket pool), and the artifact cascade.
CREATE INDEX sockets_artifact_proto_pid ON sockets (artifact_id, proto, pid);

CREATE TABLE processes (
	id          INTEGER PRIMARY KEY,
	artifact_id BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	line        INTEGER NOT NULL DEFAULT 0,
	pid         BIGINT  NOT NULL,
	image       TEXT    NOT NULL DEFAULT '',
	services    TEXT    NOT NULL DEFAULT '',
	truncated   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX processes_artifact_pid ON processes (artifact_id, pid);

CREATE TABLE port_ranges (
	id           INTEGER PRIMARY KEY,
	artifact_id  BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	line         INTEGER NOT NULL DEFAULT 0,
	kind         TEXT    NOT NULL,
	proto        TEXT    NOT NULL DEFAULT '',
	ip_version   TEXT    NOT NULL DEFAULT '',
	start_port   INTEGER NOT NULL,
	end_port     INTEGER NOT NULL,
	administered BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX port_ranges_artifact ON port_ranges (artifact_id);

CREATE TABLE service_ports (
	id          INTEGER PRIMARY KEY,
	artifact_id BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	line        INTEGER NOT NULL DEFAULT 0,
	name        TEXT    NOT NULL,
	port        INTEGER NOT NULL,
	proto       TEXT    NOT NULL DEFAULT '',
	aliases     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX service_ports_artifact ON service_ports (artifact_id);

CREATE TABLE event_counts (
	id          INTEGER PRIMARY KEY,
	artifact_id BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	channel     TEXT    NOT NULL DEFAULT '',
	provider    TEXT    NOT NULL DEFAULT '',
	event_id    INTEGER NOT NULL,
	count       BIGINT  NOT NULL
);
CREATE INDEX event_counts_artifact ON event_counts (artifact_id);

CREATE TABLE events (
	id            INTEGER PRIMARY KEY,
	artifact_id   BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	record_id     BIGINT  NOT NULL DEFAULT 0,
	line          INTEGER NOT NULL DEFAULT 0,
	byte_offset   BIGINT  NOT NULL DEFAULT 0,
	channel       TEXT    NOT NULL DEFAULT '',
	provider      TEXT    NOT NULL DEFAULT '',
	provider_guid TEXT    NOT NULL DEFAULT '',
	event_source  TEXT    NOT NULL DEFAULT '',
	event_id      INTEGER NOT NULL,
	qualifiers    INTEGER NOT NULL DEFAULT 0,
	level         INTEGER NOT NULL DEFAULT 0,
	event_time    TEXT,
	computer      TEXT    NOT NULL DEFAULT '',
	data          TEXT    NOT NULL DEFAULT '[]',
	binary_hex    TEXT    NOT NULL DEFAULT '',
	message       TEXT    NOT NULL DEFAULT '',
	recovered     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX events_artifact_record ON events (artifact_id, record_id);

CREATE TABLE failures (
	id               INTEGER PRIMARY KEY,
	artifact_id      BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	event_row_id     BIGINT  NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	kind             TEXT    NOT NULL,
	event_time       TEXT,
	channel          TEXT    NOT NULL DEFAULT '',
	provider         TEXT    NOT NULL DEFAULT '',
	event_id         INTEGER NOT NULL,
	record_id        BIGINT  NOT NULL DEFAULT 0,
	recovered        BOOLEAN NOT NULL DEFAULT FALSE,
	service          TEXT    NOT NULL DEFAULT '',
	service_key      TEXT    NOT NULL DEFAULT '',
	dependency       TEXT    NOT NULL DEFAULT '',
	error_code       BIGINT  NOT NULL DEFAULT 0,
	has_error        BOOLEAN NOT NULL DEFAULT FALSE,
	service_specific BOOLEAN NOT NULL DEFAULT FALSE,
	error_class      TEXT    NOT NULL DEFAULT '',
	proto            TEXT    NOT NULL DEFAULT '',
	addr             TEXT    NOT NULL DEFAULT '',
	port             INTEGER NOT NULL DEFAULT 0,
	has_port         BOOLEAN NOT NULL DEFAULT FALSE,
	message          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX failures_artifact ON failures (artifact_id);
CREATE INDEX failures_event ON failures (event_row_id);

CREATE TABLE boots (
	id                 INTEGER PRIMARY KEY,
	artifact_id        BIGINT  NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
	event_row_id       BIGINT  NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	kind               TEXT    NOT NULL,
	event_time         TEXT,
	channel            TEXT    NOT NULL DEFAULT '',
	provider           TEXT    NOT NULL DEFAULT '',
	event_id           INTEGER NOT NULL,
	record_id          BIGINT  NOT NULL DEFAULT 0,
	recovered          BOOLEAN NOT NULL DEFAULT FALSE,
	boot_time          TEXT,
	last_alive         TEXT,
	utc_offset_seconds INTEGER,
	uptime_seconds     BIGINT  NOT NULL DEFAULT 0,
	os_version         TEXT    NOT NULL DEFAULT '',
	message            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX boots_artifact ON boots (artifact_id);
CREATE INDEX boots_event ON boots (event_row_id);

CREATE TABLE findings (
	id             INTEGER PRIMARY KEY,
	case_id        BIGINT  NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
	seq            INTEGER NOT NULL,
	bundle         TEXT    NOT NULL DEFAULT '',
	host           TEXT    NOT NULL DEFAULT '',
	service        TEXT    NOT NULL DEFAULT '',
	service_key    TEXT    NOT NULL DEFAULT '',
	failure_time   TEXT,
	event_id       INTEGER NOT NULL DEFAULT 0,
	error_code     BIGINT  NOT NULL DEFAULT 0,
	has_error      BOOLEAN NOT NULL DEFAULT FALSE,
	error_class    TEXT    NOT NULL DEFAULT '',
	proto          TEXT    NOT NULL DEFAULT '',
	port           INTEGER NOT NULL DEFAULT 0,
	port_source    TEXT    NOT NULL DEFAULT '',
	verdict        TEXT    NOT NULL,
	confidence     DOUBLE PRECISION NOT NULL DEFAULT 0,
	reasons        TEXT    NOT NULL DEFAULT '[]',
	owner_pid      BIGINT  NOT NULL DEFAULT -1,
	owner_image    TEXT    NOT NULL DEFAULT '',
	owner_services TEXT    NOT NULL DEFAULT '[]',
	snapshot       TEXT    NOT NULL DEFAULT '',
	rule           TEXT    NOT NULL DEFAULT '',
	remedy         TEXT    NOT NULL DEFAULT '[]',
	kb             TEXT    NOT NULL DEFAULT '[]',
	evidence       TEXT    NOT NULL DEFAULT '[]'
);
CREATE INDEX findings_case ON findings (case_id, seq);

CREATE TABLE coverage (
	id         INTEGER PRIMARY KEY,
	case_id    BIGINT  NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	check_name TEXT    NOT NULL,
	status     TEXT    NOT NULL,
	reason     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX coverage_case ON coverage (case_id, seq);

-- Views for analysts.

CREATE VIEW v_findings AS
SELECT f.id, f.case_id, c.bundle_path, c.bundle_hash, c.host AS case_host, c.status AS case_status,
       f.seq, f.service, f.service_key, f.failure_time, f.event_id, f.error_code, f.has_error,
       f.error_class, f.proto, f.port, f.port_source, f.verdict, f.confidence, f.reasons,
       f.owner_pid, f.owner_image, f.owner_services, f.snapshot, f.rule, f.remedy, f.kb, f.evidence
FROM findings f
JOIN cases c ON c.id = f.case_id;

CREATE VIEW v_port_owners AS
SELECT a.case_id, s.artifact_id, a.path AS artifact_path, a.format, a.captured_at, a.captured_local,
       a.capture_source, s.line, s.proto, s.local_addr, s.local_host, s.local_port, s.state, s.state_raw,
       s.pid, s.image, s.services, s.owner, s.created_at, s.created_local
FROM sockets s
JOIN artifacts a ON a.id = s.artifact_id
WHERE s.has_port AND (s.proto = 'UDP' OR s.state IN ('LISTENING', 'BOUND'));

CREATE VIEW v_failures AS
SELECT a.case_id, f.artifact_id, a.path AS artifact_path, e.record_id, e.line, e.byte_offset, f.event_time, f.channel,
       f.provider, f.event_id, f.kind, f.service, f.service_key, f.dependency, f.error_code,
       f.has_error, f.service_specific, f.error_class, f.proto, f.addr, f.port, f.has_port,
       f.recovered, f.message
FROM failures f
JOIN artifacts a ON a.id = f.artifact_id
JOIN events e ON e.id = f.event_row_id;
