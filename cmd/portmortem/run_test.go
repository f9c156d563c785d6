package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// scenario is one testdata/cli/*.txtar file: a comment with directives,
// then files.
//
//	args: inspect --json $WORK/netstat.txt   (one line; $WORK is the temp dir with the files,
//	                                          $TESTDATA the repo's testdata, $CORPUS the shared corpus)
//	exit: 0
//	stdout: text that must appear on stdout (repeatable)
//	!stdout: text that must not appear
//	stderr: text that must appear on stderr (repeatable)
//	!stderr: text that must not appear on stderr
//	needs: corpus                            (skip where the corpus is absent)
type scenario struct {
	args              []string
	exit              int
	stdout, notStdout []string
	stderr, notStderr []string
	needsCorpus       bool
	files             map[string][]byte
}

// parseTxtar reads the txtar layout: a comment, then "-- name --" headers.
func parseTxtar(data []byte) (comment string, files map[string][]byte, order []string) {
	files = map[string][]byte{}
	var cur string
	var buf bytes.Buffer
	flush := func() {
		if cur == "" {
			comment = buf.String()
		} else {
			files[cur] = append([]byte(nil), buf.Bytes()...)
			order = append(order, cur)
		}
		buf.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		t := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			flush()
			cur = strings.TrimSpace(t[3 : len(t)-3])
			continue
		}
		buf.WriteString(line)
	}
	flush()
	return comment, files, order
}

func loadScenario(t *testing.T, path, work, corpus string) scenario {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	comment, files, _ := parseTxtar(data)
	s := scenario{files: files}
	testdata, _ := filepath.Abs(filepath.Join("..", "..", "testdata"))
	expand := func(v string) string {
		return strings.NewReplacer("$WORK", work, "$TESTDATA", testdata, "$CORPUS", corpus).Replace(v)
	}
	for _, line := range strings.Split(comment, "\n") {
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "args":
			for _, f := range strings.Fields(val) {
				s.args = append(s.args, expand(f))
			}
		case "exit":
			s.exit, err = strconv.Atoi(val)
			if err != nil {
				t.Fatalf("%s: bad exit %q", path, val)
			}
		case "stdout":
			s.stdout = append(s.stdout, expand(val))
		case "!stdout":
			s.notStdout = append(s.notStdout, expand(val))
		case "stderr":
			s.stderr = append(s.stderr, expand(val))
		case "!stderr":
			s.notStderr = append(s.notStderr, expand(val))
		case "needs":
			s.needsCorpus = val == "corpus"
		}
	}
	return s
}

func TestCLIScenarios(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "cli", "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	corpus, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus"))
	if c := os.Getenv("PORTMORTEM_CORPUS"); c != "" {
		corpus = c
	}
	_, corpusErr := os.Stat(corpus)
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			work := t.TempDir()
			s := loadScenario(t, path, work, corpus)
			if s.needsCorpus && corpusErr != nil {
				if os.Getenv("CI") != "" {
					t.Fatalf("corpus missing in CI: %v", corpusErr)
				}
				t.Skipf("corpus not found at %s", corpus)
			}
			for fname, content := range s.files {
				p := filepath.Join(work, filepath.FromSlash(fname))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), s.args, &stdout, &stderr)
			if code != s.exit {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, s.exit, stdout.String(), stderr.String())
			}
			for _, w := range s.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q\nstdout:\n%s", w, stdout.String())
				}
			}
			for _, w := range s.notStdout {
				if strings.Contains(stdout.String(), w) {
					t.Errorf("stdout has %q\nstdout:\n%s", w, stdout.String())
				}
			}
			for _, w := range s.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q\nstderr:\n%s", w, stderr.String())
				}
			}
			for _, w := range s.notStderr {
				if strings.Contains(stderr.String(), w) {
					t.Errorf("stderr has %q\nstderr:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestInterruptedExitCode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := run(ctx, []string{"inspect", dir}, &stdout, &stderr), exitInterrupted; got != want {
		t.Errorf("exit %d, want %d (stderr %q)", got, want, stderr.String())
	}
}

// TestUsageAligned checks that every command's summary starts in the same
// column of the top-level usage, whatever the length of its usage lines.
func TestUsageAligned(t *testing.T) {
	var b bytes.Buffer
	usage(&b)
	col := -1
	for _, c := range commands() {
		found := false
		for _, line := range strings.Split(b.String(), "\n") {
			i := strings.Index(line, c.summary)
			if i < 0 || !strings.HasPrefix(line, "  portmortem ") {
				continue
			}
			found = true
			if col < 0 {
				col = i
			}
			if i != col {
				t.Errorf("summary of %s at column %d, want %d:\n%s", c.name, i, col, b.String())
			}
		}
		if !found {
			t.Errorf("no usage line of %s has its summary:\n%s", c.name, b.String())
		}
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "   ") {
			t.Errorf("usage line %q is not in the command column", line)
		}
	}
}
