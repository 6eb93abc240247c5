package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// ProviderTransaction is a balance transaction as a provider reported it,
// for books kept from the provider's data alone. Amounts are minor units;
// Amount is signed as the provider signs it (a refund is negative), Fee is
// what the provider charged (negative when returned), Net = Amount − Fee.
type ProviderTransaction struct {
	Key               string
	Provider          string
	ID                string // the provider's balance transaction id; becomes the ledger's
	Kind              string // canonical kind: charge, refund, fee, fee_refund, dispute, dispute_reversal, payout, payout_failure, other
	Type              string // the provider's type, kept as given
	ReportingCategory string
	SourceRef         string
	PaymentRef        string
	Currency          string
	Amount, Fee, Net  int64
	Status            string // pending or available
	Created           time.Time
	AvailableOn       time.Time
	PayoutID          string
	Description       string
}

// BookProviderTransaction posts the entry a provider balance transaction
// implies, on the lifecycle's accounts, and stores the balance transaction
// with the provider's id and figures so that reconciliation links the two.
//
//	charge           Dr assets:P:pending|available net, Dr expenses:fees:P fee / Cr income:sales amount
//	refund           Dr income:refunds −amount, Dr expenses:fees:P fee / Cr assets:P:available −net
//	fee, fee_refund  Dr expenses:fees:P / Cr assets:P:available −net (a fee refund is the reverse)
//	dispute          Dr assets:disputes:open −amount, Dr expenses:fees:dispute fee / Cr assets:P:available −net
//	dispute_reversal Dr assets:P:available net / Cr assets:disputes:open amount, Cr expenses:fees:dispute −fee
//	payout           Dr assets:payouts:in_transit −net / Cr assets:P:available
//	payout_failure   Dr assets:P:available net / Cr assets:payouts:in_transit
//	other            Dr assets:P:available net / Cr income:provider_adjustments (signs follow net)
func (l *Ledger) BookProviderTransaction(ctx context.Context, pt ProviderTransaction) (*Result, error) {
	if pt.Net != pt.Amount-pt.Fee {
		return nil, fmt.Errorf("%w: %s: net %d is not amount %d − fee %d", ErrInvalidAmount, pt.ID, pt.Net, pt.Amount, pt.Fee)
	}
	if pt.ID == "" || pt.Provider == "" {
		return nil, fmt.Errorf("%w: a provider transaction needs an id and a provider", ErrInvalidRequest)
	}
	if err := normalizeProvider(&pt.Provider); err != nil {
		return nil, err
	}
	cur, err := l.currencies.Lookup(pt.Currency)
	if err != nil {
		return nil, err
	}
	pt.Currency = cur.Code
	pt.Created = l.at(pt.Created)
	availEstimated := pt.AvailableOn.IsZero()
	if availEstimated {
		pt.AvailableOn = pt.Created
	}
	pt.AvailableOn = pt.AvailableOn.UTC()
	return l.idempotent(ctx, "book_provider_transaction", pt.Key, pt, func(tx Tx, res *Result) error {
		ps := l.providerPostings(pt)
		var clean []Posting
		for _, p := range ps {
			if p.Amount != 0 {
				clean = append(clean, p)
			}
		}
		status := pt.Status
		if status != BTPending {
			status = BTAvailable
		}
		desc := pt.Description
		if desc == "" {
			desc = fmt.Sprintf("%s %s %s", pt.Provider, pt.Type, pt.ID)
		}
		e := &Entry{Key: pt.Key, Phase: Posted, OccurredAt: pt.Created, Description: desc,
			Source: Source{Provider: pt.Provider, Type: pt.Kind, ID: pt.ID, Ref: pt.SourceRef}}
		if len(clean) > 0 {
			e.Postings = clean
			if err := l.insert(ctx, tx, e); err != nil {
				return err
			}
			res.Entry = e
		}
		bt := &BalanceTransaction{ID: pt.ID, Provider: pt.Provider, EntryID: e.ID, Type: pt.Type,
			ReportingCategory: pt.ReportingCategory, SourceType: pt.Kind, SourceID: pt.SourceRef, SourceRef: pt.SourceRef,
			PaymentID: pt.PaymentRef, Amount: pt.Amount, Fee: pt.Fee, Net: pt.Net, Currency: cur.Code, Status: status,
			Description: desc, Created: pt.Created, AvailableOn: pt.AvailableOn, PayoutID: pt.PayoutID,
			AvailableOnEstimated: availEstimated}
		if pt.Fee != 0 {
			bt.FeeDetails = []FeeDetail{{Type: pt.Provider + "_fee", Amount: pt.Fee}}
		}
		if res.Entry == nil {
			return fmt.Errorf("%w: %s moves no money", ErrInvalidAmount, pt.ID)
		}
		if err := l.putBT(ctx, tx, bt); err != nil {
			return err
		}
		res.BalanceTransaction = bt
		return nil
	})
}

// providerPostings chooses the postings of a provider transaction.
func (l *Ledger) providerPostings(pt ProviderTransaction) []Posting {
	c := pt.Currency
	avail := fill(l.chart.Available, pt.Provider, "")
	fees := fill(l.chart.Fees, pt.Provider, pt.Provider+"_fee")
	switch pt.Kind {
	case "charge":
		bal := avail
		if pt.Status == BTPending {
			bal = fill(l.chart.Pending, pt.Provider, "")
		}
		return []Posting{{bal, c, pt.Net}, {fees, c, pt.Fee}, {l.chart.Sales, c, -pt.Amount}}
	case "refund":
		return []Posting{{l.chart.Refunds, c, -pt.Amount}, {fees, c, pt.Fee}, {avail, c, pt.Net}}
	case "fee", "fee_refund":
		return []Posting{{fees, c, -pt.Net}, {avail, c, pt.Net}}
	case "dispute", "dispute_reversal":
		return []Posting{{l.chart.DisputesOpen, c, -pt.Amount}, {fill(l.chart.Fees, pt.Provider, "dispute"), c, pt.Fee}, {avail, c, pt.Net}}
	case "payout", "payout_failure":
		return []Posting{{l.chart.InTransit, c, -pt.Net}, {avail, c, pt.Net}}
	default:
		return []Posting{{avail, c, pt.Net}, {"income:provider_adjustments", c, -pt.Net}}
	}
}

// CorrectionRequest corrects the figures of a balance transaction after the
// fact: the provider charged a fee the ledger lacked, say. Deltas are in
// major units of the transaction's currency and are added to its amount and
// fee.
type CorrectionRequest struct {
	Key                  string
	BalanceTransactionID string
	AmountDelta          decimal.Decimal
	FeeDelta             decimal.Decimal
	Description          string
	// At dates the correction. Zero dates it at the corrected transaction,
	// so the period it belongs to agrees with the provider, or at the first
	// open day after a closed period that holds it.
	At time.Time
}

// SourceCorrection is the SourceType of a correction's balance transaction;
// its SourceID names the corrected balance transaction.
const SourceCorrection = "correction"

// CorrectBalanceTransaction books the entry that changes a balance
// transaction's amount and fee by the given deltas, on the accounts its kind
// uses, and stores a correction balance transaction linked to it. Entries
// stay immutable: the original is untouched, and readers that compare
// figures (reconciliation) add corrections to their target.
func (l *Ledger) CorrectBalanceTransaction(ctx context.Context, req CorrectionRequest) (*Result, error) {
	req.At = req.At.UTC()
	return l.idempotent(ctx, "correct_balance_transaction", req.Key, req, func(tx Tx, res *Result) error {
		target, err := tx.BalanceTransaction(ctx, req.BalanceTransactionID)
		if err != nil {
			return err
		}
		if req.At.IsZero() {
			closed, err := tx.ClosedThrough(ctx)
			if err != nil {
				return err
			}
			req.At = FirstOpen(target.Created, closed)
		}
		cur, err := l.currencies.Lookup(target.Currency)
		if err != nil {
			return err
		}
		da, err := ToMinor(req.AmountDelta, cur)
		if err != nil {
			return fmt.Errorf("amount delta: %w", err)
		}
		df, err := ToMinor(req.FeeDelta, cur)
		if err != nil {
			return fmt.Errorf("fee delta: %w", err)
		}
		if da == 0 && df == 0 {
			return fmt.Errorf("%w: a correction needs a non-zero amount or fee delta", ErrInvalidAmount)
		}
		pt := ProviderTransaction{Provider: target.Provider, Kind: KindOf(target.Type, target.ReportingCategory),
			Currency: cur.Code, Amount: da, Fee: df, Net: da - df, Status: BTAvailable}
		var ps []Posting
		for _, p := range l.providerPostings(pt) {
			if p.Amount != 0 {
				ps = append(ps, p)
			}
		}
		desc := req.Description
		if desc == "" {
			desc = "Correction of " + target.ID
		}
		e := &Entry{Key: req.Key, Phase: Posted, OccurredAt: req.At, Description: desc, Postings: ps,
			Source: Source{Provider: target.Provider, Type: SourceCorrection, ID: target.ID, Ref: target.SourceRef}}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		bt := &BalanceTransaction{ID: btID(e.ID, 0), Provider: target.Provider, EntryID: e.ID, Type: "adjustment",
			ReportingCategory: "other_adjustment", SourceType: SourceCorrection, SourceID: target.ID, SourceRef: target.SourceRef,
			PaymentID: target.PaymentID, Amount: da, Fee: df, Net: da - df, Currency: cur.Code, Status: BTAvailable,
			Description: desc, Created: req.At, AvailableOn: target.AvailableOn,
			AvailableOnEstimated: target.AvailableOnEstimated, PayoutDerived: target.PayoutDerived}
		if !target.PayoutDerived {
			// A told payout holds the correction of its transaction too.
			bt.PayoutID = target.PayoutID
		}
		if df != 0 {
			bt.FeeDetails = []FeeDetail{{Type: "correction", Amount: df}}
		}
		if err := l.putBT(ctx, tx, bt); err != nil {
			return err
		}
		res.Entry, res.BalanceTransaction = e, bt
		return nil
	})
}
