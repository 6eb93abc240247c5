package reconcile

import (
	"time"

	"github.com/settlehq/settle/provider"
)

// ExceptionStatus is where an exception stands.
type ExceptionStatus string

// Exception statuses.
const (
	// ExceptionOpen: found and not dealt with.
	ExceptionOpen ExceptionStatus = "open"
	// ExceptionResolved: fixed, by an adjusting entry or because a later run
	// no longer finds it (see Exception.Resolution).
	ExceptionResolved ExceptionStatus = "resolved"
	// ExceptionIgnored: accepted as is by a person, with a note; a later run
	// that finds it again leaves it ignored.
	ExceptionIgnored ExceptionStatus = "ignored"
)

// Exception is a durable record of a non-matched Outcome, identified across
// its whole life by its Fingerprint: one difference keeps one exception,
// which runs refresh, close and reopen. At most one exists per provider,
// grain and fingerprint.
type Exception struct {
	ID          int64 // the store's id; 0 until stored
	Fingerprint string
	Kind        OutcomeKind
	Status      ExceptionStatus
	Provider    string
	Grain       provider.Grain
	Subject     string // canonical kind (charge, refund, …, payout) or "payment"
	ProviderID  string
	LedgerID    string
	Ref         string
	Currency    string
	Amount      int64
	At          time.Time // the subject's time, which places it in a run's window
	Heuristic   bool      // its pair was found by the currency-amount-date fallback
	Diffs       []Diff
	Payout      *PayoutFigures
	Note        string // why it was ignored or resolved
	// ResolutionEntryID is the entry booked to fix it, if one was.
	ResolutionEntryID int64
	FirstRun, LastRun int64 // the runs that first and last found it
	UpdatedAt         time.Time
}

// Scope is what one run reconciled: a provider, a grain and a window
// [From, To). A zero From or To leaves that end open.
type Scope struct {
	Provider string
	Grain    provider.Grain
	From, To time.Time
}

// Contains reports whether an exception's subject lies in the scope.
func (s Scope) Contains(e *Exception) bool {
	if e.Provider != s.Provider || e.Grain != s.Grain {
		return false
	}
	if !s.From.IsZero() && e.At.Before(s.From) {
		return false
	}
	return s.To.IsZero() || e.At.Before(s.To)
}

// ExceptionPlan is what a run changes in the stored exceptions. A store
// applies it, in the run's transaction, stamping the run's id and time.
type ExceptionPlan struct {
	Open    []Exception // new: fingerprints never seen before
	Reopen  []Exception // resolved before and found again: the same exception, open again
	Refresh []Exception // still open, with this run's figures
	Close   []Exception // open before, in scope, and not found by this run
	Ignored []Exception // ignored before and found again; left as they are
}

// PlanExceptions compares a run's outcomes with the exceptions of earlier
// runs (known: every exception of the scope's provider and grain). One
// difference keeps one exception for life: an outcome whose fingerprint was
// never seen opens a new exception; one that is open already is refreshed
// with this run's figures; one that was ignored stays ignored; one that was
// resolved is reopened, keeping its id and history. An open exception in
// the run's scope that this run did not find again is closed: its subject
// now matches, or is gone from both sides. Exceptions outside the scope are
// left alone. Matched outcomes are ignored, and so are repeated
// fingerprints within one run.
func PlanExceptions(scope Scope, known []Exception, outcomes []Outcome) ExceptionPlan {
	byFP := make(map[string]int, len(known)) // fingerprint → index in known
	for i := range known {
		// An unresolved exception wins over a resolved one with the same
		// fingerprint (databases from before reopening could hold both).
		if prev, ok := byFP[known[i].Fingerprint]; !ok || known[prev].Status == ExceptionResolved {
			byFP[known[i].Fingerprint] = i
		}
	}
	// First what each outcome does, then the plan's lists, each made at
	// its size: a run can find a million differences, and every later run
	// refreshes them all.
	const (
		skip  = -1
		opens = -2
	)
	act := make([]int, len(outcomes)) // skip, opens, or the index in known of the exception it finds again
	found := make([]bool, len(known)) // known exceptions found again by this run
	// The fingerprints this run opens: as many as its outcomes exceed the
	// known exceptions, at a guess, so that a first run's million do not
	// grow the map step by step.
	fresh := make(map[string]struct{}, max(len(outcomes)-len(known), 0))
	var nOpen, nReopen, nRefresh, nIgnored int
	for i := range outcomes {
		o := &outcomes[i]
		act[i] = skip
		if o.Kind == Matched {
			continue
		}
		k, ok := byFP[o.Fingerprint]
		if !ok {
			if _, again := fresh[o.Fingerprint]; !again { // else repeated within the run
				fresh[o.Fingerprint] = struct{}{}
				act[i] = opens
				nOpen++
			}
			continue
		}
		if found[k] {
			continue // repeated within the run
		}
		found[k] = true
		act[i] = k
		switch known[k].Status {
		case ExceptionIgnored:
			nIgnored++
		case ExceptionResolved:
			nReopen++
		default:
			nRefresh++
		}
	}
	plan := ExceptionPlan{Open: make([]Exception, 0, nOpen), Reopen: make([]Exception, 0, nReopen),
		Refresh: make([]Exception, 0, nRefresh), Ignored: make([]Exception, 0, nIgnored)}
	for i, k := range act {
		if k == skip {
			continue
		}
		n := fromOutcome(&outcomes[i], scope.Grain)
		if k == opens {
			n.Status = ExceptionOpen
			plan.Open = append(plan.Open, n)
			continue
		}
		e := &known[k]
		switch e.Status {
		case ExceptionIgnored:
			plan.Ignored = append(plan.Ignored, *e)
		case ExceptionResolved:
			n.ID, n.Status, n.Note, n.FirstRun = e.ID, ExceptionOpen, e.Note, e.FirstRun
			plan.Reopen = append(plan.Reopen, n)
		default:
			n.ID, n.Status, n.Note, n.FirstRun = e.ID, ExceptionOpen, e.Note, e.FirstRun
			plan.Refresh = append(plan.Refresh, n)
		}
	}
	// An open exception is its fingerprint's (byFP prefers it), so found
	// tells whether this run found it again.
	var closes []int
	for i := range known {
		if e := &known[i]; e.Status == ExceptionOpen && !found[byFP[e.Fingerprint]] && scope.Contains(e) {
			closes = append(closes, i)
		}
	}
	plan.Close = make([]Exception, 0, len(closes))
	for _, i := range closes {
		e := known[i]
		e.Status = ExceptionResolved
		plan.Close = append(plan.Close, e)
	}
	return plan
}

func fromOutcome(o *Outcome, grain provider.Grain) Exception {
	return Exception{Fingerprint: o.Fingerprint, Kind: o.Kind, Provider: o.Provider, Grain: grain, Subject: o.Subject,
		ProviderID: o.ProviderID, LedgerID: o.LedgerID, Ref: o.Ref, Currency: o.Currency, Amount: o.Amount, At: o.At,
		Heuristic: o.Heuristic, Diffs: o.Diffs, Payout: o.Payout}
}
