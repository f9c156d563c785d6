package correlate

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/portmortem/portmortem/parsers"
)

// osFamily groups Windows versions by how ports are reserved.
type osFamily int

// The OS families.
const (
	// osUnknown: no version known; remedies give both families.
	osUnknown osFamily = iota
	// osLegacy: 5.x, Windows 2000/XP/Server 2003: ReservedPorts, dynamic
	// range 1025-5000, no netsh excludedportrange, no netsh http.
	osLegacy
	// osVista: 6.0, Vista/Server 2008: netsh excludedportrange, dynamic
	// range 49152-65535, no DNS socket-pool exclusion list.
	osVista
	// osModern: 6.1 and later, Windows 7/Server 2008 R2 on: as osVista,
	// plus the DNS SocketPoolExcludedPortRanges.
	osModern
)

// parseOSFamily reads a version such as "5.2.3790", "6.1.7601",
// "10.0.17763" or 6009's "5.02. 3790 Service Pack 2 …".
func parseOSFamily(v string) (osFamily, string) {
	v = strings.TrimSpace(v)
	majorText, rest, ok := strings.Cut(v, ".")
	if !ok {
		return osUnknown, ""
	}
	major, err := strconv.Atoi(strings.TrimSpace(majorText))
	if err != nil {
		return osUnknown, ""
	}
	minorText := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minorText = rest[:i]
	}
	minor, err := strconv.Atoi(minorText)
	if err != nil {
		return osUnknown, ""
	}
	label := fmt.Sprintf(" (%d.%d)", major, minor)
	names := map[[2]int]string{
		{5, 0}: "Windows 2000", {5, 1}: "Windows XP", {5, 2}: "Windows Server 2003",
		{6, 0}: "Windows Vista/Server 2008", {6, 1}: "Windows 7/Server 2008 R2",
		{6, 2}: "Windows 8/Server 2012", {6, 3}: "Windows 8.1/Server 2012 R2",
		{10, 0}: "Windows 10/11 or Server 2016 and later",
	}
	name, known := names[[2]int{major, minor}]
	switch {
	case major == 5:
		return osLegacy, orDefault(name, "Windows 2000/XP/Server 2003") + label
	case major == 6 && minor == 0:
		return osVista, name + label
	case major == 6 || major == 10:
		if !known {
			name = "Windows 7/Server 2008 R2 or later"
		}
		return osModern, name + label
	}
	return osUnknown, ""
}

// Registry paths and KB numbers the remedies cite.
const (
	tcpipParams = `HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`
	kbReserved  = "KB812873"
	kbDNSPool   = "KB953230"
	kbUDPIssues = "KB956188"
	kbDynamic   = "KB929851"
	kbLSASS     = "KB224196"
)

// portRange is an inclusive range of ports.
type portRange struct{ Start, End uint16 }

func (r portRange) String() string {
	return strconv.Itoa(int(r.Start)) + "-" + strconv.Itoa(int(r.End))
}

func (r portRange) count() int { return int(r.End) - int(r.Start) + 1 }

// mergePorts sorts ports and merges consecutive ones into ranges
// (KB812873: reserve ranges, never consecutive single ports).
func mergePorts(ports []uint16) []portRange {
	ps := slices.Clone(ports)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	var out []portRange
	for _, p := range ps {
		if n := len(out); n > 0 && int(out[n-1].End)+1 == int(p) {
			out[n-1].End = p
			continue
		}
		out = append(out, portRange{p, p})
	}
	return out
}

func protoWord(p parsers.Proto) string { return strings.ToLower(string(p)) }

func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t&()") {
		return `"` + s + `"`
	}
	return s
}

// reserveLines reserves ports so no other process takes them at the next
// boot: ReservedPorts on 5.x, netsh excludedportrange on 6.0+, both with a
// note when the version is unknown. ipv6 adds the IPv6 exclusions.
func reserveLines(fam osFamily, proto parsers.Proto, ports []uint16, ipv6 bool) (lines, kb []string) {
	ranges := mergePorts(ports)
	if len(ranges) == 0 {
		return nil, nil
	}
	legacy := func() []string {
		parts := make([]string, len(ranges))
		for i, r := range ranges {
			parts[i] = r.String()
		}
		return []string{
			fmt.Sprintf(`reg query "%s" /v ReservedPorts`, tcpipParams),
			"REM ReservedPorts (REG_MULTI_SZ) holds one start-end range per line and covers TCP and UDP. reg add replaces the value: put the lines reg query showed first, separated by \\0. Use ranges, never consecutive single ports (KB812873).",
			fmt.Sprintf(`reg add "%s" /v ReservedPorts /t REG_MULTI_SZ /d "%s" /f`, tcpipParams, strings.Join(parts, `\0`)),
		}
	}
	netsh := func() []string {
		w := protoWord(proto)
		out := []string{
			"netsh int ipv4 show excludedportrange protocol=" + w,
			"REM netsh refuses to exclude a port that is in use: run these while the port is free (stop its holder first).",
		}
		versions := []string{"ipv4"}
		if ipv6 {
			versions = append(versions, "ipv6")
		}
		for _, v := range versions {
			for _, r := range ranges {
				out = append(out, fmt.Sprintf("netsh int %s add excludedportrange protocol=%s startport=%d numberofports=%d store=persistent", v, w, r.Start, r.count()))
			}
		}
		return out
	}
	switch fam {
	case osLegacy:
		return legacy(), []string{kbReserved}
	case osVista, osModern:
		return netsh(), nil
	}
	lines = append(lines, "REM The Windows version is unknown: on Windows 2000/XP/Server 2003 use ReservedPorts:")
	lines = append(lines, legacy()...)
	lines = append(lines, "REM On Windows Vista/Server 2008 and later use netsh:")
	lines = append(lines, netsh()...)
	return lines, []string{kbReserved}
}

// remedyInput is what the remedy of one finding depends on.
type remedyInput struct {
	Rule       Rule
	Family     osFamily
	Proto      parsers.Proto
	Port       uint16
	Addr       netip.Addr // the address the failed service binds, if known
	Ports      []uint16   // the ports to reserve (all the service needs, for the pool rules)
	ServiceKey string     // or the display name when the key is unknown
	OwnerPID   int
	OwnerImage string
	// Range is the excluded range of an excluded-range finding.
	Range *parsers.PortRange
	// Dynamic is the dynamic port range that applies to Proto.
	Dynamic portRange
	// OwnerService is the owner's service that the catalog lists on the
	// port (a service configured for it, not one that took it by chance).
	OwnerService string
}

func (in remedyInput) ipv6() bool { return in.Addr.IsValid() && in.Addr.Is6() && !in.Addr.Is4In6() }

func (in remedyInput) startLine() string {
	switch {
	case in.ServiceKey == "":
		return "REM Then start the failed service again."
	case strings.EqualFold(in.ServiceKey, "HTTP"):
		return "REM Restart the service that registered the address with HTTP.sys (netsh http show servicestate lists it)."
	}
	return "net start " + quoteArg(in.ServiceKey)
}

func (in remedyInput) findLine() string {
	return fmt.Sprintf(`netstat -ano | findstr ":%d "`, in.Port)
}

func (in remedyInput) reservePorts() []uint16 {
	if len(in.Ports) > 0 {
		return in.Ports
	}
	return []uint16{in.Port}
}

// remedyFor returns the commands and KB articles for a culprit rule.
func remedyFor(in remedyInput) (lines, kb []string) {
	add := func(l ...string) { lines = append(lines, l...) }
	addKB := func(k ...string) {
		for _, x := range k {
			if !slices.Contains(kb, x) {
				kb = append(kb, x)
			}
		}
	}
	reserve := func(ports []uint16) {
		l, k := reserveLines(in.Family, in.Proto, ports, in.ipv6())
		add(l...)
		addKB(k...)
	}
	switch in.Rule {
	case RuleDNSSocketPool:
		addKB(kbDNSPool, kbUDPIssues)
		ranges := mergePorts(in.reservePorts())
		parts := make([]string, len(ranges))
		for i, r := range ranges {
			parts[i] = r.String()
		}
		add(fmt.Sprintf("REM dns.exe binds a pool of random UDP ports when it starts (MS08-037): keep %s %s out of it.", in.Proto, strings.Join(parts, ", ")))
		if in.Family == osModern || in.Family == osUnknown {
			if in.Family == osUnknown {
				add("REM On Windows Server 2008 R2 and later, exclude the ports from the DNS socket pool:")
			}
			add("dnscmd /Info /SocketPoolExcludedPortRanges",
				"REM /Config replaces the list: include the ranges /Info showed (ranges separated by spaces).",
				"dnscmd /Config /SocketPoolExcludedPortRanges "+strings.Join(parts, " "))
		}
		reserve(in.reservePorts())
		add("net stop DNS", "net start DNS", in.startLine())
		if in.Family == osLegacy || in.Family == osUnknown {
			add("REM ReservedPorts takes effect at the next boot: restart the server, then check that the service started.")
		} else {
			add("REM If the service still fails, restart the server so DNS builds its pool after the reservation.")
		}

	case RuleLSASSDynamic:
		addKB(kbLSASS)
		add(fmt.Sprintf("REM lsass.exe (PID %d) holds %s %d: Active Directory took it as an RPC port. Check whether it is configured as AD's static RPC port:", in.OwnerPID, in.Proto, in.Port),
			`reg query "HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters" /v "TCP/IP Port"`,
			`reg query "HKLM\SYSTEM\CurrentControlSet\Services\Netlogon\Parameters" /v DCTcpipPort`,
			fmt.Sprintf("REM If either value is %d, give AD another static port outside the dynamic range that no other service needs (KB224196). Otherwise reserve the port:", in.Port))
		reserve([]uint16{in.Port})
		add("REM Restart the server so lsass.exe picks its ports without this one, then check the service:", in.startLine())

	case RuleEphemeral:
		addKB(kbDynamic)
		add(fmt.Sprintf("REM %s %d lies in the dynamic (ephemeral) port range %s, which Windows hands out to outgoing connections and random-port services: reserve it so the service finds it free.", in.Proto, in.Port, in.Dynamic))
		reserve([]uint16{in.Port})
		if in.Family != osLegacy && in.Port < 49152 {
			w := protoWord(in.Proto)
			move := "REM Or move the dynamic range back to the default, which starts above the port:"
			if in.Family == osUnknown {
				move = "REM On Windows Vista/Server 2008 and later you can instead move the dynamic range back to the default, which starts above the port:"
			}
			add(move,
				"netsh int ipv4 show dynamicport "+w,
				"netsh int ipv4 set dynamicport "+w+" start=49152 num=16384",
				"netsh int ipv6 set dynamicport "+w+" start=49152 num=16384")
		}
		add("REM Restart the server (or the process holding the port) so the port is free, then start the service:", in.startLine())

	case RuleHTTPSys:
		add(fmt.Sprintf("REM PID 4 (System) holds %s %d: HTTP.sys serves it for a consumer such as W3SVC/WAS, WinRM, ReportServer or MsDepSvc.", in.Proto, in.Port))
		legacy := []string{
			"REM On Windows Server 2003 (httpcfg.exe is in the Support Tools):",
			"httpcfg query urlacl",
			"httpcfg query iplisten",
			`reg query "HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters" /v ListenOnlyList`,
		}
		modern := []string{
			"netsh http show servicestate",
			"netsh http show urlacl",
			"netsh http show iplisten",
		}
		switch in.Family {
		case osLegacy:
			add(legacy[1:]...)
		case osVista, osModern:
			add(modern...)
		default:
			add("REM On Windows Vista/Server 2008 and later:")
			add(modern...)
			add(legacy...)
		}
		add("REM Stop or disable the consumer that registered the port (servicestate names its process), or move it to another port.")
		if in.Addr.IsValid() && !in.Addr.IsUnspecified() {
			listen := fmt.Sprintf("netsh http add iplisten ipaddress=<an address HTTP.sys should keep, not %s>", in.Addr)
			if in.Family == osLegacy {
				listen = fmt.Sprintf("httpcfg set iplisten -i <an address HTTP.sys should keep, not %s>", in.Addr)
			}
			add("REM Or restrict HTTP.sys to the other addresses, leaving "+in.Addr.String()+" to the service:", listen)
		} else {
			add(fmt.Sprintf("REM The service binds every address on port %d, so restricting HTTP.sys with iplisten cannot share the port with it.", in.Port))
		}
		add("REM Then restart the HTTP.sys consumer and start the service:", in.startLine())

	case RuleExcludedRange:
		addKB(kbDynamic)
		w := protoWord(in.Proto)
		r := in.Range
		if r != nil && r.Administered {
			add(fmt.Sprintf("REM The excluded range %d-%d is administered (*): someone or an installer added it on purpose with netsh.", r.Start, r.End),
				"netsh int ipv4 show excludedportrange protocol="+w,
				fmt.Sprintf("REM If that exclusion is not needed, remove it; otherwise move the service to a port outside %d-%d:", r.Start, r.End),
				fmt.Sprintf("netsh int ipv4 delete excludedportrange protocol=%s startport=%d numberofports=%d store=persistent", w, r.Start, int(r.End)-int(r.Start)+1))
		} else {
			add("REM WinNAT (Hyper-V, WSL 2, Docker Desktop) reserves blocks of ports at each boot; reserve this port for the service before WinNAT takes it:",
				"netsh int ipv4 show excludedportrange protocol="+w,
				"net stop winnat",
				fmt.Sprintf("netsh int ipv4 add excludedportrange protocol=%s startport=%d numberofports=1 store=persistent", w, in.Port),
				"net start winnat")
			if in.Port < 49152 {
				add("REM Or move the dynamic range back to the default, which starts above the port, so WinNAT reserves its blocks there:",
					"netsh int ipv4 show dynamicport "+w,
					"netsh int ipv4 set dynamicport "+w+" start=49152 num=16384",
					"netsh int ipv6 set dynamicport "+w+" start=49152 num=16384")
			}
		}
		add("REM A reboot re-creates WinNAT's reservations (check them again after one). Start the service now:", in.startLine())

	case RuleIPsecBlockMode:
		addKB(kbUDPIssues)
		add("REM The IPsec driver is in Block mode (event 4292): the server passes no network traffic until IPsec starts. Reserve UDP 500 and 4500 so no other process takes them at boot:")
		reserve([]uint16{500, 4500})
		if strings.EqualFold(in.OwnerImage, "dns.exe") && (in.Family == osModern || in.Family == osUnknown) {
			add("dnscmd /Config /SocketPoolExcludedPortRanges 500-500 4500-4500")
			addKB(kbDNSPool)
		}
		key := in.ServiceKey
		if key == "" {
			key = "PolicyAgent"
		}
		add("REM Restart the server so the reservation takes effect and IPsec starts before the other process.",
			"REM Emergency, to get the network back when the server is cut off: disable the IPsec service and restart, then re-enable it once the ports are reserved:",
			"sc config "+quoteArg(key)+" start= disabled")

	case RuleSameProduct:
		add(fmt.Sprintf("REM PID %d (%s) is another instance of the same product on %s %d.", in.OwnerPID, orUnknown(in.OwnerImage), in.Proto, in.Port),
			fmt.Sprintf(`tasklist /svc /fi "PID eq %d"`, in.OwnerPID),
			in.findLine(),
			"REM Give each instance its own port, or stop and disable the instance that should not run, then start the service:",
			in.startLine())

	default: // RuleOther
		if in.OwnerPID >= 0 {
			add(fmt.Sprintf(`tasklist /svc /fi "PID eq %d"`, in.OwnerPID))
		}
		if svc := in.OwnerService; svc != "" && !strings.EqualFold(svc, in.ServiceKey) && !strings.EqualFold(svc, "lanmanserver") {
			// A reservation would lock out the failed service too: one of
			// the two has to go or move.
			add(in.findLine(),
				fmt.Sprintf("REM %s is configured for %s %d itself. Keep the service that should have the port: stop and disable the other one, or move one of them to another port.", svc, in.Proto, in.Port),
				"net stop "+quoteArg(svc),
				"sc config "+quoteArg(svc)+" start= disabled",
				in.startLine())
			break
		}
		add(in.findLine(),
			"REM If that process took the port by chance (a dynamic port), reserve it so it is free at the next boot; if it needs the port itself, move one of the two services:")
		reserve([]uint16{in.Port})
		add("REM Restart the server (or the process holding the port), then start the service:", in.startLine())
	}
	return lines, kb
}

// collectLines asks for the artifacts that were missing, for NO_SNAPSHOT.
func collectLines(fam osFamily, proto parsers.Proto) []string {
	w := protoWord(proto)
	lines := []string{
		"REM Collect right after the failure, before restarting anything (elevated):",
		"netstat -anob > netstat-anob.txt",
		"tasklist /svc > tasklist-svc.txt",
	}
	if fam != osLegacy {
		lines = append(lines,
			"REM Windows 10/Server 2016 and later also list BOUND sockets with -q:",
			"netstat -anoq > netstat-anoq.txt",
			"netsh int ipv4 show excludedportrange protocol="+w+" > excluded-"+w+".txt",
			"netsh int ipv4 show dynamicport "+w+" > dynamic-"+w+".txt")
	}
	return lines
}

func orUnknown(s string) string {
	if s == "" {
		return "image unknown"
	}
	return s
}
