package reports

import (
	"context"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/store"
)

// longTests reports whether the long tests run: PORTMORTEM_LONG=1, which
// .ci/run sets (-short wins over it).
func longTests() bool {
	return os.Getenv("PORTMORTEM_LONG") == "1" && !testing.Short()
}

// base is when the synthetic cases happen.
var base = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// testArtifact is one artifact of a synthetic case: its description and a
// function that yields its records.
type testArtifact struct {
	info    store.ArtifactInfo
	records func(yield func(parsers.Record) bool)
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "portmortem.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ingest stores a synthetic case, correlates it as analyze does, and
// returns its id.
func ingest(t testing.TB, s *store.Store, bundle string, hf store.HostFacts, arts ...testArtifact) int64 {
	t.Helper()
	ctx := context.Background()
	cw, err := s.BeginCase(ctx, store.CaseInfo{BundleHash: "hash-" + bundle, BundlePath: bundle})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		aw, err := cw.AddArtifact(ctx, a.info)
		if err != nil {
			t.Fatal(err)
		}
		for rec := range a.records {
			// Every event stored, with what correlate decodes from it.
			var err error
			if rec.Kind == parsers.KindEvent {
				err = aw.AddEvent(rec.Line, rec.Offset, rec.Event, correlate.Decode(rec.Event))
			} else {
				err = aw.Add(rec)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := aw.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	in, err := s.Input(ctx, cw.ID())
	if err != nil {
		t.Fatal(err)
	}
	if hf.HasZone {
		in.UTCOffset, in.HasUTCOffset = hf.ZoneOffset, true
	}
	findings, coverage, err := correlate.Analyze(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFindings(ctx, cw.ID(), findings, coverage); err != nil {
		t.Fatal(err)
	}
	if err := cw.SetHostFacts(ctx, cw.ID(), hf); err != nil {
		t.Fatal(err)
	}
	if err := cw.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return cw.ID()
}

func records(recs ...parsers.Record) func(func(parsers.Record) bool) {
	return func(yield func(parsers.Record) bool) {
		for _, r := range recs {
			if !yield(r) {
				return
			}
		}
	}
}

func systemLog(path string, evs ...*parsers.Event) testArtifact {
	var recs []parsers.Record
	for _, ev := range evs {
		recs = append(recs, parsers.Record{Kind: parsers.KindEvent, Offset: int64(ev.RecordID) * 512, Event: ev})
	}
	return testArtifact{
		info:    store.ArtifactInfo{Path: path, Format: parsers.FormatEVTX, ParserVersion: 1, Encoding: parsers.EncBinary, CapturedAt: base.Add(2 * time.Hour), CaptureSource: parsers.CaptureFileModTime},
		records: records(recs...),
	}
}

func netstat(path string, at time.Time, socks ...parsers.Socket) testArtifact {
	return testArtifact{
		info: store.ArtifactInfo{Path: path, Format: parsers.FormatNetstat, ParserVersion: 1, Encoding: parsers.EncUTF8,
			Variant: "anob", CapturedAt: at, CaptureSource: parsers.CaptureFlag},
		records: func(yield func(parsers.Record) bool) {
			for i := range socks {
				if !yield(parsers.Record{Kind: parsers.KindSocket, Line: i + 5, Socket: &socks[i]}) {
					return
				}
			}
		},
	}
}

// scm is a Service Control Manager event with its key name in <Binary>.
func scm(at time.Time, rec uint64, id uint16, key string, params ...string) *parsers.Event {
	ev := &parsers.Event{Provider: "Service Control Manager", EventSource: "Service Control Manager", EventID: id,
		Channel: "System", Time: at, RecordID: rec, Computer: "SRV01"}
	for i, p := range params {
		ev.Data = append(ev.Data, parsers.Field{Name: "param" + string(rune('1'+i)), Value: p})
	}
	if key != "" {
		var b []byte
		for _, u := range utf16.Encode([]rune(key + "\x00")) {
			b = append(b, byte(u), byte(u>>8))
		}
		ev.Binary = strings.ToUpper(hex.EncodeToString(b))
	}
	return ev
}

func boot(at time.Time, rec uint64) *parsers.Event {
	return &parsers.Event{Provider: "EventLog", EventSource: "EventLog", EventID: 6005, Channel: "System", Time: at,
		RecordID: rec, Computer: "SRV01", Message: "The Event log service was started."}
}

func udp(port uint16, pid int, image string) parsers.Socket {
	return parsers.Socket{Proto: parsers.UDP, LocalAddr: netip.MustParseAddr("0.0.0.0"), LocalPort: port, HasPort: true,
		PID: pid, Image: image}
}

// iasCase is the classic case: IAS fails with 10048 after a boot and a
// later netstat -anob shows who holds UDP 1812 — here a process named by
// owner. Extra events may be added to the System log.
func iasCase(t testing.TB, s *store.Store, bundle, owner string, extra ...*parsers.Event) int64 {
	t.Helper()
	evs := append([]*parsers.Event{boot(base, 1),
		scm(base.Add(2*time.Minute), 2, 7023, "IAS", "Internet Authentication Service", "%%10048")}, extra...)
	return ingest(t, s, bundle, store.HostFacts{ZoneOffset: -6 * time.Hour, HasZone: true, ZoneSource: store.ZoneFromSysteminfo,
		TimeZone: "(UTC-06:00) Central Time (US & Canada)", OSName: "Microsoft Windows Server 2003 5.2.3790"},
		systemLog(bundle+"/System.evtx", evs...),
		netstat(bundle+"/netstat-anob.txt", base.Add(30*time.Minute), udp(53, 1640, "dns.exe"), udp(1812, 1640, owner)))
}

// loadModel reads cases from the store into a model, in the order given,
// as cmd does.
func loadModel(t testing.TB, s *store.Store, caseIDs ...int64) *Model {
	t.Helper()
	var cases []*Case
	for _, id := range caseIDs {
		c, err := LoadCase(context.Background(), s, id)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	return NewModel(s, cases...)
}
