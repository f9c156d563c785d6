package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// Netstat writes a realistic `netstat -ano` capture with CRLF line ends
// and exactly rows socket rows, in netstat's order (TCP, then UDP,
// IPv4 before IPv6, ascending ports). With dnsPool, dns.exe (PID 1868) holds
// about 2,500 random UDP ports 0.0.0.0:N, the socket pool DNS Server opens at
// start since MS08-037, besides ordinary TCP and UDP rows. The output is the
// same for the same arguments.
func Netstat(w io.Writer, rows int, dnsPool bool) error {
	const dnsPID = 1868
	rng := rand.New(rand.NewPCG(2008, 37))
	bw := bufio.NewWriter(w)
	fmt.Fprint(bw, "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n")
	row := func(proto, local, remote, state string, pid int) {
		fmt.Fprintf(bw, "  %-5s  %-21s  %-21s  %-14s  %d\r\n", proto, local, remote, state, pid)
	}

	nDNS := 0
	if dnsPool {
		nDNS = min(2500, rows*5/6)
	}
	rest := rows - nDNS
	nTCP := rest * 6 / 10
	nUDP := rest - nTCP

	// TCP: listeners, then connections from ascending local ports.
	listeners := []struct {
		port, pid int
	}{{53, dnsPID}, {135, 924}, {445, 4}, {3389, 1060}, {5985, 4}, {49664, 676}, {49665, 540}, {49666, 1224}, {49667, 1588}, {49668, 2540}}
	for i := 0; i < nTCP && i < len(listeners); i++ {
		row("TCP", fmt.Sprintf("0.0.0.0:%d", listeners[i].port), "0.0.0.0:0", "LISTENING", listeners[i].pid)
	}
	states := []string{"ESTABLISHED", "ESTABLISHED", "ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT"}
	for i := len(listeners); i < nTCP; i++ {
		k := i - len(listeners)
		local := fmt.Sprintf("10.%d.%d.%d:%d", k/16384/65536%256, k/16384/256%256, k/16384%256, 49152+k%16384)
		remote := fmt.Sprintf("52.%d.%d.%d:443", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
		state := states[rng.IntN(len(states))]
		pid := 1000 + 4*rng.IntN(500)
		if state == "TIME_WAIT" {
			pid = 0
		}
		row("TCP", local, remote, state, pid)
	}

	// UDP on 0.0.0.0: well-known service ports and the DNS pool, by port.
	wellKnown := []struct{ port, pid int }{{53, dnsPID}, {123, 1400}, {500, 3100}, {1900, 3300}, {4500, 3100}, {5353, 2000}, {5355, 2000}}
	wellKnown = wellKnown[:min(len(wellKnown), nUDP)]
	owner := make(map[int]int, len(wellKnown)+nDNS)
	for _, wk := range wellKnown {
		owner[wk.port] = wk.pid
	}
	for len(owner) < len(wellKnown)+nDNS {
		if port := 1025 + rng.IntN(65535-1025+1); owner[port] == 0 {
			owner[port] = dnsPID
		}
	}
	ports := make([]int, 0, len(owner))
	for port := range owner {
		ports = append(ports, port)
	}
	slices.Sort(ports)
	for _, port := range ports {
		row("UDP", fmt.Sprintf("0.0.0.0:%d", port), "*:*", "", owner[port])
	}
	// The rest on IPv6 link-local addresses: these rows overflow the grid.
	for k := 0; k < nUDP-len(wellKnown); k++ {
		local := fmt.Sprintf("[fe80::%x:%x:8bf7:c410%%12]:%d", k/16384/65536%65536, k/16384%65536, 49152+k%16384)
		fmt.Fprintf(bw, "  UDP    %s  *:*                                    %d\r\n", local, 2000+4*rng.IntN(100))
	}
	return bw.Flush()
}

// SystemLog writes records events shaped like a busy server's
// System log to w: boots every few thousand records (EventLog 6009/6005,
// Kernel-General 12, sometimes a dirty end with 6008 and Kernel-Power 41),
// a flood of SCM 7036 state changes and 7040 start-type changes, and, every
// failureEvery records, a service-start failure (7023 with 10048 for IAS,
// 7000 with 1053, 7024 with exit code 1, 7000 with 1058). Times start at
// start and advance by a few seconds a record.
func SystemLog(w *evtxwrite.Writer, records, failureEvery int, start time.Time) error {
	_, err := Host{Name: "SBS01.example.test", Seed: 956189, Start: start, FailureEvery: failureEvery}.SystemLog(w, records)
	return err
}

// Host describes the made-up server whose logs the generators write: its
// name, a seed (other seeds, other logs of the same shape), the
// time of its first record and how often a service fails to start.
type Host struct {
	Name         string
	Seed         uint64
	Start        time.Time
	FailureEvery int // records between service-start failures; 0: none
}

// SystemLog writes records System-log events of h to w (see the
// function SystemLog) and returns the time of the last one.
func (h Host) SystemLog(w *evtxwrite.Writer, records int) (time.Time, error) {
	rng := rand.New(rand.NewPCG(2008, h.Seed))
	host, failureEvery := h.Name, h.FailureEvery
	t := h.Start.UTC()
	services := []struct{ display, key string }{
		{"Windows Update", "wuauserv"}, {"Print Spooler", "Spooler"}, {"Background Intelligent Transfer Service", "BITS"},
		{"Windows Modules Installer", "TrustedInstaller"}, {"WinHTTP Web Proxy Auto-Discovery Service", "WinHttpAutoProxySvc"},
		{"Software Protection", "sppsvc"}, {"Windows Error Reporting Service", "WerSvc"}, {"Network List Service", "netprofm"},
	}
	failures := []struct {
		id                 uint16
		display, key, code string
	}{
		{7023, "Internet Authentication Service", "IAS", "%%10048"},
		{7000, "BlackBerry Router", "BlackBerry Router", "%%1053"},
		{7024, "Apache2.4", "Apache2.4", "%%1"},
		{7000, "Fax", "Fax", "%%1058"},
	}
	scm := func(id uint16, qualifiers uint16, level uint8, key string, params ...string) evtxwrite.Event {
		ev := evtxwrite.Event{Channel: "System", Provider: "Service Control Manager", EventSource: "Service Control Manager",
			ProviderGUID: "{555908d1-a6d7-4695-8e1e-26931d2012f4}", EventID: id, Qualifiers: qualifiers, Level: level,
			Computer: host, Binary: evtxwrite.UTF16Hex(key)}
		for i, p := range params {
			ev.Data = append(ev.Data, evtxwrite.Field{Name: fmt.Sprintf("param%d", i+1), Value: p})
		}
		return ev
	}
	boot := func() []evtxwrite.Event {
		kg := evtxwrite.Event{Channel: "System", Provider: "Microsoft-Windows-Kernel-General", ProviderGUID: "{a68ca8b7-004f-d7b6-a698-07e2de0f1f5d}",
			EventID: 12, Level: 4, Computer: host, Data: []evtxwrite.Field{{Name: "MajorVersion", Value: "6"}, {Name: "MinorVersion", Value: "1"},
				{Name: "BuildVersion", Value: "7601"}, {Name: "StartTime", Value: t.Add(-20 * time.Second).Format(time.RFC3339Nano)}}}
		return []evtxwrite.Event{kg,
			{Channel: "System", Provider: "EventLog", EventID: 6009, Qualifiers: 32768, Level: 4, Computer: host,
				Data: []evtxwrite.Field{{Value: "6.01."}, {Value: "7601"}, {Value: "Service Pack 1"}, {Value: "Multiprocessor Free"}, {Value: "17514"}}},
			{Channel: "System", Provider: "EventLog", EventID: 6005, Qualifiers: 32768, Level: 4, Computer: host},
		}
	}
	var pending []evtxwrite.Event
	for n := 0; n < records; n++ {
		if len(pending) == 0 {
			switch {
			case n%5000 == 0:
				if n > 0 && rng.IntN(4) == 0 { // the previous boot ended badly
					pending = append(pending, evtxwrite.Event{Channel: "System", Provider: "EventLog", EventID: 6008, Qualifiers: 32768, Level: 2,
						Computer: host, Binary: evtxwrite.SystemTimesHex(t.Add(-time.Hour), -5*time.Hour)},
						evtxwrite.Event{Channel: "System", Provider: "Microsoft-Windows-Kernel-Power", ProviderGUID: "{331c3b3a-2005-44c2-ac5e-77220c37d6b4}",
							EventID: 41, Level: 1, Computer: host, Data: []evtxwrite.Field{{Name: "BugcheckCode", Value: "0"}}})
				} else if n > 0 {
					pending = append(pending, evtxwrite.Event{Channel: "System", Provider: "EventLog", EventID: 6006, Qualifiers: 32768, Level: 4, Computer: host})
				}
				pending = append(pending, boot()...)
			case failureEvery > 0 && n%failureEvery == failureEvery/2:
				f := failures[rng.IntN(len(failures))]
				pending = append(pending, scm(f.id, 49152, 2, f.key, f.display, f.code))
			case rng.IntN(10) == 0:
				s := services[rng.IntN(len(services))]
				pending = append(pending, scm(7040, 16384, 4, s.key, s.display, "demand start", "auto start", s.key))
			default:
				s := services[rng.IntN(len(services))]
				state := []string{"running", "stopped"}[rng.IntN(2)]
				pending = append(pending, scm(7036, 16384, 4, s.key+"/4", s.display, state))
			}
		}
		var err error
		if t, err = writeNext(w, rng, t, n, pending[0]); err != nil {
			return t, err
		}
		pending = pending[1:]
	}
	return t, nil
}

// ApplicationLog writes records Application-log events of h to w and
// returns the time of the last one: the everyday noise of a server
// (Software Protection reschedules, Restart Manager sessions, MsiInstaller,
// ESENT, Windows Error Reporting, application crashes) and, every
// FailureEvery records, SQL Server failing to listen on its port (26023
// then 17182 with 0x2740 = 10048).
func (h Host) ApplicationLog(w *evtxwrite.Writer, records int) (time.Time, error) {
	rng := rand.New(rand.NewPCG(7001, h.Seed))
	t := h.Start.UTC()
	classic := func(provider string, id uint16, level uint8, data ...string) evtxwrite.Event {
		ev := evtxwrite.Event{Channel: "Application", Provider: provider, EventID: id, Level: level, Computer: h.Name}
		for _, d := range data {
			ev.Data = append(ev.Data, evtxwrite.Field{Value: d})
		}
		return ev
	}
	apps := []string{"w3wp.exe", "sqlservr.exe", "BESClient.exe", "java.exe", "OUTLOOK.EXE"}
	var pending []evtxwrite.Event
	for n := 0; n < records; n++ {
		if len(pending) == 0 {
			switch r := rng.IntN(100); {
			case h.FailureEvery > 0 && n%h.FailureEvery == h.FailureEvery/3:
				const port = "1433"
				pending = append(pending,
					evtxwrite.Event{Channel: "Application", Provider: "MSSQLSERVER", EventID: 26023, Qualifiers: 49152, Level: 2, Computer: h.Name,
						Data: []evtxwrite.Field{{Value: "Server TCP provider failed to listen on [ 'any' <ipv4> " + port + "]. Tcp port is already in use."}}},
					evtxwrite.Event{Channel: "Application", Provider: "MSSQLSERVER", EventID: 17182, Qualifiers: 49152, Level: 2, Computer: h.Name,
						Data: []evtxwrite.Field{{Value: "TDSSNIClient initialization failed with error 0x2740, status code 0xa. Reason: Unable to initialize the TCP/IP listener. Only one usage of each socket address (protocol/network address/port) is normally permitted."}}})
			case r < 30:
				ev := classic("Microsoft-Windows-Security-SPP", 16384, 4, t.Add(time.Duration(rng.IntN(72))*time.Hour).Format(time.RFC3339), "RulesEngine")
				ev.EventSource, ev.Qualifiers = "Software Protection Platform Service", 16384
				ev.ProviderGUID = "{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}"
				pending = append(pending, ev)
			case r < 50:
				sid := strconv.Itoa(rng.IntN(64))
				pending = append(pending,
					evtxwrite.Event{Channel: "Application", Provider: "Microsoft-Windows-RestartManager", ProviderGUID: "{0888E5EF-9B98-4695-979D-E92CE4247224}",
						EventID: 10000, Level: 4, Computer: h.Name, Data: []evtxwrite.Field{{Name: "RmSessionId", Value: sid}, {Name: "UTCStartTime", Value: t.Format(time.RFC3339Nano)}}},
					evtxwrite.Event{Channel: "Application", Provider: "Microsoft-Windows-RestartManager", ProviderGUID: "{0888E5EF-9B98-4695-979D-E92CE4247224}",
						EventID: 10001, Level: 4, Computer: h.Name, Data: []evtxwrite.Field{{Name: "RmSessionId", Value: sid}, {Name: "UTCStartTime", Value: t.Format(time.RFC3339Nano)}}})
			case r < 65:
				pending = append(pending, classic("MsiInstaller", 1035, 4, "Microsoft Visual C++ 2015-2022 Redistributable (x64)", "14.38.33135", "1033", "0", "Microsoft Corporation", "(NULL)", ""))
			case r < 80:
				pending = append(pending, classic("ESENT", 326, 4, "svchost", strconv.Itoa(900+rng.IntN(200)), "SRUJet: ", `C:\Windows\system32\SRU\SRUDB.dat`, "0"))
			case r < 92:
				pending = append(pending, classic("Windows Error Reporting", 1001, 4, strconv.FormatUint(rng.Uint64(), 10), "5", "WindowsUpdateFailure3", "Not available", "0",
					"10.0.17763.1", "80072efe", "00000000-0000-0000-0000-000000000000", "", "", "", "", "", "", "", "", ""))
			default:
				app := apps[rng.IntN(len(apps))]
				pending = append(pending, classic("Application Error", 1000, 2, app, "10.0.17763.1", "5c3ae1bc", "ntdll.dll", "10.0.17763.2931",
					"7c1f5d3c", "c0000374", fmt.Sprintf("%016x", 0xf9000+rng.IntN(0x1000)), fmt.Sprintf("%x", 1000+4*rng.IntN(500)),
					"01d8a1c2b3e4f5a6", `C:\Windows\System32\inetsrv\`+app, `C:\Windows\SYSTEM32\ntdll.dll`, "4b1f2c7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "", ""))
			}
		}
		var err error
		if t, err = writeNext(w, rng, t, n, pending[0]); err != nil {
			return t, err
		}
		pending = pending[1:]
	}
	return t, nil
}

// Tasklist writes `tasklist /svc` output (CRLF) naming every PID
// Netstat uses, after a timestamp line for at (the host's local
// wall-clock time, as `echo %date% %time%` prints it).
func Tasklist(w io.Writer, at time.Time) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s\r\n\r\nImage Name                     PID Services\r\n", at.Format("Mon 01/02/2006 15:04:05.00"))
	fmt.Fprint(bw, "========================= ======== ============================================\r\n")
	row := func(image string, pid int, services string) {
		fmt.Fprintf(bw, "%-25s %8d %s\r\n", image, pid, services)
	}
	row("System Idle Process", 0, "N/A")
	row("System", 4, "N/A")
	fixed := []struct {
		image    string
		pid      int
		services string
	}{
		{"services.exe", 540, "N/A"}, {"wininit.exe", 676, "N/A"}, {"svchost.exe", 924, "RpcEptMapper, RpcSs"},
		{"svchost.exe", 1060, "TermService"}, {"svchost.exe", 1224, "EventLog"}, {"svchost.exe", 1400, "W32Time"},
		{"spoolsv.exe", 1588, "Spooler"}, {"dns.exe", 1868, "DNS"}, {"lsass.exe", 2540, "KeyIso, Netlogon, SamSs"},
		{"svchost.exe", 3100, "BFE, IKEEXT, PolicyAgent"}, {"svchost.exe", 3300, "SSDPSRV"},
	}
	images := []string{"w3wp.exe", "svchost.exe", "java.exe", "sqlservr.exe", "BESClient.exe", "explorer.exe"}
	next := 0
	for pid := 1000; pid < 3000; pid += 4 {
		taken := false
		for next < len(fixed) && fixed[next].pid <= pid {
			row(fixed[next].image, fixed[next].pid, fixed[next].services)
			taken = taken || fixed[next].pid == pid
			next++
		}
		switch {
		case taken:
		case pid == 2000:
			row("svchost.exe", pid, "Dnscache, FDResPub, LanmanWorkstation, NlaSvc")
		default:
			row(images[pid/4%len(images)], pid, "N/A")
		}
	}
	for ; next < len(fixed); next++ {
		row(fixed[next].image, fixed[next].pid, fixed[next].services)
	}
	return bw.Flush()
}

// writeNext writes ev as record n+1 (counting from 0), a few seconds
// after t, and returns its time.
func writeNext(w *evtxwrite.Writer, rng *rand.Rand, t time.Time, n int, ev evtxwrite.Event) (time.Time, error) {
	t = t.Add(time.Duration(500+rng.IntN(5000)) * time.Millisecond)
	ev.Time, ev.RecordID = t, uint64(n+1)
	if err := w.Write(ev); err != nil {
		return t, fmt.Errorf("synthetic record %d: %w", n+1, err)
	}
	return t, nil
}
