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
)

// tasktcpGolden returns the golden file of a testdata input.
func tasktcpGolden(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".golden.jsonl"
}

// tasktcpName turns a file name into a subtest name.
func tasktcpName(path string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, filepath.Base(path))
}

// tasktcpParse runs p over data and returns the records and the errors.
func tasktcpParse(t *testing.T, p Parser, data string) ([]Record, []*ParseError) {
	t.Helper()
	return collect(t, p, strings.NewReader(data))
}

func tasktcpErrLines(errs []*ParseError) []int {
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	return lines
}

func tasktcpCount(recs []Record, k Kind) int {
	n := 0
	for _, r := range recs {
		if r.Kind == k {
			n++
		}
	}
	return n
}

func TestTasklistGolden(t *testing.T) {
	for _, path := range goldenFiles(t, "../testdata/tasklist") {
		t.Run(tasktcpName(path), func(t *testing.T) {
			checkGolden(t, renderJSONL(t, path), tasktcpGolden(path))
		})
	}
}

// TestTasklistRealSamples checks the goldens of the real captures against
// facts counted by hand in the files.
func TestTasklistRealSamples(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		processes int
		check     map[int][]string // PID → services
		truncated []string
	}{
		{
			name: "ws2016_trimmed", file: "tasklist_svc_ws2016_htb-winlpe-srv01_trimmed.txt", processes: 76,
			check: map[int][]string{
				0:    nil,
				688:  {"KeyIso", "SamSs", "VaultSvc"},
				780:  {"BrokerInfrastructure", "DcomLaunch", "LSM", "PlugPlay", "Power", "SystemEventsBroker"},
				964:  {"Appinfo", "CertPropSvc", "DsmSvc", "gpsvc", "IKEEXT", "iphlpsvc", "lfsvc", "ProfSvc", "Schedule", "SENS", "SessionEnv", "ShellHWDetection", "Themes", "UserManager", "Winmgmt", "WpnService", "wuauserv"},
				2088: {"FileZilla Server"},
				3520: {"MSSQL$SQLEXPRESS01"},
				4340: {"CDPUserSvc_4d040", "OneSyncSvc_4d040"},
				3396: nil,
			},
			truncated: []string{"FileZilla Server Interfac"},
		},
		{
			name: "ws2012r2_padded", file: "tasklist_svc_ws2012r2_padded79.txt", processes: 45,
			check: map[int][]string{
				4:   nil,
				564: {"BrokerInfrastructure", "DcomLaunch", "DeviceInstall", "LSM", "PlugPlay", "Power", "SystemEventsBroker"},
				720: {"AeLookupSvc", "CertPropSvc", "DsmSvc", "gpsvc", "IKEEXT", "iphlpsvc", "LanmanServer", "ProfSvc", "Schedule", "SENS", "SessionEnv", "ShellHWDetection", "Themes", "Winmgmt"},
				292: {"AmazonSSMAgent"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("../testdata/tasklist", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			recs, errs := tasktcpParse(t, tasklist{}, string(data))
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if got, want := tasktcpCount(recs, KindProcess), tt.processes; got != want {
				t.Errorf("processes = %d, want %d", got, want)
			}
			var truncated []string
			for _, r := range recs {
				if r.Kind != KindProcess {
					continue
				}
				if r.Process.Truncated {
					truncated = append(truncated, r.Process.Image)
				}
				if want, ok := tt.check[r.Process.PID]; ok && !reflect.DeepEqual(r.Process.Services, want) {
					t.Errorf("PID %d services = %q, want %q", r.Process.PID, r.Process.Services, want)
				}
			}
			if !reflect.DeepEqual(truncated, tt.truncated) {
				t.Errorf("truncated = %q, want %q", truncated, tt.truncated)
			}
			if recs[0].Kind != KindMeta || recs[0].Meta.Variant != "svc-table" || recs[0].Meta.Locale != "en" {
				t.Errorf("first record = %+v, want Meta svc-table en", recs[0].Meta)
			}
		})
	}
}

func TestTasklistBadLines(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		wantLines []int
		wantPIDs  []int
	}{
		{"table", "synthetic_bad_lines_svc.txt", []int{3, 5, 9, 10}, []int{0, 780, 3384}},
		{"csv", "synthetic_bad_lines_svc_csv.csv", []int{3, 4, 8}, []int{0, 1012, 1944}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("../testdata/tasklist", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			recs, errs := tasktcpParse(t, tasklist{}, string(data))
			if got, want := tasktcpErrLines(errs), tt.wantLines; !reflect.DeepEqual(got, want) {
				t.Errorf("error lines = %v, want %v (%v)", got, want, errs)
			}
			var pids []int
			for _, r := range recs {
				if r.Kind == KindProcess {
					pids = append(pids, r.Process.PID)
				}
			}
			if !reflect.DeepEqual(pids, tt.wantPIDs) {
				t.Errorf("PIDs = %v, want %v", pids, tt.wantPIDs)
			}
		})
	}
}

func TestTasklistEdgeCases(t *testing.T) {
	real, err := os.ReadFile("../testdata/tasklist/tasklist_svc_ws2016_htb-winlpe-srv01_trimmed.txt")
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside line 14 ("svchost.exe                    840 RpcEptMapper, RpcSs"), in the image column.
	cut := string(real[:bytes.Index(real, []byte("svchost.exe                    840"))+7])
	tests := []struct {
		name          string
		input         string
		wantProcesses int
		wantErrLines  []int
		wantErr       string
	}{
		{name: "empty", input: ""},
		{name: "blank_lines", input: "\r\n   \r\n\r\n"},
		{name: "header_only", input: "\r\nImage Name                     PID Services\r\n========================= ======== ============================================\r\n"},
		{name: "csv_header_only", input: "\"Image Name\",\"PID\",\"Services\"\r\n"},
		{name: "truncated_table", input: cut, wantProcesses: 10, wantErrLines: []int{14}, wantErr: "bad row"},
		{name: "truncated_csv", input: "\"System Idle Process\",\"0\",\"N/A\"\r\n\"svchost.exe\",\"10", wantProcesses: 1, wantErrLines: []int{2}, wantErr: "cut short"},
		{name: "wrong_format_netstat", input: "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748\r\n", wantErrLines: []int{1}, wantErr: "no tasklist table"},
		{name: "wrong_format_tcpvcon", input: "TCP,svchost.exe,924,LISTENING,0.0.0.0,0.0.0.0\r\n", wantErrLines: []int{1}, wantErr: "no tasklist table"},
		{name: "wrong_format_driverquery", input: "Module Name  Display Name           Driver Type   Link Date\r\n============ ====================== ============= ======================\r\n1394ohci     1394 OHCI Compliant Ho Kernel        \r\n", wantErrLines: []int{3}, wantErr: "PID column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := tasktcpParse(t, tasklist{}, tt.input)
			if got, want := tasktcpCount(recs, KindProcess), tt.wantProcesses; got != want {
				t.Errorf("processes = %d, want %d", got, want)
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

// TestTasklistNA checks that the services column of PID 0 and 4 teaches the
// local N/A word, and that wrapped service names with spaces survive.
func TestTasklistNA(t *testing.T) {
	input := strings.Join([]string{
		"Image Name                     PID Services",
		"========================= ======== ============================================",
		"System Idle Process              0 Sin datos",
		"System                           4 Sin datos",
		"smss.exe                       332 Sin datos",
		"vmware-svc.exe                1076 VMware Physical Disk Helper Service, VMware",
		"                                   Snapshot Provider",
		"svchost.exe                    840 RpcEptMapper, RpcSs",
	}, "\r\n")
	recs, errs := tasktcpParse(t, tasklist{}, input)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := map[int][]string{
		0: nil, 4: nil, 332: nil,
		1076: {"VMware Physical Disk Helper Service", "VMware Snapshot Provider"},
		840:  {"RpcEptMapper", "RpcSs"},
	}
	for _, r := range recs {
		if r.Kind != KindProcess {
			continue
		}
		if got := r.Process.Services; !reflect.DeepEqual(got, want[r.Process.PID]) {
			t.Errorf("PID %d services = %q, want %q", r.Process.PID, got, want[r.Process.PID])
		}
	}
}

// TestTasklistConcatenated checks two tables in one file: the header of the
// second is not reported as a bad row.
func TestTasklistConcatenated(t *testing.T) {
	input := strings.Join([]string{
		"Image Name                     PID Session Name        Session#    Mem Usage",
		"========================= ======== ================ =========== ============",
		"System Idle Process              0 Services                   0          8 K",
		"Abbildname                     PID Dienste",
		"========================= ======== ============================================",
		"lsass.exe                      688 KeyIso, SamSs",
	}, "\n")
	recs, errs := tasktcpParse(t, tasklist{}, input)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, r := range recs {
		if r.Kind == KindMeta {
			got = append(got, r.Meta.Variant+"/"+r.Meta.Locale)
		}
	}
	if want := []string{"table/en", "svc-table/de"}; !reflect.DeepEqual(got, want) {
		t.Errorf("metas = %q, want %q", got, want)
	}
	if got, want := tasktcpCount(recs, KindProcess), 2; got != want {
		t.Errorf("processes = %d, want %d", got, want)
	}
}

func TestTasklistStopsWhenYieldReturnsFalse(t *testing.T) {
	data, err := os.ReadFile("../testdata/tasklist/tasklist_svc_ws2012r2_padded79.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range (tasklist{}).Parse(context.Background(), bytes.NewReader(data)) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("got %d records, want 3", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range (tasklist{}).Parse(ctx, bytes.NewReader(data)) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	}
}

// tasktcpDetectCases lists inputs and the format Detect must give them
// (FormatUnknown: neither tasklist nor tcpvcon may claim it).
func tasktcpDetectCases(t *testing.T) []struct {
	name  string
	input []byte
	want  Format
} {
	t.Helper()
	type tc = struct {
		name  string
		input []byte
		want  Format
	}
	var cases []tc
	for _, dir := range []struct {
		path string
		want Format
	}{{"../testdata/tasklist", FormatTasklist}, {"../testdata/tcpvcon", FormatTcpvcon}} {
		for _, path := range goldenFiles(t, dir.path) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, tc{tasktcpName(path), data, dir.want})
		}
	}
	// The other formats' real samples must not be claimed.
	corpus := filepath.Join(corpusDir(t), "text")
	if entries, err := os.ReadDir(corpus); err == nil {
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(corpus, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			want := FormatUnknown
			switch {
			case strings.HasPrefix(e.Name(), "tasklist_"):
				want = FormatTasklist
			case strings.HasPrefix(e.Name(), "tcpvcon_"):
				want = FormatTcpvcon
			}
			cases = append(cases, tc{"corpus_" + tasktcpName(e.Name()), data, want})
		}
	} else {
		t.Logf("corpus not available: %v", err)
	}
	for _, c := range []tc{
		{"empty", nil, FormatUnknown},
		{"ps_udp_export", []byte("\"LocalAddress\",\"LocalPort\",\"OwningProcess\"\r\n\"0.0.0.0\",\"5353\",\"2212\"\r\n"), FormatUnknown},
		{"ps_tcp_export", []byte("#TYPE Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetTCPConnection\r\n\"LocalAddress\",\"LocalPort\",\"RemoteAddress\",\"RemotePort\",\"State\",\"OwningProcess\"\r\n\"::\",\"49669\",\"::\",\"0\",\"Listen\",\"692\"\r\n"), FormatUnknown},
		{"driverquery", []byte("\r\nModule Name  Display Name           Driver Type   Link Date\r\n============ ====================== ============= ======================\r\n1394ohci     1394 OHCI Compliant Ho Kernel\r\n"), FormatUnknown},
		{"schtasks", []byte("\r\nFolder: \\\r\nTaskName                                 Next Run Time          Status\r\n======================================== ====================== ===============\r\n"), FormatUnknown},
		{"generic_csv", []byte("name,age,city,zip,phone,mail\r\nann,31,Oslo,0150,555,ann@example.com\r\n"), FormatUnknown},
		{"netstat_b_brackets", []byte("  TCP    0.0.0.0:135    0.0.0.0:0    LISTENING    924\r\n  RpcSs\r\n [svchost.exe]\r\n"), FormatUnknown},
		{"tasklist_svc_fr", []byte("\r\nNom de l'image                 PID Services\r\n========================= ======== ============================================\r\nsvchost.exe                    912 BrokerInfrastructure, DcomLaunch, PlugPlay,\r\n"), FormatTasklist},
		{"tasklist_csv_after_preamble", []byte("C:\\>tasklist /svc /fo csv\r\n\"Image Name\",\"PID\",\"Services\"\r\n\"System Idle Process\",\"0\",\"N/A\"\r\n"), FormatTasklist},
		{"tasklist_v_csv", []byte("\"Image Name\",\"PID\",\"Session Name\",\"Session#\",\"Mem Usage\",\"Status\",\"User Name\",\"CPU Time\",\"Window Title\"\r\n\"System Idle Process\",\"0\",\"Services\",\"0\",\"8 K\",\"Unknown\",\"NT AUTHORITY\\SYSTEM\",\"1:02:03\",\"N/A\"\r\n"), FormatTasklist},
		{"tcpvcon_collector_header", []byte("T or U, Service, PID, STATE, Local, REMOTE\r\nTCP,svchost.exe,924,LISTENING,0.0.0.0,0.0.0.0\r\n"), FormatTcpvcon},
	} {
		cases = append(cases, c)
	}
	return cases
}

func TestDetectTasklistTcpvcon(t *testing.T) {
	for _, tt := range tasktcpDetectCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatUnknown
			if p, _, err := Detect(tt.input); err == nil {
				got = p.Format()
			}
			if tt.want == FormatUnknown {
				if got == FormatTasklist || got == FormatTcpvcon {
					t.Errorf("Detect = %s, want neither tasklist nor tcpvcon", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("Detect = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSniffTasklistTcpvconAllocs(t *testing.T) {
	for _, tt := range tasktcpDetectCases(t) {
		head := decodeHead(tt.input, DetectEncoding(tt.input))
		for _, p := range []Parser{tasklist{}, tcpvcon{}} {
			if n := testing.AllocsPerRun(10, func() { p.Sniff(head) }); n != 0 {
				t.Errorf("%s: %s.Sniff allocates %v times", tt.name, p.Format(), n)
			}
		}
	}
}

func FuzzTasklist(f *testing.F) {
	for _, path := range goldenFiles(f, "../testdata/tasklist") {
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
		checkParseInvariants(t, tasklist{}, data)
		tasklist{}.Sniff(data[:min(len(data), SniffLen)])
	})
}

// tasklistContinuations is a /svc table whose second row wraps its services
// onto n continuation lines of width cells each, then a third row.
func tasklistContinuations(n, width int) string {
	var b strings.Builder
	b.WriteString("\r\nImage Name                     PID Services\r\n========================= ======== ============================================\r\n")
	b.WriteString("System                           4 N/A\r\n")
	b.WriteString("svchost.exe                    880 RpcSs,\r\n")
	for i := range n {
		name := fmt.Sprintf("Svc%d", i)
		b.WriteString(strings.Repeat(" ", 35) + name + strings.Repeat("x", max(0, width-len(name)-1)) + ",\r\n")
	}
	b.WriteString("lsass.exe                      512 SamSs\r\n")
	return b.String()
}

// TestTasklistLongContinuation: a row whose services run on for megabytes
// is cut at maxServicesText with one warning naming its line and PID; the
// services before the cut and the rows after it are kept. (Joining the
// lines one by one used to cost time growing with the square of the
// column: 16 MB took 12 s, see BENCHMARKS.md.)
func TestTasklistLongContinuation(t *testing.T) {
	recs, errs := tasktcpParse(t, tasklist{}, tasklistContinuations(4000, 4000))
	if len(errs) != 1 || errs[0].Line != 6+maxServicesText/4001 || !strings.Contains(errs[0].Error(), "PID 880") {
		t.Fatalf("errors = %v, want one at line %d naming PID 880", errs, 6+maxServicesText/4001)
	}
	var got []int
	for _, r := range recs {
		if r.Kind != KindProcess {
			continue
		}
		got = append(got, r.Process.PID)
		if r.Process.PID == 880 {
			if n := len(r.Process.Services); n != 1+maxServicesText/4001 || r.Process.Services[0] != "RpcSs" {
				t.Errorf("PID 880 keeps %d services (first %q), want %d", n, r.Process.Services[0], 1+maxServicesText/4001)
			}
		}
	}
	if !reflect.DeepEqual(got, []int{4, 880, 512}) {
		t.Errorf("PIDs = %v, want [4 880 512]", got)
	}
}

// BenchmarkTasklistContinuation reads 16 MB of continuation lines against
// a baseline of the same bytes as ordinary rows (BENCHMARKS.md).
func BenchmarkTasklistContinuation(b *testing.B) {
	cont := tasklistContinuations(4000, 4000)
	var rows strings.Builder
	rows.WriteString("\r\nImage Name                     PID Services\r\n========================= ======== ============================================\r\n")
	for i := 0; rows.Len() < len(cont); i++ {
		fmt.Fprintf(&rows, "svchost.exe               %8d %s\r\n", 1000+i, strings.Repeat("x", 3960))
	}
	for _, c := range []struct{ name, data string }{{"rows", rows.String()}, {"continuations", cont}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				for range (tasklist{}).Parse(context.Background(), strings.NewReader(c.data)) {
				}
			}
		})
	}
}
