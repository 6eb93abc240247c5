package reconcile

import (
	"context"
	"time"

	"github.com/settlehq/settle/provider"
)

// Run is one stored reconciliation run: a scope, when it ran, what it
// compared, and what it found.
type Run struct {
	ID           int64
	Provider     string
	Grain        provider.Grain
	From, To     time.Time // zero ends are open
	StartedAt    time.Time
	FinishedAt   time.Time
	InputsDigest string // hash of both sides' inputs: equal digests must give equal results
	Summary      Summary
	Opened       int // exceptions opened or reopened by this run
	Closed       int // open exceptions in this run's scope that it no longer found
	// Adopted counts the ledger's estimated settlement dates this run
	// replaced with the provider's.
	Adopted int
	// RecordsThrough is the newest provider record (by store id) that this
	// run's window covered along with every record before it, so the next
	// nightly run knows which records are new.
	RecordsThrough int64
}

// ExceptionFilter selects exceptions. Zero fields do not filter.
type ExceptionFilter struct {
	Status   ExceptionStatus
	Provider string
	Kind     OutcomeKind
	ID       int64
	// Before keeps exceptions whose subject's time (At) is before it: the
	// ones at least so old.
	Before time.Time
	// Limit and Offset page the list (ordered by id): at most Limit
	// exceptions after skipping Offset. A zero Limit does not limit.
	Limit, Offset int
}

// ExceptionEvent is one change in an exception's life.
type ExceptionEvent struct {
	At      time.Time
	RunID   int64  // the run that made the change, if a run did
	Action  string // opened, reopened, closed, resolved, ignored, open
	Status  ExceptionStatus
	Note    string
	EntryID int64 // the entry booked to fix it, if any
}

// Store keeps reconciliation runs, their exceptions with their history,
// and the links between provider records and ledger items.
type Store interface {
	// UpdateRecon runs fn in one write transaction.
	UpdateRecon(ctx context.Context, fn func(Tx) error) error
	// Runs lists stored runs, newest first, of one provider or all ("").
	Runs(ctx context.Context, provider string) ([]*Run, error)
	// Exceptions lists exceptions ordered by id.
	Exceptions(ctx context.Context, f ExceptionFilter) ([]Exception, error)
	// EachException calls fn with each exception f selects, ordered by
	// id, read in one query as they come rather than gathered first: a
	// report of a million open exceptions. fn may keep what it is given.
	EachException(ctx context.Context, f ExceptionFilter, fn func(*Exception) error) error
	// CountExceptions counts the exceptions f selects, its Limit and
	// Offset aside: how many are open, without reading them.
	CountExceptions(ctx context.Context, f ExceptionFilter) (int, error)
	// Exception returns one exception, or an error wrapping ledger.ErrNotFound.
	Exception(ctx context.Context, id int64) (*Exception, error)
	// ExceptionHistory lists the changes of an exception, oldest first.
	ExceptionHistory(ctx context.Context, id int64) ([]ExceptionEvent, error)
	// Links returns the provider id → ledger id links of a provider and grain.
	Links(ctx context.Context, provider string, grain provider.Grain) (map[string]string, error)
	// RecordsCovered returns the newest provider record id that runs of a
	// provider and grain covered together with every record before it.
	RecordsCovered(ctx context.Context, provider string, grain provider.Grain) (int64, error)
}

// Tx changes reconciliation state inside one transaction. A store whose
// ledger transactions also implement Tx lets a fix and the exception it
// closes commit together (see ledger.Ledger.AtomicTx).
type Tx interface {
	// KnownExceptions returns every exception of a provider and grain, for
	// PlanExceptions, ordered by id, without their differences (Diffs and
	// Payout are left empty: a plan takes a run's figures from its
	// outcomes, and a million stored differences would be decoded for
	// nothing).
	KnownExceptions(ctx context.Context, provider string, grain provider.Grain) ([]Exception, error)
	// SaveRun stores a run, applies its exception plan (stamping the run's
	// id and FinishedAt, and recording each change in the history) and its
	// links. It fills run.ID, Opened and Closed.
	SaveRun(ctx context.Context, run *Run, plan ExceptionPlan, links []Link) error
	Exception(ctx context.Context, id int64) (*Exception, error)
	// SetExceptionStatus resolves, ignores or reopens an exception with a
	// note and, for a resolution, the entry booked to fix it, and records
	// the change in its history.
	SetExceptionStatus(ctx context.Context, id int64, status ExceptionStatus, note string, entryID int64, at time.Time) error
}
