package sqlite

import (
	"context"
	"fmt"
	"strings"
)

// Entries that post to a bank account's ledger account are marked
// (entries.bank = 1) and indexed by time (entries_bank): package bankmark
// says why and which.

// bankLedgerAccounts returns the ledger accounts that bank accounts map
// to, read once per transaction with the closed period (readSettings): a
// write transaction holds the database, so no import maps another
// meanwhile.
func (t *tx) bankLedgerAccounts(ctx context.Context) ([]string, error) {
	if t.bank == nil {
		if _, err := t.readSettings(ctx); err != nil {
			return nil, err
		}
	}
	return *t.bank, nil
}

// markBankEntries marks the stored entries that post to ledgerAccount or
// its subaccounts, unless a ledger account already mapped covers it (its
// entries are marked then). It runs in the import that maps ledgerAccount,
// before the mapping is stored; a first mapping reads every entry once.
func markBankEntries(ctx context.Context, q querier, ledgerAccount string) error {
	var covered int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM bank_accounts WHERE ledger_account = ?
		OR substr(?, 1, length(ledger_account) + 1) = ledger_account || ':'`, ledgerAccount, ledgerAccount).Scan(&covered); err != nil {
		return err
	}
	if covered > 0 {
		return nil
	}
	where, args := prefixFilter("name", ledgerAccount)
	rows, err := q.QueryContext(ctx, `SELECT id FROM accounts WHERE `+where, args...)
	if err != nil {
		return err
	}
	var conds []string
	var pats []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		conds = append(conds, "instr(postings, ?) > 0")
		pats = append(pats, fmt.Sprintf("[%d,", id))
	}
	if err := rows.Close(); err != nil {
		return err
	}
	// Accounts are few; a ledger account with many subaccounts is marked
	// a bounded number of them a pass.
	for len(conds) > 0 {
		n := min(len(conds), maxTouchingIDs)
		if _, err := q.ExecContext(ctx, `UPDATE entries SET bank = 1 WHERE bank = 0 AND (`+strings.Join(conds[:n], " OR ")+`)`,
			pats[:n]...); err != nil {
			return err
		}
		conds, pats = conds[n:], pats[n:]
	}
	return nil
}
