-- 0002_host_facts: what the caller learned about a case's host beyond its
-- event logs (systeminfo, --tz), for reports. See doc.go.
--
-- utc_offset_seconds keeps its meaning (the latest 6008 event's offset);
-- zone_offset_seconds is the offset reports show times in, whatever its
-- source, and zone_source names that source.

ALTER TABLE cases ADD COLUMN os_name TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN zone_offset_seconds INTEGER;
ALTER TABLE cases ADD COLUMN zone_source TEXT NOT NULL DEFAULT '';
