package reports

import (
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
	"github.com/portmortem/portmortem/store"
)

// TestCaseClock: with a summer boot whose 6008 says UTC+2 in a case at
// UTC+1, a UTC time of that boot is shown at UTC+2 with that label; a time
// outside it at the case's UTC+1; a time still stored as the host's wall
// clock (not converted at commit) as written, labelled with the case's
// offset it was converted with; --tz keeps one offset for all.
func TestCaseClock(t *testing.T) {
	start := time.Date(2026, 8, 9, 5, 0, 0, 0, time.UTC)
	ev := &parsers.Event{Provider: "EventLog", EventID: 6008, Channel: "System", Time: start.Add(30 * time.Second), RecordID: 2,
		Binary: evtxwrite.SystemTimesHex(start.Add(-5*time.Minute), 2*time.Hour)}
	m, ok := correlate.DecodeBoot(ev)
	if !ok || !m.HasOffset {
		t.Fatalf("6008 does not decode with an offset: %+v", m)
	}
	k12, ok := correlate.DecodeBoot(&parsers.Event{Provider: "Microsoft-Windows-Kernel-General", EventID: 12, Channel: "System", Time: start.Add(20 * time.Second), RecordID: 1,
		Data: []parsers.Field{{Name: "StartTime", Value: start.Format(time.RFC3339Nano)}}})
	if !ok {
		t.Fatal("Kernel-General 12 does not decode")
	}
	boots := []correlate.BootRef{{Artifact: "System.evtx", Boot: k12}, {Artifact: "System.evtx", Boot: m}}
	summer, before := time.Date(2026, 8, 10, 7, 0, 0, 0, time.UTC), time.Date(2026, 8, 1, 7, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		source              string
		summer, before, loc string
	}{
		{store.ZoneFromEvent6008, "2026-08-10 09:00:00 UTC+02:00", "2026-08-01 08:00:00 UTC+01:00", "2026-08-10 10:00:00 UTC+01:00"},
		{store.ZoneFromFlag, "2026-08-10 08:00:00 UTC+01:00", "2026-08-01 08:00:00 UTC+01:00", "2026-08-10 10:00:00 UTC+01:00"},
	} {
		c := &Case{Zone: Zone{Offset: time.Hour, Known: true, Source: tt.source}, Boots: boots}
		c.setClock()
		if got := c.formatTime(summer, false); got != tt.summer {
			t.Errorf("%s: summer time %q, want %q", tt.source, got, tt.summer)
		}
		if got := c.formatTime(before, false); got != tt.before {
			t.Errorf("%s: time before the boot %q, want %q", tt.source, got, tt.before)
		}
		// 10:00 on the host's clock, stored local: converted with UTC+1.
		if got := c.formatTime(time.Date(2026, 8, 10, 10, 0, 0, 0, time.UTC), true); got != tt.loc {
			t.Errorf("%s: local time %q, want %q", tt.source, got, tt.loc)
		}
	}
}
