package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portmortem/portmortem/correlate"
	"github.com/portmortem/portmortem/parsers"
)

const findingColumns = `case_id, seq, bundle, host, service, service_key, failure_time, event_id, error_code,
	has_error, error_class, proto, port, port_source, verdict, confidence, reasons, owner_pid, owner_image,
	owner_services, snapshot, rule, remedy, kb, evidence`

// SaveFindings replaces the findings and coverage of a case, in one
// transaction, keeping their order.
func (s *Store) SaveFindings(ctx context.Context, caseID int64, fs []correlate.Finding, cov []correlate.Coverage) error {
	if err := s.saveFindings(ctx, caseID, fs, cov); err != nil {
		return fmt.Errorf("save findings of case %d: %w", caseID, err)
	}
	return nil
}

func (s *Store) saveFindings(ctx context.Context, caseID int64, fs []correlate.Finding, cov []correlate.Coverage) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM findings WHERE case_id = ?", caseID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM coverage WHERE case_id = ?", caseID); err != nil {
		return err
	}
	if _, err := caseByID(ctx, tx, caseID); err != nil {
		return err
	}
	if len(fs) > 0 {
		st, err := tx.PrepareContext(ctx, "INSERT INTO findings ("+findingColumns+") VALUES ("+placeholders(25)+")")
		if err != nil {
			return err
		}
		for i, f := range fs {
			args, err := findingArgs(caseID, i, &f)
			if err != nil {
				return fmt.Errorf("finding %d: %w", i, err)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
	}
	b := newBatch(tx, "coverage", "case_id", "seq", "check_name", "status", "reason")
	for i, c := range cov {
		if err := b.add(ctx, caseID, i, c.Check, c.Status, c.Reason); err != nil {
			return err
		}
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	return tx.Commit()
}

func findingArgs(caseID int64, seq int, f *correlate.Finding) ([]any, error) {
	var js [5]string
	for i, v := range []any{f.Reasons, f.OwnerServices, f.Remedy, f.KB, f.Evidence} {
		var err error
		if js[i], err = jsonText(v); err != nil {
			return nil, err
		}
	}
	return []any{caseID, seq, f.Bundle, f.Host, f.Service, f.ServiceKey, timeArg(f.FailureTime), f.EventID,
		f.ErrorCode, f.HasError, string(f.ErrorClass), string(f.Proto), f.Port, f.PortSource, string(f.Verdict),
		f.Confidence, js[0], f.OwnerPID, f.OwnerImage, js[1], f.Snapshot, f.Rule, js[2], js[3], js[4]}, nil
}

// Findings returns the findings of a case in the order they were saved.
func (s *Store) Findings(ctx context.Context, caseID int64) ([]correlate.Finding, error) {
	out, err := s.findings(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("findings of case %d: %w", caseID, err)
	}
	return out, nil
}

func (s *Store) findings(ctx context.Context, caseID int64) ([]correlate.Finding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT bundle, host, service, service_key, failure_time, event_id,
		error_code, has_error, error_class, proto, port, port_source, verdict, confidence, reasons, owner_pid,
		owner_image, owner_services, snapshot, rule, remedy, kb, evidence
		FROM findings WHERE case_id = ? ORDER BY seq`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []correlate.Finding
	for rows.Next() {
		var f correlate.Finding
		var t sql.NullString
		var class, proto, verdict, reasons, services, remedy, kb, evidence string
		if err := rows.Scan(&f.Bundle, &f.Host, &f.Service, &f.ServiceKey, &t, &f.EventID, &f.ErrorCode,
			&f.HasError, &class, &proto, &f.Port, &f.PortSource, &verdict, &f.Confidence, &reasons, &f.OwnerPID,
			&f.OwnerImage, &services, &f.Snapshot, &f.Rule, &remedy, &kb, &evidence); err != nil {
			return nil, err
		}
		f.ErrorClass, f.Proto, f.Verdict = correlate.ErrorClass(class), parsers.Proto(proto), correlate.Verdict(verdict)
		if f.FailureTime, err = parseTime(t); err != nil {
			return nil, err
		}
		for _, l := range []struct {
			text string
			dst  *[]string
		}{{reasons, &f.Reasons}, {services, &f.OwnerServices}, {remedy, &f.Remedy}, {kb, &f.KB}} {
			if err := parseJSONList(l.text, l.dst); err != nil {
				return nil, err
			}
		}
		if err := parseJSONList(evidence, &f.Evidence); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Coverage returns the coverage rows of a case in the order they were
// saved.
func (s *Store) Coverage(ctx context.Context, caseID int64) ([]correlate.Coverage, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT check_name, status, reason FROM coverage WHERE case_id = ? ORDER BY seq", caseID)
	if err != nil {
		return nil, fmt.Errorf("coverage of case %d: %w", caseID, err)
	}
	defer rows.Close()
	var out []correlate.Coverage
	for rows.Next() {
		var c correlate.Coverage
		if err := rows.Scan(&c.Check, &c.Status, &c.Reason); err != nil {
			return nil, fmt.Errorf("coverage of case %d: %w", caseID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coverage of case %d: %w", caseID, err)
	}
	return out, nil
}
