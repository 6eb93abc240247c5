package reconrow

import (
	"context"
	"strconv"

	"github.com/settlehq/settle/reconcile"
)

// PlanWriter writes the parts of a run's exception plan in a store's SQL,
// many exceptions a statement; each part gets at least one exception.
type PlanWriter interface {
	// Open inserts new exceptions, in their order, each with an "opened"
	// event.
	Open(ctx context.Context, es []reconcile.Exception) error
	// Refresh writes the run's figures into stored exceptions; with reopen
	// it also opens them again, each with a "reopened" event saying note.
	Refresh(ctx context.Context, es []reconcile.Exception, reopen bool, note string) error
	// Ignore stamps exceptions left ignored with the run.
	Ignore(ctx context.Context, es []reconcile.Exception) error
	// Close resolves exceptions, adding note to theirs, each with a
	// "closed" event saying it.
	Close(ctx context.Context, es []reconcile.Exception, note string) error
}

// ApplyPlan writes plan, of the run runID, through w: on every store in the
// same order (opened, reopened, refreshed, ignored, closed, which is the
// order of their events) and with the same words in the histories.
func ApplyPlan(ctx context.Context, w PlanWriter, runID int64, plan reconcile.ExceptionPlan) error {
	run := strconv.FormatInt(runID, 10)
	parts := []struct {
		es    []reconcile.Exception
		write func([]reconcile.Exception) error
	}{
		{plan.Open, func(es []reconcile.Exception) error { return w.Open(ctx, es) }},
		{plan.Reopen, func(es []reconcile.Exception) error { return w.Refresh(ctx, es, true, "found again by run "+run) }},
		{plan.Refresh, func(es []reconcile.Exception) error { return w.Refresh(ctx, es, false, "") }},
		{plan.Ignored, func(es []reconcile.Exception) error { return w.Ignore(ctx, es) }},
		{plan.Close, func(es []reconcile.Exception) error { return w.Close(ctx, es, "not found by run "+run) }},
	}
	for _, p := range parts {
		if len(p.es) == 0 {
			continue
		}
		if err := p.write(p.es); err != nil {
			return err
		}
	}
	return nil
}
