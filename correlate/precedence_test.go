package correlate

import (
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

func TestCaptureTimePrecedence(t *testing.T) {
	flag := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	stated := flag.Add(time.Hour)
	mtime := flag.Add(2 * time.Hour)
	rules := []CaptureRule{{Pattern: "netstat*", At: flag}, {Pattern: "b/*.csv", At: flag, Local: true}}
	tests := []struct {
		name       string
		clues      CaptureClues
		want       time.Time
		wantLocal  bool
		wantSource parsers.CaptureSource
	}{
		{"flag by base name beats the artifact", CaptureClues{Name: "b/netstat.txt", Stated: stated, ModTime: mtime}, flag, false, parsers.CaptureFlag},
		{"flag by bundle path", CaptureClues{Name: "b/tcpvcon.csv", ModTime: mtime}, flag, true, parsers.CaptureFlag},
		{"the artifact beats its name", CaptureClues{Name: "b/tasklist_2026-01-01_10-00.txt", Stated: stated, StatedSource: parsers.CaptureTimestampLine, ModTime: mtime}, stated, false, parsers.CaptureTimestampLine},
		{"a stated time without a source is a timestamp line", CaptureClues{Name: "b/tasklist.txt", Stated: stated, StatedLocal: true}, stated, true, parsers.CaptureTimestampLine},
		{"the file name beats the mtime", CaptureClues{Name: "b/tasklist_2026-01-01_10-00.txt", ModTime: mtime, ModTimeSource: parsers.CaptureFileModTime},
			time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), true, parsers.CaptureFileName},
		{"the mtime last", CaptureClues{Name: "b/tasklist.txt", ModTime: mtime, ModTimeSource: parsers.CaptureFileModTime}, mtime, false, parsers.CaptureFileModTime},
		{"a zip DOS time is local", CaptureClues{Name: "b/tasklist.txt", ModTime: mtime, ModTimeSource: parsers.CaptureZipDOS}, mtime, true, parsers.CaptureZipDOS},
	}
	for _, tt := range tests {
		at, local, source := CaptureTime(rules, tt.clues)
		if !at.Equal(tt.want) || local != tt.wantLocal || source != tt.wantSource {
			t.Errorf("%s: %v %v %q; want %v %v %q", tt.name, at, local, source, tt.want, tt.wantLocal, tt.wantSource)
		}
	}
}

func TestDecideHostPrecedence(t *testing.T) {
	tz := -5 * time.Hour
	sys := &parsers.SystemFacts{OSName: "Microsoft Windows Server 2003", OSVersion: "5.2.3790 Service Pack 2 Build 3790",
		TimeZone: "(UTC+01:00) Paris", UTCOffset: time.Hour, HasUTCOffset: true}
	logs := Input{Host: "WEB01", OSVersion: "6.1.7601", UTCOffset: 2 * time.Hour, HasUTCOffset: true}
	tests := []struct {
		name  string
		clues HostClues
		want  HostFacts
	}{
		{"logs alone", HostClues{Logs: logs}, HostFacts{Host: "WEB01", OSVersion: "6.1.7601", UTCOffset: 2 * time.Hour, HasUTCOffset: true, ZoneSource: ZoneFromEvent6008}},
		{"6008 beats systeminfo, whose zone name is dropped", HostClues{Logs: logs, System: sys},
			HostFacts{Host: "WEB01", OSVersion: "6.1.7601", UTCOffset: 2 * time.Hour, HasUTCOffset: true, ZoneSource: ZoneFromEvent6008,
				OSName: "Microsoft Windows Server 2003 5.2.3790 Service Pack 2 Build 3790"}},
		{"systeminfo fills what the logs lack", HostClues{Logs: Input{Host: "IAS01"}, System: sys},
			HostFacts{Host: "IAS01", OSVersion: "5.2.3790", UTCOffset: time.Hour, HasUTCOffset: true, ZoneSource: ZoneFromSysteminfo,
				OSName: "Microsoft Windows Server 2003 5.2.3790 Service Pack 2 Build 3790", TimeZone: "(UTC+01:00) Paris"}},
		{"--tz beats everything", HostClues{Logs: logs, System: sys, Offset: &tz},
			HostFacts{Host: "WEB01", OSVersion: "6.1.7601", UTCOffset: tz, HasUTCOffset: true, ZoneSource: ZoneFromFlag,
				OSName: "Microsoft Windows Server 2003 5.2.3790 Service Pack 2 Build 3790"}},
	}
	for _, tt := range tests {
		if got := DecideHost(tt.clues); got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
	var in Input
	DecideHost(HostClues{Logs: Input{Host: "IAS01"}, System: sys, Offset: &tz}).Apply(&in)
	if in.Host != "IAS01" || in.OSVersion != "5.2.3790" || in.UTCOffset != tz || !in.HasUTCOffset {
		t.Errorf("Apply: %+v", in)
	}
}

func TestLoadPorts(t *testing.T) {
	got, err := LoadPorts(strings.NewReader("# service,proto,port\nIAS,udp,1812\nMyApp, TCP ,8080-8082\n"), "ports.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got["ias"]) != 1 || got["ias"][0] != (PortSpec{parsers.UDP, 1812}) || len(got["myapp"]) != 3 || got["myapp"][2].Port != 8082 {
		t.Errorf("got %v", got)
	}
	for _, bad := range []struct{ in, want string }{
		{"IAS,icmp,1812\n", "ports.csv:1: protocol"},
		{"# c\nIAS,udp,0\n", "ports.csv:2: port"},
		{"IAS,udp,2000-1000\n", "ports.csv:1: port"},
		{"IAS,udp,1-2000\n", "at most 1024"},
		{"IAS,udp\n", "wrong number of fields"},
	} {
		if _, err := LoadPorts(strings.NewReader(bad.in), "ports.csv"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want %q", bad.in, err, bad.want)
		}
	}
}

// FuzzLoadPorts: any --ports file loads or fails with an error, never a
// panic, and what loads is within the promised bounds.
func FuzzLoadPorts(f *testing.F) {
	f.Add("IAS,udp,1812\nMyApp,tcp,8080-8082\n")
	f.Add("# c\n\"a,b\",TCP, 1-1025\n")
	f.Add("x,udp,65535-65535\nx,udp,0\n")
	f.Add("\xff\xfe,\x00,\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := LoadPorts(strings.NewReader(in), "ports.csv")
		if err != nil {
			return
		}
		for key, specs := range got {
			if key != strings.ToLower(key) {
				t.Errorf("key %q not lower-cased", key)
			}
			for _, p := range specs {
				if p.Port == 0 || (p.Proto != parsers.TCP && p.Proto != parsers.UDP) {
					t.Errorf("%q: bad spec %+v", key, p)
				}
			}
		}
	})
}

func TestOSProduct(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"6.01. 7601 Service Pack 1 Multiprocessor Free", "Windows 7 / Server 2008 R2 SP1"},
		{"6.01. 7601 Multiprocessor Free", "Windows 7 / Server 2008 R2 SP1"},
		{"6.01. 7600 Multiprocessor Free", "Windows 7 / Server 2008 R2"},
		{"6.00. 6002 Multiprocessor Free", "Windows Vista / Server 2008 SP2"},
		{"5.02. 3790 Service Pack 2 Multiprocessor Free", "Windows Server 2003 / XP x64 SP2"},
		{"5.2.3790 Service Pack 2 Build 3790", "Windows Server 2003 / XP x64 SP2"},
		{"5.01. 2600 Service Pack 3 Uniprocessor Free", "Windows XP SP3"},
		{"6.3.9600 N/A Build 9600", "Windows 8.1 / Server 2012 R2"},
		{"10.00. 19045  Multiprocessor Free", "Windows 10"},
		{"10.0.17763 N/A Build 17763", "Windows 10 1809 / Server 2019"},
		{"10.0.20348 N/A Build 20348", "Windows Server 2022"},
		{"10.0.22631 N/A Build 22631", "Windows 11"},
		{"10.00. 26100  Multiprocessor Free", "Windows 11 24H2 / Server 2025"},
	} {
		if got, ok := OSProduct(tt.in); !ok || got != tt.want {
			t.Errorf("OSProduct(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{"", "unknown", "4.0", "7.5.1000", "Windows"} {
		if got, ok := OSProduct(bad); ok {
			t.Errorf("OSProduct(%q) = %q, want not ok", bad, got)
		}
	}
}
