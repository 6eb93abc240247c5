package runner

import (
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/ledger/sqlite"
	"github.com/settlehq/settle/reports"
)

// WriteRunSummary writes one row per reconciliation run.
func WriteRunSummary(w reports.Writer, runs []*sqlite.Run) error {
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
		row := []string{strconv.FormatInt(r.ID, 10), r.Provider, r.Grain, day(r.From), day(r.To)}
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

// WriteExceptions writes one row per exception, amounts in major units.
func WriteExceptions(w reports.Writer, list []sqlite.Exception) error {
	if err := w.WriteHeader([]string{"id", "status", "provider", "grain", "kind", "subject", "provider_id", "ledger_id",
		"ref", "date", "currency", "amount", "differences", "note", "first_run", "last_run"}); err != nil {
		return err
	}
	for _, e := range list {
		amount, cur := strconv.FormatInt(e.Amount, 10), strings.ToUpper(e.Currency)
		digits := -1
		if c, err := ledger.LookupCurrency(e.Currency); err == nil {
			digits = c.Digits
			amount = ledger.FormatMinor(e.Amount, digits)
		}
		var diffs []string
		for _, d := range e.Diffs {
			l, p := d.Ledger, d.Provider
			if digits >= 0 {
				l, p = majorIfNumber(l, digits), majorIfNumber(p, digits)
			}
			diffs = append(diffs, d.Field+": ledger "+l+", provider "+p)
		}
		if e.Payout != nil {
			diffs = append(diffs, e.Payout.Side+" payout "+majorIfNumber(strconv.FormatInt(e.Payout.Amount, 10), digits)+
				" vs swept net "+majorIfNumber(strconv.FormatInt(e.Payout.SweptNet, 10), digits))
		}
		row := []string{strconv.FormatInt(e.ID, 10), e.Status, e.Provider, e.Grain, e.Kind, e.Subject, e.ProviderID,
			e.LedgerID, e.Ref, e.At.UTC().Format("2006-01-02"), cur, amount, strings.Join(diffs, "; "), e.Note,
			strconv.FormatInt(e.FirstRun, 10), strconv.FormatInt(e.LastRun, 10)}
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	return nil
}

// majorIfNumber renders a minor-unit integer in major units; anything else
// (a status, a date) is returned as it is.
func majorIfNumber(v string, digits int) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || digits < 0 {
		return v
	}
	return ledger.FormatMinor(n, digits)
}
