package reports

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

// The page shows findings folded: one failure is one block, whose
// findings (one per port the service needed) that say the same but for
// their port are one fold. The four findings of an IAS failure on UDP
// 1812, 1813, 1645 and 1646 — CONFIRMED on 1812, NO_CONFLICT_SEEN on the
// rest — are one failure with two folds, and the evidence every one of
// them cites (the failure event, the boot markers) is shown once.

// failureFold is the findings of one failure, best-ranked first.
type failureFold struct {
	Findings []int // indexes in Case.Findings
	Folds    []portFold
}

// portFold is findings of one failure with the same verdict, owner and
// rule: they differ only by their port.
type portFold struct {
	Findings []int
}

// failureOf identifies the failure a finding is about.
type failureOf struct {
	service, key string
	at           int64
	event        uint16
	code         uint32
	hasError     bool
}

func failureKey(f *correlate.Finding) failureOf {
	return failureOf{f.Service, f.ServiceKey, f.FailureTime.UnixNano(), f.EventID, f.ErrorCode, f.HasError}
}

// foldKey is what the findings of one fold share.
type foldKey struct {
	verdict correlate.Verdict
	pid     int
	image   string
	rule    correlate.Rule
}

func keyOfFold(f *correlate.Finding) foldKey {
	return foldKey{f.Verdict, f.OwnerPID, strings.ToLower(f.OwnerImage), f.Rule}
}

// failureFolds groups the case's findings by failure and folds each
// failure's findings, in the ranked order: the failure with the
// best-ranked finding first, and within a failure its best fold first.
func (c *Case) failureFolds() []failureFold {
	var out []failureFold
	byFailure := map[failureOf]int{}
	for _, i := range c.ranked() {
		k := failureKey(&c.Findings[i])
		n, ok := byFailure[k]
		if !ok {
			n = len(out)
			byFailure[k] = n
			out = append(out, failureFold{})
		}
		out[n].Findings = append(out[n].Findings, i)
	}
	for n := range out {
		ff := &out[n]
		byKey := map[foldKey]int{}
		for _, i := range ff.Findings {
			k := keyOfFold(&c.Findings[i])
			j, ok := byKey[k]
			if !ok {
				j = len(ff.Folds)
				byKey[k] = j
				ff.Folds = append(ff.Folds, portFold{})
			}
			ff.Folds[j].Findings = append(ff.Folds[j].Findings, i)
		}
	}
	return out
}

// siblingFold finds, in a failure's folds, the fold that gives its cause
// (the best-ranked fold when it is CONFIRMED, PROBABLE or RESERVED_RANGE)
// and the folds of its other ports that were free in the snapshot
// (NO_CONFLICT_SEEN): a diagnosis names those ports on the cause's card
// rather than giving each a card that reads like a second answer. cause
// is -1 when the failure has no such pair.
func siblingFold(c *Case, ff failureFold) (cause int, free []int) {
	if len(ff.Folds) < 2 {
		return -1, nil
	}
	switch c.Findings[ff.Folds[0].Findings[0]].Verdict {
	case correlate.Confirmed, correlate.Probable, correlate.ReservedRange:
	default:
		return -1, nil
	}
	for n, fo := range ff.Folds[1:] {
		if c.Findings[fo.Findings[0]].Verdict == correlate.NoConflictSeen {
			free = append(free, n+1)
		}
	}
	if len(free) == 0 {
		return -1, nil
	}
	return 0, free
}

// siblings maps the findings of ports that were free beside a failure's
// cause (siblingFold) to true, and each cause's finding to the phrase
// naming them ("UDP 1813, 1645 and 1646"), for the tables that fold them
// into the cause's line.
func (c *Case) siblings() (free map[int]bool, also map[int]string) {
	free, also = map[int]bool{}, map[int]string{}
	for _, ff := range c.failureFolds() {
		cause, folds := siblingFold(c, ff)
		if cause < 0 {
			continue
		}
		var idx []int
		for _, n := range folds {
			for _, i := range ff.Folds[n].Findings {
				free[i] = true
				idx = append(idx, i)
			}
		}
		also[ff.Folds[cause].Findings[0]] = portsPhrase(c, idx)
	}
	return free, also
}

// portsPhrase names the ports of findings in prose, grouped by protocol:
// "UDP 1812", "UDP 1813, 1645 and 1646", "TCP 80 and UDP 80".
func portsPhrase(c *Case, idx []int) string {
	var protos []parsers.Proto
	ports := map[parsers.Proto][]string{}
	for _, i := range idx {
		f := &c.Findings[i]
		if f.Port == 0 {
			continue
		}
		p := strconv.Itoa(int(f.Port))
		if !slices.Contains(protos, f.Proto) {
			protos = append(protos, f.Proto)
		}
		if !slices.Contains(ports[f.Proto], p) {
			ports[f.Proto] = append(ports[f.Proto], p)
		}
	}
	var parts []string
	for _, pr := range protos {
		parts = append(parts, string(pr)+" "+andList(ports[pr]))
	}
	return andList(parts)
}

// portsLabel lists the ports of findings as the cards show them:
// "UDP/1813, UDP/1645, UDP/1646", or "no port".
func portsLabel(c *Case, idx []int) string {
	var ls []string
	for _, i := range idx {
		if l := portLabel(&c.Findings[i]); l != "-" && !slices.Contains(ls, l) {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return "no port"
	}
	return strings.Join(ls, ", ")
}

// andList joins words as prose: "a", "a and b", "a, b and c".
func andList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// portMark stands for a finding's port in a sentence while the sentences
// of several findings are compared.
const portMark = "\x00port\x00"

// portMention matches a finding's port in correlate's sentences: "UDP 1813"
// or "UDP/1813".
func portMention(f *correlate.Finding) *regexp.Regexp {
	if f.Port == 0 {
		return nil
	}
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(string(f.Proto)) + `[ /]` + strconv.Itoa(int(f.Port)) + `\b`)
}

// foldedLines merges the sentences of several findings (lines(i) gives
// one finding's) into one list in first-seen order: sentences that differ
// only by the finding's port are one, naming the ports of the findings
// that say it ("not a port conflict on UDP 1813, 1645 and 1646"). Lines in
// skip are left out.
func foldedLines(c *Case, idx []int, lines func(i int) []string, skip map[string]bool) []string {
	type acc struct {
		text    string // with portMark
		members []int
	}
	var order []*acc
	byText := map[string]*acc{}
	for _, i := range idx {
		re := portMention(&c.Findings[i])
		for _, l := range lines(i) {
			if skip[l] {
				continue
			}
			norm := l
			if re != nil {
				norm = re.ReplaceAllLiteralString(l, portMark)
			}
			a := byText[norm]
			if a == nil {
				a = &acc{text: norm}
				byText[norm] = a
				order = append(order, a)
			}
			if !slices.Contains(a.members, i) {
				a.members = append(a.members, i)
			}
		}
	}
	out := make([]string, 0, len(order))
	for _, a := range order {
		out = append(out, strings.ReplaceAll(a.text, portMark, portsPhrase(c, a.members)))
	}
	return out
}

// shared returns the lines (lines(i) gives one finding's) every finding
// of idx has, in the first finding's order: when a failure has several
// folds, what they all cite is shown once, with the failure.
func shared(idx []int, lines func(i int) []string) []string {
	if len(idx) < 2 {
		return nil
	}
	count := map[string]int{}
	for _, i := range idx {
		seen := map[string]bool{}
		for _, l := range lines(i) {
			if !seen[l] {
				seen[l] = true
				count[l]++
			}
		}
	}
	var out []string
	for _, l := range lines(idx[0]) {
		if count[l] == len(idx) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// evidenceKey is one piece of evidence as a line, to compare and fold.
func evidenceKey(e htmlEvidence) string { return e.Place + "\x01" + e.Text + "\x01" + e.Claim }

func evidenceOfKey(k string) htmlEvidence {
	p := strings.SplitN(k, "\x01", 3)
	for len(p) < 3 {
		p = append(p, "")
	}
	return htmlEvidence{Place: p[0], Text: p[1], Claim: p[2]}
}

// remedyBlocks splits a remedy into the blocks that get their own copy
// button: the main commands, then each alternative ("REM Or …",
// "REM On Windows Vista/Server 2008 and later …", "REM Emergency …"),
// then the steps that follow whichever was chosen ("REM Then …",
// "REM A reboot …"). A remedy without alternatives is one block.
func remedyBlocks(lines []string) []string {
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	alt := false // an alternative has begun: a follow-up line ends it
	for _, l := range lines {
		switch {
		case alternativeLine.MatchString(l):
			flush()
			alt = true
		case alt && followUpLine.MatchString(l):
			flush()
			alt = false
		}
		cur = append(cur, l)
	}
	flush()
	// A block of remarks only (no command) is not worth a button of its
	// own: it joins the block after it, or the one before when last.
	for k := 0; k < len(blocks) && len(blocks) > 1; {
		if !onlyRemarks(blocks[k]) {
			k++
			continue
		}
		if k+1 < len(blocks) {
			blocks[k+1] = blocks[k] + "\n" + blocks[k+1]
		} else {
			blocks[k-1] += "\n" + blocks[k]
		}
		blocks = slices.Delete(blocks, k, k+1)
	}
	return blocks
}

func onlyRemarks(block string) bool {
	for l := range strings.SplitSeq(block, "\n") {
		if !strings.HasPrefix(l, "REM ") && l != "REM" {
			return false
		}
	}
	return true
}

var (
	alternativeLine = regexp.MustCompile(`^REM (Or |Emergency|On Windows |The Windows version is unknown)|^REM .*\binstead\b`)
	followUpLine    = regexp.MustCompile(`^REM (Then |A reboot|Restart |ReservedPorts takes effect|If the service still fails)`)
)

// foldRemedies are the remedies of a fold: the distinct remedies of its
// findings, each with the ports it is for when they differ.
func foldRemedies(c *Case, idx []int) []htmlRemedy {
	var out []htmlRemedy
	var members [][]int
	for _, i := range idx {
		r := c.Findings[i].Remedy
		if len(r) == 0 {
			continue
		}
		j := slices.IndexFunc(out, func(h htmlRemedy) bool { return slices.Equal(h.lines, r) })
		if j < 0 {
			out = append(out, htmlRemedy{lines: r, Blocks: remedyBlocks(r)})
			members = append(members, nil)
			j = len(out) - 1
		}
		members[j] = append(members[j], i)
	}
	if len(out) > 1 {
		for j := range out {
			out[j].For = fmt.Sprintf("For %s:", portsPhrase(c, members[j]))
		}
	}
	return out
}
