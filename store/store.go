package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3" // the SQLite driver, registered as "sqlite3"

	"github.com/portmortem/portmortem/parsers/bundle"
)

// busyTimeout is how long a statement waits for another connection's
// write lock before it fails with SQLITE_BUSY.
const busyTimeout = 30 * time.Second

// Store is a portmortem database: one SQLite file in WAL mode. Its methods
// are safe for concurrent use, but SQLite has a single writer: write from
// one goroutine at a time (parse in parallel, insert from one place).
type Store struct {
	db *sql.DB
	// Now returns the current time; tests replace it. It stamps
	// cases.created_at and completed_at.
	Now func() time.Time
	// pid and host name the process writing: cases.owner_pid, owner_host.
	pid  int
	host string
	// running says whether a process of this machine runs (PurgeIncomplete);
	// tests replace it.
	running func(pid int) bool
}

// Open opens (creating it if needed) the database at path, brings its
// schema up to date and deletes the cases an interrupted run left in
// status 'ingesting' (see PurgeIncomplete). Several processes may open
// one file at once: each waits up to busyTimeout for the write lock.
//
// The pragmas (foreign_keys=ON, journal_mode=WAL, busy_timeout,
// synchronous=NORMAL) are set through the driver's DSN parameters rather
// than with PRAGMA statements, because database/sql keeps a pool of
// connections and foreign_keys and busy_timeout hold per connection: the
// driver applies them to every connection it opens.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	host, _ := os.Hostname()
	s := &Store{db: db, Now: time.Now, pid: os.Getpid(), host: host, running: bundle.ProcessRunning}
	// Another process opening or writing the same file can make SQLite
	// answer "database is locked" at once, without the busy timeout (while
	// a new file is switched to WAL or its shared memory is rebuilt):
	// opening is tried again a few times before that is an error.
	err = s.init(ctx)
	for try := 1; try < openTries && isBusy(err); try++ {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(time.Duration(try) * 100 * time.Millisecond):
			err = s.init(ctx)
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return s, nil
}

// openTries is how often Open tries a database another process holds.
const openTries = 8

// isBusy reports SQLite's "database is locked" and "database table is
// locked".
func isBusy(err error) bool {
	var e sqlite3.Error
	return errors.As(err, &e) && (e.Code == sqlite3.ErrBusy || e.Code == sqlite3.ErrLocked)
}

func (s *Store) init(ctx context.Context) error {
	var fk int
	if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	if fk != 1 {
		return errors.New("foreign keys are not enforced by this SQLite build")
	}
	if err := migrate(ctx, s.db, s.Now); err != nil {
		return err
	}
	_, err := s.PurgeIncomplete(ctx)
	return err
}

// dsn builds the driver's data source name: a file: URI (so that a path
// holding '?' or '#' still names the file) with the per-connection
// settings as query parameters. An absolute Unix path gets an empty
// authority, so that "//x" is not read as a host name. The page cache is
// 16 MiB a connection: the pool opens several (the writer, the reports'
// readers), and 64 MiB each cost a 200-bundle run 180 MB of memory for
// no speed (1,000,000 sockets ingest at the same rate with either).
func dsn(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	if strings.HasPrefix(esc, "/") {
		esc = "//" + esc
	}
	return "file:" + esc + "?_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL&_cache_size=-16384&_busy_timeout=" +
		fmt.Sprint(busyTimeout.Milliseconds())
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// now returns the injected clock's time in UTC.
func (s *Store) now() time.Time { return s.Now().UTC() }

// IntegrityCheck runs SQLite's integrity_check and foreign_key_check and
// returns an error naming what they found, nil for a consistent file.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	rows, err := s.db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		var table string
		var rowid sql.NullInt64
		var parent string
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return fmt.Errorf("foreign key check: %w", err)
		}
		return fmt.Errorf("foreign key check: %s row %d refers to a missing %s row", table, rowid.Int64, parent)
	}
	return rows.Err()
}
