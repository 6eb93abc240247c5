package bank

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrUnmappedAccount: a statement's bank account has no ledger account, and
// none was named for it.
var ErrUnmappedAccount = errors.New("bank account not mapped to a ledger account")

// Account is a bank account as statements name it, in one currency, with
// the ledger account that mirrors it (assets:bank:operating). Statements
// of one account in another currency are another Account.
type Account struct {
	Account       string // as the bank gives it: an IBAN, an account number
	Currency      string
	LedgerAccount string
	// From and Through span the stored statements: the earliest opening
	// date and the latest closing date.
	From, Through time.Time
	// ClosingBalance is the closing balance of the latest statement (by
	// closing date, then sequence, then store order).
	ClosingBalance int64
	Statements     int
}

// StoredStatement is a statement as stored, without its lines.
type StoredStatement struct {
	StoreID       int64 // the store's id (ID is the bank's)
	ImportID      int64
	LedgerAccount string
	Statement     // Lines is left empty
}

// StoredLine is one statement line as stored, with the account it belongs
// to. Raw is filled only when asked for.
type StoredLine struct {
	ID            int64 // the store's id, which LineID turns into the line's name
	StatementID   int64
	Account       string
	LedgerAccount string
	Line
}

// LineID names a stored line in reconciliation outcomes and links: "bl_"
// and its store id.
func LineID(id int64) string { return "bl_" + strconv.FormatInt(id, 10) }

// ParseLineID reads a name LineID made.
func ParseLineID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "bl_"), 10, 64)
	return n, err == nil && strings.HasPrefix(s, "bl_") && n > 0
}

// Date is when the line's money moved for reconciliation: its booking date,
// else its value date.
func (l *Line) Date() time.Time {
	if !l.BookingDate.IsZero() {
		return l.BookingDate
	}
	return l.ValueDate
}

// ImportFile describes one statement file to import.
type ImportFile struct {
	File   string
	SHA256 string // hex of the file's bytes: the same file twice adds nothing
	Format Format
}

// ImportStats says what an import stored.
type ImportStats struct {
	ImportID int64
	// AlreadyLoaded: a file with the same SHA-256 was imported before;
	// nothing was read or stored.
	AlreadyLoaded bool
	Statements    int // statements read
	Added         int // statements stored
	Skipped       int // statements stored before (same account, currency, id, sequence and dates), left as they were
	Lines         int // lines stored
}

// StatementSink receives the statements of one file, inside the import's
// transaction.
type StatementSink interface {
	// Add stores a statement and its lines under a ledger account. A
	// statement stored before, by this file or another (same account,
	// currency, id, sequence, opening and closing dates), is skipped.
	Add(st *Statement, ledgerAccount string) error
}

// LineFilter selects stored lines. Zero fields do not filter.
type LineFilter struct {
	Account  string
	Currency string
	From, To time.Time // the line's Date in [From, To)
	// Raw also loads each line's raw text.
	Raw bool
	ID  int64
}

// Store keeps bank statements and their lines. Implementations live at the
// edge (store/sqlite).
type Store interface {
	// ImportStatements stores what fn adds to the sink, in one
	// transaction: if fn returns an error nothing is stored. A file whose
	// SHA-256 was imported before is skipped (AlreadyLoaded) without
	// calling fn.
	ImportStatements(ctx context.Context, f ImportFile, fn func(StatementSink) error) (ImportStats, error)
	// BankAccounts lists the accounts with stored statements, ordered by
	// account then currency.
	BankAccounts(ctx context.Context) ([]Account, error)
	// Statements lists the stored statements of an account ("" for all),
	// ordered by account, currency, closing date, then store order.
	Statements(ctx context.Context, account string) ([]StoredStatement, error)
	// EachLine streams stored lines ordered by date, then store order.
	EachLine(ctx context.Context, f LineFilter, fn func(*StoredLine) error) error
}
