package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/portmortem/portmortem/correlate"
)

// JSONFinding is one element of findings.json. The field names and their
// order are stable: scripts read them. Every field is always there: lists
// are [] rather than null when empty, and a value that is unknown is null.
type JSONFinding struct {
	Bundle string `json:"bundle"`
	Host   string `json:"host"`
	// Collection is the folder or archive of the bundle that holds the
	// host's files when the bundle holds several hosts, "" otherwise.
	Collection  string  `json:"collection"`
	Service     string  `json:"service"`
	ServiceKey  string  `json:"service_key"`
	FailureTime *string `json:"failure_time"` // RFC 3339, UTC; null when unknown
	EventID     uint16  `json:"event_id"`
	// ErrorCode is null when the event gave none; Error is the code with
	// its name, "10048 (WSAEADDRINUSE)", null with it.
	ErrorCode  *uint32  `json:"error_code"`
	Error      *string  `json:"error"`
	Proto      string   `json:"proto"`
	Port       uint16   `json:"port"`
	PortSource *string  `json:"port_source"` // null when no port was found
	Verdict    string   `json:"verdict"`
	Confidence float64  `json:"confidence"`
	Reasons    []string `json:"reasons"`
	// OwnerPID is null when no owner was found.
	OwnerPID      *int                 `json:"owner_pid"`
	OwnerImage    string               `json:"owner_image"`
	OwnerServices []string             `json:"owner_services"`
	Snapshot      string               `json:"snapshot"`
	Rule          string               `json:"rule"`
	Remedy        []string             `json:"remedy"`
	KB            []string             `json:"kb"`
	Evidence      []correlate.Evidence `json:"evidence"`
	// AnalyzedWith is what made the finding's case.
	AnalyzedWith JSONProvenance `json:"analyzed_with"`
}

// JSONProvenance is what made a case: the portmortem build, the flags
// that change results ("" for none) and the port catalog.
type JSONProvenance struct {
	ToolVersion    string `json:"tool_version"`
	Options        string `json:"options"`
	CatalogVersion string `json:"catalog_version"`
}

// WriteJSON writes findings.json to path: every finding of the model's
// cases, in case order and then correlate's order, as an indented JSON
// array of JSONFinding. Like the other reports it goes to a temporary
// file in the same folder, renamed when complete.
func WriteJSON(ctx context.Context, m *Model, path string) error {
	if err := writeFileAtomic(path, func(w io.Writer) error { return writeJSON(ctx, m, w) }); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeJSON writes the array one finding at a time, as the encoder would
// write the whole array indented ("[\n  {…},\n  {…}\n]\n", "[]\n" when
// empty): a batch's findings, with their evidence, are never held
// together as JSON.
func writeJSON(ctx context.Context, m *Model, w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	sep := "[\n  "
	for _, c := range m.Cases {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range c.Findings {
			buf.Reset()
			buf.WriteString(sep)
			if err := enc.Encode(jsonFinding(c, &c.Findings[i])); err != nil {
				return err
			}
			buf.Truncate(buf.Len() - 1) // Encode's newline
			if _, err := w.Write(buf.Bytes()); err != nil {
				return err
			}
			sep = ",\n  "
		}
	}
	end := "\n]\n"
	if sep == "[\n  " {
		end = "[]\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

func jsonFinding(c *Case, f *correlate.Finding) JSONFinding {
	p := c.Provenance
	out := JSONFinding{
		Bundle: f.Bundle, Host: f.Host, Collection: c.Collection, Service: f.Service, ServiceKey: f.ServiceKey,
		AnalyzedWith: JSONProvenance{ToolVersion: p.ToolVersion, Options: p.Options, CatalogVersion: p.CatalogVersion},
		EventID:      f.EventID, Proto: string(f.Proto), Port: f.Port,
		Verdict: string(f.Verdict), Confidence: f.Confidence, Reasons: nonNil(f.Reasons),
		OwnerImage: f.OwnerImage, OwnerServices: nonNil(f.OwnerServices), Snapshot: f.Snapshot,
		Rule: string(f.Rule), Remedy: nonNil(f.Remedy), KB: nonNil(f.KB), Evidence: nonNil(f.Evidence),
	}
	if !f.FailureTime.IsZero() {
		t := f.FailureTime.UTC().Format(time.RFC3339Nano)
		out.FailureTime = &t
	}
	if f.PortSource != "" {
		src := string(f.PortSource)
		out.PortSource = &src
	}
	if f.HasError {
		code, label := f.ErrorCode, errorLabel(f)
		out.ErrorCode, out.Error = &code, &label
	}
	if f.OwnerPID >= 0 {
		pid := f.OwnerPID
		out.OwnerPID = &pid
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
