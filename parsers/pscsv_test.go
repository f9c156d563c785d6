package parsers

import (
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPSCSVGolden(t *testing.T) { npsGolden(t, "../testdata/pscsv") }

func TestPSCSVBadLines(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		p         Parser
		wantLines []int
		wantPorts []uint16 // LocalPort of the sockets, in order
		wantTrunc bool
	}{
		{
			name: "badlines", file: "synthetic_nettcp_badlines.csv", p: psNetTCP{},
			wantLines: []int{3, 4, 5, 6, 7, 8, 9, 11},
			wantPorts: []uint16{135, 82, 84, 85},
		},
		{
			name: "truncated", file: "synthetic_nettcp_truncated.csv", p: psNetTCP{},
			wantLines: []int{5},
			wantPorts: []uint16{135, 445},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := npsCollect(t, tt.p, npsDecoded(t, filepath.Join("../testdata/pscsv", tt.file)))
			if got := npsErrLines(errs); !npsEqualInts(got, tt.wantLines) {
				t.Errorf("error lines = %v, want %v (%v)", got, tt.wantLines, errs)
			}
			var ports []int
			for _, r := range recs {
				if r.Socket != nil {
					ports = append(ports, int(r.Socket.LocalPort))
				}
			}
			var want []int
			for _, p := range tt.wantPorts {
				want = append(want, int(p))
			}
			if !npsEqualInts(ports, want) {
				t.Errorf("socket ports = %v, want %v", ports, want)
			}
		})
	}
}

func TestPSCSVCases(t *testing.T) {
	const tcpType = "#TYPE Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetTCPConnection\r\n"
	const udpType = "#TYPE Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetUDPEndpoint\r\n"
	tests := []struct {
		name      string
		p         Parser
		input     string
		want      []Socket
		wantNotes []string // substrings of the Meta notes, in order
		wantLines []int
		wantTrunc bool
	}{
		{name: "empty", p: psNetTCP{}, input: ""},
		{name: "type_only", p: psNetTCP{}, input: tcpType, wantLines: []int{1}, wantTrunc: true},
		{name: "header_only", p: psNetUDP{}, input: udpType + `"LocalAddress","LocalPort","OwningProcess"` + "\r\n"},
		{name: "wrong_format_tasklist", p: psNetTCP{}, input: "\"Image Name\",\"PID\",\"Services\"\r\n\"svchost.exe\",\"1012\",\"RpcSs\"\r\n", wantLines: []int{1}},
		{name: "wrong_format_netstat", p: psNetUDP{}, input: "\r\nActive Connections\r\n\r\n  Proto  Local Address\r\n", wantLines: []int{2}},
		{name: "tcp_parser_on_udp_type", p: psNetTCP{}, input: udpType + `"LocalAddress","LocalPort"` + "\n\"::\",\"53\"\n", wantLines: []int{1}},
		{name: "udp_parser_on_tcp_type", p: psNetUDP{}, input: tcpType + `"LocalAddress","LocalPort"` + "\n\"::\",\"53\"\n", wantLines: []int{1}},
		{name: "udp_parser_on_tcp_header", p: psNetUDP{}, input: `"LocalAddress","LocalPort","State"` + "\n\"::\",\"53\",\"Listen\"\n", wantLines: []int{1}},
		{
			name:  "unquoted_pwsh7_lowercase_header",
			p:     psNetTCP{},
			input: "localaddress,localport,state\n0.0.0.0,80,Listen\n",
			want:  []Socket{{Proto: TCP, LocalAddr: netip.MustParseAddr("0.0.0.0"), LocalPort: 80, HasPort: true, State: StateListening, StateRaw: "Listen", PID: -1}},
		},
		{
			name:  "tab_separator_and_empty_pid",
			p:     psNetUDP{},
			input: "LocalAddress\tLocalPort\tOwningProcess\n::1\t5353\t\n",
			want:  []Socket{{Proto: UDP, LocalAddr: netip.MustParseAddr("::1"), LocalPort: 5353, HasPort: true, PID: -1}},
		},
		{
			name:  "time_order_from_later_row",
			p:     psNetUDP{},
			input: "LocalAddress,LocalPort,CreationTime\n::,1,03/04/2026 10:00:00\n::,2,,\n::,3,13/04/2026 10:00:00\n",
			want: []Socket{
				{Proto: UDP, LocalAddr: netip.MustParseAddr("::"), LocalPort: 1, HasPort: true, PID: -1, CreatedAt: time.Date(2026, 4, 3, 10, 0, 0, 0, time.UTC), CreatedLocal: true},
				{Proto: UDP, LocalAddr: netip.MustParseAddr("::"), LocalPort: 3, HasPort: true, PID: -1, CreatedAt: time.Date(2026, 4, 13, 10, 0, 0, 0, time.UTC), CreatedLocal: true},
			},
			wantNotes: []string{`day/month/year (line 4: "13/04/2026 10:00:00")`},
			wantLines: []int{3},
		},
		{
			name:  "time_order_assumed_us",
			p:     psNetUDP{},
			input: "LocalAddress,LocalPort,CreationTime\n::,1,3/4/2026 10:00:00 PM\n",
			want: []Socket{
				{Proto: UDP, LocalAddr: netip.MustParseAddr("::"), LocalPort: 1, HasPort: true, PID: -1, CreatedAt: time.Date(2026, 3, 4, 22, 0, 0, 0, time.UTC), CreatedLocal: true},
			},
			wantNotes: []string{"month/day/year, assumed"},
		},
		{
			name:  "time_ymd_needs_no_order",
			p:     psNetUDP{},
			input: "LocalAddress,LocalPort,CreationTime\n::,1,2026/03/04 8:00:00\n",
			want: []Socket{
				{Proto: UDP, LocalAddr: netip.MustParseAddr("::"), LocalPort: 1, HasPort: true, PID: -1, CreatedAt: time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC), CreatedLocal: true},
			},
		},
		{
			name:  "time_unknown_designator_keeps_socket",
			p:     psNetUDP{},
			input: "LocalAddress,LocalPort,CreationTime\n::,1,2026-11-25 ?? 8:12:33\n",
			want: []Socket{
				{Proto: UDP, LocalAddr: netip.MustParseAddr("::"), LocalPort: 1, HasPort: true, PID: -1},
			},
			wantLines: []int{2},
		},
		{
			name:      "blank_lines_before_type",
			p:         psNetTCP{},
			input:     "\r\n\r\n" + tcpType + "\"LocalAddress\";\"LocalPort\"\r\n\"::\";\"135\"\r\n\"::\";\"x\"\r\n",
			want:      []Socket{{Proto: TCP, LocalAddr: netip.MustParseAddr("::"), LocalPort: 135, HasPort: true, PID: -1}},
			wantLines: []int{6},
		},
		{
			name:  "blank_line_after_type",
			p:     psNetUDP{},
			input: "#TYPE x\n\n\"LocalAddress\";\"LocalPort\"\n\"::\";\"53\"\n",
			want:  []Socket{{Proto: UDP, LocalAddr: netip.MustParseAddr("::"), LocalPort: 53, HasPort: true, PID: -1}},
		},
		{name: "blank_lines_then_type_only", p: psNetTCP{}, input: "\n\n" + tcpType, wantLines: []int{3}, wantTrunc: true},
		{name: "bad_header_quote", p: psNetTCP{}, input: "\"LocalAddress\"x,\"LocalPort\"\n", wantLines: []int{1}},
		{name: "open_quote_to_eof", p: psNetTCP{}, input: "LocalAddress,LocalPort\n\"::,1\n::,2\n", wantLines: []int{2}},
		{name: "record_too_long", p: psNetTCP{}, input: "LocalAddress,LocalPort\n\"" + strings.Repeat("a\n", psMaxRecord) + "\"\n", wantLines: []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := npsCollect(t, tt.p, []byte(tt.input))
			var got []Socket
			var notes []string
			for _, r := range recs {
				switch {
				case r.Kind == KindSocket && r.Socket != nil && r.Line > 0:
					got = append(got, *r.Socket)
				case r.Kind == KindMeta && r.Meta != nil:
					notes = append(notes, r.Meta.Note)
				default:
					t.Fatalf("unexpected record %+v", r)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if g, w := got[i], tt.want[i]; g.LocalAddr != w.LocalAddr || g.LocalPort != w.LocalPort ||
					g.Proto != w.Proto || g.State != w.State || g.StateRaw != w.StateRaw || g.PID != w.PID ||
					!g.CreatedAt.Equal(w.CreatedAt) || g.CreatedLocal != w.CreatedLocal || g.HasPort != w.HasPort {
					t.Errorf("socket %d = %+v, want %+v", i, g, w)
				}
			}
			if len(notes) != len(tt.wantNotes) {
				t.Fatalf("notes %q, want %q", notes, tt.wantNotes)
			}
			for i := range notes {
				if !strings.Contains(notes[i], tt.wantNotes[i]) {
					t.Errorf("note %q, want it to contain %q", notes[i], tt.wantNotes[i])
				}
			}
			if gotLines := npsErrLines(errs); !npsEqualInts(gotLines, tt.wantLines) {
				t.Errorf("error lines = %v, want %v (%v)", gotLines, tt.wantLines, errs)
			}
			if tt.wantTrunc && (len(errs) == 0 || !errors.Is(errs[len(errs)-1], ErrTruncated)) {
				t.Errorf("errors %v: want the last to wrap ErrTruncated", errs)
			}
		})
	}
}

func TestPSTime(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		order     int
		want      time.Time
		wantLocal bool
		wantErr   bool
	}{
		{"en_us", "11/25/2026 8:12:33 AM", psOrderMDY, time.Date(2026, 11, 25, 8, 12, 33, 0, time.UTC), true, false},
		{"en_us_pm", "11/25/2026 8:12:33 PM", psOrderMDY, time.Date(2026, 11, 25, 20, 12, 33, 0, time.UTC), true, false},
		{"en_us_midnight", "11/25/2026 12:00:00 AM", psOrderMDY, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), true, false},
		{"en_us_noon", "11/25/2026 12:00:00 PM", psOrderMDY, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), true, false},
		{"es_mx_designator", "25/11/2026 08:12:33 p. m.", psOrderDMY, time.Date(2026, 11, 25, 20, 12, 33, 0, time.UTC), true, false},
		{"de", "25.11.2026 08:12:33", psOrderDMY, time.Date(2026, 11, 25, 8, 12, 33, 0, time.UTC), true, false},
		{"nl", "25-11-2026 08:12:33", psOrderDMY, time.Date(2026, 11, 25, 8, 12, 33, 0, time.UTC), true, false},
		{"ja", "2026/11/25 8:12:33", psOrderUnknown, time.Date(2026, 11, 25, 8, 12, 33, 0, time.UTC), true, false},
		{"sv", "2026-11-25 08:12:33", psOrderUnknown, time.Date(2026, 11, 25, 8, 12, 33, 0, time.UTC), true, false},
		{"iso", "2026-11-25T08:12:33", psOrderUnknown, time.Date(2026, 11, 25, 8, 12, 33, 0, time.UTC), true, false},
		{"iso_fraction", "2026-11-25T08:12:33.1234567", psOrderUnknown, time.Date(2026, 11, 25, 8, 12, 33, 123456700, time.UTC), true, false},
		{"iso_long_fraction", "2026-11-25T08:12:33.123456789123", psOrderUnknown, time.Date(2026, 11, 25, 8, 12, 33, 123456789, time.UTC), true, false},
		{"iso_offset", "2026-11-25T08:12:33+01:00", psOrderUnknown, time.Date(2026, 11, 25, 7, 12, 33, 0, time.UTC), false, false},
		{"iso_negative_offset", "2026-11-25T20:12:33-05:30", psOrderUnknown, time.Date(2026, 11, 26, 1, 42, 33, 0, time.UTC), false, false},
		{"iso_z", "2026-11-25T08:12:33Z", psOrderUnknown, time.Date(2026, 11, 25, 8, 12, 33, 0, time.UTC), false, false},
		{"no_seconds", "25.11.2026 08:12", psOrderDMY, time.Date(2026, 11, 25, 8, 12, 0, 0, time.UTC), true, false},
		{"no_such_day", "11/31/2026 8:00:00 AM", psOrderMDY, time.Time{}, false, true},
		{"feb_29_leap", "29.02.2028 08:00:00", psOrderDMY, time.Date(2028, 2, 29, 8, 0, 0, 0, time.UTC), true, false},
		{"feb_29_not_leap", "29.02.2026 08:00:00", psOrderDMY, time.Time{}, false, true},
		{"hour_13_pm", "11/25/2026 13:00:00 PM", psOrderMDY, time.Time{}, false, true},
		{"hour_24", "25.11.2026 24:00:00", psOrderDMY, time.Time{}, false, true},
		{"two_digit_year", "25.11.26 08:12:33", psOrderDMY, time.Time{}, false, true},
		{"date_only", "25.11.2026", psOrderDMY, time.Time{}, false, true},
		{"garbage", "yesterday", psOrderDMY, time.Time{}, false, true},
		{"mixed_separators", "25.11/2026 08:12:33", psOrderDMY, time.Time{}, false, true},
		{"bad_offset", "2026-11-25T08:12:33+1:00", psOrderUnknown, time.Time{}, false, true},
		{"month_13_both_orders", "13/13/2026 08:00:00", psOrderDMY, time.Time{}, false, true},
		{"year_before_1601", "1600-12-31T23:59:59", psOrderUnknown, time.Time{}, false, true},
		{"year_0_with_offset", "0000-01-01T00:00:00+01:00", psOrderUnknown, time.Time{}, false, true},
		{"year_9999_offset_past_end", "9999-12-31T23:00:00-05:00", psOrderUnknown, time.Time{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := parsePSTime(tt.input)
			var got time.Time
			var local bool
			if err == nil {
				got, local, err = pt.resolve(tt.order)
			}
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("error %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !got.Equal(tt.want) || local != tt.wantLocal || got.Location() != time.UTC {
				t.Errorf("got %v local=%v, want %v local=%v", got, local, tt.want, tt.wantLocal)
			}
		})
	}
}

func TestPSCSVDetect(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Format
	}{
		{"tcp_type", "#TYPE Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetTCPConnection\r\n\"Caption\"\r\n", FormatPSNetTCP},
		{"udp_type", "#TYPE Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetUDPEndpoint\r\n", FormatPSNetUDP},
		{"selected_type_tcp_header", "#TYPE Selected.Microsoft.Management.Infrastructure.CimInstance\r\n\"LocalAddress\",\"LocalPort\",\"RemoteAddress\",\"RemotePort\"\r\n", FormatPSNetTCP},
		{"tcp_header_state_only", "\"LocalAddress\";\"LocalPort\";\"State\"\r\n", FormatPSNetTCP},
		{"udp_header", "\"LocalAddress\",\"LocalPort\",\"OwningProcess\"\r\n", FormatPSNetUDP},
		{"udp_header_unquoted", "LocalAddress,LocalPort,OwningProcess,CreationTime\n", FormatPSNetUDP},
		{"local_address_only", "\"LocalAddress\",\"OwningProcess\"\r\n", FormatUnknown},
		{"other_type", "#TYPE System.Diagnostics.Process\r\n\"Name\",\"Id\"\r\n", FormatUnknown},
		{"tasklist_csv", "\"Image Name\",\"PID\",\"Services\"\r\n\"svchost.exe\",\"1012\",\"RpcSs\"\r\n", FormatUnknown},
		{"tcpvcon_csv", "TCP,svchost.exe,924,LISTENING,0.0.0.0,0.0.0.0\r\n", FormatUnknown},
		{"header_not_first", "junk\r\n\"LocalAddress\",\"LocalPort\"\r\n", FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := npsClaim(t, []byte(tt.input)); got != tt.want {
				t.Errorf("claimed by %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzPSCSV(f *testing.F) {
	npsFuzzSeeds(f, "../testdata/pscsv")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > npsFuzzMax {
			return
		}
		for _, p := range []Parser{psNetTCP{}, psNetUDP{}} {
			p.Sniff(data[:min(len(data), SniffLen)])
			checkParseInvariants(t, p, data)
		}
	})
}
