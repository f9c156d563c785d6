package main

import (
	"strings"
	"testing"
	"time"
)

// eventViewerCSV: a German Windows Server 2008 R2 (UTC+01:00) whose System
// log came as Event Viewer's "Save All Events As… CSV": localized header
// and level words, de-DE local times with no zone, the message rendered in
// German. BlackBerry Router stops with 10048 (rendered as German text);
// lsass.exe holds TCP 3101. The verdict needs the export's events read as
// local times and converted with systeminfo's zone: taken as UTC, the
// failure would fall an hour before the boot that logged it.
func eventViewerCSV(t *testing.T) []bundleFile {
	local := func(d time.Duration) string { return at(d).Add(time.Hour).Format("02.01.2006 15:04:05") }
	row := func(level string, d time.Duration, source, id, msg string) string {
		return level + "," + local(d) + "," + source + "," + id + ",Keine," + `"` + strings.ReplaceAll(msg, `"`, `""`) + `"`
	}
	// Newest first, as Event Viewer saves them.
	csv := crlf(
		"Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie",
		row("Fehler", 90*time.Second, "Service Control Manager", "7023",
			"Der Dienst \"BlackBerry Router\" wurde mit folgendem Fehler beendet: \r\nNormalerweise darf jede Socketadresse (Protokoll, Netzwerkadresse oder Anschluss) nur jeweils einmal verwendet werden."),
		row("Informationen", 41*time.Second, "EventLog", "6005", "Der Ereignisprotokolldienst wurde gestartet."),
		row("Informationen", 40*time.Second, "EventLog", "6009", "Microsoft (R) Windows (R) 6.01. 7601 Service Pack 1 Multiprocessor Free."),
		row("Informationen", -10*time.Minute, "EventLog", "6006", "Der Ereignisprotokolldienst wurde beendet."),
		row("Informationen", -24*time.Hour, "EventLog", "6005", "Der Ereignisprotokolldienst wurde gestartet."),
	)
	ns := append([]string{"02.03.2026  9:20:00,00"}, netstatHeader("Aktive Verbindungen", "  Proto  Lokale Adresse         Remoteadresse          Status           PID")...)
	ns = append(ns,
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "ABHÖREN", 880),
		netstatRow("TCP", "0.0.0.0:389", "0.0.0.0:0", "ABHÖREN", 512),
		netstatRow("TCP", "0.0.0.0:3101", "0.0.0.0:0", "ABHÖREN", 512),
		netstatRow("UDP", "0.0.0.0:389", "*:*", "", 512))
	tl := tasklistSvc("02.03.2026  9:21:00,00", "Abbildname                     PID Dienste", [3]string{"System", "4", "Nicht zutreffend"},
		[3]string{"lsass.exe", "512", "Netlogon, NTDS, SamSs"}, [3]string{"svchost.exe", "880", "RpcEptMapper, RpcSs"})
	return []bundleFile{
		{"System-export.csv", append([]byte("\xEF\xBB\xBF"), csv...)},
		{"netstat-ano.txt", crlf(ns...)},
		{"tasklist-svc.txt", tl},
		{"systeminfo.txt", crlf("",
			"Hostname:                                      EXP01",
			"Betriebssystemname:                            Microsoft Windows Server 2008 R2 Enterprise",
			"Betriebssystemversion:                         6.1.7601 Service Pack 1 Build 7601",
			"Systemstartzeit:                               02.03.2026, 09:00:00",
			"Zeitzone:                                      (UTC+01:00) Amsterdam, Berlin, Bern, Rom, Stockholm, Wien")},
	}
}
