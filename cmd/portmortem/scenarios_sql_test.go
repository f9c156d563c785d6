package main

import (
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers/evtxwrite"
	"golang.org/x/text/encoding/charmap"
)

// sqlInsertionsGerman: German Windows Server 2019 (UTC+1). The default SQL
// Server instance fails: its listener events carry their values as
// separate insertion strings (the layout SQL Server's message file gives
// an evtx: 'any' / ipv4 / 1433; 0x2740 / 0xa / the reason in German), and
// SCM 7024 gives the service-specific error as %%10048. A named instance,
// MSSQL$LEGACY, was set to the static port 1433 and started first.
func sqlInsertionsGerman(t *testing.T) []bundleFile {
	sys := newLog("System", "SQL02", 3000).bootVista(at(0), "10", "0", "17763")
	sys.scm(at(3*time.Minute), 7024, "MSSQLSERVER", "SQL Server (MSSQLSERVER)", "%%10048")
	app := newLog("Application", "SQL02", 52000)
	sql := func(id uint16, d time.Duration, values ...string) {
		ev := evtxwrite.Event{Provider: "MSSQLSERVER", EventID: id, Qualifiers: 49152, Level: 2, Time: at(d)}
		for _, v := range values {
			ev.Data = append(ev.Data, evtxwrite.Field{Value: v})
		}
		app.add(ev)
	}
	sql(26023, 2*time.Minute+50*time.Second, "'any'", "ipv4", "1433")
	sql(17182, 2*time.Minute+50*time.Second, "0x2740", "0xa", "Der TCP/IP-Listener kann nicht initialisiert werden. Normalerweise darf jede Socketadresse (Protokoll, Netzwerkadresse oder Anschluss) nur jeweils einmal verwendet werden.")
	sql(17826, 2*time.Minute+51*time.Second)
	sql(17120, 2*time.Minute+51*time.Second)
	ns := append([]string{"02.03.2026  09:20:00,00"}, netstatHeader("Aktive Verbindungen", "  Proto  Lokale Adresse         Remoteadresse          Status           PID")...)
	ns = append(ns,
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "ABHÖREN", 880),
		netstatRow("TCP", "0.0.0.0:1433", "0.0.0.0:0", "ABHÖREN", 2900),
		netstatRow("TCP", "[::]:1433", "[::]:0", "ABHÖREN", 2900),
		netstatRow("TCP", "10.0.0.12:1433", "10.0.0.40:51234", "HERGESTELLT", 2900),
		netstatRow("UDP", "0.0.0.0:1434", "*:*", "", 3300))
	tl := tasklistSvc("02.03.2026  09:21:00,00", "Abbildname                     PID Dienste", append([][3]string{{"Leerlaufprozess", "0", "Nicht zutreffend"},
		{"System", "4", "Nicht zutreffend"}, {"smss.exe", "276", "Nicht zutreffend"}},
		[3]string{"svchost.exe", "880", "RpcEptMapper, RpcSs"}, [3]string{"sqlservr.exe", "2900", "MSSQL$LEGACY"},
		[3]string{"sqlbrowser.exe", "3300", "SQLBrowser"})...)
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"Application.evtx", app.evtx(t)},
		{"netstat-ano.txt", toCP850(t, crlf(ns...))},
		{"tasklist-svc.txt", toCP850(t, tl)},
		{"systeminfo.txt", toCP850(t, crlf("",
			"Hostname:                                      SQL02",
			"Betriebssystemname:                            Microsoft Windows Server 2019 Standard",
			"Betriebssystemversion:                         10.0.17763 Nicht zutreffend Build 17763",
			"Systemstartzeit:                               02.03.2026, 09:00:00",
			"Zeitzone:                                      (UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien"))},
	}
}

// toCP850 encodes b in the console code page of German Windows.
func toCP850(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := charmap.CodePage850.NewEncoder().Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dnsSharedAccess: Windows Server 2016. The DNS Server service stops with
// 10048 (SCM 7023, no port in the event: the catalog gives TCP and UDP
// 53). Internet Connection Sharing (SharedAccess, in svchost.exe) runs its
// own DNS proxy on UDP 53; TCP 53 is free. One finding names the cause
// and says the other port is free.
func dnsSharedAccess(t *testing.T) []bundleFile {
	sys := newLog("System", "DNS02", 900).bootVista(at(0), "10", "0", "14393")
	sys.scm(at(90*time.Second), 7023, "DNS", "DNS Server", "%%10048")
	ns := append(netstatHeader(enTitle, enHeader),
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 880),
		netstatRow("TCP", "0.0.0.0:445", "0.0.0.0:0", "LISTENING", 4),
		netstatRow("UDP", "0.0.0.0:53", "*:*", "", 2412),
		netstatRow("UDP", "0.0.0.0:67", "*:*", "", 2412),
		netstatRow("UDP", "10.0.0.53:137", "*:*", "", 4))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"netstat-ano.txt", crlf(append([]string{"Mon 03/02/2026  9:30:00.00"}, ns...)...)},
		{"tasklist-svc.txt", tasklistSvc("Mon 03/02/2026  9:30:10.00", enTasklistHeader, append(basicProcs(),
			[3]string{"svchost.exe", "880", "RpcEptMapper, RpcSs"}, [3]string{"svchost.exe", "2412", "SharedAccess"})...)},
		{"systeminfo.txt", systeminfo("DNS02", "Microsoft Windows Server 2016 Standard",
			"10.0.14393 N/A Build 14393", "3/2/2026, 9:00:00 AM", "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna")},
	}
}
