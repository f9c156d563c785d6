package reports

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
)

func TestWriteText(t *testing.T) {
	s := openStore(t)
	plain := iasCase(t, s, "ias", "dns.exe")
	// Fax fails the same way in two boots: one line for both.
	twice := iasCase(t, s, "twice", "dns.exe", scm(base.Add(3*time.Minute), 3, 7000, "Fax", "Fax", "%%1058"),
		boot(base.Add(time.Hour), 4), scm(base.Add(time.Hour+time.Minute), 5, 7000, "Fax", "Fax", "%%1058"))
	// A hostile owner name that would clear the screen.
	hostile := iasCase(t, s, "hostile", "evil\x1b[2J\x1b]0;pwned\x07.exe\r\nCONFIRMED")
	tests := []struct {
		name    string
		id      int64
		color   bool
		want    []string
		notWant []string
	}{
		{"plain", plain, false, []string{
			"ias  (host SRV01, times UTC-06:00)\n",
			// The ports free beside the cause are named on its line (issue
			// 12, item 7), not each on a NO_CONFLICT_SEEN line.
			"\n  CONFIRMED         86%  UDP/1812   Internet Authentication Service (IAS)     dns.exe (PID 1640)    dns-socket-pool  (also needs UDP 1813, 1645 and 1646: free)\n",
			"\n  coverage: excluded-ranges missing: No netsh excludedportrange output was collected",
		}, []string{"\x1b", " \n", "NO_CONFLICT_SEEN"}},
		{"color", plain, true, []string{"\x1b[1;31mCONFIRMED       \x1b[0m  86%", "\x1b[2m  coverage:"}, nil},
		{"grouped", twice, false, []string{"\n  NOT_PORT_RELATED  90%  -          Fax                                       -  (×2)\n"}, nil},
		{"hostile", hostile, false, []string{"evil[2J]0;pwned.exe  CONFIRME…"}, []string{"\x1b", "\x07", "\r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadCase(context.Background(), s, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteText(&b, c, TextOptions{Color: tt.color}); err != nil {
				t.Fatal(err)
			}
			got := b.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("output has %q:\n%q", w, got)
				}
			}
		})
	}
}

// TestOneLine: bundle text cannot break the terminal line, send escape
// sequences (C0 ESC, C1 CSI) or reorder the line (bidi overrides).
func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		name, input, want string
	}{
		{"plain", "dns.exe", "dns.exe"},
		{"newlines_and_tabs", "a\r\nb\tc", "a  b c"},
		{"c0_escape", "\x1b[31mred", "[31mred"},
		{"c1_csi", "a\u009b31mb", "a31mb"},
		{"delete", "a\x7fb", "ab"},
		{"bidi_override", "evil\u202Eexe.txt", "evilexe.txt"},
		{"bidi_isolate", "a\u2066b\u2069", "ab"},
		{"non_latin_kept", "Netzwerkrichtlinienserver – 网络策略", "Netzwerkrichtlinienserver – 网络策略"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := oneLine(tc.input); got != tc.want {
				t.Errorf("oneLine(%q) = %q, want %q", tc.input, got, tc.want)
			}
		})
	}
}

// TestWriteTextBounded: the table of a case with many findings shows at
// most maxTextFindings finding lines and says how many more the reports
// hold; every PORT_UNKNOWN finding folds into one line that names the
// count and the first services, without a 0 % confidence; a long
// coverage reason is clipped.
func TestWriteTextBounded(t *testing.T) {
	c := &Case{Bundle: "many", Zone: Zone{Known: true}}
	for i := range 30 {
		c.Findings = append(c.Findings, correlate.Finding{Verdict: correlate.NotPortRelated, Confidence: 0.9,
			Service: fmt.Sprintf("Service%02d", i), OwnerPID: -1})
	}
	for i := range 244 {
		c.Findings = append(c.Findings, correlate.Finding{Verdict: correlate.PortUnknown, Service: fmt.Sprintf("Evil%03d", i), OwnerPID: -1})
	}
	c.Coverage = []correlate.Coverage{{Check: "snapshot-time", Status: correlate.StatusPartial, Reason: strings.Repeat("b/netstat.txt: no time; ", 100)}}
	var b bytes.Buffer
	if err := WriteText(&b, c, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if n := len(lines); n > 1+maxTextFindings+1+1 {
		t.Errorf("%d lines:\n%s", n, out)
	}
	if !strings.Contains(out, "  … 11 more finding(s) in report.html") {
		t.Errorf("no count of the findings left out (244 PORT_UNKNOWN on one line, then 19 of the 30 others):\n%s", out)
	}
	for _, l := range lines {
		if len([]rune(l)) > maxCoverageText+40 {
			t.Errorf("line of %d characters: %q", len([]rune(l)), l)
		}
	}

	// Fewer finding kinds than lines: the PORT_UNKNOWN findings are one line.
	c.Findings = c.Findings[25:]
	b.Reset()
	if err := WriteText(&b, c, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out = b.String()
	want := "  PORT_UNKNOWN        –  -          244 services: Evil000, Evil001, Evil002 and 241 more  (×244)\n"
	if !strings.Contains(out, want) || strings.Contains(out, " 0%") || strings.Contains(out, "more finding") {
		t.Errorf("want %q, no \" 0%%\" and no 'more finding':\n%s", want, out)
	}
}
