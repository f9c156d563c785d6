package main

import (
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// Scenario bundles for issue 12, items 1 and 2: netsh tables belong to a
// boot, and an excluded range of the failure's boot needs no netstat.

// excludedTable prints `netsh int ipv4 show excludedportrange
// protocol=tcp` below a `Get-Date -Format o` line; rows are "start end"
// or "start end *".
func excludedTable(stamp time.Time, rows ...string) []byte {
	lines := []string{stamp.Format("2006-01-02T15:04:05.0000000-07:00"), "", "Protocol tcp Port Exclusion Ranges", "", "Start Port    End Port", "----------    --------"}
	lines = append(lines, rows...)
	return crlf(append(lines, "", "* - Administered port exclusions.", "")...)
}

// sqlListenerFailure is SQL Server's 17182 with error 0x271d (10013):
// WinNAT holds the block 1433 lies in, so the bind is refused.
func sqlListenerFailure(app *eventLog, t time.Time) {
	app.add(evtxwrite.Event{Provider: "MSSQLSERVER", EventID: 17182, Qualifiers: 49152, Level: 2, Time: t,
		Data: []evtxwrite.Field{{Value: "TDSSNIClient initialization failed with error 0x271d, status code 0x10. Reason: Unable to initialize the TCP/IP listener. An attempt was made to access a socket in a way forbidden by its access permissions. "}}})
}

// hypervStaleRanges: a Server 2019 Hyper-V host whose dynamic port range
// starts at 1024. The netsh tables were taken on Monday, in the boot
// before the failure, and showed WinNAT's block 1382-1481 (no *) over
// SQL Server's 1433. After Tuesday's reboot SQL Server cannot listen
// (0x271d, 10013), and a netstat of that boot shows 1433 free: Monday's
// dynamic block is no evidence for Tuesday's boot, so the verdict is
// NO_CONFLICT_SEEN, lowered, with the stale table named; the administered
// 50000-50059 would still apply.
func hypervStaleRanges(t *testing.T) []bundleFile {
	sys := newLog("System", "HV01", 3000).bootVista(at(-24*time.Hour), "10", "0", "17763")
	sys.add(evtxwrite.Event{Provider: "EventLog", EventID: 6006, Qualifiers: 32768, Level: 4, Time: at(-10 * time.Minute)})
	sys.bootVista(at(0), "10", "0", "17763")
	app := newLog("Application", "HV01", 5100)
	sqlListenerFailure(app, at(2*time.Minute))
	ns := append(netstatHeader(enTitle, enHeader),
		netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 900),
		netstatRow("TCP", "0.0.0.0:445", "0.0.0.0:0", "LISTENING", 4),
		netstatRow("TCP", "0.0.0.0:2179", "0.0.0.0:0", "LISTENING", 3300))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"Application.evtx", app.evtx(t)},
		{"netstat-ano.txt", crlf(append([]string{"2026-03-02T08:30:00.0000000+00:00"}, ns...)...)},
		{"excluded-tcp-monday.txt", excludedTable(at(-23*time.Hour), "      1382        1481", "      2869        2869", "     50000       50059     *")},
		{"dynamic-tcp-monday.txt", crlf(at(-23*time.Hour).Format("2006-01-02T15:04:05.0000000-07:00"), "", "Protocol tcp Dynamic Port Range",
			"---------------------------------", "Start Port      : 1024", "Number of Ports : 64511", "")},
	}
}

// dockerNetshOnly: a Server 2022 Docker host. The customer sent the event
// logs and the netsh table of the failure's boot, and no netstat. Apache
// cannot bind 0.0.0.0:8080 (OS 10013; the port comes from the event) and
// SQL Server cannot listen (0x271d; TCP 1433 comes from the catalog);
// WinNAT's blocks 1383-1482 and 8039-8138 cover both. A port inside an
// excluded range cannot have an owner, so both are RESERVED_RANGE.
func dockerNetshOnly(t *testing.T) []bundleFile {
	sys := newLog("System", "DOCK01", 8400).bootVista(at(0), "10", "0", "20348")
	sys.scm(at(3*time.Minute+time.Second), 7024, "Apache2.4", "Apache2.4", "%%1")
	app := newLog("Application", "DOCK01", 610)
	app.add(evtxwrite.Event{Provider: "Apache Service", EventID: 3299, Qualifiers: 49152, Level: 2, Time: at(3 * time.Minute),
		Data: []evtxwrite.Field{{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
			{Value: "(OS 10013)An attempt was made to access a socket in a way forbidden by its access permissions.  : AH00072: make_sock: could not bind to address 0.0.0.0:8080"},
			{}, {}, {}, {}, {}}})
	sqlListenerFailure(app, at(4*time.Minute))
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"Application.evtx", app.evtx(t)},
		{"excluded-tcp.txt", excludedTable(at(40*time.Minute), "      1383        1482", "      5357        5357", "      8039        8138", "     50000       50059     *")},
	}
}
