-- 0005_provenance: what made each case, so a verdict can be traced to the
-- program and the settings that gave it. See doc.go.
--
-- tool_version is the portmortem build ("v1.2.0", or "devel 41b9b4a+dirty");
-- run_options the flags that change results, as given ("--tz +02:00
-- --ports ports.txt (sha256 …)"), '' for none; catalog_version the port
-- catalog's content (correlate.Catalog.Version).

ALTER TABLE cases ADD COLUMN tool_version TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN run_options TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN catalog_version TEXT NOT NULL DEFAULT '';
