package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/settlehq/settle/store/internal/bankmark"
)

// Entries that post to a bank account's ledger account are marked
// (entries.bank) and indexed by time (entries_bank): package bankmark says
// why and which. The mapped ledger accounts are the setting bankSetting,
// which writers and statement imports order themselves by:
//
//   - A write transaction marks its entries by the setting as the store
//     last read it (Store.bank) and checks at commit, holding the setting
//     FOR SHARE, that it still stands; if an import changed it meanwhile,
//     the transaction runs again (errStaleBank). Without a cached value it
//     reads the setting under that lock at once.
//   - An import that changes the mapping locks the setting FOR UPDATE
//     first, which waits for the writes that hold it, then updates it and
//     marks the entries stored before; a write that commits after it
//     finds the setting changed.
const bankSetting = "bank_ledger_accounts"

// errStaleBank is a mapping of bank accounts that changed after a
// transaction marked its entries by the cached one: it runs again.
var errStaleBank = errors.New("postgres: the bank accounts' mapping changed during the transaction")

// bankLedgerAccounts returns the ledger accounts that bank accounts map
// to: in a read transaction, as its snapshot holds them; in a write, as
// the store's cache or the setting under its lock says.
func (t *tx) bankLedgerAccounts(ctx context.Context) ([]string, error) {
	if t.bankNames != nil {
		return t.bankNames, nil
	}
	if t.write && !t.callers {
		if v, ok := t.s.bank.get(); ok {
			t.bankSeen, t.bankNames = &v, bankmark.Parse(v)
			return t.bankNames, nil
		}
	}
	q := `SELECT value FROM {schema}.settings WHERE name = '` + bankSetting + `'`
	if t.write {
		q += ` FOR SHARE`
	}
	var v string
	if err := t.queryRow(ctx, q).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, t.fail(err)
	}
	if t.write {
		t.bankHeld = true
		if !t.callers {
			t.s.bank.set(v)
		}
	}
	t.bankNames = bankmark.Parse(v)
	return t.bankNames, nil
}

// mapBankAccount maps a bank account to ledgerAccount in an import's
// transaction q, unless it is mapped there already: it locks the setting,
// marks the stored entries of ledgerAccount unless a mapped ledger account
// covers it, stores the mapping and the setting, and returns the bank
// account's id.
func (k *bankSink) mapBankAccount(account, currency, ledgerAccount string) (int64, error) {
	ctx, q, s := k.ctx, k.q, k.s
	var id int64
	err := q.QueryRowContext(ctx, s.sql(`SELECT id FROM {schema}.bank_accounts WHERE account = $1 AND currency = $2 AND ledger_account = $3`),
		account, currency, ledgerAccount).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, translate(err)
	}
	var setting string
	if err := q.QueryRowContext(ctx, s.sql(`SELECT value FROM {schema}.settings WHERE name = '`+bankSetting+`' FOR UPDATE`)).
		Scan(&setting); err != nil {
		return 0, translate(err)
	}
	var covered bool
	if err := q.QueryRowContext(ctx, s.sql(`SELECT EXISTS (SELECT 1 FROM {schema}.bank_accounts
		WHERE ledger_account = $1 OR starts_with($1, ledger_account || ':'))`), ledgerAccount).Scan(&covered); err != nil {
		return 0, translate(err)
	}
	if !covered {
		if _, err := q.ExecContext(ctx, s.sql(`UPDATE {schema}.entries SET bank = TRUE WHERE NOT bank AND account_ids &&
			ARRAY(SELECT id FROM {schema}.accounts WHERE name = $1 OR starts_with(name, $1 || ':'))`), ledgerAccount); err != nil {
			return 0, translate(err)
		}
	}
	err = q.QueryRowContext(ctx, s.sql(`INSERT INTO {schema}.bank_accounts (account, currency, ledger_account)
		VALUES ($1, $2, $3) ON CONFLICT (account, currency) DO UPDATE SET ledger_account = excluded.ledger_account RETURNING id`),
		account, currency, ledgerAccount).Scan(&id)
	if err != nil {
		return 0, translate(err)
	}
	if _, err := q.ExecContext(ctx, s.sql(`UPDATE {schema}.settings SET value = (SELECT
		COALESCE(string_agg(DISTINCT ledger_account, E'\n' ORDER BY ledger_account), '') FROM {schema}.bank_accounts)
		WHERE name = '`+bankSetting+`'`)); err != nil {
		return 0, translate(err)
	}
	k.remapped = true
	return id, nil
}
