package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// reconcileBank is the night's bank reconciliation: every stored bank
// account over all of time (statements are small, and one imported late
// still counts), or nothing when no statement was ever imported.
func (n *Nightly) reconcileBank(ctx context.Context, log *slog.Logger, now func() time.Time) (*BankReport, error) {
	accounts, err := n.Store.BankAccounts(ctx)
	if err != nil || len(accounts) == 0 {
		return nil, err
	}
	var o BankOptions
	if n.Bank != nil {
		o = *n.Bank
	}
	if o.Now == nil {
		o.Now = now
	}
	rep, err := ReconcileBank(ctx, n.Store, n.Books, &o)
	if err != nil {
		return nil, fmt.Errorf("reconciling the bank: %w", err)
	}
	s := rep.Result.Summary
	log.Info("reconciled the bank", "run", rep.Run.ID, "payouts", s.Payouts, "deposits", s.Deposits,
		"payouts_matched", s.PayoutsMatched, "payouts_not_in_bank", s.PayoutsNotInBank, "deposits_unexplained", s.DepositsUnexplained,
		"amount_differs", s.AmountDiffers, "paid_from_bank", len(rep.Paid), "opened", rep.Run.Opened, "closed", rep.Run.Closed)
	for _, b := range rep.Balances {
		if b.Difference() != 0 {
			log.Warn("bank balance differs from the ledger", "balance", b.String())
		}
	}
	return rep, nil
}

// ingestStatement imports an inbox file that is a bank statement, with the
// account mappings earlier imports stored, and reports whether it was one.
func ingestStatement(ctx context.Context, st Store, path string, got *Ingested) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	head := make([]byte, 64<<10)
	n, _ := f.Read(head)
	f.Close()
	if !IsStatement(path, head[:n]) {
		return false, nil
	}
	got.Bank, err = ImportStatementFile(ctx, st, path, StatementOptions{})
	return true, err
}
