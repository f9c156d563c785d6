package correlate

import (
	"testing"
	"time"
)

func marker(kind BootKind, id uint16, provider string, t time.Time) BootRef {
	return BootRef{Artifact: "System.evtx", Boot: BootMarker{Kind: kind, EventID: id, Provider: provider, Time: t, BootTime: t}}
}

func TestBuildSessions(t *testing.T) {
	kg := "Microsoft-Windows-Kernel-General"
	k12 := func(start time.Time) BootRef {
		b := marker(BootStart, 12, kg, start.Add(25*time.Second))
		b.Boot.BootTime = start
		return b
	}
	ev := func(id uint16, t time.Time) BootRef {
		kind := BootStart
		switch id {
		case 6006:
			kind = BootCleanStop
		case 6008:
			kind = BootDirtyStop
		}
		return marker(kind, id, "EventLog", t)
	}
	k41 := func(t time.Time) BootRef { return marker(BootDirtyStop, 41, "Microsoft-Windows-Kernel-Power", t) }
	k13 := func(t time.Time) BootRef { return marker(BootCleanStop, 13, kg, t) }
	uptime := func(logged time.Time, up time.Duration) BootRef {
		b := marker(BootUptime, 6013, "EventLog", logged)
		b.Boot.Uptime, b.Boot.BootTime = up, logged.Add(-up)
		return b
	}
	d6008 := func(logged, lastAlive time.Time) BootRef {
		b := ev(6008, logged)
		b.Boot.LastAlive = lastAlive
		return b
	}

	type want struct {
		start      time.Time
		source     string
		dirtyEnd   bool
		afterDirty bool
		cleanStop  bool
		lastAlive  time.Time
		nStarts    int
	}
	tests := []struct {
		name  string
		boots []BootRef
		want  []want
	}{
		{"empty", nil, nil},
		{"one_boot_12_6005_6009_dedup", []BootRef{ev(6009, at(70*time.Second)), k12(at(0)), ev(6005, at(71*time.Second))},
			[]want{{start: at(0), source: "Kernel-General 12", nStarts: 3}}},
		{"2003_6005_6009_only", []BootRef{ev(6005, at(time.Second)), ev(6009, at(0))},
			[]want{{start: at(0), source: "EventLog 6009", nStarts: 2}}},
		{"same_log_read_twice", []BootRef{k12(at(0)), k12(at(0)), ev(6005, at(time.Minute)), ev(6005, at(time.Minute))},
			[]want{{start: at(0), source: "Kernel-General 12", nStarts: 4}}},
		{"two_boots_clean", []BootRef{k12(at(0)), ev(6005, at(time.Minute)), k13(at(5 * time.Hour)), ev(6006, at(5*time.Hour+time.Second)), k12(at(5*time.Hour + 3*time.Minute)), ev(6005, at(5*time.Hour+4*time.Minute))},
			[]want{{start: at(0), source: "Kernel-General 12", cleanStop: true, nStarts: 2}, {start: at(5*time.Hour + 3*time.Minute), source: "Kernel-General 12", nStarts: 2}}},
		{"two_fast_reboots_within_window", []BootRef{ev(6009, at(0)), ev(6005, at(time.Second)), ev(6006, at(2*time.Minute)), ev(6009, at(3*time.Minute)), ev(6005, at(3*time.Minute+time.Second))},
			[]want{{start: at(0), source: "EventLog 6009", cleanStop: true, nStarts: 2}, {start: at(3 * time.Minute), source: "EventLog 6009", nStarts: 2}}},
		{"two_12s_without_stop_are_two_boots", []BootRef{k12(at(0)), k12(at(4 * time.Minute))},
			[]want{{start: at(0), source: "Kernel-General 12", nStarts: 1}, {start: at(4 * time.Minute), source: "Kernel-General 12", nStarts: 1}}},
		{"dirty_end_41_and_6008", []BootRef{k12(at(0)), k12(at(10 * time.Hour)), k41(at(10*time.Hour + 40*time.Second)), d6008(at(10*time.Hour+time.Minute), at(9*time.Hour+50*time.Minute))},
			[]want{{start: at(0), source: "Kernel-General 12", dirtyEnd: true, lastAlive: at(9*time.Hour + 50*time.Minute), nStarts: 1},
				{start: at(10 * time.Hour), source: "Kernel-General 12", afterDirty: true, nStarts: 3}}},
		{"dirty_marker_alone_starts_a_session", []BootRef{k41(at(time.Hour))},
			[]want{{start: at(time.Hour), source: "Kernel-Power 41", afterDirty: true, nStarts: 1}}},
		{"uptime_6013_gives_boot_time", []BootRef{uptime(at(4*time.Hour), 4*time.Hour), uptime(at(28*time.Hour), 28*time.Hour)},
			[]want{{start: at(0), source: "EventLog 6013", nStarts: 2}}},
		{"uptime_joins_the_12_boot", []BootRef{k12(at(0)), uptime(at(4*time.Hour), 4*time.Hour-3*time.Second)},
			[]want{{start: at(0), source: "Kernel-General 12", nStarts: 2}}},
		{"zero_times_ignored", []BootRef{marker(BootStart, 6005, "EventLog", time.Time{}), ev(6006, time.Time{})}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := BuildSessions(tt.boots)
			if got, want := len(ss), len(tt.want); got != want {
				t.Fatalf("got %d sessions, want %d: %+v", got, want, ss)
			}
			for i, w := range tt.want {
				s := ss[i]
				if s.Index != i || !s.Start.Equal(w.start) || s.StartSource != w.source || s.DirtyEnd != w.dirtyEnd || s.AfterDirty != w.afterDirty ||
					s.CleanStop.IsZero() == w.cleanStop || !s.LastAlive.Equal(w.lastAlive) || len(s.Starts) != w.nStarts {
					t.Errorf("session %d = {index %d start %v %q dirtyEnd %v afterDirty %v clean %v lastAlive %v starts %d}, want %+v",
						i, s.Index, s.Start, s.StartSource, s.DirtyEnd, s.AfterDirty, !s.CleanStop.IsZero(), s.LastAlive, len(s.Starts), w)
				}
				if i+1 < len(ss) && !s.End.Equal(ss[i+1].Start) {
					t.Errorf("session %d ends at %v, want the next start %v", i, s.End, ss[i+1].Start)
				}
			}
			if n := len(ss); n > 0 && !ss[n-1].End.IsZero() {
				t.Errorf("the last session has an end: %v", ss[n-1].End)
			}
		})
	}
}

func TestSessionsAt(t *testing.T) {
	ss := BuildSessions([]BootRef{
		marker(BootStart, 6005, "EventLog", at(0)),
		marker(BootStart, 6005, "EventLog", at(24*time.Hour)),
	})
	tests := []struct {
		name string
		t    time.Time
		want int
	}{
		{"before_the_first_marker", at(-time.Minute), -1},
		{"zero_time", time.Time{}, -1},
		{"at_first_start", at(0), 0},
		{"inside_first", at(3 * time.Hour), 0},
		{"at_second_start", at(24 * time.Hour), 1},
		{"long_after", at(900 * time.Hour), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ss.At(tt.t); got != tt.want {
				t.Errorf("At(%v) = %d, want %d", tt.t, got, tt.want)
			}
		})
	}
	if got := Sessions(nil).At(at(0)); got != -1 {
		t.Errorf("empty sessions: At = %d, want -1", got)
	}
}

// TestFailureBeforeFirstMarker: a failure logged before the first boot
// marker (the log was cleared, or the boot's start is missing) has no
// session, and a snapshot after a later boot start is "a later boot".
func TestFailureBeforeFirstMarker(t *testing.T) {
	in := sbs2003IASDNS(t)
	in.Boots = boot2003(sysEvt, at(10*time.Minute), 500) // the only boot starts after the failure
	fs, _ := analyze(t, in)
	f := findPort(t, fs, "UDP", 1812)
	if f.Verdict != Probable || !hasReason(f, "before the first boot marker") || !hasReason(f, "later boot session") {
		t.Errorf("got %s, want PROBABLE placed before the first boot marker, snapshot in a later boot", f.Verdict)
		dumpFinding(t, f)
	}
}
