package parsers

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// npsSubtest names a subtest after a testdata file.
func npsSubtest(path string) string {
	return regexp.MustCompile(`[^A-Za-z0-9_]`).ReplaceAllString(filepath.Base(path), "_")
}

// npsGolden checks every testdata file of dir against its golden file.
func npsGolden(t *testing.T, dir string) {
	for _, path := range goldenFiles(t, dir) {
		t.Run(npsSubtest(path), func(t *testing.T) {
			got := renderJSONL(t, path)
			checkGolden(t, got, strings.TrimSuffix(path, filepath.Ext(path))+".golden.jsonl")
		})
	}
}

// npsCollect parses data (already UTF-8) with p.
func npsCollect(t *testing.T, p Parser, data []byte) (recs []Record, errs []*ParseError) {
	t.Helper()
	return collect(t, p, bytes.NewReader(data))
}

// npsDecoded reads a testdata file and decodes it as Read would.
func npsDecoded(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(Decoder(bytes.NewReader(raw), DetectEncoding(raw))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func npsErrLines(errs []*ParseError) []int {
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	return lines
}

func npsEqualInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// npsParsers are the parsers of netsh.go, pscsv.go and servicesfile.go.
var npsParsers = []Parser{psNetTCP{}, psNetUDP{}, netshExcluded{}, netshDynamic{}, servicesFile{}}

func TestNetshGolden(t *testing.T) { npsGolden(t, "../testdata/netsh") }

func TestNetshBadLines(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		p         Parser
		wantLines []int
		wantRecs  int
	}{
		{"excluded_badrows", "synthetic_excluded_badrows.txt", netshExcluded{}, []int{7, 8, 9, 10, 11}, 2},
		{"excluded_truncated", "synthetic_excluded_truncated.txt", netshExcluded{}, []int{8}, 2},
		{"dynamic_badblocks", "synthetic_dynamic_badblocks.txt", netshDynamic{}, []int{4, 10, 15, 19, 23}, 1},
		{"dynamic_truncated", "synthetic_dynamic_truncated.txt", netshDynamic{}, []int{4}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := npsCollect(t, tt.p, npsDecoded(t, filepath.Join("../testdata/netsh", tt.file)))
			if got := npsErrLines(errs); !npsEqualInts(got, tt.wantLines) {
				t.Errorf("error lines = %v, want %v (%v)", got, tt.wantLines, errs)
			}
			if got, want := len(recs), tt.wantRecs; got != want {
				t.Errorf("%d records, want %d", got, want)
			}
			for _, e := range errs {
				if e.Format != tt.p.Format() {
					t.Errorf("error %v has format %q, want %q", e, e.Format, tt.p.Format())
				}
			}
		})
	}
}

func TestNetshCases(t *testing.T) {
	tests := []struct {
		name      string
		p         Parser
		input     string
		want      []PortRange
		wantLines []int // lines of the ParseErrors
		wantTrunc bool  // the last error wraps ErrTruncated
	}{
		{name: "excluded_empty_input", p: netshExcluded{}, input: ""},
		{name: "dynamic_empty_input", p: netshDynamic{}, input: ""},
		{name: "excluded_only_title", p: netshExcluded{}, input: "\r\nProtocol udp Port Exclusion Ranges\r\n"},
		{
			name:  "excluded_rows_without_title",
			p:     netshExcluded{},
			input: "  1024  1123\n  50000  50059  *  \n",
			want: []PortRange{
				{Kind: "excluded", Start: 1024, End: 1123},
				{Kind: "excluded", Start: 50000, End: 50059, Administered: true},
			},
		},
		{
			name:  "excluded_udp_title_es",
			p:     netshExcluded{},
			input: "Rangos de exclusión de puertos para udp\n\nPuerto inicial    Puerto final\n--------------    ------------\n      3702          3702\n",
			want:  []PortRange{{Kind: "excluded", Proto: UDP, Start: 3702, End: 3702}},
		},
		{
			name:  "excluded_tcp_then_udp",
			p:     netshExcluded{},
			input: "Protocol tcp Port Exclusion Ranges\n----    ----\n 1 2\nProtocol udp Port Exclusion Ranges\n----    ----\n 3 4 *\n",
			want: []PortRange{
				{Kind: "excluded", Proto: TCP, Start: 1, End: 2},
				{Kind: "excluded", Proto: UDP, Start: 3, End: 4, Administered: true},
			},
		},
		{
			name:  "excluded_whole_range",
			p:     netshExcluded{},
			input: "0 65535\n",
			want:  []PortRange{{Kind: "excluded", Start: 0, End: 65535}},
		},
		{name: "excluded_huge_number", p: netshExcluded{}, input: "1 99999999999999999999999\n", wantLines: []int{1}},
		{name: "excluded_star_first", p: netshExcluded{}, input: "----   ----\n1024 * 1123\n", wantLines: []int{2}},
		{
			name:  "dynamic_fullwidth_colon",
			p:     netshDynamic{},
			input: "协议 udp 动态端口范围\n-----\n启动端口：1025\n端口数：3976\n",
			want:  []PortRange{{Kind: "dynamic", Proto: UDP, Start: 1025, End: 5000}},
		},
		{
			name:  "dynamic_whole_range",
			p:     netshDynamic{},
			input: "-----\nStart Port : 0\nNumber of Ports : 65536\n",
			want:  []PortRange{{Kind: "dynamic", Start: 0, End: 65535}},
		},
		{name: "dynamic_one_too_many", p: netshDynamic{}, input: "-----\nStart Port : 1\nNumber of Ports : 65536\n", wantLines: []int{3}},
		{name: "dynamic_after_dashes_eof", p: netshDynamic{}, input: "Protocol tcp Dynamic Port Range\n-----\n", wantLines: []int{2}, wantTrunc: true},
		{name: "dynamic_start_then_eof", p: netshDynamic{}, input: "-----\nStart Port : 49152", wantLines: []int{2}, wantTrunc: true},
		{
			name:  "dynamic_label_ints_outside_block_are_text",
			p:     netshDynamic{},
			input: "Host : 12\nRun : 3\n",
		},
		{
			name:  "dynamic_ipv6_from_command_echo",
			p:     netshDynamic{},
			input: "C:\\> netsh int ipv6 show dynamicport udp\nProtocol udp Dynamic Port Range\n-----\nA : 49152\nB : 16384\n",
			want:  []PortRange{{Kind: "dynamic", Proto: UDP, IPVersion: "ipv6", Start: 49152, End: 65535}},
		},
		{
			name:  "title_naming_both_protocols_keeps_none",
			p:     netshExcluded{},
			input: "tcp and udp\n----  ----\n1 2\n",
			want:  []PortRange{{Kind: "excluded", Start: 1, End: 2}},
		},
		{name: "wrong_format_netstat", p: netshExcluded{}, input: "\nActive Connections\n\n  Proto  Local Address          Foreign Address        State\n  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING\n"},
		{name: "long_line", p: netshExcluded{}, input: "1 2\n" + strings.Repeat("x", maxLine+10) + "\n3 4\n", want: []PortRange{{Kind: "excluded", Start: 1, End: 2}, {Kind: "excluded", Start: 3, End: 4}}, wantLines: []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := npsCollect(t, tt.p, []byte(tt.input))
			var got []PortRange
			for _, r := range recs {
				if r.Kind != KindPortRange || r.PortRange == nil || r.Line <= 0 {
					t.Fatalf("record %+v is not a port range with a line", r)
				}
				got = append(got, *r.PortRange)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("range %d = %+v, want %+v", i, got[i], tt.want[i])
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

// TestNPSStopAndCancel checks that every parser of this group stops when
// yield returns false and reports a cancelled context as a ParseError.
func TestNPSStopAndCancel(t *testing.T) {
	inputs := map[Format]string{
		FormatNetshExcluded: "../testdata/netsh/netsh_excludedportrange_tcp_blog-docker-5001.txt",
		FormatNetshDynamic:  "../testdata/netsh/synthetic_dynamic_tcp_udp_ipv6_utf16le.txt",
		FormatPSNetTCP:      "../testdata/pscsv/synthetic_nettcp_full_type_en-us.csv",
		FormatPSNetUDP:      "../testdata/pscsv/synthetic_netudp_full_type_en-us.csv",
		FormatServices:      "../testdata/services/synthetic_services_windows_excerpt.txt",
	}
	for _, p := range npsParsers {
		t.Run(npsSubtest(string(p.Format())), func(t *testing.T) {
			data := npsDecoded(t, inputs[p.Format()])
			n := 0
			for range p.Parse(context.Background(), bytes.NewReader(data)) {
				n++
				break
			}
			if n != 1 {
				t.Errorf("got %d items before break, want 1", n)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var errs []error
			for rec, err := range p.Parse(ctx, bytes.NewReader(data)) {
				if err == nil {
					t.Fatalf("record %+v after cancel", rec)
				}
				errs = append(errs, err)
			}
			var pe *ParseError
			if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) || !errors.As(errs[0], &pe) || pe.Line <= 0 {
				t.Errorf("errors after cancel = %v, want one ParseError wrapping context.Canceled", errs)
			}
		})
	}
}

func TestNetshDetect(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Format // FormatUnknown: none of this group claims it
	}{
		{"excluded_en", "\r\nProtocol tcp Port Exclusion Ranges\r\n\r\nStart Port    End Port\r\n----------    --------\r\n      5357        5357\r\n", FormatNetshExcluded},
		{"excluded_empty_table", "Protocol udp Port Exclusion Ranges\n\nStart Port    End Port\n----------    --------\n\n* - Administered port exclusions.\n", FormatNetshExcluded},
		{"excluded_banner_before", "== collected 2026-11-25 08:00 ==\nnetsh int ipv4 show excludedportrange protocol=tcp\n\nProtocol tcp Port Exclusion Ranges\n\n開始    結束\n------  ------\n  80  80  *\n", FormatNetshExcluded},
		{"dynamic_en", "\nProtocol tcp Dynamic Port Range\n---------------------------------\nStart Port      : 49152\nNumber of Ports : 16384\n", FormatNetshDynamic},
		{"dynamic_fr", "\nPlage de ports dynamique du protocole tcp\n---------------------------------\nPort de démarrage   : 49152\nNombre de ports     : 16384\n", FormatNetshDynamic},
		{"dynamic_zh", "\n协议 tcp 动态端口范围\n---------------------------------\n启动端口        : 1024\n端口数          : 13977\n", FormatNetshDynamic},
		{"dynamic_one_value_only", "\nProtocol tcp Dynamic Port Range\n---------------------------------\nStart Port      : 49152\n", FormatUnknown},
		{"excluded_rule_then_text", "Name    Value\n----    -----\nfoo     bar\n", FormatUnknown},
		{"dashes_then_text_colon", "Title\n-----\nHost : srv01\nUser : admin\n", FormatUnknown},
		{"rows_without_rule", "  1024  1123\n  5357  5357\n", FormatUnknown},
		{"empty", "", FormatUnknown},
		{"netstat", "\nActive Connections\n\n  Proto  Local Address          Foreign Address        State\n  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING\n", FormatUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := npsClaim(t, []byte(tt.input)); got != tt.want {
				t.Errorf("claimed by %q, want %q", got, tt.want)
			}
		})
	}
}

// npsClaim runs the sniffers of this group over a raw input as Detect
// would and returns the one format that claims it (FormatUnknown for none);
// two claims fail the test.
func npsClaim(t *testing.T, raw []byte) Format {
	t.Helper()
	head := raw[:min(len(raw), rawHeadLen)]
	text := decodeHead(head, DetectEncoding(head))
	got := FormatUnknown
	for _, p := range npsParsers {
		if p.Sniff(text) {
			if got != FormatUnknown {
				t.Fatalf("claimed by both %q and %q", got, p.Format())
			}
			got = p.Format()
		}
	}
	return got
}

// TestNPSSniffFiles checks the sniffers of this group on every file of the
// shared corpus and of their testdata folders: each file is claimed by the
// format it is, and by no other.
func TestNPSSniffFiles(t *testing.T) {
	want := func(name string) Format {
		switch {
		case strings.HasPrefix(name, "netsh_excludedportrange"), strings.HasPrefix(name, "synthetic_excluded"),
			strings.HasPrefix(name, "synthetic_mixed_excluded"):
			return FormatNetshExcluded
		case strings.HasPrefix(name, "netsh_dynamicport"), strings.HasPrefix(name, "synthetic_dynamic"):
			return FormatNetshDynamic
		case strings.HasPrefix(name, "synthetic_nettcp"):
			return FormatPSNetTCP
		case strings.HasPrefix(name, "synthetic_netudp"):
			return FormatPSNetUDP
		case strings.HasPrefix(name, "synthetic_services"):
			return FormatServices
		}
		return FormatUnknown
	}
	var files []string
	corpus := corpusGlob(t, "text/*")
	files = append(files, corpus...)
	for _, dir := range []string{"../testdata/netsh", "../testdata/pscsv", "../testdata/services"} {
		files = append(files, goldenFiles(t, dir)...)
	}
	for _, path := range files {
		t.Run(npsSubtest(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			wantF := want(filepath.Base(path))
			switch filepath.Base(path) {
			case "synthetic_dynamic_truncated.txt":
				// Cut before the structure a sniffer needs: parse with --format.
				wantF = FormatUnknown
			}
			if got := npsClaim(t, raw); got != wantF {
				t.Errorf("claimed by %q, want %q", got, wantF)
			}
		})
	}
}

// TestNPSSniffNoAlloc checks that the sniffers of this group do not allocate.
func TestNPSSniffNoAlloc(t *testing.T) {
	heads := [][]byte{
		npsDecoded(t, "../testdata/netsh/netsh_excludedportrange_tcp_blog-docker-5001.txt"),
		npsDecoded(t, "../testdata/netsh/netsh_dynamicport_tcp_fr_datadog-test.txt"),
		npsDecoded(t, "../testdata/pscsv/synthetic_nettcp_full_type_en-us.csv"),
		npsDecoded(t, "../testdata/pscsv/synthetic_netudp_subset_notype_bom.csv"),
		npsDecoded(t, "../testdata/services/synthetic_services_windows_excerpt.txt"),
	}
	for _, p := range npsParsers {
		for _, h := range heads {
			h = h[:min(len(h), SniffLen)]
			if n := testing.AllocsPerRun(10, func() { p.Sniff(h) }); n != 0 {
				t.Errorf("%s: Sniff allocates %v times", p.Format(), n)
			}
		}
	}
}

// npsFuzzSeeds adds every testdata file of dir, decoded, as a seed.
func npsFuzzSeeds(f *testing.F, dir string) {
	for _, path := range goldenFiles(f, dir) {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(Decoder(bytes.NewReader(raw), DetectEncoding(raw))); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
}

// npsFuzzMax is the input size cap of the fuzzers of this group.
const npsFuzzMax = 1 << 20

func FuzzNetsh(f *testing.F) {
	npsFuzzSeeds(f, "../testdata/netsh")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > npsFuzzMax {
			return
		}
		for _, p := range []Parser{netshExcluded{}, netshDynamic{}} {
			p.Sniff(data[:min(len(data), SniffLen)])
			checkParseInvariants(t, p, data)
		}
	})
}
