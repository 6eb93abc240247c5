package main

import (
	"context"
	"fmt"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/store/sqlite"
)

// bookImport posts the records of one import as ledger entries, all in one
// transaction, and returns how many records wrote something new. Records stream from a read connection while the ledger
// writes (SQLite's WAL allows both at once), so memory stays flat.
func bookImport(ctx context.Context, st *sqlite.Store, books *ledger.Ledger, importID int64) (int, error) {
	n := 0
	err := books.Atomic(ctx, func(tl *ledger.Ledger) error {
		return st.EachRecord(ctx, provider.RecordFilter{ImportID: importID, NoRaw: true}, func(r *provider.Record) error {
			booked, err := importers.Book(ctx, tl, r)
			if err != nil {
				return fmt.Errorf("%s:%d: record %s: %w", r.File, r.Line, r.ID, err)
			}
			if booked {
				n++
			}
			return nil
		})
	})
	return n, err
}
