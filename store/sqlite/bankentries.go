package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/settlehq/settle/ledger"
)

// Entries that post to a ledger account mirroring a bank account (the
// ledger_account of a row of bank_accounts, or one of its subaccounts) are
// marked: entries.bank = 1, indexed by time in entries_bank. Bank
// reconciliation reads the entries of those accounts every night, over all
// of time; a month of a million payments holds two million entries, of
// which a few hundred reach the bank, and the postings are kept in each
// entry's row, so without the mark each run read them all.
//
// The mark holds for every account under a mapped ledger account: each
// entry written is marked by its postings' account names (markBank), and a
// statement import that maps a ledger account not mapped before marks the
// entries stored before (markBankEntries). A mapping moved elsewhere
// leaves its entries marked, which costs nothing: the mark only narrows
// the rows EachEntry decodes, and it decides on the postings.

// bankLedgerAccounts returns the ledger accounts that bank accounts map
// to, read once per transaction (a write transaction holds the database,
// so no import maps another meanwhile).
func (t *tx) bankLedgerAccounts(ctx context.Context) ([]string, error) {
	if t.bank != nil {
		return *t.bank, nil
	}
	rows, err := t.query(ctx, `SELECT DISTINCT ledger_account FROM bank_accounts`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	t.bank = &names
	return names, nil
}

// underAny reports whether account is one of names or under one of them.
func underAny(account string, names []string) bool {
	for _, n := range names {
		if underAccount(account, n) && n != "" {
			return true
		}
	}
	return false
}

// markBank reports whether e posts to an account under one of the bank
// ledger accounts names.
func markBank(e *ledger.Entry, names []string) bool {
	if len(names) == 0 {
		return false
	}
	for _, p := range e.Postings {
		if underAny(p.Account, names) {
			return true
		}
	}
	return false
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
