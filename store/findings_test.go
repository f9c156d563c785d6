package store

import (
	"context"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

func sampleFindings() ([]correlate.Finding, []correlate.Coverage) {
	fs := []correlate.Finding{
		{Bundle: "bundle.zip", Host: "SRV01", Service: "Internet Authentication Service", ServiceKey: "IAS",
			FailureTime: time.Date(2026, 2, 28, 8, 12, 3, 500, time.UTC), EventID: 7023, ErrorCode: 10048, HasError: true,
			ErrorClass: correlate.ClassPortConflict, Proto: parsers.UDP, Port: 1812, PortSource: correlate.PortSourceCatalog,
			Verdict: correlate.Confirmed, Confidence: 0.95, Reasons: []string{"dns.exe held UDP 1812", `a "quoted" <reason> & more`},
			OwnerPID: 1640, OwnerImage: "dns.exe", OwnerServices: []string{"DNS"}, Snapshot: "netstat-anob.txt",
			Rule: correlate.RuleDNSSocketPool, Remedy: []string{`reg add HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters /v ReservedPorts /t REG_MULTI_SZ /d "1812-1813"`},
			KB: []string{"KB956188"}, Evidence: []correlate.Evidence{
				{Artifact: "System.evtx", Channel: "System", RecordID: 501, Text: "The IAS service terminated…", Claim: "the service failed"},
				{Artifact: "netstat-anob.txt", Line: 7, Text: "  UDP    0.0.0.0:1812   *:*   1640", Claim: "dns.exe held the port"},
			}},
		// Every list empty, no owner, no time.
		{Bundle: "bundle.zip", Verdict: correlate.NoSnapshot, OwnerPID: -1},
	}
	cov := []correlate.Coverage{
		{Check: "snapshot", Status: "ok", Reason: "1 netstat listing"},
		{Check: "system-log", Status: "missing", Reason: "no System log in the bundle"},
	}
	return fs, cov
}

func TestFindingsRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	id := ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "bundle.zip"})
	fs, cov := sampleFindings()
	// A first save is replaced by the second.
	if err := s.SaveFindings(ctx, id, fs[1:], nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveFindings(ctx, id, fs, cov); err != nil {
		t.Fatal(err)
	}
	got, err := s.Findings(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fs) {
		t.Errorf("got  %+v\nwant %+v", got, fs)
	}
	gotCov, err := s.Coverage(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotCov, cov) {
		t.Errorf("coverage %+v, want %+v", gotCov, cov)
	}
	var reasons, evidence string
	if err := s.db.QueryRow("SELECT reasons, evidence FROM findings WHERE seq = 0").Scan(&reasons, &evidence); err != nil {
		t.Fatal(err)
	}
	if want := `["dns.exe held UDP 1812","a \"quoted\" <reason> & more"]`; reasons != want {
		t.Errorf("reasons stored as %s, want %s", reasons, want)
	}
	var claim string
	if err := s.db.QueryRow("SELECT json_extract(evidence, '$[1].claim') FROM findings WHERE seq = 0").Scan(&claim); err != nil || claim != "dns.exe held the port" {
		t.Errorf("evidence claim %q, %v", claim, err)
	}
	if err := s.SaveFindings(ctx, 999, fs, cov); err == nil {
		t.Error("findings of a missing case were saved")
	}
}

func TestViews(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	fail := scmEvent(7023, 501, "Internet Authentication Service", "%%10048")
	id := ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "bundle.zip", Host: "SRV01"},
		testArtifact{info: netstatInfo("ns.txt"), recs: []parsers.Record{
			socketRec(1, parsers.Socket{Proto: parsers.TCP, LocalPort: 80, HasPort: true, State: parsers.StateListening, PID: 4, Image: "System"}),
			socketRec(2, parsers.Socket{Proto: parsers.TCP, LocalPort: 49700, HasPort: true, State: parsers.StateEstablished, PID: 9,
				RemoteAddr: netip.MustParseAddr("10.0.0.1"), RemotePort: 443}),
			socketRec(3, parsers.Socket{Proto: parsers.UDP, LocalPort: 1812, HasPort: true, PID: 1640}),
			socketRec(4, parsers.Socket{Proto: parsers.TCP, LocalPort: 3101, HasPort: true, State: parsers.StateBound, PID: 7}),
		}},
		testArtifact{info: ArtifactInfo{Path: "System.evtx", Format: parsers.FormatEVTX}, recs: []parsers.Record{eventRec(fail)}})
	fs, _ := sampleFindings()
	if err := s.SaveFindings(ctx, id, fs, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("v_port_owners", func(t *testing.T) {
		rows, err := s.db.Query("SELECT artifact_path, captured_at, line, proto, local_port, state FROM v_port_owners WHERE case_id = ? ORDER BY line", id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []int
		for rows.Next() {
			var path, captured, proto, state string
			var line, port int
			if err := rows.Scan(&path, &captured, &line, &proto, &port, &state); err != nil {
				t.Fatal(err)
			}
			if path != "ns.txt" || captured != formatTime(testNow) {
				t.Errorf("row %d: %s %s", line, path, captured)
			}
			lines = append(lines, line)
		}
		if want := []int{1, 3, 4}; !reflect.DeepEqual(lines, want) {
			t.Errorf("lines %v, want %v (listening, UDP, bound)", lines, want)
		}
	})
	t.Run("v_failures", func(t *testing.T) {
		var path, service, class string
		var rid, code int64
		if err := s.db.QueryRow("SELECT artifact_path, record_id, service, error_code, error_class FROM v_failures WHERE case_id = ?", id).
			Scan(&path, &rid, &service, &code, &class); err != nil {
			t.Fatal(err)
		}
		if path != "System.evtx" || rid != 501 || service != "Internet Authentication Service" || code != 10048 || class != "port-conflict" {
			t.Errorf("got %s %d %s %d %s", path, rid, service, code, class)
		}
	})
	t.Run("v_findings", func(t *testing.T) {
		var bundle, host, verdict string
		var port int
		if err := s.db.QueryRow("SELECT bundle_path, case_host, verdict, port FROM v_findings WHERE case_id = ? ORDER BY seq", id).
			Scan(&bundle, &host, &verdict, &port); err != nil {
			t.Fatal(err)
		}
		if bundle != "bundle.zip" || host != "SRV01" || verdict != "CONFIRMED" || port != 1812 {
			t.Errorf("got %s %s %s %d", bundle, host, verdict, port)
		}
	})
}
