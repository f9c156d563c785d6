package parsers

import (
	"slices"
	"testing"
)

func TestServicesGolden(t *testing.T) { npsGolden(t, "../testdata/services") }

func TestServicesBadLines(t *testing.T) {
	recs, errs := npsCollect(t, servicesFile{}, npsDecoded(t, "../testdata/services/synthetic_services_badlines.txt"))
	if got, want := npsErrLines(errs), []int{4, 5, 6, 7}; !npsEqualInts(got, want) {
		t.Errorf("error lines = %v, want %v (%v)", got, want, errs)
	}
	if got, want := len(recs), 12; got != want {
		t.Errorf("%d records, want %d", got, want)
	}
}

func TestServicesCases(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		want      []ServicePort
		wantLines []int
	}{
		{name: "empty", input: ""},
		{name: "comments_only", input: "# Copyright\r\n#\r\n\r\n   # indented comment\r\n"},
		{
			name:  "aliases_and_comment",
			input: "discard             9/tcp    sink null              #Discard\r\n",
			want:  []ServicePort{{Name: "discard", Port: 9, Proto: TCP, Aliases: []string{"sink", "null"}}},
		},
		{
			name:  "comment_glued_and_upper_proto",
			input: "domain 53/UDP#DNS\nx 0/tcp\ny 65535/udp\n",
			want: []ServicePort{
				{Name: "domain", Port: 53, Proto: UDP},
				{Name: "x", Port: 0, Proto: TCP},
				{Name: "y", Port: 65535, Proto: UDP},
			},
		},
		{name: "no_port", input: "lonely\n", wantLines: []int{1}},
		{name: "no_proto", input: "ftp 21/\n", wantLines: []int{1}},
		{name: "negative_port", input: "ftp -21/tcp\n", wantLines: []int{1}},
		{name: "sctp", input: "foo 9/sctp\n", wantLines: []int{1}},
		{name: "wrong_format_netstat", input: "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State\r\n", wantLines: []int{2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := npsCollect(t, servicesFile{}, []byte(tt.input))
			if len(recs) != len(tt.want) {
				t.Fatalf("got %d records %+v, want %+v", len(recs), recs, tt.want)
			}
			for i, r := range recs {
				g, w := r.ServicePort, tt.want[i]
				if r.Kind != KindServicePort || g == nil || r.Line <= 0 {
					t.Fatalf("record %+v is not a service port with a line", r)
				}
				if g.Name != w.Name || g.Port != w.Port || g.Proto != w.Proto || !slices.Equal(g.Aliases, w.Aliases) {
					t.Errorf("entry %d = %+v, want %+v", i, *g, w)
				}
			}
			if got := npsErrLines(errs); !npsEqualInts(got, tt.wantLines) {
				t.Errorf("error lines = %v, want %v (%v)", got, tt.wantLines, errs)
			}
		})
	}
}

func TestServicesDetect(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Format
	}{
		{"three_entries", "# services\r\necho 7/tcp\r\necho 7/udp\r\ndiscard 9/tcp sink null\r\n", FormatServices},
		{"two_entries", "echo 7/tcp\r\necho 7/udp\r\n", FormatUnknown},
		{"mostly_other", "echo 7/tcp\necho 7/udp\ndiscard 9/tcp\nfoo bar\nbaz qux\n", FormatUnknown},
		{"linux_ddp_lines_neutral", "rtmp 1/ddp\nnbp 2/ddp\necho 7/tcp\necho 7/udp\ndiscard 9/tcp\n", FormatUnknown},
		{"cut_last_line_ignored", "echo 7/tcp\necho 7/udp\ndiscard 9/tcp\nsystat 11/t", FormatServices},
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

func FuzzServices(f *testing.F) {
	npsFuzzSeeds(f, "../testdata/services")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > npsFuzzMax {
			return
		}
		p := servicesFile{}
		p.Sniff(data[:min(len(data), SniffLen)])
		checkParseInvariants(t, p, data)
	})
}
