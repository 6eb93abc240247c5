package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
)

// WriteRunSummary writes one row per reconciliation run.
func WriteRunSummary(w reports.Writer, runs []*reconcile.Run) error {
	if err := w.WriteHeader([]string{"run_id", "provider", "grain", "window_from", "window_to", "provider_records",
		"ledger_records", "matched", "mismatched", "missing_in_ledger", "missing_at_provider", "duplicates",
		"heuristic", "payout_mismatches", "exceptions_opened", "exceptions_closed"}); err != nil {
		return err
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, r := range runs {
		s := r.Summary
		row := []string{strconv.FormatInt(r.ID, 10), r.Provider, string(r.Grain), day(r.From), day(r.To)}
		for _, n := range []int{s.ProviderRecords, s.LedgerRecords, s.Matched, s.Mismatched, s.MissingInLedger,
			s.MissingAtProvider, s.Duplicates, s.Heuristic, s.PayoutMismatches, r.Opened, r.Closed} {
			row = append(row, strconv.Itoa(n))
		}
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	return nil
}

// WriteExceptions writes the exceptions f selects, one row each, amounts
// in major units, each as it is read: the nightly job's
// open-exceptions.csv of a run that opened a million holds them all.
func WriteExceptions(ctx context.Context, w reports.Writer, st reconcile.Store, f reconcile.ExceptionFilter) error {
	if err := w.WriteHeader(exceptionHeader); err != nil {
		return err
	}
	return st.EachException(ctx, f, func(e *reconcile.Exception) error { return w.WriteRow(exceptionRow(e)) })
}

// exceptionHeader names the columns of exceptionRow.
var exceptionHeader = []string{"id", "status", "provider", "grain", "kind", "subject", "provider_id", "ledger_id",
	"ref", "date", "currency", "amount", "differences", "note", "first_run", "last_run"}

// exceptionRow is an exception's row of an exceptions report.
func exceptionRow(e *reconcile.Exception) []string {
	return []string{strconv.FormatInt(e.ID, 10), string(e.Status), e.Provider, string(e.Grain), string(e.Kind), e.Subject,
		e.ProviderID, e.LedgerID, e.Ref, e.At.UTC().Format("2006-01-02"), strings.ToUpper(e.Currency), Money(e.Currency, e.Amount),
		strings.Join(Differences(*e), "; "), e.Note, strconv.FormatInt(e.FirstRun, 10), strconv.FormatInt(e.LastRun, 10)}
}

// Differences says what differs in an exception, one phrase per field,
// amounts in major units of its currency: "fee: ledger 0.85, provider 0.95".
func Differences(e reconcile.Exception) []string {
	money := func(minor int64) string { return Money(e.Currency, minor) }
	var out []string
	for _, d := range e.Diffs {
		out = append(out, fmt.Sprintf("%s: ledger %s, provider %s", d.Field, DiffValue(e.Currency, d.Field, d.Ledger),
			DiffValue(e.Currency, d.Field, d.Provider)))
	}
	if p := e.Payout; p != nil {
		s := fmt.Sprintf("%s side: payout %s but the %d transactions it holds net %s", p.Side, money(p.Amount), p.Swept, money(p.SweptNet))
		if p.MissingCount > 0 {
			s += fmt.Sprintf("; the provider's payout also holds %s, which the ledger's lacks", listIDs(p.Missing, p.MissingCount))
		}
		if p.ExtraCount > 0 {
			s += fmt.Sprintf("; the ledger's also holds %s, which the provider's does not", listIDs(p.Extra, p.ExtraCount))
		}
		out = append(out, s)
	}
	return out
}

func listIDs(ids []string, total int) string {
	s := strings.Join(ids, ", ")
	if total > len(ids) {
		s += fmt.Sprintf(" and %d more", total-len(ids))
	}
	return s
}

// DiffValue renders one side of a Diff for people: amounts (stored in minor
// units) in major units of the currency, other values as they are.
func DiffValue(currency, field, v string) string {
	switch field {
	case reconcile.FieldAmount, reconcile.FieldFee, reconcile.FieldNet, reconcile.FieldCaptured, reconcile.FieldRefunded, reconcile.FieldDisputed:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return Money(currency, n)
		}
	}
	return v
}

// Money renders minor units in major units of an ISO currency ("18.05"); for
// a code it does not know it says so ("1805 (minor units)").
func Money(currency string, minor int64) string {
	c, err := ledger.LookupCurrency(currency)
	if err != nil {
		return strconv.FormatInt(minor, 10) + " (minor units)"
	}
	return ledger.FormatMinor(minor, c.Digits)
}
