-- 0007_case_owner: which process is writing a case still 'ingesting', so
-- that Open deletes only the cases of runs that are gone, never those of a
-- run writing the same file at the same time. See doc.go.
--
-- owner_pid is the writing process's PID, owner_host the name of the
-- machine it runs on (a database on a shared folder), kept once the case is
-- complete; 0 and '' for a case written before this migration.

ALTER TABLE cases ADD COLUMN owner_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN owner_host TEXT NOT NULL DEFAULT '';
