package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func corpusText(t *testing.T) (dir string, files []string) {
	t.Helper()
	dir = os.Getenv("PORTMORTEM_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	dir = filepath.Join(dir, "text")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus missing in CI at %s", dir)
		}
		t.Skipf("corpus not found at %s", dir)
	}
	return dir, files
}

func zipOf(t *testing.T, entries map[string][]byte, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range order {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(entries[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func inspectJSON(t *testing.T, args ...string) (map[string]artifactJSON, int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"inspect", "--json"}, args...), &stdout, &stderr)
	got := map[string]artifactJSON{}
	dec := json.NewDecoder(&stdout)
	for dec.More() {
		var a artifactJSON
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("bad JSON line: %v", err)
		}
		got[a.Path] = a
	}
	return got, code, stderr.String()
}

// TestInspectNestedZip: the corpus text files in a zip inside a zip, next
// to entries that must be refused, are all reported with their format.
func TestInspectNestedZip(t *testing.T) {
	_, files := corpusText(t)
	inner := map[string][]byte{}
	var order []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := "logs/" + filepath.Base(f)
		inner[name] = data
		order = append(order, name)
	}
	innerZip := zipOf(t, inner, order)
	outer := zipOf(t, map[string][]byte{
		"inner.zip":        innerZip,
		"../evil.txt":      []byte("escape"),
		"/etc/cron.d/evil": []byte("absolute"),
		"readme.txt":       []byte("not an artifact"),
	}, []string{"inner.zip", "../evil.txt", "/etc/cron.d/evil", "readme.txt"})
	dir := t.TempDir()
	path := filepath.Join(dir, "case.zip")
	if err := os.WriteFile(path, outer, 0o644); err != nil {
		t.Fatal(err)
	}

	got, code, stderr := inspectJSON(t, path)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	for _, f := range files {
		name := path + "!/inner.zip!/logs/" + filepath.Base(f)
		a, ok := got[name]
		if !ok {
			t.Errorf("%s not reported", name)
			continue
		}
		if a.Format == "unknown" || a.Format == "refused" || a.Records == 0 {
			t.Errorf("%s: format %s, %d records", name, a.Format, a.Records)
		}
		if want := expectedFormat(filepath.Base(f)); a.Format != want {
			t.Errorf("%s: format %s, want %s", name, a.Format, want)
		}
	}
	refused := 0
	for p, a := range got {
		if a.Format == "refused" {
			refused++
			if len(a.Warnings) == 0 || !strings.Contains(p, "evil") {
				t.Errorf("refused entry %s: %v", p, a.Warnings)
			}
		}
	}
	if refused != 2 {
		t.Errorf("%d entries refused, want 2 (../evil.txt and /etc/cron.d/evil)", refused)
	}
	if a := got[path+"!/readme.txt"]; a.Format != "unknown" {
		t.Errorf("readme.txt: format %q, want unknown", a.Format)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "evil.txt")); err == nil {
		t.Error("../evil.txt was written outside the bundle")
	}
}

func expectedFormat(name string) string {
	for prefix, f := range map[string]string{
		"netstat_": "netstat", "tasklist_": "tasklist", "tcpvcon_": "tcpvcon",
		"netsh_excludedportrange_": "netsh-excluded", "netsh_dynamicport_": "netsh-dynamic",
	} {
		if strings.HasPrefix(name, prefix) {
			return f
		}
	}
	return "?"
}

// TestInspectTarSymlink: a symlink in a tar is refused with a warning and
// the regular file next to it is read.
func TestInspectTarSymlink(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	netstat := "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n" +
		"  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       748\r\n"
	if err := tw.WriteHeader(&tar.Header{Name: "passwd", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}); err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "netstat.txt", Typeflag: tar.TypeReg, Size: int64(len(netstat)), Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(netstat)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bundle.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, code, stderr := inspectJSON(t, path)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	if a := got[path+"!/passwd"]; a.Format != "refused" || len(a.Warnings) != 1 {
		t.Errorf("symlink entry: %+v, want refused with a warning", a)
	}
	if a := got[path+"!/netstat.txt"]; a.Format != "netstat" || a.Records != 1 {
		t.Errorf("netstat.txt: format %s, %d records; want netstat, 1", a.Format, a.Records)
	}
}

// TestOneLine: no control character of any kind, nor a bidirectional
// control, reaches the terminal from a hostile name.
func TestOneLine(t *testing.T) {
	in := "a\x1b[31mb\tc\nd\x7fe\u009b31mf\u0085g\u202eh\u2066i"
	want := "a [31mb c d e 31mf g h i"
	if got := oneLine(in); got != want {
		t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
	}
	if got := oneLine("Dienst für Überwachung 日本"); got != "Dienst für Überwachung 日本" {
		t.Errorf("printable text changed: %q", got)
	}
}

// TestInspectHosts: inspect names each event log's and systeminfo's host,
// and says how analyze splits a folder of several hosts' bundles.
func TestInspectHosts(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"inspect", bundlesDir()}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"    host    WEB01\n",
		fmt.Sprintf(", analyzed as %d case(s):\n", len(scenarios())), // one per scenario: SBS01's two stay two
		"    host SBS01: 4 file(s) in sbs2003-ias-dns\n",
		"    host SBS01: 3 file(s) in stale-snapshot\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"inspect", filepath.Join(bundlesDir(), "apache-httpsys")}, &stdout, &stderr); code != exitOK || strings.Contains(stdout.String(), "hosts:") {
		t.Errorf("one host's bundle: exit %d, want no hosts lines:\n%s", code, stdout.String())
	}
}
