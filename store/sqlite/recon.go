package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/store/internal/reconrow"
)

var (
	_ reconcile.Store = (*Store)(nil)
	_ reconcile.Tx    = (*tx)(nil)
)

// UpdateRecon runs fn in one write transaction.
func (s *Store) UpdateRecon(ctx context.Context, fn func(reconcile.Tx) error) error {
	return s.Update(ctx, func(t ledger.Tx) error { return fn(t.(*tx)) })
}

// KnownExceptions loads every exception of a provider and grain.
func (t *tx) KnownExceptions(ctx context.Context, prov string, grain provider.Grain) ([]reconcile.Exception, error) {
	return exceptions(ctx, t.q, reconcile.ExceptionFilter{Provider: prov}, string(grain))
}

// SaveRun stores a run with the plan of its exceptions and its links, in
// the transaction: it stores what reconciliation decided and decides
// nothing itself. Every change of an exception goes into its history.
func (t *tx) SaveRun(ctx context.Context, run *reconcile.Run, plan reconcile.ExceptionPlan, links []reconcile.Link) error {
	q := t.q
	sm := run.Summary
	now := run.FinishedAt.UTC()
	res, err := q.ExecContext(ctx, `INSERT INTO recon_runs (provider, grain, window_from, window_to, started_at, finished_at,
		provider_records, ledger_records, inputs_digest, matched, mismatched, missing_in_ledger, missing_at_provider,
		duplicates, heuristic, payout_mismatches, opened, closed, adopted, records_through)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		run.Provider, string(run.Grain), ts(run.From), ts(run.To), ts(run.StartedAt), ts(now), sm.ProviderRecords,
		sm.LedgerRecords, run.InputsDigest, sm.Matched, sm.Mismatched, sm.MissingInLedger, sm.MissingAtProvider,
		sm.Duplicates, sm.Heuristic, sm.PayoutMismatches, len(plan.Open)+len(plan.Reopen), len(plan.Close),
		run.Adopted, run.RecordsThrough)
	if err != nil {
		return translate(err)
	}
	if run.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	run.Opened, run.Closed = len(plan.Open)+len(plan.Reopen), len(plan.Close)
	runID := strconv.FormatInt(run.ID, 10)
	for _, e := range plan.Open {
		details, err := reconrow.DetailsOf(&e)
		if err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, `INSERT INTO recon_exceptions (fingerprint, provider, grain, kind, subject, provider_id,
			ledger_id, ref, currency, amount, occurred_at, heuristic, details, status, first_run, last_run, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
			e.Fingerprint, run.Provider, string(run.Grain), string(e.Kind), e.Subject, e.ProviderID, e.LedgerID, e.Ref,
			e.Currency, e.Amount, ts(e.At), e.Heuristic, details, run.ID, run.ID, ts(now))
		if err != nil {
			return translate(err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if err := addExceptionEvent(ctx, q, id, now, run.ID, "opened", reconcile.ExceptionOpen, "", 0); err != nil {
			return err
		}
	}
	for _, e := range plan.Reopen {
		if err := refreshException(ctx, q, &e, run.ID, now, true); err != nil {
			return err
		}
		if err := addExceptionEvent(ctx, q, e.ID, now, run.ID, "reopened", reconcile.ExceptionOpen, "found again by run "+runID, 0); err != nil {
			return err
		}
	}
	for _, e := range plan.Refresh {
		if err := refreshException(ctx, q, &e, run.ID, now, false); err != nil {
			return err
		}
	}
	for _, e := range plan.Ignored {
		if _, err := q.ExecContext(ctx, `UPDATE recon_exceptions SET last_run = ? WHERE id = ?`, run.ID, e.ID); err != nil {
			return err
		}
	}
	for _, e := range plan.Close {
		why := "not found by run " + runID
		if _, err := q.ExecContext(ctx, `UPDATE recon_exceptions SET status = 'resolved', updated_at = ?,
			note = CASE WHEN note = '' THEN ? ELSE note || '; ' || ? END WHERE id = ?`, ts(now), why, why, e.ID); err != nil {
			return err
		}
		if err := addExceptionEvent(ctx, q, e.ID, now, run.ID, "closed", reconcile.ExceptionResolved, why, 0); err != nil {
			return err
		}
	}
	return t.saveLinks(ctx, run, links)
}

// linkChunk is how many links one statement writes: a first run stores a
// link for every pair it matched, a million of them for a month.
const linkChunk = 128

// saveLinks stores a run's links, linkChunk rows a statement with all their
// values bound in one call into C.
func (t *tx) saveLinks(ctx context.Context, run *reconcile.Run, links []reconcile.Link) error {
	var p params
	for start := 0; start < len(links); start += linkChunk {
		chunk := links[start:min(start+linkChunk, len(links))]
		p.reset()
		for _, l := range chunk {
			p.text(run.Provider)
			p.text(string(run.Grain))
			p.text(l.ProviderID)
			p.text(l.LedgerID)
			p.bool(l.Heuristic)
			p.int(run.ID)
		}
		tuples := tuples("(?, ?, ?, ?, ?, ?)", len(chunk))
		if _, err := t.execParams(ctx, `INSERT INTO recon_links (provider, grain, provider_id, ledger_id, heuristic, run_id)
			VALUES `+tuples+` ON CONFLICT (provider, grain, provider_id) DO UPDATE SET ledger_id = excluded.ledger_id,
			heuristic = excluded.heuristic, run_id = excluded.run_id`, &p); err != nil {
			return translate(err)
		}
	}
	return nil
}

// refreshException writes a run's figures into a stored exception, and
// opens it again when reopen is set.
func refreshException(ctx context.Context, q querier, e *reconcile.Exception, runID int64, now time.Time, reopen bool) error {
	details, err := reconrow.DetailsOf(e)
	if err != nil {
		return err
	}
	set := ""
	if reopen {
		set = "status = 'open', resolution_entry_id = NULL, "
	}
	_, err = q.ExecContext(ctx, `UPDATE recon_exceptions SET `+set+`ledger_id = ?, currency = ?, amount = ?, occurred_at = ?,
		heuristic = ?, details = ?, last_run = ?, updated_at = ? WHERE id = ?`, e.LedgerID, e.Currency, e.Amount, ts(e.At),
		e.Heuristic, details, runID, ts(now), e.ID)
	return err
}

// Links returns the stored provider id → ledger id links of a provider and
// grain, as a map (LinkList, which reads them, gives them as a list).
func (s *Store) Links(ctx context.Context, prov string, grain provider.Grain) (map[string]string, error) {
	list, err := s.LinkList(ctx, prov, grain)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(list))
	for _, l := range list {
		out[l.ProviderID] = l.LedgerID
	}
	return out, nil
}

// RecordsCovered returns the newest provider record id that runs of a
// provider and grain covered together with every record before it.
func (s *Store) RecordsCovered(ctx context.Context, prov string, grain provider.Grain) (int64, error) {
	var id sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(records_through) FROM recon_runs WHERE provider = ? AND grain = ?`,
		prov, string(grain)).Scan(&id)
	return id.Int64, err
}

// Exceptions lists exceptions ordered by id.
func (s *Store) Exceptions(ctx context.Context, f reconcile.ExceptionFilter) ([]reconcile.Exception, error) {
	return exceptions(ctx, s.db, f, "")
}

func exceptions(ctx context.Context, q querier, f reconcile.ExceptionFilter, grain string) ([]reconcile.Exception, error) {
	where, args := "1 = 1", []any{}
	for _, c := range []struct {
		col, v string
	}{{"status", string(f.Status)}, {"provider", f.Provider}, {"kind", string(f.Kind)}, {"grain", grain}} {
		if c.v != "" {
			where += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.ID != 0 {
		where += " AND id = ?"
		args = append(args, f.ID)
	}
	if !f.Before.IsZero() {
		where += " AND occurred_at < ?"
		args = append(args, ts(f.Before))
	}
	page := ""
	if f.Limit > 0 || f.Offset > 0 {
		// SQLite wants a LIMIT before an OFFSET; -1 is none.
		limit := int64(-1)
		if f.Limit > 0 {
			limit = int64(f.Limit)
		}
		page = " LIMIT ? OFFSET ?"
		args = append(args, limit, max(f.Offset, 0))
	}
	rows, err := q.QueryContext(ctx, `SELECT * FROM recon_exceptions WHERE `+where+` ORDER BY id`+page, args...)
	if err != nil {
		return nil, err
	}
	var raw []reconrow.Exception
	if err := sqlx.StructScan(rows, &raw); err != nil {
		return nil, err
	}
	return reconrow.Exceptions(raw)
}

// Exception returns one exception by id.
func (s *Store) Exception(ctx context.Context, id int64) (*reconcile.Exception, error) {
	return exception(ctx, s.db, id)
}

// Exception returns one exception by id, inside a transaction.
func (t *tx) Exception(ctx context.Context, id int64) (*reconcile.Exception, error) {
	return exception(ctx, t.q, id)
}

func exception(ctx context.Context, q querier, id int64) (*reconcile.Exception, error) {
	es, err := exceptions(ctx, q, reconcile.ExceptionFilter{ID: id}, "")
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return &es[0], nil
}

// SetExceptionStatus changes an exception's status inside a transaction.
func (t *tx) SetExceptionStatus(ctx context.Context, id int64, status reconcile.ExceptionStatus, note string, entryID int64, at time.Time) error {
	switch status {
	case reconcile.ExceptionOpen, reconcile.ExceptionResolved, reconcile.ExceptionIgnored:
	default:
		return fmt.Errorf("%w: exception status %q", ledger.ErrInvalidRequest, status)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE recon_exceptions SET status = ?, note = ?, resolution_entry_id = ?, updated_at = ? WHERE id = ?`,
		string(status), note, nullID(entryID), ts(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return addExceptionEvent(ctx, t.q, id, at, 0, string(status), status, note, entryID)
}

func addExceptionEvent(ctx context.Context, q querier, id int64, at time.Time, runID int64, action string,
	status reconcile.ExceptionStatus, note string, entryID int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO recon_exception_events (exception_id, at, run_id, action, status, note, entry_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, ts(at), nullID(runID), action, string(status), note, nullID(entryID))
	return err
}

// ExceptionHistory lists the changes of an exception, oldest first.
func (s *Store) ExceptionHistory(ctx context.Context, id int64) ([]reconcile.ExceptionEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, COALESCE(run_id, 0), action, status, note, COALESCE(entry_id, 0)
		FROM recon_exception_events WHERE exception_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []reconcile.ExceptionEvent
	for rows.Next() {
		var e reconcile.ExceptionEvent
		var at int64
		var status string
		if err := rows.Scan(&at, &e.RunID, &e.Action, &status, &e.Note, &e.EntryID); err != nil {
			return nil, err
		}
		e.At, e.Status = fromTS(at), reconcile.ExceptionStatus(status)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Runs lists stored runs, newest first, of one provider or all ("").
func (s *Store) Runs(ctx context.Context, prov string) ([]*reconcile.Run, error) {
	var raw []reconrow.Run
	if err := sqlx.SelectContext(ctx, s.dbx, &raw, `SELECT * FROM recon_runs WHERE (? = '' OR provider = ?) ORDER BY id DESC`,
		prov, prov); err != nil {
		return nil, err
	}
	return reconrow.Runs(raw), nil
}
