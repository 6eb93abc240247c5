package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// ExceptionDetail is one exception with both of its sides, for a person to
// judge: the provider's record (and the raw row of its export), the
// ledger's balance transaction or payment, and the exception's history.
type ExceptionDetail struct {
	Exception *reconcile.Exception
	// ProviderFields and LedgerFields are (name, value) pairs in a fixed
	// order, amounts in major units; a side that does not exist is empty.
	ProviderFields [][2]string
	LedgerFields   [][2]string
	ProviderRaw    string // the export's own row
	ProviderSource string // file:line of that row
	History        []reconcile.ExceptionEvent
}

// Detail loads an exception with its two sides and its history.
func Detail(ctx context.Context, st Store, books *ledger.Ledger, id int64) (*ExceptionDetail, error) {
	e, err := st.Exception(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &ExceptionDetail{Exception: e}
	if d.History, err = st.ExceptionHistory(ctx, id); err != nil {
		return nil, err
	}
	money := func(cur string, v int64) string { return Money(cur, v) }
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	if e.ProviderID != "" {
		rec, err := st.Record(ctx, e.Provider, provider.Grain(e.Grain), e.ProviderID)
		switch {
		case err == nil:
			d.ProviderRaw, d.ProviderSource = strings.TrimRight(rec.Raw, "\r\n"), fmt.Sprintf("%s:%d", rec.File, rec.Line)
			d.ProviderFields = [][2]string{{"id", rec.ID}, {"type", rec.Type}, {"reference", rec.SourceRef},
				{"currency", rec.Currency}, {"amount", money(rec.Currency, rec.Amount)}}
			if e.Grain == provider.BalanceGrain {
				d.ProviderFields = append(d.ProviderFields, [][2]string{{"fee", money(rec.Currency, rec.Fee)},
					{"net", money(rec.Currency, rec.Net)}, {"status", rec.Status}, {"date", day(rec.Created)},
					{"available_on", day(rec.AvailableOn)}, {"payout", rec.PayoutID}}...)
			} else {
				d.ProviderFields = append(d.ProviderFields, [][2]string{{"captured", money(rec.Currency, rec.Captured)},
					{"refunded", money(rec.Currency, rec.Refunded)}, {"disputed", money(rec.Currency, rec.Disputed)},
					{"status", rec.Status}, {"date", day(rec.Created)}}...)
			}
		case !errors.Is(err, ledger.ErrNotFound):
			return nil, err
		}
	}
	if e.LedgerID == "" {
		return d, nil
	}
	err = books.View(ctx, func(tx ledger.ReadTx) error {
		if e.Grain == provider.PaymentGrain {
			p, err := tx.Payment(ctx, e.LedgerID)
			if err != nil {
				return err
			}
			d.LedgerFields = [][2]string{{"id", p.ID}, {"type", "payment"}, {"reference", p.ProviderRef},
				{"currency", p.Currency}, {"amount", money(p.Currency, p.Authorized)}, {"captured", money(p.Currency, p.Captured)},
				{"refunded", money(p.Currency, p.Refunded)}, {"disputed", money(p.Currency, p.Disputed)},
				{"status", string(p.Status)}, {"date", day(p.CreatedAt)}}
			return nil
		}
		bt, err := tx.BalanceTransaction(ctx, e.LedgerID)
		if err != nil {
			return err
		}
		avail := day(bt.AvailableOn)
		if bt.AvailableOnEstimated {
			avail += " (estimated)"
		}
		d.LedgerFields = [][2]string{{"id", bt.ID}, {"type", bt.Type}, {"reference", bt.SourceRef},
			{"currency", bt.Currency}, {"amount", money(bt.Currency, bt.Amount)}, {"fee", money(bt.Currency, bt.Fee)},
			{"net", money(bt.Currency, bt.Net)}, {"status", bt.Status}, {"date", day(bt.Created)},
			{"available_on", avail}, {"payout", bt.PayoutID}, {"entry", fmt.Sprint(bt.EntryID)}}
		return nil
	})
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return nil, err
	}
	return d, nil
}

// FieldNames lists the fields of either side, in order, once each.
func (d *ExceptionDetail) FieldNames() []string {
	var out []string
	seen := map[string]bool{}
	for _, side := range [][][2]string{d.LedgerFields, d.ProviderFields} {
		for _, f := range side {
			if !seen[f[0]] {
				seen[f[0]] = true
				out = append(out, f[0])
			}
		}
	}
	return out
}

// Field returns a side's value of a field, or "".
func (d *ExceptionDetail) Field(side [][2]string, name string) string {
	for _, f := range side {
		if f[0] == name {
			return f[1]
		}
	}
	return ""
}
