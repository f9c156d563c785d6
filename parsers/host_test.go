package parsers

import (
	"strings"
	"testing"
	"time"
)

func TestHostTally(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2024, 1, 1, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		events   []Event
		want     string // "" for no Meta
		wantNote string // substring of the note; "" for none
	}{
		{name: "none", events: []Event{{}, {Computer: "  "}}},
		{name: "one", events: []Event{{Computer: "WEB01", Time: at(1)}, {Computer: "web01", Time: at(2)}}, want: "WEB01"},
		{
			// Setup's name, then the owner's: the latest name is the host.
			name: "renamed",
			events: []Event{
				{Computer: "WIN-E0PO207ERMD", Time: at(1)}, {Computer: "WIN-E0PO207ERMD", Time: at(2)},
				{Computer: "WIN-E0PO207ERMD", Time: at(3)}, {Computer: "CITADEL-DC01.C137.local", Time: at(4)},
			},
			want: "CITADEL-DC01.C137.local", wantNote: "WIN-E0PO207ERMD (3 events)",
		},
		{
			// Records out of time order: time decides, not file order.
			name:   "time_not_order",
			events: []Event{{Computer: "NEW", Time: at(5)}, {Computer: "OLD", Time: at(1)}},
			want:   "NEW", wantNote: "OLD (1 events)",
		},
		{
			// A slack record is older than any live one, whatever its time says.
			name:   "recovered_loses",
			events: []Event{{Computer: "LIVE", Time: at(1)}, {Computer: "CARVED", Time: at(9), Recovered: true}},
			want:   "LIVE", wantNote: "CARVED",
		},
		{name: "only_recovered", events: []Event{{Computer: "CARVED", Recovered: true}}, want: "CARVED"},
		{name: "equal_times_last_wins", events: []Event{{Computer: "A"}, {Computer: "B"}}, want: "B", wantNote: "A (1 events)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hostTally
			for i := range tt.events {
				h.observe(&tt.events[i], i)
			}
			m := h.meta()
			if tt.want == "" {
				if m != nil {
					t.Fatalf("meta = %+v, want none", m)
				}
				return
			}
			if m == nil || m.Host != tt.want {
				t.Fatalf("meta = %+v, want host %q", m, tt.want)
			}
			if tt.wantNote == "" && m.Note != "" || !strings.Contains(m.Note, tt.wantNote) {
				t.Errorf("note = %q, want one containing %q", m.Note, tt.wantNote)
			}
		})
	}
}

func TestHostTallyBounded(t *testing.T) {
	var h hostTally
	for i := range 1000 {
		h.observe(&Event{Computer: strings.Repeat("x", i%40+1)}, i)
	}
	if len(h.names) > maxComputers {
		t.Fatalf("kept %d names, want at most %d", len(h.names), maxComputers)
	}
	if m := h.meta(); m == nil || !strings.Contains(m.Note, "events of other names") {
		t.Fatalf("meta = %+v, want a note counting the names not kept", m)
	}
}

func TestPSCSVComputer(t *testing.T) {
	const head = "\"LocalAddress\",\"LocalPort\",\"State\",\"OwningProcess\",\"PSComputerName\"\r\n"
	tests := []struct {
		name, input, want, wantNote string
	}{
		{name: "no_column", input: "\"LocalAddress\",\"LocalPort\",\"State\"\r\n\"0.0.0.0\",\"80\",\"Listen\"\r\n"},
		{name: "one_host", input: head + "\"0.0.0.0\",\"80\",\"Listen\",\"4\",\"WEB01\"\r\n\"::\",\"80\",\"Listen\",\"4\",\"WEB01\"\r\n", want: "WEB01"},
		{
			name:  "two_hosts",
			input: head + "\"0.0.0.0\",\"80\",\"Listen\",\"4\",\"WEB01\"\r\n\"0.0.0.0\",\"443\",\"Listen\",\"4\",\"WEB02\"\r\n\"::\",\"80\",\"Listen\",\"4\",\"WEB02\"\r\n",
			want:  "WEB02", wantNote: "PSComputerName names 2 computers: WEB02 (2 rows), WEB01 (1 rows)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, recs := readAll(t, []byte(tt.input))
			if a.Format != FormatPSNetTCP {
				t.Fatalf("format %s, want %s", a.Format, FormatPSNetTCP)
			}
			if a.Host != tt.want {
				t.Errorf("host %q, want %q", a.Host, tt.want)
			}
			if got := strings.Join(a.Notes, "; "); !strings.Contains(got, tt.wantNote) {
				t.Errorf("notes %q, want %q", got, tt.wantNote)
			}
			if n := len(recs); tt.want != "" && (recs[n-1].Kind != KindMeta || recs[n-1].Meta.Host != tt.want) {
				t.Errorf("last record %+v, want the host's Meta", recs[n-1])
			}
		})
	}
}
