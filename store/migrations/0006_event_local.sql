-- 0006_event_local: event times that are the host's wall clock (issue 12,
-- item 6). Event Viewer's CSV/TXT exports and Get-WinEvent/Get-EventLog
-- Export-Csv print an event's time in the exporter's culture with no zone.
-- Such a time is kept in event_time_local (localLayout text, no Z), with
-- event_time NULL, until Commit converts it with the case's zone (see
-- localtime.go), exactly as captured_at_local and created_at_local are;
-- while the zone is unknown the event's time is unknown, never taken as UTC.
-- boot_time_local is the same for a boot marker's boot time, which is the
-- event's own time for 6005/6009 and the time less the uptime for 6013.

ALTER TABLE events ADD COLUMN event_time_local TEXT;
ALTER TABLE failures ADD COLUMN event_time_local TEXT;
ALTER TABLE boots ADD COLUMN event_time_local TEXT;
ALTER TABLE boots ADD COLUMN boot_time_local TEXT;
CREATE INDEX events_time_local ON events (artifact_id) WHERE event_time_local IS NOT NULL;
CREATE INDEX failures_time_local ON failures (artifact_id) WHERE event_time_local IS NOT NULL;
CREATE INDEX boots_time_local ON boots (artifact_id) WHERE event_time_local IS NOT NULL OR boot_time_local IS NOT NULL;
