package correlate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portmortem/portmortem/parsers"
)

// Rule is a culprit rule (Finding.Rule): the pattern behind a conflict,
// which decides the remedy. Its values are stored in findings.rule and
// written to findings.json and the reports; "" means no culprit.
type Rule string

// The culprit rules.
const (
	// RuleDNSSocketPool: dns.exe's socket pool took the port (MS08-037).
	RuleDNSSocketPool Rule = "dns-socket-pool"
	// RuleLSASSDynamic: lsass.exe (AD/RPC) holds the port (KB224196).
	RuleLSASSDynamic Rule = "lsass-dynamic-port"
	// RuleEphemeral: the port lies in the dynamic range and an outgoing
	// connection or a random-port service took it (KB929851).
	RuleEphemeral Rule = "ephemeral-range"
	// RuleHTTPSys: PID 4 holds the port for HTTP.sys.
	RuleHTTPSys Rule = "httpsys-pid4"
	// RuleExcludedRange: no owner, the port lies in an excluded range.
	RuleExcludedRange Rule = "excluded-range"
	// RuleIPsecBlockMode: IPsec could not bind UDP 500/4500 and the driver
	// entered Block mode (4292).
	RuleIPsecBlockMode Rule = "ipsec-block-mode"
	// RuleSameProduct: another instance of the same product holds the port.
	RuleSameProduct Rule = "same-product"
	// RuleOther: an owner that matches no known pattern.
	RuleOther Rule = "other"
)

// dnsPoolMinSockets is how many UDP sockets one process must hold to look
// like the DNS server's socket pool (2,500 by default).
const dnsPoolMinSockets = 200

// ruleFacts is what the culprit rules look at for one owner of one port.
type ruleFacts struct {
	Proto parsers.Proto
	Port  uint16
	// Owner is the process that holds the port.
	OwnerPID      int
	OwnerImage    string
	OwnerServices []string
	// Outgoing marks a TCP connection (not a listener) whose local port is
	// the needed port.
	Outgoing   bool
	RemoteText string // "10.0.0.9:1433 (ESTABLISHED)" for a connection
	// UDPCount is how many UDP sockets the owner holds in the snapshot.
	UDPCount int
	HasCount bool
	// Dynamic is the dynamic port range for Proto and where it comes from.
	Dynamic       portRange
	DynamicKnown  bool
	DynamicSource string
	// BlockMode is a 4292 event of the failure's boot, for IPsec failures.
	BlockMode    *FailureRef
	IPsecService bool
	// ServiceProduct and ServiceImage describe the failed service;
	// OwnerProduct the owner's services (from the catalog).
	ServiceProduct string
	ServiceImage   string
	OwnerProduct   string
	OwnerProdSvc   string
	// OwnerStatic is set when the catalog lists this port for one of the
	// owner's services (a static port, not a random one).
	OwnerStatic    bool
	OwnerStaticSvc string
}

// ruleMatch is the rule that fits and why.
type ruleMatch struct {
	Rule    Rule
	Reasons []string
}

func (f ruleFacts) ownerText() string {
	s := fmt.Sprintf("PID %d", f.OwnerPID)
	if f.OwnerPID < 0 {
		s = "a process the snapshot does not name"
	}
	if f.OwnerImage != "" {
		s += " (" + f.OwnerImage + ")"
	}
	return s
}

func (f ruleFacts) hostsService(key string) bool {
	return slices.ContainsFunc(f.OwnerServices, func(s string) bool { return strings.EqualFold(s, key) })
}

// matchRule names the culprit pattern for an owner, most specific first.
func matchRule(f ruleFacts) ruleMatch {
	portText := fmt.Sprintf("%s %d", f.Proto, f.Port)
	image := strings.ToLower(f.OwnerImage)
	switch {
	case f.IPsecService && f.BlockMode != nil && f.Proto == parsers.UDP && (f.Port == 500 || f.Port == 4500):
		return ruleMatch{RuleIPsecBlockMode, []string{fmt.Sprintf(
			"The IPsec driver logged event 4292 at %s: it entered Block mode because IPsec could not bind %s, which %s holds, so the server drops all traffic that boot-time exemptions do not permit.",
			fmtTime(f.BlockMode.Failure.Time), portText, f.ownerText())}}

	case f.OwnerPID == 4 && f.OwnerStatic && strings.EqualFold(f.OwnerStaticSvc, "lanmanserver"):
		return ruleMatch{RuleOther, []string{fmt.Sprintf(
			"PID 4 (System) holds %s for the Server service (SMB), not for HTTP.sys: the failed service wants a port Windows file sharing uses.", portText)}}

	case f.OwnerPID == 4:
		return ruleMatch{RuleHTTPSys, []string{fmt.Sprintf(
			"The owner is PID 4 (System): the kernel holds %s on behalf of HTTP.sys, for a consumer such as IIS (W3SVC/WAS), WinRM, SSRS or Web Deploy that registered it.", portText)}}

	case f.Proto == parsers.UDP && (image == "dns.exe" || f.hostsService("DNS")):
		r := fmt.Sprintf("The owner is the DNS server, %s: its socket pool (MS08-037) binds about 2,500 random UDP ports when DNS starts, and took %s before the failed service could bind it.", f.ownerText(), portText)
		if f.HasCount {
			r += fmt.Sprintf(" It holds %d UDP sockets in this snapshot.", f.UDPCount)
		}
		return ruleMatch{RuleDNSSocketPool, []string{r}}

	case f.Proto == parsers.UDP && image == "" && f.HasCount && f.UDPCount >= dnsPoolMinSockets:
		return ruleMatch{RuleDNSSocketPool, []string{fmt.Sprintf(
			"%s holds %d UDP sockets in this snapshot, the signature of the DNS server's socket pool (MS08-037); the PID could not be mapped to an image to confirm it is dns.exe.", f.ownerText(), f.UDPCount)}}

	case image == "lsass.exe":
		return ruleMatch{RuleLSASSDynamic, []string{fmt.Sprintf(
			"The owner is lsass.exe (PID %d): Active Directory or RPC took %s as a dynamic port, or it is AD's configured static RPC port (KB224196).", f.OwnerPID, portText)}}

	case !f.Outgoing && f.sameProduct() != "":
		return ruleMatch{RuleSameProduct, []string{f.sameProduct()}}

	case f.DynamicKnown && f.Port >= f.Dynamic.Start && f.Port <= f.Dynamic.End && (f.Outgoing || !f.OwnerStatic):
		how := "a process that picked it at random (the catalog knows no static use of this port by it)"
		if f.Outgoing {
			how = "an outgoing connection that took it as its local port (" + f.RemoteText + ")"
		}
		return ruleMatch{RuleEphemeral, []string{fmt.Sprintf(
			"%s lies in the dynamic (ephemeral) port range %s (%s), and its holder, %s, is %s: Windows handed the port out as an ephemeral port (KB929851).",
			portText, f.Dynamic, f.DynamicSource, f.ownerText(), how)}}
	}
	if f.OwnerStatic {
		return ruleMatch{RuleOther, []string{fmt.Sprintf(
			"%s holds %s for %s, which the catalog lists on that port: two services are configured for the same port, and whichever starts first takes it.", f.ownerText(), portText, f.OwnerStaticSvc)}}
	}
	return ruleMatch{RuleOther, []string{fmt.Sprintf("No known culprit pattern matches: %s holds %s.", f.ownerText(), portText)}}
}

// sameProduct explains why the owner is another instance of the failed
// service's product, or returns "".
func (f ruleFacts) sameProduct() string {
	switch {
	case f.ServiceProduct != "" && f.OwnerProduct == f.ServiceProduct:
		return fmt.Sprintf("The owner, %s, hosts %s, another service of the same product (%s): a second instance holds the port.", f.ownerText(), f.OwnerProdSvc, f.ServiceProduct)
	case f.ServiceImage != "" && f.OwnerImage != "" && strings.EqualFold(f.ServiceImage, f.OwnerImage) && !isSharedHost(f.OwnerImage):
		return fmt.Sprintf("The owner, %s, runs the same image as the failed service (%s): a second instance holds the port.", f.ownerText(), f.ServiceImage)
	}
	return ""
}

// isSharedHost reports whether an image hosts many unrelated services, so
// that it says nothing about which service a socket belongs to.
func isSharedHost(image string) bool {
	switch strings.ToLower(image) {
	case "svchost.exe", "lsass.exe", "services.exe", "system", "system idle process", "":
		return true
	}
	return false
}
