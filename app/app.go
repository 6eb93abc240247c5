// Package app is settle's application layer: the workflows that the CLI,
// the HTTP server and embedding programs call. It imports provider exports
// (Import, Ingest), reconciles them with the ledger (Reconcile, Nightly),
// works exceptions (Resolve, Detail), and writes reconciliation reports,
// over the domain's interfaces; it never speaks SQL. A store at the edge
// (store/sqlite, store/postgres) implements Store.
package app

import (
	"context"
	"io/fs"
	"time"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// Store is everything the application layer needs of a store: the ledger,
// provider records, bank statements, reconciliation state and a few
// settings. Its ledger
// transactions also implement reconcile.Tx, so that a fix and the exception
// it closes commit together.
type Store interface {
	ledger.Store
	provider.Store
	bank.Store
	reconcile.Store
	// Setting returns a named setting, or "" if it was never set.
	Setting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error
	// Lease takes or renews the named lease for holder until ttl from now
	// and reports whether holder has it (it was free, expired, or
	// holder's); a ttl ≤ 0 gives it up. Two servers on one database run
	// the nightly job through it.
	Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
}

// fileMode is the mode of files the application writes beside a store
// (rejection reasons, reports): the store's own, for a store that keeps
// files (SQLite's database file), else private to the owner.
func fileMode(st any) fs.FileMode {
	if m, ok := st.(interface{ FileMode() fs.FileMode }); ok {
		return m.FileMode()
	}
	return 0o600
}
