package app

import (
	"context"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/reports"
)

// Reports lists every report settle writes: the ledger reports of package
// reports, then the reconciliation reports, which read st's runs and
// exceptions. st may be nil when only the names are wanted.
func Reports(st Store) []reports.Report {
	return append(reports.All(),
		reports.Report{Name: "reconciliation-summary", Summary: "every reconciliation run with its counts", Uses: []string{"provider"},
			Run: func(ctx context.Context, _ *ledger.Ledger, opts reports.Options, w reports.Writer) error {
				runs, err := st.Runs(ctx, opts.Provider)
				if err != nil {
					return err
				}
				return WriteRunSummary(w, runs)
			}},
		reports.Report{Name: "open-exceptions", Summary: "reconciliation exceptions still open", Uses: []string{"provider"},
			Run: func(ctx context.Context, _ *ledger.Ledger, opts reports.Options, w reports.Writer) error {
				return WriteExceptions(ctx, w, st, reconcile.ExceptionFilter{Status: reconcile.ExceptionOpen, Provider: opts.Provider})
			}},
		bankReconciliationReport(st),
	)
}

// FindReport returns the report of a name.
func FindReport(st Store, name string) (reports.Report, bool) {
	for _, r := range Reports(st) {
		if r.Name == name {
			return r, true
		}
	}
	return reports.Report{}, false
}
