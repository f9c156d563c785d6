package correlate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// signalReason is a reason drawn from a signal event.
type signalReason struct {
	eventID uint16
	text    string
}

// relatedSignals turns the signals of the failure's boot into reasons.
func (a *analysis) relatedSignals(c *incident, p neededPort) ([]signalReason, []Evidence) {
	var rs []signalReason
	var evs []Evidence
	netlib := map[string]int{} // SQL Server instance → its reason in rs
	for _, s := range a.signals {
		if !a.sameBoot(c, s.Failure.Time) {
			continue
		}
		f := s.Failure
		switch {
		case f.EventID == 4292:
			if !isIPsec(c) {
				continue
			}
			if p.Proto == parsers.UDP && (p.Port == 500 || p.Port == 4500) {
				rs = append(rs, signalReason{f.EventID, fmt.Sprintf("The IPsec driver entered Block mode at %s (event 4292): until IPsec starts, the server drops all traffic not exempted at boot.", fmtTime(f.Time))})
			}
		case f.EventID == 411:
			if p.Proto != parsers.UDP {
				continue
			}
			rs = append(rs, signalReason{f.EventID, fmt.Sprintf("The DNS server logged event 411 at %s: its socket pool bound ports from an excluded range, so it is active on this host's UDP ports.", fmtTime(f.Time))})
		case f.EventID == 4231 || f.EventID == 4266:
			if f.Proto != p.Proto {
				continue
			}
			rs = append(rs, signalReason{f.EventID, fmt.Sprintf("Tcpip logged event %d at %s: ephemeral %s ports ran out in this boot, which makes binds fail on its own.", f.EventID, fmtTime(f.Time), f.Proto)})
		case (f.EventID == 17826 || f.EventID == 17120) && isSQLServer(f.Provider):
			if !strings.EqualFold(c.key, f.ServiceKey) && !slices.ContainsFunc(c.names(), func(n string) bool { return strings.EqualFold(n, f.ServiceKey) }) {
				continue
			}
			// 17826 and 17120 follow each other: one reason per instance.
			if i, ok := netlib[f.ServiceKey]; ok {
				rs[i].text = strings.Replace(rs[i].text, ": its network library", fmt.Sprintf(", event %d at %s: its network library", f.EventID, fmtTime(f.Time)), 1)
				break
			}
			netlib[f.ServiceKey] = len(rs)
			rs = append(rs, signalReason{f.EventID, fmt.Sprintf("%s logged event %d at %s: its network library did not start, which is what a TCP listener that could not bind leads to.", f.ServiceKey, f.EventID, fmtTime(f.Time))})
		case f.EventID == 4227:
			if p.Proto != parsers.TCP {
				continue
			}
			rs = append(rs, signalReason{f.EventID, fmt.Sprintf("Tcpip logged event 4227 at %s: outgoing connections were reusing local ports in TIME_WAIT, a sign of heavy ephemeral port use.", fmtTime(f.Time))})
		default:
			continue
		}
		evs = append(evs, failureEvidence(s))
	}
	return rs, evs
}

// sameBoot reports whether t lies in the incident's boot session, or near the
// failure when no boots are known.
func (a *analysis) sameBoot(c *incident, t time.Time) bool {
	if len(a.sessions) == 0 || c.session < 0 {
		return within(t, c.primary.Failure.Time, signalWindow)
	}
	return a.sessions.At(t) == c.session
}

func isIPsec(c *incident) bool {
	for _, k := range []string{"PolicyAgent", "IKEEXT"} {
		if strings.EqualFold(c.key, k) {
			return true
		}
	}
	return slices.ContainsFunc(c.names(), func(n string) bool { return strings.EqualFold(n, "IPSEC Services") })
}

func (a *analysis) blockMode(c *incident) *FailureRef {
	if !isIPsec(c) {
		return nil
	}
	for i := range a.signals {
		if a.signals[i].Failure.EventID == 4292 && a.sameBoot(c, a.signals[i].Failure.Time) {
			return &a.signals[i]
		}
	}
	return nil
}
