package main

import (
	"bytes"
	"context"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers/evtxwrite"
	"github.com/xuri/excelize/v2"
)

// unexpected6008 logs the 6008 a boot opens with after a crash: the
// previous session was last alive at lastAlive (UTC) on a host offset
// from UTC by offset, written as Windows writes it (time and date text,
// then the two SYSTEMTIMEs in Binary).
func (l *eventLog) unexpected6008(logged, lastAlive time.Time, offset time.Duration) *eventLog {
	local := lastAlive.Add(offset)
	return l.add(evtxwrite.Event{Provider: "EventLog", EventID: 6008, Qualifiers: 32768, Level: 2, Time: logged,
		Data:   []evtxwrite.Field{{Value: local.Format("3:04:05 PM")}, {Value: "\u200e" + local.Format("1/\u200e2/\u200e2006")}, {}, {}, {Value: "1"}},
		Binary: evtxwrite.SystemTimesHex(lastAlive, offset)})
}

// dstChange: Windows Server 2016 in Amsterdam (host DST01). A summer boot
// (UTC+2; its 6008 says so), an October boot that runs across the end of
// DST (25 Oct) and crashes, and a winter boot (UTC+1; its 6008 says so);
// BlackBerry Router fails with 10048 in the summer and the winter boot,
// and each of those has a netstat and a tasklist stamped by `%date%
// %time%` on the host's clock. The summer netstat was taken at 08:40
// local, 06:40 UTC: 20 min before the summer failure (07:00 UTC), so it
// is PROBABLE; with the case's offset (the latest 6008: UTC+1) it would
// land 40 min after the failure and be CONFIRMED. The winter netstat
// (07:30 local, 06:30 UTC) CONFIRMS the winter failure; with the summer
// offset it would fall before the winter boot, into the October one.
func dstChange(t *testing.T) []bundleFile {
	summer := time.Date(2026, 8, 9, 5, 0, 0, 0, time.UTC)
	winter := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	sys := newLog("System", "DST01", 4000).bootVista(summer, "10", "0", "14393")
	sys.unexpected6008(summer.Add(50*time.Second), summer.Add(-5*time.Minute), 2*time.Hour)
	sys.scm(time.Date(2026, 8, 10, 7, 0, 0, 0, time.UTC), 7023, "BlackBerry Router", "BlackBerry Router", "%%10048")
	october := time.Date(2026, 10, 20, 6, 0, 0, 0, time.UTC)
	sys.bootVista(october, "10", "0", "14393")
	sys.unexpected6008(october.Add(50*time.Second), october.Add(-10*time.Minute), 2*time.Hour)
	sys.bootVista(winter, "10", "0", "14393")
	sys.unexpected6008(winter.Add(50*time.Second), time.Date(2026, 11, 19, 22, 10, 0, 0, time.UTC), time.Hour)
	sys.scm(winter.Add(2*time.Minute), 7023, "BlackBerry Router", "BlackBerry Router", "%%10048")
	netstat := func(stamp string, pid int) []byte {
		ns := append([]string{stamp}, netstatHeader(enTitle, enHeader)...)
		ns = append(ns,
			netstatRow("TCP", "0.0.0.0:135", "0.0.0.0:0", "LISTENING", 880),
			netstatRow("TCP", "0.0.0.0:445", "0.0.0.0:0", "LISTENING", 4),
			netstatRow("TCP", "0.0.0.0:3101", "0.0.0.0:0", "LISTENING", pid),
			netstatRow("UDP", "0.0.0.0:123", "*:*", "", 1204))
		return crlf(ns...)
	}
	tasklist := func(stamp string, pid string) []byte {
		return tasklistSvc(stamp, enTasklistHeader, append(basicProcs(),
			[3]string{"svchost.exe", "880", "RpcEptMapper, RpcSs"}, [3]string{"svchost.exe", "1204", "W32Time"},
			[3]string{"java.exe", pid, "N/A"})...)
	}
	return []bundleFile{
		{"System.evtx", sys.evtx(t)},
		{"netstat-ano-aug.txt", netstat("Mon 08/10/2026  8:40:00.00", 2112)},
		{"tasklist-svc-aug.txt", tasklist("Mon 08/10/2026  8:41:00.00", "2112")},
		{"netstat-ano-nov.txt", netstat("Fri 11/20/2026  7:30:00.00", 1876)},
		{"tasklist-svc-nov.txt", tasklist("Fri 11/20/2026  7:31:00.00", "1876")},
		{"systeminfo.txt", systeminfo("DST01", "Microsoft Windows Server 2016 Standard", "10.0.14393 N/A Build 14393",
			"11/20/2026, 7:00:00 AM", "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna")},
	}
}

// TestDSTChangeOneOffset analyzes the dst-change bundle with one offset
// for the whole case (--tz, which every boot takes): either offset gets
// one of the two failures wrong, where the bundle's own per-boot offsets
// (expected.json) get both right.
func TestDSTChangeOneOffset(t *testing.T) {
	dir := filepath.Join(bundlesDir(), "dst-change")
	tests := []struct {
		tz               string
		summer, winter   string // verdicts of the summer and the winter failure
		summerPID        int
		summerFromWinter bool // the summer finding rests on the winter netstat
	}{
		{"", "PROBABLE", "CONFIRMED", 2112, false},
		// UTC+1 everywhere: the summer netstat lands after the failure.
		{"+01:00", "CONFIRMED", "CONFIRMED", 2112, false},
		// UTC+2 everywhere: the winter netstat falls into the October boot.
		{"+02:00", "PROBABLE", "PROBABLE", 2112, false},
	}
	for _, tt := range tests {
		name := "per_boot"
		if tt.tz != "" {
			name = "tz" + strings.NewReplacer("+", "plus", ":", "").Replace(tt.tz)
		}
		t.Run(name, func(t *testing.T) {
			args := []string{dir}
			if tt.tz != "" {
				args = []string{"--tz", tt.tz, dir}
			}
			fs, _ := runAnalyzeOn(t, args...)
			got := map[string]findingJSON{}
			for _, f := range fs {
				switch {
				case f.FailureTime == nil:
				case strings.HasPrefix(*f.FailureTime, "2026-08-10"):
					got["summer"] = f
				case strings.HasPrefix(*f.FailureTime, "2026-11-20"):
					got["winter"] = f
				}
			}
			s, w := got["summer"], got["winter"]
			if s.Verdict != tt.summer || w.Verdict != tt.winter {
				t.Errorf("summer %s, winter %s; want %s, %s", s.Verdict, w.Verdict, tt.summer, tt.winter)
			}
			if s.OwnerPID == nil || *s.OwnerPID != tt.summerPID || strings.HasSuffix(s.Snapshot, "nov.txt") != tt.summerFromWinter {
				t.Errorf("summer finding rests on %s (PID %v), want PID %d", s.Snapshot, s.OwnerPID, tt.summerPID)
			}
		})
	}
}

// TestDSTChangeShownAtBootOffset: the reports show each time at the
// offset of its boot, as the customer's Event Viewer showed it: the
// summer failure at 09:00 UTC+02:00, the winter one at 07:02 UTC+01:00, in
// report.html (whose time columns then say "host clock") and in the
// workbook's Findings rows (date cell and Zone column). With --tz every
// time takes the one offset.
func TestDSTChangeShownAtBootOffset(t *testing.T) {
	dir := filepath.Join(bundlesDir(), "dst-change")
	for _, tt := range []struct {
		tz             string
		summer, winter string
	}{
		{"", "2026-08-10 09:00:00 UTC+02:00", "2026-11-20 07:02:00 UTC+01:00"},
		{"+01:00", "2026-08-10 08:00:00 UTC+01:00", "2026-11-20 07:02:00 UTC+01:00"},
	} {
		t.Run("tz"+tt.tz, func(t *testing.T) {
			out := t.TempDir()
			args := []string{"analyze", "-o", out, dir}
			if tt.tz != "" {
				args = []string{"analyze", "-o", out, "--tz", tt.tz, dir}
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			raw, err := os.ReadFile(filepath.Join(out, "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			page := []byte(html.UnescapeString(string(raw)))
			for _, want := range []string{tt.summer, tt.winter} {
				if !bytes.Contains(page, []byte(want)) {
					t.Errorf("report.html lacks %q", want)
				}
			}
			if mixed := bytes.Contains(page, []byte("Time (host clock)")); mixed != (tt.tz == "") {
				t.Errorf("time column names the host clock: %v, want %v", mixed, tt.tz == "")
			}
			f, err := excelize.OpenFile(filepath.Join(out, "report.xlsx"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := f.GetRows("Findings")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows[1:] {
				if len(r) > 3 {
					got = append(got, r[2]+" "+r[3])
				}
			}
			for _, want := range []string{tt.summer, tt.winter} {
				d, _, _ := strings.Cut(want, " UTC")
				day, clock, _ := strings.Cut(d, " ")
				zone := "UTC" + strings.TrimPrefix(want, d+" UTC")
				if !slices.ContainsFunc(got, func(g string) bool {
					return strings.Contains(g, day) && strings.Contains(g, clock[:5]) && strings.HasSuffix(g, zone)
				}) {
					t.Errorf("Findings rows %q lack %s %s %s", got, day, clock, zone)
				}
			}
		})
	}
}
