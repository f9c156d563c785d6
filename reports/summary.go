package reports

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/portmortem/portmortem/correlate"
)

// The executive summary opens each case on the page: for each failure,
// in four short lines, what failed, why, the fix and how sure we are —
// what a customer's manager reads in half a minute before the details.

// htmlSummaryLimit is how many failures a case's summary tells; the rest
// are counted.
const htmlSummaryLimit = 5

// htmlSummary is the summary of one failure, from its best-ranked fold.
type htmlSummary struct {
	ID, Class, Verdict, Confidence string
	What, Why, Fix, Sure           string
	// Commands says the fold has commands (under Fix, at ID).
	Commands bool
	// Headline is the summary in one line, for the batch index.
	Headline string
	err      string // the error, as What names it
}

// newHTMLSummary tells the case's failures, best first: failures whose
// best fold reads the same (a service that failed the same way many
// times) are one item that says how often and over what time.
func newHTMLSummary(c *Case, folds []failureFold) ([]htmlSummary, int) {
	var out []htmlSummary
	type run struct {
		item     int
		n        int
		from, to time.Time
	}
	byKey := map[string]*run{}
	var runs []*run
	more := 0
	for n := range folds {
		ff := &folds[n]
		f := &c.Findings[ff.Folds[0].Findings[0]]
		k := strings.Join([]string{string(f.Verdict), serviceLabel(f), portsLabel(c, ff.Folds[0].Findings),
			ownerLabel(f), string(f.Rule), errorLabel(f)}, "\x00")
		r := byKey[k]
		if r == nil {
			if len(out) == htmlSummaryLimit {
				more++
				continue
			}
			r = &run{item: len(out), from: f.FailureTime, to: f.FailureTime}
			byKey[k] = r
			runs = append(runs, r)
			out = append(out, summaryOf(c, ff))
		}
		r.n++
		if t := f.FailureTime; !t.IsZero() {
			if r.from.IsZero() || t.Before(r.from) {
				r.from = t
			}
			if t.After(r.to) {
				r.to = t
			}
		}
	}
	for _, r := range runs {
		if r.n > 1 {
			s := &out[r.item]
			s.What = repeatedWhat(c, s, r.n, r.from, r.to)
		}
	}
	return out, more
}

// repeatedWhat says what failed for a summary item that stands for n
// failures from from to to.
func repeatedWhat(c *Case, s *htmlSummary, n int, from, to time.Time) string {
	what, _, _ := strings.Cut(s.What, " failed")
	what += fmt.Sprintf(" failed %d times", n)
	if c.Host != "" {
		what += " on " + c.Host
	}
	if !from.IsZero() {
		what += ", from " + c.formatTime(from, false) + " to " + c.formatTime(to, false)
	}
	if s.err != "" {
		what += ", with error " + s.err
	}
	return what + "."
}

func summaryOf(c *Case, ff *failureFold) htmlSummary {
	lead := ff.Folds[0]
	f := &c.Findings[lead.Findings[0]]
	conf := 0.0
	for _, i := range lead.Findings {
		conf = max(conf, c.Findings[i].Confidence)
	}
	s := htmlSummary{ID: findingID(c, lead.Findings[0]), Class: verdictClass(f.Verdict), Verdict: string(f.Verdict),
		Confidence: fmt.Sprintf("%.0f%%", conf*100)}
	for _, i := range lead.Findings {
		s.Commands = s.Commands || len(c.Findings[i].Remedy) > 0
	}

	svc := serviceLabel(f)
	s.What = svc + " failed"
	if c.Host != "" {
		s.What += " on " + c.Host
	}
	if t := c.formatTime(f.FailureTime, false); t != "" {
		s.What += " at " + t
	}
	if e := errorLabel(f); e != "" {
		s.What += " with error " + e
		s.err = e
	}
	if f.EventID != 0 {
		s.What += fmt.Sprintf(", event %d", f.EventID)
	}
	s.What += "."

	ports := portsPhrase(c, lead.Findings)
	all := portsPhrase(c, ff.Findings)
	was := "was"
	if len(lead.Findings) > 1 {
		was = "were"
	}
	switch f.Verdict {
	case correlate.Confirmed, correlate.Probable:
		s.Why = fmt.Sprintf("%s %s held by %s", cmp.Or(ports, "The port"), was, cmp.Or(ownerLabel(f), "another process"))
		if len(f.OwnerServices) > 0 {
			s.Why += ", which runs " + andList(f.OwnerServices)
		}
		if p := rulePhrase(f.Rule); p != "" {
			s.Why += ": " + p
		}
		s.Why += "."
	case correlate.ReservedRange:
		s.Why = fmt.Sprintf("%s lies in an excluded port range, so Windows refused the bind although no process held it.", cmp.Or(ports, "The port"))
	case correlate.NoConflictSeen:
		s.Why = fmt.Sprintf("No other process held %s in the snapshot: as far as the evidence shows, this is not a port conflict.", cmp.Or(all, "the port"))
	case correlate.NotPortRelated:
		s.Why = "The error names another cause than a port conflict."
		if e := errorLabel(f); e != "" {
			s.Why = "Error " + e + " names another cause than a port conflict."
		}
	case correlate.PortUnknown:
		s.Why = "The failure may be a port conflict, but which port the service needs is not known."
	case correlate.NoSnapshot:
		s.Why = fmt.Sprintf("The bundle has no socket listing, so who held %s cannot be seen.", cmp.Or(all, "the port"))
	default:
		s.Why = VerdictMeaning(f.Verdict)
	}

	switch f.Verdict {
	case correlate.Confirmed, correlate.Probable, correlate.ReservedRange:
		s.Fix = ruleFix(f.Rule, ports, all)
	case correlate.NoConflictSeen:
		s.Fix = "No port needs to be freed: look for the cause in the service's own log and the error."
	case correlate.NotPortRelated:
		s.Fix = "No port change is needed: deal with the error the event names."
	case correlate.PortUnknown:
		s.Fix = "Name the service's ports with --ports and analyze the bundle again."
	case correlate.NoSnapshot:
		s.Fix = "Collect a socket listing (netstat -anob, tasklist /svc) right after the next failure, and analyze again."
	}

	s.Sure = fmt.Sprintf("%s, %s confidence: %s", f.Verdict, s.Confidence, VerdictMeaning(f.Verdict))
	var others []string
	for _, fo := range ff.Folds[1:] {
		o := &c.Findings[fo.Findings[0]]
		p := portsPhrase(c, fo.Findings)
		if p == "" {
			continue
		}
		others = append(others, fmt.Sprintf("%s: %s", p, verdictShort(o.Verdict)))
	}
	if len(others) > 0 {
		s.Sure += " The other ports it needs — " + strings.Join(others, "; ") + "."
	}

	s.Headline = fmt.Sprintf("%s: %s", svc, strings.TrimSuffix(s.Why, "."))
	return s
}

// verdictShort says in a few words what a verdict found, for a port
// named next to it.
func verdictShort(v correlate.Verdict) string {
	switch v {
	case correlate.Confirmed:
		return "held by another process"
	case correlate.Probable:
		return "probably held by another process"
	case correlate.ReservedRange:
		return "in an excluded range"
	case correlate.NoConflictSeen:
		return "free in the snapshot"
	case correlate.NotPortRelated:
		return "not a port conflict"
	case correlate.NoSnapshot:
		return "not seen (no snapshot)"
	}
	return "not decided"
}

// rulePhrase says in plain words what a culprit rule means.
func rulePhrase(r correlate.Rule) string {
	switch r {
	case correlate.RuleDNSSocketPool:
		return "the DNS server's socket pool (MS08-037) takes thousands of random UDP ports when DNS starts"
	case correlate.RuleLSASSDynamic:
		return "Active Directory (lsass.exe) took it as a dynamic RPC port"
	case correlate.RuleEphemeral:
		return "the port lies in the dynamic (ephemeral) range that Windows hands out to any program"
	case correlate.RuleHTTPSys:
		return "HTTP.sys holds it for another web component, such as IIS, WinRM or Reporting Services"
	case correlate.RuleIPsecBlockMode:
		return "IPsec could not bind it and put the server in Block mode, which stops network traffic"
	case correlate.RuleSameProduct:
		return "another instance of the same product"
	}
	return ""
}

// ruleFix says in one sentence what the fix of a culprit rule does;
// ports are the fold's, all those of the whole failure.
func ruleFix(r correlate.Rule, ports, all string) string {
	ports, all = cmp.Or(ports, "the port"), cmp.Or(all, "the ports")
	switch r {
	case correlate.RuleDNSSocketPool:
		return fmt.Sprintf("Keep %s out of the DNS server's port pool by reserving them, restart DNS, then start the service.", all)
	case correlate.RuleLSASSDynamic:
		return fmt.Sprintf("Reserve %s (or move Active Directory's static RPC port off it) and restart the server.", ports)
	case correlate.RuleEphemeral:
		return fmt.Sprintf("Reserve %s so that Windows no longer hands it out, then restart.", ports)
	case correlate.RuleHTTPSys:
		return fmt.Sprintf("Stop or move the HTTP.sys consumer that registered %s, then start the service.", ports)
	case correlate.RuleExcludedRange:
		return fmt.Sprintf("Reserve %s for the service before the excluded ranges take it (or remove the exclusion), then start the service.", ports)
	case correlate.RuleIPsecBlockMode:
		return "Reserve UDP 500 and 4500 so that no other process takes them at boot, and restart the server."
	case correlate.RuleSameProduct:
		return "Give each instance its own port, or stop the instance that should not run."
	}
	return fmt.Sprintf("Reserve %s, or move one of the two services to another port, then restart.", ports)
}

// batchSummary tells a batch above its index: how many bundles and
// failures, what their verdicts say, and the culprit seen most.
func batchSummary(count string, cases []*htmlCase, recurring []htmlCulprit) string {
	failures, held, ranged, free, other := 0, 0, 0, 0, 0
	for _, hc := range cases {
		for _, v := range hc.leads {
			failures++
			switch v {
			case correlate.Confirmed, correlate.Probable:
				held++
			case correlate.ReservedRange:
				ranged++
			case correlate.NoConflictSeen, correlate.NotPortRelated:
				free++
			default:
				other++
			}
		}
	}
	s := fmt.Sprintf("%s, %d failure%s", count, failures, plural(failures))
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{
		{held, "where another process held the port (CONFIRMED or PROBABLE)"},
		{ranged, "where the port lies in an excluded range"},
		{free, "not a port conflict as far as the evidence shows"},
		{other, "undecided (port unknown or no snapshot)"},
	} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, "; ")
	}
	s += "."
	if len(recurring) > 0 {
		s += fmt.Sprintf(" The culprit seen most is %s, in %d of them.", recurring[0].Label, len(recurring[0].Cases))
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
