package parsers

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusFormat is the format each corpus text file must be detected as,
// from its name prefix.
func corpusFormat(name string) Format {
	for _, p := range []struct {
		prefix string
		f      Format
	}{
		{"netstat_", FormatNetstat},
		{"tasklist_", FormatTasklist},
		{"tcpvcon_", FormatTcpvcon},
		{"netsh_excludedportrange_", FormatNetshExcluded},
		{"netsh_dynamicport_", FormatNetshDynamic},
	} {
		if strings.HasPrefix(name, p.prefix) {
			return p.f
		}
	}
	return FormatUnknown
}

// TestDetectCorpus detects every real text capture of the shared corpus
// through the whole registry, as it is and re-encoded as Windows
// PowerShell 5.1 writes redirected output (UTF-16LE with BOM).
func TestDetectCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "text", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus text files: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		want := corpusFormat(name)
		if want == FormatUnknown {
			t.Errorf("%s: no expected format for this name; extend corpusFormat", name)
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, variant := range []struct {
			name string
			data []byte
		}{{"as_is", data}, {"utf16le_bom", toUTF16LEBOM(data)}} {
			t.Run(name+"/"+variant.name, func(t *testing.T) {
				head := variant.data[:min(len(variant.data), rawHeadLen)]
				p, _, err := Detect(head)
				if err != nil {
					t.Fatalf("Detect: %v, want %s", err, want)
				}
				if p.Format() != want {
					t.Errorf("Detect = %s, want %s", p.Format(), want)
				}
			})
		}
	}
}

func toUTF16LEBOM(b []byte) []byte {
	out := []byte{0xFF, 0xFE}
	for _, r := range string(b) {
		if r > 0xFFFF {
			r = '?'
		}
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}

func TestDetectUnknown(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
	}{
		{"empty", nil},
		{"prose", []byte("Dear support,\r\nthe service does not start after the reboot.\r\n")},
		{"binary_noise", bytes.Repeat([]byte{0x00, 0xFF, 0x13, 0x37}, 500)},
		{"ipconfig", []byte("\r\nWindows IP Configuration\r\n\r\nEthernet adapter Ethernet:\r\n\r\n   IPv4 Address. . . . . . . . . . . : 10.0.0.5\r\n")},
		{"csv_other", []byte("\"Name\",\"Value\"\r\n\"a\",\"1\"\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := Detect(tt.input)
			if !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("Detect = %v, %v; want ErrUnknownFormat", p, err)
			}
		})
	}
}

func TestByName(t *testing.T) {
	for _, p := range Parsers() {
		got, err := ByName(string(p.Format()))
		if err != nil || got.Format() != p.Format() {
			t.Errorf("ByName(%q) = %v, %v", p.Format(), got, err)
		}
	}
	if _, err := ByName("nonsense"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ByName(nonsense) error = %v, want ErrUnknownFormat", err)
	}
}

// TestRegistryFormatsUnique guards the explicit registry list.
func TestRegistryFormatsUnique(t *testing.T) {
	seen := map[Format]bool{}
	for _, p := range Parsers() {
		if seen[p.Format()] {
			t.Errorf("format %s registered twice", p.Format())
		}
		seen[p.Format()] = true
	}
}

// FuzzDetect checks that detection and the detected parser never panic and
// that Read reports every problem as a *ParseError.
func FuzzDetect(f *testing.F) {
	for _, dir := range []string{"netstat", "tasklist", "tcpvcon", "netsh", "pscsv", "services", "systeminfo", "timestamps", "evtxml", "eventexport"} {
		paths, _ := filepath.Glob(filepath.Join("..", "testdata", dir, "*"))
		for _, p := range paths {
			if strings.HasSuffix(p, ".golden.jsonl") || strings.HasSuffix(p, ".md") {
				continue
			}
			if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		p, enc, err := Detect(data)
		if err != nil {
			if !errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("Detect error %v is not ErrUnknownFormat", err)
			}
			return
		}
		if enc == "" {
			t.Fatal("no encoding")
		}
		if _, ok := p.(binaryParser); ok {
			return // binary parsers need an io.ReaderAt: their own fuzzers cover them
		}
		a, seq := Read(t.Context(), "fuzz", bytes.NewReader(data), "")
		for _, err := range seq {
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("Read error %v (%T) is not a *ParseError", err, err)
			}
		}
		if a.Format != p.Format() {
			t.Fatalf("Read detected %s, Detect %s", a.Format, p.Format())
		}
	})
}
