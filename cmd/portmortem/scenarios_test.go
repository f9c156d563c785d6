package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers/evtxwrite"
	"golang.org/x/text/encoding/charmap"
)

var update = flag.Bool("update", false, "rebuild the scenario bundles and their expected findings")

// The scenario bundles of testdata/bundles/: each is built here from Go
// values (event logs through the EVTX writer, text artifacts as Windows
// prints them), committed, and analyzed by TestScenarioBundles. Times are
// around base, the boot in which each failure happens.
var base = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

type bundleFile struct {
	name string
	data []byte
}

// bundleScenario builds one bundle's files.
type bundleScenario struct {
	name  string
	files func(t *testing.T) []bundleFile
}

func scenarios() []bundleScenario {
	return []bundleScenario{
		{"sbs2003-ias-dns", sbs2003IASDNS},
		{"blackberry-lsass", blackberryLSASS},
		{"apache-httpsys", apacheHTTPSys},
		{"winnat-excluded", winnatExcluded},
		{"ias-port-free", iasPortFree},
		{"stale-snapshot", staleSnapshot},
		{"sql-ephemeral", sqlEphemeral},
		{"ipsec-blockmode", ipsecBlockMode},
		{"nps-german-2008r2", npsGerman2008R2},
		{"disabled-service", disabledService},
		{"sql-insertions-german", sqlInsertionsGerman},
		{"dns-sharedaccess", dnsSharedAccess},
		{"hyperv-stale-ranges", hypervStaleRanges},
		{"docker-netsh-only", dockerNetshOnly},
		{"anoq-bound-holder", anoqBoundHolder},
		{"captures-disagree", capturesDisagree},
		{"bound-after-failure", boundAfterFailure},
		{"bound-before-failure", boundBeforeFailure},
		{"dst-change", dstChange},
		{"event-viewer-csv", eventViewerCSV},
	}
}

// --- event helpers -------------------------------------------------------

const (
	scmGUID = "{555908d1-a6d7-4695-8e1e-26931d2012f4}"
	kgGUID  = "{a68ca8b7-004f-d7b6-a698-07e2de0f1f5d}"
)

type eventLog struct {
	channel, host string
	next          uint64
	events        []evtxwrite.Event
}

func newLog(channel, host string, firstRecord uint64) *eventLog {
	return &eventLog{channel: channel, host: host, next: firstRecord}
}

func (l *eventLog) add(ev evtxwrite.Event) *eventLog {
	ev.Channel, ev.Computer, ev.RecordID = l.channel, l.host, l.next
	l.next++
	l.events = append(l.events, ev)
	return l
}

func (l *eventLog) scm(t time.Time, id uint16, key string, params ...string) *eventLog {
	ev := evtxwrite.Event{Provider: "Service Control Manager", EventSource: "Service Control Manager", ProviderGUID: scmGUID,
		EventID: id, Qualifiers: 49152, Level: 2, Time: t}
	for i, p := range params {
		ev.Data = append(ev.Data, evtxwrite.Field{Name: fmt.Sprintf("param%d", i+1), Value: p})
	}
	if key != "" {
		ev.Binary = evtxwrite.UTF16Hex(key)
	}
	return l.add(ev)
}

// boot2003 logs what Windows 2003 logs at boot: 6009 then 6005.
func (l *eventLog) boot2003(t time.Time) *eventLog {
	l.add(evtxwrite.Event{Provider: "EventLog", EventID: 6009, Qualifiers: 32768, Level: 4, Time: t,
		Data: []evtxwrite.Field{{Value: "5.02."}, {Value: "3790"}, {Value: "Service Pack 2"}, {Value: "Uniprocessor Free"}}})
	return l.add(evtxwrite.Event{Provider: "EventLog", EventID: 6005, Qualifiers: 32768, Level: 4, Time: t.Add(time.Second)})
}

// bootVista logs Kernel-General 12 (StartTime t) and 6009 with the version.
func (l *eventLog) bootVista(t time.Time, major, minor, build string) *eventLog {
	l.add(evtxwrite.Event{Provider: "Microsoft-Windows-Kernel-General", ProviderGUID: kgGUID, EventID: 12, Level: 4, Time: t.Add(20 * time.Second),
		Data: []evtxwrite.Field{{Name: "MajorVersion", Value: major}, {Name: "MinorVersion", Value: minor}, {Name: "BuildVersion", Value: build},
			{Name: "QfeVersion", Value: "0"}, {Name: "ServiceVersion", Value: "0"}, {Name: "BootMode", Value: "0"},
			{Name: "StartTime", Value: t.Format(time.RFC3339Nano)}}})
	l.add(evtxwrite.Event{Provider: "EventLog", EventID: 6009, Qualifiers: 32768, Level: 4, Time: t.Add(40 * time.Second),
		Data: []evtxwrite.Field{{Value: major + ".0" + minor + "."}, {Value: build}, {Value: ""}, {Value: "Multiprocessor Free"}}})
	return l.add(evtxwrite.Event{Provider: "EventLog", EventID: 6005, Qualifiers: 32768, Level: 4, Time: t.Add(40 * time.Second)})
}

func (l *eventLog) evtx(t *testing.T) []byte {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.evtx")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := evtxwrite.New(f)
	for _, ev := range l.events {
		if err := w.Write(ev); err != nil {
			t.Fatalf("write %d: %v", ev.EventID, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// --- text helpers ----------------------------------------------------------

func crlf(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// netstatRow formats a netstat -ano row as Windows pads it.
func netstatRow(proto, local, remote, state string, pid int) string {
	if proto == "UDP" {
		return fmt.Sprintf("  %-7s%-23s%-23s%-16s%d", proto, local, remote, "", pid)
	}
	return fmt.Sprintf("  %-7s%-23s%-23s%-16s%d", proto, local, remote, state, pid)
}

func netstatHeader(title, header string) []string {
	return []string{"", title, "", header}
}

const enTitle, enHeader = "Active Connections", "  Proto  Local Address          Foreign Address        State           PID"

// tasklistSvc formats tasklist /svc (25/8/44 columns) below a timestamp
// line as a collector script writes it.
func tasklistSvc(stamp, header string, procs ...[3]string) []byte {
	lines := []string{stamp, "", header, "========================= ======== ============================================"}
	for _, p := range procs {
		lines = append(lines, fmt.Sprintf("%-25s %8s %s", p[0], p[1], p[2]))
	}
	return crlf(lines...)
}

const enTasklistHeader = "Image Name                     PID Services"

func basicProcs() [][3]string {
	return [][3]string{{"System Idle Process", "0", "N/A"}, {"System", "4", "N/A"}, {"smss.exe", "276", "N/A"},
		{"csrss.exe", "348", "N/A"}, {"winlogon.exe", "372", "N/A"}, {"services.exe", "420", "Eventlog, PlugPlay"}}
}

func systeminfo(host, osName, osVersion, boot, tz string) []byte {
	return crlf("",
		"Host Name:                 "+host,
		"OS Name:                   "+osName,
		"OS Version:                "+osVersion,
		"OS Manufacturer:           Microsoft Corporation",
		"System Boot Time:          "+boot,
		"Time Zone:                 "+tz,
		"Domain:                    CORP.EXAMPLE")
}

// dnsPool lists UDP sockets 0.0.0.0:first… held by pid, n of them.
func dnsPool(first, n, pid int) []string {
	var rows []string
	for p := first; p < first+n; p++ {
		rows = append(rows, netstatRow("UDP", fmt.Sprintf("0.0.0.0:%d", p), "*:*", "", pid))
	}
	return rows
}

// --- the scenarios -------------------------------------------------------

// sbs2003IASDNS: SBS 2003 (host in UTC-6), IAS fails with 10048 after a
// reboot; dns.exe's socket pool holds UDP 1812 among ~2,500 ports.
func sbs2003IASDNS(t *testing.T) []bundleFile {
	sys := newLog("System", "SBS01", 100).boot2003(at(-48 * time.Hour))
	sys.add(evtxwrite.Event{Provider: "EventLog", EventID: 6006, Qualifiers: 32768, Level: 4, Time: at(-10 * time.Minute)})
	sys.boot2003(at(0))
	sys.scm(at(2*time.Minute), 7023, "IAS", "Internet Authentication Service", "%%10048")
	ns := append(netstatHeader(enTitle, enHeader),
		netstatRow("TCP", "0.0.0.0:53", "0.0.0.0:0", "LISTENING", 1640),
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 880),
		netstatRow("TCP", "0.0.0.0:445", "0.0.0.0:0", "LISTENING", 4),
		netstatRow("UDP", "0.0.0.0:53", "*:*", "", 1640),
		netstatRow("UDP", "0.0.0.0:445", "*:*", "", 4),
		netstatRow("UDP", "0.0.0.0:1812", "*:*", "", 1640),
		netstatRow("UDP", "10.0.0.5:137", "*:*", "", 4))
	ns = append(ns, dnsPool(5001, 2499, 1640)...)
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		// cmd's `echo %date% %time%` above the output, in the host's local time (UTC-6).
		{"netstat-ano.txt", crlf(append([]string{"Mon 03/02/2026  2:30:00.00"}, ns...)...)},
		{"tasklist-svc.txt", tasklistSvc("Mon 03/02/2026  2:31:00.00", enTasklistHeader, append(basicProcs(),
			[3]string{"svchost.exe", "880", "Dhcp, Dnscache"}, [3]string{"dns.exe", "1640", "DNS"})...)},
		{"systeminfo.txt", systeminfo("SBS01", "Microsoft(R) Windows(R) Server 2003 for Small Business Server",
			"5.2.3790 Service Pack 2 Build 3790", "3/2/2026, 2:00:00 AM", "(GMT-06:00) Central Time (US & Canada)")},
	}
}

// blackberryLSASS: 2003, BlackBerry Router fails with 10048; lsass.exe
// holds TCP 3101; a Tcpvcon 4.x listing maps the PID.
func blackberryLSASS(t *testing.T) []bundleFile {
	sys := newLog("System", "BES01", 300).boot2003(at(0))
	sys.scm(at(90*time.Second), 7023, "BlackBerry Router", "BlackBerry Router", "%%10048")
	ns := append(netstatHeader(enTitle, enHeader),
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 880),
		netstatRow("TCP", "0.0.0.0:389", "0.0.0.0:0", "LISTENING", 512),
		netstatRow("TCP", "0.0.0.0:445", "0.0.0.0:0", "LISTENING", 4),
		netstatRow("TCP", "0.0.0.0:3101", "0.0.0.0:0", "LISTENING", 512),
		netstatRow("UDP", "0.0.0.0:389", "*:*", "", 512))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"netstat-ano.txt", crlf(append([]string{"Mon 03/02/2026  2:20:00.00"}, ns...)...)},
		{"tcpvcon-a-c.csv", crlf("TCP,svchost.exe,880,LISTENING,0.0.0.0,0.0.0.0", "TCP,lsass.exe,512,LISTENING,0.0.0.0,0.0.0.0",
			"TCP,System,4,LISTENING,0.0.0.0,0.0.0.0", "UDP,lsass.exe,512,*,0.0.0.0,*")},
		{"systeminfo.txt", systeminfo("BES01", "Microsoft(R) Windows(R) Server 2003, Standard Edition",
			"5.2.3790 Service Pack 2 Build 3790", "3/2/2026, 2:00:00 AM", "(GMT-06:00) Central Time (US & Canada)")},
	}
}

// apacheHTTPSys: 2008 R2, Apache exits with 1 (7024) after make_sock could
// not bind 0.0.0.0:80 (3299); PID 4 listens on 80 (netstat -anob).
func apacheHTTPSys(t *testing.T) []bundleFile {
	sys := newLog("System", "WEB01", 4300).bootVista(at(0), "6", "1", "7601")
	sys.scm(at(3*time.Minute+time.Second), 7024, "Apache2.2", "Apache2.2", "%%1")
	app := newLog("Application", "WEB01", 810)
	for _, line := range []string{
		"(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : make_sock: could not bind to address 0.0.0.0:80",
		"no listening sockets available, shutting down",
		"Unable to open logs",
	} {
		app.add(evtxwrite.Event{Provider: "Apache Service", EventID: 3299, Qualifiers: 49152, Level: 2, Time: at(3 * time.Minute),
			Data: []evtxwrite.Field{{Value: "The Apache service named"}, {Value: "Apache2.2"}, {Value: "reported the following error:\r\n>>>"},
				{Value: line}, {}, {}, {}, {}, {}}})
	}
	ns := append(netstatHeader(enTitle, enHeader),
		netstatRow("TCP", "0.0.0.0:80", "0.0.0.0:0", "LISTENING", 4),
		" Can not obtain ownership information",
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 700),
		"  RpcSs",
		" [svchost.exe]",
		netstatRow("TCP", "0.0.0.0:445", "0.0.0.0:0", "LISTENING", 4),
		" Can not obtain ownership information")
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"Application.evtx", app.evtx(t)},
		// PowerShell's Get-Date -Format o above the output: an exact time with its offset.
		{"netstat-anob.txt", crlf(append([]string{"2026-03-02T09:00:00.0000000+00:00"}, ns...)...)},
	}
}

// winnatExcluded: Windows 10, HTTP.sys cannot bind 127.0.0.1:10000 (15005,
// STATUS_ACCESS_DENIED); nobody holds it; a WinNAT range covers it.
func winnatExcluded(t *testing.T) []bundleFile {
	sys := newLog("System", "DEV01", 9000).bootVista(at(0), "10", "0", "19045")
	// IO_ERROR_LOG_PACKET: ErrorCode 0xC0003A9D at 12, DumpData STATUS_ACCESS_DENIED.
	bin := "0000040002003000000000009D3A00C0000000000000000000000000000000000000000000000000220000C0"
	sys.add(evtxwrite.Event{Provider: "Microsoft-Windows-HttpEvent", EventSource: "HTTP", ProviderGUID: "{7b6bc78c-898b-4170-bbf8-1a469ea43fc5}",
		EventID: 15005, Qualifiers: 49152, Level: 2, Time: at(time.Minute),
		Data: []evtxwrite.Field{{Name: "DeviceObject", Value: `\Device\Http\ReqQueue`}, {Name: "Address", Value: "127.0.0.1:10000"}}, Binary: bin})
	csv := crlf(`#TYPE Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetTCPConnection`,
		`"LocalAddress","LocalPort","RemoteAddress","RemotePort","State","OwningProcess","CreationTime"`,
		`"0.0.0.0","135","0.0.0.0","0","Listen","900","3/2/2026 8:00:31 AM"`,
		`"127.0.0.1","10001","0.0.0.0","0","Listen","5120","3/2/2026 8:00:55 AM"`,
		`"10.0.0.7","49702","52.1.2.3","443","Established","6012","3/2/2026 9:58:10 AM"`)
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"nettcp_20260302_100000.csv", csv},
		{"excluded-tcp.txt", crlf("", "Protocol tcp Port Exclusion Ranges", "", "Start Port    End Port", "----------    --------",
			"      5357        5357", "      9948       10047", "     10048       10147", "     50000       50059     *", "",
			"* - Administered port exclusions.", "")},
		{"dynamic-tcp.txt", crlf("", "Protocol tcp Dynamic Port Range", "---------------------------------",
			"Start Port      : 1024", "Number of Ports : 13976", "")},
		{"systeminfo.txt", systeminfo("DEV01", "Microsoft Windows 10 Enterprise", "10.0.19045 N/A Build 19045",
			"3/2/2026, 8:00:00 AM", "(UTC+00:00) Dublin, Edinburgh, Lisbon, London")},
	}
}

// iasPortFree: 2008 R2, NPS fails with 10048 but its ports are free in a
// snapshot of the same boot taken afterwards.
func iasPortFree(t *testing.T) []bundleFile {
	sys := newLog("System", "NPS01", 5000).bootVista(at(0), "6", "1", "7601")
	sys.scm(at(2*time.Minute), 7023, "IAS", "Network Policy Server", "%%10048")
	ns := append(netstatHeader(enTitle, enHeader),
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 700),
		netstatRow("UDP", "0.0.0.0:53", "*:*", "", 1500),
		netstatRow("UDP", "0.0.0.0:1900", "*:*", "", 1200))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"netstat-ano.txt", crlf(append([]string{"2026-03-02T08:45:00.0000000+00:00"}, ns...)...)},
		{"tasklist-svc.txt", tasklistSvc("2026-03-02T08:46:00.0000000+00:00", enTasklistHeader, append(basicProcs(), [3]string{"dns.exe", "1500", "DNS"})...)},
		{"excluded-udp.txt", crlf("", "Protocol udp Port Exclusion Ranges", "", "Start Port    End Port", "----------    --------",
			"      5357        5357", "", "* - Administered port exclusions.", "")},
	}
}

// staleSnapshot: the sbs2003 case, but the only snapshot was taken a day
// before the boot in which IAS failed.
func staleSnapshot(t *testing.T) []bundleFile {
	files := sbs2003IASDNS(t)
	for i, f := range files {
		if f.name == "netstat-ano.txt" {
			files[i].data = bytes.Replace(f.data, []byte("Mon 03/02/2026  2:30:00.00"), []byte("Sun 03/01/2026  2:00:00.00"), 1)
		}
		if f.name == "tasklist-svc.txt" {
			files = slices.Delete(files, i, i+1)
			break
		}
	}
	return files
}

// sqlEphemeral: 2003, a named SQL instance cannot listen on its static TCP
// 4100 because an outgoing connection of w3wp.exe took it as its local port.
func sqlEphemeral(t *testing.T) []bundleFile {
	sys := newLog("System", "SQL01", 700).boot2003(at(0))
	app := newLog("Application", "SQL01", 7001)
	app.add(evtxwrite.Event{Provider: "MSSQL$SALES", EventID: 26023, Qualifiers: 49152, Level: 2, Time: at(4 * time.Minute),
		Data: []evtxwrite.Field{{Value: "Server TCP provider failed to listen on [ 'any' <ipv4> 4100]. Tcp port is already in use."}}})
	app.add(evtxwrite.Event{Provider: "MSSQL$SALES", EventID: 17182, Qualifiers: 49152, Level: 2, Time: at(4 * time.Minute),
		Data: []evtxwrite.Field{{Value: "TDSSNIClient initialization failed with error 0x2740, status code 0xa. Reason: Unable to initialize the TCP/IP listener. Only one usage of each socket address (protocol/network address/port) is normally permitted."}}})
	ns := append(netstatHeader(enTitle, enHeader),
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 880),
		" [svchost.exe]",
		netstatRow("TCP", "0.0.0.0:1433", "0.0.0.0:0", "LISTENING", 1300),
		"  MSSQL$SALES",
		" [sqlservr.exe]",
		netstatRow("TCP", "10.0.0.5:4100", "10.0.0.9:1433", "ESTABLISHED", 2200),
		" [w3wp.exe]")
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"Application.evtx", app.evtx(t)},
		{"netstat-anob.txt", crlf(append([]string{"Mon 03/02/2026  2:10:00.00"}, ns...)...)},
		{"systeminfo.txt", systeminfo("SQL01", "Microsoft(R) Windows(R) Server 2003, Enterprise Edition",
			"5.2.3790 Service Pack 2 Build 3790", "3/2/2026, 2:00:00 AM", "(GMT-06:00) Central Time (US & Canada)")},
	}
}

// ipsecBlockMode: 2003, IPSEC Services cannot bind UDP 500, the driver
// enters Block mode (4292); svchost.exe hosting RRAS holds UDP 500.
func ipsecBlockMode(t *testing.T) []bundleFile {
	sys := newLog("System", "GW01", 800).boot2003(at(0))
	sys.scm(at(50*time.Second), 7023, "PolicyAgent", "IPSEC Services", "%%10048")
	sys.add(evtxwrite.Event{Provider: "IPSEC", EventID: 4292, Qualifiers: 49152, Level: 2, Time: at(52 * time.Second)})
	ns := append(netstatHeader(enTitle, enHeader),
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 880),
		netstatRow("TCP", "0.0.0.0:1723", "0.0.0.0:0", "LISTENING", 4),
		netstatRow("UDP", "0.0.0.0:500", "*:*", "", 1100),
		netstatRow("UDP", "0.0.0.0:1701", "*:*", "", 1100))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"netstat-ano.txt", crlf(append([]string{"Mon 03/02/2026  2:15:00.00"}, ns...)...)},
		{"tasklist-svc.txt", tasklistSvc("Mon 03/02/2026  2:16:00.00", enTasklistHeader, append(basicProcs(),
			[3]string{"svchost.exe", "880", "RpcSs"}, [3]string{"svchost.exe", "1100", "RemoteAccess, SharedAccess"})...)},
		{"systeminfo.txt", systeminfo("GW01", "Microsoft(R) Windows(R) Server 2003, Standard Edition",
			"5.2.3790 Service Pack 2 Build 3790", "3/2/2026, 2:00:00 AM", "(GMT-06:00) Central Time (US & Canada)")},
	}
}

// npsGerman2008R2: German 2008 R2 (UTC+1): NPS ("Netzwerkrichtlinienserver",
// key IAS in Binary) fails; dns.exe holds UDP 1812. netstat and tasklist
// are German and in the console code page, cp850.
func npsGerman2008R2(t *testing.T) []bundleFile {
	sys := newLog("System", "NPS02", 6000).bootVista(at(0), "6", "1", "7601")
	sys.scm(at(3*time.Minute), 7023, "IAS", "Netzwerkrichtlinienserver", "%%10048")
	ns := append([]string{"02.03.2026  9:25:00,00"}, netstatHeader("Aktive Verbindungen", "  Proto  Lokale Adresse         Remoteadresse          Status           PID")...)
	ns = append(ns,
		netstatRow("TCP", "0.0.0.0:53", "0.0.0.0:0", "ABHÖREN", 1500),
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "ABHÖREN", 700),
		netstatRow("TCP", "10.0.0.8:49200", "10.0.0.1:445", "HERGESTELLT", 4),
		netstatRow("UDP", "0.0.0.0:53", "*:*", "", 1500),
		netstatRow("UDP", "0.0.0.0:1812", "*:*", "", 1500))
	ns = append(ns, dnsPool(50000, 2499, 1500)...)
	cp850 := func(b []byte) []byte {
		out, err := charmap.CodePage850.NewEncoder().Bytes(b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tl := tasklistSvc("02.03.2026  9:26:00,00", "Abbildname                     PID Dienste", append([][3]string{{"Leerlaufprozess", "0", "Nicht zutreffend"},
		{"System", "4", "Nicht zutreffend"}, {"smss.exe", "276", "Nicht zutreffend"}},
		[3]string{"svchost.exe", "700", "RpcEptMapper, RpcSs"}, [3]string{"dns.exe", "1500", "DNS"})...)
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"netstat-ano.txt", cp850(crlf(ns...))},
		{"tasklist-svc.txt", cp850(tl)},
		{"systeminfo.txt", cp850(crlf("",
			"Hostname:                                      NPS02",
			"Betriebssystemname:                            Microsoft Windows Server 2008 R2 Enterprise",
			"Betriebssystemversion:                         6.1.7601 Service Pack 1 Build 7601",
			"Systemstartzeit:                               02.03.2026, 09:00:00",
			"Zeitzone:                                      (UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien"))},
	}
}

// disabledService: Fax fails with 1058 (disabled): not a port problem.
func disabledService(t *testing.T) []bundleFile {
	sys := newLog("System", "APP01", 40).bootVista(at(0), "10", "0", "17763")
	sys.scm(at(time.Minute), 7000, "Fax", "Fax", "%%1058")
	ns := append(netstatHeader(enTitle, enHeader), netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 900))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"netstat-ano.txt", crlf(append([]string{"2026-03-02T09:00:00.0000000+00:00"}, ns...)...)},
	}
}

// --- the tests -----------------------------------------------------------

// expectedFinding is what testdata/bundles/<name>/expected.json pins of
// each finding (reviewed by hand when -update rewrites it).
type expectedFinding struct {
	Service    string   `json:"service"`
	ServiceKey string   `json:"service_key"`
	Proto      string   `json:"proto"`
	Port       uint16   `json:"port"`
	Verdict    string   `json:"verdict"`
	Rule       string   `json:"rule"`
	OwnerPID   *int     `json:"owner_pid"`
	OwnerImage string   `json:"owner_image"`
	Remedy     []string `json:"remedy"`
}

func bundlesDir() string { return filepath.Join("..", "..", "testdata", "bundles") }

// TestScenarioBundlesUpToDate rebuilds every scenario bundle in memory and
// checks the committed files are the same (-update writes them).
func TestScenarioBundlesUpToDate(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			dir := filepath.Join(bundlesDir(), sc.name)
			for _, f := range sc.files(t) {
				p := filepath.Join(dir, f.name)
				if *update {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, f.data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				got, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v (go test ./cmd/portmortem -run TestScenarioBundles -update)", err)
				}
				if !bytes.Equal(got, f.data) {
					t.Errorf("%s differs from what the generator builds (go test ./cmd/portmortem -run TestScenarioBundles -update)", p)
				}
			}
		})
	}
}

// runAnalyzeOn runs `portmortem analyze` on dirs and returns findings.json.
func runAnalyzeOn(t *testing.T, dirs ...string) ([]findingJSON, string) {
	t.Helper()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := append([]string{"analyze", "-o", out}, dirs...)
	if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("analyze exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(out, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fs []findingJSON
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatal(err)
	}
	return fs, stdout.String()
}

// TestScenarioBundles analyzes each shipped bundle and compares its
// findings with expected.json.
func TestScenarioBundles(t *testing.T) {
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			dir := filepath.Join(bundlesDir(), sc.name)
			fs, stdout := runAnalyzeOn(t, dir)
			var got []expectedFinding
			for _, f := range fs {
				got = append(got, expectedFinding{Service: f.Service, ServiceKey: f.ServiceKey, Proto: f.Proto, Port: f.Port,
					Verdict: f.Verdict, Rule: f.Rule, OwnerPID: f.OwnerPID, OwnerImage: f.OwnerImage, Remedy: f.Remedy})
			}
			gotJSON, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			gotJSON = append(gotJSON, '\n')
			golden := filepath.Join(dir, "expected.json")
			if *update {
				if err := os.WriteFile(golden, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotJSON, want) {
				t.Errorf("findings differ from %s\ngot:\n%s\nstdout:\n%s", golden, gotJSON, stdout)
			}
		})
	}
}
