package parsers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEventExportGolden reads every sample of testdata/eventexport through
// Read and compares the records with the sample's golden file.
func TestEventExportGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "eventexport", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.jsonl") || strings.HasSuffix(p, ".md") {
			continue
		}
		n++
		name := strings.NewReplacer(".", "_", "-", "_").Replace(filepath.Base(p))
		t.Run(name, func(t *testing.T) {
			checkGolden(t, renderJSONL(t, p), strings.TrimSuffix(p, filepath.Ext(p))+".golden.jsonl")
		})
	}
	if n < 6 {
		t.Fatalf("%d samples in testdata/eventexport, want at least 6", n)
	}
}

func readExport(t *testing.T, text string) ([]Record, []*ParseError) {
	t.Helper()
	var recs []Record
	var errs []*ParseError
	for rec, err := range (eventExport{}).Parse(context.Background(), strings.NewReader(text)) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			errs = append(errs, pe)
			continue
		}
		if rec.Kind == KindEvent {
			recs = append(recs, rec)
		}
	}
	return recs, errs
}

// TestEventExportTimes shows the day/month order decided by the file and
// the times kept as local wall-clock times.
func TestEventExportTimes(t *testing.T) {
	head := "Level,Date and Time,Source,Event ID,Task Category\r\n"
	tests := []struct {
		name  string
		rows  []string
		want  []time.Time
		wantE int
	}{
		{"en_US_12h_month_first", []string{"Error,3/2/2026 1:05:06 PM,SCM,7000,None,x"},
			[]time.Time{time.Date(2026, 3, 2, 13, 5, 6, 0, time.UTC)}, 0},
		{"de_DE_dots_day_first", []string{"Fehler,03.02.2026 13:05:06,SCM,7000,Keine,x"},
			[]time.Time{time.Date(2026, 2, 3, 13, 5, 6, 0, time.UTC)}, 0},
		// The second row's day 25 decides day first for the first one too.
		{"fr_FR_later_row_decides", []string{"Erreur,03/02/2026 13:05:06,SCM,7000,Aucun,x", "Erreur,25/02/2026 13:05:06,SCM,7000,Aucun,y"},
			[]time.Time{time.Date(2026, 2, 3, 13, 5, 6, 0, time.UTC), time.Date(2026, 2, 25, 13, 5, 6, 0, time.UTC)}, 0},
		{"en_US_later_row_decides", []string{"Error,3/2/2026 1:05:06 PM,SCM,7000,None,x", "Error,3/25/2026 1:05:06 PM,SCM,7000,None,y"},
			[]time.Time{time.Date(2026, 3, 2, 13, 5, 6, 0, time.UTC), time.Date(2026, 3, 25, 13, 5, 6, 0, time.UTC)}, 0},
		{"ja_JP_year_first", []string{"エラー,2026/03/02 9:01:30,SCM,7000,なし,x"},
			[]time.Time{time.Date(2026, 3, 2, 9, 1, 30, 0, time.UTC)}, 0},
		{"ko_KR_designator_before_time", []string{"오류,2026-03-02 오후 1:05:06,SCM,7000,없음,x"},
			[]time.Time{time.Date(2026, 3, 2, 13, 5, 6, 0, time.UTC)}, 0},
		{"zh_CN_designator", []string{"错误,2026/3/2 下午 1:05:06,SCM,7000,无,x"},
			[]time.Time{time.Date(2026, 3, 2, 13, 5, 6, 0, time.UTC)}, 0},
		{"orders_disagree", []string{"Error,25/02/2026 13:05:06,SCM,7000,None,x", "Error,2/25/2026 13:05:06,SCM,7000,None,y"},
			[]time.Time{time.Date(2026, 2, 25, 13, 5, 6, 0, time.UTC)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := readExport(t, head+strings.Join(tt.rows, "\r\n")+"\r\n")
			if len(errs) != tt.wantE {
				t.Fatalf("errors %v, want %d", errs, tt.wantE)
			}
			if len(recs) != len(tt.want) {
				t.Fatalf("%d events, want %d", len(recs), len(tt.want))
			}
			for i, r := range recs {
				if !r.Event.Time.Equal(tt.want[i]) || !r.Event.TimeLocal {
					t.Errorf("event %d: time %v local %v, want %v local", i, r.Event.Time, r.Event.TimeLocal, tt.want[i])
				}
				if r.Line != i+2 {
					t.Errorf("event %d: line %d, want %d", i, r.Line, i+2)
				}
			}
		})
	}
}

// TestEventExportDetect checks detection on each variant and on inputs
// that only look like one.
func TestEventExportDetect(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Format
	}{
		{"eventviewer_csv", "Level,Date and Time,Source,Event ID,Task Category\r\nError,3/2/2026 9:01:30 AM,Service Control Manager,7000,None,\"x\"\r\n", FormatEventExport},
		{"eventviewer_tsv_localized", "Ebene\tDatum und Uhrzeit\tQuelle\tEreignis-ID\tAufgabenkategorie\r\nFehler\t02.03.2026 09:01:30\tService Control Manager\t7000\tKeine\tx\r\n", FormatEventExport},
		{"get_winevent", "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"Message\",\"Id\",\"ProviderName\",\"TimeCreated\"\r\n", FormatEventExport},
		{"get_eventlog", "\"EventID\",\"MachineName\",\"Message\",\"Source\",\"TimeGenerated\"\r\n", FormatEventExport},
		{"get_winevent_format_list", "\r\nTimeCreated  : 3/2/2026 9:01:30 AM\r\nProviderName : Service Control Manager\r\nId           : 7023\r\nMessage      : x\r\n", FormatEventExport},
		{"get_eventlog_format_list", "Index         : 9\r\nInstanceId    : 3221232495\r\nSource        : Service Control Manager\r\nTimeGenerated : 02.03.2026 09:01:30\r\n", FormatEventExport},
		{"systeminfo_german_not_a_list", "\r\nHostname:                                      NPS02\r\nBetriebssystemname:                            Microsoft Windows Server 2008 R2\r\n", FormatUnknown}, // too short for systeminfo's sniffer: what matters is that it is no event export
		{"header_only_eventviewer", "Level,Date and Time,Source,Event ID,Task Category\r\n", FormatUnknown},
		{"five_fields_no_date", "a,b,c,d,e\r\nError,PID,svchost,7000,None,x\r\n", FormatUnknown},
		{"nettcp_csv", "\"LocalAddress\",\"LocalPort\",\"RemoteAddress\",\"RemotePort\",\"State\",\"OwningProcess\"\r\n", FormatPSNetTCP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := Detect([]byte(tt.input))
			got := FormatUnknown
			if err == nil {
				got = p.Format()
			}
			if got != tt.want {
				t.Errorf("Detect = %s, want %s", got, tt.want)
			}
		})
	}
}

// FuzzEventExport: no panic, every error a *ParseError with a line, the
// same input gives the same output, every event has a line and a source.
func FuzzEventExport(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "eventexport", "*"))
	for _, p := range paths {
		if strings.HasSuffix(p, ".golden.jsonl") || strings.HasSuffix(p, ".md") {
			continue
		}
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return
		}
		run := func() string {
			var b strings.Builder
			for rec, err := range (eventExport{}).Parse(context.Background(), bytes.NewReader(data)) {
				if err != nil {
					var pe *ParseError
					if !errors.As(err, &pe) {
						t.Fatalf("error %v is not a *ParseError", err)
					}
					if pe.Line <= 0 {
						t.Fatalf("error without a line: %v", err)
					}
					b.WriteString(err.Error() + "\n")
					continue
				}
				if rec.Kind == KindEvent {
					if rec.Line <= 0 || rec.Event.Provider == "" {
						t.Fatalf("event without line or source: %+v", rec)
					}
					b.WriteString(rec.Event.Time.String() + rec.Event.Message + "\n")
				}
			}
			return b.String()
		}
		if a, b := run(), run(); a != b {
			t.Fatal("same input, different output")
		}
	})
}

// TestEventDetailsCutShort: a pasted event whose XML was cut off before
// </Event> is reported and the next event is still read; a description
// whose last line looks like an empty label keeps it.
func TestEventDetailsCutShort(t *testing.T) {
	head := func(id, date string) string {
		return "Log Name:      System\r\nSource:        Service Control Manager\r\nDate:          " + date +
			"\r\nEvent ID:      " + id + "\r\nTask Category: None\r\nLevel:         Error\r\nKeywords:      Classic\r\nUser:          N/A\r\nComputer:      SRV01\r\nDescription:\r\n"
	}
	text := head("7023", "3/2/2026 9:01:30 AM") + "The X service terminated with the following error: \r\nEvent Xml:\r\n<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\r\n  <System>\r\n" +
		head("7000", "3/2/2026 9:05:10 AM") + "The Y service failed to start due to the following error: \r\nDetails:\r\n"
	recs, errs := tasktcpParse(t, eventExport{}, text)
	var msgs []string
	for _, r := range recs {
		if r.Kind == KindEvent {
			msgs = append(msgs, fmt.Sprintf("%d %q", r.Event.EventID, r.Event.Message))
		}
	}
	want := []string{`7023 "The X service terminated with the following error:"`, `7000 "The Y service failed to start due to the following error: \nDetails:"`}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("events %q, want %q", msgs, want)
	}
	if len(errs) != 1 || errs[0].Line != 13 || !strings.Contains(errs[0].Error(), "no </Event>") {
		t.Errorf("errors %v, want one at line 13 saying the XML has no </Event>", errs)
	}
}
