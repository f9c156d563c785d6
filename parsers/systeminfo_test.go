package parsers

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const sysinfoDir = "../testdata/systeminfo"

func TestSysteminfoGolden(t *testing.T) {
	for _, path := range goldenFiles(t, sysinfoDir) {
		t.Run(subtestName.ReplaceAllString(filepath.Base(path), "_"), func(t *testing.T) {
			got := renderJSONL(t, path)
			golden := strings.TrimSuffix(path, filepath.Ext(path)) + ".golden.jsonl"
			checkGolden(t, got, golden)
		})
	}
}

// sysinfoParse runs the parser over data and splits what it yields.
func sysinfoParse(t testing.TB, data string) (metas []Record, errs []*ParseError) {
	t.Helper()
	for rec, err := range (systeminfo{}).Parse(context.Background(), strings.NewReader(data)) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			errs = append(errs, pe)
			continue
		}
		if rec.Kind != KindMeta || rec.Meta == nil || rec.Meta.System == nil {
			t.Fatalf("record %+v is not a systeminfo Meta", rec)
		}
		metas = append(metas, rec)
	}
	return metas, errs
}

// sysinfoRead reads a testdata file through Read, as the CLI does.
func sysinfoRead(t testing.TB, name string) (*Artifact, []Record, []*ParseError) {
	t.Helper()
	f, err := os.Open(filepath.Join(sysinfoDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, seq := Read(context.Background(), name, f, "")
	var recs []Record
	var errs []*ParseError
	for rec, err := range seq {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			errs = append(errs, pe)
			continue
		}
		recs = append(recs, rec)
	}
	return a, recs, errs
}

func addrs(t testing.TB, ss ...string) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// TestSysteminfoFacts checks the facts each real capture must give; the
// goldens hold the rest.
func TestSysteminfoFacts(t *testing.T) {
	wall := func(y int, mo time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	}
	tests := []struct {
		file      string
		locale    string
		variant   string
		host      string
		osVersion string
		domain    string
		boot      time.Time
		uptime    time.Duration
		offset    time.Duration
		addrs     []netip.Addr
		note      string
	}{
		{file: "systeminfo_win10_jc.txt", locale: "en", variant: "list", host: "DESKTOP-WIN01",
			osVersion: "10.0.19042 N/A Build 19042", domain: "TEST.local", boot: wall(2021, 3, 19, 9, 25, 3),
			offset: -8 * time.Hour, addrs: addrs(t, "192.168.133.3", "fe80::192:eb64:1fcf:86eb")},
		{file: "systeminfo_win7_jc.txt", locale: "en", variant: "list", host: "TEST",
			osVersion: "6.1.7601 Service Pack 1 Build 7601", domain: "WORKGROUP", boot: wall(2021, 3, 22, 13, 15, 51),
			offset: -6 * time.Hour, addrs: addrs(t, "192.168.2.2")},
		{file: "systeminfo_ws2003_htb-granny.txt", locale: "en", variant: "list", host: "GRANNY",
			osVersion: "5.2.3790 Service Pack 2 Build 3790", domain: "HTB",
			uptime: 23*time.Hour + 54*time.Minute + 7*time.Second, offset: 2 * time.Hour},
		{file: "systeminfo_win10_fr_student-tp.txt", locale: "fr", variant: "list", host: "VINNY",
			osVersion: "10.0.18363 N/A version 18363", domain: "WORKGROUP", boot: wall(2020, 6, 12, 23, 0, 26),
			offset: time.Hour, addrs: addrs(t, "192.168.1.12", "fe80::b585:d3c6:e729:3562", "169.254.140.252",
				"fe80::9ccc:f58e:29d8:8cfc", "192.168.56.1", "fe80::2d2c:fae6:95b7:8ce0", "10.2.1.1", "fe80::a490:4aa4:2138:43a"),
			note: `boot time "12/06/2020, 23:00:26" read as day/month: the system locale fr`},
		{file: "systeminfo_ws2012r2_es-mx_writeup.txt", locale: "es", variant: "list", host: "WIN-VG2ABKNMR7G",
			osVersion: "6.3.9600 N/D Compilación 9600", domain: "WORKGROUP", boot: wall(2023, 1, 14, 10, 17, 27),
			offset: -6 * time.Hour, addrs: addrs(t, "148.204.110.122", "fe80::158e:f622:de98:a186")},
		// Damaged labels: the OS version and the locale are found by place and shape.
		{file: "systeminfo_ws2008_es_replacement-chars_writeup.txt", locale: "es", variant: "list", host: "WIN-JG67MIHZH2X",
			osVersion: "6.0.6001 Service Pack 1 Compilaci\ufffdn 6001", domain: "WORKGROUP", boot: wall(2025, 8, 17, 19, 59, 31),
			offset: time.Hour, addrs: addrs(t, "192.168.100.43", "fe80::d890:f2a2:c676:293c", "2806:2f0:9781:f760:d890:f2a2:c676:293c", "2806:2f0:9781:f760::3")},
		{file: "systeminfo_ws2016_zh_writeup.txt", locale: "zh", variant: "list", host: "WIN-WEB",
			osVersion: "10.0.14393 暂缺 Build 14393", domain: "WORKGROUP", boot: wall(2024, 7, 28, 13, 38, 11),
			offset: 8 * time.Hour, addrs: addrs(t, "172.22.8.18", "fe80::30d0:cf39:a132:330")},
		{file: "systeminfo_csv_win81_reconstructed.csv", locale: "en", variant: "csv", host: "WINDOWS8-VM",
			osVersion: "6.3.9600 N/A Build 9600", domain: "WORKGROUP", boot: wall(2015, 11, 12, 18, 56, 43),
			offset: -8 * time.Hour, addrs: addrs(t, "10.0.2.15", "fe80::29e6:798b:32f9:bb26"),
			note: `boot time "11/12/2015, 6:56:43 PM" read as month/day: the system locale en-us`},
		{file: "synthetic_de_ws2019_cp850.txt", locale: "de", variant: "list", host: "SRV-DE-01",
			osVersion: "10.0.17763 Nicht zutreffend Build 17763", domain: "corp.example", boot: wall(2026, 11, 2, 8, 2, 11),
			offset: time.Hour, addrs: addrs(t, "10.20.30.40", "fe80::5c1d:7a2e:91b3:44f0"),
			note: `boot time "02.11.2026, 08:02:11" read as day/month: the system locale de`},
		// No header (/nh): every field by its place.
		{file: "synthetic_csv_nh_de.csv", variant: "csv", host: "SRV-DE-02",
			osVersion: "10.0.14393 Nicht zutreffend Build 14393", domain: "corp.example", boot: wall(2026, 11, 20, 7, 58, 2),
			offset: time.Hour, addrs: addrs(t, "10.20.30.41")},
	}
	for _, tt := range tests {
		t.Run(subtestName.ReplaceAllString(tt.file, "_"), func(t *testing.T) {
			a, recs, errs := sysinfoRead(t, tt.file)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if a.Format != FormatSysteminfo {
				t.Fatalf("format = %s, want systeminfo", a.Format)
			}
			if len(recs) != 1 {
				t.Fatalf("got %d records, want one Meta", len(recs))
			}
			m := recs[0].Meta
			if m.Locale != tt.locale || m.Variant != tt.variant || m.Host != tt.host || m.Note != tt.note {
				t.Errorf("meta locale %q variant %q host %q note %q; want %q %q %q %q",
					m.Locale, m.Variant, m.Host, m.Note, tt.locale, tt.variant, tt.host, tt.note)
			}
			s := m.System
			if s.OSVersion != tt.osVersion || s.Domain != tt.domain {
				t.Errorf("os version %q domain %q; want %q %q", s.OSVersion, s.Domain, tt.osVersion, tt.domain)
			}
			if !s.BootTime.Equal(tt.boot) || s.BootTimeLocal != !tt.boot.IsZero() || s.Uptime != tt.uptime {
				t.Errorf("boot %v (local %v) uptime %v; want %v, %v", s.BootTime, s.BootTimeLocal, s.Uptime, tt.boot, tt.uptime)
			}
			if !s.HasUTCOffset || s.UTCOffset != tt.offset {
				t.Errorf("offset %v (%v), want %v", s.UTCOffset, s.HasUTCOffset, tt.offset)
			}
			if !slices.Equal(s.Addresses, tt.addrs) {
				t.Errorf("addresses %v, want %v", s.Addresses, tt.addrs)
			}
			// Read keeps the facts on the Artifact.
			if a.Host != tt.host || a.System != s {
				t.Errorf("artifact host %q system %p, want %q %p", a.Host, a.System, tt.host, s)
			}
		})
	}
}

// TestSysteminfoBadLines checks the ParseErrors of a fixture with bad
// fields, and that the hosts are still reported.
func TestSysteminfoBadLines(t *testing.T) {
	_, recs, errs := sysinfoRead(t, "synthetic_bad_lines_en.txt")
	var lines []int
	for _, e := range errs {
		if e.Format != FormatSysteminfo || errors.Is(e, ErrTruncated) {
			t.Errorf("error %v: format %s, truncated %v", e, e.Format, errors.Is(e, ErrTruncated))
		}
		lines = append(lines, e.Line)
	}
	// 6: no 30 February; 8: zone offset; 13: address; 19: a boot time
	// that is not one.
	if want := []int{6, 8, 13, 19}; !slices.Equal(lines, want) {
		t.Errorf("error lines = %v, want %v\n%v", lines, want, errs)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	if s := recs[0].Meta.System; !slices.Equal(s.Addresses, addrs(t, "192.168.133.3")) || !s.BootTime.IsZero() || s.HasUTCOffset {
		t.Errorf("first host: %+v", s)
	}
	if got, want := recs[1].Meta.Host, "BADHOST2"; got != want {
		t.Errorf("second host %q, want %q", got, want)
	}
}

func TestSysteminfoTwoHosts(t *testing.T) {
	_, recs, errs := sysinfoRead(t, "synthetic_two_hosts_ambiguous_dates.txt")
	if len(errs) > 0 || len(recs) != 2 {
		t.Fatalf("got %d records, errors %v; want 2 records", len(recs), errs)
	}
	tests := []struct {
		host  string
		boot  time.Time
		note  string
		addrs []netip.Addr
	}{
		{"LON-APP01", time.Date(2026, 4, 3, 8, 2, 11, 0, time.UTC),
			`boot time "03/04/2026, 08:02:11" read as day/month: the system locale en-gb`, addrs(t, "10.1.0.11")},
		{"NYC-APP01", time.Date(2026, 3, 4, 8, 2, 11, 0, time.UTC),
			`boot time "3/4/2026, 8:02:11 AM" read as month/day: the system locale en-us`, addrs(t, "10.2.0.11", "10.1.0.11")},
	}
	for i, tt := range tests {
		m := recs[i].Meta
		if m.Host != tt.host || !m.System.BootTime.Equal(tt.boot) || m.Note != tt.note || !slices.Equal(m.System.Addresses, tt.addrs) {
			t.Errorf("host %d: %q boot %v note %q addrs %v; want %q %v %q %v", i, m.Host, m.System.BootTime, m.Note,
				m.System.Addresses, tt.host, tt.boot, tt.note, tt.addrs)
		}
	}
}

func TestSysteminfoCases(t *testing.T) {
	const head = "\r\nHost Name:                 H1\r\nOS Name:                   Microsoft Windows 10 Pro\r\nOS Version:                10.0.19045 N/A Build 19045\r\n"
	tests := []struct {
		name          string
		input         string
		wantMetas     int
		wantErrLines  []int
		wantTruncated bool
		check         func(t *testing.T, m []Record)
	}{
		{name: "empty", input: ""},
		{name: "blank", input: "\r\n  \r\n"},
		{name: "header_only_list", input: head, wantMetas: 1},
		{name: "truncated_boot_time", input: head + "Original Install Date:     2/16/2021, 11:20:27 AM\r\nSystem Boot Time:          3/19/20",
			wantMetas: 1, wantErrLines: []int{6}, wantTruncated: true},
		{name: "truncated_address", input: head + "Network Card(s):           1 NIC(s) Installed.\r\n                           [01]: NIC\r\n                                 [01]: 192.168.1",
			wantMetas: 1, wantErrLines: []int{7}, wantTruncated: true},
		{name: "truncated_csv_row", input: "\"H1\",\"Microsoft Windows 10 Pro\",\"10.0.19045 N/A Build 19045\",\"Micro",
			wantErrLines: []int{1}, wantTruncated: true},
		{name: "csv_short_row", input: "\"Host Name\",\"OS Name\",\"OS Version\",\"Time Zone\"\r\n\"H1\",\"Microsoft Windows 10 Pro\",\"10.0.19045 N/A Build 19045\"\r\n",
			wantMetas: 1, wantErrLines: []int{2}},
		{name: "unknown_language_by_place", wantMetas: 1, input: "\r\nホスト名:               JP-01\r\nOS 名:                  Microsoft Windows 10 Pro\r\n" +
			"OS バージョン:          10.0.19045 N/A ビルド 19045\r\n" + strings.Repeat("X:                      y\r\n", 7) +
			"システム起動時間:       2026/11/20, 8:02:11\r\n",
			check: func(t *testing.T, m []Record) {
				if s := m[0].Meta.System; m[0].Meta.Host != "JP-01" || s.OSVersion != "10.0.19045 N/A ビルド 19045" ||
					!s.BootTime.Equal(time.Date(2026, 11, 20, 8, 2, 11, 0, time.UTC)) || m[0].Meta.Locale != "" {
					t.Errorf("meta %+v system %+v", m[0].Meta, s)
				}
			}},
		{name: "indent_lost_in_copy", wantMetas: 1, input: head + "Network Card(s):           1 NIC(s) Installed.\r\n[01]: NIC\r\nIP address(es)\r\n[01]: 10.0.0.3\r\n[02]: fe80::1\r\n",
			check: func(t *testing.T, m []Record) {
				// "IP address(es)" at column 0 ends the block: only what precedes it counts.
				if got := m[0].Meta.System.Addresses; len(got) != 0 {
					t.Errorf("addresses %v, want none", got)
				}
			}},
		{name: "utc_zone_without_offset", wantMetas: 1, input: head + "Time Zone:                 (UTC) Coordinated Universal Time\r\n",
			check: func(t *testing.T, m []Record) {
				if s := m[0].Meta.System; !s.HasUTCOffset || s.UTCOffset != 0 {
					t.Errorf("offset %v %v", s.UTCOffset, s.HasUTCOffset)
				}
			}},
		{name: "prompt_and_timestamp_around", wantMetas: 1,
			input: "C:\\>echo %date% %time%\r\nThu 11/20/2026  8:12:33.45\r\nC:\\>systeminfo\r\n" + head + "C:\\>\r\n"},
		{name: "wrong_netstat", input: "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748\r\n"},
		{name: "wrong_tasklist_list", input: "\r\nImage Name:   System Idle Process\r\nPID:          0\r\nSession Name: Services\r\nSession#:     0\r\nMem Usage:    8 K\r\n"},
		{name: "wrong_ipconfig", input: "\r\nWindows IP Configuration\r\n\r\n   Host Name . . . . . . . . . . . . : H1\r\n   IPv4 Address. . . . . . . . . . . : 10.0.0.5\r\n"},
		{name: "wrong_binary", input: "ElfFile\x00\x01\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x00OS Version:\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metas, errs := sysinfoParse(t, tt.input)
			if len(metas) != tt.wantMetas {
				t.Errorf("got %d metas, want %d", len(metas), tt.wantMetas)
			}
			var lines []int
			for _, e := range errs {
				lines = append(lines, e.Line)
				if got := errors.Is(e, ErrTruncated); got != tt.wantTruncated {
					t.Errorf("error %v: truncated %v, want %v", e, got, tt.wantTruncated)
				}
			}
			if !slices.Equal(lines, tt.wantErrLines) {
				t.Errorf("error lines %v, want %v (%v)", lines, tt.wantErrLines, errs)
			}
			if tt.check != nil && len(metas) == tt.wantMetas && len(metas) > 0 {
				tt.check(t, metas)
			}
		})
	}
}

// TestSysteminfoStops checks that Parse stops when yield returns false and
// reports a cancelled context.
func TestSysteminfoStops(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sysinfoDir, "synthetic_two_hosts_ambiguous_dates.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range (systeminfo{}).Parse(context.Background(), bytes.NewReader(data)) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("got %d records after break", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var got []error
	for _, err := range (systeminfo{}).Parse(ctx, bytes.NewReader(data)) {
		got = append(got, err)
	}
	if len(got) != 1 || !errors.Is(got[0], context.Canceled) {
		t.Errorf("cancelled parse gave %v, want one context.Canceled", got)
	}
}

// TestSysteminfoDetect checks that every systeminfo fixture is detected as
// systeminfo, and that the systeminfo sniffer claims none of the corpus
// text files nor the other formats' testdata.
func TestSysteminfoDetect(t *testing.T) {
	for _, path := range goldenFiles(t, sysinfoDir) {
		name := filepath.Base(path)
		t.Run(subtestName.ReplaceAllString(name, "_"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, _, err := Detect(data[:min(len(data), rawHeadLen)])
			if err != nil || p.Format() != FormatSysteminfo {
				t.Errorf("Detect = %v, %v; want systeminfo", p, err)
			}
		})
	}
	others := corpusGlob(t, filepath.Join("text", "*"))
	for _, dir := range []string{"netstat", "tasklist", "tcpvcon", "netsh", "pscsv", "services", "evtxml", "timestamps"} {
		paths, _ := filepath.Glob(filepath.Join("..", "testdata", dir, "*"))
		others = append(others, paths...)
	}
	if len(others) < 20 {
		t.Fatalf("only %d files of other formats found", len(others))
	}
	for _, path := range others {
		if strings.HasSuffix(path, ".golden.jsonl") || strings.HasSuffix(path, ".md") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		head := data[:min(len(data), rawHeadLen)]
		enc := DetectEncoding(head)
		if enc == EncBinary {
			continue
		}
		if (systeminfo{}).Sniff(decodeHead(head, enc)) {
			t.Errorf("systeminfo claims %s", path)
		}
	}
}

func TestSysteminfoSniffNoAlloc(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sysinfoDir, "systeminfo_ws2016_zh_writeup.txt"))
	if err != nil {
		t.Fatal(err)
	}
	csvData, err := os.ReadFile(filepath.Join(sysinfoDir, "systeminfo_csv_win81_reconstructed.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, head := range [][]byte{data, csvData} {
		if !(systeminfo{}).Sniff(head) {
			t.Fatal("Sniff = false")
		}
		if n := testing.AllocsPerRun(20, func() { (systeminfo{}).Sniff(head) }); n != 0 {
			t.Errorf("Sniff allocates %v times", n)
		}
	}
}

func TestIsOSVersion(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"10.0.17763 N/A Build 17763", true},
		{"5.2.3790 Service Pack 2 Build 3790", true},
		{"6.1.7601 Service Pack 1 Build 7601", true},
		{"6.3.9600 N/D Compilación 9600", true},
		{"10.0.22000 暂缺 Build 22000  ", true},
		{"10.0.17763 N/A Build 17764", false},
		{"10.0.17763", false},
		{"10.0.17763 ", false},
		{"192.168.1.10 host 10", false},
		{"1.2.345 x 2345", false},
		{"100.0.17763 N/A Build 17763", false},
		{"10.0.17763 N/A Build 117763", false},
	}
	for _, tt := range tests {
		if got := isOSVersion(tt.in); got != tt.want {
			t.Errorf("isOSVersion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzSysteminfo checks the parser's invariants and that Sniff never
// panics.
func FuzzSysteminfo(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(sysinfoDir, "*"))
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.jsonl") || strings.HasSuffix(p, ".md") {
			continue
		}
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		(systeminfo{}).Sniff(data[:min(len(data), SniffLen)])
		checkParseInvariants(t, systeminfo{}, data)
	})
}
