package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

var eventColumns = []string{
	"artifact_id", "record_id", "line", "byte_offset", "channel", "provider", "provider_guid", "event_source",
	"event_id", "qualifiers", "level", "event_time", "computer", "data", "binary_hex", "message", "recovered",
	"event_time_local",
}

// dataField is one element of events.data: both keys always present, so
// that json_extract(data, '$[0].name') means the same on every row.
type dataField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// eventKey is one row of event_counts.
type eventKey struct {
	channel, provider string
	id                uint16
}

// maxEventKeys bounds the distinct channel/provider/ID triples counted per
// artifact; a damaged log could otherwise make a map as large as itself.
// Events beyond are counted under otherEvents.
const maxEventKeys = 10000

// otherEvents is the event_counts row for events past maxEventKeys.
var otherEvents = eventKey{provider: "(other)"}

func (a *ArtifactWriter) eventArgs(line int, offset int64, ev *parsers.Event) ([]any, error) {
	data := make([]dataField, len(ev.Data))
	for i, d := range ev.Data {
		data[i] = dataField(d)
	}
	js, err := jsonText(data)
	if err != nil {
		return nil, err
	}
	utc, wall := timeArgs(ev.Time, ev.TimeLocal)
	return []any{a.id, recordIDArg(ev.RecordID), line, offset, ev.Channel, ev.Provider, ev.ProviderGUID,
		ev.EventSource, ev.EventID, ev.Qualifiers, ev.Level, utc, ev.Computer, js, ev.Binary,
		ev.Message, ev.Recovered, wall}, nil
}

// EventCounts counts events by channel, provider and ID for
// event_counts, without storing them: an ingest counts there the events
// correlation has no use for, in the parser's goroutine, so that a log of
// a million events sends the single writer only the few hundred it
// stores (ArtifactWriter.AddEvent). Hand it to ArtifactWriter.AddCounts
// before Commit. For a log of more than maxEventKeys kinds the other
// kinds are folded into "(other)". The zero value is ready to use; it is
// not safe for concurrent use.
type EventCounts struct {
	n      int
	counts map[eventKey]int64
}

// Add counts one event.
func (c *EventCounts) Add(ev *parsers.Event) {
	c.n++
	if c.counts == nil {
		c.counts = map[eventKey]int64{}
	}
	countEvent(c.counts, ev.Channel, ev.Provider, ev.EventID, 1)
}

// Len is the number of events counted.
func (c *EventCounts) Len() int { return c.n }

// AddCounts adds the events c counted to the artifact's records and
// event_counts, and empties c.
func (a *ArtifactWriter) AddCounts(c *EventCounts) error {
	if a.err != nil {
		return a.err
	}
	if a.done {
		return ErrClosed
	}
	if a.counts == nil {
		a.counts = map[eventKey]int64{}
	}
	// In a stable order, so that which kinds fall under otherEvents in a
	// log of more than maxEventKeys kinds does not vary from run to run.
	keys := make([]eventKey, 0, len(c.counts))
	for k := range c.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		if k != otherEvents {
			countEvent(a.counts, k.channel, k.provider, k.id, c.counts[k])
		}
	}
	if n := c.counts[otherEvents]; n > 0 { // already folded: added last, not as a kind of its own
		a.counts[otherEvents] += n
	}
	a.info.Records += c.n
	c.counts, c.n = nil, 0
	return nil
}

// AddEvent stores one event, counted in event_counts, with the rows
// correlate decoded from it (correlate.Decode): a failure, a boot marker,
// both or neither. The store does not decode events itself. line and
// offset say where the event was read (an XML export's line, a binary
// log's byte offset).
func (a *ArtifactWriter) AddEvent(line int, offset int64, ev *parsers.Event, d correlate.Decoded) error {
	if err := a.usable(); err != nil {
		return err
	}
	if ev == nil {
		return a.fail(errors.New("event record without its event"))
	}
	if err := a.addEvent(line, offset, ev, d); err != nil {
		return a.fail(err)
	}
	a.info.Records++
	return nil
}

func (a *ArtifactWriter) addEvent(line int, offset int64, ev *parsers.Event, d correlate.Decoded) error {
	a.count(ev)
	args, err := a.eventArgs(line, offset, ev)
	if err != nil {
		return err
	}
	if !d.Kept() {
		return a.events.add(a.ctx, args...)
	}
	if a.eventRow == nil {
		if a.eventRow, err = a.tx.PrepareContext(a.ctx, a.events.insertSQL(1)+" RETURNING id"); err != nil {
			return err
		}
	}
	var rowID int64
	if err := a.eventRow.QueryRowContext(a.ctx, args...).Scan(&rowID); err != nil {
		return err
	}
	if d.Failure != nil {
		if err := a.addFailure(rowID, d.Failure, ev.TimeLocal); err != nil {
			return err
		}
	}
	if d.Boot != nil {
		return a.addBoot(rowID, d.Boot, ev.TimeLocal)
	}
	return nil
}

func (a *ArtifactWriter) count(ev *parsers.Event) {
	if a.counts == nil {
		a.counts = map[eventKey]int64{}
	}
	countEvent(a.counts, ev.Channel, ev.Provider, ev.EventID, 1)
}

// countEvent adds n events of a kind to counts, under otherEvents once
// counts holds maxEventKeys kinds.
func countEvent(counts map[eventKey]int64, channel, provider string, id uint16, n int64) {
	k := eventKey{channel, provider, id}
	if _, ok := counts[k]; !ok && len(counts) >= maxEventKeys {
		k = otherEvents
	}
	counts[k] += n
}

// flushCounts inserts event_counts, in a stable order.
func (a *ArtifactWriter) flushCounts() error {
	if len(a.counts) == 0 {
		return nil
	}
	keys := make([]eventKey, 0, len(a.counts))
	for k := range a.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	b := newBatch(a.tx, "event_counts", "artifact_id", "channel", "provider", "event_id", "count")
	for _, k := range keys {
		if err := b.add(a.ctx, a.id, k.channel, k.provider, k.id, a.counts[k]); err != nil {
			return err
		}
	}
	return b.flush(a.ctx)
}

func compareKeys(x, y eventKey) int {
	if c := strings.Compare(x.channel, y.channel); c != 0 {
		return c
	}
	if c := strings.Compare(x.provider, y.provider); c != 0 {
		return c
	}
	return int(x.id) - int(y.id)
}

const failureColumns = `artifact_id, event_row_id, kind, event_time, channel, provider, event_id, record_id,
	recovered, service, service_key, dependency, error_code, has_error, service_specific, error_class, proto,
	addr, port, has_port, message, event_time_local`

// addFailure stores a decoded failure; local says that its time is the
// host's wall clock (the event's TimeLocal).
func (a *ArtifactWriter) addFailure(rowID int64, f *correlate.Failure, local bool) error {
	if a.failure == nil {
		st, err := a.tx.PrepareContext(a.ctx, "INSERT INTO failures ("+failureColumns+") VALUES ("+
			placeholders(22)+")")
		if err != nil {
			return err
		}
		a.failure = st
	}
	utc, wall := timeArgs(f.Time, local)
	_, err := a.failure.ExecContext(a.ctx, a.id, rowID, string(f.Kind), utc, f.Channel, f.Provider,
		f.EventID, recordIDArg(f.RecordID), f.Recovered, f.Service, f.ServiceKey, f.Dependency, f.ErrorCode,
		f.HasError, f.ServiceSpecific, string(f.Class), string(f.Proto), addrText(f.Addr), f.Port, f.HasPort,
		f.Message, wall)
	return err
}

const bootColumns = `artifact_id, event_row_id, kind, event_time, channel, provider, event_id, record_id,
	recovered, boot_time, last_alive, utc_offset_seconds, uptime_seconds, os_version, message,
	event_time_local, boot_time_local`

// addBoot stores a decoded boot marker; local says that its times are the
// host's wall clock (the event's TimeLocal). LastAlive comes from 6008's
// UTC SYSTEMTIME and is never local.
func (a *ArtifactWriter) addBoot(rowID int64, b *correlate.BootMarker, local bool) error {
	if a.boot == nil {
		st, err := a.tx.PrepareContext(a.ctx, "INSERT INTO boots ("+bootColumns+") VALUES ("+placeholders(17)+")")
		if err != nil {
			return err
		}
		a.boot = st
	}
	utc, wall := timeArgs(b.Time, local)
	bootUTC, bootWall := timeArgs(b.BootTime, local)
	_, err := a.boot.ExecContext(a.ctx, a.id, rowID, string(b.Kind), utc, b.Channel, b.Provider,
		b.EventID, recordIDArg(b.RecordID), b.Recovered, bootUTC, timeArg(b.LastAlive),
		offsetArg(b.UTCOffset, b.HasOffset), int64(b.Uptime/time.Second), b.OSVersion, b.Message, wall, bootWall)
	return err
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// failureRefs reads the decoded failures of a case in ingest order.
func failureRefs(ctx context.Context, q querier, caseID int64) ([]correlate.FailureRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.path, e.line, f.kind, COALESCE(f.event_time, f.event_time_local), f.event_time_local IS NOT NULL, f.channel, f.provider, f.event_id,
		f.record_id, f.recovered, f.service, f.service_key, f.dependency, f.error_code, f.has_error,
		f.service_specific, f.error_class, f.proto, f.addr, f.port, f.has_port, f.message
		FROM failures f JOIN artifacts a ON a.id = f.artifact_id JOIN events e ON e.id = f.event_row_id
		WHERE a.case_id = ? ORDER BY a.id, f.id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.FailureRef
	for rows.Next() {
		var r correlate.FailureRef
		f := &r.Failure
		var kind, class, proto, addr string
		var t sql.NullString
		var rid int64
		if err := rows.Scan(&r.Artifact, &r.Line, &kind, &t, &r.TimeLocal, &f.Channel, &f.Provider, &f.EventID, &rid, &f.Recovered,
			&f.Service, &f.ServiceKey, &f.Dependency, &f.ErrorCode, &f.HasError, &f.ServiceSpecific, &class,
			&proto, &addr, &f.Port, &f.HasPort, &f.Message); err != nil {
			return nil, err
		}
		f.Kind, f.Class, f.Proto, f.RecordID = correlate.FailureKind(kind), correlate.ErrorClass(class), parsers.Proto(proto), uint64(rid)
		if f.Time, err = parseStoredTime(t); err != nil {
			return nil, err
		}
		if f.Addr, err = parseAddr(addr); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// bootRefs reads the boot markers of a case in ingest order.
func bootRefs(ctx context.Context, q querier, caseID int64) ([]correlate.BootRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.path, e.line, b.kind, COALESCE(b.event_time, b.event_time_local),
		b.event_time_local IS NOT NULL OR b.boot_time_local IS NOT NULL, b.channel, b.provider, b.event_id,
		b.record_id, b.recovered, COALESCE(b.boot_time, b.boot_time_local), b.last_alive, b.utc_offset_seconds, b.uptime_seconds,
		b.os_version, b.message
		FROM boots b JOIN artifacts a ON a.id = b.artifact_id JOIN events e ON e.id = b.event_row_id
		WHERE a.case_id = ? ORDER BY a.id, b.id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.BootRef
	for rows.Next() {
		var r correlate.BootRef
		b := &r.Boot
		var kind string
		var t, boot, alive sql.NullString
		var rid, uptime int64
		var off sql.NullInt64
		if err := rows.Scan(&r.Artifact, &r.Line, &kind, &t, &r.TimeLocal, &b.Channel, &b.Provider, &b.EventID, &rid, &b.Recovered,
			&boot, &alive, &off, &uptime, &b.OSVersion, &b.Message); err != nil {
			return nil, err
		}
		b.Kind, b.RecordID, b.Uptime = correlate.BootKind(kind), uint64(rid), time.Duration(uptime)*time.Second
		b.UTCOffset, b.HasOffset = scanOffset(off)
		if b.Time, err = parseStoredTime(t); err != nil {
			return nil, err
		}
		if b.BootTime, err = parseStoredTime(boot); err != nil {
			return nil, err
		}
		if b.LastAlive, err = parseTime(alive); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
