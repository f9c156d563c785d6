package correlate

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// Issue 12, items 3 and 4: one snapshot in several captures, and the bind
// time deciding who was first. The four scenarios of
// cmd/portmortem/scenarios_captures_test.go as pure Input values.

// sqlListenFailure is SQL Server's 26023 for port with the 17182 that
// follows it.
func sqlListenFailure(t *testing.T, provider, port string, when time.Time, rec uint64) []FailureRef {
	ev := &parsers.Event{Provider: provider, EventID: 26023, Channel: "Application", Time: when, RecordID: rec,
		Data: []parsers.Field{{Value: "Server TCP provider failed to listen on [ 'any' <ipv4> " + port + "]. Tcp port is already in use."}}}
	ev2 := &parsers.Event{Provider: provider, EventID: 17182, Channel: "Application", Time: when, RecordID: rec + 1,
		Data: []parsers.Field{{Value: "TDSSNIClient initialization failed with error 0x2740, status code 0xa. Reason: Unable to initialize the TCP/IP listener. Only one usage of each socket address (protocol/network address/port) is normally permitted."}}}
	return []FailureRef{failure(t, "Application.evtx", ev), failure(t, "Application.evtx", ev2)}
}

// apacheBindFailure is Apache's 3299 make_sock error for addr.
func apacheBindFailure(t *testing.T, addr string, when time.Time, rec uint64) FailureRef {
	return failure(t, "Application.evtx", &parsers.Event{Provider: "Apache Service", EventID: 3299, Channel: "Application", Time: when, RecordID: rec, Data: []parsers.Field{
		{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
		{Value: "(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : AH00072: make_sock: could not bind to address " + addr}}})
}

func bound(snap int64, line int, local string, pid int) SocketRef {
	return sock(snap, line, parsers.TCP, local, "0.0.0.0:0", parsers.StateBound, pid)
}

func withoutSnapshot(in Input, artifact string) Input {
	in.Snapshots = slices.DeleteFunc(slices.Clone(in.Snapshots), func(s Snapshot) bool { return s.Artifact == artifact })
	return in
}

func movedSnapshot(in Input, artifact string, d time.Duration) Input {
	in.Snapshots = slices.Clone(in.Snapshots)
	for i := range in.Snapshots {
		if in.Snapshots[i].Artifact == artifact {
			in.Snapshots[i].CapturedAt = in.Snapshots[i].CapturedAt.Add(d)
		}
	}
	return in
}

// anoqBoundHolder (APP02): SQL Server cannot listen on TCP 1433; netstat
// -ano shows nobody there, netstat -anoq 40 s later shows a BOUND socket
// of a backup agent on 0.0.0.0:1433.
func anoqBoundHolder(t *testing.T) Input {
	return Input{
		Bundle: "anoq-bound-holder", Host: "APP02", OSVersion: "10.0.14393",
		Failures: sqlListenFailure(t, "MSSQLSERVER", "1433", at(90*time.Second), 4100),
		Boots:    []BootRef{boot12(sysEvtx, at(0), 4000)},
		Snapshots: []Snapshot{
			{ID: 1, Artifact: "netstat-ano.txt", Format: parsers.FormatNetstat, CapturedAt: at(10 * time.Minute), CaptureSource: parsers.CaptureTimestampLine},
			{ID: 2, Artifact: "netstat-anoq.txt", Format: parsers.FormatNetstat, CapturedAt: at(10*time.Minute + 40*time.Second), CaptureSource: parsers.CaptureTimestampLine},
		},
		Processes: []ProcessRef{
			proc(3, tasklist, 12, "sqlservr.exe", 2000, at(11*time.Minute), "MSSQLSERVER"),
			proc(3, tasklist, 13, "bkagent.exe", 3100, at(11*time.Minute), "BackupAgent"),
		},
		Owners: &fakeOwners{refs: []SocketRef{
			listen(1, 5, "0.0.0.0:135", 900), listen(2, 5, "0.0.0.0:135", 900),
			bound(2, 9, "0.0.0.0:1433", 3100),
		}},
	}
}

// capturesDisagree (WEB03): Apache cannot bind 0.0.0.0:443; netstat
// -anob names PID 2400 vmware-hostd.exe, the tasklist taken with the
// Get-NetTCPConnection capture 50 s later names it nginx.exe.
func capturesDisagree(t *testing.T) Input {
	nb := listen(1, 7, "0.0.0.0:443", 2400)
	nb.Socket.Image = "vmware-hostd.exe"
	ps := listen(2, 4, "0.0.0.0:443", 2400)
	return Input{
		Bundle: "captures-disagree", Host: "WEB03", OSVersion: "10.0.17763",
		Failures: []FailureRef{apacheBindFailure(t, "0.0.0.0:443", at(3*time.Minute), 820)},
		Boots:    []BootRef{boot12(sysEvtx, at(0), 7000)},
		Snapshots: []Snapshot{
			{ID: 1, Artifact: "netstat-anob.txt", Format: parsers.FormatNetstat, CapturedAt: at(20 * time.Minute), CaptureSource: parsers.CaptureTimestampLine},
			{ID: 2, Artifact: "nettcp_20260302_082050.csv", Format: parsers.FormatPSNetTCP, CapturedAt: at(20*time.Minute + 50*time.Second), CaptureSource: parsers.CaptureFileName},
		},
		Processes: []ProcessRef{
			{SnapshotID: 1, Artifact: "netstat-anob.txt", Line: 8, Process: parsers.Process{PID: 2400, Image: "vmware-hostd.exe"}},
			proc(3, tasklist, 14, "nginx.exe", 2400, at(21*time.Minute)),
		},
		Owners: &fakeOwners{refs: []SocketRef{nb, ps}},
	}
}

// psBindTime: Apache cannot bind 0.0.0.0:80; Get-NetTCPConnection, an
// hour later, shows PID 5200 listening on it with CreationTime created
// (the host's local time, UTC here).
func psBindTime(t *testing.T, bundle, host string, created time.Time) Input {
	s := listen(1, 3, "0.0.0.0:80", 5200)
	s.Socket.CreatedAt, s.Socket.CreatedLocal = created, true
	return Input{
		Bundle: bundle, Host: host, OSVersion: "10.0.14393", HasUTCOffset: true,
		Failures:  []FailureRef{apacheBindFailure(t, "0.0.0.0:80", at(2*time.Minute), 830)},
		Boots:     []BootRef{boot12(sysEvtx, at(0), 8000)},
		Snapshots: []Snapshot{{ID: 1, Artifact: "nettcp_20260302_090000.csv", Format: parsers.FormatPSNetTCP, CapturedAt: at(time.Hour), CaptureSource: parsers.CaptureFileName}},
		Processes: []ProcessRef{proc(2, tasklist, 15, "javaw.exe", 5200, at(time.Hour+time.Minute))},
		Owners:    &fakeOwners{refs: []SocketRef{listen(1, 2, "0.0.0.0:135", 900), s}},
	}
}

func boundAfterFailure(t *testing.T) Input {
	return psBindTime(t, "bound-after-failure", "WEB04", at(20*time.Minute))
}

func boundBeforeFailure(t *testing.T) Input {
	return psBindTime(t, "bound-before-failure", "APP03", at(50*time.Second))
}

// addCapture adds a netstat capture taken d after the Get-Net one, listing
// refs.
func addCapture(in Input, artifact string, d time.Duration, refs ...SocketRef) Input {
	in.Snapshots = append(slices.Clone(in.Snapshots), Snapshot{ID: 9, Artifact: artifact, Format: parsers.FormatNetstat,
		CapturedAt: in.Snapshots[0].CapturedAt.Add(d), CaptureSource: parsers.CaptureTimestampLine})
	f := in.Owners.(*fakeOwners)
	in.Owners = &fakeOwners{refs: append(slices.Clone(f.refs), refs...)}
	return in
}

func TestCaptureVerdicts(t *testing.T) {
	agreeing := func(t *testing.T) Input {
		in := capturesDisagree(t)
		in.Processes = slices.Clone(in.Processes)
		in.Processes[1].Process.Image = "vmware-hostd.exe"
		return in
	}
	tests := []struct {
		name    string
		in      func(t *testing.T) Input
		port    uint16
		verdict Verdict
		pid     int
		// reasons and evidence (artifact:line) the finding must have, and
		// reasons it must not.
		reasons []string
		not     []string
		ev      []string
	}{
		{name: "anoq_bound_holder", in: anoqBoundHolder, port: 1433, verdict: Confirmed, pid: 3100,
			reasons: []string{
				"In snapshot netstat-anoq.txt (line 9), PID 3100 (bkagent.exe, hosting BackupAgent) held TCP 0.0.0.0:1433 (BOUND).",
				"Capture netstat-ano.txt, taken 40 s before netstat-anoq.txt and read as the same observation, does not list it: netstat lists a BOUND socket",
				"netstat-ano.txt is read together with netstat-anoq.txt (40 s after netstat-ano.txt)",
			},
			ev: []string{"netstat-anoq.txt:9"}},
		// The -anoq capture removed: the holder is gone, so is the verdict.
		{name: "anoq_removed", in: func(t *testing.T) Input { return withoutSnapshot(anoqBoundHolder(t), "netstat-anoq.txt") }, port: 1433, verdict: NoConflictSeen, pid: -1,
			reasons: []string{"As far as snapshot netstat-ano.txt shows, this is not a port conflict on TCP 1433", "BOUND"}},
		// The -anoq capture taken 10 min later: not the same observation.
		{name: "anoq_outside_window", in: func(t *testing.T) Input { return movedSnapshot(anoqBoundHolder(t), "netstat-anoq.txt", 10*time.Minute) }, port: 1433, verdict: NoConflictSeen, pid: -1,
			reasons: []string{"In snapshot netstat-anoq.txt (same boot, after the failure), PID 3100"}, not: []string{"one observation"}},
		// The -anoq capture alone: the same holder, nothing said of another capture.
		{name: "anoq_alone", in: func(t *testing.T) Input { return withoutSnapshot(anoqBoundHolder(t), "netstat-ano.txt") }, port: 1433, verdict: Confirmed, pid: 3100,
			not: []string{"does not list it", "one observation"}},

		// A netstat -an capture (no PID column) leads the observation; the
		// -ano one beside it names the same socket's process.
		{name: "no_pid_capture_leads", in: func(t *testing.T) Input {
			in := anoqBoundHolder(t)
			in.Snapshots = append(slices.Clone(in.Snapshots), Snapshot{ID: 4, Artifact: "netstat-an.txt", Format: parsers.FormatNetstat,
				CapturedAt: in.Snapshots[1].CapturedAt.Add(-20 * time.Second), CaptureSource: parsers.CaptureTimestampLine})
			in = withoutSnapshot(in, "netstat-ano.txt")
			f := in.Owners.(*fakeOwners)
			in.Owners = &fakeOwners{refs: append(slices.Clone(f.refs), bound(4, 7, "0.0.0.0:1433", -1))}
			return in
		}, port: 1433, verdict: Confirmed, pid: 3100,
			reasons: []string{"In snapshot netstat-anoq.txt (line 9), PID 3100", "Capture netstat-an.txt (line 7), taken 20 s before netstat-anoq.txt, lists the same socket."}},
		// tasklist cuts image names at 25 characters: not a disagreement.
		{name: "images_cut_by_tasklist", in: func(t *testing.T) Input {
			in := capturesDisagree(t)
			in.Processes = slices.Clone(in.Processes)
			in.Processes[0].Process.Image = "VMwareHostdServiceHelper64.exe"
			in.Processes[1].Process.Image = "VMwareHostdServiceHelper6"
			f := in.Owners.(*fakeOwners)
			refs := slices.Clone(f.refs)
			refs[0].Socket.Image = "VMwareHostdServiceHelper64.exe"
			in.Owners = &fakeOwners{refs: refs}
			return in
		}, port: 443, verdict: Confirmed, pid: 2400, not: []string{"disagree"}},
		{name: "images_agree", in: agreeing, port: 443, verdict: Confirmed, pid: 2400,
			reasons: []string{"Capture nettcp_20260302_082050.csv (line 4), taken 50 s after netstat-anob.txt, lists the same socket."},
			not:     []string{"disagree"}, ev: []string{"netstat-anob.txt:7", "nettcp_20260302_082050.csv:4"}},
		{name: "images_disagree", in: capturesDisagree, port: 443, verdict: Probable, pid: 2400,
			reasons: []string{"disagree on PID 2400's image: vmware-hostd.exe (netstat-anob.txt line 7) vs nginx.exe (tasklist-svc.txt line 14)",
				"Probable rather than confirmed: the captures name different programs"}},

		{name: "bound_before_failure", in: boundBeforeFailure, port: 80, verdict: Confirmed, pid: 5200,
			reasons: []string{"bound at 2026-03-02 08:00:50 UTC (CreationTime), 1 min before the failure at 2026-03-02 08:02:00 UTC", "the strongest proof"}},
		{name: "bound_after_failure", in: boundAfterFailure, port: 80, verdict: NoConflictSeen, pid: -1,
			reasons: []string{"bound at 2026-03-02 08:20:00 UTC (CreationTime), 18 min after the failure at 2026-03-02 08:02:00 UTC in the same boot", "this holder did not cause the failure",
				"whatever held it then was gone by the snapshot"},
			not: []string{"Confirmed", "strongest proof"}, ev: []string{"nettcp_20260302_090000.csv:3"}},
		// The same capture from the next boot: its bind time is after the
		// failure by nature and says nothing of the failure's boot.
		{name: "bound_in_later_boot", in: func(t *testing.T) Input {
			in := boundAfterFailure(t)
			in.Boots = append(slices.Clone(in.Boots), boot12(sysEvtx, at(15*time.Minute), 8100))
			return in
		}, port: 80, verdict: Probable, pid: 5200,
			reasons: []string{"18 min after the failure at 2026-03-02 08:02:00 UTC, in a later boot", "PIDs are not comparable across boots"},
			not:     []string{"did not cause the failure"}},
		{name: "bound_same_second", in: func(t *testing.T) Input { return psBindTime(t, "x", "X", at(2*time.Minute)) }, port: 80, verdict: Confirmed, pid: 5200,
			reasons: []string{"in the same second as the failure", "cannot be told"}},
		// A netstat capture of the same minute lists the late socket too
		// (no CreationTime there): still one holder, still late.
		{name: "bound_after_netstat_too", in: func(t *testing.T) Input {
			return addCapture(boundAfterFailure(t), "netstat-ano.txt", 30*time.Second, listen(9, 6, "0.0.0.0:80", 5200))
		}, port: 80, verdict: NoConflictSeen, pid: -1,
			reasons: []string{"did not cause the failure"}, ev: []string{"nettcp_20260302_090000.csv:3"}},
		// Another holder in a capture of the same observation was there
		// (no bind time says otherwise): it decides, the late one is named.
		{name: "bound_after_other_holder", in: func(t *testing.T) Input {
			return addCapture(boundAfterFailure(t), "netstat-anoq.txt", 30*time.Second, bound(9, 8, "0.0.0.0:80", 6100))
		}, port: 80, verdict: Confirmed, pid: 6100,
			reasons: []string{"In snapshot netstat-anoq.txt (line 8), PID 6100 held TCP 0.0.0.0:80 (BOUND).",
				"PID 5200 (javaw.exe) also held it in nettcp_20260302_090000.csv (line 3), but did not cause the failure"},
			ev: []string{"netstat-anoq.txt:8", "nettcp_20260302_090000.csv:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := analyze(t, tt.in(t))
			f := findPort(t, fs, parsers.TCP, tt.port)
			bad := f.Verdict != tt.verdict || f.OwnerPID != tt.pid
			for _, r := range tt.reasons {
				if !hasReason(f, r) {
					t.Errorf("no reason %q", r)
					bad = true
				}
			}
			for _, r := range tt.not {
				if hasReason(f, r) {
					t.Errorf("unwanted reason %q", r)
					bad = true
				}
			}
			for _, e := range tt.ev {
				if !slices.ContainsFunc(f.Evidence, func(x Evidence) bool { return fmt.Sprintf("%s:%d", x.Artifact, x.Line) == e }) {
					t.Errorf("no evidence %s", e)
					bad = true
				}
			}
			if bad {
				t.Errorf("got %s owner %d, want %s owner %d", f.Verdict, f.OwnerPID, tt.verdict, tt.pid)
				dumpFinding(t, f)
			}
		})
	}
}

// TestCaptureConfidence: an image disagreement and a late bind lower the
// confidence of the same evidence otherwise.
func TestCaptureConfidence(t *testing.T) {
	conf := func(in Input, port uint16) float64 {
		fs, _ := analyze(t, in)
		return findPort(t, fs, parsers.TCP, port).Confidence
	}
	agree := capturesDisagree(t)
	agree.Processes = slices.Clone(agree.Processes)
	agree.Processes[1].Process.Image = "vmware-hostd.exe"
	if a, d := conf(agree, 443), conf(capturesDisagree(t), 443); d >= a {
		t.Errorf("disagreeing images: confidence %.2f, not below agreeing %.2f", d, a)
	}
	noTime := boundBeforeFailure(t)
	f := noTime.Owners.(*fakeOwners)
	refs := slices.Clone(f.refs)
	refs[1].Socket.CreatedAt = time.Time{}
	noTime.Owners = &fakeOwners{refs: refs}
	if b, n := conf(boundBeforeFailure(t), 80), conf(noTime, 80); b <= n {
		t.Errorf("bind time before the failure: confidence %.2f, not above %.2f without it", b, n)
	}
}
