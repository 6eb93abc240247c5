// Package bankmark decides which entries a store marks as posting to a
// bank account's ledger account.
//
// Bank reconciliation reads, every night and over all of time, the entries
// that post to the ledger accounts that bank accounts map to (a statement
// import names each bank account's ledger account). Both stores keep an
// entry's postings in its own row, so an account's entries were found by
// reading every entry: a month of a million payments holds two million,
// of which a few hundred reach the bank. So each store marks the entries
// that post to a mapped ledger account or one of its subaccounts, and
// indexes the marked ones by time; an account's entries are read through
// that index when every account under it is mapped.
//
// The mark holds for every account under a mapped ledger account: a store
// marks each entry it writes by its postings' account names (Marked), and
// a statement import that maps a ledger account not covered before marks
// the entries stored before. A mapping moved elsewhere leaves its entries
// marked, which costs nothing: the mark narrows the rows read, and the
// postings decide.
package bankmark

import (
	"strings"

	"github.com/settlehq/settle/ledger"
)

// Under reports whether account is one of ledgerAccounts or a subaccount
// of one.
func Under(account string, ledgerAccounts []string) bool {
	for _, la := range ledgerAccounts {
		if la != "" && (account == la || strings.HasPrefix(account, la+":")) {
			return true
		}
	}
	return false
}

// Marked reports whether e posts to an account under one of
// ledgerAccounts.
func Marked(e *ledger.Entry, ledgerAccounts []string) bool {
	if len(ledgerAccounts) == 0 {
		return false
	}
	for _, p := range e.Postings {
		if Under(p.Account, ledgerAccounts) {
			return true
		}
	}
	return false
}

// Parse reads the PostgreSQL store's setting bank_ledger_accounts: the
// mapped ledger accounts, one a line ("" for none), as its SQL writes it.
func Parse(setting string) []string {
	if setting == "" {
		return []string{}
	}
	return strings.Split(setting, "\n")
}
