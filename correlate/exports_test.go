package correlate

import (
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// exportCase is the event-viewer-csv scenario as an Input: a German Event
// Viewer CSV export (no record numbers, local times, rendered message),
// lsass.exe holding TCP 3101 in a netstat of the same boot. The table
// moves the evidence: the zone known or not, the message's error text,
// the export's boot marker.
func exportCase(t *testing.T, errText string, offset time.Duration, hasOffset, withBoot bool) Input {
	const csv = "System-export.csv"
	local := func(d time.Duration) time.Time { return at(d).Add(offset) } // the host's wall clock
	ev := &parsers.Event{Provider: scmProvider, EventID: 7023, Time: local(90 * time.Second), TimeLocal: true,
		Message: "Der Dienst \"BlackBerry Router\" wurde mit folgendem Fehler beendet: \r\n" + errText}
	f, ok := DecodeFailure(ev)
	if !ok {
		t.Fatal("the rendered 7023 does not decode")
	}
	in := Input{
		Bundle: "event-viewer-csv", Host: "EXP01", OSVersion: "6.1.7601", UTCOffset: offset, HasUTCOffset: hasOffset,
		Failures: []FailureRef{{Artifact: csv, Line: 2, TimeLocal: true, Failure: f}},
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(20 * time.Minute),
			CaptureSource: parsers.CaptureFlag}},
		Processes: []ProcessRef{proc(1, netstat, 12, "lsass.exe", 512, at(20*time.Minute), "Netlogon", "SamSs")},
		Owners:    &fakeOwners{refs: []SocketRef{listen(1, 8, "0.0.0.0:3101", 512)}},
	}
	if withBoot {
		in.Boots = []BootRef{{Artifact: csv, Line: 4, TimeLocal: true, Boot: BootMarker{Kind: BootStart, EventID: 6005,
			Provider: "EventLog", Time: local(41 * time.Second), BootTime: local(41 * time.Second), Message: "The Event log service was started."}}}
	}
	return in
}

func TestExportVerdicts(t *testing.T) {
	const addrInUse = "Normalerweise darf jede Socketadresse (Protokoll, Netzwerkadresse oder Anschluss) nur jeweils einmal verwendet werden."
	tests := []struct {
		name     string
		errText  string
		offset   time.Duration
		has      bool
		withBoot bool
		want     Verdict
	}{
		{"zone_known_confirmed", addrInUse, time.Hour, true, true, Confirmed},
		// The same wall-clock times with the zone unknown: the failure
		// cannot be placed against the snapshot.
		{"zone_unknown_probable", addrInUse, time.Hour, false, true, Probable},
		// A far-off zone puts the failure after the snapshot: a holder
		// seen before the failure does not confirm it.
		{"zone_puts_failure_after_snapshot", addrInUse, -time.Hour, true, true, Probable},
		{"logon_failure_not_port", "Der Dienst konnte wegen einer fehlerhaften Anmeldung nicht gestartet werden. Служба не запущена из-за ошибки входа в систему.", time.Hour, true, true, NotPortRelated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := exportCase(t, tt.errText, tt.offset, tt.has, tt.withBoot)
			if tt.name == "zone_puts_failure_after_snapshot" {
				// The wall clock said 08:01:30; with UTC-01:00 that is
				// 09:01:30 UTC, after the 08:20 netstat.
				in.Failures[0].Failure.Time = at(90 * time.Second)
			}
			fs, _ := analyze(t, in)
			if len(fs) == 0 {
				t.Fatal("no finding")
			}
			f := fs[0]
			if f.Verdict != tt.want {
				dumpFinding(t, f)
				t.Fatalf("verdict %s, want %s", f.Verdict, tt.want)
			}
			if f.Verdict == Confirmed && !hasEvidence(f, "System-export.csv", 2, 0) {
				dumpFinding(t, f)
				t.Error("the evidence does not cite line 2 of the export")
			}
		})
	}
}
