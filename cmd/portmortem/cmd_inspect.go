package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
	"github.com/portmortem/portmortem/parsers/bundle"
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
	removeLeftovers(e, "", false)
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	table := !o.json && !o.records
	if table {
		fmt.Fprintf(e.stdout, rowFormat, "FORMAT", "ENCODING", "LOCALE", "RECORDS", "WARN", "PATH")
	}
	var unreadable, parseErrors int
	for _, path := range flags.Args() {
		var hosted []correlate.HostArtifact // for the table's hosts lines
		for entry, err := range bundle.Walk(ctx, path, o.limits.Limits) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err != nil {
				var be *bundle.Error
				if !errors.As(err, &be) {
					return err
				}
				if errors.Is(err, fs.ErrNotExist) {
					unreadable++
				}
				parseErrors++
				a := artifactJSON{Path: be.Path, Format: "refused", Warnings: []string{err.Error()}, WarningCount: 1}
				hosted = append(hosted, correlate.HostArtifact{Path: bundle.Rel(path, be.Path)})
				if err := emitArtifact(e, enc, table, o, a); err != nil {
					return err
				}
				continue
			}
			a, err := inspectEntry(ctx, enc, o, entry)
			if err != nil {
				return err
			}
			parseErrors += a.WarningCount
			if a.Format != string(parsers.FormatUnknown) {
				hosted = append(hosted, correlate.HostArtifact{Path: bundle.Rel(path, a.Path), Host: a.Host})
			}
			if err := emitArtifact(e, enc, table, o, a); err != nil {
				return err
			}
		}
		if table {
			printHosts(e.stdout, hosted)
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
func inspectEntry(ctx context.Context, enc *json.Encoder, o inspectOptions, entry bundle.Entry) (artifactJSON, error) {
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
		ModTimeSource: string(entry.ModTimeSource), Records: a.Records, Warnings: []string{},
		WarningCount: a.ErrorCount, Notes: a.Notes,
		Events: events.histogram(), Failures: events.failures, MoreFailures: events.moreFailures,
		Boots: events.boots, MoreBoots: events.moreBoots,
	}
	for _, pe := range a.Errors {
		out.Warnings = append(out.Warnings, pe.Error())
	}
	return out, nil
}

// rowFormat lays out the inspect table; the path comes last so that long
// bundle names do not push the columns around.
const rowFormat = "%-14s  %-12s  %-6s  %8v  %5v  %s\n"

// maxShown bounds the failures and boots the table lists per artifact;
// --json lists up to maxListed.
const maxShown = 20

// emitArtifact prints one artifact as a table row with its details
// indented below, or, with --json, as a JSON object. --records alone
// prints only the records.
func emitArtifact(e env, enc *json.Encoder, table bool, o inspectOptions, a artifactJSON) error {
	switch {
	case o.json:
		return enc.Encode(a)
	case !table:
		return nil
	}
	w := e.stdout
	fmt.Fprintf(w, rowFormat, a.Format, dash(a.Encoding), dash(a.Locale), a.Records, a.WarningCount, oneLine(a.Path))
	if a.Host != "" {
		fmt.Fprintf(w, "    host    %s\n", oneLine(a.Host))
	}
	for i, c := range a.Events {
		if i == 5 {
			fmt.Fprintf(w, "    … %d more kinds of event\n", len(a.Events)-5)
			break
		}
		fmt.Fprintf(w, "    events %6d × %s / %s / %d\n", c.Count, dash(c.Channel), oneLine(c.Provider), c.EventID)
	}
	for i, g := range groupFailures(a.Failures) {
		if i == maxShown {
			fmt.Fprintln(w, "    … more kinds of failure (--json lists every failure)")
			break
		}
		when := g.first.UTC().Format(time.RFC3339)
		if g.count > 1 {
			when = fmt.Sprintf("%d× %s … %s", g.count, when, g.last.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(w, "    failure [%s] %d %s: %s  (%s)\n", g.class, g.eventID, clip(oneLine(g.service), 60), clip(oneLine(g.message), 240), when)
	}
	if a.MoreFailures > 0 {
		fmt.Fprintf(w, "    … and %d failures past the first %d\n", a.MoreFailures, maxListed)
	}
	if len(a.Boots) > 0 {
		counts := map[string]int{}
		first, last := a.Boots[0].Time, a.Boots[0].Time
		for _, b := range a.Boots {
			counts[b.Kind]++
			if b.Time.Before(first) {
				first = b.Time
			}
			if b.Time.After(last) {
				last = b.Time
			}
		}
		fmt.Fprintf(w, "    boots   %d starts, %d clean shutdowns, %d unexpected shutdowns, %d uptime reports, %s … %s\n",
			counts["boot-start"], counts["clean-shutdown"], counts["unexpected-shutdown"], counts["uptime"],
			first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
	}
	for _, n := range a.Notes {
		fmt.Fprintf(w, "    note: %s\n", oneLine(n))
	}
	const shown = 3
	for i, warn := range a.Warnings {
		if i == shown {
			fmt.Fprintf(w, "    … %d more warning(s) (--json lists the first %d)\n", a.WarningCount-shown, len(a.Warnings))
			break
		}
		fmt.Fprintf(w, "    warning: %s\n", oneLine(warn))
	}
	return nil
}

// printHosts says how analyze would split a bundle's files by host
// (correlate.AssignHosts): one line per case when the bundle names more
// than one host.
func printHosts(w io.Writer, arts []correlate.HostArtifact) {
	plan := correlate.AssignHosts(arts)
	if plan.Hosts < 2 {
		return
	}
	fmt.Fprintf(w, "hosts: %d, analyzed as %d case(s):\n", plan.Hosts, len(plan.Groups))
	for _, g := range plan.Groups {
		where := ""
		if g.Collection != "" {
			where = " in " + oneLine(g.Collection)
		}
		switch {
		case g.Undecided:
			fmt.Fprintf(w, "    %d file(s) whose host could not be decided (no verdict uses them), e.g. %s\n",
				len(g.Members), oneLine(arts[g.Members[0]].Path))
		default:
			fmt.Fprintf(w, "    host %s: %d file(s)%s\n", oneLine(g.Host), len(g.Members), where)
		}
	}
}

// clip cuts s to n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps hostile input from breaking the table or the terminal:
// C0 and C1 control characters (C1 0x9b is a CSI to many terminals) and
// bidirectional controls, which reorder what is shown, become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
}
