package correlate

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portmortem/portmortem/parsers"
)

// Coverage checks, in the order Analyze reports them.
const (
	CheckFailures       = "failures"
	CheckSystemLog      = "system-log"
	CheckBoots          = "boots"
	CheckSnapshots      = "snapshots"
	CheckSnapshotTime   = "snapshot-time"
	CheckTcpvconPorts   = "tcpvcon-ports"
	CheckProcessMap     = "process-map"
	CheckExcludedRanges = "excluded-ranges"
	CheckDynamicRange   = "dynamic-range"
	CheckOSVersion      = "os-version"
	CheckUTCOffset      = "utc-offset"
	CheckHistory        = "history"
	CheckBundle         = "bundle"
	CheckEventLogs      = "event-logs"
	CheckHosts          = "hosts"
)

// Coverage statuses.
const (
	StatusOK      = "ok"
	StatusMissing = "missing"
	StatusPartial = "partial"
)

var checkOrder = []string{
	CheckFailures, CheckSystemLog, CheckBoots, CheckSnapshots, CheckSnapshotTime, CheckTcpvconPorts,
	CheckProcessMap, CheckExcludedRanges, CheckDynamicRange, CheckOSVersion, CheckUTCOffset, CheckHistory,
	CheckBundle, CheckEventLogs, CheckHosts,
}

type coverage struct {
	items []Coverage
}

// set records a check, replacing an earlier entry for it.
func (c *coverage) set(check, status, reason string) {
	for i := range c.items {
		if c.items[i].Check == check {
			c.items[i] = Coverage{check, status, reason}
			return
		}
	}
	c.items = append(c.items, Coverage{check, status, reason})
}

func (c *coverage) list() []Coverage {
	out := slices.Clone(c.items)
	slices.SortStableFunc(out, func(x, y Coverage) int {
		return slices.Index(checkOrder, x.Check) - slices.Index(checkOrder, y.Check)
	})
	return out
}

// initCoverage records what the input lets Analyze check at all.
func (a *analysis) initCoverage() {
	in := a.in
	nFail, nSignal := 0, 0
	system := false
	for _, f := range in.Failures {
		if f.Failure.Kind == KindSignal {
			nSignal++
		} else {
			nFail++
		}
		if f.Failure.Kind == KindServiceFailure || strings.EqualFold(f.Failure.Channel, "System") {
			system = true
		}
	}
	if len(in.Boots) > 0 {
		system = true
	}
	if len(in.Refused) > 0 {
		a.cov.set(CheckBundle, StatusPartial, refusedReason(in.Refused))
	}
	if len(in.Damaged) > 0 {
		a.cov.set(CheckEventLogs, StatusPartial, damagedReason(in.Damaged))
	}
	if sc := in.Scope; sc != nil && (sc.Hosts > 1 || sc.Cases > 1) {
		a.cov.set(CheckHosts, scopeStatus(sc), ScopeReason(sc))
	}
	if nFail == 0 {
		a.cov.set(CheckFailures, StatusMissing, "No service failure or bind error was found in the logs supplied: there is nothing to explain, which is not the same as no problem.")
	} else {
		a.cov.set(CheckFailures, StatusOK, fmt.Sprintf("%d failure event(s) and %d related signal(s).", nFail, nSignal))
	}
	if system {
		a.cov.set(CheckSystemLog, StatusOK, "System log events (Service Control Manager or boot markers) were supplied.")
	} else {
		a.cov.set(CheckSystemLog, StatusMissing, "No System log events were supplied: Service Control Manager failures and boot markers live there.")
	}
	if len(a.sessions) == 0 {
		a.cov.set(CheckBoots, StatusMissing, "No boot markers (Kernel-General 12, EventLog 6005/6009, 41/6008): boot placement of failures and snapshots is unknown, so PIDs cannot be tied to the failure's boot.")
	} else {
		a.cov.set(CheckBoots, StatusOK, fmt.Sprintf("%d boot session(s) from %d boot marker(s).", len(a.sessions), len(in.Boots)))
	}

	switch {
	case len(a.snaps) == 0 && len(a.noPorts) > 0:
		a.cov.set(CheckSnapshots, StatusMissing, "The only socket listings have no ports (Tcpvcon 4.x): who held a port cannot be checked.")
	case len(a.snaps) == 0:
		a.cov.set(CheckSnapshots, StatusMissing, "No socket snapshot (netstat -ano, Get-NetTCPConnection/Get-NetUDPEndpoint, tcpvcon with ports): who held a port cannot be checked.")
	default:
		a.cov.set(CheckSnapshots, StatusOK, fmt.Sprintf("%d socket snapshot(s).", len(a.snaps)))
	}
	var untrusted []string
	for _, s := range a.snaps {
		if !s.trusted {
			untrusted = append(untrusted, s.Artifact+": "+s.timeNote)
		}
	}
	if len(untrusted) > 0 {
		a.cov.set(CheckSnapshotTime, StatusPartial, "Some snapshot times are not trustworthy, so their findings cannot be CONFIRMED: "+strings.Join(untrusted, "; ")+".")
	} else if len(a.snaps) > 0 {
		a.cov.set(CheckSnapshotTime, StatusOK, "Every snapshot has a trustworthy capture time.")
	}
	if len(a.noPorts) > 0 {
		names := make([]string, len(a.noPorts))
		for i, s := range a.noPorts {
			names[i] = s.Artifact
		}
		a.cov.set(CheckTcpvconPorts, StatusPartial, "Tcpvcon 4.x prints no ports ("+strings.Join(names, ", ")+"): it maps PIDs to images but cannot show a port's owner.")
	}

	hasMap := len(in.Processes) > 0
	if !hasMap {
		a.cov.set(CheckProcessMap, StatusMissing, "No tasklist /svc (or netstat -b, tcpvcon) was supplied: owner PIDs cannot be mapped to images and services, and the failed service's own process cannot be excluded.")
	} else {
		a.cov.set(CheckProcessMap, StatusOK, fmt.Sprintf("%d PID mapping(s).", len(in.Processes)))
	}

	var protos []string
	for _, p := range []parsers.Proto{parsers.TCP, parsers.UDP} {
		if a.haveRanges(p) {
			protos = append(protos, string(p))
		}
	}
	switch len(protos) {
	case 0:
		a.cov.set(CheckExcludedRanges, StatusMissing, "No netsh excludedportrange output was collected: RESERVED_RANGE could not be checked, and a port with no owner may still be reserved.")
	case 1:
		a.cov.set(CheckExcludedRanges, StatusPartial, "Excluded port ranges were collected for "+protos[0]+" only.")
	default:
		a.cov.set(CheckExcludedRanges, StatusOK, "Excluded port ranges were collected for TCP and UDP.")
	}
	dynamic := false
	for _, r := range in.Ranges {
		dynamic = dynamic || r.Range.Kind == "dynamic"
	}
	switch {
	case dynamic:
		a.cov.set(CheckDynamicRange, StatusOK, "The dynamic port range was collected with netsh.")
	case a.family != osUnknown:
		a.cov.set(CheckDynamicRange, StatusPartial, "The dynamic port range was not collected; the default of "+a.osLabel+" is assumed.")
	default:
		a.cov.set(CheckDynamicRange, StatusMissing, "Neither the dynamic port range nor the OS version is known: the ephemeral-range rule assumes the default range of 2000/XP/2003 (1025-5000) or of Vista/2008 and later (49152-65535), whichever holds the port.")
	}
	if a.family == osUnknown {
		a.cov.set(CheckOSVersion, StatusMissing, "The Windows version is unknown (no systeminfo, no 6009): remedies give the commands of both families (ReservedPorts for 2000/XP/2003, netsh for Vista/2008 and later).")
	} else {
		a.cov.set(CheckOSVersion, StatusOK, a.osLabel+".")
	}
}

// finishCoverage adds what the analysis itself found out.
func (a *analysis) finishCoverage(findings []Finding) {
	if a.unmappedPIDs > 0 && len(a.in.Processes) > 0 {
		a.cov.set(CheckProcessMap, StatusPartial, fmt.Sprintf("%d owner PID(s) could not be mapped to an image: no process listing ties to their snapshot.", a.unmappedPIDs))
	}
	var zone []string
	if len(a.fallbackZone) > 0 {
		zone = append(zone, fmt.Sprintf("%s fell in a boot that shows no offset of its own and took the case's (%s, %s), which daylight saving time or a zone change may put off by an hour",
			listNames(a.fallbackZone), offsetLabel(a.zone.Fallback), a.zone.FallbackSource))
	}
	if len(a.changedZone) > 0 {
		zone = append(zone, fmt.Sprintf("%s fell in a boot whose offset changed during it (its 6008 and the next boot's differ) and took the offset at its start, which is off by the change for a time after it",
			listNames(a.changedZone)))
	}
	if len(zone) > 0 && !a.localNoOffset {
		a.cov.set(CheckUTCOffset, StatusPartial, "Local times are converted with the offset of the boot they fall in; "+strings.Join(zone, "; ")+".")
	}
	if a.localNoOffset {
		a.cov.set(CheckUTCOffset, StatusMissing, "Some times are the host's local time (zip DOS times, Get-NetTCPConnection CreationTime) and its UTC offset is unknown: they were not compared with event times.")
	}
	a.rangeCoverage()
	if a.historyFailed {
		a.cov.set(CheckHistory, StatusMissing, "Ports a service's process held in earlier snapshots could not be read (the owner lookup cannot list a process's sockets).")
	}
}

// listNames joins names for a coverage reason, each once, at most
// maxFilesListed of them and the rest counted.
func listNames(names []string) string {
	var u []string
	for _, n := range names {
		if !slices.Contains(u, n) {
			u = append(u, n)
		}
	}
	if len(u) > maxFilesListed {
		return strings.Join(u[:maxFilesListed], ", ") + fmt.Sprintf(" and %d more", len(u)-maxFilesListed)
	}
	return strings.Join(u, ", ")
}

// maxFilesListed bounds the files a coverage reason names; the rest are
// counted.
const maxFilesListed = 5

// refusedReason names the bundle's files that were not read, and why.
func refusedReason(rs []Refused) string {
	items := make([]string, len(rs))
	for i, r := range rs {
		items[i] = printable(r.Path) + " (" + printable(r.Reason) + ")"
	}
	return fmt.Sprintf("%d file(s) of the bundle were not read, so nothing they hold is in this analysis: %s.", len(rs), fileList(items))
}

func scopeStatus(sc *Scope) string {
	switch {
	case sc.UndecidedCase:
		return StatusMissing
	case len(sc.Undecided) > 0:
		return StatusPartial
	}
	return StatusOK
}

// ScopeReason is the "hosts" coverage entry's reason: which host of the
// bundle a case is, and what of the bundle it does not use.
func ScopeReason(sc *Scope) string {
	var items []string
	for _, p := range sc.Undecided {
		items = append(items, printable(p))
	}
	if sc.UndecidedCase {
		return fmt.Sprintf("The bundle holds %d hosts, and the host of these %d file(s) could not be decided, so no verdict uses them: %s. "+
			"Analyze each host's files on their own, or put them in a folder of the host's, or name the host in the file name (netstat-HOST.txt).",
			sc.Hosts, len(sc.Undecided), fileList(items))
	}
	where := ""
	if sc.Collection != "" {
		where = " in " + printable(sc.Collection)
	}
	host := cmp.Or(printable(sc.Host), "a host with no name")
	s := fmt.Sprintf("The bundle holds %d host(s) in %d case(s): this case is %s's files%s, and no other host's evidence decides its verdicts.",
		sc.Hosts, sc.Cases, host, where)
	if len(items) > 0 {
		s += fmt.Sprintf(" %d file(s) whose host could not be decided are not used: %s.", len(items), fileList(items))
	}
	return s
}

// fileList joins the first maxFilesListed items and counts the rest.
func fileList(items []string) string {
	s := strings.Join(items[:min(len(items), maxFilesListed)], "; ")
	if len(items) > maxFilesListed {
		s += fmt.Sprintf("; and %d more (see the artifacts)", len(items)-maxFilesListed)
	}
	return s
}

// printable quotes s when it is not valid UTF-8 or holds characters that
// do not print (a hostile archive's member names): a reason is shown on
// terminals and in reports.
func printable(s string) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return s
}

// damagedReason names the event logs read only in part.
func damagedReason(ds []Damaged) string {
	items := make([]string, len(ds))
	for i, d := range ds {
		items[i] = fmt.Sprintf("%s (%d unreadable part(s), %d record(s) read)", printable(d.Path), d.Errors, d.Records)
	}
	return fmt.Sprintf("%d event log(s) were read only in part, so failures or boot markers in what could not be read are missing from this analysis: %s.", len(ds), fileList(items))
}
