package correlate

import (
	"reflect"
	"strings"
	"testing"
)

func TestHostKey(t *testing.T) {
	for in, want := range map[string]string{
		"WEB01": "WEB01", "web01.contoso.local": "WEB01", " Student-PC1.internal.greendale.edu ": "STUDENT-PC1",
		"10.0.0.5": "10.0.0.5", "fe80::1": "fe80::1", "": "",
	} {
		if got := HostKey(in); got != want {
			t.Errorf("HostKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAssignHosts(t *testing.T) {
	type group struct {
		Host, Collection string
		Undecided        bool
		Members          []int
	}
	tests := []struct {
		name     string
		arts     []HostArtifact
		want     []group
		wantHow  map[int]string // substrings of How
		wantHost int
	}{
		{name: "empty"},
		{
			name: "no_host",
			arts: []HostArtifact{{Path: "netstat.txt"}, {Path: "tasklist.txt"}},
			want: []group{{Members: []int{0, 1}}},
		},
		{
			name: "one_host_flat",
			arts: []HostArtifact{{Path: "System.evtx", Host: "WEB01.contoso.local"}, {Path: "systeminfo.txt", Host: "web01"}, {Path: "netstat.txt"}},
			want: []group{{Host: "WEB01.contoso.local", Members: []int{0, 1, 2}}}, wantHost: 1,
			wantHow: map[int]string{0: "named in the artifact", 2: "the host of the bundle"},
		},
		{
			// One host in two folders: a bundle of one host is one case.
			name: "one_host_two_folders",
			arts: []HostArtifact{{Path: "d1/System.evtx", Host: "SBS01"}, {Path: "d2/System.evtx", Host: "SBS01"}, {Path: "d2/netstat.txt"}, {Path: "top.txt"}},
			want: []group{{Host: "SBS01", Members: []int{0, 1, 2, 3}}}, wantHost: 1,
			wantHow: map[int]string{2: "the host of d2", 3: "the host of the bundle"},
		},
		{
			name: "parent_of_bundles",
			arts: []HostArtifact{
				{Path: "a/System.evtx", Host: "WEB01"}, {Path: "a/netstat.txt"}, {Path: "a/sub/tasklist.txt"},
				{Path: "b/System.evtx", Host: "NPS01"}, {Path: "b/netstat.txt"},
			},
			want:     []group{{Host: "WEB01", Collection: "a", Members: []int{0, 1, 2}}, {Host: "NPS01", Collection: "b", Members: []int{3, 4}}},
			wantHost: 2, wantHow: map[int]string{2: "the host of a,"},
		},
		{
			// Two collections of SBS01 beside another host: two cases, as
			// two bundles would be.
			name: "two_collections_of_one_host",
			arts: []HostArtifact{
				{Path: "s1/System.evtx", Host: "SBS01"}, {Path: "s1/n.txt"}, {Path: "s2/System.evtx", Host: "SBS01"},
				{Path: "s2/n.txt"}, {Path: "w/System.evtx", Host: "WEB01"},
			},
			want: []group{
				{Host: "SBS01", Collection: "s1", Members: []int{0, 1}}, {Host: "SBS01", Collection: "s2", Members: []int{2, 3}},
				{Host: "WEB01", Collection: "w", Members: []int{4}},
			},
			wantHost: 2,
		},
		{
			name: "flat_mixed_folder",
			arts: []HostArtifact{
				{Path: "logs/WEB01-System.evtx", Host: "WEB01"}, {Path: "logs/NPS01-System.evtx", Host: "NPS01"},
				{Path: "logs/netstat-web01.txt"}, {Path: "logs/netstat.txt"}, {Path: "logs/netstat-WEB010.txt"},
				{Path: "logs/netstat-WEB01-NPS01.txt"}, {Path: "logs/portmortem-NPS01-20260302/netstat.txt"},
			},
			want: []group{
				{Host: "WEB01", Members: []int{0, 2}}, {Host: "NPS01", Members: []int{1, 6}},
				{Undecided: true, Members: []int{3, 4, 5}},
			},
			wantHost: 2,
			wantHow: map[int]string{2: "its name names", 3: "host undecided", 4: "logs holds artifacts of 2 hosts (NPS01, WEB01)",
				5: "host undecided", 6: "its name names"},
		},
		{
			// Files among other hosts' files join their host's one collection.
			name: "loose_joins_only_collection",
			arts: []HostArtifact{
				{Path: "WEB01/System.evtx", Host: "WEB01"}, {Path: "WEB01/netstat.txt"},
				{Path: "logs/WEB01-Application.evtx", Host: "WEB01"}, {Path: "logs/NPS01.evtx", Host: "NPS01"},
			},
			want:     []group{{Host: "WEB01", Collection: "WEB01", Members: []int{0, 1, 2}}, {Host: "NPS01", Members: []int{3}}},
			wantHost: 2,
		},
		{
			name: "archives_are_folders",
			arts: []HostArtifact{
				{Path: "cluster.zip!/n1/System.evtx", Host: "N1"}, {Path: "cluster.zip!/n1/netstat.txt"},
				{Path: "cluster.zip!/n2.zip!/System.evtx", Host: "N2"}, {Path: "cluster.zip!/n2.zip!/netstat.txt"},
				{Path: "cluster.zip!/readme-netstat.txt"},
			},
			want: []group{
				{Host: "N1", Collection: "cluster.zip!/n1", Members: []int{0, 1}},
				{Host: "N2", Collection: "cluster.zip!/n2.zip!", Members: []int{2, 3}},
				{Undecided: true, Members: []int{4}},
			},
			wantHost: 2,
		},
		{
			// The FQDN and the NetBIOS name are one host; loose files of
			// one host are one case.
			name: "fqdn_and_netbios",
			arts: []HostArtifact{
				{Path: "System.evtx", Host: "WEB01.contoso.local"}, {Path: "other/System.evtx", Host: "NPS01"},
				{Path: "systeminfo.txt", Host: "web01"},
			},
			want:     []group{{Host: "WEB01.contoso.local", Members: []int{0, 2}}, {Host: "NPS01", Collection: "other", Members: []int{1}}},
			wantHost: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := AssignHosts(tt.arts)
			var got []group
			for _, g := range plan.Groups {
				got = append(got, group{g.Host, g.Collection, g.Undecided, g.Members})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("groups\n got %+v\nwant %+v", got, tt.want)
			}
			if plan.Hosts != tt.wantHost {
				t.Errorf("hosts = %d, want %d", plan.Hosts, tt.wantHost)
			}
			for i, sub := range tt.wantHow {
				if !strings.Contains(plan.How[i], sub) {
					t.Errorf("How[%d] = %q, want %q in it", i, plan.How[i], sub)
				}
			}
			// Every artifact is in exactly one group.
			seen := make([]int, len(tt.arts))
			for _, g := range plan.Groups {
				for _, m := range g.Members {
					seen[m]++
				}
			}
			for i, n := range seen {
				if n != 1 {
					t.Errorf("artifact %d is in %d groups", i, n)
				}
			}
		})
	}
}

// FuzzAssignHosts: whatever the paths and host names (a hostile archive's
// member names), every artifact lands in exactly one non-empty group, an
// undecided group exists only in a bundle of several hosts, and the plan
// does not depend on anything but its input.
func FuzzAssignHosts(f *testing.F) {
	f.Add("a/System.evtx\x00WEB01\x00a/netstat.txt\x00\x00b/System.evtx\x00NPS01\x00b/x.txt\x00")
	f.Add("System.evtx\x00web01.contoso.local\x00logs/netstat-WEB01.txt\x00\x00x.zip!/n2/s.evtx\x00N2\x00")
	f.Add("/\x00\x00//\x00.\x00a//b\x00 \x00")
	f.Fuzz(func(t *testing.T, in string) {
		fields := strings.Split(in, "\x00")
		if len(fields) > 400 {
			return
		}
		var arts []HostArtifact
		for i := 0; i+1 < len(fields); i += 2 {
			arts = append(arts, HostArtifact{Path: fields[i], Host: fields[i+1]})
		}
		plan := AssignHosts(arts)
		if !reflect.DeepEqual(plan, AssignHosts(arts)) {
			t.Fatal("two plans of one input differ")
		}
		seen := make([]int, len(arts))
		for _, g := range plan.Groups {
			if len(g.Members) == 0 {
				t.Fatalf("empty group %+v", g)
			}
			if g.Undecided && plan.Hosts < 2 {
				t.Fatalf("undecided group in a bundle of %d host(s)", plan.Hosts)
			}
			for _, m := range g.Members {
				seen[m]++
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("artifact %d (%q) in %d groups", i, arts[i].Path, n)
			}
		}
		if len(plan.How) != len(arts) {
			t.Fatalf("%d How entries for %d artifacts", len(plan.How), len(arts))
		}
	})
}
