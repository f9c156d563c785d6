package correlate

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// oneBoot2008 is a Windows Server 2008 R2 case with one boot, one failure
// and one trustworthy snapshot taken 20 minutes after it.
func oneBoot2008(fs []FailureRef, refs []SocketRef, procs []ProcessRef) Input {
	return Input{
		Bundle: "case", Host: "SRV", OSVersion: "6.1.7601",
		Failures:  fs,
		Boots:     []BootRef{boot12(sysEvtx, at(0), 1)},
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(22 * time.Minute), CaptureSource: parsers.CaptureFlag}},
		Processes: procs,
		Owners:    &fakeOwners{refs: refs},
	}
}

func TestAnalyzeVerdictsAndRules(t *testing.T) {
	sql26023 := func(provider string, port string) *parsers.Event {
		return &parsers.Event{Provider: provider, EventID: 26023, Channel: "Application", Time: at(2 * time.Minute), RecordID: 77,
			Message: "Server TCP provider failed to listen on [ 'any' <ipv4> " + port + "]. Tcp port is already in use."}
	}
	tests := []struct {
		name    string
		input   func(t *testing.T) Input
		proto   parsers.Proto
		port    uint16
		verdict Verdict
		rule    Rule
		reason  string
	}{
		{"port_unknown", func(t *testing.T) Input {
			return oneBoot2008([]FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 10, 7023, "ContosoAgent", "Contoso Agent", "%%10048"))}, nil, nil)
		}, "", 0, PortUnknown, "", "Give its ports in a --ports file"},
		{"same_product", func(t *testing.T) Input {
			return oneBoot2008([]FailureRef{failure(t, "Application.evtx", sql26023("MSSQLSERVER", "1433"))},
				[]SocketRef{listen(1, 12, "0.0.0.0:1433", 2300)},
				[]ProcessRef{proc(1, netstat, 13, "sqlservr.exe", 2300, time.Time{}, "MSSQL$OTHER")})
		}, parsers.TCP, 1433, Confirmed, RuleSameProduct, "another service of the same product (sqlserver)"},
		{"other", func(t *testing.T) Input {
			return oneBoot2008([]FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 10, 7023, "BlackBerry Router", "BlackBerry Router", "%%10048"))},
				[]SocketRef{listen(1, 12, "0.0.0.0:3101", 3000)},
				[]ProcessRef{proc(2, tasklist, 50, "java.exe", 3000, at(23*time.Minute))})
		}, parsers.TCP, 3101, Confirmed, RuleOther, "No known culprit pattern matches: PID 3000 (java.exe) holds TCP 3101"},
		{"own_process_is_not_a_conflict", func(t *testing.T) Input {
			return oneBoot2008([]FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 10, 7023, "IAS", "Network Policy Server", "%%10048"))},
				[]SocketRef{udp(1, 12, "0.0.0.0:1812", 880)},
				[]ProcessRef{proc(2, tasklist, 50, "svchost.exe", 880, at(23*time.Minute), "IAS", "RemoteAccess")})
		}, parsers.UDP, 1812, NoConflictSeen, "", "is the failed service's own process"},
		{"time_wait_is_weak", func(t *testing.T) Input {
			return oneBoot2008([]FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 10, 7023, "BlackBerry Router", "BlackBerry Router", "%%10048"))},
				[]SocketRef{sock(1, 12, parsers.TCP, "10.0.0.5:3101", "10.0.0.9:443", parsers.StateTimeWait, 0)}, nil)
		}, parsers.TCP, 3101, NoConflictSeen, "", "weak evidence and is not named as owner"},
		{"other_family_does_not_block", func(t *testing.T) Input {
			ev := &parsers.Event{Provider: "Apache Service", EventID: 3299, Channel: "Application", Time: at(2 * time.Minute), RecordID: 5, Data: []parsers.Field{
				{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
				{Value: "(OS 10013)An attempt was made to access a socket in a way forbidden by its access permissions.  : AH00072: make_sock: could not bind to address [::]:443"}}}
			return oneBoot2008([]FailureRef{failure(t, "Application.evtx", ev)}, []SocketRef{listen(1, 12, "0.0.0.0:443", 4)}, nil)
		}, parsers.TCP, 443, NoConflictSeen, "", "holds the port on another address or IP family"},
		{"specific_address_vs_wildcard_owner", func(t *testing.T) Input {
			ev := &parsers.Event{Provider: "Apache Service", EventID: 3299, Channel: "Application", Time: at(2 * time.Minute), RecordID: 5, Data: []parsers.Field{
				{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
				{Value: "(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : AH00072: make_sock: could not bind to address 10.0.0.5:443"}}}
			return oneBoot2008([]FailureRef{failure(t, "Application.evtx", ev)}, []SocketRef{listen(1, 12, "127.0.0.1:443", 900), listen(1, 13, "0.0.0.0:443", 4)}, nil)
		}, parsers.TCP, 443, Confirmed, RuleHTTPSys, "PID 4 (System) held TCP 0.0.0.0:443"},
		// A port inside an excluded range of the failure's boot has no owner (issue 12, item 2).
		{"no_snapshot_but_excluded_range", func(t *testing.T) Input {
			in := winnatExcluded(t)
			in.Snapshots = nil
			return in
		}, parsers.TCP, 10000, ReservedRange, RuleExcludedRange, "No socket snapshot was supplied, and none is needed: TCP 10000 lies in the excluded port range 9948-10047"},
		{"no_snapshot_range_table_of_unknown_boot", func(t *testing.T) Input {
			in := winnatExcluded(t)
			in.Snapshots = nil
			for i := range in.Ranges {
				in.Ranges[i].CapturedAt = time.Time{}
			}
			return in
		}, parsers.TCP, 10000, NoSnapshot, RuleExcludedRange, "lies in the excluded port range 9948-10047"},
		{"reserved_range_with_10048_is_weaker", func(t *testing.T) Input {
			in := winnatExcluded(t)
			in.Failures[0].Failure.ErrorCode = 0xC000020A
			return in
		}, parsers.TCP, 10000, ReservedRange, RuleExcludedRange, "less certain"},
		{"free_port_from_the_event_with_10048", func(t *testing.T) Input {
			in := apacheHTTPSys(t)
			in.Owners = &fakeOwners{}
			return in
		}, parsers.TCP, 80, NoConflictSeen, "", "whatever held it was gone by the snapshot"},
		{"zip_dos_time_with_offset_is_trusted", func(t *testing.T) Input {
			in := npsGerman2008R2(t)
			in.Snapshots[0].CaptureSource, in.Snapshots[0].CapturedLocal = parsers.CaptureZipDOS, true
			in.Snapshots[0].CapturedAt = at(25*time.Minute + time.Hour) // local time, UTC+1
			in.UTCOffset, in.HasUTCOffset = time.Hour, true
			return in
		}, parsers.UDP, 1812, Confirmed, RuleDNSSocketPool, "taken 22 min after the failure"},
		{"zip_dos_time_converted_is_not_shifted_again", func(t *testing.T) Input {
			in := npsGerman2008R2(t)
			in.Snapshots[0].CaptureSource = parsers.CaptureZipDOS // converted by the store: flag cleared
			in.Snapshots[0].CapturedAt = at(25 * time.Minute)
			in.UTCOffset, in.HasUTCOffset = time.Hour, true
			return in
		}, parsers.UDP, 1812, Confirmed, RuleDNSSocketPool, "taken 22 min after the failure"},
		{"zip_dos_time_without_offset", func(t *testing.T) Input {
			in := npsGerman2008R2(t)
			in.Snapshots[0].CaptureSource, in.Snapshots[0].CapturedLocal = parsers.CaptureZipDOS, true
			return in
		}, parsers.UDP, 1812, Probable, RuleDNSSocketPool, "it may be off by up to 14 hours"},
		{"ephemeral_with_unknown_os", func(t *testing.T) Input {
			in := sqlEphemeral(t)
			in.OSVersion = ""
			in.Boots = []BootRef{boot12(sysEvtx, at(0), 1)} // no 6009, so no version
			return in
		}, parsers.TCP, 4100, Confirmed, RuleEphemeral, "the OS version is unknown"},
		{"possibly_port_catalog_is_probable", func(t *testing.T) Input {
			return oneBoot2008([]FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 10, 7000, "IAS", "Network Policy Server", "%%1053"))},
				append([]SocketRef{udp(1, 12, "0.0.0.0:1812", 1500)}, dnsPool(1, 100, 50000, 1500)...),
				[]ProcessRef{proc(2, tasklist, 50, "dns.exe", 1500, at(23*time.Minute), "DNS")})
		}, parsers.UDP, 1812, Probable, RuleDNSSocketPool, "the port comes from the catalog and the error does not itself say the bind failed"},
		{"earlier_same_boot_owner_beats_free_later_boot", func(t *testing.T) Input {
			in := sbs2003IASDNS(t)
			in.Snapshots = []Snapshot{
				{ID: 1, Artifact: "before.txt", Format: parsers.FormatNetstat, CapturedAt: at(time.Minute), CaptureSource: parsers.CaptureFlag},
				{ID: 3, Artifact: "nextboot.txt", Format: parsers.FormatNetstat, CapturedAt: at(72 * time.Hour), CaptureSource: parsers.CaptureFlag},
			}
			in.Boots = append(in.Boots, boot2003(sysEvt, at(70*time.Hour), 900)...)
			return in
		}, parsers.UDP, 1812, Probable, RuleDNSSocketPool, "Snapshot before.txt was taken 1 min before the failure, in the same boot session"},
		{"free_after_owner_before_in_same_boot", func(t *testing.T) Input {
			in := sbs2003IASDNS(t)
			in.Snapshots = append(in.Snapshots, Snapshot{ID: 3, Artifact: "later.txt", Format: parsers.FormatNetstat, CapturedAt: at(3 * time.Hour), CaptureSource: parsers.CaptureFlag})
			in.Snapshots[0].CapturedAt = at(time.Minute)
			return in
		}, parsers.UDP, 1812, Probable, RuleDNSSocketPool, "The preferred snapshot, later.txt, shows UDP 1812 free"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := analyze(t, tt.input(t))
			f := fs[0]
			if tt.port != 0 {
				f = findPort(t, fs, tt.proto, tt.port)
			}
			if f.Verdict != tt.verdict || f.Rule != tt.rule || !hasReason(f, tt.reason) {
				t.Errorf("got %s %q, want %s %q with a reason containing %q", f.Verdict, f.Rule, tt.verdict, tt.rule, tt.reason)
				dumpFinding(t, f)
			}
			if f.Rule != "" && len(f.Remedy) == 0 {
				t.Errorf("rule %s without remedy", f.Rule)
			}
		})
	}
}

func TestIsConnection(t *testing.T) {
	tests := []struct {
		name string
		s    SocketRef
		want bool
	}{
		{"established", sock(1, 1, parsers.TCP, "10.0.0.5:4100", "10.0.0.9:1433", parsers.StateEstablished, 7), true},
		{"syn_sent", sock(1, 1, parsers.TCP, "10.0.0.5:4100", "10.0.0.9:1433", parsers.StateSynSent, 7), true},
		{"listening", listen(1, 1, "0.0.0.0:80", 4), false},
		{"bound", sock(1, 1, parsers.TCP, "0.0.0.0:80", "0.0.0.0:0", parsers.StateBound, 4), false},
		{"time_wait", sock(1, 1, parsers.TCP, "10.0.0.5:4100", "10.0.0.9:1433", parsers.StateTimeWait, 0), false},
		{"no_state", sock(1, 1, parsers.TCP, "10.0.0.5:4100", "10.0.0.9:1433", "", 7), false},
		{"no_remote", sock(1, 1, parsers.TCP, "10.0.0.5:4100", "0.0.0.0:0", parsers.StateClosing, 7), false},
		{"udp", udp(1, 1, "0.0.0.0:53", 7), false},
	}
	for _, tt := range tests {
		if got := isConnection(&tt.s.Socket); got != tt.want {
			t.Errorf("%s: isConnection = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestHTTPSysSpecificAddress: when the service binds one address, HTTP.sys
// can be restricted to the others.
func TestHTTPSysSpecificAddress(t *testing.T) {
	ev := &parsers.Event{Provider: "Apache Service", EventID: 3299, Channel: "Application", Time: at(2 * time.Minute), RecordID: 5, Data: []parsers.Field{
		{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
		{Value: "(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : AH00072: make_sock: could not bind to address 10.0.0.5:443"}}}
	fs, _ := analyze(t, oneBoot2008([]FailureRef{failure(t, "Application.evtx", ev)}, []SocketRef{listen(1, 13, "0.0.0.0:443", 4)}, nil))
	if !slices.Contains(fs[0].Remedy, "netsh http add iplisten ipaddress=<an address HTTP.sys should keep, not 10.0.0.5>") {
		t.Errorf("remedy %q has no iplisten line", fs[0].Remedy)
	}
}

func TestFolding(t *testing.T) {
	iasAt := func(d time.Duration, rec uint64, id uint16, code string) FailureRef {
		return failure(t, sysEvtx, scmAt(at(d), rec, id, "IAS", "Network Policy Server", code))
	}
	tests := []struct {
		name          string
		failures      []FailureRef
		boots         []BootRef
		wantIncidents int
	}{
		{"7023_then_7031_same_incident", []FailureRef{iasAt(2*time.Minute, 1, 7023, "%%10048"), iasAt(3*time.Minute, 2, 7031, "")}, nil, 1},
		{"two_boots_two_incidents", []FailureRef{iasAt(2*time.Minute, 1, 7023, "%%10048"), iasAt(26*time.Hour, 2, 7023, "%%10048")},
			[]BootRef{boot12(sysEvtx, at(25*time.Hour), 9)}, 2},
		{"not_port_failure_is_never_folded", []FailureRef{iasAt(2*time.Minute, 1, 7023, "%%10048"), iasAt(3*time.Minute, 2, 7000, "%%1069")}, nil, 2},
		{"different_services", []FailureRef{iasAt(2*time.Minute, 1, 7023, "%%10048"),
			failure(t, sysEvtx, scmAt(at(2*time.Minute), 3, 7023, "PolicyAgent", "IPSEC Services", "%%10048"))}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := oneBoot2008(tt.failures, nil, nil)
			in.Boots = append(in.Boots, tt.boots...)
			fs, _ := analyze(t, in)
			keys := map[[3]any]bool{}
			for _, f := range fs {
				keys[[3]any{f.FailureTime, f.EventID, f.ServiceKey}] = true
			}
			if got := len(keys); got != tt.wantIncidents {
				t.Errorf("got %d incidents, want %d", got, tt.wantIncidents)
			}
		})
	}
}

func TestHistoryPorts(t *testing.T) {
	input := func(t *testing.T) Input {
		return Input{
			Host: "APP", OSVersion: "6.1.7601",
			Failures: []FailureRef{failure(t, sysEvtx, scmAt(at(5*time.Hour), 10, 7031, "ContosoAgent", "Contoso Agent", "1", "60000", "1", "Restart the service"))},
			Boots:    []BootRef{boot12(sysEvtx, at(0), 1)},
			Snapshots: []Snapshot{
				{ID: 1, Artifact: "healthy.txt", Format: parsers.FormatNetstat, CapturedAt: at(time.Hour), CaptureSource: parsers.CaptureFlag},
				{ID: 2, Artifact: "after.txt", Format: parsers.FormatNetstat, CapturedAt: at(5*time.Hour + 10*time.Minute), CaptureSource: parsers.CaptureFlag},
			},
			Processes: []ProcessRef{
				proc(1, "healthy.txt", 31, "cagent.exe", 700, time.Time{}, "ContosoAgent"),
				proc(2, "after.txt", 41, "java.exe", 900, time.Time{}),
			},
			Owners: &fakeOwners{refs: []SocketRef{
				listen(1, 30, "0.0.0.0:7777", 700),
				udp(1, 32, "0.0.0.0:7778", 700),
				sock(1, 33, parsers.TCP, "10.0.0.5:50123", "10.0.0.9:443", parsers.StateEstablished, 700),
				listen(2, 40, "0.0.0.0:7777", 900),
			}},
		}
	}
	fs, cov := analyze(t, input(t))
	if len(fs) != 2 {
		t.Fatalf("got %d findings, want 2 (TCP 7777, UDP 7778)", len(fs))
	}
	f := findPort(t, fs, parsers.TCP, 7777)
	if f.PortSource != PortSourceHistory || f.Verdict != Probable || f.OwnerImage != "java.exe" || !hasReason(f, "where the process hosting ContosoAgent (PID 700) held TCP 7777, UDP 7778") ||
		!hasEvidence(f, "healthy.txt", 30, 0) || !hasEvidence(f, "healthy.txt", 31, 0) {
		t.Errorf("TCP 7777: %s from %s owner %s", f.Verdict, f.PortSource, f.OwnerImage)
		dumpFinding(t, f)
	}
	if f := findPort(t, fs, parsers.UDP, 7778); f.Verdict != NoConflictSeen {
		t.Errorf("UDP 7778: %s, want NO_CONFLICT_SEEN", f.Verdict)
	}
	if c := coverageOf(cov, CheckHistory); c.Check != "" {
		t.Errorf("history coverage %+v, want none", c)
	}

	in := input(t)
	in.Owners = plainOwners{in.Owners.(*fakeOwners)}
	fs, cov = analyze(t, in)
	if len(fs) != 1 || fs[0].Verdict != PortUnknown {
		t.Errorf("without PIDSockets: %d findings, first %s, want one PORT_UNKNOWN", len(fs), fs[0].Verdict)
	}
	if c := coverageOf(cov, CheckHistory); c.Status != StatusMissing {
		t.Errorf("history coverage %+v, want missing", c)
	}
}

func TestUserPorts(t *testing.T) {
	in := oneBoot2008([]FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 10, 7023, "ContosoAgent", "Contoso Agent", "%%10048"))},
		[]SocketRef{listen(1, 12, "0.0.0.0:7777", 3000)}, nil)
	in.UserPorts = map[string][]PortSpec{"contoso agent": {{parsers.TCP, 7777}, {parsers.TCP, 7777}, {parsers.TCP, 0}}}
	fs, _ := analyze(t, in)
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1 (duplicates and port 0 dropped)", len(fs))
	}
	f := fs[0]
	if f.PortSource != PortSourceUser || f.Verdict != Confirmed || !hasReason(f, "the --ports file, which lists TCP 7777") {
		t.Errorf("got %s from %s", f.Verdict, f.PortSource)
		dumpFinding(t, f)
	}
	if !hasReason(f, "could not be mapped to an image") {
		t.Error("no reason says the PID is not mapped")
	}
}

func TestCreatedAt(t *testing.T) {
	psInput := func(created time.Time, local bool) Input {
		s := listen(1, 5, "0.0.0.0:3101", 3000)
		s.Socket.CreatedAt, s.Socket.CreatedLocal = created, local
		in := oneBoot2008([]FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 10, 7023, "BlackBerry Router", "BlackBerry Router", "%%10048"))},
			[]SocketRef{s}, nil)
		in.Snapshots[0].Format = parsers.FormatPSNetTCP
		return in
	}
	tests := []struct {
		name     string
		in       Input
		verdict  Verdict
		reason   string
		coverage string
	}{
		{"bound_before", psInput(at(time.Minute), false), Confirmed, "The socket was bound at 2026-03-02 08:01:00 UTC (CreationTime), 1 min before the failure at 2026-03-02 08:02:00 UTC.", ""},
		// issue 12, item 4: the only holder took the port after the failure, so it did not cause it.
		{"bound_after", psInput(at(10*time.Minute), false), NoConflictSeen, "8 min after the failure", ""},
		{"local_without_offset", psInput(at(time.Minute), true), Confirmed, "is the host's local time and its UTC offset is unknown", StatusMissing},
		{"local_with_offset", func() Input {
			in := psInput(at(time.Minute+2*time.Hour), true)
			in.UTCOffset, in.HasUTCOffset = 2*time.Hour, true
			return in
		}(), Confirmed, "bound at 2026-03-02 08:01:00 UTC (CreationTime), 1 min before the failure", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, cov := analyze(t, tt.in)
			f := fs[0]
			if f.Verdict != tt.verdict || !hasReason(f, tt.reason) {
				t.Errorf("got %s, want %s with reason %q", f.Verdict, tt.verdict, tt.reason)
				dumpFinding(t, f)
			}
			if got := coverageOf(cov, CheckUTCOffset).Status; got != tt.coverage {
				t.Errorf("utc-offset coverage %q, want %q", got, tt.coverage)
			}
		})
	}
}

func TestDependencyFailure(t *testing.T) {
	in := oneBoot2008([]FailureRef{
		failure(t, sysEvtx, scmAt(at(time.Minute), 20, 7000, "", "Workstation", "%%1069")),
		failure(t, sysEvtx, scmAt(at(2*time.Minute), 21, 7001, "", "Netlogon", "Workstation", "%%1068")),
	}, nil, nil)
	fs, _ := analyze(t, in)
	if len(fs) != 2 {
		t.Fatalf("got %d findings, want 2", len(fs))
	}
	f := fs[1]
	if f.Verdict != NotPortRelated || f.EventID != 7001 || !hasReason(f, "the service it depends on, Workstation, failed first") ||
		!hasReason(f, "Workstation logged event 7000") || !hasEvidence(f, sysEvtx, 0, 20) {
		t.Errorf("7001: %s", f.Verdict)
		dumpFinding(t, f)
	}
	in.Failures = in.Failures[1:]
	fs, _ = analyze(t, in)
	if !hasReason(fs[0], "No failure of Workstation was found") {
		dumpFinding(t, fs[0])
		t.Error("no reason says the dependency's failure is missing")
	}
}

func TestSignals(t *testing.T) {
	sig := func(provider string, id uint16, d time.Duration, rec uint64) FailureRef {
		return failure(t, sysEvtx, &parsers.Event{Provider: provider, EventID: id, Channel: "System", Time: at(d), RecordID: rec})
	}
	dns411 := failure(t, "DNS Server.evtx", &parsers.Event{Provider: "Microsoft-Windows-DNS-Server-Service", EventID: 411, Channel: "DNS Server", Time: at(time.Minute), RecordID: 30})
	in := oneBoot2008([]FailureRef{
		failure(t, sysEvtx, scmAt(at(2*time.Minute), 10, 7023, "IAS", "Network Policy Server", "%%10048")),
		failure(t, sysEvtx, scmAt(at(2*time.Minute), 11, 7023, "BlackBerry Router", "BlackBerry Router", "%%10048")),
		dns411,
		sig("Tcpip", 4231, 90*time.Second, 31),
		sig("Tcpip", 4266, 30*time.Hour, 32), // another boot
	}, nil, nil)
	in.Boots = append(in.Boots, boot12(sysEvtx, at(29*time.Hour), 2))
	fs, _ := analyze(t, in)
	for _, f := range fs {
		if f.EventID == 411 || f.EventID == 4231 || f.EventID == 4266 {
			t.Errorf("a signal became a finding: %d", f.EventID)
		}
	}
	udpF := findPort(t, fs, parsers.UDP, 1812)
	if !hasReason(udpF, "The DNS server logged event 411") || !hasEvidence(udpF, "DNS Server.evtx", 0, 30) || hasReason(udpF, "4266") {
		t.Error("UDP finding: 411 missing or 4266 of another boot present")
		dumpFinding(t, udpF)
	}
	tcpF := findPort(t, fs, parsers.TCP, 3101)
	if !hasReason(tcpF, "Tcpip logged event 4231") || hasReason(tcpF, "event 411") {
		t.Error("TCP finding: 4231 missing or 411 present")
		dumpFinding(t, tcpF)
	}
}

func TestListingPairing(t *testing.T) {
	// Two boots, a snapshot and a tasklist in each: PID 1500 is dns.exe in
	// the failure's boot and notepad.exe in the other.
	in := npsGerman2008R2(t)
	in.Boots = append(in.Boots, boot12(sysEvtx, at(-48*time.Hour), 5))
	in.Snapshots = append(in.Snapshots, Snapshot{ID: 3, Artifact: "old-netstat.txt", Format: parsers.FormatNetstat, CapturedAt: at(-47 * time.Hour), CaptureSource: parsers.CaptureFlag})
	in.Processes = append(in.Processes, proc(4, "old-tasklist.txt", 9, "notepad.exe", 1500, at(-47*time.Hour)))
	fs, _ := analyze(t, in)
	f := findPort(t, fs, parsers.UDP, 1812)
	if f.OwnerImage != "dns.exe" || !hasEvidence(f, tasklist, 41, 0) || hasEvidence(f, "old-tasklist.txt", 9, 0) {
		t.Errorf("owner %q: the tasklist of the wrong boot was used", f.OwnerImage)
		dumpFinding(t, f)
	}
	// A tasklist of unknown time with several snapshots maps nothing.
	in.Processes = []ProcessRef{proc(2, tasklist, 41, "dns.exe", 1500, time.Time{}, "DNS")}
	fs, _ = analyze(t, in)
	if f := findPort(t, fs, parsers.UDP, 1812); f.OwnerImage != "" || !hasReason(f, "could not be mapped") {
		t.Errorf("owner %q, want unmapped", f.OwnerImage)
	}
}

func TestOverlaps(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	sk := func(addr string) *parsers.Socket {
		if addr == "" {
			return &parsers.Socket{LocalHost: "SRV01"}
		}
		return &parsers.Socket{LocalAddr: a(addr)}
	}
	tests := []struct {
		name string
		want netip.Addr
		sock *parsers.Socket
		ok   bool
	}{
		{"unknown_failure_address", netip.Addr{}, sk("::1"), true},
		{"v4_wildcard_vs_specific", a("0.0.0.0"), sk("10.0.0.5"), true},
		{"specific_vs_v4_wildcard", a("10.0.0.5"), sk("0.0.0.0"), true},
		{"same_specific", a("10.0.0.5"), sk("10.0.0.5"), true},
		{"different_specific", a("10.0.0.5"), sk("127.0.0.1"), false},
		{"v4_wildcard_vs_v6_wildcard", a("0.0.0.0"), sk("::"), false},
		{"v6_wildcard_vs_v4_wildcard", a("::"), sk("0.0.0.0"), false},
		{"v6_wildcard_vs_v6_specific_zone", a("::"), sk("fe80::1%12"), true},
		{"v4_mapped", a("::ffff:10.0.0.5"), sk("10.0.0.5"), true},
		{"zone_ignored", a("fe80::1%3"), sk("fe80::1%7"), true},
		{"host_name_socket", a("10.0.0.5"), sk(""), true},
		{"no_address_at_all", a("10.0.0.5"), &parsers.Socket{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := overlaps(tt.want, tt.sock); got != tt.ok {
				t.Errorf("overlaps(%v, %v) = %v, want %v", tt.want, tt.sock.LocalAddr, got, tt.ok)
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	tests := []struct {
		name  string
		in    Input
		check string
		want  string
	}{
		{"empty_failures", Input{}, CheckFailures, StatusMissing},
		{"empty_system_log", Input{}, CheckSystemLog, StatusMissing},
		{"empty_boots", Input{}, CheckBoots, StatusMissing},
		{"empty_snapshots", Input{}, CheckSnapshots, StatusMissing},
		{"empty_process_map", Input{}, CheckProcessMap, StatusMissing},
		{"empty_ranges", Input{}, CheckExcludedRanges, StatusMissing},
		{"empty_dynamic", Input{}, CheckDynamicRange, StatusMissing},
		{"empty_os", Input{}, CheckOSVersion, StatusMissing},
		{"os_from_6009", Input{Boots: boot2003(sysEvt, at(0), 1)}, CheckOSVersion, StatusOK},
		{"tcpvcon_only", Input{Snapshots: []Snapshot{{ID: 1, Artifact: "tcpvcon.csv", NoPorts: true}}}, CheckTcpvconPorts, StatusPartial},
		{"tcpvcon_only_no_snapshot", Input{Snapshots: []Snapshot{{ID: 1, Artifact: "tcpvcon.csv", NoPorts: true}}}, CheckSnapshots, StatusMissing},
		{"untrusted_time", func() Input {
			in := sbs2003IASDNS(t)
			in.Snapshots[0].CaptureSource = parsers.CaptureFileModTime
			return in
		}(), CheckSnapshotTime, StatusPartial},
		{"unmapped_pid", func() Input {
			in := sbs2003IASDNS(t)
			in.Processes = in.Processes[:1]
			return in
		}(), CheckProcessMap, StatusPartial},
		{"scenario_ok", sbs2003IASDNS(t), CheckBoots, StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cov := analyze(t, tt.in)
			if got := coverageOf(cov, tt.check); got.Status != tt.want || got.Reason == "" {
				t.Errorf("%s = %+v, want status %s with a reason", tt.check, got, tt.want)
			}
			if !slices.IsSortedFunc(cov, func(x, y Coverage) int {
				return slices.Index(checkOrder, x.Check) - slices.Index(checkOrder, y.Check)
			}) {
				t.Errorf("coverage out of order: %+v", cov)
			}
		})
	}
}

func TestAnalyzeErrors(t *testing.T) {
	boom := errors.New("boom")
	in := sbs2003IASDNS(t)
	in.Owners = &fakeOwners{err: boom}
	if _, _, err := Analyze(context.Background(), in); !errors.Is(err, boom) || !strings.Contains(err.Error(), "owners of UDP") {
		t.Errorf("owner error: got %v", err)
	}
	in.Owners = nil
	if _, _, err := Analyze(context.Background(), in); !errors.Is(err, errNoOwners) {
		t.Errorf("nil owners: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Analyze(ctx, sbs2003IASDNS(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: got %v", err)
	}
}

// TestOddInput: empty, zero and contradictory values give findings and
// coverage, never a panic or an error.
func TestOddInput(t *testing.T) {
	weird := []SocketRef{
		{SnapshotID: 1, Line: 1, Socket: parsers.Socket{Proto: parsers.UDP, LocalPort: 1812, HasPort: false, PID: 7}},
		{SnapshotID: 1, Line: 2, Socket: parsers.Socket{Proto: parsers.UDP, LocalPort: 1812, HasPort: true, PID: -1}},
		{SnapshotID: 1, Line: 3, Socket: parsers.Socket{Proto: parsers.TCP, LocalPort: 1812, HasPort: true, PID: 0, State: parsers.StateClosed}},
		{SnapshotID: 99, Line: 4, Socket: parsers.Socket{Proto: parsers.UDP, LocalPort: 1812, HasPort: true, PID: 5}},
		{SnapshotID: 1, Line: 5, Socket: parsers.Socket{Proto: "SCTP", LocalPort: 1812, HasPort: true, PID: 5}},
		{SnapshotID: 1, Line: 6, Socket: parsers.Socket{Proto: parsers.TCP, LocalHost: "srv", LocalPort: 80, HasPort: true, PID: 8, State: parsers.StateSynSent}},
	}
	zeroFail := FailureRef{Failure: Failure{Kind: KindServiceFailure, EventID: 7023, HasError: true, ErrorCode: 10048, Class: ClassPortConflict}}
	inputs := map[string]Input{
		"zero":                {},
		"only_signals":        {Failures: []FailureRef{{Failure: Failure{Kind: KindSignal, EventID: 4292}}}},
		"failure_zero_fields": {Failures: []FailureRef{zeroFail}},
		"failure_zero_time_with_snapshot": {Failures: []FailureRef{zeroFail, {Failure: Failure{Kind: KindServiceFailure, Service: "Internet Authentication Service", Class: ClassPortConflict}}},
			Snapshots: []Snapshot{{ID: 1}, {ID: 1}}, Owners: &fakeOwners{refs: weird}},
		"bind_error_port_zero":    {Failures: []FailureRef{{Failure: Failure{Kind: KindBindError, HasPort: true, Class: ClassPortConflict}}}},
		"bind_error_no_proto":     {Failures: []FailureRef{{Failure: Failure{Kind: KindBindError, HasPort: true, Port: 80, Class: ClassPortConflict, Time: at(0)}}}, Snapshots: []Snapshot{{ID: 1, CapturedAt: at(time.Hour)}}, Owners: &fakeOwners{refs: weird}},
		"7001_without_dependency": {Failures: []FailureRef{{Failure: Failure{Kind: KindServiceFailure, EventID: 7001, Class: ClassNotPort}}}},
		"not_port_without_code":   {Failures: []FailureRef{{Failure: Failure{Kind: KindServiceFailure, EventID: 7000, Class: ClassNotPort}}}},
		"unknown_class":           {Failures: []FailureRef{{Failure: Failure{Kind: KindServiceFailure, EventID: 7000, Service: "DNS Server", Time: at(0)}}}, Snapshots: []Snapshot{{ID: 1, CapturedAt: at(time.Hour), CaptureSource: parsers.CaptureFlag}}, Owners: &fakeOwners{refs: weird}},
		"boots_zero_and_odd": {Boots: []BootRef{{}, {Boot: BootMarker{Kind: BootStart, EventID: 12}}, {Boot: BootMarker{Kind: BootDirtyStop, EventID: 6008, Time: at(0)}},
			{Boot: BootMarker{Kind: BootStart, EventID: 12, BootTime: time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)}}, {Boot: BootMarker{Kind: BootStart, EventID: 12, BootTime: time.Date(30827, 12, 31, 0, 0, 0, 0, time.UTC)}}},
			Failures: []FailureRef{{Failure: Failure{Kind: KindServiceFailure, ServiceKey: "IAS", Class: ClassPortConflict, Time: at(time.Hour)}}}},
		"user_ports_odd":    {Failures: []FailureRef{{Failure: Failure{Kind: KindServiceFailure, Service: "X", Class: ClassPossiblyPort}}}, UserPorts: map[string][]PortSpec{"x": {{"", 0}, {"ICMP", 5}}}},
		"processes_no_snap": {Processes: []ProcessRef{{SnapshotID: 5}, {SnapshotID: 5, CapturedAt: at(0)}}, Failures: []FailureRef{zeroFail}},
		"ranges_odd":        {Ranges: []RangeRef{{Range: parsers.PortRange{Kind: "excluded", Start: 9, End: 1}}, {Range: parsers.PortRange{Kind: "dynamic"}}}, Failures: []FailureRef{{Failure: Failure{Kind: KindBindError, HasPort: true, Port: 5, Proto: parsers.UDP, Class: ClassPortConflict}}}},
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			fs, cov, err := Analyze(context.Background(), in)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if len(cov) == 0 {
				t.Error("no coverage")
			}
			for _, f := range fs {
				if f.Verdict == "" || f.Confidence < 0 || f.Confidence > 1 || len(f.Reasons) == 0 {
					t.Errorf("bad finding %+v", f)
				}
			}
		})
	}
}

// TestDeterministic: the same input gives the same output.
func TestDeterministic(t *testing.T) {
	for _, mk := range []func(*testing.T) Input{sbs2003IASDNS, apacheHTTPSys, winnatExcluded, ipsecBlockMode} {
		f1, c1 := analyze(t, mk(t))
		f2, c2 := analyze(t, mk(t))
		if !reflect.DeepEqual(f1, f2) || !reflect.DeepEqual(c1, c2) {
			t.Errorf("%s: two runs differ", mk(t).Bundle)
		}
	}
}

// TestSQLNetworkLibrarySignal: SQL Server's 17826 after its listener
// failed is a reason on that instance's finding, never a finding of its
// own, and not a reason on another instance's.
func TestSQLNetworkLibrarySignal(t *testing.T) {
	sql := func(provider string, id uint16, d time.Duration, rec uint64, data ...string) FailureRef {
		ev := &parsers.Event{Provider: provider, EventID: id, Channel: "Application", Time: at(d), RecordID: rec}
		for _, v := range data {
			ev.Data = append(ev.Data, parsers.Field{Value: v})
		}
		return failure(t, "Application.evtx", ev)
	}
	in := oneBoot2008([]FailureRef{
		sql("MSSQL$SALES", 26023, 2*time.Minute, 40, "'any'", "ipv4", "4100"),
		sql("MSSQL$SALES", 17826, 2*time.Minute+time.Second, 41),
		sql("MSSQL$SALES", 17120, 2*time.Minute+time.Second, 43),
		sql("MSSQL$OTHER", 26023, 3*time.Minute, 42, "'any'", "ipv4", "4200"),
	}, nil, nil)
	fs, _ := analyze(t, in)
	for _, f := range fs {
		if f.EventID == 17826 {
			t.Errorf("17826 became a finding")
		}
	}
	sales, other := findPort(t, fs, parsers.TCP, 4100), findPort(t, fs, parsers.TCP, 4200)
	if !hasReason(sales, "MSSQL$SALES logged event 17826") || !hasEvidence(sales, "Application.evtx", 0, 41) {
		t.Error("the SALES finding lacks the 17826 reason and evidence")
		dumpFinding(t, sales)
	}
	if !hasReason(sales, "17826 at 2026-03-02 08:02:01 UTC, event 17120 at") || !hasEvidence(sales, "Application.evtx", 0, 43) {
		t.Error("the SALES finding does not give 17826 and 17120 as one reason with both events as evidence")
		dumpFinding(t, sales)
	}
	n := 0
	for _, r := range sales.Reasons {
		if strings.Contains(r, "network library") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d network-library reasons, want 1", n)
	}
	if hasReason(other, "17826") {
		t.Error("another instance's finding cites SALES's 17826")
	}
}

// TestOwnersOtherSockets: the owner's other sockets on the port (its IPv6
// listener, an accepted connection) make one reason naming each line;
// another process on the port keeps a reason of its own.
func TestOwnersOtherSockets(t *testing.T) {
	ev := &parsers.Event{Provider: "MSSQLSERVER", EventID: 26023, Channel: "Application", Time: at(2 * time.Minute), RecordID: 77,
		Data: []parsers.Field{{Value: "'any'"}, {Value: "ipv4"}, {Value: "1433"}}}
	refs := []SocketRef{
		listen(1, 7, "0.0.0.0:1433", 2900),
		listen(1, 8, "[::]:1433", 2900),
		sock(1, 9, parsers.TCP, "10.0.0.12:1433", "10.0.0.40:51234", parsers.StateEstablished, 2900),
	}
	fs, _ := analyze(t, oneBoot2008([]FailureRef{failure(t, "Application.evtx", ev)}, refs, nil))
	f := findPort(t, fs, parsers.TCP, 1433)
	if !hasReason(f, "The same process also holds TCP [::]:1433 (line 8) and 10.0.0.12:1433 (ESTABLISHED to 10.0.0.40:51234) (line 9)") {
		t.Error("the owner's other sockets are not one reason naming both lines")
		dumpFinding(t, f)
	}
	if hasReason(f, "Also on that port") {
		t.Error("the owner's own sockets are listed as other holders")
	}
	if !hasEvidence(f, netstat, 8, 0) || !hasEvidence(f, netstat, 9, 0) {
		t.Error("the other sockets are not evidence")
	}

	refs = append(refs, listen(1, 10, "10.0.0.12:1433", 3100))
	fs, _ = analyze(t, oneBoot2008([]FailureRef{failure(t, "Application.evtx", ev)}, refs, nil))
	if f := findPort(t, fs, parsers.TCP, 1433); !hasReason(f, "Also on that port in the same snapshot: PID 3100") {
		t.Error("another process on the port has no reason of its own")
		dumpFinding(t, f)
	}
}
