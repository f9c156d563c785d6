package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// Issue 12, items 3 and 4: one snapshot in several captures (netstat -ano,
// -anoq, -anob, Get-NetTCPConnection taken within a minute of each other
// are one observation), and the bind time (CreationTime) deciding who was
// first. correlate/captures_test.go has the same cases as Input values.

// sqlListenEvents logs SQL Server's 26023 for port and the 17182 after it.
func sqlListenEvents(l *eventLog, provider, port string, when time.Time) *eventLog {
	l.add(evtxwrite.Event{Provider: provider, EventID: 26023, Qualifiers: 49152, Level: 2, Time: when,
		Data: []evtxwrite.Field{{Value: "Server TCP provider failed to listen on [ 'any' <ipv4> " + port + "]. Tcp port is already in use."}}})
	return l.add(evtxwrite.Event{Provider: provider, EventID: 17182, Qualifiers: 49152, Level: 2, Time: when,
		Data: []evtxwrite.Field{{Value: "TDSSNIClient initialization failed with error 0x2740, status code 0xa. Reason: Unable to initialize the TCP/IP listener. Only one usage of each socket address (protocol/network address/port) is normally permitted."}}})
}

// apacheMakeSock logs Apache 2.4's 3299 for a make_sock bind failure.
func apacheMakeSock(l *eventLog, addr string, when time.Time) *eventLog {
	for _, line := range []string{
		"(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : AH00072: make_sock: could not bind to address " + addr,
		"AH00451: no listening sockets available, shutting down",
	} {
		l.add(evtxwrite.Event{Provider: "Apache Service", EventID: 3299, Qualifiers: 49152, Level: 2, Time: when,
			Data: []evtxwrite.Field{{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
				{Value: line}, {}, {}, {}, {}, {}}})
	}
	return l
}

// psTCPHeader is what Get-NetTCPConnection | Export-Csv writes above its rows
// (the columns portmortem reads; Export-Csv writes them all).
var psTCPHeader = []string{`#TYPE Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetTCPConnection`,
	`"LocalAddress","LocalPort","RemoteAddress","RemotePort","State","OwningProcess","CreationTime"`}

func psTCPRow(local string, port int, state string, pid int, created string) string {
	return fmt.Sprintf(`"%s","%d","0.0.0.0","0","%s","%d","%s"`, local, port, state, pid, created)
}

const utcZone = "(UTC+00:00) Dublin, Edinburgh, Lisbon, London"

// anoqBoundHolder (APP02, Server 2016): SQL Server cannot listen on TCP
// 1433 (26023 + 17182). netstat -ano shows nobody on 1433; netstat -anoq,
// taken 40 s later, shows a backup agent's BOUND socket on 0.0.0.0:1433:
// the only capture that can show a bound-but-not-listening holder.
func anoqBoundHolder(t *testing.T) []bundleFile {
	sys := newLog("System", "APP02", 4000).bootVista(at(0), "10", "0", "14393")
	app := sqlListenEvents(newLog("Application", "APP02", 4100), "MSSQLSERVER", "1433", at(90*time.Second))
	common := []string{
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 900),
		netstatRow("TCP", "0.0.0.0:445", "0.0.0.0:0", "LISTENING", 4),
		netstatRow("TCP", "10.0.0.12:49712", "10.0.0.30:445", "ESTABLISHED", 4),
		netstatRow("UDP", "0.0.0.0:1434", "*:*", "", 1800),
	}
	ano := append(append([]string{"2026-03-02T08:10:00.0000000+00:00"}, netstatHeader(enTitle, enHeader)...), common...)
	anoq := append(append([]string{"2026-03-02T08:10:40.0000000+00:00"}, netstatHeader(enTitle, enHeader)...), common...)
	anoq = append(anoq,
		netstatRow("TCP", "0.0.0.0:1433", "0.0.0.0:0", "BOUND", 3100),
		netstatRow("TCP", "0.0.0.0:49670", "0.0.0.0:0", "BOUND", 3100))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"Application.evtx", app.evtx(t)},
		{"netstat-ano.txt", crlf(ano...)},
		{"netstat-anoq.txt", crlf(anoq...)},
		{"tasklist-svc.txt", tasklistSvc("2026-03-02T08:11:00.0000000+00:00", enTasklistHeader, append(basicProcs(),
			[3]string{"svchost.exe", "900", "RpcEptMapper, RpcSs"}, [3]string{"sqlbrowser.exe", "1800", "SQLBrowser"},
			[3]string{"sqlservr.exe", "2000", "MSSQLSERVER"}, [3]string{"bkagent.exe", "3100", "BackupAgent"})...)},
		{"systeminfo.txt", systeminfo("APP02", "Microsoft Windows Server 2016 Standard", "10.0.14393 N/A Build 14393",
			"3/2/2026, 8:00:00 AM", utcZone)},
	}
}

// capturesDisagree (WEB03, Server 2019): Apache cannot bind 0.0.0.0:443.
// netstat -anob names PID 2400 vmware-hostd.exe; Get-NetTCPConnection 50 s
// later lists the same socket, and the tasklist taken with it says PID 2400
// is nginx.exe: the captures disagree on the holder's image.
func capturesDisagree(t *testing.T) []bundleFile {
	sys := newLog("System", "WEB03", 7000).bootVista(at(0), "10", "0", "17763")
	app := apacheMakeSock(newLog("Application", "WEB03", 820), "0.0.0.0:443", at(3*time.Minute))
	anob := append([]string{"2026-03-02T08:20:00.0000000+00:00"}, netstatHeader(enTitle, enHeader)...)
	anob = append(anob,
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 900),
		"  RpcSs",
		" [svchost.exe]",
		netstatRow("TCP", "0.0.0.0:443", "0.0.0.0:0", "LISTENING", 2400),
		" [vmware-hostd.exe]",
		netstatRow("TCP", "0.0.0.0:445", "0.0.0.0:0", "LISTENING", 4),
		" Can not obtain ownership information")
	csv := append(append([]string{}, psTCPHeader...),
		psTCPRow("0.0.0.0", 135, "Listen", 900, "3/2/2026 8:00:31 AM"),
		psTCPRow("0.0.0.0", 443, "Listen", 2400, "3/2/2026 8:00:58 AM"),
		psTCPRow("0.0.0.0", 445, "Listen", 4, "3/2/2026 8:00:25 AM"))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"Application.evtx", app.evtx(t)},
		{"netstat-anob.txt", crlf(anob...)},
		{"nettcp_20260302_082050.csv", crlf(csv...)},
		{"tasklist-svc.txt", tasklistSvc("2026-03-02T08:21:00.0000000+00:00", enTasklistHeader, append(basicProcs(),
			[3]string{"svchost.exe", "900", "RpcEptMapper, RpcSs"}, [3]string{"nginx.exe", "2400", "N/A"})...)},
		{"systeminfo.txt", systeminfo("WEB03", "Microsoft Windows Server 2019 Standard", "10.0.17763 N/A Build 17763",
			"3/2/2026, 8:00:00 AM", utcZone)},
	}
}

// psBindTimeBundle: Apache cannot bind 0.0.0.0:80 at 08:02 UTC; an hour
// later Get-NetTCPConnection shows javaw.exe listening on it, bound at
// created (the host's local time, UTC+1 here, as Export-Csv writes it).
func psBindTimeBundle(t *testing.T, host, created string) []bundleFile {
	sys := newLog("System", host, 8000).bootVista(at(0), "10", "0", "14393")
	app := apacheMakeSock(newLog("Application", host, 830), "0.0.0.0:80", at(2*time.Minute))
	csv := append(append([]string{}, psTCPHeader...),
		psTCPRow("0.0.0.0", 135, "Listen", 900, "3/2/2026 9:00:31 AM"),
		psTCPRow("0.0.0.0", 80, "Listen", 5200, created),
		psTCPRow("0.0.0.0", 445, "Listen", 4, "3/2/2026 9:00:25 AM"))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"Application.evtx", app.evtx(t)},
		// The collector named the file after the host's local time (10:00, UTC+1).
		{"nettcp_20260302_100000.csv", crlf(csv...)},
		{"tasklist-svc.txt", tasklistSvc("2026-03-02T10:01:00.0000000+01:00", enTasklistHeader, append(basicProcs(),
			[3]string{"svchost.exe", "900", "RpcEptMapper, RpcSs"}, [3]string{"javaw.exe", "5200", "N/A"})...)},
		{"systeminfo.txt", systeminfo(host, "Microsoft Windows Server 2016 Standard", "10.0.14393 N/A Build 14393",
			"3/2/2026, 9:00:00 AM", "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna")},
	}
}

// boundAfterFailure (WEB04): javaw.exe bound TCP 80 at 08:20 UTC, 18 min
// after Apache failed: it did not cause the failure.
func boundAfterFailure(t *testing.T) []bundleFile {
	return psBindTimeBundle(t, "WEB04", "3/2/2026 9:20:00 AM")
}

// boundBeforeFailure (APP03): javaw.exe bound TCP 80 at 08:00:50 UTC,
// before Apache failed, and still held it an hour later: the strongest
// proof of who was first.
func boundBeforeFailure(t *testing.T) []bundleFile {
	return psBindTimeBundle(t, "APP03", "3/2/2026 9:00:50 AM")
}
