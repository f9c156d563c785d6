package main

import "testing"

func TestByteSizeString(t *testing.T) {
	tests := []struct {
		name string
		in   byteSize
		want string
	}{
		{"GiB", 64 << 30, "64GiB"},
		{"MiB", 512 << 20, "512MiB"},
		{"KiB", 3 << 10, "3KiB"},
		{"TiB", 2 << 40, "2TiB"},
		{"bytes", 1000, "1000"},
		{"zero", 0, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			var back byteSize
			if err := back.Set(tt.want); tt.in > 0 && (err != nil || back != tt.in) {
				t.Errorf("Set(%q) = %d, %v; want %d", tt.want, back, err, tt.in)
			}
		})
	}
}
