package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
)

var _ bank.Store = (*Store)(nil)

// ImportStatements stores the statements fn adds, in one transaction: if fn
// returns an error nothing is stored. A file whose SHA-256 was imported
// before is skipped without calling fn; a statement stored before (same
// account, currency, id, sequence and dates) is skipped and counted.
func (s *Store) ImportStatements(ctx context.Context, f bank.ImportFile, fn func(bank.StatementSink) error) (bank.ImportStats, error) {
	var st bank.ImportStats
	err := s.withWrite(ctx, func(q querier) error {
		st = bank.ImportStats{}
		var prev int64
		err := q.QueryRowContext(ctx, `SELECT id FROM bank_files WHERE sha256 = ?`, f.SHA256).Scan(&prev)
		if err == nil {
			st.ImportID, st.AlreadyLoaded = prev, true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := q.ExecContext(ctx, `INSERT INTO bank_files (file, sha256, format, imported_at) VALUES (?, ?, ?, ?)`,
			f.File, f.SHA256, string(f.Format), s.now().UnixNano())
		if err != nil {
			return err
		}
		if st.ImportID, err = res.LastInsertId(); err != nil {
			return err
		}
		k := &bankSink{ctx: ctx, q: q, fileID: st.ImportID, stats: &st, accounts: map[[2]string]int64{}}
		if err := fn(k); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `UPDATE bank_files SET statements = ?, added = ?, lines = ? WHERE id = ?`,
			st.Statements, st.Added, st.Lines, st.ImportID)
		return err
	})
	return st, translate(err)
}

// bankSink writes statements inside an import's transaction.
type bankSink struct {
	ctx      context.Context
	q        querier
	fileID   int64
	stats    *bank.ImportStats
	accounts map[[2]string]int64 // (account, currency) → bank_accounts.id
}

func (k *bankSink) Add(st *bank.Statement, ledgerAccount string) error {
	if _, err := ledger.AccountTypeOf(ledgerAccount); err != nil {
		return fmt.Errorf("statement of account %q: %w", st.Account, err)
	}
	k.stats.Statements++
	accountID, err := k.account(st.Account, st.Currency, ledgerAccount)
	if err != nil {
		return err
	}
	opening, closing, err := storeTimes2("opening date", st.OpeningDate, "closing date", st.ClosingDate)
	if err != nil {
		return err
	}
	res, err := k.q.ExecContext(k.ctx, `INSERT INTO bank_statements (bank_account_id, file_id, format, statement_id, sequence,
		opening_balance, closing_balance, opening_date, closing_date, info, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (bank_account_id, statement_id, sequence, opening_date, closing_date) DO NOTHING`,
		accountID, k.fileID, string(st.Format), st.ID, st.Sequence, st.OpeningBalance, st.ClosingBalance, opening, closing,
		st.Info, st.Line)
	if err != nil {
		return translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		k.stats.Skipped++
		return nil
	}
	stmtID, err := res.LastInsertId()
	if err != nil {
		return err
	}
	k.stats.Added++
	for i := range st.Lines {
		l := &st.Lines[i]
		booking, value, err := storeTimes2("booking date", l.BookingDate, "value date", l.ValueDate)
		if err != nil {
			return fmt.Errorf("line %d: %w", l.Line, err)
		}
		if _, err := k.q.ExecContext(k.ctx, `INSERT INTO bank_lines (statement_id, date, amount, booking_date, value_date,
			status, reversal, bank_ref, customer_ref, message_ref, type_code, remittance, info, line, byte_offset, raw)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			stmtID, ts(l.Date()), l.Amount, booking, value, l.Status, l.Reversal, l.BankRef, l.CustomerRef, l.MessageRef,
			l.TypeCode, l.Remittance, l.Info, l.Line, l.Offset, l.Raw); err != nil {
			return translate(err)
		}
		k.stats.Lines++
	}
	return nil
}

// account returns the id of a bank account, creating it or moving it to
// ledgerAccount.
func (k *bankSink) account(account, currency, ledgerAccount string) (int64, error) {
	key := [2]string{account, currency}
	if id, ok := k.accounts[key]; ok {
		return id, nil
	}
	if err := markBankEntries(k.ctx, k.q, ledgerAccount); err != nil {
		return 0, err
	}
	var id int64
	err := k.q.QueryRowContext(k.ctx, `INSERT INTO bank_accounts (account, currency, ledger_account) VALUES (?, ?, ?)
		ON CONFLICT (account, currency) DO UPDATE SET ledger_account = excluded.ledger_account RETURNING id`,
		account, currency, ledgerAccount).Scan(&id)
	if err != nil {
		return 0, translate(err)
	}
	k.accounts[key] = id
	return id, nil
}

// BankAccounts lists the accounts with stored statements and what the
// statements span.
func (s *Store) BankAccounts(ctx context.Context) ([]bank.Account, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.account, a.currency, a.ledger_account, MIN(st.opening_date),
		MAX(st.closing_date), COUNT(st.id),
		(SELECT l.closing_balance FROM bank_statements l WHERE l.bank_account_id = a.id
			ORDER BY l.closing_date DESC, l.sequence DESC, l.id DESC LIMIT 1)
		FROM bank_accounts a JOIN bank_statements st ON st.bank_account_id = a.id
		GROUP BY a.id ORDER BY a.account, a.currency`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bank.Account
	for rows.Next() {
		var a bank.Account
		var from, through int64
		if err := rows.Scan(&a.Account, &a.Currency, &a.LedgerAccount, &from, &through, &a.Statements, &a.ClosingBalance); err != nil {
			return nil, err
		}
		a.From, a.Through = fromTS(from), fromTS(through)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Statements lists stored statements of an account ("" for all).
func (s *Store) Statements(ctx context.Context, account string) ([]bank.StoredStatement, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT st.id, st.file_id, a.ledger_account, st.format, a.account, a.currency,
		st.statement_id, st.sequence, st.opening_balance, st.closing_balance, st.opening_date, st.closing_date, st.info,
		f.file, st.line
		FROM bank_statements st JOIN bank_accounts a ON a.id = st.bank_account_id JOIN bank_files f ON f.id = st.file_id
		WHERE ? = '' OR a.account = ? ORDER BY a.account, a.currency, st.closing_date, st.id`, account, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bank.StoredStatement
	for rows.Next() {
		var st bank.StoredStatement
		var format string
		var opening, closing int64
		if err := rows.Scan(&st.StoreID, &st.ImportID, &st.LedgerAccount, &format, &st.Account, &st.Currency, &st.Statement.ID,
			&st.Sequence, &st.OpeningBalance, &st.ClosingBalance, &opening, &closing, &st.Info, &st.File, &st.Statement.Line); err != nil {
			return nil, err
		}
		st.Format, st.OpeningDate, st.ClosingDate = bank.Format(format), fromTS(opening), fromTS(closing)
		out = append(out, st)
	}
	return out, rows.Err()
}

// EachLine streams stored lines ordered by date, then store order.
func (s *Store) EachLine(ctx context.Context, f bank.LineFilter, fn func(*bank.StoredLine) error) error {
	where := "1 = 1"
	var args []any
	if f.ID != 0 {
		where += " AND l.id = ?"
		args = append(args, f.ID)
	}
	if f.Account != "" {
		where += " AND a.account = ?"
		args = append(args, f.Account)
	}
	if f.Currency != "" {
		where += " AND a.currency = ?"
		args = append(args, f.Currency)
	}
	if !f.From.IsZero() {
		where += " AND l.date >= ?"
		args = append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		where += " AND l.date < ?"
		args = append(args, ts(f.To))
	}
	raw := "''"
	if f.Raw {
		raw = "l.raw"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT l.id, l.statement_id, a.account, a.ledger_account, a.currency, l.amount,
		l.booking_date, l.value_date, l.status, l.reversal, l.bank_ref, l.customer_ref, l.message_ref, l.type_code,
		l.remittance, l.info, l.line, l.byte_offset, `+raw+`
		FROM bank_lines l JOIN bank_statements st ON st.id = l.statement_id JOIN bank_accounts a ON a.id = st.bank_account_id
		WHERE `+where+` ORDER BY l.date, l.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var l bank.StoredLine
		var booking, value int64
		if err := rows.Scan(&l.ID, &l.StatementID, &l.Account, &l.LedgerAccount, &l.Currency, &l.Amount, &booking, &value,
			&l.Status, &l.Reversal, &l.BankRef, &l.CustomerRef, &l.MessageRef, &l.TypeCode, &l.Remittance, &l.Info,
			&l.Line.Line, &l.Offset, &l.Raw); err != nil {
			return err
		}
		l.BookingDate, l.ValueDate = fromTS(booking), fromTS(value)
		if err := fn(&l); err != nil {
			return err
		}
	}
	return rows.Err()
}
