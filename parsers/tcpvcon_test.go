package parsers

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestTcpvconGolden(t *testing.T) {
	for _, path := range goldenFiles(t, "../testdata/tcpvcon") {
		t.Run(tasktcpName(path), func(t *testing.T) {
			checkGolden(t, renderJSONL(t, path), tasktcpGolden(path))
		})
	}
}

// TestTcpvconRealSample checks the 4.x capture against facts counted by
// hand: 19 rows, no ports, one note.
func TestTcpvconRealSample(t *testing.T) {
	data, err := os.ReadFile("../testdata/tcpvcon/tcpvcon_a_c_n_csv_win10_vbnet-comment.csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := tasktcpParse(t, tcpvcon{}, string(data))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got, want := tasktcpCount(recs, KindSocket), 19; got != want {
		t.Errorf("sockets = %d, want %d", got, want)
	}
	m := recs[0].Meta
	if recs[0].Kind != KindMeta || m.Variant != "csv" || !strings.Contains(m.Note, "no port columns") {
		t.Errorf("first record = %+v, want the csv Meta with the no-port note", m)
	}
	if got, want := tasktcpCount(recs, KindMeta), 1; got != want {
		t.Errorf("metas = %d, want %d", got, want)
	}
	var udp, v6 int
	for _, r := range recs {
		s := r.Socket
		if s == nil {
			continue
		}
		if s.HasPort || s.LocalPort != 0 {
			t.Errorf("line %d: a port in a 4.x capture: %+v", r.Line, s)
		}
		if s.Proto == UDP {
			udp++
			if s.State != "" || s.StateRaw != "*" || s.RemoteAddr.IsValid() {
				t.Errorf("line %d: UDP row %+v", r.Line, s)
			}
		}
		if s.LocalAddr.Is6() {
			v6++
			if s.LocalAddr != netip.IPv6Unspecified() {
				t.Errorf("line %d: local %v, want ::", r.Line, s.LocalAddr)
			}
		}
	}
	if udp != 3 || v6 != 2 {
		t.Errorf("udp = %d, v6 = %d, want 3 and 2", udp, v6)
	}
}

func TestTcpvconBadLines(t *testing.T) {
	data, err := os.ReadFile("../testdata/tcpvcon/synthetic_bad_lines.csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := tasktcpParse(t, tcpvcon{}, string(data))
	if got, want := tasktcpErrLines(errs), []int{2, 3, 4, 5, 6, 10}; !reflect.DeepEqual(got, want) {
		t.Errorf("error lines = %v, want %v (%v)", got, want, errs)
	}
	var images []string
	for _, r := range recs {
		if r.Kind == KindSocket {
			images = append(images, r.Socket.Image)
		}
	}
	if want := []string{"svchost.exe", "svchost.exe", "My, Odd App.exe"}; !reflect.DeepEqual(images, want) {
		t.Errorf("images = %q, want %q", images, want)
	}
}

func TestTcpvconEdgeCases(t *testing.T) {
	real, err := os.ReadFile("../testdata/tcpvcon/tcpvcon_a_c_n_csv_win10_vbnet-comment.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside line 5 ("TCP,lsass.exe,852,LISTENING,0.0.0.0,0.0.0.0").
	cut := string(real[:bytes.Index(real, []byte("TCP,lsass.exe,852,"))+len("TCP,lsass.exe,852,")])
	tests := []struct {
		name         string
		input        string
		wantSockets  int
		wantErrLines []int
		wantErr      string
	}{
		{name: "empty", input: ""},
		{name: "banner_only", input: "\r\nTCPView v4.19\r\nCopyright (C) Mark Russinovich\r\nSysinternals - www.sysinternals.com\r\n\r\n", wantErrLines: []int{1}, wantErr: "no tcpvcon rows"},
		{name: "truncated_csv", input: cut, wantSockets: 4, wantErrLines: []int{5}, wantErr: "4 fields"},
		{name: "truncated_proto_only", input: "TCP,svchost.exe,924,LISTENING,0.0.0.0,0.0.0.0\nTC", wantSockets: 1},
		{name: "truncated_proto", input: "TCP,svchost.exe,924,LISTENING,0.0.0.0,0.0.0.0\nTCP", wantSockets: 1, wantErrLines: []int{2}, wantErr: "1 fields"},
		{name: "truncated_block", input: "[TCP] svchost.exe\r\n     PID:    924\r\n   State:    LISTENING\r\n", wantErrLines: []int{1}, wantErr: "no Local line"},
		{name: "block_bad_line", input: "[UDP] dns.exe\n PID: 1876\n garbage line\n Local: 0.0.0.0:53\n", wantSockets: 1, wantErrLines: []int{3}, wantErr: "not a Label"},
		{name: "block_unknown_field", input: "[UDP] dns.exe\n PID: 1876\n Colour: red\n Local: 0.0.0.0:53\n", wantSockets: 1, wantErrLines: []int{3}, wantErr: "unknown field"},
		{name: "block_then_csv_row", input: "[UDP] dns.exe\n PID: 1876\n Local: 0.0.0.0:53\nTCP,svchost.exe,924,LISTENING,0.0.0.0:135,0.0.0.0:0\n", wantSockets: 2},
		{name: "wrong_format_netstat", input: "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748\r\n", wantErrLines: []int{1}, wantErr: "no tcpvcon rows"},
		{name: "wrong_format_tasklist_csv", input: "\"Image Name\",\"PID\",\"Services\"\r\n\"System Idle Process\",\"0\",\"N/A\"\r\n", wantErrLines: []int{1}, wantErr: "no tcpvcon rows"},
		{name: "wrong_format_after_rows", input: "TCP,svchost.exe,924,LISTENING,0.0.0.0,0.0.0.0\n\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"\n", wantSockets: 1, wantErrLines: []int{2}, wantErr: "unknown protocol"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := tasktcpParse(t, tcpvcon{}, tt.input)
			if got, want := tasktcpCount(recs, KindSocket), tt.wantSockets; got != want {
				t.Errorf("sockets = %d, want %d", got, want)
			}
			if got, want := tasktcpErrLines(errs), tt.wantErrLines; !reflect.DeepEqual(got, want) {
				t.Errorf("error lines = %v, want %v (%v)", got, want, errs)
			}
			if tt.wantErr != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.wantErr)) {
				t.Errorf("errors = %v, want one containing %q", errs, tt.wantErr)
			}
		})
	}
}

func TestTcpvconEndpoint(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		proto   Proto
		want    tcpvconEndpoint
		wantErr bool
	}{
		{name: "v4_no_port", input: "0.0.0.0", proto: TCP, want: tcpvconEndpoint{addr: netip.MustParseAddr("0.0.0.0")}},
		{name: "v6_expanded_no_port", input: "[0:0:0:0:0:0:0:0]", proto: TCP, want: tcpvconEndpoint{addr: netip.IPv6Unspecified()}},
		{name: "v4_port", input: "10.0.0.5:445", proto: TCP, want: tcpvconEndpoint{addr: netip.MustParseAddr("10.0.0.5"), port: 445, hasPort: true}},
		{name: "v6_port_zone", input: "[fe80:0:0:0:1:2:3:4%11]:1900", proto: UDP, want: tcpvconEndpoint{addr: netip.MustParseAddr("fe80::1:2:3:4%11"), port: 1900, hasPort: true}},
		{name: "host_port_name", input: "WIN-SRV01:netbios-ssn", proto: TCP, want: tcpvconEndpoint{host: "WIN-SRV01", port: 139, hasPort: true, portName: "netbios-ssn"}},
		{name: "host_unknown_port_name", input: "srv:myapp", proto: TCP, want: tcpvconEndpoint{host: "srv", portName: "myapp"}},
		{name: "host_only", input: "WIN-SRV01", proto: TCP, want: tcpvconEndpoint{host: "WIN-SRV01"}},
		{name: "udp_star", input: "*", proto: UDP, want: tcpvconEndpoint{wildcard: true}},
		{name: "udp_star_star", input: "*:*", proto: UDP, want: tcpvconEndpoint{wildcard: true}},
		{name: "bare_v6", input: "fe80::1", proto: TCP, want: tcpvconEndpoint{addr: netip.MustParseAddr("fe80::1")}},
		{name: "port_too_big", input: "10.0.0.5:70000", proto: TCP, wantErr: true},
		{name: "unclosed_bracket", input: "[::1", proto: TCP, wantErr: true},
		{name: "bad_bracketed", input: "[not-an-ip]:80", proto: TCP, wantErr: true},
		{name: "text_after_bracket", input: "[::1]x", proto: TCP, wantErr: true},
		{name: "empty_port", input: "10.0.0.5:", proto: TCP, want: tcpvconEndpoint{addr: netip.MustParseAddr("10.0.0.5")}},
		{name: "bad_many_colons", input: "a:b:c", proto: TCP, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTcpvconEndpoint(tt.input, tt.proto)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTcpvconState(t *testing.T) {
	tests := []struct {
		raw  string
		want string
	}{
		{"LISTENING", StateListening}, {"LISTEN", StateListening}, {"Listening", StateListening},
		{"Listen", StateListening}, {"ESTABLISHED", StateEstablished}, {"Established", StateEstablished},
		{"TIME_WAIT", StateTimeWait}, {"Time Wait", StateTimeWait}, {"TimeWait", StateTimeWait},
		{"CLOSE_WAIT", StateCloseWait}, {"SYN_SENT", StateSynSent}, {"SYN_RCVD", StateSynReceived},
		{"SYN_RECEIVED", StateSynReceived}, {"FIN_WAIT_1", StateFinWait1}, {"FIN_WAIT2", StateFinWait2},
		{"LAST_ACK", StateLastAck}, {"CLOSING", StateClosing}, {"CLOSED", StateClosed},
		{"Bound", StateBound}, {"DELETE_TCB", StateDeleteTCB}, {"LISTENNING", ""}, {"*", ""},
	}
	for _, tt := range tests {
		t.Run(tasktcpName(tt.raw), func(t *testing.T) {
			got, ok := tcpvconState(tt.raw)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("tcpvconState(%q) = %q, %v, want %q", tt.raw, got, ok, tt.want)
			}
		})
	}
}

func TestTcpvconStopsWhenYieldReturnsFalse(t *testing.T) {
	data, err := os.ReadFile("../testdata/tcpvcon/synthetic_text_blocks.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range (tcpvcon{}).Parse(context.Background(), bytes.NewReader(data)) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("got %d records, want 2", n)
	}
}

func FuzzTcpvcon(f *testing.F) {
	for _, path := range goldenFiles(f, "../testdata/tcpvcon") {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip("over the size cap")
		}
		checkParseInvariants(t, tcpvcon{}, data)
		tcpvcon{}.Sniff(data[:min(len(data), SniffLen)])
	})
}
