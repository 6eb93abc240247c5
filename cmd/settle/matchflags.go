package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/reconcile"
)

// matchFlags are the matching options `reconcile` and `serve` share.
type matchFlags struct {
	dateTolerance time.Duration
	window        time.Duration
	compare       string
}

func (m *matchFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&m.dateTolerance, "date-tolerance", reconcile.DefaultDateTolerance,
		"how far apart the two sides' dates may be before a pair differs on date")
	cmd.Flags().DurationVar(&m.window, "heuristic-window", reconcile.DefaultHeuristicWindow,
		"how far apart in time an amount-only (heuristic) match may be")
	cmd.Flags().StringVar(&m.compare, "compare", "all",
		"fields a pair is compared on, comma-separated: "+strings.Join(reconcile.CompareFields, ",")+" (amount always)")
}

// options turns the flags into runner options, refusing unknown fields.
func (m *matchFlags) options(a *cli) (*app.Options, error) {
	o := &app.Options{Now: a.now, DateTolerance: m.dateTolerance, HeuristicWindow: m.window}
	if m.dateTolerance < 0 || m.window < 0 {
		return nil, usagef("--date-tolerance and --heuristic-window must not be negative")
	}
	if m.compare == "all" || m.compare == "" {
		return o, nil
	}
	o.Fields = []string{}
	for _, f := range strings.Split(m.compare, ",") {
		f = strings.TrimSpace(f)
		if !contains(reconcile.CompareFields, f) {
			return nil, usagef("--compare: unknown field %q (known: %s)", f, strings.Join(reconcile.CompareFields, ", "))
		}
		o.Fields = append(o.Fields, f)
	}
	return o, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
