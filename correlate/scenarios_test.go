package correlate

import (
	"slices"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// The ten scenarios the project ships (issue 4), as pure Input values.

const (
	sysEvt   = "System.evt"
	sysEvtx  = "System.evtx"
	netstat  = "netstat-ano.txt"
	tasklist = "tasklist-svc.txt"
)

// sbs2003IASDNS: SBS 2003, IAS fails with 10048 after a reboot; dns.exe's
// socket pool holds UDP 1812 among ~2,500 ports.
func sbs2003IASDNS(t *testing.T) Input {
	boots := append(boot2003(sysEvt, at(-48*time.Hour), 100), stop6006(sysEvt, at(-10*time.Minute), 190))
	boots = append(boots, boot2003(sysEvt, at(0), 200)...)
	refs := []SocketRef{
		listen(1, 5, "0.0.0.0:53", 1640),
		udp(1, 40, "0.0.0.0:1812", 1640),
		udp(1, 41, "0.0.0.0:53", 1640),
		udp(1, 42, "10.0.0.5:137", 4),
	}
	refs = append(refs, dnsPool(1, 100, 5001, 1640)...)
	return Input{
		Bundle: "sbs2003-ias-dns", Host: "SBS01", OSVersion: "5.2.3790",
		Failures: []FailureRef{failure(t, sysEvt, legacySCM(at(2*time.Minute), 231, 7023,
			"Internet Authentication Service", "Only one usage of each socket address (protocol/network address/port) is normally permitted."))},
		Boots:     boots,
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, Host: "SBS01", CapturedAt: at(30 * time.Minute), CaptureSource: parsers.CaptureTimestampLine}},
		Processes: []ProcessRef{
			proc(2, tasklist, 4, "System", 4, at(31*time.Minute)),
			proc(2, tasklist, 20, "dns.exe", 1640, at(31*time.Minute), "DNS"),
			proc(2, tasklist, 21, "svchost.exe", 880, at(31*time.Minute), "Dhcp", "Dnscache"),
		},
		Owners: &fakeOwners{refs: refs},
	}
}

// blackberryLSASS: 2003, BlackBerry Router fails; lsass.exe holds TCP 3101.
func blackberryLSASS(t *testing.T) Input {
	return Input{
		Bundle: "blackberry-lsass", Host: "BES01", OSVersion: "5.2.3790",
		Failures: []FailureRef{failure(t, sysEvt, scmAt(at(90*time.Second), 310, 7023, "BlackBerry Router", "BlackBerry Router", "%%10048"))},
		Boots:    boot2003(sysEvt, at(0), 300),
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(20 * time.Minute), CaptureSource: parsers.CaptureFlag},
			{ID: 2, Artifact: "tcpvcon-a-c.csv", Format: parsers.FormatTcpvcon, CapturedAt: at(20 * time.Minute), CaptureSource: parsers.CaptureFlag, NoPorts: true}},
		Processes: []ProcessRef{
			proc(2, "tcpvcon-a-c.csv", 12, "lsass.exe", 512, at(20*time.Minute), "Netlogon", "PolicyAgent", "ProtectedStorage", "SamSs"),
		},
		Owners: &fakeOwners{refs: []SocketRef{listen(1, 9, "0.0.0.0:3101", 512), listen(1, 10, "0.0.0.0:389", 512)}},
	}
}

// apacheHTTPSys: 2008 R2, Apache exits with 1 (7024) after make_sock
// could not bind 0.0.0.0:80 (3299); PID 4 listens on 80.
func apacheHTTPSys(t *testing.T) Input {
	app := &parsers.Event{Provider: "Apache Service", EventID: 3299, Channel: "Application", Time: at(3 * time.Minute), RecordID: 812, Data: []parsers.Field{
		{Value: "The Apache service named"}, {Value: "Apache2.2"}, {Value: "reported the following error:\r\n>>>"},
		{Value: "(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : make_sock: could not bind to address 0.0.0.0:80"}}}
	ns := listen(1, 7, "0.0.0.0:80", 4)
	ns.Socket.Owner = "Can not obtain ownership information"
	return Input{
		Bundle: "apache-httpsys", Host: "WEB01", OSVersion: "6.1.7601",
		Failures: []FailureRef{
			failure(t, sysEvtx, scmAt(at(3*time.Minute+time.Second), 4410, 7024, "Apache2.2", "Apache2.2", "%%1")),
			failure(t, "Application.evtx", app),
		},
		Boots:     []BootRef{boot12(sysEvtx, at(0), 4300)},
		Snapshots: []Snapshot{{ID: 1, Artifact: "netstat-anob.txt", Format: parsers.FormatNetstat, CapturedAt: at(time.Hour), CaptureSource: parsers.CaptureZipExtended}},
		Owners:    &fakeOwners{refs: []SocketRef{ns, listen(1, 9, "0.0.0.0:445", 4)}},
	}
}

// winnatExcluded: Windows 10, HTTP.sys cannot bind 127.0.0.1:10000 (15005,
// STATUS_ACCESS_DENIED); nobody holds it; a WinNAT range covers it.
func winnatExcluded(t *testing.T) Input {
	// IO_ERROR_LOG_PACKET with DumpData STATUS_ACCESS_DENIED (0xC0000022).
	bin := "0000040002003000000000009D3A00C0000000000000000000000000000000000000000000000000" + "220000C0"
	ev := &parsers.Event{Provider: "Microsoft-Windows-HttpEvent", EventSource: "HTTP", EventID: 15005, Channel: "System", Time: at(time.Minute), RecordID: 9001,
		Data: []parsers.Field{{Name: "DeviceObject", Value: `\Device\Http\ReqQueue`}, {Name: "Address", Value: "127.0.0.1:10000"}}, Binary: bin}
	return Input{
		Bundle: "winnat-excluded", Host: "DEV01", OSVersion: "10.0.19045",
		Failures:  []FailureRef{failure(t, sysEvtx, ev)},
		Boots:     []BootRef{boot12(sysEvtx, at(0), 9000)},
		Snapshots: []Snapshot{{ID: 1, Artifact: "Get-NetTCPConnection.csv", Format: parsers.FormatPSNetTCP, CapturedAt: at(2 * time.Hour), CaptureSource: parsers.CaptureFileName}},
		// The netsh files have no timestamp line: their time is the file's (in the failure's boot, untrusted).
		Ranges: inTable(at(4*time.Hour), parsers.CaptureFileModTime,
			RangeRef{Artifact: "excluded-tcp.txt", Line: 6, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 5357, End: 5357}},
			RangeRef{Artifact: "excluded-tcp.txt", Line: 7, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 9948, End: 10047}},
			RangeRef{Artifact: "excluded-tcp.txt", Line: 9, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 50000, End: 50059, Administered: true}},
			RangeRef{Artifact: "dynamic-tcp.txt", Line: 4, Range: parsers.PortRange{Kind: "dynamic", Proto: parsers.TCP, Start: 1024, End: 14999}},
		),
		Owners: &fakeOwners{refs: []SocketRef{listen(1, 2, "0.0.0.0:135", 900), listen(1, 3, "127.0.0.1:10001", 5120)}},
	}
}

// iasPortFree: 2008 R2, NPS fails with 10048 but its ports are free in a
// snapshot of the same boot taken afterwards.
func iasPortFree(t *testing.T) Input {
	return Input{
		Bundle: "ias-port-free", Host: "NPS01", OSVersion: "6.1.7601",
		Failures:  []FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 5100, 7023, "IAS", "Network Policy Server", "%%10048"))},
		Boots:     []BootRef{boot12(sysEvtx, at(0), 5000)},
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(45 * time.Minute), CaptureSource: parsers.CaptureTimestampLine}},
		Processes: []ProcessRef{proc(2, tasklist, 30, "dns.exe", 1500, at(45*time.Minute), "DNS")},
		Ranges:    []RangeRef{{Artifact: "excluded-udp.txt", Line: 6, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.UDP, Start: 5357, End: 5357}}},
		Owners:    &fakeOwners{refs: []SocketRef{udp(1, 40, "0.0.0.0:53", 1500), udp(1, 41, "0.0.0.0:1900", 1200)}},
	}
}

// staleSnapshot: the only snapshot comes from the boot before the failure.
func staleSnapshot(t *testing.T) Input {
	in := sbs2003IASDNS(t)
	in.Bundle = "stale-snapshot"
	in.Snapshots[0].CapturedAt = at(-24 * time.Hour)
	for i := range in.Processes {
		in.Processes[i].CapturedAt = at(-24*time.Hour + time.Minute)
	}
	return in
}

// sqlEphemeral: 2003, a named SQL instance cannot listen on its static TCP
// 4100 because an outgoing connection took it as its local port.
func sqlEphemeral(t *testing.T) Input {
	ev := &parsers.Event{Provider: "MSSQL$SALES", EventID: 26023, Channel: "Application", Time: at(4 * time.Minute), RecordID: 7001,
		Message: "Server TCP provider failed to listen on [ 'any' <ipv4> 4100]. Tcp port is already in use."}
	ev17182 := &parsers.Event{Provider: "MSSQL$SALES", EventID: 17182, Channel: "Application", Time: at(4 * time.Minute), RecordID: 7002,
		Data: []parsers.Field{{Value: "TDSSNIClient initialization failed with error 0x2740, status code 0xa. Reason: Unable to initialize the TCP/IP listener."}}}
	return Input{
		Bundle: "sql-ephemeral", Host: "SQL01", OSVersion: "5.2.3790",
		Failures:  []FailureRef{failure(t, "Application.evt", ev), failure(t, "Application.evt", ev17182)},
		Boots:     boot2003(sysEvt, at(0), 700),
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(10 * time.Minute), CaptureSource: parsers.CaptureTimestampLine}},
		Processes: []ProcessRef{
			proc(1, netstat, 15, "w3wp.exe", 2200, time.Time{}),
			proc(1, netstat, 18, "sqlservr.exe", 1300, time.Time{}, "MSSQL$SALES"),
		},
		Owners: &fakeOwners{refs: []SocketRef{
			sock(1, 14, parsers.TCP, "10.0.0.5:4100", "10.0.0.9:1433", parsers.StateEstablished, 2200),
			listen(1, 17, "0.0.0.0:1433", 1300),
		}},
	}
}

// ipsecBlockMode: 2003, IPSEC Services cannot bind UDP 500, the driver
// enters Block mode (4292); svchost.exe hosting RRAS holds UDP 500.
func ipsecBlockMode(t *testing.T) Input {
	return Input{
		Bundle: "ipsec-blockmode", Host: "GW01", OSVersion: "5.2.3790",
		Failures: []FailureRef{
			failure(t, sysEvt, scmAt(at(50*time.Second), 820, 7023, "PolicyAgent", "IPSEC Services", "%%10048")),
			failure(t, sysEvt, &parsers.Event{Provider: "IPSEC", EventID: 4292, Channel: "System", Time: at(52 * time.Second), RecordID: 821}),
		},
		Boots:     boot2003(sysEvt, at(0), 800),
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(15 * time.Minute), CaptureSource: parsers.CaptureFlag}},
		Processes: []ProcessRef{proc(2, tasklist, 33, "svchost.exe", 1100, at(16*time.Minute), "RemoteAccess", "SharedAccess")},
		Owners:    &fakeOwners{refs: []SocketRef{udp(1, 22, "0.0.0.0:500", 1100), udp(1, 23, "0.0.0.0:1701", 1100)}},
	}
}

// npsGerman2008R2: German 2008 R2, NPS ("Netzwerkrichtlinienserver", key
// IAS in Binary) fails; dns.exe holds UDP 1812.
func npsGerman2008R2(t *testing.T) Input {
	refs := append([]SocketRef{udp(1, 30, "0.0.0.0:1812", 1500)}, dnsPool(1, 200, 50000, 1500)...)
	return Input{
		Bundle: "nps-german-2008r2", Host: "NPS02", OSVersion: "6.1.7601",
		Failures:  []FailureRef{failure(t, sysEvtx, scmAt(at(3*time.Minute), 6100, 7023, "IAS", "Netzwerkrichtlinienserver", "%%10048"))},
		Boots:     []BootRef{boot12(sysEvtx, at(0), 6000)},
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(25 * time.Minute), CaptureSource: parsers.CaptureTimestampLine}},
		Processes: []ProcessRef{proc(2, tasklist, 41, "dns.exe", 1500, at(26*time.Minute), "DNS")},
		Owners:    &fakeOwners{refs: refs},
	}
}

// disabledService: 7000 with 1058.
func disabledService(t *testing.T) Input {
	return Input{
		Bundle: "disabled-service", Host: "APP01", OSVersion: "10.0.17763",
		Failures:  []FailureRef{failure(t, sysEvtx, scmAt(at(time.Minute), 42, 7000, "Fax", "Fax", "%%1058"))},
		Boots:     []BootRef{boot12(sysEvtx, at(0), 40)},
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(time.Hour), CaptureSource: parsers.CaptureFlag}},
		Owners:    &fakeOwners{},
	}
}

// Remedies expected for the scenarios, command by command.
var (
	remedyDNS2003 = []string{
		"REM dns.exe binds a pool of random UDP ports when it starts (MS08-037): keep UDP 1645-1646, 1812-1813 out of it.",
		`reg query "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts`,
		`REM ReservedPorts (REG_MULTI_SZ) holds one start-end range per line and covers TCP and UDP. reg add replaces the value: put the lines reg query showed first, separated by \0. Use ranges, never consecutive single ports (KB812873).`,
		`reg add "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts /t REG_MULTI_SZ /d "1645-1646\01812-1813" /f`,
		"net stop DNS",
		"net start DNS",
		"net start IAS",
		"REM ReservedPorts takes effect at the next boot: restart the server, then check that the service started.",
	}
	remedyDNS2008R2 = []string{
		"REM dns.exe binds a pool of random UDP ports when it starts (MS08-037): keep UDP 1645-1646, 1812-1813 out of it.",
		"dnscmd /Info /SocketPoolExcludedPortRanges",
		"REM /Config replaces the list: include the ranges /Info showed (ranges separated by spaces).",
		"dnscmd /Config /SocketPoolExcludedPortRanges 1645-1646 1812-1813",
		"netsh int ipv4 show excludedportrange protocol=udp",
		"REM netsh refuses to exclude a port that is in use: run these while the port is free (stop its holder first).",
		"netsh int ipv4 add excludedportrange protocol=udp startport=1645 numberofports=2 store=persistent",
		"netsh int ipv4 add excludedportrange protocol=udp startport=1812 numberofports=2 store=persistent",
		"net stop DNS",
		"net start DNS",
		"net start IAS",
		"REM If the service still fails, restart the server so DNS builds its pool after the reservation.",
	}
	remedyLSASS2003 = []string{
		"REM lsass.exe (PID 512) holds TCP 3101: Active Directory took it as an RPC port. Check whether it is configured as AD's static RPC port:",
		`reg query "HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters" /v "TCP/IP Port"`,
		`reg query "HKLM\SYSTEM\CurrentControlSet\Services\Netlogon\Parameters" /v DCTcpipPort`,
		"REM If either value is 3101, give AD another static port outside the dynamic range that no other service needs (KB224196). Otherwise reserve the port:",
		`reg query "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts`,
		`REM ReservedPorts (REG_MULTI_SZ) holds one start-end range per line and covers TCP and UDP. reg add replaces the value: put the lines reg query showed first, separated by \0. Use ranges, never consecutive single ports (KB812873).`,
		`reg add "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts /t REG_MULTI_SZ /d "3101-3101" /f`,
		"REM Restart the server so lsass.exe picks its ports without this one, then check the service:",
		`net start "BlackBerry Router"`,
	}
	remedyHTTPSys2008R2 = []string{
		"REM PID 4 (System) holds TCP 80: HTTP.sys serves it for a consumer such as W3SVC/WAS, WinRM, ReportServer or MsDepSvc.",
		"netsh http show servicestate",
		"netsh http show urlacl",
		"netsh http show iplisten",
		"REM Stop or disable the consumer that registered the port (servicestate names its process), or move it to another port.",
		"REM The service binds every address on port 80, so restricting HTTP.sys with iplisten cannot share the port with it.",
		"REM Then restart the HTTP.sys consumer and start the service:",
		"net start Apache2.2",
	}
	remedyWinNAT10 = []string{
		"REM WinNAT (Hyper-V, WSL 2, Docker Desktop) reserves blocks of ports at each boot; reserve this port for the service before WinNAT takes it:",
		"netsh int ipv4 show excludedportrange protocol=tcp",
		"net stop winnat",
		"netsh int ipv4 add excludedportrange protocol=tcp startport=10000 numberofports=1 store=persistent",
		"net start winnat",
		"REM Or move the dynamic range back to the default, which starts above the port, so WinNAT reserves its blocks there:",
		"netsh int ipv4 show dynamicport tcp",
		"netsh int ipv4 set dynamicport tcp start=49152 num=16384",
		"netsh int ipv6 set dynamicport tcp start=49152 num=16384",
		"REM A reboot re-creates WinNAT's reservations (check them again after one). Start the service now:",
		"REM Restart the service that registered the address with HTTP.sys (netsh http show servicestate lists it).",
	}
	remedyEphemeral2003 = []string{
		"REM TCP 4100 lies in the dynamic (ephemeral) port range 1025-5000, which Windows hands out to outgoing connections and random-port services: reserve it so the service finds it free.",
		`reg query "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts`,
		`REM ReservedPorts (REG_MULTI_SZ) holds one start-end range per line and covers TCP and UDP. reg add replaces the value: put the lines reg query showed first, separated by \0. Use ranges, never consecutive single ports (KB812873).`,
		`reg add "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts /t REG_MULTI_SZ /d "4100-4100" /f`,
		"REM Restart the server (or the process holding the port) so the port is free, then start the service:",
		"net start MSSQL$SALES",
	}
	remedyIPsec2003 = []string{
		"REM The IPsec driver is in Block mode (event 4292): the server passes no network traffic until IPsec starts. Reserve UDP 500 and 4500 so no other process takes them at boot:",
		`reg query "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts`,
		`REM ReservedPorts (REG_MULTI_SZ) holds one start-end range per line and covers TCP and UDP. reg add replaces the value: put the lines reg query showed first, separated by \0. Use ranges, never consecutive single ports (KB812873).`,
		`reg add "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts /t REG_MULTI_SZ /d "500-500\04500-4500" /f`,
		"REM Restart the server so the reservation takes effect and IPsec starts before the other process.",
		"REM Emergency, to get the network back when the server is cut off: disable the IPsec service and restart, then re-enable it once the ports are reserved:",
		"sc config PolicyAgent start= disabled",
	}
)

// evidenceAt is a place a finding must cite.
type evidenceAt struct {
	artifact string
	line     int
	record   uint64
}

func TestScenarios(t *testing.T) {
	tests := []struct {
		name      string
		input     func(*testing.T) Input
		proto     parsers.Proto
		port      uint16
		nFindings int
		verdict   Verdict
		rule      Rule
		minConf   float64
		maxConf   float64
		ownerPID  int
		owner     string
		source    PortSource
		key       string
		reasons   []string
		remedy    []string
		kb        []string
		evidence  []evidenceAt
	}{
		{name: "sbs2003_ias_dns", input: sbs2003IASDNS, proto: parsers.UDP, port: 1812, nFindings: 4,
			verdict: Confirmed, rule: RuleDNSSocketPool, minConf: 0.8, maxConf: 0.9, ownerPID: 1640, owner: "dns.exe", source: PortSourceCatalog, key: "IAS",
			reasons: []string{"Internet Authentication Service (IAS) failed at 2026-03-02 08:02:00 UTC: event 7023", "the catalog knows it as the service IAS",
				"in the same boot session", "It holds 2501 UDP sockets in this snapshot", "boot session 2"},
			remedy: remedyDNS2003, kb: []string{kbDNSPool, kbUDPIssues, kbReserved},
			evidence: []evidenceAt{{netstat, 40, 0}, {tasklist, 20, 0}}},
		{name: "blackberry_lsass", input: blackberryLSASS, proto: parsers.TCP, port: 3101, nFindings: 1,
			verdict: Confirmed, rule: RuleLSASSDynamic, minConf: 0.8, maxConf: 0.9, ownerPID: 512, owner: "lsass.exe", source: PortSourceCatalog, key: "BlackBerry Router",
			reasons: []string{"KB224196"}, remedy: remedyLSASS2003, kb: []string{kbLSASS, kbReserved},
			evidence: []evidenceAt{{netstat, 9, 0}, {"tcpvcon-a-c.csv", 12, 0}}},
		{name: "apache_httpsys", input: apacheHTTPSys, proto: parsers.TCP, port: 80, nFindings: 1,
			verdict: Confirmed, rule: RuleHTTPSys, minConf: 0.95, maxConf: 0.95, ownerPID: 4, owner: "System", source: PortSourceEvent, key: "Apache2.2",
			reasons:  []string{"event 3299 from Apache Service", "It also logged event 7024", "service-specific exit code 1", "0.0.0.0:80"},
			remedy:   remedyHTTPSys2008R2,
			evidence: []evidenceAt{{"netstat-anob.txt", 7, 0}}},
		{name: "winnat_excluded", input: winnatExcluded, proto: parsers.TCP, port: 10000, nFindings: 1,
			verdict: ReservedRange, rule: RuleExcludedRange, minConf: 0.81, maxConf: 0.81, ownerPID: -1, source: PortSourceEvent, key: "HTTP",
			reasons: []string{"excluded port range 9948-10047", "10013", "in the failure's boot session (1); its time is uncertain"}, remedy: remedyWinNAT10, kb: []string{kbDynamic},
			evidence: []evidenceAt{{"excluded-tcp.txt", 7, 0}}},
		{name: "ias_port_free", input: iasPortFree, proto: parsers.UDP, port: 1812, nFindings: 4,
			verdict: NoConflictSeen, minConf: 0.5, maxConf: 0.7, ownerPID: -1, source: PortSourceCatalog, key: "IAS",
			reasons: []string{"As far as snapshot netstat-ano.txt shows, this is not a port conflict", "What could still hide a conflict", "BOUND"}},
		{name: "stale_snapshot", input: staleSnapshot, proto: parsers.UDP, port: 1812, nFindings: 4,
			verdict: Probable, rule: RuleDNSSocketPool, minConf: 0.3, maxConf: 0.45, ownerPID: 1640, owner: "dns.exe", source: PortSourceCatalog, key: "IAS",
			reasons: []string{"earlier boot session", "PIDs are not comparable across boots"}, kb: []string{kbDNSPool, kbUDPIssues, kbReserved}},
		{name: "sql_ephemeral", input: sqlEphemeral, proto: parsers.TCP, port: 4100, nFindings: 1,
			verdict: Confirmed, rule: RuleEphemeral, minConf: 0.95, maxConf: 0.95, ownerPID: 2200, owner: "w3wp.exe", source: PortSourceEvent, key: "MSSQL$SALES",
			reasons: []string{"an outgoing connection took the port", "1025-5000", "event 17182"}, remedy: remedyEphemeral2003, kb: []string{kbDynamic, kbReserved},
			evidence: []evidenceAt{{netstat, 14, 0}, {netstat, 15, 0}}},
		{name: "ipsec_blockmode", input: ipsecBlockMode, proto: parsers.UDP, port: 500, nFindings: 2,
			verdict: Confirmed, rule: RuleIPsecBlockMode, minConf: 0.85, maxConf: 0.86, ownerPID: 1100, owner: "svchost.exe", source: PortSourceCatalog, key: "PolicyAgent",
			reasons: []string{"event 4292", "Block mode"}, remedy: remedyIPsec2003, kb: []string{kbUDPIssues, kbReserved},
			evidence: []evidenceAt{{netstat, 22, 0}, {tasklist, 33, 0}, {sysEvt, 0, 821}}},
		{name: "nps_german_2008r2", input: npsGerman2008R2, proto: parsers.UDP, port: 1812, nFindings: 4,
			verdict: Confirmed, rule: RuleDNSSocketPool, minConf: 0.85, maxConf: 0.86, ownerPID: 1500, owner: "dns.exe", source: PortSourceCatalog, key: "IAS",
			reasons: []string{"Netzwerkrichtlinienserver (IAS) failed", "by its key IAS"}, remedy: remedyDNS2008R2, kb: []string{kbDNSPool, kbUDPIssues}},
		{name: "disabled_service", input: disabledService, nFindings: 1,
			verdict: NotPortRelated, minConf: 0.9, maxConf: 0.9, ownerPID: -1, key: "Fax",
			reasons: []string{"1058: the service is disabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := analyze(t, tt.input(t))
			if got, want := len(fs), tt.nFindings; got != want {
				for _, f := range fs {
					dumpFinding(t, f)
				}
				t.Fatalf("got %d findings, want %d", got, want)
			}
			f := fs[0]
			if tt.port != 0 {
				f = findPort(t, fs, tt.proto, tt.port)
			}
			t.Cleanup(func() {
				if t.Failed() {
					dumpFinding(t, f)
				}
			})
			if f.Verdict != tt.verdict || f.Rule != tt.rule {
				t.Errorf("verdict %s rule %q, want %s %q", f.Verdict, f.Rule, tt.verdict, tt.rule)
			}
			if f.Confidence < tt.minConf || f.Confidence > tt.maxConf {
				t.Errorf("confidence %v, want [%v, %v]", f.Confidence, tt.minConf, tt.maxConf)
			}
			if f.OwnerPID != tt.ownerPID || f.OwnerImage != tt.owner {
				t.Errorf("owner %d %q, want %d %q", f.OwnerPID, f.OwnerImage, tt.ownerPID, tt.owner)
			}
			if f.PortSource != tt.source || f.ServiceKey != tt.key {
				t.Errorf("port source %q key %q, want %q %q", f.PortSource, f.ServiceKey, tt.source, tt.key)
			}
			for _, r := range tt.reasons {
				if !hasReason(f, r) {
					t.Errorf("no reason contains %q", r)
				}
			}
			if tt.remedy != nil && !slices.Equal(f.Remedy, tt.remedy) {
				t.Errorf("remedy:\n got %q\nwant %q", f.Remedy, tt.remedy)
			}
			if !slices.Equal(f.KB, tt.kb) {
				t.Errorf("KB %q, want %q", f.KB, tt.kb)
			}
			for _, e := range tt.evidence {
				if !hasEvidence(f, e.artifact, e.line, e.record) {
					t.Errorf("no evidence at %s line %d record %d", e.artifact, e.line, e.record)
				}
			}
			// Every finding cites its failure event by record.
			fail := f.Evidence[0]
			if fail.RecordID == 0 || fail.Channel == "" || fail.Text == "" {
				t.Errorf("first evidence is not the failure event: %+v", fail)
			}
		})
	}
}

// TestScenarioSiblingPorts: the other ports of a multi-port service.
func TestScenarioSiblingPorts(t *testing.T) {
	fs, _ := analyze(t, sbs2003IASDNS(t))
	for _, port := range []uint16{1813, 1645, 1646} {
		f := findPort(t, fs, parsers.UDP, port)
		if f.Verdict != NoConflictSeen || f.Rule != "" || len(f.Remedy) != 0 {
			t.Errorf("UDP %d: %s rule %q remedy %d lines, want NO_CONFLICT_SEEN without rule", port, f.Verdict, f.Rule, len(f.Remedy))
		}
	}
	fs, _ = analyze(t, ipsecBlockMode(t))
	f := findPort(t, fs, parsers.UDP, 4500)
	if f.Verdict != NoConflictSeen || !hasReason(f, "Block mode") {
		t.Errorf("UDP 4500: %s, want NO_CONFLICT_SEEN mentioning Block mode", f.Verdict)
		dumpFinding(t, f)
	}
}

// TestScenarioMutations: small changes to a scenario move its verdict.
func TestScenarioMutations(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Input)
		verdict Verdict
		rule    Rule
		reason  string
	}{
		{"unchanged", func(*Input) {}, Confirmed, RuleDNSSocketPool, "in the same boot session"},
		{"owner_row_removed", func(in *Input) {
			o := in.Owners.(*fakeOwners)
			o.refs = slices.DeleteFunc(slices.Clone(o.refs), func(r SocketRef) bool { return r.Line == 40 })
		}, NoConflictSeen, "", "As far as snapshot netstat-ano.txt shows, this is not a port conflict"},
		{"snapshot_moved_to_earlier_boot", func(in *Input) {
			in.Snapshots[0].CapturedAt = at(-30 * time.Minute)
		}, Probable, RuleDNSSocketPool, "PIDs are not comparable across boots"},
		{"snapshot_same_boot_before_failure", func(in *Input) {
			in.Snapshots[0].CapturedAt = at(time.Minute)
		}, Probable, RuleDNSSocketPool, "in the same boot session (PIDs are comparable)"},
		{"snapshot_time_from_file_mtime", func(in *Input) {
			in.Snapshots[0].CaptureSource = parsers.CaptureFileModTime
		}, Probable, RuleDNSSocketPool, "capture time is not trustworthy"},
		{"snapshot_time_unknown", func(in *Input) {
			in.Snapshots[0].CapturedAt = time.Time{}
		}, Probable, RuleDNSSocketPool, "capture time of snapshot netstat-ano.txt is unknown"},
		{"no_boots", func(in *Input) {
			in.Boots = nil
		}, Probable, RuleDNSSocketPool, "no boot markers were supplied"},
		{"no_tasklist_pool_count", func(in *Input) {
			in.Processes = nil
		}, Confirmed, RuleDNSSocketPool, "the signature of the DNS server's socket pool"},
		{"no_snapshot", func(in *Input) {
			in.Snapshots = nil
		}, NoSnapshot, "", "No socket snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sbs2003IASDNS(t)
			tt.mutate(&in)
			fs, _ := analyze(t, in)
			f := findPort(t, fs, parsers.UDP, 1812)
			if f.Verdict != tt.verdict || f.Rule != tt.rule || !hasReason(f, tt.reason) {
				t.Errorf("got %s %q, want %s %q with a reason containing %q", f.Verdict, f.Rule, tt.verdict, tt.rule, tt.reason)
				dumpFinding(t, f)
			}
		})
	}
}

// TestNPSGermanWithoutBinary: without the key in Binary, the German display
// name finds the service in the catalog.
func TestNPSGermanWithoutBinary(t *testing.T) {
	in := npsGerman2008R2(t)
	in.Failures[0].Failure.ServiceKey = ""
	fs, _ := analyze(t, in)
	f := findPort(t, fs, parsers.UDP, 1812)
	if f.ServiceKey != "IAS" || f.Verdict != Confirmed || f.Rule != RuleDNSSocketPool {
		t.Errorf("key %q verdict %s rule %q, want IAS CONFIRMED dns-socket-pool", f.ServiceKey, f.Verdict, f.Rule)
	}
	if !hasReason(f, `display name "Netzwerkrichtlinienserver"; the catalog knows it (de) as the service IAS`) {
		t.Errorf("no reason says how the key was found")
		dumpFinding(t, f)
	}
}
