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
// runs by its Fingerprint. At most one unresolved exception exists per
// provider, grain and fingerprint.
type Exception struct {
	ID          string
	Fingerprint string
	Kind        OutcomeKind
	Status      ExceptionStatus
	Provider    string
	Grain       provider.Grain
	Subject     string
	ProviderID  string
	LedgerID    string
	Ref         string
	Currency    string
	Amount      int64
	At          time.Time // the subject's time, which places it in a run's window
	Diffs       []Diff
	Payout      *PayoutFigures
	Note        string // why it was ignored or resolved
	Resolution  string // how it was resolved: "entry <id>" or "not found by run <id>"
	OpenedRun   string // the run that first found it
	LastRun     string // the last run that found it
	ClosedRun   string // the run that closed it
	OpenedAt    time.Time
	UpdatedAt   time.Time
	ClosedAt    time.Time
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

// ExceptionPlan is what a run changes in the stored exceptions.
type ExceptionPlan struct {
	Open     []Exception // new: fingerprints never seen before
	Reopen   []Exception // resolved before and found again: the same exception, open again
	Refresh  []Exception // still open, with this run's figures
	Close    []Exception // open before, in scope, and not found by this run
	Ignored  []Exception // ignored before and found again; left as they are
	Outcomes int         // non-matched outcomes considered
}

// PlanExceptions compares this run's outcomes with the exceptions of
// earlier runs (known: every exception of the provider and grain, or at
// least the open and ignored ones and the resolved ones whose fingerprints
// the outcomes carry). One difference keeps one exception for life: an
// outcome whose fingerprint was never seen opens a new exception with an id
// from newID; one that is open already is refreshed (figures, LastRun,
// UpdatedAt); one that was ignored stays ignored; one that was resolved is
// reopened, keeping its id and history. An open exception in the run's scope that this run did not
// find again is closed: its subject now matches, or is gone from both
// sides. Exceptions outside the scope are left alone. Matched outcomes are
// ignored, and so are repeated fingerprints within one run.
func PlanExceptions(scope Scope, runID string, known []Exception, outcomes []Outcome, now time.Time, newID func() string) ExceptionPlan {
	byFP := make(map[string]*Exception, len(known))
	for i := range known {
		e := &known[i]
		// An unresolved exception wins over a resolved one with the same
		// fingerprint (databases from before reopening could hold both).
		if prev, ok := byFP[e.Fingerprint]; !ok || prev.Status == ExceptionResolved {
			byFP[e.Fingerprint] = e
		}
	}
	var plan ExceptionPlan
	seen := map[string]bool{}
	for i := range outcomes {
		o := &outcomes[i]
		if o.Kind == Matched || seen[o.Fingerprint] {
			continue
		}
		seen[o.Fingerprint] = true
		plan.Outcomes++
		e, ok := byFP[o.Fingerprint]
		switch {
		case !ok:
			n := fromOutcome(o, scope.Grain)
			n.ID, n.Status, n.OpenedRun, n.LastRun, n.OpenedAt, n.UpdatedAt = newID(), ExceptionOpen, runID, runID, now, now
			plan.Open = append(plan.Open, n)
		case e.Status == ExceptionIgnored:
			plan.Ignored = append(plan.Ignored, *e)
		case e.Status == ExceptionResolved:
			n := fromOutcome(o, scope.Grain)
			n.ID, n.Status, n.OpenedRun, n.OpenedAt, n.Note = e.ID, ExceptionOpen, e.OpenedRun, e.OpenedAt, e.Note
			n.LastRun, n.UpdatedAt = runID, now
			plan.Reopen = append(plan.Reopen, n)
		default:
			n := fromOutcome(o, scope.Grain)
			n.ID, n.Status, n.OpenedRun, n.OpenedAt, n.Note = e.ID, ExceptionOpen, e.OpenedRun, e.OpenedAt, e.Note
			n.LastRun, n.UpdatedAt = runID, now
			plan.Refresh = append(plan.Refresh, n)
		}
	}
	for i := range known {
		e := known[i]
		if e.Status != ExceptionOpen || seen[e.Fingerprint] || !scope.Contains(&e) {
			continue
		}
		e.Status, e.Resolution, e.ClosedRun, e.ClosedAt, e.UpdatedAt = ExceptionResolved, "not found by run "+runID, runID, now, now
		plan.Close = append(plan.Close, e)
	}
	return plan
}

func fromOutcome(o *Outcome, grain provider.Grain) Exception {
	return Exception{Fingerprint: o.Fingerprint, Kind: o.Kind, Provider: o.Provider, Grain: grain, Subject: o.Subject,
		ProviderID: o.ProviderID, LedgerID: o.LedgerID, Ref: o.Ref, Currency: o.Currency, Amount: o.Amount, At: o.At,
		Diffs: o.Diffs, Payout: o.Payout}
}
