package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// timeLayout is RFC 3339 in UTC with all nine fractional digits, so that
// every stored time has the same width and text order is time order
// (time.RFC3339Nano drops trailing zeros, and "…05Z" sorts after "…05.5Z").
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// formatTime renders t for a TEXT time column.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// timeArg is the column value for t: NULL for the zero time and for times
// RFC 3339 cannot write (years outside 0000–9999, which only damaged
// input produces).
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil
	}
	return formatTime(t)
}

// localLayout is a wall-clock time of the host whose zone is unknown, in
// the *_local columns: timeLayout without the Z, which would claim UTC.
const localLayout = "2006-01-02T15:04:05.000000000"

// localTimeArg is the *_local column value for a wall-clock time (its
// clock as given, in whatever location it carries): NULL for the zero
// time and for years RFC 3339 cannot write.
func localTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return nil
	}
	return t.Format(localLayout)
}

// timeArgs are the values of a time's pair of columns (UTC, local): a
// local time goes in the local column only, a UTC time in the UTC column
// only.
func timeArgs(t time.Time, local bool) (utc, wall any) {
	if local {
		return nil, localTimeArg(t)
	}
	return timeArg(t), nil
}

// parseStoredTime reads COALESCE(utc, local) of a pair of time columns:
// RFC 3339 UTC text, or local text without a zone, which comes back as
// that wall clock with the UTC location (the convention of the *Local
// flags); NULL gives the zero time.
func parseStoredTime(ns sql.NullString) (time.Time, error) {
	if !ns.Valid || ns.String == "" || strings.HasSuffix(ns.String, "Z") {
		return parseTime(ns)
	}
	t, err := time.Parse(localLayout, ns.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad local time %q: %w", ns.String, err)
	}
	return t, nil
}

// parseTime reads a TEXT time column; NULL gives the zero time.
func parseTime(ns sql.NullString) (time.Time, error) {
	if !ns.Valid || ns.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, ns.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q: %w", ns.String, err)
	}
	return t.UTC(), nil
}

// addrText renders an IP address column: "" for the zero Addr.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// parseAddr reads an IP address column.
func parseAddr(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad address %q: %w", s, err)
	}
	return a, nil
}

// joinList and splitList store service names comma-joined, as tasklist
// /svc prints them (service key names hold no commas).
func joinList(l []string) string { return strings.Join(l, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// jsonText renders v for a JSON TEXT column, without HTML escaping so the
// text stays readable in a SQL shell. A nil slice is stored as [].
func jsonText(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	out := strings.TrimSuffix(b.String(), "\n")
	if out == "null" {
		out = "[]"
	}
	return out, nil
}

// parseJSONList decodes a JSON array column into *dst, leaving it nil
// for an empty array so that nil slices round-trip.
func parseJSONList[T any](s string, dst *[]T) error {
	var v []T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return fmt.Errorf("bad JSON %.40q: %w", s, err)
	}
	if len(v) == 0 {
		v = nil
	}
	*dst = v
	return nil
}

// recordIDArg stores an event record ID. SQL integers are signed 64-bit:
// an ID of 2^63 or more (only damaged logs have one) is stored with the
// same bits, as a negative number, and reads back unchanged.
func recordIDArg(id uint64) int64 { return int64(id) }

// offsetArg is the column value for a UTC offset: NULL when unknown.
func offsetArg(d time.Duration, known bool) any {
	if !known {
		return nil
	}
	return int64(d.Round(time.Second) / time.Second)
}

// scanOffset reads a UTC offset column.
func scanOffset(n sql.NullInt64) (time.Duration, bool) {
	if !n.Valid {
		return 0, false
	}
	return time.Duration(n.Int64) * time.Second, true
}
