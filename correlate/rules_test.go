package correlate

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/portmortem/portmortem/parsers"
)

func TestMatchRule(t *testing.T) {
	block := &FailureRef{Failure: Failure{EventID: 4292, Time: at(0)}}
	vista := portRange{49152, 65535}
	legacy := portRange{1025, 5000}
	tests := []struct {
		name   string
		facts  ruleFacts
		want   Rule
		reason string
	}{
		{"ipsec_block_mode", ruleFacts{Proto: parsers.UDP, Port: 500, OwnerPID: 1640, OwnerImage: "dns.exe", IPsecService: true, BlockMode: block},
			RuleIPsecBlockMode, "entered Block mode"},
		{"ipsec_without_4292_is_dns", ruleFacts{Proto: parsers.UDP, Port: 500, OwnerPID: 1640, OwnerImage: "dns.exe", IPsecService: true},
			RuleDNSSocketPool, "socket pool"},
		{"httpsys_pid4", ruleFacts{Proto: parsers.TCP, Port: 80, OwnerPID: 4, OwnerImage: "System"},
			RuleHTTPSys, "HTTP.sys"},
		{"pid4_smb_is_not_httpsys", ruleFacts{Proto: parsers.TCP, Port: 445, OwnerPID: 4, OwnerImage: "System", OwnerStatic: true, OwnerStaticSvc: "lanmanserver"},
			RuleOther, "Server service (SMB)"},
		{"dns_by_image", ruleFacts{Proto: parsers.UDP, Port: 1812, OwnerPID: 1640, OwnerImage: "DNS.EXE", UDPCount: 2500, HasCount: true},
			RuleDNSSocketPool, "It holds 2500 UDP sockets"},
		{"dns_by_service", ruleFacts{Proto: parsers.UDP, Port: 1812, OwnerPID: 1640, OwnerImage: "svchost.exe", OwnerServices: []string{"dns"}},
			RuleDNSSocketPool, "socket pool"},
		{"dns_by_count_unmapped", ruleFacts{Proto: parsers.UDP, Port: 1812, OwnerPID: 1640, UDPCount: 200, HasCount: true},
			RuleDNSSocketPool, "could not be mapped"},
		{"count_below_threshold", ruleFacts{Proto: parsers.UDP, Port: 1812, OwnerPID: 1640, UDPCount: 199, HasCount: true},
			RuleOther, "No known culprit"},
		{"count_of_a_known_non_dns_image", ruleFacts{Proto: parsers.UDP, Port: 1812, OwnerPID: 1640, OwnerImage: "vpnagent.exe", UDPCount: 900, HasCount: true},
			RuleOther, "No known culprit"},
		{"dns_tcp_is_not_the_pool", ruleFacts{Proto: parsers.TCP, Port: 53, OwnerPID: 1640, OwnerImage: "dns.exe"},
			RuleOther, "No known culprit"},
		{"lsass", ruleFacts{Proto: parsers.TCP, Port: 3101, OwnerPID: 512, OwnerImage: "lsass.exe", Dynamic: legacy, DynamicKnown: true},
			RuleLSASSDynamic, "KB224196"},
		{"ephemeral_outgoing", ruleFacts{Proto: parsers.TCP, Port: 4100, OwnerPID: 2200, OwnerImage: "w3wp.exe", Outgoing: true, RemoteText: "to 10.0.0.9:1433, ESTABLISHED",
			Dynamic: legacy, DynamicKnown: true, DynamicSource: "the default of Windows Server 2003 (5.2)"},
			RuleEphemeral, "an outgoing connection"},
		{"ephemeral_random_listener", ruleFacts{Proto: parsers.TCP, Port: 49700, OwnerPID: 900, OwnerImage: "svchost.exe", Dynamic: vista, DynamicKnown: true},
			RuleEphemeral, "picked it at random"},
		{"static_listener_in_dynamic_range_is_other", ruleFacts{Proto: parsers.TCP, Port: 49700, OwnerPID: 900, OwnerImage: "svchost.exe", Dynamic: vista, DynamicKnown: true,
			OwnerStatic: true, OwnerStaticSvc: "Contoso"},
			RuleOther, "two services are configured for the same port"},
		{"outside_dynamic_range", ruleFacts{Proto: parsers.TCP, Port: 3101, OwnerPID: 3000, OwnerImage: "java.exe", Dynamic: vista, DynamicKnown: true},
			RuleOther, "No known culprit"},
		{"dynamic_unknown", ruleFacts{Proto: parsers.TCP, Port: 4100, OwnerPID: 2200, Outgoing: true},
			RuleOther, "No known culprit"},
		{"same_product_by_catalog", ruleFacts{Proto: parsers.TCP, Port: 1433, OwnerPID: 2300, OwnerImage: "sqlservr.exe", OwnerServices: []string{"MSSQL$OTHER"},
			ServiceProduct: "sqlserver", OwnerProduct: "sqlserver", OwnerProdSvc: "MSSQL$OTHER"},
			RuleSameProduct, "another service of the same product (sqlserver)"},
		{"same_product_by_image", ruleFacts{Proto: parsers.TCP, Port: 8080, OwnerPID: 2300, OwnerImage: "Tomcat9.exe", ServiceImage: "tomcat9.exe"},
			RuleSameProduct, "runs the same image"},
		{"same_shared_host_is_not_same_product", ruleFacts{Proto: parsers.TCP, Port: 8080, OwnerPID: 2300, OwnerImage: "svchost.exe", ServiceImage: "svchost.exe"},
			RuleOther, "No known culprit"},
		{"same_product_outgoing_is_ephemeral", ruleFacts{Proto: parsers.TCP, Port: 4100, OwnerPID: 2300, OwnerImage: "sqlservr.exe", Outgoing: true,
			ServiceProduct: "sqlserver", OwnerProduct: "sqlserver", OwnerProdSvc: "MSSQL$OTHER", Dynamic: legacy, DynamicKnown: true},
			RuleEphemeral, "outgoing connection"},
		{"unknown_pid", ruleFacts{Proto: parsers.TCP, Port: 3101, OwnerPID: -1},
			RuleOther, "a process the snapshot does not name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := matchRule(tt.facts)
			if m.Rule != tt.want {
				t.Errorf("rule %q, want %q (%v)", m.Rule, tt.want, m.Reasons)
			}
			if len(m.Reasons) == 0 || !strings.Contains(strings.Join(m.Reasons, " "), tt.reason) {
				t.Errorf("reasons %q do not contain %q", m.Reasons, tt.reason)
			}
		})
	}
}

func TestParseOSFamily(t *testing.T) {
	tests := []struct {
		in    string
		want  osFamily
		label string
	}{
		{"5.2.3790", osLegacy, "Windows Server 2003 (5.2)"},
		{"5.02. 3790 Service Pack 2 Multiprocessor Free", osLegacy, "Windows Server 2003 (5.2)"},
		{"5.1.2600", osLegacy, "Windows XP (5.1)"},
		{"6.0.6002", osVista, "Windows Vista/Server 2008 (6.0)"},
		{"6.1.7601", osModern, "Windows 7/Server 2008 R2 (6.1)"},
		{"6.3.9600", osModern, "Windows 8.1/Server 2012 R2 (6.3)"},
		{"10.0.17763", osModern, "Windows 10/11 or Server 2016 and later (10.0)"},
		{"6.4", osModern, "Windows 7/Server 2008 R2 or later (6.4)"},
		{"", osUnknown, ""},
		{"Windows", osUnknown, ""},
		{"4.0.1381", osUnknown, ""},
		{"x.y", osUnknown, ""},
		{"11.0", osUnknown, ""},
	}
	for _, tt := range tests {
		got, label := parseOSFamily(tt.in)
		if got != tt.want || label != tt.label {
			t.Errorf("parseOSFamily(%q) = %v %q, want %v %q", tt.in, got, label, tt.want, tt.label)
		}
	}
}

func TestMergePorts(t *testing.T) {
	tests := []struct {
		in   []uint16
		want string
	}{
		{[]uint16{1812, 1813, 1645, 1646}, "1645-1646 1812-1813"},
		{[]uint16{500, 4500}, "500-500 4500-4500"},
		{[]uint16{3, 1, 2, 2, 5}, "1-3 5-5"},
		{[]uint16{65535, 65534}, "65534-65535"},
		{nil, ""},
	}
	for _, tt := range tests {
		var parts []string
		for _, r := range mergePorts(tt.in) {
			parts = append(parts, r.String())
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("mergePorts(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRemedies checks every rule's commands, exactly, for a given OS.
func TestRemedies(t *testing.T) {
	reservedQuery := `reg query "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts`
	reservedNote := `REM ReservedPorts (REG_MULTI_SZ) holds one start-end range per line and covers TCP and UDP. reg add replaces the value: put the lines reg query showed first, separated by \0. Use ranges, never consecutive single ports (KB812873).`
	reservedAdd := func(v string) string {
		return `reg add "HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters" /v ReservedPorts /t REG_MULTI_SZ /d "` + v + `" /f`
	}
	netshNote := "REM netsh refuses to exclude a port that is in use: run these while the port is free (stop its holder first)."
	tests := []struct {
		name string
		in   remedyInput
		want []string
		kb   []string
	}{
		{"dns_socket_pool_unknown_os", remedyInput{Rule: RuleDNSSocketPool, Family: osUnknown, Proto: parsers.UDP, Port: 1812, Ports: []uint16{1812, 1813}, ServiceKey: "IAS"},
			[]string{
				"REM dns.exe binds a pool of random UDP ports when it starts (MS08-037): keep UDP 1812-1813 out of it.",
				"REM On Windows Server 2008 R2 and later, exclude the ports from the DNS socket pool:",
				"dnscmd /Info /SocketPoolExcludedPortRanges",
				"REM /Config replaces the list: include the ranges /Info showed (ranges separated by spaces).",
				"dnscmd /Config /SocketPoolExcludedPortRanges 1812-1813",
				"REM The Windows version is unknown: on Windows 2000/XP/Server 2003 use ReservedPorts:",
				reservedQuery, reservedNote, reservedAdd("1812-1813"),
				"REM On Windows Vista/Server 2008 and later use netsh:",
				"netsh int ipv4 show excludedportrange protocol=udp", netshNote,
				"netsh int ipv4 add excludedportrange protocol=udp startport=1812 numberofports=2 store=persistent",
				"net stop DNS", "net start DNS", "net start IAS",
				"REM ReservedPorts takes effect at the next boot: restart the server, then check that the service started.",
			}, []string{kbDNSPool, kbUDPIssues, kbReserved}},
		{"dns_socket_pool_2008_ipv6", remedyInput{Rule: RuleDNSSocketPool, Family: osVista, Proto: parsers.UDP, Port: 1812, Addr: netip.MustParseAddr("::"), ServiceKey: "IAS"},
			[]string{
				"REM dns.exe binds a pool of random UDP ports when it starts (MS08-037): keep UDP 1812-1812 out of it.",
				"netsh int ipv4 show excludedportrange protocol=udp", netshNote,
				"netsh int ipv4 add excludedportrange protocol=udp startport=1812 numberofports=1 store=persistent",
				"netsh int ipv6 add excludedportrange protocol=udp startport=1812 numberofports=1 store=persistent",
				"net stop DNS", "net start DNS", "net start IAS",
				"REM If the service still fails, restart the server so DNS builds its pool after the reservation.",
			}, []string{kbDNSPool, kbUDPIssues}},
		{"lsass_2008r2", remedyInput{Rule: RuleLSASSDynamic, Family: osModern, Proto: parsers.TCP, Port: 3101, ServiceKey: "BlackBerry Router", OwnerPID: 640, OwnerImage: "lsass.exe"},
			[]string{
				"REM lsass.exe (PID 640) holds TCP 3101: Active Directory took it as an RPC port. Check whether it is configured as AD's static RPC port:",
				`reg query "HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters" /v "TCP/IP Port"`,
				`reg query "HKLM\SYSTEM\CurrentControlSet\Services\Netlogon\Parameters" /v DCTcpipPort`,
				"REM If either value is 3101, give AD another static port outside the dynamic range that no other service needs (KB224196). Otherwise reserve the port:",
				"netsh int ipv4 show excludedportrange protocol=tcp", netshNote,
				"netsh int ipv4 add excludedportrange protocol=tcp startport=3101 numberofports=1 store=persistent",
				"REM Restart the server so lsass.exe picks its ports without this one, then check the service:",
				`net start "BlackBerry Router"`,
			}, []string{kbLSASS}},
		{"ephemeral_2008r2_widened_range", remedyInput{Rule: RuleEphemeral, Family: osModern, Proto: parsers.TCP, Port: 2433, ServiceKey: "MSSQL$SALES", Dynamic: portRange{1025, 65535}},
			[]string{
				"REM TCP 2433 lies in the dynamic (ephemeral) port range 1025-65535, which Windows hands out to outgoing connections and random-port services: reserve it so the service finds it free.",
				"netsh int ipv4 show excludedportrange protocol=tcp", netshNote,
				"netsh int ipv4 add excludedportrange protocol=tcp startport=2433 numberofports=1 store=persistent",
				"REM Or move the dynamic range back to the default, which starts above the port:",
				"netsh int ipv4 show dynamicport tcp",
				"netsh int ipv4 set dynamicport tcp start=49152 num=16384",
				"netsh int ipv6 set dynamicport tcp start=49152 num=16384",
				"REM Restart the server (or the process holding the port) so the port is free, then start the service:",
				"net start MSSQL$SALES",
			}, []string{kbDynamic}},
		{"ephemeral_unknown_os", remedyInput{Rule: RuleEphemeral, Family: osUnknown, Proto: parsers.TCP, Port: 4100, ServiceKey: "MSSQL$SALES", Dynamic: portRange{1025, 5000}},
			[]string{
				"REM TCP 4100 lies in the dynamic (ephemeral) port range 1025-5000, which Windows hands out to outgoing connections and random-port services: reserve it so the service finds it free.",
				"REM The Windows version is unknown: on Windows 2000/XP/Server 2003 use ReservedPorts:",
				reservedQuery, reservedNote, reservedAdd("4100-4100"),
				"REM On Windows Vista/Server 2008 and later use netsh:",
				"netsh int ipv4 show excludedportrange protocol=tcp", netshNote,
				"netsh int ipv4 add excludedportrange protocol=tcp startport=4100 numberofports=1 store=persistent",
				"REM On Windows Vista/Server 2008 and later you can instead move the dynamic range back to the default, which starts above the port:",
				"netsh int ipv4 show dynamicport tcp",
				"netsh int ipv4 set dynamicport tcp start=49152 num=16384",
				"netsh int ipv6 set dynamicport tcp start=49152 num=16384",
				"REM Restart the server (or the process holding the port) so the port is free, then start the service:",
				"net start MSSQL$SALES",
			}, []string{kbDynamic, kbReserved}},
		{"ephemeral_2008r2_default_range", remedyInput{Rule: RuleEphemeral, Family: osModern, Proto: parsers.UDP, Port: 50000, ServiceKey: "Contoso", Dynamic: portRange{49152, 65535}},
			[]string{
				"REM UDP 50000 lies in the dynamic (ephemeral) port range 49152-65535, which Windows hands out to outgoing connections and random-port services: reserve it so the service finds it free.",
				"netsh int ipv4 show excludedportrange protocol=udp", netshNote,
				"netsh int ipv4 add excludedportrange protocol=udp startport=50000 numberofports=1 store=persistent",
				"REM Restart the server (or the process holding the port) so the port is free, then start the service:",
				"net start Contoso",
			}, []string{kbDynamic}},
		{"httpsys_2003_specific_address", remedyInput{Rule: RuleHTTPSys, Family: osLegacy, Proto: parsers.TCP, Port: 443, Addr: netip.MustParseAddr("10.0.0.5"), ServiceKey: "Apache2.2", OwnerPID: 4},
			[]string{
				"REM PID 4 (System) holds TCP 443: HTTP.sys serves it for a consumer such as W3SVC/WAS, WinRM, ReportServer or MsDepSvc.",
				"httpcfg query urlacl",
				"httpcfg query iplisten",
				`reg query "HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters" /v ListenOnlyList`,
				"REM Stop or disable the consumer that registered the port (servicestate names its process), or move it to another port.",
				"REM Or restrict HTTP.sys to the other addresses, leaving 10.0.0.5 to the service:",
				"httpcfg set iplisten -i <an address HTTP.sys should keep, not 10.0.0.5>",
				"REM Then restart the HTTP.sys consumer and start the service:",
				"net start Apache2.2",
			}, nil},
		{"httpsys_unknown_os", remedyInput{Rule: RuleHTTPSys, Family: osUnknown, Proto: parsers.TCP, Port: 80, ServiceKey: "nginx", OwnerPID: 4},
			[]string{
				"REM PID 4 (System) holds TCP 80: HTTP.sys serves it for a consumer such as W3SVC/WAS, WinRM, ReportServer or MsDepSvc.",
				"REM On Windows Vista/Server 2008 and later:",
				"netsh http show servicestate", "netsh http show urlacl", "netsh http show iplisten",
				"REM On Windows Server 2003 (httpcfg.exe is in the Support Tools):",
				"httpcfg query urlacl", "httpcfg query iplisten",
				`reg query "HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters" /v ListenOnlyList`,
				"REM Stop or disable the consumer that registered the port (servicestate names its process), or move it to another port.",
				"REM The service binds every address on port 80, so restricting HTTP.sys with iplisten cannot share the port with it.",
				"REM Then restart the HTTP.sys consumer and start the service:",
				"net start nginx",
			}, nil},
		{"excluded_range_administered", remedyInput{Rule: RuleExcludedRange, Family: osModern, Proto: parsers.TCP, Port: 50010, ServiceKey: "Contoso",
			Range: &parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 50000, End: 50059, Administered: true}},
			[]string{
				"REM The excluded range 50000-50059 is administered (*): someone or an installer added it on purpose with netsh.",
				"netsh int ipv4 show excludedportrange protocol=tcp",
				"REM If that exclusion is not needed, remove it; otherwise move the service to a port outside 50000-50059:",
				"netsh int ipv4 delete excludedportrange protocol=tcp startport=50000 numberofports=60 store=persistent",
				"REM A reboot re-creates WinNAT's reservations (check them again after one). Start the service now:",
				"net start Contoso",
			}, []string{kbDynamic}},
		{"excluded_range_winnat_high_port", remedyInput{Rule: RuleExcludedRange, Family: osModern, Proto: parsers.TCP, Port: 50200, ServiceKey: "Contoso",
			Range: &parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 50101, End: 50200}},
			[]string{
				"REM WinNAT (Hyper-V, WSL 2, Docker Desktop) reserves blocks of ports at each boot; reserve this port for the service before WinNAT takes it:",
				"netsh int ipv4 show excludedportrange protocol=tcp",
				"net stop winnat",
				"netsh int ipv4 add excludedportrange protocol=tcp startport=50200 numberofports=1 store=persistent",
				"net start winnat",
				"REM A reboot re-creates WinNAT's reservations (check them again after one). Start the service now:",
				"net start Contoso",
			}, []string{kbDynamic}},
		{"ipsec_2008r2_dns_owner", remedyInput{Rule: RuleIPsecBlockMode, Family: osModern, Proto: parsers.UDP, Port: 500, ServiceKey: "IKEEXT", OwnerPID: 1500, OwnerImage: "dns.exe"},
			[]string{
				"REM The IPsec driver is in Block mode (event 4292): the server passes no network traffic until IPsec starts. Reserve UDP 500 and 4500 so no other process takes them at boot:",
				"netsh int ipv4 show excludedportrange protocol=udp", netshNote,
				"netsh int ipv4 add excludedportrange protocol=udp startport=500 numberofports=1 store=persistent",
				"netsh int ipv4 add excludedportrange protocol=udp startport=4500 numberofports=1 store=persistent",
				"dnscmd /Config /SocketPoolExcludedPortRanges 500-500 4500-4500",
				"REM Restart the server so the reservation takes effect and IPsec starts before the other process.",
				"REM Emergency, to get the network back when the server is cut off: disable the IPsec service and restart, then re-enable it once the ports are reserved:",
				"sc config IKEEXT start= disabled",
			}, []string{kbUDPIssues, kbDNSPool}},
		{"same_product_2008r2", remedyInput{Rule: RuleSameProduct, Family: osModern, Proto: parsers.TCP, Port: 1433, ServiceKey: "MSSQLSERVER", OwnerPID: 2300, OwnerImage: "sqlservr.exe"},
			[]string{
				"REM PID 2300 (sqlservr.exe) is another instance of the same product on TCP 1433.",
				`tasklist /svc /fi "PID eq 2300"`,
				`netstat -ano | findstr ":1433 "`,
				"REM Give each instance its own port, or stop and disable the instance that should not run, then start the service:",
				"net start MSSQLSERVER",
			}, nil},
		{"other_2003", remedyInput{Rule: RuleOther, Family: osLegacy, Proto: parsers.TCP, Port: 3101, ServiceKey: "BlackBerry Router", OwnerPID: 3000, OwnerImage: "java.exe"},
			[]string{
				`tasklist /svc /fi "PID eq 3000"`,
				`netstat -ano | findstr ":3101 "`,
				"REM If that process took the port by chance (a dynamic port), reserve it so it is free at the next boot; if it needs the port itself, move one of the two services:",
				reservedQuery, reservedNote, reservedAdd("3101-3101"),
				"REM Restart the server (or the process holding the port), then start the service:",
				`net start "BlackBerry Router"`,
			}, []string{kbReserved}},
		// A service configured for the port: reserving it would lock out the
		// failed service too, so the other service is stopped instead.
		{"other_configured_service", remedyInput{Rule: RuleOther, Family: osModern, Proto: parsers.UDP, Port: 53, ServiceKey: "DNS", OwnerPID: 2412, OwnerImage: "svchost.exe", OwnerService: "SharedAccess"},
			[]string{
				`tasklist /svc /fi "PID eq 2412"`,
				`netstat -ano | findstr ":53 "`,
				"REM SharedAccess is configured for UDP 53 itself. Keep the service that should have the port: stop and disable the other one, or move one of them to another port.",
				"net stop SharedAccess",
				"sc config SharedAccess start= disabled",
				"net start DNS",
			}, nil},
		{"other_unknown_pid", remedyInput{Rule: RuleOther, Family: osModern, Proto: parsers.UDP, Port: 69, OwnerPID: -1},
			[]string{
				`netstat -ano | findstr ":69 "`,
				"REM If that process took the port by chance (a dynamic port), reserve it so it is free at the next boot; if it needs the port itself, move one of the two services:",
				"netsh int ipv4 show excludedportrange protocol=udp", netshNote,
				"netsh int ipv4 add excludedportrange protocol=udp startport=69 numberofports=1 store=persistent",
				"REM Restart the server (or the process holding the port), then start the service:",
				"REM Then start the failed service again.",
			}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kb := remedyFor(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("remedy:\n got %q\nwant %q", got, tt.want)
			}
			if !slices.Equal(kb, tt.kb) {
				t.Errorf("KB %q, want %q", kb, tt.kb)
			}
		})
	}
}

func TestCollectLines(t *testing.T) {
	if got, want := collectLines(osLegacy, parsers.UDP), []string{
		"REM Collect right after the failure, before restarting anything (elevated):",
		"netstat -anob > netstat-anob.txt",
		"tasklist /svc > tasklist-svc.txt",
	}; !slices.Equal(got, want) {
		t.Errorf("legacy: got %q, want %q", got, want)
	}
	got := collectLines(osModern, parsers.TCP)
	if !slices.Contains(got, "netsh int ipv4 show excludedportrange protocol=tcp > excluded-tcp.txt") || !slices.Contains(got, "netstat -anoq > netstat-anoq.txt") {
		t.Errorf("modern: got %q", got)
	}
}
