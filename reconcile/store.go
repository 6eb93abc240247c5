package reconcile

import (
	"context"
	"time"

	"github.com/settlehq/settle/importers"
)

// Run is one reconciliation of a provider over a window, as stored.
type Run struct {
	ID        string
	Provider  string
	Grain     importers.Grain
	Window    Window
	StartedAt time.Time
	EndedAt   time.Time
	Summary   Summary
	Err       string // why the run failed; empty when it completed
}

// Store persists runs, exceptions and links. The package that speaks SQL
// implements it (with a `var _ reconcile.Store = (*T)(nil)` check); the
// matching engine itself never touches storage.
type Store interface {
	// SaveRun records a run, inserting it or updating it by ID.
	SaveRun(ctx context.Context, run *Run) error
	// LastRun returns the latest completed run of a provider and grain, or
	// nil when there is none.
	LastRun(ctx context.Context, provider string, grain importers.Grain) (*Run, error)
	// OpenExceptions returns the unresolved (open and ignored) exceptions of
	// a provider and grain, which PlanExceptions compares a run against.
	OpenExceptions(ctx context.Context, provider string, grain importers.Grain) ([]Exception, error)
	// SaveExceptions applies a plan: inserts plan.Open, updates
	// plan.Refresh and plan.Close, all in one transaction.
	SaveExceptions(ctx context.Context, runID string, plan ExceptionPlan) error
	// Links returns the remembered pairs of a provider and grain: provider
	// record id → ledger id.
	Links(ctx context.Context, provider string, grain importers.Grain) (map[string]string, error)
	// SaveLinks remembers pairs; a pair already known is left as is.
	SaveLinks(ctx context.Context, provider string, grain importers.Grain, links []Link) error
}
