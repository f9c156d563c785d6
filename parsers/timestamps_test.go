package parsers

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const timestampsDir = "../testdata/timestamps"

// timestampLine reads a line as a complete timestamp line, date and time,
// the way Read takes a capture time from one (stampLine, then stamp.time
// with the default order). local is set when the text names no offset.
func timestampLine(line string) (t time.Time, local bool, ok bool) {
	st, ok := stampLine(line)
	if !ok || !st.hasDate || !st.hasTime {
		return time.Time{}, false, false
	}
	t, local, err := st.time(orderUnknown)
	if err != nil {
		return time.Time{}, false, false
	}
	return t, local, true
}

func TestTimestampLine(t *testing.T) {
	at := func(mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(2026, mo, d, h, mi, s, ns, time.UTC)
	}
	nov20 := at(11, 20, 8, 12, 33, 0)
	tests := []struct {
		name      string
		line      string
		want      time.Time
		wantLocal bool
		wantOK    bool
	}{
		// cmd: echo %date% %time%
		{"cmd_en_us", "Thu 11/20/2026  8:12:33.45", at(11, 20, 8, 12, 33, 450e6), true, true},
		{"cmd_en_us_trailing_blank", "Thu 11/20/2026  8:12:33.45 \r", at(11, 20, 8, 12, 33, 450e6), true, true},
		{"cmd_en_us_ambiguous", "Tue 03/11/2026 14:05:09.01", time.Date(2026, 3, 11, 14, 5, 9, 10e6, time.UTC), true, true},
		{"cmd_de", "20.11.2026  8:12:33,45", at(11, 20, 8, 12, 33, 450e6), true, true},
		{"cmd_de_ambiguous", "03.11.2026 8:12:33,45", at(11, 3, 8, 12, 33, 450e6), true, true},
		{"cmd_de_xp_weekday", "Do 20.11.2026  8:12:33,45", at(11, 20, 8, 12, 33, 450e6), true, true},
		{"cmd_fr", "20/11/2026  8:12:33,45", at(11, 20, 8, 12, 33, 450e6), true, true},
		{"cmd_fr_ambiguous", "03/11/2026  8:12:33,45", at(11, 3, 8, 12, 33, 450e6), true, true},
		{"cmd_iso", "2026-11-20  8:12:33.45", at(11, 20, 8, 12, 33, 450e6), true, true},
		{"cmd_ja", "2026/11/20  8:12:33.45", at(11, 20, 8, 12, 33, 450e6), true, true},
		{"cmd_prompt_echo", `C:\collect>echo Thu 11/20/2026  8:12:33.45 `, at(11, 20, 8, 12, 33, 450e6), true, true},
		// PowerShell Get-Date
		{"ps_en_us", "Thursday, November 20, 2026 8:12:33 AM", nov20, true, true},
		{"ps_en_us_pm", "Thursday, November 20, 2026 8:12:33 PM", at(11, 20, 20, 12, 33, 0), true, true},
		// PowerShell 7 on .NET 5+ (ICU) puts a narrow no-break space before AM/PM.
		{"ps7_en_us_nnbsp", "Thursday, November 20, 2026 8:12:33\u202fAM", nov20, true, true},
		{"ps_en_gb", "20 November 2026 08:12:33", nov20, true, true},
		{"ps_de", "Donnerstag, 20. November 2026 08:12:33", nov20, true, true},
		{"ps_fr", "jeudi 20 novembre 2026 08:12:33", nov20, true, true},
		{"ps_es", "jueves, 20 de noviembre de 2026 8:12:33", nov20, true, true},
		{"ps_pt_br", "quinta-feira, 20 de novembro de 2026 08:12:33", nov20, true, true},
		{"ps_tostring_en_us", "11/20/2026 8:12:33 AM", nov20, true, true},
		{"ps_prompt", `PS C:\case> Get-Date`, time.Time{}, false, false},
		{"ps_format_o", "2026-11-20T08:12:33.4512345-05:00", at(11, 20, 13, 12, 33, 451234500), false, true},
		{"ps_format_o_utc", "2026-11-20T13:12:33.4512345Z", at(11, 20, 13, 12, 33, 451234500), false, true},
		{"ps_format_s", "2026-11-20T08:12:33", nov20, true, true},
		// -Format u and r print a local time with a UTC mark: kept as wall clock.
		{"ps_format_u", "2026-11-20 08:12:33Z", nov20, true, true},
		{"ps_format_r", "Thu, 20 Nov 2026 08:12:33 GMT", nov20, true, true},
		{"rfc1123_offset", "Thu, 20 Nov 2026 08:12:33 +0100", at(11, 20, 7, 12, 33, 0), false, true},
		{"c_asctime", "Thu Nov 20 08:12:33 2026", nov20, true, true},
		{"es_designator", "20/11/2026 08:12:33 a. m.", nov20, true, true},
		{"zh_tw_designator", "2026/11/20 下午 08:12:33", at(11, 20, 20, 12, 33, 0), true, true},
		// Labels
		{"label_collected_at", "Collected at: 2026-11-20 08:12:33", nov20, true, true},
		{"label_timestamp", "Timestamp: Thu 11/20/2026  8:12:33.45", at(11, 20, 8, 12, 33, 450e6), true, true},
		{"label_de", "Erstellt am: 20.11.2026 08:12:33", nov20, true, true},
		{"label_fr", "Collecté le : 20/11/2026 08:12:33", nov20, true, true},
		{"label_start_time", "Start time: 2026-11-20T08:12:33", nov20, true, true},

		// Not complete timestamps: a date or a time alone (date /t, time /t).
		{"date_t_only", "Thu 11/20/2026 ", time.Time{}, false, false},
		{"time_t_only", "08:12 AM", time.Time{}, false, false},
		{"cmd_time_prompt", "The current time is:  8:12:33.45", time.Time{}, false, false},
		// Data rows and fields are not timestamp lines.
		{"systeminfo_boot", "System Boot Time:          3/19/2021, 9:25:03 AM", time.Time{}, false, false},
		{"systeminfo_boot_no_label", "3/19/2021, 9:25:03 AM", time.Time{}, false, false},
		{"systeminfo_install_de", "Ursprüngliches Installationsdatum:              03.02.2025, 14:11:05", time.Time{}, false, false},
		{"ps_csv_row", `"0.0.0.0","135","0.0.0.0","0","Listen","11/20/2026 8:12:33 AM","748"`, time.Time{}, false, false},
		{"ps_csv_field", `"11/20/2026 8:12:33 AM"`, time.Time{}, false, false},
		{"ps_format_list", "CreationTime          : 11/20/2026 8:12:33 AM", time.Time{}, false, false},
		{"event_xml", `<TimeCreated SystemTime="2026-11-20T08:12:33.1234567Z" />`, time.Time{}, false, false},
		{"log_line", "2026-11-20 08:12:33 INFO service started", time.Time{}, false, false},
		{"dir_listing", "11/20/2026  08:12 AM    <DIR>          .", time.Time{}, false, false},
		{"ipconfig_lease", "   Lease Obtained. . . . . . . . . . : Thursday, November 20, 2026 8:02:11 AM", time.Time{}, false, false},
		{"netstat_row", "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748", time.Time{}, false, false},
		{"netsh_row", "      5357        5357", time.Time{}, false, false},
		{"version", "10.0.17763 N/A Build 17763", time.Time{}, false, false},
		{"ip_address", "192.168.1.10", time.Time{}, false, false},
		{"two_digit_year", "11/20/26 8:12:33", time.Time{}, false, false},
		{"implausible_year", "1901-11-20 08:12:33", time.Time{}, false, false},
		{"no_such_day", "31.11.2026 08:12:33", time.Time{}, false, false},
		{"no_such_hour", "2026-11-20 24:12:33", time.Time{}, false, false},
		{"pm_with_24h_clock", "11/20/2026 18:12:33 PM", time.Time{}, false, false},
		{"unknown_label", "System Boot Time: 2026-11-20 08:12:33", time.Time{}, false, false},
		{"two_times", "2026-11-20 08:12:33 09:12:33", time.Time{}, false, false},
		{"empty", "", time.Time{}, false, false},
		{"prose", "The service did not start in a timely fashion.", time.Time{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, local, ok := timestampLine(tt.line)
			if ok != tt.wantOK || !got.Equal(tt.want) || local != tt.wantLocal {
				t.Errorf("timestampLine(%q) = %v, %v, %v; want %v, %v, %v", tt.line, got, local, ok, tt.want, tt.wantLocal, tt.wantOK)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("location %v, want UTC", got.Location())
			}
		})
	}
}

func TestFileNameTime(t *testing.T) {
	tests := []struct {
		name   string
		want   time.Time
		wantOK bool
	}{
		{"netstat_20261120_081233.txt", time.Date(2026, 11, 20, 8, 12, 33, 0, time.UTC), true},
		{"netstat-2026-11-20T08-12-33.txt", time.Date(2026, 11, 20, 8, 12, 33, 0, time.UTC), true},
		{"20261120-0812_netstat.log", time.Date(2026, 11, 20, 8, 12, 0, 0, time.UTC), true},
		{"case/host1/netstat_20261120T081233.txt", time.Date(2026, 11, 20, 8, 12, 33, 0, time.UTC), true},
		{`C:\case\20261120081233-tasklist.txt`, time.Date(2026, 11, 20, 8, 12, 33, 0, time.UTC), true},
		{"systeminfo_2026-11-20_08.12.33.txt", time.Date(2026, 11, 20, 8, 12, 33, 0, time.UTC), true},
		{"netstat 2026-11-20 08h12.txt", time.Date(2026, 11, 20, 8, 12, 0, 0, time.UTC), true},
		// The directory's date does not count: only the base name is read.
		{"20261120_081233/netstat.txt", time.Time{}, false},
		{"netstat_20261120.txt", time.Time{}, false},
		{"netstat_2026-11-20.txt", time.Time{}, false},
		{"netstat_20261320_081233.txt", time.Time{}, false},
		{"netstat_20260231_081233.txt", time.Time{}, false},
		{"netstat_20261120_251233.txt", time.Time{}, false},
		{"netstat_120261120_081233.txt", time.Time{}, false},
		{"pid_4_port_3389.txt", time.Time{}, false},
		{"netstat.txt", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := FileNameTime(tt.name)
		if ok != tt.wantOK || !got.Equal(tt.want) {
			t.Errorf("FileNameTime(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

// readArtifact runs Read over data and consumes its records.
func readArtifact(t testing.TB, name string, data []byte) *Artifact {
	t.Helper()
	a, seq := Read(context.Background(), name, bytes.NewReader(data), "")
	for range seq {
	}
	return a
}

// TestReadCaptureTime checks that Read takes the capture time from a
// timestamp line at the top of a text artifact, and from nothing else.
func TestReadCaptureTime(t *testing.T) {
	read := func(t *testing.T, path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	file := func(dir, name string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return read(t, filepath.Join(dir, name)) }
	}
	// headed is a capture with a collector's lines above it: the .head
	// file of testdata/timestamps, then a capture of another folder.
	headed := func(head, capture string, utf16 bool) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			data := append(read(t, filepath.Join(timestampsDir, head)), read(t, filepath.Join("..", "testdata", capture))...)
			if utf16 {
				data = toUTF16LEBOM(data)
			}
			return data
		}
	}
	text := func(s string) func(*testing.T) []byte { return func(*testing.T) []byte { return []byte(s) } }
	deNetstat := "\r\nAktive Verbindungen\r\n\r\n  Proto  Lokale Adresse         Remoteadresse          Status           PID\r\n" +
		"  TCP    0.0.0.0:135            0.0.0.0:0              ABHÖREN         1060\r\n"
	tests := []struct {
		name       string
		data       func(*testing.T) []byte
		wantFormat Format
		want       time.Time
		wantLocal  bool
		wantNote   string
	}{
		{"echo_date_time_en_us", headed("echo-date-time_en-us.head", "netstat/netstat_win10_jc_netstat-aon.txt", false), FormatNetstat,
			time.Date(2026, 11, 20, 8, 12, 33, 450e6, time.UTC), true, ""},
		{"echo_on_prompt_fr", headed("echo-on-prompt_fr.head", "netstat/netstat_ano_fr_win10_student-tp1.txt", false), FormatNetstat,
			time.Date(2026, 11, 3, 8, 12, 33, 450e6, time.UTC), true,
			`capture time from line 2 "C:\\collect>echo 03/11/2026  8:12:33,45" read as day/month: the artifact's locale fr`},
		{"get_date_de_utf16le", headed("get-date_de.head", "netstat/netstat_an_de_cp850-mojibake_kilian-blog.txt", true), FormatNetstat,
			time.Date(2026, 11, 20, 8, 12, 33, 0, time.UTC), true, ""},
		{"date_t_time_t", headed("date-t-time-t_en-us.head", "tasklist/tasklist_svc_ws2016_htb-winlpe-srv01_trimmed.txt", false), FormatTasklist,
			time.Date(2026, 11, 20, 8, 12, 0, 0, time.UTC), true, ""},
		{"collected_at_iso_offset", headed("collected-at-iso-offset.head", "netstat/netstat_win10_jc_netstat-aon.txt", false), FormatNetstat,
			time.Date(2026, 11, 20, 13, 12, 33, 451234500, time.UTC), false, ""},
		{"systeminfo_with_date_line", file(sysinfoDir, "synthetic_de_ws2019_cp850.txt"), FormatSysteminfo,
			time.Date(2026, 11, 20, 8, 12, 33, 450e6, time.UTC), true, ""},
		// A slash date with AM/PM reads month/day, unless the artifact is German.
		{"locale_settles_order", text("03/11/2026 8:12:33 AM\r\n" + deNetstat), FormatNetstat,
			time.Date(2026, 11, 3, 8, 12, 33, 0, time.UTC), true,
			`capture time from line 1 "03/11/2026 8:12:33 AM" read as day/month: the artifact's locale de`},
		{"en_locale_keeps_guess", text("03/11/2026 8:12:33 AM\r\n" + enHeader + "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748\r\n"), FormatNetstat,
			time.Date(2026, 3, 11, 8, 12, 33, 0, time.UTC), true,
			`capture time from line 1 "03/11/2026 8:12:33 AM" read as month/day: month/day (slash date with AM/PM, as en-US prints it)`},
		// Times inside the data are not capture times.
		{"systeminfo_boot_time", file(sysinfoDir, "systeminfo_win10_jc.txt"), FormatSysteminfo, time.Time{}, false, ""},
		{"ps_csv_creation_time", file("../testdata/pscsv", "synthetic_nettcp_full_type_en-us.csv"), FormatPSNetTCP, time.Time{}, false, ""},
		{"event_xml", file("../testdata/evtxml", "python-evtx_system_30.xml"), FormatEVTXXML, time.Time{}, false, ""},
		{"no_line", file("../testdata/netstat", "netstat_win10_jc_netstat-aon.txt"), FormatNetstat, time.Time{}, false, ""},
		// A line cut at the end of the decoded head is not read: cut after
		// "8:12" it would give a wrong time.
		{"cut_at_head_end", text(deNetstat + strings.Repeat("\r\n", (SniffLen-20-len(deNetstat))/2) + "Thu 11/20/2026  8:12:33.45\r\n"), FormatNetstat,
			time.Time{}, false, ""},
		{"beyond_head", text(deNetstat + strings.Repeat("  UDP    0.0.0.0:500            *:*                                    9\r\n", 120) +
			"Thu 11/20/2026  8:12:33.45\r\n"), FormatNetstat, time.Time{}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := readArtifact(t, tt.name, tt.data(t))
			if a.Format != tt.wantFormat {
				t.Fatalf("format %s, want %s", a.Format, tt.wantFormat)
			}
			var wantSource CaptureSource
			if !tt.want.IsZero() {
				wantSource = CaptureTimestampLine
			}
			if !a.CapturedAt.Equal(tt.want) || a.CapturedLocal != tt.wantLocal || a.CaptureSource != wantSource {
				t.Errorf("captured %v local %v source %q; want %v %v %q", a.CapturedAt, a.CapturedLocal, a.CaptureSource,
					tt.want, tt.wantLocal, wantSource)
			}
			var notes []string
			for _, n := range a.Notes {
				if strings.HasPrefix(n, "capture time") {
					notes = append(notes, n)
				}
			}
			if tt.wantNote == "" && len(notes) > 0 || tt.wantNote != "" && (len(notes) != 1 || notes[0] != tt.wantNote) {
				t.Errorf("notes %q, want %q", notes, tt.wantNote)
			}
		})
	}
}

// FuzzTimestampLine checks that any line reads without panic, the same
// way twice, and that a timestamp read back from its own ISO form gives
// the same time.
func FuzzTimestampLine(f *testing.F) {
	for _, s := range []string{
		"Thu 11/20/2026  8:12:33.45", "20.11.2026  8:12:33,45", "Donnerstag, 20. November 2026 08:12:33",
		"Thursday, November 20, 2026 8:12:33 AM", "2026-11-20T08:12:33.4512345-05:00", "Collected at: 2026-11-20 08:12:33",
		`C:\collect>echo 03/11/2026  8:12:33,45`, "20/11/2026 08:12:33 a. m.", "2026/11/20 下午 08:12:33",
		"Thu, 20 Nov 2026 08:12:33 +0100", "System Boot Time:          3/19/2021, 9:25:03 AM", "08:12 AM",
	} {
		f.Add(s)
	}
	paths, _ := filepath.Glob(filepath.Join(timestampsDir, "*.head"))
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			for _, l := range strings.Split(string(data), "\n") {
				f.Add(l)
			}
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 4096 {
			return
		}
		got, local, ok := timestampLine(line)
		again, local2, ok2 := timestampLine(line)
		if ok != ok2 || !got.Equal(again) || local != local2 {
			t.Fatalf("%q read twice differently", line)
		}
		if !ok {
			return
		}
		if got.Location() != time.UTC || got.Year() < 1989 || got.Year() > 2101 {
			t.Fatalf("%q: %v", line, got)
		}
		iso := got.Format("2006-01-02T15:04:05.999999999")
		if !local {
			iso += "Z"
		}
		back, backLocal, ok := timestampLine(iso)
		if !ok || !back.Equal(got) || backLocal != local {
			t.Fatalf("%q: %v (local %v) does not read back from %q: %v %v %v", line, got, local, iso, back, backLocal, ok)
		}
		FileNameTime(line)
	})
}
