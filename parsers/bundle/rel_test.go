package bundle

import "testing"

func TestRel(t *testing.T) {
	for _, tt := range []struct{ bundle, name, want string }{
		{"dir", "dir/sub/x.txt", "sub/x.txt"},
		{"dir/", "dir/x.txt", "x.txt"},
		{".", "./a/x.txt", "a/x.txt"},
		{"/tmp/b", "/tmp/b/inner.zip!/n1/x.txt", "inner.zip!/n1/x.txt"},
		{"x/case.zip", "x/case.zip!/logs/x.txt", "logs/x.txt"},
		{"x/case.zip", "x/case.zip!/in.zip!/x.txt", "in.zip!/x.txt"},
		{"x/netstat.txt", "x/netstat.txt", "x/netstat.txt"}, // a single file is its own name
		{"dir", "other/x.txt", "other/x.txt"},
		{"dir", "dirx/x.txt", "dirx/x.txt"},
	} {
		if got := Rel(tt.bundle, tt.name); got != tt.want {
			t.Errorf("Rel(%q, %q) = %q, want %q", tt.bundle, tt.name, got, tt.want)
		}
	}
}
