package store

import (
	"context"
	"database/sql"
	"strings"
)

// batchRows is how many rows one multi-row INSERT carries. With the
// widest table (sockets, 21 columns) that is 2,100 parameters, well under
// SQLite's 32,766 and PostgreSQL's 65,535.
const batchRows = 100

// batch collects rows for one table inside a transaction and inserts
// them batchRows at a time with a prepared multi-row INSERT: one
// statement step per hundred rows instead of one per row.
type batch struct {
	tx      *sql.Tx
	table   string
	cols    []string
	full    *sql.Stmt // prepared on first use, for batchRows rows
	args    []any
	pending int
}

func newBatch(tx *sql.Tx, table string, cols ...string) *batch {
	return &batch{tx: tx, table: table, cols: cols}
}

// insertSQL is the INSERT for n rows.
func (b *batch) insertSQL(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(b.cols)), ", ") + ")"
	var q strings.Builder
	q.WriteString("INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	return q.String()
}

// add queues one row (len(vals) == len(cols)) and inserts the batch when
// it is full.
func (b *batch) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	b.pending++
	if b.pending < batchRows {
		return nil
	}
	if b.full == nil {
		st, err := b.tx.PrepareContext(ctx, b.insertSQL(batchRows))
		if err != nil {
			return err
		}
		b.full = st
	}
	if _, err := b.full.ExecContext(ctx, b.args...); err != nil {
		return err
	}
	b.reset()
	return nil
}

// flush inserts the rows still queued.
func (b *batch) flush(ctx context.Context) error {
	if b.pending == 0 {
		return nil
	}
	if _, err := b.tx.ExecContext(ctx, b.insertSQL(b.pending), b.args...); err != nil {
		return err
	}
	b.reset()
	return nil
}

func (b *batch) reset() {
	clear(b.args) // drop references to the strings of the rows sent
	b.args = b.args[:0]
	b.pending = 0
}
