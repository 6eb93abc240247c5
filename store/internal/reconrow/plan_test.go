package reconrow

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/settlehq/settle/reconcile"
)

// recorder is a PlanWriter that notes each call: its part, the ids it was
// given and the note.
type recorder struct {
	calls []string
	fail  string // the part that fails
}

func (r *recorder) note(part string, es []reconcile.Exception, note string) error {
	var ids []int64
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	r.calls = append(r.calls, fmt.Sprintf("%s %v %q", part, ids, note))
	if part == r.fail {
		return errors.New(part + " failed")
	}
	return nil
}

func (r *recorder) Open(_ context.Context, es []reconcile.Exception) error {
	return r.note("open", es, "")
}
func (r *recorder) Refresh(_ context.Context, es []reconcile.Exception, reopen bool, note string) error {
	if reopen {
		return r.note("reopen", es, note)
	}
	return r.note("refresh", es, note)
}
func (r *recorder) Ignore(_ context.Context, es []reconcile.Exception) error {
	return r.note("ignore", es, "")
}
func (r *recorder) Close(_ context.Context, es []reconcile.Exception, note string) error {
	return r.note("close", es, note)
}

func ids(ns ...int64) []reconcile.Exception {
	var es []reconcile.Exception
	for _, n := range ns {
		es = append(es, reconcile.Exception{ID: n})
	}
	return es
}

// ApplyPlan writes the parts in one order, with the histories' words,
// skips empty parts, and stops at the first failure.
func TestApplyPlan(t *testing.T) {
	plan := reconcile.ExceptionPlan{Open: ids(0), Reopen: ids(4), Refresh: ids(5, 6), Close: ids(7)}
	var r recorder
	if err := ApplyPlan(context.Background(), &r, 12, plan); err != nil {
		t.Fatal(err)
	}
	want := []string{`open [0] ""`, `reopen [4] "found again by run 12"`, `refresh [5 6] ""`, `close [7] "not found by run 12"`}
	if !reflect.DeepEqual(r.calls, want) {
		t.Errorf("calls %q, want %q", r.calls, want)
	}
	plan.Ignored = ids(3)
	r = recorder{fail: "refresh"}
	if err := ApplyPlan(context.Background(), &r, 12, plan); err == nil || len(r.calls) != 3 {
		t.Errorf("a failing refresh: %v after %q", err, r.calls)
	}
}
