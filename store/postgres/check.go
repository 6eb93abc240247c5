package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/internal/invariant"
)

// invariants are queries that return one row per violation: a subject and
// a detail. They are the SQLite store's (store/sqlite/check.go), in
// PostgreSQL; net, amount and fee are compared as numeric, so a corrupt
// database reports rather than overflows. Those over the entries' postings
// and pending links, the derived payouts and the payments are checked in Go
// (checkEntries, invariant.Check), as on SQLite, where a sum past int64
// fails verify with an error: as queries of their own they read the
// entries five times and the payments four, and verify of 100,000
// payments' books took 2.4–3.7 s (BENCHMARKS.md, twenty-ninth round).
var invariants = []invariant.Query{
	{Name: "net_is_amount_minus_fee", SQL: `SELECT 'balance transaction ' || id, 'net ' || net || ' <> amount ' || amount || ' - fee ' || fee
		FROM {schema}.balance_transactions WHERE net::numeric <> amount::numeric - fee ORDER BY id COLLATE "C"`},
	{Name: "balance_transaction_has_entry", SQL: `SELECT 'balance transaction ' || b.id, 'entry ' || b.entry_id || ' missing'
		FROM {schema}.balance_transactions b LEFT JOIN {schema}.entries e ON e.id = b.entry_id WHERE e.id IS NULL ORDER BY b.id COLLATE "C"`},
	{Name: "reversed_once", SQL: `SELECT 'entry ' || reverses, COUNT(*) || ' entries reverse it'
		FROM {schema}.entries WHERE reverses IS NOT NULL GROUP BY reverses HAVING COUNT(*) > 1 ORDER BY reverses`},
	// A converted movement's two sides (ledger/fx.go): another currency,
	// the same direction; a converted payment's booking conversion is
	// checked with the payments (invariant.Payments).
	{Name: "conversion_sides_consistent", SQL: `SELECT 'balance transaction ' || id, 'presented ' || presentment_amount || ' ' || presentment_currency ||
			', settled ' || amount || ' ' || currency
		FROM {schema}.balance_transactions WHERE presentment_currency <> '' AND (presentment_currency = currency
			OR presentment_amount = 0 OR (presentment_amount < 0) <> (amount < 0))
		ORDER BY id COLLATE "C"`},
}

// Check checks every invariant and collects the violations
// (invariant.Check).
func (t *tx) Check(ctx context.Context) ([]ledger.Violation, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	out, err := invariant.Check(invariant.Source{
		Entries: func() ([]ledger.Violation, error) { return t.checkEntries(ctx) },
		Run:     func(query string) (invariant.Rows, error) { return t.query(ctx, query) },
		// Automatic payouts are few and kept in memory; the derived
		// transactions are read in table order.
		AutomaticPayouts: `SELECT id, provider, currency, created_at FROM {schema}.payouts WHERE automatic
			ORDER BY created_at, id COLLATE "C"`,
		DerivedTransactions: `SELECT id, provider, currency, available_on, payout_id FROM {schema}.balance_transactions
			WHERE payout_derived`,
		// The refunds summed per payment, few; the payments in table order.
		RefundSums: `SELECT payment_id, SUM(amount) FROM {schema}.refunds GROUP BY payment_id`,
		Payments: `SELECT id, authorized, captured, refunded, disputed, currency, settlement_currency, settled
			FROM {schema}.payments`,
		Queries: invariants,
	})
	if err != nil {
		return nil, t.fail(err)
	}
	return out, nil
}

// checkEntries checks, in one pass over the entries in id order, the
// invariants over their postings, the stored balances and the links
// between pending entries and the entries that post them
// (invariant.Entries). The postings' three arrays come in PostgreSQL's text
// form, read by eachElement.
func (t *tx) checkEntries(ctx context.Context) ([]ledger.Violation, error) {
	accounts, err := t.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	check := invariant.NewEntries(accounts)
	banks, err := t.bankLedgerAccounts(ctx)
	if err != nil {
		return nil, err
	}
	check.BankAccounts(banks)
	rows, err := t.query(ctx, `SELECT id, phase, resolution, COALESCE(resolved_by, 0), COALESCE(pending_of, 0),
		account_ids, currencies, amounts, bank FROM {schema}.entries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var e invariant.Entry
	var ids, currencies, amounts sql.RawBytes
	names := map[string]string{} // each currency code once
	for rows.Next() {
		if err := rows.Scan(&e.ID, &e.Phase, &e.Resolution, &e.ResolvedBy, &e.PendingOf, &ids, &currencies, &amounts, &e.Bank); err != nil {
			return nil, t.fail(err)
		}
		var why string
		if e.Postings, why = postingsOf(e.Postings[:0], ids, currencies, amounts, names); why != "" {
			check.Malformed(&e, why)
			continue
		}
		if err := check.Add(&e); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err)
	}
	rows.Close()

	brows, err := t.query(ctx, `SELECT account_id, currency, posted, pending FROM {schema}.balances`)
	if err != nil {
		return nil, err
	}
	stored, err := invariant.ReadBalances(brows)
	if err != nil {
		return nil, t.fail(err)
	}
	return check.Violations(stored), nil
}

// errMissing is why an entry's postings cannot be checked: the schema
// keeps the arrays of equal length, so what is left is an element missing
// (NULL), or an array of another length after a change to the schema.
var errMissing = errors.New("a posting has no account, currency or amount")

// postingsOf appends to ps the postings of one entry's three arrays, in
// PostgreSQL's text form; or returns why they are not postings. names
// keeps each currency code once.
func postingsOf(ps []invariant.Posting, ids, currencies, amounts []byte, names map[string]string) ([]invariant.Posting, string) {
	err := eachElement(ids, func(elem []byte, null bool) error {
		if null {
			return errMissing
		}
		id, err := strconv.ParseInt(string(elem), 10, 64)
		ps = append(ps, invariant.Posting{Account: id})
		return err
	})
	if err == nil {
		err = eachOf(currencies, len(ps), func(i int, elem []byte) error {
			c, ok := names[string(elem)]
			if !ok {
				c = string(elem)
				names[c] = c
			}
			ps[i].Currency = c
			return nil
		})
	}
	if err == nil {
		err = eachOf(amounts, len(ps), func(i int, elem []byte) (err error) {
			ps[i].Amount, err = strconv.ParseInt(string(elem), 10, 64)
			return err
		})
	}
	switch {
	case err == nil:
		return ps, ""
	case errors.Is(err, errMissing):
		return ps, errMissing.Error()
	}
	return ps, "postings: " + err.Error()
}

// eachOf calls set with each element of an array that must hold n, none
// NULL, and its place; else it returns errMissing.
func eachOf(array []byte, n int, set func(i int, elem []byte) error) error {
	i := 0
	err := eachElement(array, func(elem []byte, null bool) error {
		if null || i == n {
			return errMissing
		}
		i++
		return set(i-1, elem)
	})
	if err == nil && i != n {
		return errMissing
	}
	return err
}

// eachElement calls fn with each element of a one-dimensional array in
// PostgreSQL's text output: "{a,b,\"c,d\",NULL}", with a dimension
// decoration ("[0:1]={…}") when the lower bound is not 1. A quoted element
// is handed over unquoted and unescaped; an unquoted NULL is null.
func eachElement(s []byte, fn func(elem []byte, null bool) error) error {
	if len(s) > 0 && s[0] == '[' {
		i := bytes.IndexByte(s, '=')
		if i < 0 {
			return fmt.Errorf("array %q: no '=' after its dimensions", s)
		}
		s = s[i+1:]
	}
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return fmt.Errorf("array %q: not in braces", s)
	}
	s = s[1 : len(s)-1]
	if len(s) == 0 {
		return nil
	}
	var buf []byte
	for {
		var elem []byte
		null := false
		switch {
		case len(s) > 0 && s[0] == '"':
			buf = buf[:0]
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				buf = append(buf, s[i])
			}
			if i >= len(s) {
				return fmt.Errorf("array element %q: no closing quote", s)
			}
			elem, s = buf, s[i+1:]
		case len(s) > 0 && s[0] == '{':
			return fmt.Errorf("array of more than one dimension")
		default:
			i := bytes.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			elem, s = s[:i], s[i:]
			null = string(elem) == "NULL"
		}
		if err := fn(elem, null); err != nil {
			return err
		}
		if len(s) == 0 {
			return nil
		}
		if s[0] != ',' {
			return fmt.Errorf("array element followed by %q", s)
		}
		s = s[1:]
	}
}
