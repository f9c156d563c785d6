package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

// testNow is the injected clock of the test stores.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "portmortem.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return testNow }
	t.Cleanup(func() { s.Close() })
	return s
}

// testArtifact is one artifact to ingest: its info, records and errors.
// Its events are stored when correlate decodes them, or all of them with
// keepAll, and only counted otherwise, as an ingest does.
type testArtifact struct {
	info    ArtifactInfo
	recs    []parsers.Record
	errs    []*parsers.ParseError
	keepAll bool
}

// addRecord stores one record as an ingest does: an event correlate
// decodes (or every event with keepAll) through AddEvent with what was
// decoded, another event only counted in counts, any other record
// through Add.
func addRecord(a *ArtifactWriter, r parsers.Record, keepAll bool, counts *EventCounts) error {
	if r.Kind != parsers.KindEvent || r.Event == nil {
		return a.Add(r)
	}
	d := correlate.Decode(r.Event)
	if !d.Kept() && !keepAll {
		counts.Add(r.Event)
		return nil
	}
	return a.AddEvent(r.Line, r.Offset, r.Event, d)
}

// addArtifact writes one artifact and commits it.
func addArtifact(t testing.TB, c *CaseWriter, ta testArtifact) int64 {
	t.Helper()
	ctx := context.Background()
	a, err := c.AddArtifact(ctx, ta.info)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback()
	var counts EventCounts
	for _, r := range ta.recs {
		if err := addRecord(a, r, ta.keepAll, &counts); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AddCounts(&counts); err != nil {
		t.Fatal(err)
	}
	for _, pe := range ta.errs {
		if err := a.AddError(pe); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	return a.ID()
}

// ingest writes a whole case and commits it.
func ingest(t testing.TB, s *Store, info CaseInfo, arts ...testArtifact) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := s.BeginCase(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	for _, ta := range arts {
		addArtifact(t, c, ta)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return c.ID()
}

// count returns the number of rows of a table (or a WHERE clause on it).
func count(t testing.TB, s *Store, from string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM "+from, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", from, err)
	}
	return n
}

func TestOpenPragmas(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	// Every pooled connection must enforce foreign keys, not only the
	// first: hold three at once.
	for i := range 3 {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var fk, busy int
		var mode string
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if fk != 1 || mode != "wal" || busy != int(busyTimeout.Milliseconds()) {
			t.Errorf("conn %d: foreign_keys=%d journal_mode=%s busy_timeout=%d", i, fk, mode, busy)
		}
	}
}

func TestOpenPathWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "odd?name#1%.db")
	s, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(p); err != nil {
		t.Errorf("database not at the literal path: %v", err)
	}
}

func TestMigrationsRerun(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "m.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s, err := Open(ctx, p)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := migrate(ctx, s.db, time.Now); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
		if got, want := count(t, s, "schema_migrations"), len(ms); got != want {
			t.Errorf("open %d: %d migrations recorded, want %d", i, got, want)
		}
		if i == 0 {
			ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "b"})
		}
		if got := count(t, s, "cases"); got != 1 {
			t.Errorf("open %d: %d cases, want the one kept", i, got)
		}
		s.Close()
	}
}

func TestMigrationNewerRefused(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "m.db")
	s, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("INSERT INTO schema_migrations VALUES (9999, '9999_future', 'x')"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, p)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: err = %v, want a refusal", err)
	}
}

func TestTimeLayoutSortsAsTime(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	times := []time.Time{base, base.Add(500 * time.Millisecond), base.Add(time.Second), base.Add(time.Second + 100)}
	for i := 1; i < len(times); i++ {
		a, b := formatTime(times[i-1]), formatTime(times[i])
		if !(a < b) {
			t.Errorf("%s does not sort before %s", a, b)
		}
	}
	for _, tt := range times {
		back, err := parseTime(nullString(formatTime(tt)))
		if err != nil || !back.Equal(tt) {
			t.Errorf("round trip of %v: %v, %v", tt, back, err)
		}
	}
	if got := timeArg(time.Date(30827, 1, 1, 0, 0, 0, 0, time.UTC)); got != nil {
		t.Errorf("year 30827 stored as %v, want NULL", got)
	}
	if got := timeArg(time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600))); got != "2026-01-01T00:00:00.000000000Z" {
		t.Errorf("non-UTC time stored as %v", got)
	}
}

func TestErrorsWrapSentinels(t *testing.T) {
	s := openTest(t)
	_, err := s.CasesByHash(context.Background(), "nope")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("CasesByHash of an unknown hash: %v, want ErrNotFound", err)
	}
	_, err = s.Input(context.Background(), 42)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Input of an unknown case: %v, want ErrNotFound", err)
	}
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

// TestIsBusy: Open tries again on SQLite's "database is locked" (and a
// locked table), wrapped as init wraps it, and on nothing else.
func TestIsBusy(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("migrate: %w", sqlite3.Error{Code: sqlite3.ErrBusy}), true},
		{fmt.Errorf("purge: %w", sqlite3.Error{Code: sqlite3.ErrLocked}), true},
		{fmt.Errorf("migrate: %w", sqlite3.Error{Code: sqlite3.ErrCorrupt}), false},
		{errors.New("database is locked"), false},
		{nil, false},
	} {
		if got := isBusy(tt.err); got != tt.want {
			t.Errorf("isBusy(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
