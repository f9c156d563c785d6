package reports

import (
	"fmt"
	"strings"

	"github.com/portmortem/portmortem/correlate"
	"github.com/xuri/excelize/v2"
)

// The Summary and Index sheets are small and laid out as pages rather
// than tables: they use the cell API (never mixed with the streaming
// writer on one sheet).

// sheetCursor writes a page sheet row by row.
type sheetCursor struct {
	x     *xlsxWriter
	sheet string
	row   int
	err   error
	// last is the bottom-right cell written (row, column), for the
	// sheet's <dimension>.
	lastRow, lastCol int
}

// put writes values from column A on the current row; a value may be an
// excelize.Cell to give it a style.
func (c *sheetCursor) put(values ...any) {
	if c.err != nil {
		return
	}
	for i, v := range values {
		if v == nil {
			continue
		}
		cell, err := excelize.CoordinatesToCellName(i+1, c.row)
		if err != nil {
			c.err = err
			return
		}
		style := c.x.st.text
		if sc, ok := v.(excelize.Cell); ok {
			style, v = sc.StyleID, sc.Value
		}
		if s, ok := v.(string); ok {
			v = cutText(s, excelize.TotalCellChars, cutWhere)
		}
		if c.err = c.x.f.SetCellValue(c.sheet, cell, v); c.err != nil {
			return
		}
		if c.err = c.x.f.SetCellStyle(c.sheet, cell, cell, style); c.err != nil {
			return
		}
		c.lastRow, c.lastCol = max(c.lastRow, c.row), max(c.lastCol, i+1)
	}
}

// finish sets the sheet's <dimension> to the cells written (excelize
// leaves a new sheet's A1) and what it prints: those cells, across
// columns columns.
func (c *sheetCursor) finish(columns int) {
	if c.err != nil || c.lastRow == 0 {
		return
	}
	last, err := excelize.CoordinatesToCellName(c.lastCol, c.lastRow)
	if err != nil {
		c.err = err
		return
	}
	if c.err = c.x.f.SetSheetDimension(c.sheet, "A1:"+last); c.err != nil {
		return
	}
	c.err = c.x.printSetup(c.sheet, max(columns, c.lastCol), c.lastRow, "")
}

// wrapped makes the current row tall enough for text wrapped in a
// column width characters wide (rows of one line keep their height).
func (c *sheetCursor) wrapped(text string, width float64) {
	if c.err != nil {
		return
	}
	if lines := wrappedLines(text, int(width)-1); lines > 1 {
		c.err = c.x.f.SetRowHeight(c.sheet, c.row, min(float64(lines)*15, maxRowHeight))
	}
}

// merge merges the current row's cells from column first to last
// (0-based).
func (c *sheetCursor) merge(first, last int) {
	if c.err != nil {
		return
	}
	from, _ := excelize.CoordinatesToCellName(first+1, c.row)
	to, _ := excelize.CoordinatesToCellName(last+1, c.row)
	c.err = c.x.f.MergeCell(c.sheet, from, to)
}

// line writes values and moves to the next row.
func (c *sheetCursor) line(values ...any) {
	c.put(values...)
	c.row++
}

func (x *xlsxWriter) styled(style int, v any) excelize.Cell {
	return excelize.Cell{StyleID: style, Value: v}
}

// summaryWidths are the widths of the Summary's columns (characters): a
// finding's verdict, confidence, service, port, owner, rule, failure time
// and first reason.
var summaryWidths = []float64{22, 12, 46, 12, 28, 22, 24, 60}

// summary writes the Summary sheet: the run, then one section per bundle
// with its host, zone, findings and what could not be checked.
func (x *xlsxWriter) summary() error {
	if len(x.m.Cases) > 1 {
		// The Index comes first; it is filled last, when the Summary rows
		// it links to are known.
		if err := x.newSheet(sheetIndex); err != nil {
			return err
		}
	}
	if err := x.newSheet(sheetSummary); err != nil {
		return err
	}
	for col, w := range summaryWidths {
		if err := x.f.SetColWidth(sheetSummary, colName(col), colName(col), w); err != nil {
			return err
		}
	}
	c := &sheetCursor{x: x, sheet: sheetSummary, row: 1}
	c.line(x.styled(x.st.title, "portmortem report"))
	c.line(x.styled(x.st.label, "Generated"), x.m.Generated.Format("2006-01-02 15:04:05")+" UTC")
	if x.m.Database != "" {
		c.line(x.styled(x.st.label, "Database"), x.m.Database)
	}
	c.line(x.styled(x.st.label, "Bundles"), len(x.m.Cases))
	c.line(x.styled(x.st.label, "Times"), "Each bundle's times are shown in its host's time zone, named below, in the date column headers and in the Zone columns.")
	c.row++
	for _, k := range x.m.Cases {
		k.summaryRow = c.row
		c.line(x.styled(x.st.bold, "Bundle"), x.styled(x.st.bold, k.Bundle))
		c.line(x.styled(x.st.label, "Host"), k.hostLabel())
		if k.Collection != "" {
			c.line(x.styled(x.st.label, "Files in"), k.Collection)
		}
		c.line(x.styled(x.st.label, "OS"), k.OS)
		c.line(x.styled(x.st.label, "Times shown in"), k.zoneFact())
		if p := k.provenanceLine(); p != "" {
			c.line(x.styled(x.st.label, "Analyzed with"), p)
		}
		c.line(x.styled(x.st.label, "Failures"), k.failureCount())
		if top := culprit(k.top()); top != "" {
			c.line(x.styled(x.st.label, "Top culprit"), top)
		}
		if len(k.Findings) == 0 {
			c.line(x.styled(x.st.label, "Findings"), "no service-start failure found")
		} else {
			h := func(s string) excelize.Cell { return x.styled(x.st.header, s) }
			c.line(h("Verdict"), h("Confidence"), h("Service"), h("Port"), h("Owner"), h("Rule"),
				h(x.timeHeader("Failure time")), h("First reason"))
			// Findings that read the same (a service failing the same way
			// many times) are one row, and the ports free beside a
			// failure's cause are named on the cause's row; the Findings
			// sheet has each.
			free, also := k.siblings()
			for _, g := range k.groups() {
				if free[g.First] {
					continue
				}
				f := &k.Findings[g.First]
				reason, service := "", serviceLabel(f)
				if len(f.Reasons) > 0 {
					reason = f.Reasons[0]
				}
				if ports, ok := also[g.First]; ok {
					reason += " Also needs " + ports + ": free in the snapshot."
				}
				if g.Count > 1 {
					service += fmt.Sprintf(" (×%d, the first shown)", g.Count)
				}
				c.put(x.styled(x.st.verdict[f.Verdict], string(f.Verdict)), x.styled(x.st.pct, g.Confidence),
					service, portLabel(f), ownerLabel(f), string(f.Rule),
					x.styled(x.st.date, k.shownCell(f.FailureTime, false)), x.styled(x.st.wrap, reason))
				c.wrapped(reason, summaryWidths[len(summaryWidths)-1])
				c.row++
			}
		}
		var gaps []correlate.Coverage
		for _, v := range k.Coverage {
			if v.Status != "ok" {
				gaps = append(gaps, v)
			}
		}
		if len(gaps) > 0 {
			c.line(x.styled(x.st.label, "Not checked"), x.styled(x.st.label, "Status"), x.styled(x.st.label, "Why"))
			// The reason spans the columns to the last, wrapped there.
			why := 0.0
			for _, w := range summaryWidths[2:] {
				why += w
			}
			for _, v := range gaps {
				c.merge(2, len(summaryWidths)-1)
				c.put(v.Check, v.Status, x.styled(x.st.wrap, v.Reason))
				c.wrapped(v.Reason, why)
				c.row++
			}
		}
		c.row++
	}
	c.finish(len(summaryWidths))
	return c.err
}

// colName is the letter of a 0-based column.
func colName(col int) string {
	s, _ := excelize.ColumnNumberToName(col + 1)
	return s
}

// index writes the Index sheet of a batch: one row per bundle, linked to
// its Summary section, then the culprits that recur across bundles.
func (x *xlsxWriter) index() error {
	c := &sheetCursor{x: x, sheet: sheetIndex, row: 1}
	h := func(s string) excelize.Cell { return x.styled(x.st.header, s) }
	header := []any{h("Bundle"), h("Host"), h("Failures"), h("Findings"), h("Top culprit"), h("Top finding")}
	for _, v := range correlate.Verdicts {
		header = append(header, h(string(v)))
	}
	c.line(header...)
	widths := []float64{44, 16, 10, 10, 40, 50}
	for _, v := range correlate.Verdicts {
		widths = append(widths, float64(len(v))+5) // the header is bold, with a filter button
	}
	for col, w := range widths {
		if err := x.f.SetColWidth(sheetIndex, colName(col), colName(col), w); err != nil {
			return err
		}
	}
	for _, k := range x.m.Cases {
		top := ""
		if f := k.top(); f != nil {
			top = fmt.Sprintf("%s %s %s", f.Verdict, portLabel(f), serviceLabel(f))
		}
		row := []any{x.styled(x.st.link, k.Bundle), k.Host, k.failureCount(), len(k.Findings), culprit(k.top()), top}
		counts := map[correlate.Verdict]int{}
		for _, vc := range k.verdictCounts() {
			counts[vc.Verdict] = vc.Count
		}
		for _, v := range correlate.Verdicts {
			if n := counts[v]; n > 0 {
				row = append(row, x.styled(x.st.verdict[v], n))
			} else {
				row = append(row, nil)
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, c.row)
		c.line(row...)
		if c.err == nil {
			c.err = x.f.SetCellHyperLink(sheetIndex, cell, fmt.Sprintf("'%s'!A%d", sheetSummary, k.summaryRow), "Location",
				excelize.HyperlinkOpts{Tooltip: ptr("Go to this bundle's section of the Summary sheet")})
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(header), c.row-1)
	if c.err == nil {
		c.err = x.f.AutoFilter(sheetIndex, "A1:"+last, nil)
	}
	if c.err == nil {
		// excelize's AutoFilter replaces the sheet's properties, and with
		// them the fit to page newSheet set.
		c.err = x.fitToPage(sheetIndex)
	}
	if c.err == nil {
		c.err = x.f.SetPanes(sheetIndex, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
	c.row++
	c.line(x.styled(x.st.bold, "Culprits that recur across bundles"))
	rec := x.m.recurringCulprits()
	if len(rec) == 0 {
		c.line("No culprit blocked a port in more than one bundle.")
	} else {
		c.line(h("Culprit"), h("Bundles"), nil, nil, h("Ports"), h("In bundles"))
	}
	for _, r := range rec {
		var names []string
		for _, k := range r.Cases {
			names = append(names, k.Bundle)
		}
		in := strings.Join(names, ", ")
		c.put(r.Label(), len(r.Cases), nil, nil, strings.Join(r.Ports, ", "), x.styled(x.st.wrap, in))
		c.wrapped(in, widths[5])
		c.row++
	}
	c.finish(len(widths))
	return c.err
}
