package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// Run is one stored reconciliation run.
type Run struct {
	ID           int64
	Provider     string
	Grain        string
	From, To     time.Time // zero ends are open
	StartedAt    time.Time
	FinishedAt   time.Time
	InputsDigest string // hash of both sides' inputs: equal digests must give equal results
	Summary      reconcile.Summary
	Opened       int // exceptions opened (or reopened) by this run
	Closed       int // open exceptions in this run's scope that it no longer found
	// Adopted counts the ledger's estimated settlement dates this run
	// replaced with the provider's.
	Adopted int
	// RecordsThrough is the newest provider record (by import order) that
	// this run's window covered along with every record before it, so the
	// next nightly run knows which records are new.
	RecordsThrough int64
}

// Exception statuses.
const (
	ExceptionOpen     = "open"
	ExceptionResolved = "resolved"
	ExceptionIgnored  = "ignored"
)

// Exception is a durable reconciliation exception.
type Exception struct {
	ID                int64
	Fingerprint       string
	Provider          string
	Grain             string
	Kind              string // mismatched, missing_in_ledger, missing_at_provider, duplicate, payout_mismatch
	Subject           string // charge, refund, …, payout or payment
	ProviderID        string
	LedgerID          string
	Ref               string
	Currency          string
	Amount            int64
	At                time.Time
	Heuristic         bool
	Diffs             []reconcile.Diff
	Payout            *reconcile.PayoutFigures
	Status            string
	Note              string
	ResolutionEntryID int64
	FirstRun, LastRun int64
	UpdatedAt         time.Time
}

type exceptionDetails struct {
	Diffs  []reconcile.Diff         `json:"diffs,omitempty"`
	Payout *reconcile.PayoutFigures `json:"payout,omitempty"`
}

// SaveRun stores a run with its exceptions and links, in one transaction.
// reconcile.PlanExceptions decides what changes: an outcome opens an
// exception or refreshes the unresolved one with its fingerprint (an ignored
// one stays ignored), and open exceptions in the run's scope that it no
// longer finds are closed as resolved. run.ID, Opened and Closed are filled in.
func (s *Store) SaveRun(ctx context.Context, run *Run, outcomes []reconcile.Outcome, links []reconcile.Link) error {
	return translate(s.withWrite(ctx, func(q querier) error {
		sm := run.Summary
		res, err := q.ExecContext(ctx, `INSERT INTO recon_runs (provider, grain, window_from, window_to, started_at, finished_at,
			provider_records, ledger_records, inputs_digest, matched, mismatched, missing_in_ledger, missing_at_provider,
			duplicates, heuristic, payout_mismatches, opened, closed, adopted, records_through)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)`,
			run.Provider, run.Grain, ts(run.From), ts(run.To), ts(run.StartedAt), ts(run.FinishedAt), sm.ProviderRecords,
			sm.LedgerRecords, run.InputsDigest, sm.Matched, sm.Mismatched, sm.MissingInLedger, sm.MissingAtProvider,
			sm.Duplicates, sm.Heuristic, sm.PayoutMismatches, run.Adopted, run.RecordsThrough)
		if err != nil {
			return err
		}
		if run.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		known, err := knownExceptions(ctx, q, run.Provider, run.Grain)
		if err != nil {
			return err
		}
		scope := reconcile.Scope{Provider: run.Provider, Grain: provider.Grain(run.Grain), From: run.From, To: run.To}
		now := run.FinishedAt.UTC()
		plan := reconcile.PlanExceptions(scope, strconv.FormatInt(run.ID, 10), known, outcomes, now, func() string { return "" })
		for _, e := range plan.Open {
			details, err := json.Marshal(exceptionDetails{Diffs: e.Diffs, Payout: e.Payout})
			if err != nil {
				return err
			}
			res, err := q.ExecContext(ctx, `INSERT INTO recon_exceptions (fingerprint, provider, grain, kind, subject, provider_id,
				ledger_id, ref, currency, amount, occurred_at, heuristic, details, status, first_run, last_run, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
				e.Fingerprint, run.Provider, run.Grain, string(e.Kind), e.Subject, e.ProviderID, e.LedgerID, e.Ref,
				e.Currency, e.Amount, ts(e.At), heuristicOf(outcomes, e.Fingerprint), string(details), run.ID, run.ID, ts(now))
			if err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if err := addExceptionEvent(ctx, q, id, now, run.ID, "opened", ExceptionOpen, "", 0); err != nil {
				return err
			}
		}
		for _, e := range plan.Reopen {
			details, err := json.Marshal(exceptionDetails{Diffs: e.Diffs, Payout: e.Payout})
			if err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, `UPDATE recon_exceptions SET status = 'open', ledger_id = ?, currency = ?, amount = ?,
				occurred_at = ?, details = ?, last_run = ?, updated_at = ?, resolution_entry_id = NULL WHERE id = ?`,
				e.LedgerID, e.Currency, e.Amount, ts(e.At), string(details), run.ID, ts(now), e.ID); err != nil {
				return err
			}
			id, _ := strconv.ParseInt(e.ID, 10, 64)
			if err := addExceptionEvent(ctx, q, id, now, run.ID, "reopened", ExceptionOpen,
				"found again by run "+strconv.FormatInt(run.ID, 10), 0); err != nil {
				return err
			}
		}
		for _, e := range plan.Refresh {
			details, err := json.Marshal(exceptionDetails{Diffs: e.Diffs, Payout: e.Payout})
			if err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, `UPDATE recon_exceptions SET ledger_id = ?, currency = ?, amount = ?, occurred_at = ?,
				details = ?, last_run = ?, updated_at = ? WHERE id = ?`, e.LedgerID, e.Currency, e.Amount, ts(e.At),
				string(details), run.ID, ts(now), e.ID); err != nil {
				return err
			}
		}
		for _, e := range plan.Ignored {
			if _, err := q.ExecContext(ctx, `UPDATE recon_exceptions SET last_run = ? WHERE id = ?`, run.ID, e.ID); err != nil {
				return err
			}
		}
		for _, e := range plan.Close {
			if _, err := q.ExecContext(ctx, `UPDATE recon_exceptions SET status = 'resolved', updated_at = ?,
				note = CASE WHEN note = '' THEN ? ELSE note || '; ' || ? END WHERE id = ?`,
				ts(now), e.Resolution, e.Resolution, e.ID); err != nil {
				return err
			}
			id, _ := strconv.ParseInt(e.ID, 10, 64)
			if err := addExceptionEvent(ctx, q, id, now, run.ID, "closed", ExceptionResolved, e.Resolution, 0); err != nil {
				return err
			}
		}
		run.Opened, run.Closed = len(plan.Open)+len(plan.Reopen), len(plan.Close)
		for _, l := range links {
			if _, err := q.ExecContext(ctx, `INSERT INTO recon_links (provider, grain, provider_id, ledger_id, heuristic, run_id)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider, grain, provider_id) DO UPDATE SET ledger_id = excluded.ledger_id,
				heuristic = excluded.heuristic, run_id = excluded.run_id`,
				run.Provider, run.Grain, l.ProviderID, l.LedgerID, l.Heuristic, run.ID); err != nil {
				return err
			}
		}
		_, err = q.ExecContext(ctx, `UPDATE recon_runs SET opened = ?, closed = ? WHERE id = ?`, run.Opened, run.Closed, run.ID)
		return err
	}))
}

// knownExceptions loads every exception of a provider and grain, which
// reconcile.PlanExceptions compares a run against (a resolved one found
// again is reopened, not duplicated).
func knownExceptions(ctx context.Context, q querier, prov, grain string) ([]reconcile.Exception, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, fingerprint, kind, status, subject, provider_id, ledger_id, ref, currency,
		amount, occurred_at, note, first_run, last_run FROM recon_exceptions
		WHERE provider = ? AND grain = ? ORDER BY id`, prov, grain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []reconcile.Exception
	for rows.Next() {
		var e reconcile.Exception
		var id, at, first, last int64
		var kind, status string
		if err := rows.Scan(&id, &e.Fingerprint, &kind, &status, &e.Subject, &e.ProviderID, &e.LedgerID, &e.Ref,
			&e.Currency, &e.Amount, &at, &e.Note, &first, &last); err != nil {
			return nil, err
		}
		e.ID, e.Kind, e.Status, e.At = strconv.FormatInt(id, 10), reconcile.OutcomeKind(kind), reconcile.ExceptionStatus(status), fromTS(at)
		e.Provider, e.Grain = prov, provider.Grain(grain)
		e.OpenedRun, e.LastRun = strconv.FormatInt(first, 10), strconv.FormatInt(last, 10)
		out = append(out, e)
	}
	return out, rows.Err()
}

// heuristicOf reports whether the outcome with a fingerprint was a
// heuristic pair.
func heuristicOf(outcomes []reconcile.Outcome, fp string) bool {
	for i := range outcomes {
		if outcomes[i].Fingerprint == fp {
			return outcomes[i].Heuristic
		}
	}
	return false
}

// Links returns the stored provider id → ledger id links of a provider and grain.
func (s *Store) Links(ctx context.Context, provider, grain string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT provider_id, ledger_id FROM recon_links WHERE provider = ? AND grain = ?`, provider, grain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var p, l string
		if err := rows.Scan(&p, &l); err != nil {
			return nil, err
		}
		out[p] = l
	}
	return out, rows.Err()
}

// ExceptionFilter selects exceptions. Zero fields do not filter.
type ExceptionFilter struct {
	Status   string
	Provider string
	ID       int64
}

const exceptionCols = `id, fingerprint, provider, grain, kind, subject, provider_id, ledger_id, ref, currency, amount,
	occurred_at, heuristic, details, status, note, resolution_entry_id, first_run, last_run, updated_at`

// Exceptions lists exceptions ordered by id.
func (s *Store) Exceptions(ctx context.Context, f ExceptionFilter) ([]Exception, error) {
	return exceptions(ctx, s.db, f)
}

func exceptions(ctx context.Context, q querier, f ExceptionFilter) ([]Exception, error) {
	where, args := "1 = 1", []any{}
	if f.Status != "" {
		where += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.Provider != "" {
		where += " AND provider = ?"
		args = append(args, f.Provider)
	}
	if f.ID != 0 {
		where += " AND id = ?"
		args = append(args, f.ID)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+exceptionCols+` FROM recon_exceptions WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Exception
	for rows.Next() {
		var e Exception
		var at, updated int64
		var details string
		var entry sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Fingerprint, &e.Provider, &e.Grain, &e.Kind, &e.Subject, &e.ProviderID, &e.LedgerID,
			&e.Ref, &e.Currency, &e.Amount, &at, &e.Heuristic, &details, &e.Status, &e.Note, &entry, &e.FirstRun,
			&e.LastRun, &updated); err != nil {
			return nil, err
		}
		e.At, e.UpdatedAt, e.ResolutionEntryID = fromTS(at), fromTS(updated), entry.Int64
		var d exceptionDetails
		if details != "" {
			if err := json.Unmarshal([]byte(details), &d); err != nil {
				return nil, err
			}
		}
		e.Diffs, e.Payout = d.Diffs, d.Payout
		out = append(out, e)
	}
	return out, rows.Err()
}

// Exception returns one exception by id.
func (s *Store) Exception(ctx context.Context, id int64) (*Exception, error) {
	return exception(ctx, s.db, id)
}

// Exception returns one exception by id, inside a transaction.
func (t *tx) Exception(ctx context.Context, id int64) (*Exception, error) {
	return exception(ctx, t.q, id)
}

func exception(ctx context.Context, q querier, id int64) (*Exception, error) {
	es, err := exceptions(ctx, q, ExceptionFilter{ID: id})
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return &es[0], nil
}

// SetExceptionStatus resolves or ignores an exception (or reopens it), with
// a note and, for a resolution, the entry booked to fix it, and adds the
// change to the exception's history.
func (s *Store) SetExceptionStatus(ctx context.Context, id int64, status, note string, entryID int64, at time.Time) error {
	return translate(s.withWrite(ctx, func(q querier) error {
		return setExceptionStatus(ctx, q, id, status, note, entryID, at)
	}))
}

// SetExceptionStatus is Store.SetExceptionStatus inside a transaction, so
// that a fix and the exception it closes commit together.
func (t *tx) SetExceptionStatus(ctx context.Context, id int64, status, note string, entryID int64, at time.Time) error {
	return setExceptionStatus(ctx, t.q, id, status, note, entryID, at)
}

func setExceptionStatus(ctx context.Context, q querier, id int64, status, note string, entryID int64, at time.Time) error {
	if status != ExceptionOpen && status != ExceptionResolved && status != ExceptionIgnored {
		return fmt.Errorf("%w: exception status %q", ledger.ErrInvalidRequest, status)
	}
	res, err := q.ExecContext(ctx, `UPDATE recon_exceptions SET status = ?, note = ?, resolution_entry_id = ?, updated_at = ? WHERE id = ?`,
		status, note, nullID(entryID), ts(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return addExceptionEvent(ctx, q, id, at, 0, status, status, note, entryID)
}

// ExceptionEvent is one change in an exception's life.
type ExceptionEvent struct {
	At      time.Time
	RunID   int64  // the run that made the change, if a run did
	Action  string // opened, reopened, closed, resolved, ignored, open
	Status  string // the status after the change
	Note    string
	EntryID int64 // the entry booked to fix it, if any
}

func addExceptionEvent(ctx context.Context, q querier, id int64, at time.Time, runID int64, action, status, note string, entryID int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO recon_exception_events (exception_id, at, run_id, action, status, note, entry_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, ts(at), nullID(runID), action, status, note, nullID(entryID))
	return err
}

// ExceptionHistory lists the changes of an exception, oldest first.
func (s *Store) ExceptionHistory(ctx context.Context, id int64) ([]ExceptionEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, COALESCE(run_id, 0), action, status, note, COALESCE(entry_id, 0)
		FROM recon_exception_events WHERE exception_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ExceptionEvent
	for rows.Next() {
		var e ExceptionEvent
		var at int64
		if err := rows.Scan(&at, &e.RunID, &e.Action, &e.Status, &e.Note, &e.EntryID); err != nil {
			return nil, err
		}
		e.At = fromTS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Runs lists stored runs, newest first, of one provider or all ("").
func (s *Store) Runs(ctx context.Context, provider string) ([]*Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, provider, grain, window_from, window_to, started_at, finished_at,
		inputs_digest, provider_records, ledger_records, matched, mismatched, missing_in_ledger, missing_at_provider,
		duplicates, heuristic, payout_mismatches, opened, closed, adopted, records_through FROM recon_runs WHERE (? = '' OR provider = ?)
		ORDER BY id DESC`, provider, provider)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Run
	for rows.Next() {
		r := &Run{}
		var from, to, started, finished int64
		sm := &r.Summary
		if err := rows.Scan(&r.ID, &r.Provider, &r.Grain, &from, &to, &started, &finished, &r.InputsDigest,
			&sm.ProviderRecords, &sm.LedgerRecords, &sm.Matched, &sm.Mismatched, &sm.MissingInLedger,
			&sm.MissingAtProvider, &sm.Duplicates, &sm.Heuristic, &sm.PayoutMismatches, &r.Opened, &r.Closed, &r.Adopted,
			&r.RecordsThrough); err != nil {
			return nil, err
		}
		r.From, r.To, r.StartedAt, r.FinishedAt = fromTS(from), fromTS(to), fromTS(started), fromTS(finished)
		out = append(out, r)
	}
	return out, rows.Err()
}
