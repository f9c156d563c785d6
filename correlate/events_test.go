package correlate

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

func scm(id uint16, params ...string) *parsers.Event {
	ev := &parsers.Event{Provider: scmProvider, EventSource: scmProvider, EventID: id, Channel: "System",
		Time: time.Date(2026, 11, 20, 8, 12, 3, 0, time.UTC), RecordID: 42}
	for i, p := range params {
		ev.Data = append(ev.Data, parsers.Field{Name: "param" + string(rune('1'+i)), Value: p})
	}
	return ev
}

func TestDecodeFailureSCM(t *testing.T) {
	withBinary := func(ev *parsers.Event, key string) *parsers.Event { ev.Binary = evtxwrite.UTF16Hex(key); return ev }
	legacy := &parsers.Event{Provider: scmProvider, EventID: 7023, Data: []parsers.Field{
		{Value: "Internet Authentication Service"},
		{Value: "Only one usage of each socket address (protocol/network address/port) is normally permitted."},
	}}
	tests := []struct {
		name      string
		ev        *parsers.Event
		wantOK    bool
		service   string
		key       string
		code      uint32
		class     ErrorClass
		msgSubstr string
	}{
		{"7023_10048", withBinary(scm(7023, "Internet Authentication Service", "%%10048"), "IAS"), true,
			"Internet Authentication Service", "IAS", 10048, ClassPortConflict, "Only one usage of each socket address"},
		{"7000_1053", scm(7000, "Apache Tomcat", "%%1053"), true, "Apache Tomcat", "", 1053, ClassPossiblyPort, "did not respond"},
		{"7000_1058_disabled", scm(7000, "Fax", "%%1058"), true, "Fax", "", 1058, ClassNotPort, "disabled"},
		{"7000_1069_logon", scm(7000, "SQL Server (MSSQLSERVER)", "%%1069"), true, "SQL Server (MSSQLSERVER)", "", 1069, ClassNotPort, "logon failure"},
		{"7024_exit1", withBinary(scm(7024, "Apache2.2", "%%1"), "Apache2.2"), true, "Apache2.2", "Apache2.2", 1, ClassPossiblyPort, "service-specific error 1"},
		{"7024_exit10048", scm(7024, "MyService", "%%10048"), true, "MyService", "", 10048, ClassPortConflict, "service-specific error 10048"},
		{"7024_negative", scm(7024, "Message Queuing", "%%-1072823311"), true, "Message Queuing", "", 3222143985, ClassPossiblyPort, ""},
		{"7009_reversed", scm(7009, "30000", "BBRouter"), true, "BBRouter", "", 0, ClassPossiblyPort, "30000 milliseconds"},
		{"7011_reversed", scm(7011, "30000", "HPAudioAnalytics"), true, "HPAudioAnalytics", "", 0, ClassPossiblyPort, "transaction response"},
		{"7001_dependency", scm(7001, "Netlogon", "Workstation", "%%1062"), true, "Netlogon", "", 1062, ClassNotPort, "depends on the Workstation"},
		{"7031_crash", scm(7031, "Apache2.4", "1", "60000", "1", "Restart the service"), true, "Apache2.4", "", 0, ClassPossiblyPort, "Restart the service"},
		{"7036_not_failure", scm(7036, "Windows Defender", "running"), false, "", "", 0, "", ""},
		{"winlogon_7001", &parsers.Event{Provider: "Microsoft-Windows-Winlogon", EventID: 7001}, false, "", "", 0, "", ""},
		{"legacy_2003_text", legacy, true, "Internet Authentication Service", "", 10048, ClassPortConflict, "Only one usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := DecodeFailure(tt.ev)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if f.Kind != KindServiceFailure || f.Service != tt.service || f.ServiceKey != tt.key || f.ErrorCode != tt.code || f.Class != tt.class {
				t.Errorf("got kind %s service %q key %q code %d class %s; want %q %q %d %s",
					f.Kind, f.Service, f.ServiceKey, f.ErrorCode, f.Class, tt.service, tt.key, tt.code, tt.class)
			}
			if !strings.Contains(f.Message, tt.msgSubstr) {
				t.Errorf("message %q does not contain %q", f.Message, tt.msgSubstr)
			}
		})
	}
}

func TestDecodeFailureBindErrors(t *testing.T) {
	// IO_ERROR_LOG_PACKET with DumpData holding STATUS_ADDRESS_ALREADY_EXISTS.
	httpBinary := "0000040002003000000000009D3A00C0000000000000000000000000000000000000000000000000" + "0A0200C0"
	tests := []struct {
		name    string
		ev      *parsers.Event
		wantOK  bool
		kind    FailureKind
		service string
		proto   parsers.Proto
		addr    string
		port    uint16
		code    uint32
		class   ErrorClass
	}{
		{"http_15005", &parsers.Event{Provider: "Microsoft-Windows-HttpEvent", EventSource: "HTTP", EventID: 15005,
			Data: []parsers.Field{{Name: "DeviceObject", Value: `\Device\Http\ReqQueue`}, {Name: "Address", Value: "127.0.0.1:10000"}}, Binary: httpBinary},
			true, KindBindError, "HTTP", parsers.TCP, "127.0.0.1", 10000, 0xC000020A, ClassPortConflict},
		{"http_15005_ipv6", &parsers.Event{Provider: "HTTP", EventID: 15005, Data: []parsers.Field{{Value: `\Device\Http\ReqQueue`}, {Value: "[::]:443"}}},
			true, KindBindError, "HTTP", parsers.TCP, "::", 443, 0, ClassPortConflict},
		{"sql_26023", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26023, Message: "Server TCP provider failed to listen on [ 'any' <ipv6> 1433]. Tcp port is already in use."},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "", 1433, 10048, ClassPortConflict},
		{"sql_17182", &parsers.Event{Provider: "MSSQL$SQLEXPRESS", EventID: 17182, Data: []parsers.Field{{Value: "TDSSNIClient initialization failed with error 0x2740, status code 0xa. Reason: Unable to initialize the TCP/IP listener."}}},
			true, KindBindError, "MSSQL$SQLEXPRESS", parsers.TCP, "", 0, 10048, ClassPortConflict},
		// The same SQL Server events as separate insertion strings, and
		// rendered in another language: the values decide, not the words.
		// (The French and German sentences stand for a translation. The
		// 26024 text and the 17182 → 17826 sequence are as a user pasted
		// them from Event Viewer in a public note on MSSQLSERVER not
		// starting after a VMware snapshot rollback; 17182's format,
		// "TDSSNIClient initialization failed with error 0x%lx, status
		// code 0x%lx. Reason: %S_MSG %.*ls", is sys.messages' as
		// Microsoft's SQL Server error-message lists print it; status
		// codes 0x07–0x1E are TCP/IP, Microsoft docs ms365392.)
		{"sql_26023_insertions", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26023, Data: []parsers.Field{{Value: "'any'"}, {Value: "ipv4"}, {Value: "1433"}}},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "", 1433, 10048, ClassPortConflict},
		{"sql_26023_german", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26023, Message: "Der Server-TCP-Anbieter konnte nicht an [ '10.0.0.7' <ipv4> 1433] lauschen. Der TCP-Port wird bereits verwendet."},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "10.0.0.7", 1433, 10048, ClassPortConflict},
		{"sql_17182_insertions", &parsers.Event{Provider: "MSSQLSERVER", EventID: 17182, Data: []parsers.Field{{Value: "0x2740"}, {Value: "0xa"}, {Value: "Unable to initialize the TCP/IP listener."}}},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "", 0, 10048, ClassPortConflict},
		{"sql_17182_insertions_bare_hex", &parsers.Event{Provider: "MSSQLSERVER", EventID: 17182, Data: []parsers.Field{{Value: "271d"}, {Value: "a"}, {Value: "Impossible d'initialiser l'écouteur TCP/IP."}}},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "", 0, 10013, ClassPortConflict},
		{"sql_17182_french", &parsers.Event{Provider: "MSSQLSERVER", EventID: 17182, Message: "L'initialisation de TDSSNIClient a échoué avec l'erreur 0x2740, code d'état 0xa. Raison : impossible d'initialiser l'écouteur TCP/IP."},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "", 0, 10048, ClassPortConflict},
		// As the SQL Server support blog of 2018-07-26 ("July 10, 2018
		// Windows updates cause SQL startup issues due to 'TCP port is
		// already in use' errors") quotes an ERRORLOG: an address without
		// quotes, and a second 17182 with status 0x1 ("infrastructure
		// error") that carries the same 0x2740.
		{"sql_26023_unquoted_address", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26023, Message: "Server TCP provider failed to listen on [ 10.20.30.40 <ipv4> 1433]. Tcp port is already in use."},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "10.20.30.40", 1433, 10048, ClassPortConflict},
		{"sql_17182_infrastructure", &parsers.Event{Provider: "MSSQLSERVER", EventID: 17182, Message: "TDSSNIClient initialization failed with error 0x2740, status code 0x1. Reason: Initialization failed with an infrastructure error. Check for previous errors. Only one usage of each socket address (protocol/network address/port) is normally permitted."},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "", 0, 10048, ClassPortConflict},
		{"sql_17182_not_port", &parsers.Event{Provider: "MSSQLSERVER", EventID: 17182, Message: "TDSSNIClient initialization failed with error 0xd, status code 0x4. Reason: All protocols are disabled. The data is invalid."},
			false, "", "", "", "", 0, 0, ""},
		{"sql_26024", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26024, Message: "Server failed to listen on fe80::8145:ac41:7d9f:556%6 < ipv6 > 1433. Error: 0x2741. To proceed, notify your system administrator."},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "fe80::8145:ac41:7d9f:556%6", 1433, 10049, ClassNotPort},
		{"sql_26024_insertions", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26024, Data: []parsers.Field{{Value: "10.0.0.7"}, {Value: "ipv4"}, {Value: "1433"}, {Value: "0x2740"}}},
			true, KindBindError, "MSSQLSERVER", parsers.TCP, "10.0.0.7", 1433, 10048, ClassPortConflict},
		{"sql_17826_signal", &parsers.Event{Provider: "MSSQL$SALES", EventID: 17826},
			true, KindSignal, "MSSQL$SALES", "", "", 0, 0, ClassPossiblyPort},
		{"exchange_3015_german", &parsers.Event{Provider: "Server ActiveSync", EventID: 3015, Message: "IP-basiertes AUTD konnte nicht initialisiert werden. Fehlercode [0x80004005]. Stellen Sie sicher, dass keine anderen Anwendungen an UDP-Port [2883] gebunden sind."},
			true, KindBindError, "Exchange ActiveSync (AUTD)", parsers.UDP, "", 2883, 0x80004005, ClassPortConflict},
		{"apache_3299", &parsers.Event{Provider: "Apache Service", EventID: 3299, Data: []parsers.Field{
			{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
			{Value: "(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : AH00072: make_sock: could not bind to address 0.0.0.0:80"}}},
			true, KindBindError, "Apache2.4", parsers.TCP, "0.0.0.0", 80, 10048, ClassPortConflict},
		{"apache_3299_ipv6_10013", &parsers.Event{Provider: "Apache Service", EventID: 3299, Data: []parsers.Field{
			{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
			{Value: "(OS 10013)An attempt was made to access a socket in a way forbidden by its access permissions.  : AH00072: make_sock: could not bind to address [::]:443"}}},
			true, KindBindError, "Apache2.4", parsers.TCP, "::", 443, 10013, ClassPortConflict},
		{"apache_rendered", &parsers.Event{Provider: "Apache Service", EventID: 3299, Message: "The Apache service named Apache2.4 reported the following error:\r\n>>> (OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : AH00072: make_sock: could not bind to address [::]:80     ."},
			true, KindBindError, "Apache2.4", parsers.TCP, "::", 80, 10048, ClassPortConflict},
		{"apache_other_line", &parsers.Event{Provider: "Apache Service", EventID: 3299, Data: []parsers.Field{
			{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"}, {Value: "AH00451: no listening sockets available, shutting down"}}},
			false, "", "", "", "", 0, 0, ""},
		{"exchange_3015", &parsers.Event{Provider: "Server ActiveSync", EventID: 3015, Data: []parsers.Field{{Value: "IP-based AUTD failed to initialize because the processing of notifications could not be setup. Error code [0x80004005]. Verify that no other applications are currently bound to UDP port [2883]"}}},
			true, KindBindError, "Exchange ActiveSync (AUTD)", parsers.UDP, "", 2883, 0x80004005, ClassPortConflict},
		{"dns_407", &parsers.Event{Provider: "Microsoft-Windows-DNS-Server-Service", EventID: 407, Data: []parsers.Field{{Name: "param1", Value: "10.0.0.5"}}, Binary: "40270000"},
			true, KindBindError, "DNS Server", parsers.UDP, "10.0.0.5", 53, 10048, ClassPortConflict},
		// Rendered only (an export or a paste): the address is found in the
		// text, whatever the language around it (the German wording is ours).
		{"dns_408_rendered_german", &parsers.Event{Provider: "Microsoft-Windows-DNS-Server-Service", EventID: 408, Message: "Der DNS-Server konnte keinen Socket für die Adresse 10.0.0.7 öffnen. Vergewissern Sie sich, dass dies eine gültige IP-Adresse auf diesem Computer ist."},
			true, KindBindError, "DNS Server", parsers.UDP, "10.0.0.7", 53, 0, ClassPossiblyPort},
		{"dns_404_rendered_ipv6", &parsers.Event{Provider: "DNS", EventID: 404, Message: "The DNS server could not bind a Transmission Control Protocol (TCP) socket to address fe80::1c2d:3e4f:5a6b:7c8d. The event data is the error."},
			true, KindBindError, "DNS Server", parsers.TCP, "fe80::1c2d:3e4f:5a6b:7c8d", 53, 0, ClassPossiblyPort},
		{"ipsec_4292", &parsers.Event{Provider: "IPSEC", EventID: 4292},
			true, KindSignal, "IPSEC Services", parsers.UDP, "", 500, 0, ClassPortConflict},
		{"tcpip_4231", &parsers.Event{Provider: "Tcpip", EventID: 4231},
			true, KindSignal, "", parsers.TCP, "", 0, 0, ClassPossiblyPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := DecodeFailure(tt.ev)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			var wantAddr netip.Addr
			if tt.addr != "" {
				wantAddr = netip.MustParseAddr(tt.addr)
			}
			if f.Kind != tt.kind || f.Service != tt.service || f.Proto != tt.proto || f.Addr != wantAddr || f.Port != tt.port || f.ErrorCode != tt.code || f.Class != tt.class {
				t.Errorf("got %s %q %s %v:%d code 0x%X %s; want %s %q %s %v:%d code 0x%X %s",
					f.Kind, f.Service, f.Proto, f.Addr, f.Port, f.ErrorCode, f.Class,
					tt.kind, tt.service, tt.proto, wantAddr, tt.port, tt.code, tt.class)
			}
			if f.Message == "" {
				t.Error("no message rendered")
			}
		})
	}
}

func TestDecodeBoot(t *testing.T) {
	at := time.Date(2025, 11, 25, 15, 24, 10, 0, time.UTC)
	tests := []struct {
		name      string
		ev        *parsers.Event
		wantOK    bool
		kind      BootKind
		bootTime  time.Time
		lastAlive time.Time
		offset    time.Duration
	}{
		{"6005", &parsers.Event{Provider: "EventLog", EventID: 6005, Time: at}, true, BootStart, at, time.Time{}, 0},
		{"6005_wlclntfy_is_not_boot", &parsers.Event{Provider: "Wlclntfy", EventID: 6005, Time: at}, false, "", time.Time{}, time.Time{}, 0},
		{"6006", &parsers.Event{Provider: "EventLog", EventID: 6006, Time: at}, true, BootCleanStop, time.Time{}, time.Time{}, 0},
		// DOMAIN.md §4: E9070B00 02001900 0A001700 1C006501 → 2025-11-25 10:23:28.357 local, then 15:23:28.357 UTC.
		{"6008_two_systemtimes", &parsers.Event{Provider: "EventLog", EventID: 6008, Time: at,
			Binary: "E9070B00020019000A0017001C006501" + "E9070B00020019000F0017001C006501"},
			true, BootDirtyStop, time.Time{}, time.Date(2025, 11, 25, 15, 23, 28, 357e6, time.UTC), -5 * time.Hour},
		{"kg12_starttime", &parsers.Event{Provider: "Microsoft-Windows-Kernel-General", EventID: 12, Time: at,
			Data: []parsers.Field{{Name: "StartTime", Value: "2025-11-25T15:23:59.500000000Z"}}},
			true, BootStart, time.Date(2025, 11, 25, 15, 23, 59, 5e8, time.UTC), time.Time{}, 0},
		{"kp41", &parsers.Event{Provider: "Microsoft-Windows-Kernel-Power", EventID: 41, Time: at}, true, BootDirtyStop, time.Time{}, time.Time{}, 0},
		{"6013_uptime", &parsers.Event{Provider: "EventLog", EventID: 6013, Time: at,
			Data: []parsers.Field{{}, {}, {}, {}, {Value: "3600"}, {Value: "60"}, {Value: "300 Eastern Standard Time"}}},
			true, BootUptime, at.Add(-time.Hour), time.Time{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := DecodeBoot(tt.ev)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if b.Kind != tt.kind || !b.BootTime.Equal(tt.bootTime) || !b.LastAlive.Equal(tt.lastAlive) || b.UTCOffset != tt.offset {
				t.Errorf("got %s boot %v alive %v offset %v; want %s %v %v %v", b.Kind, b.BootTime, b.LastAlive, b.UTCOffset, tt.kind, tt.bootTime, tt.lastAlive, tt.offset)
			}
		})
	}
}

func TestParseInsertion(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"%%1053", 1053, true}, {"%%-1072823311", 3222143985, true}, {"%%3222143985", 3222143985, true},
		{"%%2284126209", 2284126209, true}, {"0x2740", 10048, true}, {"10048", 10048, true},
		{"%%", 0, false}, {"running", 0, false}, {"%%99999999999", 0, false},
		// Found by FuzzParseInsertion: a hex value over 32 bits gave
		// 0xFFFFFFFF (ParseUint's clamp) with ok false.
		{"0x123456789", 0, false}, {"0x", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseInsertion(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseInsertion(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLookupError(t *testing.T) {
	tests := []struct {
		code  uint32
		class ErrorClass
		sym   string
	}{
		{10048, ClassPortConflict, "WSAEADDRINUSE"},
		{0x80072740, ClassPortConflict, "HRESULT_FROM_WIN32(WSAEADDRINUSE)"},
		{0xC000020A, ClassPortConflict, "STATUS_ADDRESS_ALREADY_EXISTS"},
		{0xC0000022, ClassPortConflict, "STATUS_ACCESS_DENIED"},
		{1058, ClassNotPort, "ERROR_SERVICE_DISABLED"},
		{123456, ClassUnknown, ""},
	}
	for _, tt := range tests {
		info, _ := LookupError(tt.code)
		if info.Class != tt.class || info.Symbol != tt.sym {
			t.Errorf("LookupError(0x%X) = %s %s, want %s %s", tt.code, info.Class, info.Symbol, tt.class, tt.sym)
		}
	}
}
