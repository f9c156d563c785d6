// Package reports renders every output of portmortem from a Model read
// from the store: the Excel workbook (report.xlsx, github.com/xuri/excelize/v2),
// the self-contained HTML page (report.html, html/template), findings.json
// and the terminal table. It never sees parser output directly: everything
// comes through store query methods, so a report made from a database
// written last week says the same as the run that wrote it, and analyze and
// report write the same files.
//
// It imports parsers, correlate and store (for their types and queries),
// and is imported by cmd. Only this package imports excelize and
// html/template.
//
// # Files
//
//   - model.go: Model and Case (LoadCase, NewModel), the case's zone and
//     the rankings and groupings every report shares.
//   - labels.go: the texts every report shows alike: a finding's port,
//     service, owner and error, a failure's error and endpoint, where a
//     piece of evidence is.
//   - xlsx.go, xlsx_summary.go, cells.go: the workbook (WriteXLSX);
//     xlsx_zip.go, the zip it is saved through (member times, the
//     streamed sheets' <dimension>).
//   - html.go, summary.go, fold.go, timeline.go, templates/: the page
//     (WriteHTML). Each case opens with an executive summary (summary.go:
//     what failed, why, the fix, how sure, per failure); its findings are
//     folded (fold.go: one block per failure, the findings that differ
//     only by their port one fold, evidence they all cite shown once,
//     each remedy alternative its own copy block). The timeline draws
//     correlate.BuildSessions' boot sessions, numbered as the findings'
//     reasons number them. The print style names no paper size unless
//     Model.Paper does (--paper).
//   - json.go: findings.json (WriteJSON, JSONFinding; stable field names).
//   - text.go: the terminal table (WriteText).
//   - output.go: the temporary-file-and-rename every file goes through.
//
// # Conventions
//
// Times are stored in UTC; reports show them in the host's zone (the
// case's Zone: systeminfo, event 6008 or --tz, else UTC) and always say
// which. Everything that comes from a bundle is untrusted text: the HTML
// goes through html/template and loads nothing from outside the file (a
// Content-Security-Policy with hashes allows only its own style and
// script); the workbook writes it as string cells, cut at Excel's 32,767
// characters with a note in front. Large tables are streamed from the
// store: the workbook through excelize's StreamWriter (continuing on
// "Name (2)" past Excel's 1,048,576 rows), the HTML page keeping the first
// rows and saying how many it left out. Files are written to a temporary
// name and renamed.
//
// # Extending
//
// A new sheet: a store query (a slice for small tables, an iterator for
// large ones), a method on xlsxWriter that calls table with its columns,
// and a step in writeXLSX. A new HTML section: a field of htmlCase and a
// block in report.html.tmpl. A text both show: a function in labels.go.
// A new findings.json field: a field at the end of JSONFinding, and
// go test ./reports ./cmd/portmortem -run JSONGolden -update. Keep the
// sheet and section names and the JSON field names stable: tests, users
// and their scripts read them.
package reports
