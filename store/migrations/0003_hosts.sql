-- 0003_hosts: a bundle holds one case per collection of a host
-- (correlate.AssignHosts). See doc.go.
--
-- collection is the folder or archive of the bundle that holds the case's
-- artifacts ('' for the whole bundle, or for a host's files that sit among
-- other hosts' files); undecided marks the case of the artifacts whose
-- host could not be decided, which no verdict uses. The key of a complete
-- case becomes the bundle's hash with the host and the collection.

ALTER TABLE cases ADD COLUMN collection TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN undecided BOOLEAN NOT NULL DEFAULT FALSE;
DROP INDEX cases_complete_hash;
CREATE UNIQUE INDEX cases_complete_key ON cases (bundle_hash, host, collection, undecided) WHERE status = 'complete';
