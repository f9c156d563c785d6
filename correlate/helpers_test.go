package correlate

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// fakeOwners implements Owners (and PIDSockets) over a slice, as the
// store does over its sockets table.
type fakeOwners struct {
	refs []SocketRef
	err  error
}

func (f *fakeOwners) OwnersOf(_ context.Context, proto parsers.Proto, port uint16) ([]SocketRef, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []SocketRef
	for _, r := range f.refs {
		if r.Socket.Proto == proto && r.Socket.HasPort && r.Socket.LocalPort == port {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeOwners) CountByPID(_ context.Context, snap int64, proto parsers.Proto, pid int) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n := 0
	for _, r := range f.refs {
		if r.SnapshotID == snap && r.Socket.Proto == proto && r.Socket.PID == pid {
			n++
		}
	}
	return n, nil
}

func (f *fakeOwners) SocketsOf(_ context.Context, snap int64, pid int) ([]SocketRef, error) {
	var out []SocketRef
	for _, r := range f.refs {
		if r.SnapshotID == snap && r.Socket.PID == pid {
			out = append(out, r)
		}
	}
	return out, nil
}

// plainOwners hides SocketsOf: an Owners without the history lookup.
type plainOwners struct{ f *fakeOwners }

func (p plainOwners) OwnersOf(ctx context.Context, proto parsers.Proto, port uint16) ([]SocketRef, error) {
	return p.f.OwnersOf(ctx, proto, port)
}

func (p plainOwners) CountByPID(ctx context.Context, snap int64, proto parsers.Proto, pid int) (int, error) {
	return p.f.CountByPID(ctx, snap, proto, pid)
}

// base is the reference time of the scenarios: the last boot starts here.
var base = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

// scmAt builds a Service Control Manager event; key, when not empty, goes
// in <Binary> as Vista+ logs carry it.
func scmAt(t time.Time, rec uint64, id uint16, key string, params ...string) *parsers.Event {
	ev := &parsers.Event{Provider: scmProvider, EventSource: scmProvider, EventID: id, Channel: "System", Time: t, RecordID: rec}
	for i, p := range params {
		ev.Data = append(ev.Data, parsers.Field{Name: "param" + string(rune('1'+i)), Value: p})
	}
	if key != "" {
		ev.Binary = evtxwrite.UTF16Hex(key)
	}
	return ev
}

// legacySCM builds a Windows 2003 .evt record: unnamed strings, the error
// already rendered as text, no Binary.
func legacySCM(t time.Time, rec uint64, id uint16, params ...string) *parsers.Event {
	ev := &parsers.Event{Provider: scmProvider, EventID: id, Channel: "System", Time: t, RecordID: rec}
	for _, p := range params {
		ev.Data = append(ev.Data, parsers.Field{Value: p})
	}
	return ev
}

func failure(t *testing.T, artifact string, ev *parsers.Event) FailureRef {
	t.Helper()
	f, ok := DecodeFailure(ev)
	if !ok {
		t.Fatalf("event %d from %s does not decode as a failure", ev.EventID, ev.Provider)
	}
	return FailureRef{Artifact: artifact, Failure: f}
}

// boot2003 gives the 6005/6009 pair of a Windows 2003 boot at t.
func boot2003(artifact string, t time.Time, rec uint64) []BootRef {
	return []BootRef{
		{Artifact: artifact, Boot: BootMarker{Kind: BootStart, EventID: 6009, Provider: "EventLog", Channel: "System", Time: t, BootTime: t, RecordID: rec,
			OSVersion: "5.02. 3790 Service Pack 2 Uniprocessor Free", Message: "Microsoft (R) Windows (R) 5.02. 3790 Service Pack 2 Uniprocessor Free."}},
		{Artifact: artifact, Boot: BootMarker{Kind: BootStart, EventID: 6005, Provider: "EventLog", Channel: "System", Time: t.Add(time.Second), BootTime: t.Add(time.Second), RecordID: rec + 1,
			Message: "The Event log service was started."}},
	}
}

// boot12 gives a Kernel-General 12 (StartTime t, logged 20 s later).
func boot12(artifact string, t time.Time, rec uint64) BootRef {
	return BootRef{Artifact: artifact, Boot: BootMarker{Kind: BootStart, EventID: 12, Provider: "Microsoft-Windows-Kernel-General", Channel: "System",
		Time: t.Add(20 * time.Second), BootTime: t, RecordID: rec, Message: "The operating system started at system time " + t.Format(time.RFC3339Nano) + "."}}
}

func stop6006(artifact string, t time.Time, rec uint64) BootRef {
	return BootRef{Artifact: artifact, Boot: BootMarker{Kind: BootCleanStop, EventID: 6006, Provider: "EventLog", Channel: "System", Time: t, RecordID: rec}}
}

func sock(snap int64, line int, proto parsers.Proto, local string, remote string, state string, pid int) SocketRef {
	ap := netip.MustParseAddrPort(local)
	s := parsers.Socket{Proto: proto, LocalAddr: ap.Addr(), LocalPort: ap.Port(), HasPort: true, State: state, StateRaw: state, PID: pid}
	if remote != "" {
		rp := netip.MustParseAddrPort(remote)
		s.RemoteAddr, s.RemotePort = rp.Addr(), rp.Port()
	}
	return SocketRef{SnapshotID: snap, Line: line, Socket: s}
}

func udp(snap int64, line int, local string, pid int) SocketRef {
	return sock(snap, line, parsers.UDP, local, "", "", pid)
}

func listen(snap int64, line int, local string, pid int) SocketRef {
	return sock(snap, line, parsers.TCP, local, "0.0.0.0:0", parsers.StateListening, pid)
}

// dnsPool gives the ~2,500 UDP sockets of a DNS socket pool, from port
// start on, on lines from line on.
func dnsPool(snap int64, line int, start uint16, pid int) []SocketRef {
	out := make([]SocketRef, 0, 2499)
	for i := 0; i < 2499; i++ {
		s := udp(snap, line+i, "0.0.0.0:1", pid)
		s.Socket.LocalPort = start + uint16(i)
		out = append(out, s)
	}
	return out
}

func proc(snap int64, artifact string, line int, image string, pid int, captured time.Time, services ...string) ProcessRef {
	return ProcessRef{SnapshotID: snap, Artifact: artifact, Line: line, CapturedAt: captured,
		Process: parsers.Process{PID: pid, Image: image, Services: services}}
}

func findPort(t *testing.T, fs []Finding, proto parsers.Proto, port uint16) Finding {
	t.Helper()
	for _, f := range fs {
		if f.Proto == proto && f.Port == port {
			return f
		}
	}
	t.Fatalf("no finding for %s %d among %d findings", proto, port, len(fs))
	return Finding{}
}

func hasReason(f Finding, sub string) bool {
	for _, r := range f.Reasons {
		if strings.Contains(r, sub) {
			return true
		}
	}
	return false
}

func hasEvidence(f Finding, artifact string, line int, recordID uint64) bool {
	for _, e := range f.Evidence {
		if e.Artifact == artifact && e.Line == line && e.RecordID == recordID {
			return true
		}
	}
	return false
}

func coverageOf(cs []Coverage, check string) Coverage {
	for _, c := range cs {
		if c.Check == check {
			return c
		}
	}
	return Coverage{}
}

func analyze(t *testing.T, in Input) ([]Finding, []Coverage) {
	t.Helper()
	fs, cov, err := Analyze(context.Background(), in)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	for _, f := range fs {
		if f.Confidence < 0 || f.Confidence > 1 {
			t.Errorf("%s %d: confidence %v outside [0,1]", f.Proto, f.Port, f.Confidence)
		}
		if len(f.Reasons) == 0 || len(f.Evidence) == 0 {
			t.Errorf("%s %d %s: a finding needs reasons and evidence", f.Proto, f.Port, f.Verdict)
		}
		if f.Verdict != NotPortRelated && f.Verdict != PortUnknown && f.Port == 0 {
			t.Errorf("verdict %s without a port", f.Verdict)
		}
	}
	return fs, cov
}

func dumpFinding(t *testing.T, f Finding) {
	t.Helper()
	t.Logf("%s %s %d %s conf %.2f rule %q owner %d %s src %s", f.Verdict, f.Proto, f.Port, f.Service, f.Confidence, f.Rule, f.OwnerPID, f.OwnerImage, f.PortSource)
	for _, r := range f.Reasons {
		t.Logf("  reason: %s", r)
	}
	for _, r := range f.Remedy {
		t.Logf("  remedy: %s", r)
	}
	for _, e := range f.Evidence {
		t.Logf("  evidence: %s:%d rec %d %q — %s", e.Artifact, e.Line, e.RecordID, e.Text, e.Claim)
	}
}
