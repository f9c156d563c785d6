package correlate

import (
	"strings"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// Zone sources: where HostFacts.UTCOffset came from.
const (
	ZoneFromFlag       = "flag"
	ZoneFromEvent6008  = "event-6008"
	ZoneFromSysteminfo = "systeminfo"
)

// HostClues are what is known of a case's host before deciding: what its
// event logs and artifacts say (Input as the store builds it: the host
// most artifacts name, the latest 6009's OS version, the latest 6008's
// UTC offset), its systeminfo, and the user's --tz.
type HostClues struct {
	// Logs is the case as stored, before any decision.
	Logs Input
	// System is the bundle's systeminfo (the last one read); nil when
	// there is none. (The host it names is already among the artifacts'
	// hosts Logs.Host is chosen from.)
	System *parsers.SystemFacts
	// Offset is the user's --tz; nil when not given.
	Offset *time.Duration
}

// HostFacts are what portmortem decides about a case's host: for the
// correlation (Host, OSVersion, UTCOffset) and for the reports (OSName,
// TimeZone, ZoneSource).
type HostFacts struct {
	Host string
	// OSVersion is "5.2.3790": the latest 6009's, else systeminfo's first
	// word.
	OSVersion string
	// UTCOffset (local − UTC) is the user's --tz, else the latest 6008's,
	// else systeminfo's standard offset: the case's offset, which reports
	// show times in and which converts the local times of a boot without
	// an offset of its own (Session.UTCOffset); ZoneSource says which
	// (ZoneFromFlag, ZoneFromEvent6008, ZoneFromSysteminfo).
	UTCOffset    time.Duration
	HasUTCOffset bool
	ZoneSource   string
	// OSName is systeminfo's OS name and version, as printed.
	OSName string
	// TimeZone is systeminfo's zone name, kept only when the offset is
	// systeminfo's (it would not match another).
	TimeZone string
}

// DecideHost decides a case's host facts: the one place their precedence
// is written.
func DecideHost(c HostClues) HostFacts {
	f := HostFacts{Host: c.Logs.Host, OSVersion: c.Logs.OSVersion}
	if c.Logs.HasUTCOffset {
		f.UTCOffset, f.HasUTCOffset, f.ZoneSource = c.Logs.UTCOffset, true, ZoneFromEvent6008
	}
	if s := c.System; s != nil {
		if f.OSVersion == "" {
			// "5.2.3790 Service Pack 2 Build 3790": the version is the first word.
			f.OSVersion, _, _ = strings.Cut(s.OSVersion, " ")
		}
		if !f.HasUTCOffset && s.HasUTCOffset {
			f.UTCOffset, f.HasUTCOffset, f.ZoneSource = s.UTCOffset, true, ZoneFromSysteminfo
		}
		f.OSName = strings.TrimSpace(s.OSName + " " + s.OSVersion)
		f.TimeZone = s.TimeZone
	}
	if c.Offset != nil {
		f.UTCOffset, f.HasUTCOffset, f.ZoneSource = *c.Offset, true, ZoneFromFlag
	}
	if f.ZoneSource != ZoneFromSysteminfo {
		f.TimeZone = ""
	}
	return f
}

// Apply sets the facts decided in a case's correlation input.
func (f HostFacts) Apply(in *Input) {
	in.Host, in.OSVersion = f.Host, f.OSVersion
	in.UTCOffset, in.HasUTCOffset, in.ZoneSource = f.UTCOffset, f.HasUTCOffset, f.ZoneSource
}

// CaseZone is how the local times of a case are converted: with the
// offset of the boot each falls in (Session.UTCOffset), else with the
// case's offset (the user's --tz overrides every boot's).
func CaseZone(ss Sessions, offset time.Duration, has bool, source string) Zone {
	z := Zone{Sessions: ss, Fallback: offset, HasFallback: has, Fixed: source == ZoneFromFlag}
	switch source {
	case ZoneFromFlag:
		z.FallbackSource = "the --tz flag"
	case ZoneFromSysteminfo:
		z.FallbackSource = "systeminfo's time zone, its standard offset"
	default:
		z.FallbackSource = "the case's latest EventLog 6008"
	}
	return z
}
