package parsers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
)

const netstatDir = "../testdata/netstat"

var subtestName = regexp.MustCompile(`[^A-Za-z0-9_]+`)

func TestNetstatGolden(t *testing.T) {
	for _, path := range goldenFiles(t, netstatDir) {
		t.Run(subtestName.ReplaceAllString(filepath.Base(path), "_"), func(t *testing.T) {
			got := renderJSONL(t, path)
			golden := strings.TrimSuffix(path, filepath.Ext(path)) + ".golden.jsonl"
			checkGolden(t, got, golden)
		})
	}
}

// parseNetstat runs the parser over data and splits what it yields.
func parseNetstat(t testing.TB, data string) (sockets []*Socket, metas []*Meta, errs []*ParseError) {
	t.Helper()
	for rec, err := range (netstat{}).Parse(context.Background(), strings.NewReader(data)) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			errs = append(errs, pe)
			continue
		}
		switch rec.Kind {
		case KindSocket:
			sockets = append(sockets, rec.Socket)
		case KindMeta:
			metas = append(metas, rec.Meta)
		default:
			t.Fatalf("unexpected record kind %q", rec.Kind)
		}
	}
	return sockets, metas, errs
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(netstatDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// summaryMeta is the last Meta record: locale and variant.
func summaryMeta(metas []*Meta) Meta {
	for i := len(metas) - 1; i >= 0; i-- {
		if metas[i].Locale != "" || metas[i].Variant != "" {
			return *metas[i]
		}
	}
	return Meta{}
}

func notes(metas []*Meta) []string {
	var out []string
	for _, m := range metas {
		if m.Note != "" {
			out = append(out, m.Note)
		}
	}
	return out
}

func TestNetstatBadRows(t *testing.T) {
	sockets, metas, errs := parseNetstat(t, readTestdata(t, "handmade_bad-rows_ano_en.txt"))
	var gotLines []int
	for _, e := range errs {
		if e.Format != FormatNetstat {
			t.Errorf("error %v: format %q, want %q", e, e.Format, FormatNetstat)
		}
		if errors.Is(e, ErrTruncated) {
			t.Errorf("error %v: a terminated line is not a truncation", e)
		}
		gotLines = append(gotLines, e.Line)
	}
	if want := []int{10, 12, 14, 15, 16, 18, 20}; !slices.Equal(gotLines, want) {
		t.Errorf("error lines = %v, want %v\n%v", gotLines, want, errs)
	}
	if got, want := len(sockets), 4; got != want {
		t.Fatalf("got %d sockets, want %d", got, want)
	}
	if got, want := sockets[3].StateRaw, "LISTENNING"; got != want {
		t.Errorf("unknown state raw = %q, want %q", got, want)
	}
	// The foreign address 0.0.0.0:0 makes it a listener all the same.
	if got, want := sockets[3].State, StateListening; got != want {
		t.Errorf("unknown state with foreign 0.0.0.0:0: State = %q, want %q", got, want)
	}
	n := notes(metas)
	if len(n) != 1 || !strings.Contains(n[0], `"LISTENNING" (first at line 19, 1 row)`) {
		t.Errorf("notes = %q, want one note on the unknown state word", n)
	}
	if got, want := summaryMeta(metas), (Meta{Locale: "en", Variant: "-ano"}); got != want {
		t.Errorf("meta = %+v, want %+v", got, want)
	}
}

const enHeader = "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n"

func TestNetstatEmptyTruncatedWrong(t *testing.T) {
	tests := []struct {
		name          string
		input         string
		wantSockets   int
		wantErrLines  []int
		wantTruncated bool
	}{
		{name: "empty", input: ""},
		{name: "blank_lines", input: "\r\n\r\n   \r\n"},
		{name: "header_only", input: enHeader},
		{name: "truncated_in_port", input: enHeader +
			"  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748\r\n" +
			"  TCP    0.0.0.0:44", wantSockets: 1, wantErrLines: []int{6}, wantTruncated: true},
		{name: "truncated_in_ipv6", input: enHeader + "  UDP    [fe80::1c1:6b45", wantErrLines: []int{5}, wantTruncated: true},
		{name: "truncated_after_proto", input: enHeader + "  TCP", wantErrLines: []int{5}, wantTruncated: true},
		// A row cut after its state still reads: the PID is optional.
		{name: "truncated_before_pid", input: enHeader + "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING  ", wantSockets: 1},
		{name: "truncated_owner_block", input: enHeader + "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       924\r\n  RpcS", wantSockets: 1},
		{name: "wrong_tcpvcon_csv", input: "TCP,svchost.exe,924,LISTENING,0.0.0.0,0.0.0.0\r\nUDP,svchost.exe,4108,*,0.0.0.0,*\r\n"},
		{name: "wrong_tasklist", input: "\r\nImage Name                     PID Services\r\n========================= ======== ============================================\r\nsvchost.exe                    924 RpcEptMapper, RpcSs\r\n"},
		{name: "wrong_netsh", input: "\r\nProtocol tcp Port Exclusion Ranges\r\n\r\nStart Port    End Port\r\n----------    --------\r\n      5357        5357\r\n"},
		{name: "wrong_linux_netstat", input: "Proto Recv-Q Send-Q Local Address           Foreign Address         State\ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN\n"},
		{name: "wrong_netstat_s", input: "\r\nTCP Statistics for IPv4\r\n\r\n  Active Opens                        = 6153\r\n"},
		{name: "wrong_binary", input: "ElfFile\x00\x01\x00\x00\x00\x00\x00\x00\x00\xff\xfe\x00TCP\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sockets, _, errs := parseNetstat(t, tt.input)
			if got := len(sockets); got != tt.wantSockets {
				t.Errorf("got %d sockets, want %d", got, tt.wantSockets)
			}
			var lines []int
			for _, e := range errs {
				lines = append(lines, e.Line)
				if got := errors.Is(e, ErrTruncated); got != tt.wantTruncated {
					t.Errorf("error %v: errors.Is(ErrTruncated) = %v, want %v", e, got, tt.wantTruncated)
				}
			}
			if !slices.Equal(lines, tt.wantErrLines) {
				t.Errorf("error lines = %v, want %v (%v)", lines, tt.wantErrLines, errs)
			}
		})
	}
}

func TestNetstatRows(t *testing.T) {
	v4 := mustAddr
	tests := []struct {
		name  string
		input string
		want  Socket
	}{
		{name: "ipv4_listener", input: "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748",
			want: Socket{Proto: TCP, LocalAddr: v4("0.0.0.0"), LocalPort: 135, HasPort: true, RemoteAddr: v4("0.0.0.0"),
				State: StateListening, StateRaw: "LISTENING", PID: 748}},
		{name: "ipv6_zone_overflow", input: "  UDP    [fe80::f5d1:8bf7:c410:e325%64]:52284  *:*                                    8844",
			want: Socket{Proto: UDP, LocalAddr: mustAddr("fe80::f5d1:8bf7:c410:e325%64"), LocalPort: 52284, HasPort: true, PID: 8844}},
		{name: "udp_no_pid", input: "  UDP    0.0.0.0:123            *:*                    ",
			want: Socket{Proto: UDP, LocalAddr: v4("0.0.0.0"), LocalPort: 123, HasPort: true, PID: -1}},
		{name: "time_wait_pid_0", input: "  TCP    127.0.0.1:9222         127.0.0.1:50124        TIME_WAIT       0",
			want: Socket{Proto: TCP, LocalAddr: v4("127.0.0.1"), LocalPort: 9222, HasPort: true, RemoteAddr: v4("127.0.0.1"), RemotePort: 50124,
				State: StateTimeWait, StateRaw: "TIME_WAIT", PID: 0}},
		{name: "german_listener_ipv6", input: "  TCP    [::]:135               [::]:0                 ABHÖREN         1060",
			want: Socket{Proto: TCP, LocalAddr: mustAddr("::"), LocalPort: 135, HasPort: true, RemoteAddr: mustAddr("::"),
				State: StateListening, StateRaw: "ABHÖREN", PID: 1060}},
		{name: "german_mojibake_ascii", input: "  TCP    0.0.0.0:445            0.0.0.0:0              ABH?REN",
			want: Socket{Proto: TCP, LocalAddr: v4("0.0.0.0"), LocalPort: 445, HasPort: true, RemoteAddr: v4("0.0.0.0"),
				State: StateListening, StateRaw: "ABH?REN", PID: -1}},
		{name: "german_established", input: "  TCP    127.0.0.1:44080        127.0.0.1:49918        HERGESTELLT",
			want: Socket{Proto: TCP, LocalAddr: v4("127.0.0.1"), LocalPort: 44080, HasPort: true, RemoteAddr: v4("127.0.0.1"), RemotePort: 49918,
				State: StateEstablished, StateRaw: "HERGESTELLT", PID: -1}},
		{name: "spanish_listener", input: "  TCP    0.0.0.0:3389           0.0.0.0:0              ESCUCHANDO      1288",
			want: Socket{Proto: TCP, LocalAddr: v4("0.0.0.0"), LocalPort: 3389, HasPort: true, RemoteAddr: v4("0.0.0.0"),
				State: StateListening, StateRaw: "ESCUCHANDO", PID: 1288}},
		{name: "two_word_state", input: "  TCP    127.0.0.1:3000         0.0.0.0:0              IN ASCOLTO       31",
			want: Socket{Proto: TCP, LocalAddr: v4("127.0.0.1"), LocalPort: 3000, HasPort: true, RemoteAddr: v4("0.0.0.0"),
				State: StateListening, StateRaw: "IN ASCOLTO", PID: 31}},
		{name: "rule_beats_state_word", input: "  TCP    0.0.0.0:80             0.0.0.0:0              TIME_WAIT       4",
			want: Socket{Proto: TCP, LocalAddr: v4("0.0.0.0"), LocalPort: 80, HasPort: true, RemoteAddr: v4("0.0.0.0"),
				State: StateListening, StateRaw: "TIME_WAIT", PID: 4}},
		{name: "unknown_state_connected", input: "  TCP    10.0.0.5:80            10.0.0.9:5000          FOO_BAR         4",
			want: Socket{Proto: TCP, LocalAddr: v4("10.0.0.5"), LocalPort: 80, HasPort: true, RemoteAddr: v4("10.0.0.9"), RemotePort: 5000,
				StateRaw: "FOO_BAR", PID: 4}},
		{name: "bound_kept", input: "  TCP    0.0.0.0:49670          0.0.0.0:0              BOUND           2216",
			want: Socket{Proto: TCP, LocalAddr: v4("0.0.0.0"), LocalPort: 49670, HasPort: true, RemoteAddr: v4("0.0.0.0"),
				State: StateBound, StateRaw: "BOUND", PID: 2216}},
		{name: "host_and_service_names", input: "  TCP    pc01:2112              svr01:netbios-ssn      ESTABLISHED",
			want: Socket{Proto: TCP, LocalHost: "pc01", LocalPort: 2112, HasPort: true, RemoteHost: "svr01", RemotePort: 139,
				RemotePortName: "netbios-ssn", State: StateEstablished, StateRaw: "ESTABLISHED", PID: -1}},
		{name: "local_service_name", input: "  TCP    0.0.0.0:epmap          pc01:0                 LISTENING",
			want: Socket{Proto: TCP, LocalAddr: v4("0.0.0.0"), LocalPort: 135, HasPort: true, LocalPortName: "epmap", RemoteHost: "pc01",
				State: StateListening, StateRaw: "LISTENING", PID: -1}},
		{name: "host_zero_is_listener", input: "  TCP    0.0.0.0:5000           pc01:0                 ABHOEREN_X",
			want: Socket{Proto: TCP, LocalAddr: v4("0.0.0.0"), LocalPort: 5000, HasPort: true, RemoteHost: "pc01",
				State: StateListening, StateRaw: "ABHOEREN_X", PID: -1}},
		{name: "unknown_service_name", input: "  UDP    0.0.0.0:my-app         *:*",
			want: Socket{Proto: UDP, LocalAddr: v4("0.0.0.0"), LocalPortName: "my-app", PID: -1}},
		{name: "resolved_remote", input: "  TCP    127.0.0.1:1031         api:1032               ESTABLISHED",
			want: Socket{Proto: TCP, LocalAddr: v4("127.0.0.1"), LocalPort: 1031, HasPort: true, RemoteHost: "api", RemotePort: 1032,
				State: StateEstablished, StateRaw: "ESTABLISHED", PID: -1}},
		{name: "unindented_row", input: "TCP 10.0.0.5:3389 10.0.0.9:51515 ESTABLISHED 1060",
			want: Socket{Proto: TCP, LocalAddr: v4("10.0.0.5"), LocalPort: 3389, HasPort: true, RemoteAddr: v4("10.0.0.9"), RemotePort: 51515,
				State: StateEstablished, StateRaw: "ESTABLISHED", PID: 1060}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sockets, _, errs := parseNetstat(t, tt.input+"\r\n")
			if len(errs) > 0 || len(sockets) != 1 {
				t.Fatalf("got %d sockets, errors %v; want 1 socket", len(sockets), errs)
			}
			if got := *sockets[0]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestNetstatBadRowErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{name: "port_range", input: "  TCP    0.0.0.0:99999  0.0.0.0:0  LISTENING  4", wantErr: `local address "0.0.0.0:99999": port 99999 out of range`},
		{name: "no_state", input: "  TCP    0.0.0.0:1  1.2.3.4:5  1060", wantErr: `TCP row has no state before "1060"`},
		{name: "udp_state", input: "  UDP    0.0.0.0:500  *:*  BOGUS  9", wantErr: `UDP row has unexpected field "BOGUS"`},
		{name: "bad_ipv4", input: "  TCP    300.1.2.3:80  0.0.0.0:0  LISTENING  4", wantErr: `local address "300.1.2.3:80": bad IPv4 address "300.1.2.3"`},
		{name: "bad_ipv6", input: "  TCP    [fe80::zz]:80  [::]:0  LISTENING  4", wantErr: `bad IPv6 address "fe80::zz"`},
		{name: "no_port", input: "  TCP    0.0.0.0  0.0.0.0:0  LISTENING  4", wantErr: `local address "0.0.0.0": no port`},
		{name: "bad_foreign", input: "  TCP    0.0.0.0:80  0.0.0.0:x/y  LISTENING  4", wantErr: `foreign address "0.0.0.0:x/y": bad port "x/y"`},
		{name: "bad_pid", input: "  UDP    0.0.0.0:500  *:*  99999999999", wantErr: `bad PID "99999999999"`},
		{name: "too_many_fields", input: "  TCP    0.0.0.0:80  0.0.0.0:0  A B C D 4", wantErr: `TCP row has 4 fields after the addresses`},
		{name: "way_too_many_fields", input: "  TCP a b c d e f g h i j", wantErr: `row has too many fields`},
		{name: "bad_host", input: "  TCP    pc/01:80  0.0.0.0:0  LISTENING", wantErr: `bad host name "pc/01"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, errs := parseNetstat(t, "\r\n"+tt.input+"\r\n")
			if len(errs) != 1 {
				t.Fatalf("got errors %v, want one", errs)
			}
			if got, want := errs[0].Line, 2; got != want {
				t.Errorf("error line = %d, want %d", got, want)
			}
			if got := errs[0].Error(); !strings.Contains(got, tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", got, tt.wantErr)
			}
		})
	}
}

func TestNetstatBound(t *testing.T) {
	sockets, metas, errs := parseNetstat(t, readTestdata(t, "handmade_anoq_bound_en.txt"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var bound, listening []uint16
	for _, s := range sockets {
		switch s.State {
		case StateBound:
			bound = append(bound, s.LocalPort)
		case StateListening:
			listening = append(listening, s.LocalPort)
		}
		if s.State == StateBound && !s.Listening() {
			t.Errorf("BOUND socket %d does not hold its port", s.LocalPort)
		}
	}
	if want := []uint16{1812, 49670, 49671, 49680}; !slices.Equal(bound, want) {
		t.Errorf("BOUND ports = %v, want %v", bound, want)
	}
	if want := []uint16{135, 445, 135}; !slices.Equal(listening, want) {
		t.Errorf("LISTENING ports = %v, want %v", listening, want)
	}
	if got, want := summaryMeta(metas), (Meta{Locale: "en", Variant: "-anoq"}); got != want {
		t.Errorf("meta = %+v, want %+v", got, want)
	}
}

func TestNetstatOwnerBlock(t *testing.T) {
	sockets, metas, errs := parseNetstat(t, readTestdata(t, "handmade_anob_components_en.txt"))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	type owner struct {
		port     uint16
		proto    Proto
		pid      int
		image    string
		services []string
		owner    string
	}
	var got []owner
	for _, s := range sockets {
		got = append(got, owner{s.LocalPort, s.Proto, s.PID, s.Image, s.Services, s.Owner})
	}
	want := []owner{
		{80, TCP, 4, "", nil, "Can not obtain ownership information"},
		{135, TCP, 924, "svchost.exe", []string{"RpcEptMapper", "RpcSs"}, ""},
		{1812, TCP, 1868, "dns.exe", []string{"DNS"}, ""},
		{5357, TCP, 2210, "svchost.exe", []string{"FDResPub", "SSDPSRV", "upnphost"}, ""},
		{50123, TCP, 6012, "NVIDIA Web Helper.exe", nil, "-- unknown component(s) --"},
		{50124, TCP, 0, "", nil, ""},
		{445, TCP, 4, "", nil, "Can not obtain ownership information"},
		{500, UDP, 3100, "svchost.exe", []string{"IKEEXT"}, ""},
		{1812, UDP, 1868, "dns.exe", nil, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("owners:\n got %+v\nwant %+v", got, want)
	}
	if got, want := summaryMeta(metas), (Meta{Locale: "en", Variant: "-anob"}); got != want {
		t.Errorf("meta = %+v, want %+v", got, want)
	}
}

func TestNetstatMeta(t *testing.T) {
	row := "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748\r\n"
	tests := []struct {
		name      string
		input     string
		want      Meta
		wantNotes []string // substrings, one per note, in order
	}{
		{name: "en_ano", input: enHeader + row, want: Meta{Locale: "en", Variant: "-ano"}},
		{name: "rows_only", input: row + "  UDP    0.0.0.0:500            *:*                                    9\r\n", want: Meta{Variant: "-ano"}},
		{name: "de_states_only", input: "  TCP    10.0.0.5:80            10.0.0.9:5000          HERGESTELLT\r\n",
			want: Meta{Locale: "de", Variant: "-n"}, wantNotes: []string{"without -a"}},
		{name: "de_mojibake", input: "Aktive Verbindungen\r\n\r\n  Proto  Lokale Adresse         Remoteadresse          Status\r\n" +
			"  TCP    0.0.0.0:102            0.0.0.0:0              ABH™REN\r\n",
			want: Meta{Locale: "de", Variant: "-an"}, wantNotes: []string{`state "ABH™REN" read as ABHÖREN`}},
		{name: "fr", input: "\r\nConnexions actives\r\n\r\n  Proto  Adresse locale         Adresse distante       État\r\n" + row,
			want: Meta{Locale: "fr", Variant: "-ano"}},
		{name: "zh", input: "\r\n活动连接\r\n\r\n  协议  本地地址          外部地址        状态           PID\r\n" + row,
			want: Meta{Locale: "zh", Variant: "-ano"}},
		{name: "es", input: "\nConexiones activas\n\n  Proto  Dirección local          Dirección remota        Estado           PID\n" +
			"  TCP    0.0.0.0:135            0.0.0.0:0              ESCUCHANDO       1044\n", want: Meta{Locale: "es", Variant: "-ano"}},
		{name: "plain_netstat", input: enHeader + "  TCP    127.0.0.1:1031         api:1032               ESTABLISHED\r\n",
			want: Meta{Locale: "en"}, wantNotes: []string{"without -a"}},
		{name: "a_names", input: "  TCP    0.0.0.0:epmap          pc01:0                 LISTENING\r\n", want: Meta{Variant: "-a"}},
		{name: "elevation", input: enHeader + row + "\r\nThe requested operation requires elevation.\r\n",
			want: Meta{Locale: "en", Variant: "-ano"}, wantNotes: []string{"without elevation"}},
		{name: "elevation_de", input: "Der angeforderte Vorgang erfordert erhöhte Rechte.\r\n", wantNotes: []string{"without elevation"}},
		{name: "unknown_states", input: row + "  TCP    10.0.0.5:80            10.0.0.9:5000          FOO\r\n" +
			"  TCP    10.0.0.5:81            10.0.0.9:5001          FOO\r\n  TCP    10.0.0.5:82            10.0.0.9:5002          BAR\r\n",
			want: Meta{Variant: "-ano"}, wantNotes: []string{`"FOO" (first at line 2, 2 rows), "BAR" (first at line 4, 1 row)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, metas, errs := parseNetstat(t, tt.input)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if got := summaryMeta(metas); got != tt.want {
				t.Errorf("meta = %+v, want %+v", got, tt.want)
			}
			got := notes(metas)
			if len(got) != len(tt.wantNotes) {
				t.Fatalf("notes = %q, want %d", got, len(tt.wantNotes))
			}
			for i, w := range tt.wantNotes {
				if !strings.Contains(got[i], w) {
					t.Errorf("note %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

// readAll reads data through Read (detection and decoding included).
func readAll(t *testing.T, data []byte) (*Artifact, []Record) {
	t.Helper()
	a, seq := Read(context.Background(), "test", bytes.NewReader(data), "")
	var recs []Record
	for rec, err := range seq {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		recs = append(recs, rec)
	}
	return a, recs
}

func encodeWith(t *testing.T, data []byte, enc interface{ Bytes([]byte) ([]byte, error) }) []byte {
	t.Helper()
	out, err := enc.Bytes(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNetstatEncodings(t *testing.T) {
	utf16 := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM)
	tests := []struct {
		name    string
		file    string
		encode  func(t *testing.T, b []byte) []byte
		wantEnc Encoding
	}{
		{name: "utf16le_bom_en", file: "netstat_win10_jc_netstat-aonb.txt", wantEnc: EncUTF16LEBOM,
			encode: func(t *testing.T, b []byte) []byte { return encodeWith(t, b, utf16.NewEncoder()) }},
		{name: "utf16le_bom_fr", file: "netstat_anb_fr_win10_danyGhassan.txt", wantEnc: EncUTF16LEBOM,
			encode: func(t *testing.T, b []byte) []byte { return encodeWith(t, b, utf16.NewEncoder()) }},
		// ASCII in CP850 is ASCII, and reads as UTF-8.
		{name: "cp850_en", file: "netstat_win10_jc_netstat-aon.txt", wantEnc: EncUTF8,
			encode: func(t *testing.T, b []byte) []byte { return encodeWith(t, b, charmap.CodePage850.NewEncoder()) }},
		{name: "cp850_fr", file: "netstat_ano_fr_win10_student-tp1.txt", wantEnc: EncCP850,
			encode: func(t *testing.T, b []byte) []byte { return encodeWith(t, b, charmap.CodePage850.NewEncoder()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := []byte(readTestdata(t, tt.file))
			_, want := readAll(t, orig)
			a, got := readAll(t, tt.encode(t, orig))
			if a.Encoding != tt.wantEnc {
				t.Errorf("encoding = %q, want %q", a.Encoding, tt.wantEnc)
			}
			if a.Format != FormatNetstat {
				t.Fatalf("format = %q, want netstat", a.Format)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("records differ from the UTF-8 original (%d vs %d records)", len(got), len(want))
			}
		})
	}

	// The German capture as German cmd writes it: ABHÖREN in CP850.
	t.Run("cp850_de", func(t *testing.T) {
		text := strings.ReplaceAll(readTestdata(t, "netstat_an_de_cp850-mojibake_kilian-blog.txt"), "ABH™REN", "ABHÖREN")
		data := encodeWith(t, []byte(text), charmap.CodePage850.NewEncoder())
		if !bytes.Contains(data, []byte("ABH\x99REN")) {
			t.Fatal("ABHÖREN is not 0x99 in CP850")
		}
		if got, want := DetectEncoding(data), EncCP850; got != want {
			t.Errorf("DetectEncoding = %q, want %q", got, want)
		}
		a, recs := readAll(t, data)
		if a.Encoding != EncCP850 || a.Format != FormatNetstat || a.Locale != "de" || a.Variant != "-an" {
			t.Errorf("artifact = %s %s %s %s, want cp850 netstat de -an", a.Encoding, a.Format, a.Locale, a.Variant)
		}
		var sockets, abhoeren, listeners int
		for _, r := range recs {
			if r.Kind != KindSocket {
				continue
			}
			sockets++
			if r.Socket.StateRaw == "ABHÖREN" {
				abhoeren++
				if r.Socket.State == StateListening && r.Socket.Listening() {
					listeners++
				}
			}
		}
		if sockets != 98 || abhoeren != 20 || listeners != 20 {
			t.Errorf("sockets, ABHÖREN rows, listeners = %d, %d, %d; want 98, 20, 20", sockets, abhoeren, listeners)
		}
		if len(a.Notes) != 0 {
			t.Errorf("notes = %q, want none for clean CP850", a.Notes)
		}
	})
}

func TestNetstatDetect(t *testing.T) {
	utf16 := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewEncoder()
	rowsOnly := "  TCP    0.0.0.0:3101           0.0.0.0:0              LISTENING       1868\r\n"
	u16, err := utf16.Bytes([]byte(enHeader + rowsOnly))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input []byte
		want  bool // detected as netstat
	}{
		{name: "findstr_rows_only", input: []byte(rowsOnly), want: true},
		{name: "udp_only", input: []byte("  UDP    0.0.0.0:1812           *:*                                    1868\r\n"), want: true},
		{name: "utf16le_bom", input: u16, want: true},
		{name: "zh_header", input: []byte("\r\n活动连接\r\n\r\n  协议  本地地址          外部地址        状态           PID\r\n" + rowsOnly), want: true},
		{name: "after_banner", input: []byte(strings.Repeat("collected by script v1\r\n", 100) + rowsOnly), want: true},
		{name: "empty", input: nil},
		{name: "header_only", input: []byte(enHeader)},
		{name: "tcpvcon_csv", input: []byte("TCP,svchost.exe,924,LISTENING,0.0.0.0,0.0.0.0\r\nUDP,svchost.exe,4108,*,0.0.0.0,*\r\nTCPV6,svchost.exe,924,LISTENING,[0:0:0:0:0:0:0:0],[0:0:0:0:0:0:0:0]\r\n")},
		{name: "tcpvcon_csv_ports", input: []byte("TCP,svchost.exe,924,LISTENING,0.0.0.0:135,0.0.0.0:0\r\n")},
		{name: "tasklist", input: []byte("\r\nImage Name                     PID Services\r\n========================= ======== ============================================\r\nsvchost.exe                    924 RpcEptMapper, RpcSs\r\n")},
		{name: "netsh_excluded", input: []byte("\r\nProtocol tcp Port Exclusion Ranges\r\n\r\nStart Port    End Port\r\n----------    --------\r\n      5357        5357\r\n     50000       50059     *\r\n")},
		{name: "netsh_dynamic", input: []byte("\r\nProtocol tcp Dynamic Port Range\r\n---------------------------------\r\nStart Port      : 49152\r\nNumber of Ports : 16384\r\n")},
		{name: "ps_csv", input: []byte("\"LocalAddress\",\"LocalPort\",\"RemoteAddress\",\"RemotePort\",\"State\",\"OwningProcess\"\r\n\"0.0.0.0\",\"135\",\"0.0.0.0\",\"0\",\"Listen\",\"924\"\r\n")},
		{name: "linux_netstat", input: []byte("tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN\n")},
		{name: "netstat_s", input: []byte("TCP Statistics for IPv4\r\n\r\n  Active Opens                        = 6153\r\n")},
		{name: "tcp_word_in_prose", input: []byte("TCP is a protocol: see RFC 793 for details\n")},
	}
	for _, path := range goldenFiles(t, netstatDir) {
		if strings.HasPrefix(filepath.Base(path), "handmade_bad-rows") {
			continue // also detected, but kept for the error test
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name  string
			input []byte
			want  bool
		}{name: subtestName.ReplaceAllString(filepath.Base(path), "_"), input: b, want: true})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := tt.input
			if len(head) > rawHeadLen {
				head = head[:rawHeadLen]
			}
			p, _, err := Detect(head)
			got := err == nil && p.Format() == FormatNetstat
			if got != tt.want {
				t.Errorf("detected as netstat = %v (parser %v, err %v), want %v", got, p, err, tt.want)
			}
		})
	}
}

// TestNetstatSniffCorpus checks every text sample of the shared corpus (when
// present) and of the other formats' testdata: only netstat files are claimed.
func TestNetstatSniffCorpus(t *testing.T) {
	var files []string
	dir := filepath.Join(corpusDir(t), "text")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files = append(files, filepath.Join(dir, e.Name()))
	}
	others, _ := filepath.Glob("../testdata/*/*")
	for _, f := range others {
		if filepath.Base(filepath.Dir(f)) != "netstat" && !strings.HasSuffix(f, ".golden.jsonl") && !strings.HasSuffix(f, ".md") {
			files = append(files, f)
		}
	}
	t.Logf("checking %d files", len(files))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // a directory
		}
		head := data[:min(len(data), rawHeadLen)]
		got := netstat{}.Sniff(decodeHead(head, DetectEncoding(head)))
		want := strings.HasPrefix(filepath.Base(path), "netstat_") && filepath.Base(filepath.Dir(path)) == "text"
		if got != want {
			t.Errorf("%s: Sniff = %v, want %v", path, got, want)
		}
	}
}

func TestNetstatStops(t *testing.T) {
	data := readTestdata(t, "netstat_win10_jc_netstat-aonb.txt")
	n := 0
	for range (netstat{}).Parse(context.Background(), strings.NewReader(data)) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("got %d records before stopping, want 3", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var recs, errs int
	for _, err := range (netstat{}).Parse(ctx, strings.NewReader(data)) {
		if err != nil {
			errs++
			var pe *ParseError
			if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) || pe.Line <= 0 {
				t.Errorf("error %v: want a *ParseError with a line wrapping context.Canceled", err)
			}
			continue
		}
		recs++
		cancel()
	}
	if recs != 1 || errs != 1 {
		t.Errorf("after cancel: %d records, %d errors; want 1, 1", recs, errs)
	}
}

func FuzzNetstat(f *testing.F) {
	for _, path := range goldenFiles(f, netstatDir) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("  TCP    [fe80::1%7]:445  [::]:0  ABH\x99REN  4\r\n  RpcSs\r\n [x.exe]\r\n  UDP  *:*  *:*  \r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip()
		}
		p := netstat{}
		p.Sniff(data)
		checkParseInvariants(t, p, data)
		for rec, err := range p.Parse(context.Background(), bytes.NewReader(data)) {
			if err != nil || rec.Kind != KindSocket {
				continue
			}
			s := rec.Socket
			if rec.Line <= 0 || (s.Proto != TCP && s.Proto != UDP) || s.PID < -1 {
				t.Fatalf("bad socket record %+v line %d", s, rec.Line)
			}
			if s.Proto == TCP && s.StateRaw == "" || s.Proto == UDP && s.State != "" {
				t.Fatalf("bad state %q/%q for %s", s.State, s.StateRaw, s.Proto)
			}
		}
	})
}

func TestNetstatSniffAllocs(t *testing.T) {
	head := []byte(readTestdata(t, "netstat_win10_jc_netstat-aonb.txt")[:SniffLen])
	if n := testing.AllocsPerRun(100, func() { netstat{}.Sniff(head) }); n != 0 {
		t.Errorf("Sniff allocates %v times, want 0", n)
	}
}

func TestNetstatReadError(t *testing.T) {
	boom := errors.New("disk gone")
	r := io.MultiReader(strings.NewReader(enHeader+"  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748\r\n"), iotest.ErrReader(boom))
	var recs int
	var errs []error
	for rec, err := range (netstat{}).Parse(context.Background(), r) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rec.Kind == KindSocket {
			recs++
		}
	}
	var pe *ParseError
	if recs != 1 || len(errs) != 1 || !errors.Is(errs[0], boom) || !errors.As(errs[0], &pe) || pe.Line != 6 {
		t.Errorf("got %d sockets, errors %v; want 1 socket and a ParseError at line 6 wrapping the read error", recs, errs)
	}
}
