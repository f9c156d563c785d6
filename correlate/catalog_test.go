package correlate

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portmortem/portmortem/parsers"
)

func TestDefaultCatalog(t *testing.T) {
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	// Every row of DOMAIN.md §5 that has a service key.
	keys := []string{"IAS", "BlackBerry Router", "DNS", "NTDS", "kdc", "Netlogon", "ADWS", "PolicyAgent", "IKEEXT",
		"RpcSs", "RpcEptMapper", "lanmanserver", "Browser", "W3SVC", "HTTPFilter", "HTTP", "MSSQLSERVER", "MSSQL$SALES",
		"SQLBrowser", "WsusService", "TermService", "WinRM", "SMTPSVC", "MSExchangeTransport", "MSExchangeFrontEndTransport",
		"POP3SVC", "DHCPServer", "SharedAccess", "W32Time", "SNMP", "SNMPTRAP", "WINS", "tftpd", "MSFTPSVC", "MSMQ", "MSDTC",
		"ClusSvc", "RemoteAccess", "SSDPSRV", "BINLSVC", "aspnet_state", "vmms", "DFSR", "LPDSVC", "TlntSvr", "Tomcat9", "Apache2.4"}
	for _, k := range keys {
		if _, ok := cat.ByKey(k); !ok {
			t.Errorf("catalog has no row for %s", k)
		}
	}
	seen := map[string]bool{}
	for _, e := range cat.Entries() {
		if seen[strings.ToLower(e.Key)] {
			t.Errorf("key %s appears twice", e.Key)
		}
		seen[strings.ToLower(e.Key)] = true
		if len(e.Names) == 0 || e.Source == "" || e.Line == 0 || e.User {
			t.Errorf("row %s (line %d): names %d, source %q, user %v", e.Key, e.Line, len(e.Names), e.Source, e.User)
		}
		for _, n := range e.Names {
			if n.Lang != "" && !strings.Contains(e.Source, n.Lang+":") {
				t.Errorf("row %s: localized name %s:%q has no source for %s", e.Key, n.Lang, n.Name, n.Lang)
			}
		}
	}
}

func TestCatalogLookups(t *testing.T) {
	cat, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		lookup  func() (CatalogEntry, bool)
		wantKey string
		ports   []PortSpec
	}{
		{"key_exact_case_insensitive", func() (CatalogEntry, bool) { return cat.ByKey("ias") }, "IAS",
			[]PortSpec{{parsers.UDP, 1812}, {parsers.UDP, 1813}, {parsers.UDP, 1645}, {parsers.UDP, 1646}}},
		{"key_pattern_named_instance", func() (CatalogEntry, bool) { return cat.ByKey("MSSQL$SALES") }, "MSSQL$*", nil},
		{"key_exact_before_pattern", func() (CatalogEntry, bool) { return cat.ByKey("MSSQLSERVER") }, "MSSQLSERVER", []PortSpec{{parsers.TCP, 1433}}},
		{"key_unknown", func() (CatalogEntry, bool) { return cat.ByKey("ContosoAgent") }, "", nil},
		{"key_empty", func() (CatalogEntry, bool) { return cat.ByKey(" ") }, "", nil},
		{"name_en", func() (CatalogEntry, bool) { e, _, ok := cat.ByName("Internet Authentication Service"); return e, ok }, "IAS", nil},
		{"name_de_2008", func() (CatalogEntry, bool) { e, _, ok := cat.ByName("netzwerkrichtlinienserver"); return e, ok }, "IAS", nil},
		{"name_de_2003", func() (CatalogEntry, bool) { e, _, ok := cat.ByName("Internetauthentifizierungsdienst"); return e, ok }, "IAS", nil},
		{"name_fr_with_parenthesis", func() (CatalogEntry, bool) {
			e, _, ok := cat.ByName("Serveur NPS (Network Policy Server)")
			return e, ok
		}, "IAS", nil},
		{"name_es", func() (CatalogEntry, bool) { e, _, ok := cat.ByName("Servidor de directivas de redes"); return e, ok }, "IAS", nil},
		{"name_de_ipsec", func() (CatalogEntry, bool) { e, _, ok := cat.ByName("IPSec-Dienste"); return e, ok }, "PolicyAgent", nil},
		{"name_pattern_sql", func() (CatalogEntry, bool) { e, _, ok := cat.ByName("SQL Server (SALES)"); return e, ok }, "MSSQL$*", nil},
		{"name_tomcat_before_apache", func() (CatalogEntry, bool) { e, _, ok := cat.ByName("Apache Tomcat 9.0 Tomcat9"); return e, ok }, "Tomcat*", nil},
		{"name_apache", func() (CatalogEntry, bool) { e, _, ok := cat.ByName("Apache2.2"); return e, ok }, "Apache*", nil},
		{"image", func() (CatalogEntry, bool) { return cat.ByImage("DNS.EXE") }, "DNS", nil},
		{"image_pattern", func() (CatalogEntry, bool) { return cat.ByImage("tomcat9.exe") }, "Tomcat*", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := tt.lookup()
			if got, want := ok, tt.wantKey != ""; got != want {
				t.Fatalf("found %v (%s), want %v", got, e.Key, want)
			}
			if e.Key != tt.wantKey {
				t.Errorf("key %q, want %q", e.Key, tt.wantKey)
			}
			if tt.ports != nil && !slices.Equal(e.Ports, tt.ports) {
				t.Errorf("ports %v, want %v", e.Ports, tt.ports)
			}
		})
	}
	if _, dn, _ := cat.ByName("Netzwerkrichtlinienserver"); dn.Lang != "de" {
		t.Errorf("German name reported as language %q", dn.Lang)
	}
	var nilCat *Catalog
	if _, ok := nilCat.ByKey("IAS"); ok {
		t.Error("a nil catalog found a key")
	}
}

func TestLoadCatalog(t *testing.T) {
	user := "\uFEFF# user catalog\r\n" +
		"IAS\tNetwork Policy Server\tsvchost.exe\tudp/11812,udp/11813\tnps\tcustomer config\r\n" +
		"ContosoAgent\tContoso Agent|de:Contoso-Agent\tcagent.exe\ttcp/7777\tcontoso\r\n" +
		"\r\n"
	cat, err := LoadCatalog(strings.NewReader(user))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := cat.ByKey("IAS")
	if !ok || !e.User || !slices.Equal(e.Ports, []PortSpec{{parsers.UDP, 11812}, {parsers.UDP, 11813}}) {
		t.Errorf("IAS = %+v, want the user's row", e)
	}
	if _, _, ok := cat.ByName("Internet Authentication Service"); ok {
		t.Error("the replaced built-in IAS row still answers")
	}
	if e, _, ok := cat.ByName("contoso-agent"); !ok || e.Key != "ContosoAgent" || e.Line != 3 {
		t.Errorf("ContosoAgent = %+v %v", e, ok)
	}
	if _, ok := cat.ByKey("DNS"); !ok {
		t.Error("the built-in rows are gone")
	}
	def, _ := DefaultCatalog()
	if e, _ := def.ByKey("IAS"); e.User {
		t.Error("LoadCatalog changed the default catalog")
	}

	bad := []struct {
		name, input, wantErr string
	}{
		{"too_few_columns", "IAS\tx\ty\n", "catalog line 1: want at least 5"},
		{"bad_proto", "# c\nX\tX\t-\tsctp/1\t-\n", "catalog line 2: port \"sctp/1\""},
		{"port_zero", "X\tX\t-\ttcp/0\t-\n", "want a number from 1 to 65535"},
		{"port_too_big", "X\tX\t-\tudp/70000\t-\n", "want a number from 1 to 65535"},
		{"no_slash", "X\tX\t-\t1812\t-\n", "want proto/port"},
		{"empty_key", "\tX\t-\t-\t-\n", "empty service key"},
		{"long_line", "X\t" + strings.Repeat("a", maxCatalogLine+10) + "\t-\t-\t-\n", "catalog line 1: bufio.Scanner: token too long"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadCatalog(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestGlobFold(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"MSSQL$*", "mssql$sales", true},
		{"MSSQL$*", "MSSQLSERVER", false},
		{"SQL Server (*)", "SQL Server (SALES)", true},
		{"SQL Server (*)", "SQL Server Browser", false},
		{"tomcat*.exe", "Tomcat9.exe", true},
		{"tomcat*.exe", "tomcat9.exe.bak", false},
		{"*", "", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false},
	}
	for _, tt := range tests {
		if got := globFold(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globFold(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// TestCatalogVersion: the version names the built-in content, and a user
// file's rows and hash, so a case records which catalog decided it.
func TestCatalogVersion(t *testing.T) {
	d, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	base := d.Version()
	if !regexp.MustCompile(`^built-in [0-9a-f]{12}$`).MatchString(base) || (*Catalog)(nil).Version() != base {
		t.Fatalf("built-in version %q (nil: %q)", base, (*Catalog)(nil).Version())
	}
	row := "ContosoAgent\tContoso Agent\tcagent.exe\ttcp/7777\tcontoso\n"
	a, err := LoadCatalog(strings.NewReader(row))
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadCatalog(strings.NewReader(strings.Replace(row, "7777", "7778", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Version(), base+" + 1 user row(s) ") || a.Version() == b.Version() {
		t.Errorf("user versions %q and %q: want the built-in one, the row count and differing hashes", a.Version(), b.Version())
	}
}
