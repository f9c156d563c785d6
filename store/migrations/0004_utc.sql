-- 0004_utc: every time column holds true UTC, and v_port_owners names each
-- socket's image from the case's process listings. See doc.go.
--
-- A time the host's wall clock gave (a zip DOS time, a `%date% %time%`
-- line, Get-NetTCPConnection's CreationTime) is kept in a *_local column,
-- as text without a zone ("2026-02-28T08:12:03.000000000", no Z), with the
-- UTC column NULL, until its case is committed with a known zone
-- (cases.zone_offset_seconds, else the 6008 offset): the commit then writes
-- the UTC column and clears the local one and its flag. Rows stored before
-- this migration move to the local columns here (substr keeps the text
-- before the Z); their readers apply the case's zone as before.

ALTER TABLE artifacts ADD COLUMN captured_at_local TEXT;
ALTER TABLE artifacts ADD COLUMN mtime_local TEXT;
ALTER TABLE sockets ADD COLUMN created_at_local TEXT;

UPDATE artifacts SET captured_at_local = substr(captured_at, 1, 29), captured_at = NULL
WHERE captured_local AND captured_at IS NOT NULL;
UPDATE artifacts SET mtime_local = substr(mtime, 1, 29), mtime = NULL
WHERE mtime_source = 'zip-dos-local' AND mtime IS NOT NULL;
UPDATE sockets SET created_at_local = substr(created_at, 1, 29), created_at = NULL
WHERE created_local AND created_at IS NOT NULL;

-- The commit finds the local socket times of a case through this index,
-- which holds only them (Get-NetTCPConnection exports): a netstat listing
-- of 100,000 sockets adds nothing to it.
CREATE INDEX sockets_created_local ON sockets (artifact_id) WHERE created_at_local IS NOT NULL;
-- PID → image lookups in the listings that name images (netstat -b,
-- Tcpvcon): only their rows.
CREATE INDEX sockets_image_pid ON sockets (artifact_id, pid) WHERE image <> '';

-- Every PID → image/services mapping of every listing: tasklist rows, and
-- the sockets of listings that name images (netstat -b, Tcpvcon; one row
-- per socket).
CREATE VIEW v_process_images AS
SELECT a.case_id, p.artifact_id, a.path AS artifact_path, a.format, a.captured_at, p.line, p.pid, p.image,
       p.services
FROM processes p
JOIN artifacts a ON a.id = p.artifact_id
UNION ALL
SELECT a.case_id, s.artifact_id, a.path, a.format, a.captured_at, s.line, s.pid, s.image, s.services
FROM sockets s
JOIN artifacts a ON a.id = s.artifact_id
WHERE s.image <> '' AND s.pid >= 0;

-- A socket's image and services are its own when its listing printed them
-- (image_source 'socket'); otherwise those of its PID in the case's
-- listing picked as below (image_source is that artifact's path), or ''
-- when no listing of the case has the PID. The listing picked: the
-- socket's own artifact (another socket of the same PID), then the one
-- captured last at or before the socket's artifact, then the one captured
-- first after it, then, when a capture time is unknown (NULL: unknown or
-- still local), the first ingested; within it, the first row. Only text
-- comparisons of UTC times: no date arithmetic, which SQLite and
-- PostgreSQL spell differently. Boots are not considered (correlate does
-- that): a PID of another boot may name another process. (The ranking is
-- a derived table's columns because SQLite before 3.4x rejects an outer
-- column in the ORDER BY of a query on a UNION ALL view: the sqlite3 shell
-- an analyst has may be older than the driver's.)
DROP VIEW v_port_owners;
CREATE VIEW v_port_owners AS
SELECT o.case_id, o.artifact_id, o.artifact_path, o.format, o.captured_at, o.captured_at_local, o.captured_local,
       o.capture_source, o.line, o.proto, o.local_addr, o.local_host, o.local_port, o.state, o.state_raw, o.pid,
       CASE WHEN o.socket_image <> '' THEN o.socket_image ELSE COALESCE(p.image, si.image, '') END AS image,
       CASE WHEN o.socket_image <> '' THEN o.socket_services ELSE COALESCE(p.services, si.services, '') END AS services,
       CASE WHEN o.socket_image <> '' THEN 'socket' ELSE COALESCE(ia.path, '') END AS image_source,
       CASE WHEN o.socket_image <> '' THEN o.artifact_id ELSE o.pick_artifact END AS image_artifact_id,
       CASE WHEN o.socket_image <> '' THEN o.line ELSE COALESCE(p.line, si.line) END AS image_line,
       o.owner, o.created_at, o.created_at_local, o.created_local
FROM (
	SELECT a.case_id, s.artifact_id, a.path AS artifact_path, a.format, a.captured_at, a.captured_at_local,
	       a.captured_local, a.capture_source, s.line, s.proto, s.local_addr, s.local_host, s.local_port, s.state,
	       s.state_raw, s.pid, s.image AS socket_image, s.services AS socket_services, s.owner, s.created_at,
	       s.created_at_local, s.created_local,
	       CASE WHEN s.image = '' AND s.pid >= 0 THEN (
	           SELECT x.artifact_id FROM (
	               SELECT c.artifact_id,
	                      CASE WHEN c.artifact_id = s.artifact_id THEN 0
	                           WHEN c.captured_at IS NULL OR a.captured_at IS NULL THEN 3
	                           WHEN c.captured_at <= a.captured_at THEN 1
	                           ELSE 2 END AS pick_order,
	                      CASE WHEN c.captured_at <= a.captured_at THEN c.captured_at ELSE '' END AS before_at,
	                      CASE WHEN c.captured_at > a.captured_at THEN c.captured_at ELSE '' END AS after_at
	               FROM v_process_images c
	               WHERE c.case_id = a.case_id AND c.pid = s.pid) x
	           ORDER BY x.pick_order, x.before_at DESC, x.after_at, x.artifact_id
	           LIMIT 1) END AS pick_artifact
	FROM sockets s
	JOIN artifacts a ON a.id = s.artifact_id
	WHERE s.has_port AND (s.proto = 'UDP' OR s.state IN ('LISTENING', 'BOUND'))
) o
LEFT JOIN artifacts ia ON ia.id = o.pick_artifact
LEFT JOIN processes p ON p.id = (SELECT MIN(p2.id) FROM processes p2
	WHERE p2.artifact_id = o.pick_artifact AND p2.pid = o.pid)
LEFT JOIN sockets si ON p.id IS NULL AND si.id = (SELECT MIN(s2.id) FROM sockets s2
	WHERE s2.artifact_id = o.pick_artifact AND s2.pid = o.pid AND s2.image <> '');
