package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// Exit codes, documented in doc.go and the README.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitParseErrors = 3
	exitFailOn      = 4
	exitInterrupted = 130 // SIGINT; SIGTERM and SIGHUP give 128 + their number (signalError)
)

// Errors that select an exit code.
var (
	errUsage       = errors.New("usage")
	errParseErrors = errors.New("some input could not be parsed")
)

// env is what a command may touch of the outside world.
type env struct {
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"analyze", "find which process held the port each failed service needed, with verdicts and remedies",
			analyzeUsage, runAnalyze},
		{"report", "write the reports again from the database, without reading the bundles",
			reportUsage, runReport},
		{"inspect", "list every artifact found in bundles: format, encoding, locale, records, warnings",
			"portmortem inspect [flags] PATH...", runInspect},
		{"synth", "write synthetic artifacts and bundles for benchmarks (evtx, netstat, bundles)", synthUsage, runSynth},
		{"version", "print the version", "portmortem version", runVersion},
		{"help", "print help for a command", "portmortem help [COMMAND]", nil},
	}
}

// run is the whole program: it parses args, runs the subcommand and turns
// its error into an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help":
		if len(rest) > 1 {
			return exitCode(fmt.Errorf("%w: help takes one COMMAND, not %d", errUsage, len(rest)), stderr)
		}
		if len(rest) == 1 {
			for _, c := range commands() {
				if c.name == rest[0] && c.run != nil {
					return exitCode(c.run(ctx, e, []string{"--help"}), stderr)
				}
			}
			if rest[0] != "help" {
				fmt.Fprintf(stderr, "portmortem: unknown command %q\n", rest[0])
				usage(stderr)
				return exitUsage
			}
		}
		usage(stdout)
		return exitOK
	case "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			err := c.run(ctx, e, rest)
			var sig signalError
			if errors.Is(err, context.Canceled) && errors.As(context.Cause(ctx), &sig) {
				err = fmt.Errorf("%w (%w)", err, sig)
			}
			return exitCode(err, stderr)
		}
	}
	fmt.Fprintf(stderr, "portmortem: unknown command %q\n", name)
	usage(stderr)
	return exitUsage
}

// exitCode is the one place where errors become exit codes.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return exitOK
	case errors.Is(err, context.Canceled):
		var sig signalError
		if errors.As(err, &sig) && sig.sig != syscall.SIGINT {
			fmt.Fprintf(stderr, "portmortem: %v\n", sig)
			return sig.code()
		}
		fmt.Fprintln(stderr, "portmortem: interrupted")
		return exitInterrupted
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "portmortem: %v\n", err)
		return exitUsage
	case errors.Is(err, errFailOn):
		fmt.Fprintf(stderr, "portmortem: %v\n", err)
		return exitFailOn
	case errors.Is(err, errParseErrors):
		fmt.Fprintf(stderr, "portmortem: %v\n", err)
		return exitParseErrors
	default:
		fmt.Fprintf(stderr, "portmortem: %v\n", err)
		return exitError
	}
}

// usage prints every command's usage lines (a command may have several)
// in one column, its summary beside the first.
func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("portmortem finds which process held the port a Windows service failed to bind.\n\nUsage:\n")
	width := 0
	for _, c := range commands() {
		for _, l := range strings.Split(c.usage, "\n") {
			width = max(width, len(strings.TrimSpace(l)))
		}
	}
	for _, c := range commands() {
		summary := c.summary
		for _, l := range strings.Split(c.usage, "\n") {
			line := fmt.Sprintf("  %-*s  %s", width, strings.TrimSpace(l), summary)
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			summary = ""
		}
	}
	b.WriteString("\nExit codes: 0 ok, 1 error, 2 usage, 3 parse errors with --strict, 4 --fail-on matched, 130 interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP.\n")
	b.WriteString("Run 'portmortem help COMMAND' for the flags of a command.\n")
	io.WriteString(w, b.String())
}

// newFlagSet returns a flag set that reports errors as usage errors and
// prints help to stdout.
func newFlagSet(e env, c string, usageLine string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: %s\n\nFlags:\n%s", usageLine, fs.FlagUsages())
	}
	return fs
}

// parseFlags parses args, turning pflag's errors into usage errors.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
