package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// The dst-change scenario (host DST01, Amsterdam): a summer boot at UTC+2
// and a winter boot at UTC+1, each opened by a 6008 whose two SYSTEMTIMEs
// give the offset, each with a BlackBerry Router failure and a netstat and
// tasklist stamped with the host's local time. Between them an October
// boot (opened by a 6008 at UTC+2) ran across the end of DST (25 Oct) and
// crashed at UTC+1. The latest 6008 (winter) gives the case's offset.
var (
	dstSummer       = time.Date(2026, 8, 9, 5, 0, 0, 0, time.UTC)  // the summer boot starts
	dstSummerFail   = time.Date(2026, 8, 10, 7, 0, 0, 0, time.UTC) // 09:00 on the host's clock
	dstSummerLocal  = time.Date(2026, 8, 10, 8, 40, 0, 0, time.UTC)
	dstWinter       = time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC) // the winter boot starts
	dstWinterFail   = dstWinter.Add(2 * time.Minute)
	dstWinterLocal  = time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC) // 06:30 UTC
	dstSummerOffset = 2 * time.Hour
	dstWinterOffset = time.Hour
)

// event6008 is the 6008 a boot logs 30 s after start, saying the previous
// session stopped unexpectedly at lastAlive (UTC) on a host at offset.
func event6008(t *testing.T, start, lastAlive time.Time, offset time.Duration, rec uint64) BootRef {
	t.Helper()
	ev := &parsers.Event{Provider: "EventLog", EventID: 6008, Channel: "System", Time: start.Add(30 * time.Second), RecordID: rec,
		Binary: evtxwrite.SystemTimesHex(lastAlive, offset)}
	m, ok := DecodeBoot(ev)
	if !ok || !m.HasOffset || m.UTCOffset != offset {
		t.Fatalf("6008 does not decode with offset %v: %+v", offset, m)
	}
	return BootRef{Artifact: sysEvtx, Boot: m}
}

type dstOptions struct {
	summer6008  bool          // the summer boot opens with a 6008
	october     bool          // the October boot follows the summer one
	cleanBefore bool          // a clean boot follows the summer one (the summer boot's end shows no offset)
	netstatAug  time.Time     // local capture time of the summer netstat
	zone        time.Duration // the case's offset
	zoneSource  string
}

func dstChange(t *testing.T, o dstOptions) Input {
	boots := []BootRef{boot12(sysEvtx, dstSummer, 1)}
	if o.summer6008 {
		boots = append(boots, event6008(t, dstSummer, dstSummer.Add(-5*time.Minute), dstSummerOffset, 2))
	}
	if o.cleanBefore {
		clean := time.Date(2026, 9, 1, 6, 0, 0, 0, time.UTC)
		boots = append(boots, stop6006(sysEvtx, clean.Add(-time.Minute), 5), boot12(sysEvtx, clean, 6))
	}
	if o.october {
		october := time.Date(2026, 10, 20, 6, 0, 0, 0, time.UTC)
		boots = append(boots, boot12(sysEvtx, october, 7), event6008(t, october, october.Add(-10*time.Minute), dstSummerOffset, 8))
	}
	lastAlive := dstWinter.Add(-8 * time.Hour) // the boot before, after DST ended on 25 Oct
	boots = append(boots, boot12(sysEvtx, dstWinter, 10), event6008(t, dstWinter, lastAlive, dstWinterOffset, 11))
	summerTasklist := o.netstatAug.Add(time.Minute)
	winterTasklist := dstWinterLocal.Add(time.Minute)
	return Input{
		Bundle: "dst-change", Host: "DST01", OSVersion: "10.0.14393",
		UTCOffset: o.zone, HasUTCOffset: true, ZoneSource: o.zoneSource,
		Failures: []FailureRef{
			failure(t, sysEvtx, scmAt(dstSummerFail, 20, 7023, "BlackBerry Router", "BlackBerry Router", "%%10048")),
			failure(t, sysEvtx, scmAt(dstWinterFail, 30, 7023, "BlackBerry Router", "BlackBerry Router", "%%10048")),
		},
		Boots: boots,
		Snapshots: []Snapshot{
			{ID: 1, Artifact: "netstat-ano-aug.txt", Format: parsers.FormatNetstat, CapturedAt: o.netstatAug, CapturedLocal: true, CaptureSource: parsers.CaptureTimestampLine},
			{ID: 2, Artifact: "netstat-ano-nov.txt", Format: parsers.FormatNetstat, CapturedAt: dstWinterLocal, CapturedLocal: true, CaptureSource: parsers.CaptureTimestampLine},
		},
		Processes: []ProcessRef{
			{SnapshotID: 3, Artifact: "tasklist-svc-aug.txt", Line: 9, CapturedAt: summerTasklist, CapturedLocal: true,
				Process: parsers.Process{PID: 2112, Image: "java.exe"}},
			{SnapshotID: 4, Artifact: "tasklist-svc-nov.txt", Line: 9, CapturedAt: winterTasklist, CapturedLocal: true,
				Process: parsers.Process{PID: 1876, Image: "java.exe"}},
		},
		Owners: &fakeOwners{refs: []SocketRef{listen(1, 7, "0.0.0.0:3101", 2112), listen(2, 7, "0.0.0.0:3101", 1876)}},
	}
}

// TestPerBootOffset: each boot's local times are converted with that
// boot's offset. One case-wide offset (either one) puts one of the two
// captures on the wrong side of its failure or in the wrong boot.
func TestPerBootOffset(t *testing.T) {
	logs := dstOptions{summer6008: true, october: true, netstatAug: dstSummerLocal, zone: dstWinterOffset, zoneSource: ZoneFromEvent6008}
	with := func(f func(*dstOptions)) dstOptions { o := logs; f(&o); return o }
	tests := []struct {
		name           string
		opts           dstOptions
		summer, winter Verdict
		summerSnap     string // the snapshot the summer finding rests on
		summerReason   string // a reason of the summer finding
		coverage       string // the utc-offset coverage status
	}{
		{"per_boot", logs, Probable, Confirmed, "netstat-ano-aug.txt",
			"20 min before the failure, in the same boot session", ""},
		{"per_boot_reason_names_the_offset", logs, Probable, Confirmed, "netstat-ano-aug.txt",
			"2026-08-10 08:40:00 on the host's clock, converted with UTC+2, the offset of its boot (EventLog 6008 at the boot's start)", ""},
		{"per_boot_reason_names_the_boots_offset", logs, Probable, Confirmed, "netstat-ano-aug.txt",
			"That boot followed an unexpected shutdown. Its clock ran at UTC+2 (EventLog 6008 at the boot's start).", ""},
		// The latest 6008's offset for the whole case: the summer capture
		// lands 40 min after the failure and is wrongly CONFIRMED.
		{"case_wide_winter_offset", with(func(o *dstOptions) { o.zoneSource = ZoneFromFlag }), Confirmed, Confirmed, "netstat-ano-aug.txt",
			"40 min after the failure", ""},
		// The summer offset for the whole case: the winter capture falls
		// before the winter boot started, in the October boot, and the
		// winter failure loses its CONFIRMED.
		{"case_wide_summer_offset", with(func(o *dstOptions) { o.zone, o.zoneSource = dstSummerOffset, ZoneFromFlag }), Probable, Probable, "netstat-ano-aug.txt",
			"20 min before the failure", ""},
		// ... and without the October boot in the summer boot, where it
		// wrongly CONFIRMS the summer failure with the winter boot's PID.
		{"case_wide_summer_offset_no_october_boot", with(func(o *dstOptions) { o.zone, o.zoneSource, o.october = dstSummerOffset, ZoneFromFlag, false }), Confirmed, Probable, "netstat-ano-nov.txt",
			"101 days after the failure, in the same boot session", ""},
		{"summer_capture_after_failure", with(func(o *dstOptions) { o.netstatAug = dstSummerLocal.Add(50 * time.Minute) }), Confirmed, Confirmed, "netstat-ano-aug.txt",
			"30 min after the failure", ""},
		// Without its own 6008 the summer boot takes the offset the
		// October boot's 6008 shows for its end: still summer time.
		{"summer_6008_removed", with(func(o *dstOptions) { o.summer6008 = false }), Probable, Confirmed, "netstat-ano-aug.txt",
			"converted with UTC+2, the offset of its boot (EventLog 6008 at the boot's end)", ""},
		// Without the October boot the summer boot ran across the end of
		// DST: its 6008 says UTC+2, the winter boot's says UTC+1 for its
		// end. The start's offset is taken, and the reasons and coverage
		// say the other one.
		{"summer_boot_spans_dst_end", with(func(o *dstOptions) { o.october = false }), Probable, Confirmed, "netstat-ano-aug.txt",
			"converted with UTC+2, the offset of its boot (EventLog 6008 at the boot's start); the offset changed during that boot (UTC+1 by its end, the next boot's EventLog 6008 says), so if the time is after the change it is 1 h later", StatusPartial},
		// Only the winter 6008, at the summer boot's end: UTC+1, which
		// is wrong in August (the logs cannot tell).
		{"only_the_winter_6008", with(func(o *dstOptions) { o.summer6008, o.october = false, false }), Confirmed, Confirmed, "netstat-ano-aug.txt",
			"converted with UTC+1, the offset of its boot (EventLog 6008 at the boot's end)", ""},
		// No offset of its own at all: the case's, said in the reasons
		// and in coverage.
		{"summer_boot_without_offset", with(func(o *dstOptions) { o.summer6008, o.october, o.cleanBefore = false, false, true }), Confirmed, Confirmed, "netstat-ano-aug.txt",
			"converted with UTC+1, the case's offset (the case's latest EventLog 6008): its boot shows no offset of its own", StatusPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, cov := analyze(t, dstChange(t, tt.opts))
			var summer, winter *Finding
			for i := range fs {
				switch f := &fs[i]; {
				case f.Port != 3101:
				case f.FailureTime.Equal(dstSummerFail):
					summer = f
				case f.FailureTime.Equal(dstWinterFail):
					winter = f
				}
			}
			if summer == nil || winter == nil {
				t.Fatalf("want a finding for each failure, got %d findings", len(fs))
			}
			if summer.Verdict != tt.summer || summer.Snapshot != tt.summerSnap || !hasReason(*summer, tt.summerReason) {
				t.Errorf("summer: got %s from %s, want %s from %s with reason %q", summer.Verdict, summer.Snapshot, tt.summer, tt.summerSnap, tt.summerReason)
				dumpFinding(t, *summer)
			}
			if winter.Verdict != tt.winter {
				t.Errorf("winter: got %s, want %s", winter.Verdict, tt.winter)
				dumpFinding(t, *winter)
			}
			if summer.OwnerImage != "java.exe" || winter.OwnerImage != "java.exe" {
				t.Errorf("owner images %q, %q: each tasklist must tie to its boot's netstat", summer.OwnerImage, winter.OwnerImage)
			}
			c := coverageOf(cov, CheckUTCOffset)
			if c.Status != tt.coverage {
				t.Errorf("utc-offset coverage %q (%s), want %q", c.Status, c.Reason, tt.coverage)
			}
			if tt.coverage != "" && !strings.Contains(c.Reason, "netstat-ano-aug.txt") {
				t.Errorf("coverage %q does not name the capture that took the case's offset", c.Reason)
			}
		})
	}
}

// TestZoneToUTC finds a local time's boot by each boot's local span.
func TestZoneToUTC(t *testing.T) {
	ss := BuildSessions([]BootRef{
		boot12(sysEvtx, dstSummer, 1), event6008(t, dstSummer, dstSummer.Add(-time.Hour), dstSummerOffset, 2),
		boot12(sysEvtx, dstWinter, 10), event6008(t, dstWinter, dstWinter.Add(-time.Hour), dstWinterOffset, 11),
	})
	z := CaseZone(ss, 3*time.Hour, true, ZoneFromEvent6008)
	tests := []struct {
		name    string
		local   time.Time
		utc     time.Time
		session int
		own     bool
		changed bool // the boot's 6008 and the next boot's differ
	}{
		{"summer", dstSummerLocal, dstSummerLocal.Add(-2 * time.Hour), 0, true, true},
		// 07:30 local at the winter boot's start: its span starts at
		// 07:00 local (06:00 UTC + 1 h).
		{"winter_boot_start_local", dstWinter.Add(90 * time.Minute), dstWinter.Add(30 * time.Minute), 1, true, false},
		// 06:30 local: before the winter span, so the summer boot's (UTC+2).
		{"end_of_summer_boot", dstWinter.Add(30 * time.Minute), dstWinter.Add(-90 * time.Minute), 0, true, true},
		{"before_the_first_boot", dstSummer.Add(-time.Hour), dstSummer.Add(-4 * time.Hour), -1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := z.ToUTC(tt.local)
			if !l.UTC.Equal(tt.utc) || l.Session != tt.session || l.Own != tt.own || l.Changed != tt.changed {
				t.Errorf("ToUTC(%v) = %v session %d own %v changed %v, want %v session %d own %v changed %v",
					tt.local, l.UTC, l.Session, l.Own, l.Changed, tt.utc, tt.session, tt.own, tt.changed)
			}
		})
	}
	fixed := CaseZone(ss, time.Hour, true, ZoneFromFlag).ToUTC(dstSummerLocal)
	if !fixed.UTC.Equal(dstSummerLocal.Add(-time.Hour)) || !fixed.Fixed {
		t.Errorf("--tz must be every boot's offset: %+v", fixed)
	}
	if l := CaseZone(ss, 0, false, "").ToUTC(dstSummerLocal); !l.OK() || l.Offset != dstSummerOffset {
		t.Errorf("a boot's own offset needs no case offset: %+v", l)
	}
	noOffset := BuildSessions([]BootRef{boot12(sysEvtx, dstSummer, 1)})
	if l := CaseZone(noOffset, 0, false, "").ToUTC(dstSummerLocal); l.OK() {
		t.Errorf("no offset known, yet converted: %+v", l)
	}
}

// TestExportFailureAtBootOffset: a failure read from a text export (its
// time the host's wall clock) beside a System log whose 6008s give each
// boot's offset takes the offset of its boot: 09:00 in the summer boot is
// 07:00 UTC, not 08:00 with the case's (winter) offset.
func TestExportFailureAtBootOffset(t *testing.T) {
	in := dstChange(t, dstOptions{summer6008: true, october: true, zone: dstWinterOffset, zoneSource: ZoneFromEvent6008})
	ev := scmAt(time.Date(2026, 8, 10, 9, 0, 0, 0, time.UTC), 0, 7023, "", "BlackBerry Router", "%%10048")
	in.Failures = []FailureRef{failure(t, "Application.csv", ev)}
	in.Failures[0].TimeLocal = true
	got := resolveLocalTimes(in).Failures[0].Failure.Time
	if !got.Equal(dstSummerFail) {
		t.Errorf("export failure at %v, want %v (its boot's UTC+2)", got, dstSummerFail)
	}
	in.Boots = nil // no boot gives an offset: the case's
	if got := resolveLocalTimes(in).Failures[0].Failure.Time; !got.Equal(dstSummerFail.Add(time.Hour)) {
		t.Errorf("without boots: %v, want %v (the case's UTC+1)", got, dstSummerFail.Add(time.Hour))
	}
}
