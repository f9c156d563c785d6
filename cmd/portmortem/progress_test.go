package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProgressHelper is not a test: run by TestProgressLine with
// PORTMORTEM_HELPER=1, it is the portmortem program, its arguments after
// "--".
func TestProgressHelper(t *testing.T) {
	if os.Getenv("PORTMORTEM_HELPER") != "1" {
		t.Skip("helper process")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(context.Background(), args, os.Stdout, os.Stderr))
}

// TestProgressLine runs analyze under a pseudo-terminal (util-linux
// script): the progress line appears on it; piped, or with --quiet, stderr
// holds no progress text.
func TestProgressLine(t *testing.T) {
	bundles, err := filepath.Glob(filepath.Join(bundlesDir(), "*", "expected.json"))
	if err != nil || len(bundles) == 0 {
		t.Fatalf("scenario bundles: %v", err)
	}
	for i, b := range bundles {
		bundles[i] = filepath.Dir(b)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	helper := func(extra ...string) []string {
		args := append([]string{self, "-test.run=^TestProgressHelper$", "--", "analyze", "--format", "json", "-o", t.TempDir()}, extra...)
		return append(args, bundles...)
	}
	env := append(os.Environ(), "PORTMORTEM_HELPER=1")
	const mark = " bundles, " // in "3/10 bundles, 42 artifacts, …"

	t.Run("piped", func(t *testing.T) {
		for _, extra := range [][]string{nil, {"--quiet"}} {
			args := helper(extra...)
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v: %v\n%s", extra, err, stderr.String())
			}
			if strings.Contains(stderr.String(), mark) || strings.Contains(stderr.String(), "\r") {
				t.Errorf("%v: progress text on a piped stderr: %q", extra, stderr.String())
			}
			if !strings.Contains(stdout.String(), "CONFIRMED") {
				t.Errorf("%v: no findings printed:\n%s", extra, stdout.String())
			}
		}
	})

	t.Run("terminal", func(t *testing.T) {
		script, err := exec.LookPath("script")
		if err != nil {
			t.Skip("no script(1) to make a pseudo-terminal")
		}
		for _, quiet := range []bool{false, true} {
			var extra []string
			if quiet {
				extra = []string{"--quiet"}
			}
			// A run long enough for a tick or two: the bundles twice over.
			args := helper(append(extra, bundles...)...)
			var line strings.Builder
			for _, a := range args {
				line.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "' ")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			cmd := exec.CommandContext(ctx, script, "-qec", line.String(), "/dev/null")
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("quiet=%v: %v\n%s", quiet, err, out)
			}
			has := bytes.Contains(out, []byte(mark))
			if !quiet && !has {
				t.Errorf("no progress line on the terminal:\n%q", out)
			}
			if quiet && has {
				t.Errorf("--quiet: progress line on the terminal:\n%q", out)
			}
		}
	})
}

// TestProgressClearedOnInterrupt checks that stopping the progress line
// after Ctrl-C blanks the line and the "^C" the terminal echoed after it.
func TestProgressClearedOnInterrupt(t *testing.T) {
	for _, interrupted := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		var b bytes.Buffer
		c := &console{w: &b}
		p := &progress{start: time.Now(), total: 3}
		stop := startProgress(ctx, c, p)
		if interrupted {
			cancel()
		}
		stop()
		cancel()
		line := p.line(time.Now())
		width := len(line)
		if interrupted {
			width += len("^C")
		}
		if want := "\r" + strings.Repeat(" ", width) + "\r"; !strings.HasSuffix(b.String(), want) {
			t.Errorf("interrupted=%v: output %q does not end with a clear of %d columns", interrupted, b.String(), width)
		}
	}
}
