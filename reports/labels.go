package reports

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/portmortem/portmortem/correlate"
)

// The texts every report shows the same way: the workbook, the page, the
// terminal and findings.json take a port, an owner, an error or an
// endpoint from here, so that they read alike everywhere.

// portLabel renders a finding's port: "UDP/1812", or "-" when it has none.
func portLabel(f *correlate.Finding) string {
	if f.Port == 0 {
		return "-"
	}
	return fmt.Sprintf("%s/%d", f.Proto, f.Port)
}

// serviceLabel renders a finding's service with its key name when that
// adds something: "Netzwerkrichtlinienserver (IAS)" (correlate.ServiceLabel).
func serviceLabel(f *correlate.Finding) string {
	return correlate.ServiceLabel(f.Service, f.ServiceKey)
}

// ownerLabel renders a finding's owner: "dns.exe (PID 1640)", or "" when
// it has none.
func ownerLabel(f *correlate.Finding) string {
	if f.OwnerPID < 0 {
		return ""
	}
	return fmt.Sprintf("%s (PID %d)", cmp.Or(f.OwnerImage, "unknown image"), f.OwnerPID)
}

// errorLabel renders a finding's error code: "10048 (WSAEADDRINUSE)".
func errorLabel(f *correlate.Finding) string {
	if !f.HasError {
		return ""
	}
	return correlate.FormatCode(f.ErrorCode)
}

// evidencePlace renders where a piece of evidence is: "netstat.txt:12", or
// "System.evtx record 4303 (System)".
func evidencePlace(e correlate.Evidence) string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d", e.Artifact, e.Line)
	case e.RecordID > 0 && e.Channel != "":
		return fmt.Sprintf("%s record %d (%s)", e.Artifact, e.RecordID, e.Channel)
	case e.RecordID > 0:
		return fmt.Sprintf("%s record %d", e.Artifact, e.RecordID)
	}
	return e.Artifact
}

// failureError renders a failure's error: "10048 (WSAEADDRINUSE)", or
// "1 (service-specific exit code)" for the code a service returns itself
// (7024), which is not a Windows error; "" when the event has none.
func failureError(f *correlate.Failure) string {
	switch {
	case !f.HasError:
		return ""
	case f.ServiceSpecific:
		return fmt.Sprintf("%d (service-specific exit code)", f.ErrorCode)
	}
	return correlate.FormatCode(f.ErrorCode)
}

// failureEndpoint renders the endpoint a failure names: "UDP 0.0.0.0:1812",
// "TCP [::]:443", "TCP port 80" without an address; "" without a port.
func failureEndpoint(f *correlate.Failure) string {
	if !f.HasPort {
		return ""
	}
	return fmt.Sprintf("%s %s", f.Proto, hostPort(f.Addr.String(), f.Port, f.Addr.IsValid()))
}

// hostPort renders an address and port, bracketing an IPv6 address:
// "10.0.0.5:4100", "[::]:443", or "port 80" without an address.
func hostPort(addr string, port uint16, hasAddr bool) string {
	if !hasAddr {
		return fmt.Sprintf("port %d", port)
	}
	if strings.Contains(addr, ":") {
		return fmt.Sprintf("[%s]:%d", addr, port)
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

// addrOr is a socket end's address, or the host name the listing printed
// instead of one (netstat without -n).
func addrOr(addr string, valid bool, name string) string {
	if valid {
		return addr
	}
	return name
}

// EvidenceText renders an evidence chain one item per paragraph: the
// place, the raw line or message, and the claim it supports, as the
// Findings sheet shows it (exported for cmd's tests, which check the sheet
// against findings.json).
func EvidenceText(ev []correlate.Evidence) string {
	var b strings.Builder
	for i, e := range ev {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(evidencePlace(e))
		if e.Text != "" {
			b.WriteString(": ")
			b.WriteString(e.Text)
		}
		b.WriteString("\n  → ")
		b.WriteString(e.Claim)
	}
	return b.String()
}
