package correlate

import (
	"context"
	"fmt"
	"strings"
	"time"
)

func (a *analysis) analyzeIncident(ctx context.Context, c *incident) ([]Finding, error) {
	if c.class == ClassNotPort {
		return []Finding{a.notPortFinding(c)}, nil
	}
	ports, err := a.neededPorts(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(ports) == 0 {
		return []Finding{a.portUnknownFinding(c)}, nil
	}
	out := make([]Finding, 0, len(ports))
	for _, p := range ports {
		f, err := a.portFinding(ctx, c, p, ports)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// newFinding fills what every finding of an incident shares.
func (a *analysis) newFinding(c *incident) Finding {
	f := c.primary.Failure
	fd := Finding{
		Bundle: a.in.Bundle, Host: a.in.Host,
		Service: c.displayName(), ServiceKey: c.key,
		FailureTime: f.Time, EventID: f.EventID,
		ErrorCode: f.ErrorCode, HasError: f.HasError, ErrorClass: c.class,
		OwnerPID: -1,
	}
	if errorFromWording(f) {
		// The error an event of the incident states is the failure's
		// (SQL Server's 17182 beside its 26023), as the verdict reads it.
		for _, r := range c.related {
			if r.Failure.HasError && !errorFromWording(r.Failure) {
				fd.ErrorCode, fd.HasError = r.Failure.ErrorCode, true
				break
			}
		}
	}
	fd.Reasons = append(fd.Reasons, a.failureSummary(c))
	if c.keyWhy != "" {
		fd.Reasons = append(fd.Reasons, c.keyWhy)
	}
	for _, r := range c.all() {
		fd.Evidence = append(fd.Evidence, failureEvidence(r))
	}
	if r, ev := a.sessionReason(c); r != "" {
		fd.Reasons = append(fd.Reasons, r)
		fd.Evidence = append(fd.Evidence, ev...)
	}
	return fd
}

func (a *analysis) failureSummary(c *incident) string {
	f := c.primary.Failure
	s := fmt.Sprintf("%s failed at %s: event %d from %s%s.", c.label(), fmtTime(f.Time), f.EventID, orDefault(f.Provider, "an unknown provider"), errorPart(f))
	for _, r := range c.related {
		s += fmt.Sprintf(" It also logged event %d from %s at %s%s.", r.Failure.EventID, orDefault(r.Failure.Provider, "an unknown provider"), fmtTime(r.Failure.Time), errorPart(r.Failure))
	}
	return s
}

func errorPart(f Failure) string {
	switch {
	case !f.HasError:
		return ""
	case f.ServiceSpecific:
		return fmt.Sprintf(", service-specific exit code %d, %s", f.ErrorCode, classText(f.Class))
	}
	return fmt.Sprintf(", error %s, %s", FormatCode(f.ErrorCode), classText(f.Class))
}

func classText(c ErrorClass) string {
	switch c {
	case ClassPortConflict:
		return "a port conflict"
	case ClassPossiblyPort:
		return "often a hidden bind failure"
	case ClassNotPort:
		return "not a port problem"
	}
	return "an error portmortem does not know"
}

func failureEvidence(r FailureRef) Evidence {
	f := r.Failure
	who := orDefault(f.Service, f.Provider)
	if f.Kind == KindSignal {
		who = orDefault(f.Provider, f.Service)
	}
	claim := fmt.Sprintf("%s logged event %d at %s", who, f.EventID, fmtTime(f.Time))
	if f.HasError {
		claim += " with " + strings.TrimPrefix(errorPart(f), ", ")
	}
	if f.HasPort && f.Kind != KindSignal {
		claim += "; it names " + endpointText(&f)
	}
	if f.Recovered {
		claim += " (record recovered from a damaged log)"
	}
	return Evidence{Artifact: r.Artifact, Line: eventLine(r.Line, f.RecordID), Channel: f.Channel, RecordID: f.RecordID, Text: f.Message, Claim: claim + "."}
}

// sessionReason places the failure in its boot session.
func (a *analysis) sessionReason(c *incident) (string, []Evidence) {
	if len(a.sessions) == 0 || c.primary.Failure.Time.IsZero() {
		return "", nil
	}
	if c.session < 0 {
		return "The failure comes before the first boot marker in the logs, so its boot session is unknown.", nil
	}
	s := a.sessions[c.session]
	r := fmt.Sprintf("It happened in boot session %d, which started at %s (%s).", s.Index+1, fmtTime(s.Start), s.StartSource)
	if s.AfterDirty {
		r += " That boot followed an unexpected shutdown."
	}
	if s.HasOffset && !a.zone.Fixed {
		r += fmt.Sprintf(" Its clock ran at %s (%s).", offsetLabel(s.UTCOffset), s.OffsetSource)
	}
	return r, bootEvidence(s)
}

func bootEvidence(s Session) []Evidence {
	var out []Evidence
	for _, b := range s.Starts {
		m := b.Boot
		out = append(out, Evidence{Artifact: b.Artifact, Line: eventLine(b.Line, m.RecordID), Channel: m.Channel, RecordID: m.RecordID, Text: m.Message,
			Claim: fmt.Sprintf("%s at %s marks the start of boot session %d.", markerName(m), fmtTime(m.Time), s.Index+1)})
	}
	return out
}

func (a *analysis) notPortFinding(c *incident) Finding {
	fd := a.newFinding(c)
	f := c.primary.Failure
	fd.Verdict, fd.Confidence = NotPortRelated, 0.9
	switch {
	case f.EventID == 7001 && f.Dependency != "":
		r := fmt.Sprintf("%s did not start because the service it depends on, %s, failed first%s. Look at %s's own failure, not at ports.",
			c.label(), f.Dependency, errorPart(f), f.Dependency)
		if dep := a.dependencyFailure(c, f.Dependency); dep != nil {
			r += fmt.Sprintf(" %s logged event %d at %s%s.", f.Dependency, dep.Failure.EventID, fmtTime(dep.Failure.Time), errorPart(dep.Failure))
			fd.Evidence = append(fd.Evidence, failureEvidence(*dep))
		} else {
			r += " No failure of " + f.Dependency + " was found in the logs supplied."
		}
		fd.Reasons = append(fd.Reasons, r)
		fd.Confidence = 0.8
	case f.HasError:
		info, _ := LookupError(f.ErrorCode)
		fd.Reasons = append(fd.Reasons, fmt.Sprintf("%d: %s. This is not a port conflict, so no port was checked.",
			f.ErrorCode, strings.TrimSuffix(shortErrorText(info), ".")))
	default:
		fd.Reasons = append(fd.Reasons, "The error names a cause other than a port, so no port was checked.")
	}
	return fd
}

// shortErrorText gives a plain reading of the not-port errors people meet.
func shortErrorText(info ErrorInfo) string {
	switch info.Code {
	case 1058:
		return "the service is disabled (or has no enabled devices)"
	case 1069, 1326, 1385:
		return "the service account could not log on"
	case 2, 3:
		return "the service's program file or path was not found"
	case 5:
		return "access was denied"
	case 1068:
		return "a service it depends on failed to start"
	}
	if info.Text != "" {
		return info.Text
	}
	return "the error is not a bind error"
}

func (a *analysis) dependencyFailure(c *incident, dep string) *FailureRef {
	var best *FailureRef
	for i := range a.in.Failures {
		f := &a.in.Failures[i]
		if f.Failure.Kind != KindServiceFailure || f.Failure.RecordID == c.primary.Failure.RecordID && f.Failure.Time.Equal(c.primary.Failure.Time) {
			continue
		}
		if !strings.EqualFold(f.Failure.Service, dep) && !strings.EqualFold(f.Failure.ServiceKey, dep) {
			continue
		}
		if !within(f.Failure.Time, c.primary.Failure.Time, 6*time.Hour) {
			continue
		}
		if best == nil || f.Failure.Time.After(best.Failure.Time) && !f.Failure.Time.After(c.primary.Failure.Time) {
			best = f
		}
	}
	return best
}

func (a *analysis) portUnknownFinding(c *incident) Finding {
	fd := a.newFinding(c)
	fd.Verdict = PortUnknown
	fd.Reasons = append(fd.Reasons, fmt.Sprintf(
		"No port could be found for %s: the event names none, the --ports file has no entry for it, the catalog does not know it by key, display name or image, and no earlier snapshot shows its process holding ports. Give its ports in a --ports file to check them.",
		c.label()))
	return fd
}

// eventLine is the line an event's evidence cites: its line in a text
// export that gives no record number (Event Viewer's CSV and TXT), else
// none, the record number being the event's identity.
func eventLine(line int, recordID uint64) int {
	if recordID > 0 {
		return 0
	}
	return line
}
