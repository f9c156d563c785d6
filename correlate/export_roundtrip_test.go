package correlate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portmortem/portmortem/parsers"
)

// TestExportRoundTrip builds, from the events of every scenario bundle's
// System.evtx (written by our EVTX writer, read through golang-evtx), the
// Get-WinEvent | Export-Csv file an en-US server would give for them —
// each SCM message rendered from its English template, %%N insertions as
// Windows renders them (the error's text) — and checks that the export
// path decodes the same failures as the evtx path: event, service, error
// and its class, and the time as the host's wall clock.
func TestExportRoundTrip(t *testing.T) {
	logs, _ := filepath.Glob("../testdata/bundles/*/System.evtx")
	if len(logs) == 0 {
		t.Fatal("no scenario System.evtx found")
	}
	templates := map[uint16]string{}
	for _, tpl := range renderedSCMTemplates {
		if _, ok := templates[tpl.id]; !ok && tpl.lang == "en" {
			templates[tpl.id] = tpl.text
		}
	}
	compared := 0
	var events []*parsers.Event
	for _, path := range logs {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, recs := parsers.Read(context.Background(), path, f, "")
		var want []Failure
		var csv strings.Builder
		csv.WriteString("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n")
		csv.WriteString(`"Message","Id","Version","Qualifiers","Level","Task","Opcode","Keywords","RecordId","ProviderName","ProviderId","LogName","ProcessId","ThreadId","MachineName","UserId","TimeCreated","LevelDisplayName"` + "\r\n")
		for r, err := range recs {
			if err != nil || r.Kind != parsers.KindEvent || !strings.EqualFold(r.Event.Provider, scmProvider) {
				continue
			}
			tpl, ok := templates[r.Event.EventID]
			if !ok {
				continue
			}
			fl, ok := DecodeFailure(r.Event)
			if !ok {
				continue
			}
			want = append(want, fl)
			events = append(events, r.Event)
			msg := renderTemplate(tpl, r.Event, func(code uint32) string {
				info, _ := LookupError(code)
				return info.Text
			})
			fmt.Fprintf(&csv, "%s,\"%d\",\"0\",\"49152\",\"2\",\"0\",\"0\",\"-9187343239835811840\",\"%d\",\"Service Control Manager\",\"555908d1-a6d7-4695-8e1e-26931d2012f4\",\"System\",\"720\",\"5864\",%s,,\"%s\",\"Error\"\r\n",
				csvQuote(msg), r.Event.EventID, r.Event.RecordID, csvQuote(r.Event.Computer), r.Event.Time.Format("1/2/2006 3:04:05 PM"))
		}
		f.Close()
		if len(want) == 0 {
			continue
		}
		text := csv.String()
		a, recs2 := parsers.Read(context.Background(), path+".csv", strings.NewReader(text), "")
		var got []Failure
		for r, err := range recs2 {
			if err != nil {
				t.Errorf("%s export: %v", path, err)
				continue
			}
			if r.Kind == parsers.KindEvent {
				if fl, ok := DecodeFailure(r.Event); ok {
					if !r.Event.TimeLocal {
						t.Errorf("%s export: event %d time not marked local", path, r.Event.EventID)
					}
					got = append(got, fl)
				}
			}
		}
		if a.Format != parsers.FormatEventExport {
			t.Fatalf("%s export detected as %q", path, a.Format)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d failures from the export, %d from the evtx\n%s", path, len(got), len(want), text)
			continue
		}
		for i := range want {
			w, g := want[i], got[i]
			if g.EventID != w.EventID || !strings.EqualFold(g.Service, w.Service) || g.ErrorCode != w.ErrorCode || g.HasError != w.HasError || g.Class != w.Class || !g.Time.Equal(w.Time) {
				t.Errorf("%s event %d: export gives %s/%q/%d/%v/%s at %v, evtx %s/%q/%d/%v/%s at %v", path, w.EventID,
					g.Kind, g.Service, g.ErrorCode, g.HasError, g.Class, g.Time, w.Kind, w.Service, w.ErrorCode, w.HasError, w.Class, w.Time)
			}
			compared++
		}
	}
	if compared < 10 {
		t.Errorf("only %d failures compared across %d logs", compared, len(logs))
	}
	t.Logf("%d SCM failures from %d scenario logs decode the same from an en-US Export-Csv", compared, len(logs))

	// The same events rendered in every language a template exists for,
	// with each localized text of their error: the service and the error
	// come back from the message alone.
	combos := 0
	for _, ev := range events {
		w, _ := DecodeFailure(ev)
		for _, tpl := range renderedSCMTemplates {
			if tpl.id != ev.EventID {
				continue
			}
			for _, lt := range localizedTexts {
				if !w.HasError || lt.code != w.ErrorCode || !strings.Contains(tpl.text, "%2") && ev.EventID != 7001 {
					continue
				}
				msg := renderTemplate(tpl.text, ev, func(uint32) string { return lt.fragment + " …" })
				g, ok := DecodeFailure(&parsers.Event{Provider: scmProvider, EventID: ev.EventID, Message: msg})
				if !ok || g.Service != w.Service || g.ErrorCode != w.ErrorCode {
					t.Errorf("%s %d: %q gives %q error %d (ok %v), want %q error %d", tpl.lang, ev.EventID, msg, g.Service, g.ErrorCode, ok, w.Service, w.ErrorCode)
				}
				combos++
			}
		}
	}
	if combos < 50 {
		t.Errorf("only %d localized renderings checked", combos)
	}
	t.Logf("%d localized renderings (template × error text) decode to the same service and error", combos)
}

// renderTemplate renders an SCM event as Event Viewer shows it: insertions
// in place, %%N as errText(N), %n a line break.
func renderTemplate(tpl string, ev *parsers.Event, errText func(uint32) string) string {
	return templateToken.ReplaceAllStringFunc(tpl, func(tok string) string {
		switch tok {
		case "%n":
			return "\r\n"
		case "%*":
			return ""
		}
		v := param(ev, int(tok[1]-'0'))
		if code, ok := ParseInsertion(v); ok && strings.HasPrefix(v, "%%") {
			return errText(code)
		}
		return v
	})
}

// csvQuote quotes a field as Export-Csv does.
func csvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// TestPastedEventDetails: events pasted from Event Viewer ("Copy Details as
// Text"), read through the event-export parser, decode like the evtx: the
// XML's insertion strings when the paste has them, the rendered
// description (in English or German) when it has not.
func TestPastedEventDetails(t *testing.T) {
	tests := []struct {
		file  string
		want  []string // service/error per failure
		local []bool
	}{
		{"eventdetails_en-us.txt", []string{"BlackBerry Router/10048", "Fax/1058"}, []bool{false, true}},
		{"eventdetails_de-de.txt", []string{"Netzwerkrichtlinienserver/10048"}, []bool{true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "eventexport", tt.file)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			a, recs := parsers.Read(context.Background(), path, f, "")
			var got []string
			var local []bool
			for r, err := range recs {
				if err != nil {
					t.Errorf("%v", err)
					continue
				}
				if r.Kind != parsers.KindEvent {
					continue
				}
				if fl, ok := DecodeFailure(r.Event); ok {
					got = append(got, fmt.Sprintf("%s/%d", fl.Service, fl.ErrorCode))
					local = append(local, r.Event.TimeLocal)
				}
			}
			if a.Format != parsers.FormatEventExport || fmt.Sprint(got) != fmt.Sprint(tt.want) || fmt.Sprint(local) != fmt.Sprint(tt.local) {
				t.Errorf("format %s, failures %v (local %v), want %v (local %v)", a.Format, got, local, tt.want, tt.local)
			}
		})
	}
}
