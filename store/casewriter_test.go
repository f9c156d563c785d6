package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/portmortem/portmortem/parsers"
)

// TestSplit splits a bundle of two hosts and an undecided artifact into
// three cases, commits them together, and checks a re-run of the bundle
// replaces all three.
func TestSplit(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	prov := Provenance{ToolVersion: "devel 41b9b4a", Options: "--tz +01:00", CatalogVersion: "built-in 0123456789ab"}
	sock := func(port uint16) []parsers.Record {
		return []parsers.Record{socketRec(5, parsers.Socket{Proto: parsers.TCP, LocalPort: port, HasPort: true, PID: 4})}
	}
	run := func(path string) *CaseWriter {
		c, err := s.BeginCase(ctx, CaseInfo{BundleHash: "h", BundlePath: path, Provenance: prov})
		if err != nil {
			t.Fatal(err)
		}
		web := addArtifact(t, c, testArtifact{info: netstatInfo("web/ns.txt"), recs: sock(80)})
		nps := addArtifact(t, c, testArtifact{info: netstatInfo("nps/ns.txt"), recs: sock(1812)})
		loose := addArtifact(t, c, testArtifact{info: netstatInfo("ns.txt"), recs: sock(3389)})
		err = c.Split(ctx, []CasePart{
			{Host: "WEB01", Collection: "web", Artifacts: []int64{web}, Notes: map[int64]string{web: "host: web"}},
			{Host: "NPS01", Collection: "nps", Artifacts: []int64{nps}},
			{Undecided: true, Artifacts: []int64{loose}, Notes: map[int64]string{loose: "host undecided"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := run("a.zip")
	ids := c.IDs()
	if len(ids) != 3 || ids[0] != c.ID() {
		t.Fatalf("IDs = %v", ids)
	}
	if err := c.Split(ctx, []CasePart{{}}); err == nil {
		t.Error("a second Split succeeded")
	}
	if err := c.SetHostFacts(ctx, ids[1], HostFacts{OSName: "Windows Server 2019"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetHostFacts(ctx, ids[2]+100, HostFacts{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetHostFacts of another case: %v, want ErrNotFound", err)
	}
	// Nothing is complete before Commit.
	if n := count(t, s, "cases WHERE status = 'complete'"); n != 0 {
		t.Fatalf("%d complete cases before Commit", n)
	}
	if err := c.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	cases, err := s.CasesByHash(ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		host, coll string
		undecided  bool
		port       uint16
	}
	var got []row
	for _, k := range cases {
		arts, err := s.Artifacts(ctx, k.ID)
		if err != nil || len(arts) != 1 {
			t.Fatalf("case %d artifacts %+v, %v", k.ID, arts, err)
		}
		var port uint16
		for _, p := range []uint16{80, 1812, 3389} {
			if owners, _ := s.Owners(k.ID).OwnersOf(ctx, parsers.TCP, p); len(owners) == 1 {
				port = p
			}
		}
		got = append(got, row{k.Host, k.Collection, k.Undecided, port})
		if k.Provenance != prov {
			t.Errorf("case %d provenance %+v, want %+v", k.ID, k.Provenance, prov)
		}
		if k.Undecided && !slices.Contains(arts[0].Notes, "host undecided") {
			t.Errorf("undecided artifact notes %q", arts[0].Notes)
		}
	}
	want := []row{{"WEB01", "web", false, 80}, {"NPS01", "nps", false, 1812}, {"", "", true, 3389}}
	if !slices.Equal(got, want) {
		t.Errorf("cases\n got %+v\nwant %+v", got, want)
	}
	if hf, err := s.HostFacts(ctx, ids[1]); err != nil || hf.OSName != "Windows Server 2019" {
		t.Errorf("host facts of the second case: %+v, %v", hf, err)
	}

	// A re-run of the same bundle replaces every case of the first.
	c2 := run("b.zip")
	if err := c2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "cases"); n != 3 {
		t.Errorf("%d cases after the re-run, want 3", n)
	}
	if n := count(t, s, "cases WHERE bundle_path = 'a.zip'"); n != 0 {
		t.Errorf("%d cases of the first run left", n)
	}

	// An aborted run deletes all its parts and leaves the complete ones.
	c3 := run("c.zip")
	if err := c3.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "cases"); n != 3 {
		t.Errorf("%d cases after an abort, want 3", n)
	}
	if n := count(t, s, "artifacts"); n != 3 {
		t.Errorf("%d artifacts after an abort, want 3", n)
	}
}
