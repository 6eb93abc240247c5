package ledger

import (
	"context"
	"errors"
	"time"
)

// Store is the persistence a Ledger runs on. Implementations live at the
// edge (package ledger/sqlite); the Ledger holds all the posting rules.
type Store interface {
	// Update runs fn in one write transaction: all of fn's writes land, or
	// none do. Implementations serialize writers so that callers never see
	// a busy database.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(ReadTx) error) error
}

// ReadTx reads ledger state.
type ReadTx interface {
	Entry(ctx context.Context, id int64) (*Entry, error)
	EntryByKey(ctx context.Context, key string) (*Entry, error)
	// ReversedBy returns the id of the entry that reverses entry id, or 0.
	ReversedBy(ctx context.Context, id int64) (int64, error)
	Payment(ctx context.Context, id string) (*Payment, error)
	Refund(ctx context.Context, id string) (*Refund, error)
	Dispute(ctx context.Context, id string) (*Dispute, error)
	Payout(ctx context.Context, id string) (*Payout, error)
	BalanceTransaction(ctx context.Context, id string) (*BalanceTransaction, error)
	// Balances returns the maintained balances, filtered by account name
	// prefix ("" for all), ordered by account then currency.
	Balances(ctx context.Context, prefix string) ([]Balance, error)
	// BalancesAsOf computes posted balances from postings of entries that
	// occurred at or before asOf.
	BalancesAsOf(ctx context.Context, prefix string, asOf time.Time) ([]Balance, error)
	// Request returns a stored idempotent request by key, or ErrNotFound.
	Request(ctx context.Context, key string) (*Request, error)
	ClosedThrough(ctx context.Context) (time.Time, error)
	// Check verifies every invariant over the whole database.
	Check(ctx context.Context) ([]Violation, error)
	// Accounts lists every account, ordered by name.
	Accounts(ctx context.Context) ([]Account, error)
	// EachEntry streams entries with their postings, ordered by occurred_at
	// then id, without holding them all in memory.
	EachEntry(ctx context.Context, f EntryFilter, fn func(*Entry) error) error
	// EachBalanceTransaction streams balance transactions ordered by
	// created then id.
	EachBalanceTransaction(ctx context.Context, f BTFilter, fn func(*BalanceTransaction) error) error
	// EachPayment streams payments of a provider ("" for all), ordered by id.
	EachPayment(ctx context.Context, provider string, fn func(*Payment) error) error
	// EachPayout streams payouts of a provider ("" for all), ordered by created then id.
	EachPayout(ctx context.Context, provider string, fn func(*Payout) error) error
	// BalanceTransactionsByID returns the balance transactions of ids, by
	// id, in a few queries; ids not found are left out.
	BalanceTransactionsByID(ctx context.Context, ids []string) (map[string]*BalanceTransaction, error)
	// StoredEntryKeys reports which of keys are the keys of stored
	// entries, in a few queries; keys not found are left out.
	StoredEntryKeys(ctx context.Context, keys []string) (map[string]bool, error)
}

// EntryFilter selects entries. Zero fields do not filter.
type EntryFilter struct {
	From, To   time.Time // occurred_at in [From, To)
	Account    string    // entries with a posting to this account or its subaccounts
	PostedOnly bool      // skip pending entries
	// After, when its ID is set, keeps the entries that come after it in
	// EachEntry's order (occurred_at, then id): the next page after an
	// entry, found by a seek rather than by reading the pages before.
	After EntryCursor
	// Offset skips the first Offset entries the rest of the filter keeps.
	// A store skips them unread where it can (SQL's OFFSET still steps
	// over each one); After is the way to a page deep in the books.
	Offset int
}

// EntryCursor is an entry's place in EachEntry's order.
type EntryCursor struct {
	OccurredAt time.Time
	ID         int64
}

// CursorOf is e's place in EachEntry's order.
func CursorOf(e *Entry) EntryCursor { return EntryCursor{OccurredAt: e.OccurredAt, ID: e.ID} }

// BTFilter selects balance transactions. Zero fields do not filter.
type BTFilter struct {
	Provider   string
	From, To   time.Time // created in [From, To)
	PayoutID   string
	SourceType string // e.g. SourceCorrection
}

// Tx writes ledger state inside one transaction.
type Tx interface {
	ReadTx
	// InsertEntry assigns e.ID (and RecordedAt, if the ledger left it
	// zero), writes the entry and its
	// postings, creates missing accounts, and updates the posted or pending
	// balances. A duplicate key is ErrIdempotencyConflict.
	InsertEntry(ctx context.Context, e *Entry) error
	// InsertEntries writes many entries as InsertEntry does, in multi-row
	// statements. An entry whose key is already stored is not written; its
	// stored version is returned under its index in existing instead.
	// Keys within es must be distinct.
	InsertEntries(ctx context.Context, es []*Entry) (existing map[int]*Entry, err error)
	// ResolvePending marks a pending entry resolved and releases its pending
	// balances. It fails with ErrAlreadyResolved if it was resolved before.
	ResolvePending(ctx context.Context, id int64, r Resolution, by int64) error
	// SavePayment inserts a payment new to the books, or updates one this
	// transaction read (Payment, Prefetch).
	SavePayment(ctx context.Context, p *Payment) error
	SaveRefund(ctx context.Context, r *Refund) error
	SaveDispute(ctx context.Context, d *Dispute) error
	SavePayout(ctx context.Context, p *Payout) error
	InsertBalanceTransaction(ctx context.Context, bt *BalanceTransaction) error
	// SetBalanceTransactionStatus changes a balance transaction's status.
	SetBalanceTransactionStatus(ctx context.Context, id, status string) error
	// AutomaticPayoutFor returns the id of the first automatic payout of
	// provider and currency, ordered by time then id, whose time is at or
	// after availableOn; "" if there is none.
	AutomaticPayoutFor(ctx context.Context, provider, currency string, availableOn time.Time) (string, error)
	// PreviousAutomaticPayout returns the time of the automatic payout of
	// provider and currency just before (at, id) in (time, id) order, and
	// whether there is one.
	PreviousAutomaticPayout(ctx context.Context, provider, currency string, at time.Time, id string) (time.Time, bool, error)
	// AssignPayout sets payoutID on the balance transactions of provider and
	// currency whose payout is derived and whose available_on lies in
	// (after, through] (or at or before through, when open is set). It
	// returns no count, so that a store may write it behind the
	// operations that follow.
	AssignPayout(ctx context.Context, provider, currency string, after time.Time, open bool, through time.Time, payoutID string) error
	// SetBalanceTransactionSettlement sets a balance transaction's
	// available_on, whether it is estimated, and its payout.
	SetBalanceTransactionSettlement(ctx context.Context, id string, availableOn time.Time, estimated bool, payoutID string) error
	// SetSettlements applies many settlement changes (available_on, whether
	// estimated, payout and status) in a few statements.
	SetSettlements(ctx context.Context, cs []SettlementChange) error
	// UpdateBalanceTransaction rewrites a balance transaction's settlement
	// figures — currency, amount, fee, net, fee details, presentment side,
	// rate, whether the settlement is estimated — and its payout, as
	// AdoptSettlement changes them.
	UpdateBalanceTransaction(ctx context.Context, bt *BalanceTransaction) error
	// DueBalanceTransactions lists pending balance transactions whose
	// available_on is at or before asOf, of provider and currency when
	// they are given ("" for any): a payout sweeps its own currency only.
	DueBalanceTransactions(ctx context.Context, asOf time.Time, provider, currency string) ([]BalanceTransaction, error)
	// ExpiredPending lists unresolved pending entries whose expiry is at or
	// before asOf.
	ExpiredPending(ctx context.Context, asOf time.Time) ([]Entry, error)
	SaveRequest(ctx context.Context, r *Request) error
	SetClosedThrough(ctx context.Context, t time.Time) error
}

// Request is a completed idempotent call: its key, a hash of the request and
// the result returned, so that a replay returns the same result.
type Request struct {
	Key       string
	Operation string
	Hash      string
	Result    []byte // the operation's result, in its stored form (resultcodec.go)
	CreatedAt time.Time
	// EntryID is the entry the request booked under its own key, 0 if
	// none: a store may keep the request by that entry (the SQLite store
	// does, so that the entries' key index serves both). It is given to
	// SaveRequest; a store need not return it.
	EntryID int64
}

// Nester is implemented by transactions that can run a nested unit of work
// which is undone on error without undoing the rest (a SQL savepoint).
type Nester interface {
	Nested(ctx context.Context, fn func() error) error
}

// Prefetcher is implemented by transactions that can read ahead, in a few
// queries, what a run of operations is about to look up one at a time (see
// Ahead). It is an optimization only: a transaction that does not
// implement it answers the same lookups one by one, and one that
// implements it may read ahead only some of them.
type Prefetcher interface {
	Prefetch(ctx context.Context, ahead Ahead) error
}

// Ahead is what a run of operations is about to look up: the idempotent
// requests under their keys (which are also the keys of the entries they
// book), and the payments, refunds, disputes and payouts they name. Ids may
// repeat, and an empty one names nothing.
type Ahead struct {
	Keys, Payments, Refunds, Disputes, Payouts []string
}

// Reset empties a's lists, keeping their memory for the next run.
func (a *Ahead) Reset() {
	a.Keys, a.Payments, a.Refunds, a.Disputes, a.Payouts = a.Keys[:0], a.Payments[:0], a.Refunds[:0], a.Disputes[:0], a.Payouts[:0]
}

// BaseReader is implemented by write transactions that can read, on
// another connection and while they go on writing, the database as it was
// committed when they began. What the transaction has not written itself
// reads the same there as through the transaction, and the reader's work
// runs beside the writer's: AdoptDates reads the next chunk's balance
// transactions that way while it writes the chunk before.
//
// ReadBase runs fn in such a read; fn may run on another goroutine than
// the transaction's, and must return before the transaction's function
// does. A transaction that cannot read its base this time (an in-memory
// database, whose connections share one cache) returns ErrNoBaseReader
// without calling fn.
type BaseReader interface {
	ReadBase(ctx context.Context, fn func(ReadTx) error) error
}

// ErrNoBaseReader is returned by BaseReader.ReadBase when the transaction
// cannot read its base on another connection.
var ErrNoBaseReader = errors.New("ledger: this transaction cannot read its base state on another connection")

// SettlementChange is a balance transaction's settlement as AdoptAvailableOn
// leaves it: its available_on, whether that is estimated, its payout and its
// status.
type SettlementChange struct {
	ID          string
	AvailableOn time.Time
	Estimated   bool
	PayoutID    string
	Status      string
	// Changes names the values that differ from the stored ones (zero:
	// any may). A store may write only those: each column it leaves alone
	// is an index it need not update, and a payout's sweep changes only
	// the status of a million transactions.
	Changes SettlementFields
}

// SettlementFields names values of a SettlementChange.
type SettlementFields uint8

const (
	ChangesDate   SettlementFields = 1 << iota // AvailableOn and Estimated
	ChangesPayout                              // PayoutID
	ChangesStatus                              // Status

	ChangesAll = ChangesDate | ChangesPayout | ChangesStatus
)

// Fields returns the values c changes: Changes, or all of them when it is
// zero.
func (c SettlementChange) Fields() SettlementFields {
	if c.Changes == 0 {
		return ChangesAll
	}
	return c.Changes
}
