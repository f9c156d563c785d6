package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/portmortem/portmortem/parsers"
	"github.com/spf13/pflag"
)

// inspectOptions are the flags of `portmortem inspect`.
type inspectOptions struct {
	json    bool
	records bool
	format  string
	strict  bool
	limits  limitFlags
}

func (o *inspectOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.json, "json", false, "print one JSON object per artifact")
	fs.BoolVar(&o.records, "records", false, "print every parsed record as a JSON line")
	fs.StringVar(&o.format, "format", "", "parse every file as this format instead of detecting it ("+formatNames()+")")
	fs.BoolVar(&o.strict, "strict", false, "exit with code 3 when any input could not be parsed")
	o.limits.AddFlags(fs)
}

func (o *inspectOptions) validate(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: inspect needs at least one PATH", errUsage)
	}
	if o.format != "" {
		if _, err := parsers.ByName(o.format); err != nil {
			return fmt.Errorf("%w: --format %q: known formats are %s", errUsage, o.format, formatNames())
		}
	}
	return o.limits.validate()
}

func formatNames() string {
	var names []string
	for _, p := range parsers.Parsers() {
		names = append(names, string(p.Format()))
	}
	return strings.Join(names, ", ")
}

// artifactJSON is the --json form of one artifact. Field names are stable.
type artifactJSON struct {
	Path          string    `json:"path"`
	Format        string    `json:"format"`
	ParserVersion int       `json:"parser_version,omitempty"`
	Encoding      string    `json:"encoding,omitempty"`
	Locale        string    `json:"locale,omitempty"`
	Variant       string    `json:"variant,omitempty"`
	Host          string    `json:"host,omitempty"`
	CapturedAt    time.Time `json:"captured_at,omitzero"`
	Size          int64     `json:"size"`
	ModTime       time.Time `json:"mtime,omitzero"`
	ModTimeSource string    `json:"mtime_source,omitempty"`
	Records       int       `json:"records"`
	Warnings      []string  `json:"warnings"`
	WarningCount  int       `json:"warning_count"`
	Notes         []string  `json:"notes,omitempty"`
	// Event logs only.
	Events       []eventCount  `json:"events,omitempty"`
	Failures     []failureJSON `json:"failures,omitempty"`
	MoreFailures int           `json:"more_failures,omitempty"`
	Boots        []bootJSON    `json:"boots,omitempty"`
	MoreBoots    int           `json:"more_boots,omitempty"`
}

// recordJSON is the --records form of one record.
type recordJSON struct {
	Artifact string `json:"artifact"`
	parsers.Record
}

func runInspect(ctx context.Context, e env, args []string) error {
	var o inspectOptions
	flags := newFlagSet(e, "inspect", "portmortem inspect [flags] PATH...")
	o.AddFlags(flags)
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if err := o.validate(flags.Args()); err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	var tw *tabwriter.Writer
	if !o.json && !o.records {
		tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PATH\tFORMAT\tENCODING\tLOCALE\tRECORDS\tWARNINGS")
	}
	var unreadable, parseErrors int
	for _, path := range flags.Args() {
		for entry, err := range parsers.Walk(ctx, path, o.limits.Limits) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err != nil {
				var be *parsers.BundleError
				if !errors.As(err, &be) {
					return err
				}
				if errors.Is(err, fs.ErrNotExist) {
					unreadable++
				}
				parseErrors++
				a := artifactJSON{Path: be.Path, Format: "refused", Warnings: []string{err.Error()}, WarningCount: 1}
				if err := emitArtifact(e, enc, tw, o, a); err != nil {
					return err
				}
				continue
			}
			a, err := inspectEntry(ctx, enc, o, entry)
			if err != nil {
				return err
			}
			parseErrors += a.WarningCount
			if err := emitArtifact(e, enc, tw, o, a); err != nil {
				return err
			}
		}
	}
	if tw != nil {
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	switch {
	case unreadable > 0:
		return fmt.Errorf("%d path(s) could not be read", unreadable)
	case o.strict && parseErrors > 0:
		return fmt.Errorf("%w: %d problem(s)", errParseErrors, parseErrors)
	}
	return nil
}

// inspectEntry parses one bundle entry, printing its records under --records.
func inspectEntry(ctx context.Context, enc *json.Encoder, o inspectOptions, entry parsers.Entry) (artifactJSON, error) {
	a, seq := parsers.Read(ctx, entry.Name, entry.File, parsers.Format(o.format))
	var events eventSummary
	for rec, err := range seq {
		if err := ctx.Err(); err != nil {
			return artifactJSON{}, err
		}
		if err != nil {
			continue
		}
		if rec.Event != nil {
			events.add(rec.Event)
		}
		if !o.records {
			continue
		}
		if err := enc.Encode(recordJSON{Artifact: entry.Name, Record: rec}); err != nil {
			return artifactJSON{}, err
		}
	}
	out := artifactJSON{
		Path: entry.Name, Format: string(a.Format), ParserVersion: a.ParserVersion,
		Encoding: string(a.Encoding), Locale: a.Locale, Variant: a.Variant, Host: a.Host,
		CapturedAt: a.CapturedAt, Size: entry.Size, ModTime: entry.ModTime,
		ModTimeSource: entry.ModTimeSource, Records: a.Records, Warnings: []string{},
		WarningCount: a.ErrorCount, Notes: a.Notes,
		Events: events.histogram(), Failures: events.failures, MoreFailures: events.moreFailures,
		Boots: events.boots, MoreBoots: events.moreBoots,
	}
	for _, pe := range a.Errors {
		out.Warnings = append(out.Warnings, pe.Error())
	}
	return out, nil
}

// emitArtifact prints one artifact as a table row (with its first warnings
// below it) or, with --json, as a JSON object. --records alone prints only
// the records.
func emitArtifact(e env, enc *json.Encoder, tw *tabwriter.Writer, o inspectOptions, a artifactJSON) error {
	switch {
	case o.json:
		return enc.Encode(a)
	case tw == nil:
		return nil
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", a.Path, a.Format, dash(a.Encoding), dash(a.Locale), a.Records, a.WarningCount)
	const shown = 3
	for i, c := range a.Events {
		if i == 5 {
			fmt.Fprintf(tw, "  … %d more event kinds\t\t\t\t\t\n", len(a.Events)-5)
			break
		}
		fmt.Fprintf(tw, "  events: %d × %s %s %d\t\t\t\t\t\n", c.Count, dash(c.Channel), oneLine(c.Provider), c.EventID)
	}
	for _, f := range a.Failures {
		fmt.Fprintf(tw, "  failure: %s  %d  %s  [%s] %s\t\t\t\t\t\n", f.Time.UTC().Format(time.RFC3339), f.EventID,
			oneLine(cmp.Or(f.Service, f.Provider)), f.Class, oneLine(f.Message))
	}
	if a.MoreFailures > 0 {
		fmt.Fprintf(tw, "  … %d more failures\t\t\t\t\t\n", a.MoreFailures)
	}
	for _, b := range a.Boots {
		fmt.Fprintf(tw, "  boot: %s  %s (%s %d)\t\t\t\t\t\n", b.Time.UTC().Format(time.RFC3339), b.Kind, oneLine(b.Provider), b.EventID)
	}
	if a.MoreBoots > 0 {
		fmt.Fprintf(tw, "  … %d more boot markers\t\t\t\t\t\n", a.MoreBoots)
	}
	for i, w := range a.Warnings {
		if i == shown {
			fmt.Fprintf(tw, "  … %d more warning(s); --json lists the first %d\t\t\t\t\t\n", a.WarningCount-shown, len(a.Warnings))
			break
		}
		fmt.Fprintf(tw, "  warning: %s\t\t\t\t\t\n", oneLine(w))
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps hostile input from breaking the table.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
