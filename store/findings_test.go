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

// TestPortOwnersImage: v_port_owners names a plain netstat socket's image
// and services from its PID in the case's listings — the one captured
// last before the netstat, else the first after it, else the first
// ingested — keeps a socket's own image, and never takes another case's.
func TestPortOwnersImage(t *testing.T) {
	s := openTest(t)
	at := func(d time.Duration) time.Time { return testNow.Add(d) }
	listing := func(path string, format parsers.Format, captured time.Time, recs ...parsers.Record) testArtifact {
		return testArtifact{info: ArtifactInfo{Path: path, Format: format, CapturedAt: captured,
			CaptureSource: parsers.CaptureFlag}, recs: recs}
	}
	proc := func(line, pid int, image string, services ...string) parsers.Record {
		return parsers.Record{Kind: parsers.KindProcess, Line: line, Process: &parsers.Process{PID: pid, Image: image, Services: services}}
	}
	udp := func(line, pid int, port uint16) parsers.Record {
		return socketRec(line, parsers.Socket{Proto: parsers.UDP, LocalPort: port, HasPort: true, PID: pid})
	}
	id := ingest(t, s, CaseInfo{BundleHash: "h", BundlePath: "b"},
		listing("tasklist-old.txt", parsers.FormatTasklist, at(-2*time.Hour), proc(3, 1640, "old.exe")),
		listing("tasklist-before.txt", parsers.FormatTasklist, at(-10*time.Minute), proc(4, 1640, "svchost.exe", "IAS", "RemoteAccess")),
		listing("tasklist-after.txt", parsers.FormatTasklist, at(5*time.Minute),
			proc(5, 1640, "later.exe"), proc(6, 7, "blackberry.exe", "BBRouter")),
		listing("tasklist-untimed.txt", parsers.FormatTasklist, time.Time{}, proc(7, 2000, "dns.exe", "DNS")),
		// Tcpvcon 4.x: PIDs and images, no ports.
		listing("tcpvcon.csv", parsers.FormatTcpvcon, at(time.Hour),
			socketRec(2, parsers.Socket{Proto: parsers.TCP, PID: 3000, Image: "nginx.exe"})),
		listing("ns.txt", parsers.FormatNetstat, testNow,
			udp(1, 1640, 1812),
			socketRec(2, parsers.Socket{Proto: parsers.TCP, LocalPort: 3101, HasPort: true, State: parsers.StateListening, PID: 7}),
			udp(3, 2000, 53),
			udp(4, 3000, 8080),
			udp(5, 4242, 9999), // in no listing
			socketRec(6, parsers.Socket{Proto: parsers.TCP, LocalPort: 80, HasPort: true, State: parsers.StateListening,
				PID: 4, Image: "System"}),
		))
	// Another case of another bundle with the same PID.
	ingest(t, s, CaseInfo{BundleHash: "h2", BundlePath: "b2"},
		listing("tasklist.txt", parsers.FormatTasklist, testNow, proc(1, 4242, "elsewhere.exe")))

	rows, err := s.db.Query(`SELECT line, image, services, image_source, image_artifact_id IS NULL, COALESCE(image_line, 0)
		FROM v_port_owners WHERE case_id = ? ORDER BY line`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		line                    int
		image, services, source string
		noArtifact              bool
		imageLine               int
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.line, &r.image, &r.services, &r.source, &r.noArtifact, &r.imageLine); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []row{
		{1, "svchost.exe", "IAS,RemoteAccess", "tasklist-before.txt", false, 4}, // latest before, not the older nor the later
		{2, "blackberry.exe", "BBRouter", "tasklist-after.txt", false, 6},       // only after
		{3, "dns.exe", "DNS", "tasklist-untimed.txt", false, 7},                 // capture time unknown
		{4, "nginx.exe", "", "tcpvcon.csv", false, 2},                           // a socket listing that names images
		{5, "", "", "", true, 0},                                                // no listing of this case has the PID
		{6, "System", "", "socket", false, 6},                                   // its own
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v_port_owners\n got %+v\nwant %+v", got, want)
	}
}
