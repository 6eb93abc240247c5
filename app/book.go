package app

import (
	"context"
	"fmt"

	"github.com/settlehq/settle/booking"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// BookImport posts the records of one import as ledger entries
// (booking.Book), all in one transaction, and returns how many records
// wrote something new. Records stream from the store while the ledger
// writes, so memory stays flat.
func BookImport(ctx context.Context, st provider.Store, books *ledger.Ledger, importID int64) (int, error) {
	n := 0
	err := books.Atomic(ctx, func(tl *ledger.Ledger) error {
		return st.EachRecord(ctx, provider.RecordFilter{ImportID: importID, NoRaw: true}, func(r *provider.Record) error {
			booked, err := booking.Book(ctx, tl, r)
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
