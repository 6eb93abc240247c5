package postgres

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
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return st, translate(err)
	}
	defer tx.Rollback()
	// A concurrent import of the same file waits on the unique index, then
	// finds the first.
	err = tx.QueryRowContext(ctx, s.sql(`INSERT INTO {schema}.bank_files (file, sha256, format, imported_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING RETURNING id`),
		f.File, f.SHA256, string(f.Format), s.now().UnixNano()).Scan(&st.ImportID)
	if errors.Is(err, sql.ErrNoRows) {
		st.AlreadyLoaded = true
		err = tx.QueryRowContext(ctx, s.sql(`SELECT id FROM {schema}.bank_files WHERE sha256 = $1`), f.SHA256).Scan(&st.ImportID)
		return st, translate(err)
	}
	if err != nil {
		return bank.ImportStats{}, translate(err)
	}
	k := &bankSink{ctx: ctx, s: s, q: tx, fileID: st.ImportID, stats: &st, accounts: map[[2]string]int64{}}
	if err := fn(k); err != nil {
		return bank.ImportStats{}, err
	}
	if _, err := tx.ExecContext(ctx, s.sql(`UPDATE {schema}.bank_files SET statements = $1, added = $2, lines = $3 WHERE id = $4`),
		st.Statements, st.Added, st.Lines, st.ImportID); err != nil {
		return bank.ImportStats{}, translate(err)
	}
	if err := tx.Commit(); err != nil {
		return bank.ImportStats{}, translate(err)
	}
	if k.remapped {
		s.bank.forget()
	}
	return st, nil
}

// bankSink writes statements inside an import's transaction.
type bankSink struct {
	ctx      context.Context
	s        *Store
	q        *sql.Tx
	fileID   int64
	stats    *bank.ImportStats
	accounts map[[2]string]int64 // (account, currency) → bank_accounts.id
	remapped bool                // the import changed the mapping (bankentries.go)
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
	opening, err := storeTS("opening date", st.OpeningDate)
	if err != nil {
		return err
	}
	closing, err := storeTS("closing date", st.ClosingDate)
	if err != nil {
		return err
	}
	var stmtID int64
	err = k.q.QueryRowContext(k.ctx, k.s.sql(`INSERT INTO {schema}.bank_statements (bank_account_id, file_id, format,
		statement_id, sequence, opening_balance, closing_balance, opening_date, closing_date, info, line)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (bank_account_id, statement_id, sequence, opening_date, closing_date) DO NOTHING RETURNING id`),
		accountID, k.fileID, string(st.Format), st.ID, st.Sequence, st.OpeningBalance, st.ClosingBalance, opening, closing,
		st.Info, st.Line).Scan(&stmtID)
	if errors.Is(err, sql.ErrNoRows) {
		k.stats.Skipped++
		return nil
	}
	if err != nil {
		return translate(err)
	}
	k.stats.Added++
	for i := range st.Lines {
		l := &st.Lines[i]
		booking, err := storeTS("booking date", l.BookingDate)
		if err != nil {
			return fmt.Errorf("line %d: %w", l.Line, err)
		}
		value, err := storeTS("value date", l.ValueDate)
		if err != nil {
			return fmt.Errorf("line %d: %w", l.Line, err)
		}
		if _, err := k.q.ExecContext(k.ctx, k.s.sql(`INSERT INTO {schema}.bank_lines (statement_id, date, amount, booking_date,
			value_date, status, reversal, bank_ref, customer_ref, message_ref, type_code, remittance, info, line, byte_offset, raw)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`),
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
	id, err := k.mapBankAccount(account, currency, ledgerAccount)
	if err != nil {
		return 0, err
	}
	k.accounts[key] = id
	return id, nil
}

// BankAccounts lists the accounts with stored statements and what the
// statements span.
func (s *Store) BankAccounts(ctx context.Context) ([]bank.Account, error) {
	rows, err := s.db.QueryContext(ctx, s.sql(`SELECT a.account, a.currency, a.ledger_account, MIN(st.opening_date),
		MAX(st.closing_date), COUNT(st.id),
		(SELECT l.closing_balance FROM {schema}.bank_statements l WHERE l.bank_account_id = a.id
			ORDER BY l.closing_date DESC, l.sequence DESC, l.id DESC LIMIT 1)
		FROM {schema}.bank_accounts a JOIN {schema}.bank_statements st ON st.bank_account_id = a.id
		GROUP BY a.id ORDER BY a.account, a.currency`))
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
	rows, err := s.db.QueryContext(ctx, s.sql(`SELECT st.id, st.file_id, a.ledger_account, st.format, a.account, a.currency,
		st.statement_id, st.sequence, st.opening_balance, st.closing_balance, st.opening_date, st.closing_date, st.info,
		f.file, st.line
		FROM {schema}.bank_statements st JOIN {schema}.bank_accounts a ON a.id = st.bank_account_id
		JOIN {schema}.bank_files f ON f.id = st.file_id
		WHERE $1 = '' OR a.account = $1 ORDER BY a.account, a.currency, st.closing_date, st.id`), account)
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
	where := "TRUE"
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND %s $%d", cond, len(args))
	}
	if f.ID != 0 {
		add("l.id =", f.ID)
	}
	if f.Account != "" {
		add("a.account =", f.Account)
	}
	if f.Currency != "" {
		add("a.currency =", f.Currency)
	}
	if !f.From.IsZero() {
		add("l.date >=", ts(f.From))
	}
	if !f.To.IsZero() {
		add("l.date <", ts(f.To))
	}
	raw := "''"
	if f.Raw {
		raw = "l.raw"
	}
	rows, err := s.db.QueryContext(ctx, s.sql(`SELECT l.id, l.statement_id, a.account, a.ledger_account, a.currency, l.amount,
		l.booking_date, l.value_date, l.status, l.reversal, l.bank_ref, l.customer_ref, l.message_ref, l.type_code,
		l.remittance, l.info, l.line, l.byte_offset, `+raw+`
		FROM {schema}.bank_lines l JOIN {schema}.bank_statements st ON st.id = l.statement_id
		JOIN {schema}.bank_accounts a ON a.id = st.bank_account_id
		WHERE `+where+` ORDER BY l.date, l.id`), args...)
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
