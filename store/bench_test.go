package store

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// BenchmarkIngestSockets ingests b.N netstat -anob sockets as one artifact
// of one case and reports rows/s. The 1,000,000-row figure in the report:
//
//	go test ./store -run '^$' -bench IngestSockets -benchtime 1000000x
func BenchmarkIngestSockets(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "bench", BundlePath: "bench.zip"})
	if err != nil {
		b.Fatal(err)
	}
	a, err := c.AddArtifact(ctx, netstatInfo("netstat-anob.txt"))
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		sock := benchSocket(i)
		if err := a.Add(parsers.Record{Kind: parsers.KindSocket, Line: i + 5, Socket: &sock}); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := c.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}

var (
	benchAddrs  = []netip.Addr{netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("10.20.30.40"), netip.MustParseAddr("fe80::1%4")}
	benchRemote = netip.MustParseAddr("192.168.1.77")
)

// benchSocket is the i-th socket of a large netstat -anob listing: two
// thirds TCP connections of svchost, one third a DNS UDP socket pool.
func benchSocket(i int) parsers.Socket {
	sock := parsers.Socket{Proto: parsers.TCP, LocalAddr: benchAddrs[i%len(benchAddrs)], LocalPort: uint16(1024 + i%60000),
		HasPort: true, RemoteAddr: benchRemote, RemotePort: uint16(i % 65536), State: parsers.StateEstablished,
		StateRaw: "ESTABLISHED", PID: 1000 + i%500, Image: "svchost.exe", Services: []string{"RpcSs"}}
	if i%3 == 0 {
		sock.Proto, sock.State, sock.StateRaw, sock.RemoteAddr, sock.RemotePort = parsers.UDP, "", "", netip.Addr{}, 0
		sock.Image, sock.Services = "dns.exe", []string{"DNS"}
	}
	return sock
}

// benchPlain is benchSocket as plain netstat -ano prints it: no image.
func benchPlain(i int) parsers.Socket {
	sock := benchSocket(i)
	sock.Image, sock.Services = "", nil
	return sock
}

// BenchmarkPortOwnersView reads every row of v_port_owners for a plain
// netstat -ano of b.N sockets (a third of them UDP endpoints) beside a
// tasklist of the 500 PIDs: each row's image comes from the tasklist.
//
//	go test ./store -run '^$' -bench PortOwnersView -benchtime 100000x
func BenchmarkPortOwnersView(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	var procs []parsers.Record
	for pid := 1000; pid < 1500; pid++ {
		procs = append(procs, parsers.Record{Kind: parsers.KindProcess, Line: pid, Process: &parsers.Process{PID: pid, Image: "svchost.exe"}})
	}
	socks := make([]parsers.Record, b.N)
	for i := range b.N {
		sock := benchPlain(i)
		socks[i] = parsers.Record{Kind: parsers.KindSocket, Line: i + 5, Socket: &sock}
	}
	tl := ArtifactInfo{Path: "tasklist.txt", Format: parsers.FormatTasklist, CapturedAt: testNow.Add(-time.Minute),
		CaptureSource: parsers.CaptureFlag}
	id := ingest(b, s, CaseInfo{BundleHash: "bench", BundlePath: "bench.zip"},
		testArtifact{info: tl, recs: procs}, testArtifact{info: netstatInfo("netstat-ano.txt"), recs: socks})
	b.ResetTimer()
	start := time.Now()
	rows, err := s.db.QueryContext(ctx, `SELECT image, image_source FROM v_port_owners WHERE case_id = ?`, id)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var image, source string
		if err := rows.Scan(&image, &source); err != nil {
			b.Fatal(err)
		}
		if image != "svchost.exe" || source != "tasklist.txt" {
			b.Fatalf("row %d: %q from %q", n, image, source)
		}
		n++
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "rows")
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkCommitLocalTimes commits a case holding a plain netstat of
// 100,000 sockets and a Get-NetTCPConnection export of b.N sockets with
// local bind times, with a known zone: the commit converts the b.N times
// and reads none of the netstat's sockets.
//
//	go test ./store -run '^$' -bench CommitLocalTimes -benchtime 10000x
func BenchmarkCommitLocalTimes(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "bench", BundlePath: "bench.zip"})
	if err != nil {
		b.Fatal(err)
	}
	ns := make([]parsers.Record, 100000)
	for i := range ns {
		sock := benchPlain(i)
		ns[i] = parsers.Record{Kind: parsers.KindSocket, Line: i + 5, Socket: &sock}
	}
	addArtifact(b, c, testArtifact{info: netstatInfo("netstat-ano.txt"), recs: ns})
	ps := make([]parsers.Record, b.N)
	for i := range b.N {
		sock := benchPlain(i)
		sock.CreatedAt, sock.CreatedLocal = testNow.Add(-time.Duration(i)*time.Second), true
		ps[i] = parsers.Record{Kind: parsers.KindSocket, Line: i + 2, Socket: &sock}
	}
	addArtifact(b, c, testArtifact{info: ArtifactInfo{Path: "nettcp.csv", Format: parsers.FormatPSNetTCP}, recs: ps})
	if err := c.SetHostFacts(ctx, c.ID(), HostFacts{ZoneOffset: -5 * time.Hour, HasZone: true, ZoneSource: ZoneFromFlag}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	if err := c.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "times/s")
	if n := count(b, s, "sockets WHERE created_local OR created_at_local IS NOT NULL"); n != 0 {
		b.Fatalf("%d local bind times left", n)
	}
}
