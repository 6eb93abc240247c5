package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
)

// bankReconciliationReport is the "bank-reconciliation" report: one row per
// payout (its amount, what the bank showed, the dates and where it stands),
// one per deposit nothing explains, and one per bank account setting its
// closing balance against its ledger account's. It matches afresh, as a
// run would, but writes nothing.
func bankReconciliationReport(st Store) reports.Report {
	return reports.Report{Name: "bank-reconciliation", Summary: "payouts against bank deposits, and bank balances against the ledger",
		Uses: []string{"from", "to"},
		Run: func(ctx context.Context, books *ledger.Ledger, opts reports.Options, w reports.Writer) error {
			return WriteBankReconciliation(ctx, st, books, BankOptions{From: opts.From, To: opts.To}, w)
		}}
}

// WriteBankReconciliation writes the bank reconciliation report (see
// Reports) for a window and options, amounts in major units.
func WriteBankReconciliation(ctx context.Context, st Store, books *ledger.Ledger, o BankOptions, w reports.Writer) error {
	if err := w.WriteHeader([]string{"kind", "payout", "ref", "provider", "currency", "payout_amount", "bank_amount", "difference",
		"expected_on", "bank_on", "status", "deposits", "bank_account", "ledger_account", "note"}); err != nil {
		return err
	}
	in, err := loadBank(ctx, st, books, o)
	if errors.Is(err, ErrNoStatements) {
		return nil // like any report of nothing: its header and no rows
	}
	if err != nil {
		return err
	}
	mo := in.opts
	mo.ListMatched = true
	res := reconcile.MatchPayouts(in.payouts, in.deposits, in.others, &mo)
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	}
	status := map[string]string{}
	for _, oc := range res.Outcomes {
		for _, id := range strings.Split(oc.LedgerID, ",") {
			if id != "" {
				status[id] = string(oc.Kind)
			}
		}
	}
	match := map[string]*reconcile.BankMatch{}
	for i := range res.Matches {
		for _, id := range res.Matches[i].Payouts {
			match[id] = &res.Matches[i]
		}
	}
	cal := mo.Calendar
	for _, p := range in.payouts {
		cur := p.Currency
		row := []string{"payout", p.ID, p.Ref, p.Provider, strings.ToUpper(cur), Money(cur, p.Amount), "", "",
			day(cal.Next(p.Arrival)), "", status[p.ID], "", "", "", ""}
		if row[10] == "" {
			row[10] = "pending"
			row[14] = "not in the bank yet, and not yet due"
		}
		if m := match[p.ID]; m != nil {
			row[9], row[11], row[14] = day(m.Date), strings.Join(m.Deposits, " "), "found by "+m.Via
			if m.Heuristic {
				row[14] += " (heuristic)"
			}
			if len(m.Payouts) == 1 {
				row[6], row[7] = Money(cur, m.Banked), Money(cur, m.Banked-p.Amount)
			} else {
				row[14] += "; the deposits hold payouts " + strings.Join(m.Payouts, " ") + ": bank " + Money(cur, m.Banked) +
					", expected " + Money(cur, m.Expected)
			}
			if l := in.lines[m.Deposits[0]]; l != nil {
				row[12], row[13] = l.Account, l.LedgerAccount
			}
		}
		if p.Fees != 0 {
			row[14] += "; bank fees booked " + Money(cur, p.Fees)
		}
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	for _, oc := range res.Outcomes {
		if oc.Kind != reconcile.DepositUnexplained {
			continue
		}
		l := in.lines[oc.ProviderID]
		row := []string{"deposit", "", oc.Ref, "", strings.ToUpper(oc.Currency), "", Money(oc.Currency, oc.Amount), "", "",
			day(oc.At), string(oc.Kind), oc.ProviderID, l.Account, l.LedgerAccount, strings.ReplaceAll(l.Remittance, "\n", " ")}
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	bals, err := bankBalances(ctx, books, in, res)
	if err != nil {
		return err
	}
	for _, b := range bals {
		st := "agree"
		if b.Difference() != 0 {
			st = "differ"
		}
		row := []string{"balance", "", "", "", strings.ToUpper(b.Currency), Money(b.Currency, b.Ledger), Money(b.Currency, b.Statement),
			Money(b.Currency, b.Difference()), "", day(b.ClosingDate), st, "", b.Account, b.LedgerAccount, b.String()}
		if err := w.WriteRow(row); err != nil {
			return err
		}
	}
	return nil
}
