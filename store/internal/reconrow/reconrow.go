// Package reconrow holds what every SQL store shares in storing
// reconciliation state: the recon_exceptions and recon_runs rows as sqlx
// scans them, their conversion into the domain's types, and the JSON of an
// exception's differences. Both stores keep these tables with the same
// columns; only the SQL around them differs.
package reconrow

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// Details is the JSON of what differs, kept in one column.
type Details struct {
	Diffs  []reconcile.Diff         `json:"diffs,omitempty"`
	Payout *reconcile.PayoutFigures `json:"payout,omitempty"`
}

// noDetails is the details column of an exception with neither
// differences nor payout figures: a record missing on one side, most
// exceptions of a run that finds many.
const noDetails = "{}"

// DetailsOf returns the details column of an exception.
func DetailsOf(e *reconcile.Exception) (string, error) {
	if len(e.Diffs) == 0 && e.Payout == nil {
		return noDetails, nil
	}
	b, err := json.Marshal(Details{Diffs: e.Diffs, Payout: e.Payout})
	return string(b), err
}

// Exception is a recon_exceptions row. Times are Unix nanoseconds, 0 for
// none.
type Exception struct {
	ID                int64         `db:"id"`
	Fingerprint       string        `db:"fingerprint"`
	Provider          string        `db:"provider"`
	Grain             string        `db:"grain"`
	Kind              string        `db:"kind"`
	Subject           string        `db:"subject"`
	ProviderID        string        `db:"provider_id"`
	LedgerID          string        `db:"ledger_id"`
	Ref               string        `db:"ref"`
	Currency          string        `db:"currency"`
	Amount            int64         `db:"amount"`
	OccurredAt        int64         `db:"occurred_at"`
	Heuristic         bool          `db:"heuristic"`
	Details           string        `db:"details"`
	Status            string        `db:"status"`
	Note              string        `db:"note"`
	ResolutionEntryID sql.NullInt64 `db:"resolution_entry_id"`
	FirstRun          int64         `db:"first_run"`
	LastRun           int64         `db:"last_run"`
	UpdatedAt         int64         `db:"updated_at"`
}

// Columns are the columns of Exception, in order.
const Columns = `id, fingerprint, provider, grain, kind, subject, provider_id, ledger_id, ref, currency, amount,
	occurred_at, heuristic, details, status, note, resolution_entry_id, first_run, last_run, updated_at`

// KnownColumns are Columns with an empty details column in its place:
// what reconcile.Tx.KnownExceptions reads.
const KnownColumns = `id, fingerprint, provider, grain, kind, subject, provider_id, ledger_id, ref, currency, amount,
	occurred_at, heuristic, '' AS details, status, note, resolution_entry_id, first_run, last_run, updated_at`

// Dest returns the destinations a row of Columns is scanned into, in
// order: one slice for every row of a query, each scanned over the last.
func (r *Exception) Dest() []any {
	return []any{&r.ID, &r.Fingerprint, &r.Provider, &r.Grain, &r.Kind, &r.Subject, &r.ProviderID, &r.LedgerID, &r.Ref,
		&r.Currency, &r.Amount, &r.OccurredAt, &r.Heuristic, &r.Details, &r.Status, &r.Note, &r.ResolutionEntryID,
		&r.FirstRun, &r.LastRun, &r.UpdatedAt}
}

// Scan reads every row of rows (of Columns, in order) and closes them.
// hint is how many rows are expected (a count read beforehand), so that a
// million exceptions are read into a slice made at their size.
func Scan(rows Rows, hint int) ([]reconcile.Exception, error) {
	out := make([]reconcile.Exception, 0, max(hint, 0))
	err := Each(rows, func(e *reconcile.Exception) error {
		out = append(out, *e)
		return nil
	})
	return out, err
}

// Each calls fn with every row of rows (of Columns, in order), each a new
// exception, and closes them.
func Each(rows Rows, fn func(*reconcile.Exception) error) error {
	defer rows.Close()
	var r Exception
	dest := r.Dest()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		e, err := r.Exception()
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Rows is what Scan and Each read: *sql.Rows, or a store's own rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Exception converts the row.
func (r *Exception) Exception() (reconcile.Exception, error) {
	e := reconcile.Exception{ID: r.ID, Fingerprint: r.Fingerprint, Provider: r.Provider, Grain: provider.Grain(r.Grain),
		Kind: reconcile.OutcomeKind(r.Kind), Subject: r.Subject, ProviderID: r.ProviderID, LedgerID: r.LedgerID, Ref: r.Ref,
		Currency: r.Currency, Amount: r.Amount, At: FromNanos(r.OccurredAt), Heuristic: r.Heuristic,
		Status: reconcile.ExceptionStatus(r.Status), Note: r.Note, ResolutionEntryID: r.ResolutionEntryID.Int64,
		FirstRun: r.FirstRun, LastRun: r.LastRun, UpdatedAt: FromNanos(r.UpdatedAt)}
	if r.Details != "" && r.Details != noDetails {
		var d Details
		if err := json.Unmarshal([]byte(r.Details), &d); err != nil {
			return e, fmt.Errorf("exception %d: details: %w", r.ID, err)
		}
		e.Diffs, e.Payout = d.Diffs, d.Payout
	}
	return e, nil
}

// Run is a recon_runs row.
type Run struct {
	ID                int64  `db:"id"`
	Provider          string `db:"provider"`
	Grain             string `db:"grain"`
	WindowFrom        int64  `db:"window_from"`
	WindowTo          int64  `db:"window_to"`
	StartedAt         int64  `db:"started_at"`
	FinishedAt        int64  `db:"finished_at"`
	ProviderRecords   int    `db:"provider_records"`
	LedgerRecords     int    `db:"ledger_records"`
	InputsDigest      string `db:"inputs_digest"`
	Matched           int    `db:"matched"`
	Mismatched        int    `db:"mismatched"`
	MissingInLedger   int    `db:"missing_in_ledger"`
	MissingAtProvider int    `db:"missing_at_provider"`
	Duplicates        int    `db:"duplicates"`
	Heuristic         int    `db:"heuristic"`
	PayoutMismatches  int    `db:"payout_mismatches"`
	Opened            int    `db:"opened"`
	Closed            int    `db:"closed"`
	Adopted           int    `db:"adopted"`
	RecordsThrough    int64  `db:"records_through"`
}

// Runs converts rows.
func Runs(raw []Run) []*reconcile.Run {
	out := make([]*reconcile.Run, 0, len(raw))
	for _, r := range raw {
		out = append(out, &reconcile.Run{ID: r.ID, Provider: r.Provider, Grain: provider.Grain(r.Grain),
			From: FromNanos(r.WindowFrom), To: FromNanos(r.WindowTo), StartedAt: FromNanos(r.StartedAt),
			FinishedAt: FromNanos(r.FinishedAt), InputsDigest: r.InputsDigest, Opened: r.Opened, Closed: r.Closed,
			Adopted: r.Adopted, RecordsThrough: r.RecordsThrough,
			Summary: reconcile.Summary{ProviderRecords: r.ProviderRecords, LedgerRecords: r.LedgerRecords, Matched: r.Matched,
				Mismatched: r.Mismatched, MissingInLedger: r.MissingInLedger, MissingAtProvider: r.MissingAtProvider,
				Duplicates: r.Duplicates, Heuristic: r.Heuristic, PayoutMismatches: r.PayoutMismatches}})
	}
	return out
}

// FromNanos decodes a stored time: Unix nanoseconds UTC, 0 for none.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
