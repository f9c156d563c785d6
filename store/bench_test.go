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
