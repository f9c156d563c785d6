package correlate

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// BootKind says what a boot marker tells about boot sessions.
type BootKind string

// The boot marker kinds.
const (
	// BootStart: the operating system started (Kernel-General 12, EventLog
	// 6005 and 6009).
	BootStart BootKind = "boot-start"
	// BootCleanStop: a clean shutdown (Kernel-General 13, EventLog 6006).
	BootCleanStop BootKind = "clean-shutdown"
	// BootDirtyStop: logged early in a boot, saying the previous one ended
	// without a clean shutdown (EventLog 6008, Kernel-Power 41).
	BootDirtyStop BootKind = "unexpected-shutdown"
	// BootUptime: the daily uptime report (EventLog 6013).
	BootUptime BootKind = "uptime"
)

// BootMarker is one event that marks the start or end of a boot session.
type BootMarker struct {
	Kind      BootKind
	Time      time.Time
	Channel   string
	Provider  string
	EventID   uint16
	RecordID  uint64
	Recovered bool
	// BootTime is when the OS started: Kernel-General 12's StartTime, or
	// the time of the event for the other start markers, or Time - Uptime.
	BootTime time.Time
	// LastAlive is, for 6008, when the previous session ended (UTC).
	LastAlive time.Time
	// UTCOffset is the host's offset from UTC (local - UTC) that 6008's
	// two SYSTEMTIMEs show; HasOffset says it is known.
	UTCOffset time.Duration
	HasOffset bool
	Uptime    time.Duration
	// OSVersion is what 6009 says ("5.02. 3790 Service Pack 2 Multiprocessor Free").
	OSVersion string
	Message   string
}

// DecodeBoot decodes ev into a BootMarker when it is one (DOMAIN.md §4).
// Events are matched on provider and ID: Wlclntfy logs 6005/6006 in the
// Application log too, and those are not boots.
func DecodeBoot(ev *parsers.Event) (BootMarker, bool) {
	b := BootMarker{
		Time: ev.Time, Channel: ev.Channel, Provider: ev.Provider, EventID: ev.EventID,
		RecordID: ev.RecordID, Recovered: ev.Recovered,
	}
	switch {
	case isProvider(ev, "EventLog"):
		switch ev.EventID {
		case 6005:
			b.Kind, b.BootTime, b.Message = BootStart, ev.Time, "The Event log service was started."
		case 6006:
			b.Kind, b.Message = BootCleanStop, "The Event log service was stopped."
		case 6008:
			b.Kind = BootDirtyStop
			if local, utc, ok := twoSystemTimes(ev.Binary); ok {
				b.LastAlive = utc
				// Time zones run from UTC-12 to UTC+14; two times further
				// apart are damage, not an offset to convert times with.
				if off := local.Sub(utc); off >= -12*time.Hour && off <= 14*time.Hour {
					b.UTCOffset, b.HasOffset = off, true
				}
				b.Message = "The previous system shutdown at " + utc.Format("2006-01-02 15:04:05") + " UTC was unexpected."
			} else {
				b.Message = "The previous system shutdown was unexpected."
			}
		case 6009:
			b.Kind, b.BootTime = BootStart, ev.Time
			var parts []string
			for _, d := range ev.Data[:min(len(ev.Data), 4)] { // version, build, service pack, kernel kind
				if v := strings.TrimSpace(d.Value); v != "" {
					parts = append(parts, v)
				}
			}
			b.OSVersion = strings.Join(parts, " ")
			b.Message = "Microsoft (R) Windows (R) " + b.OSVersion + "."
		case 6013:
			secs, ok := uptimeSeconds(ev)
			if !ok {
				return b, false
			}
			b.Kind, b.Uptime = BootUptime, time.Duration(secs)*time.Second
			b.BootTime = ev.Time.Add(-b.Uptime)
			b.Message = "The system uptime is " + strconv.FormatInt(secs, 10) + " seconds."
		default:
			return b, false
		}
	case isProvider(ev, "Microsoft-Windows-Kernel-General") && ev.EventID == 12:
		b.Kind, b.BootTime = BootStart, ev.Time
		if t, ok := fieldTime(ev, "StartTime"); ok {
			b.BootTime = t
		}
		b.Message = "The operating system started at system time " + b.BootTime.Format(time.RFC3339Nano) + "."
	case isProvider(ev, "Microsoft-Windows-Kernel-General") && ev.EventID == 13:
		b.Kind, b.Message = BootCleanStop, "The operating system is shutting down."
	case isProvider(ev, "Microsoft-Windows-Kernel-Power") && ev.EventID == 41:
		b.Kind = BootDirtyStop
		b.Message = "The system has rebooted without cleanly shutting down first."
	default:
		return b, false
	}
	return b, true
}

// maxUptime is the longest uptime believed (100 years): a larger number
// is damage, and would overflow time.Duration past 292 years.
const maxUptime = 100 * 365 * 24 * 3600

// uptimeSeconds finds the uptime of a 6013 event: the fifth insertion
// string (%5), or the only integer among them, up to maxUptime.
func uptimeSeconds(ev *parsers.Event) (int64, bool) {
	if len(ev.Data) >= 5 {
		if v, err := strconv.ParseInt(strings.TrimSpace(ev.Data[4].Value), 10, 64); err == nil && v >= 0 && v <= maxUptime {
			return v, true
		}
	}
	var found int64
	n := 0
	for _, d := range ev.Data {
		if v, err := strconv.ParseInt(strings.TrimSpace(d.Value), 10, 64); err == nil && v > 0 && v <= maxUptime {
			found, n = v, n+1
		}
	}
	if len(ev.Data) == 0 {
		// A text export's rendered message: "The system uptime is 1234
		// seconds." in any language.
		for _, w := range strings.FieldsFunc(ev.Message, func(r rune) bool { return r < '0' || r > '9' }) {
			if v, err := strconv.ParseInt(w, 10, 64); err == nil && v > 0 && v <= maxUptime {
				found, n = v, n+1
			}
		}
	}
	return found, n == 1
}

func fieldTime(ev *parsers.Event, name string) (time.Time, bool) {
	for _, d := range ev.Data {
		if d.Name != name {
			continue
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999Z", "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, strings.TrimSpace(d.Value)); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// twoSystemTimes decodes 6008's Binary: two SYSTEMTIME structures, the
// local time of the unexpected shutdown, then the same moment in UTC.
func twoSystemTimes(h string) (local, utc time.Time, ok bool) {
	b, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil || len(b) < 32 {
		return time.Time{}, time.Time{}, false
	}
	local, ok1 := systemTime(b[0:16])
	utc, ok2 := systemTime(b[16:32])
	return local, utc, ok1 && ok2
}

func systemTime(b []byte) (time.Time, bool) {
	w := func(i int) int { return int(binary.LittleEndian.Uint16(b[2*i:])) }
	year, month, day, hour, minute, sec, ms := w(0), w(1), w(3), w(4), w(5), w(6), w(7)
	if year < 1601 || year > 30827 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 || ms > 999 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC), true
}
