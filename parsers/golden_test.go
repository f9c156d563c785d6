package parsers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "update golden files")

// renderJSONL reads the artifact at path through Read (format detection and
// text decoding included) and renders one JSON line per record or error.
// The first line summarises the artifact.
func renderJSONL(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	a, seq := Read(context.Background(), filepath.Base(path), f, "")
	var lines []any
	for rec, err := range seq {
		if err != nil {
			lines = append(lines, map[string]string{"error": err.Error()})
			continue
		}
		lines = append(lines, rec)
	}
	summary := map[string]any{
		"artifact": a.Path, "format": a.Format, "encoding": a.Encoding,
		"locale": a.Locale, "variant": a.Variant, "host": a.Host, "records": a.Records, "errors": a.ErrorCount,
	}
	if err := enc.Encode(summary); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// checkGolden compares got with the golden file, or rewrites it under
// -update. CRLF is normalised before comparing.
func checkGolden(t *testing.T, got []byte, golden string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./parsers -update to create it)", err)
	}
	norm := func(b []byte) string { return strings.ReplaceAll(string(b), "\r\n", "\n") }
	if g, w := norm(got), norm(want); g != w {
		gl, wl := strings.Split(g, "\n"), strings.Split(w, "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var a, b string
			if i < len(gl) {
				a = gl[i]
			}
			if i < len(wl) {
				b = wl[i]
			}
			if a != b {
				t.Fatalf("%s: line %d differs\n got: %s\nwant: %s", golden, i+1, a, b)
			}
		}
	}
}

// goldenFiles returns the testdata inputs of a folder (not the goldens).
func goldenFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, ".golden.jsonl") || strings.HasSuffix(name, ".md") {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	return out
}

// checkParseInvariants runs p over data twice and checks what every parser
// must hold on any input: no panic, errors are *ParseError with a position,
// and the same input gives the same output.
func checkParseInvariants(t *testing.T, p Parser, data []byte) {
	t.Helper()
	run := func() string {
		var buf bytes.Buffer
		for rec, err := range p.Parse(context.Background(), bytes.NewReader(data)) {
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("error %v (%T) is not a *ParseError", err, err)
				}
				if pe.Line <= 0 && pe.Offset < 0 {
					t.Fatalf("error %v has no position", err)
				}
				buf.WriteString("error: " + err.Error() + "\n")
				continue
			}
			b, err := json.Marshal(rec)
			if err != nil {
				t.Fatalf("record does not marshal: %v", err)
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
		return buf.String()
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("same input, different output:\n%s\n---\n%s", a, b)
	}
}

// collect runs p over r and returns what it yields, failing the test on an
// error that is not a *ParseError.
func collect(t testing.TB, p Parser, r io.Reader) (recs []Record, errs []*ParseError) {
	t.Helper()
	for rec, err := range p.Parse(context.Background(), r) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			errs = append(errs, pe)
			continue
		}
		recs = append(recs, rec)
	}
	return recs, errs
}
