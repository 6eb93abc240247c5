package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// AuthorizeRequest authorizes a payment for later (manual) capture.
type AuthorizeRequest struct {
	Key         string
	PaymentID   string
	Provider    string
	ProviderRef string
	Amount      decimal.Decimal
	Currency    string
	Customer    string
	Description string
	Metadata    map[string]string
	At          time.Time
	ExpiresAt   time.Time // optional: the scheduler cancels it after this
}

// Authorize records an authorization as a pending entry:
// Dr assets:P:pending / Cr income:sales, affecting pending balances only.
func (l *Ledger) Authorize(ctx context.Context, req AuthorizeRequest) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	if err := normalizeProvider(&req.Provider); err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	cur, err := l.currencies.Lookup(req.Currency)
	if err != nil {
		return nil, err
	}
	amt, err := minor("amount", req.Amount, cur, false)
	if err != nil {
		return nil, err
	}
	if req.PaymentID == "" || req.Provider == "" {
		return nil, fmt.Errorf("authorize: %w: payment and provider are required", ErrInvalidRequest)
	}
	return l.idempotent(ctx, "authorize", req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		_, err := tx.Payment(ctx, req.PaymentID)
		if err := mustBeNew("payment", req.PaymentID, err); err != nil {
			return err
		}
		e := &Entry{Key: req.Key, Phase: Pending, OccurredAt: req.At, ExpiresAt: req.ExpiresAt.UTC(),
			Description: describe(req.Description, "Authorization of "+req.PaymentID),
			Source:      Source{Provider: req.Provider, Type: "payment", ID: req.PaymentID, Ref: req.ProviderRef},
			Postings: []Posting{
				{Account: fill(l.chart.Pending, req.Provider, ""), Currency: cur.Code, Amount: amt},
				{Account: l.chart.Sales, Currency: cur.Code, Amount: -amt},
			}}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		p := &Payment{ID: req.PaymentID, Provider: req.Provider, ProviderRef: req.ProviderRef, Currency: cur.Code,
			Customer: req.Customer, Description: req.Description, Metadata: req.Metadata, CaptureMethod: "manual",
			Status: PaymentAuthorized, Authorized: amt, PendingEntryID: e.ID, CreatedAt: req.At, UpdatedAt: req.At}
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		res.Entry, res.Payment = e, p
		return nil
	})
}

// mustBeNew turns the result of looking up an object that is about to be
// created into an error: nil when it was not found, ErrInvalidState when it
// exists, and any other lookup error as it is.
func mustBeNew(what, id string, lookupErr error) error {
	switch {
	case lookupErr == nil:
		return fmt.Errorf("%w: %s %q already exists", ErrInvalidState, what, id)
	case isNotFound(lookupErr):
		return nil
	default:
		return lookupErr
	}
}

// paymentOf loads a payment with its currency, refusing a request that names
// another currency (requested may be empty).
func (l *Ledger) paymentOf(ctx context.Context, tx ReadTx, id, requested string) (*Payment, Currency, error) {
	p, err := tx.Payment(ctx, id)
	if err != nil {
		return nil, Currency{}, err
	}
	cur, err := l.paymentCurrency(p, requested)
	return p, cur, err
}

func describe(given, fallback string) string {
	if given != "" {
		return given
	}
	return fallback
}

// Fee is one fee the provider charged, in major units. Type names the fee
// account (expenses:fees:<type>) and the fee_details entry.
type Fee struct {
	Type   string
	Amount decimal.Decimal
}

// CaptureRequest captures a payment. For a payment authorized earlier,
// Amount may be less than authorized (partial capture: the rest is released)
// and defaults to all of it. For an automatic capture with no authorization,
// Provider, Currency and Amount are required and the payment is created.
type CaptureRequest struct {
	Key         string
	PaymentID   string
	Amount      decimal.Decimal // zero means everything capturable
	Fees        []Fee
	AvailableOn time.Time // when the funds become available; default At + AvailableAfter
	At          time.Time
	// Settlement, when the provider settles the payment in another
	// currency than Currency, is the settlement side of the capture (see
	// fx.go). Fees are then in the settlement currency, as providers
	// charge them. Left out, the payment settles in its own currency,
	// until a provider's record says otherwise (AdoptSettlement).
	Settlement *Settlement `json:",omitempty"`

	// For an automatic capture (no prior authorization).
	Provider    string
	ProviderRef string
	Currency    string
	Customer    string
	Description string
	Metadata    map[string]string
}

// Capture books a capture: Dr assets:P:pending C−F, Dr expenses:fees:<type> F,
// Cr income:sales C, and a pending charge balance transaction.
func (l *Ledger) Capture(ctx context.Context, req CaptureRequest) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	if err := normalizeProvider(&req.Provider); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	if !req.AvailableOn.IsZero() {
		req.AvailableOn = req.AvailableOn.UTC()
	}
	return l.idempotent(ctx, "capture", req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		p, err := tx.Payment(ctx, req.PaymentID)
		auto := false
		switch {
		case isNotFound(err):
			if req.Provider == "" || req.Currency == "" || req.Amount.IsZero() {
				return fmt.Errorf("payment %q: %w (an automatic capture needs provider, currency and amount)", req.PaymentID, ErrNotFound)
			}
			auto = true
			p = &Payment{ID: req.PaymentID, Provider: req.Provider, ProviderRef: req.ProviderRef,
				Customer: req.Customer, Description: req.Description, Metadata: req.Metadata,
				CaptureMethod: "automatic", CreatedAt: req.At}
			cur, err := l.currencies.Lookup(req.Currency)
			if err != nil {
				return err
			}
			p.Currency = cur.Code
		case err != nil:
			return err
		}
		cur, err := l.paymentCurrency(p, req.Currency)
		if err != nil {
			return err
		}
		var amt int64
		if auto {
			if amt, err = minor("amount", req.Amount, cur, false); err != nil {
				return err
			}
			p.Authorized = amt
		} else {
			switch p.Status {
			case PaymentAuthorized:
			case PaymentCanceled:
				return fmt.Errorf("payment %q: %w", p.ID, ErrAlreadyVoided)
			default:
				return fmt.Errorf("payment %q: %w", p.ID, ErrAlreadyCaptured)
			}
			amt = p.Authorized
			if !req.Amount.IsZero() {
				if amt, err = minor("amount", req.Amount, cur, false); err != nil {
					return err
				}
			}
			if amt > p.Authorized {
				return fmt.Errorf("payment %q: capturing %s of %s authorized: %w", p.ID,
					FormatMinor(amt, cur.Digits), FormatMinor(p.Authorized, cur.Digits), ErrOverCapture)
			}
		}
		// The provider balance moves in the settlement currency: the
		// payment's own, or the one req.Settlement names.
		scur, samt := cur, amt
		if req.Settlement != nil {
			if scur, samt, err = l.settlementOf(req.Settlement, cur); err != nil {
				return err
			}
		}
		fees, details, feeTotal, err := l.fees(req.Fees, p.Provider, scur)
		if err != nil {
			return err
		}
		if feeTotal > samt {
			return fmt.Errorf("%w: fees of %s exceed the %s %s captured (the net would be negative)", ErrInvalidAmount,
				FormatMinor(feeTotal, scur.Digits), FormatMinor(samt, scur.Digits), scur.Upper())
		}
		net := samt - feeTotal
		ps := []Posting{}
		if net != 0 {
			ps = append(ps, Posting{Account: fill(l.chart.Pending, p.Provider, ""), Currency: scur.Code, Amount: net})
		}
		ps = append(ps, fees...)
		ps = append(ps, Posting{Account: l.chart.Sales, Currency: cur.Code, Amount: -amt})
		if scur != cur {
			ps = l.convert(ps, cur.Code, scur.Code, amt, samt)
		}
		e := &Entry{Key: req.Key, Phase: Posted, OccurredAt: req.At,
			Description: describe(req.Description, "Capture of "+p.ID),
			Source:      Source{Provider: p.Provider, Type: "payment", ID: p.ID, Ref: p.ProviderRef},
			PendingOf:   p.PendingEntryID, Postings: ps}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		if !auto {
			if err := tx.ResolvePending(ctx, p.PendingEntryID, Settled, e.ID); err != nil {
				return err
			}
		}
		avail := req.AvailableOn
		if avail.IsZero() {
			avail = estimateAvailable(req.At, l.availAfter)
		}
		bt := &BalanceTransaction{ID: btID(e.ID, 0), Provider: p.Provider, EntryID: e.ID, Type: "charge",
			ReportingCategory: "charge", SourceType: "payment", SourceID: p.ID, SourceRef: p.ProviderRef, PaymentID: p.ID,
			Amount: samt, Fee: feeTotal, Net: net, FeeDetails: details, Currency: scur.Code, Status: BTPending,
			Description: e.Description, Created: req.At, AvailableOn: avail, AvailableOnEstimated: req.AvailableOn.IsZero()}
		if scur != cur {
			bt.PresentmentAmount, bt.PresentmentCurrency = amt, cur.Code
			bt.ExchangeRate = RateOf(samt, scur, amt, cur)
			p.SettlementCurrency, p.Settled = scur.Code, samt
		}
		if err := l.putBT(ctx, tx, bt); err != nil {
			return err
		}
		p.Captured, p.Fees, p.Status, p.UpdatedAt = amt, p.Fees+feeTotal, PaymentCaptured, req.At
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		res.Entry, res.BalanceTransaction, res.Payment = e, bt, p
		return nil
	})
}

// paymentCurrency resolves a payment's currency and refuses a request that
// names another.
func (l *Ledger) paymentCurrency(p *Payment, requested string) (Currency, error) {
	cur, err := l.currencies.Lookup(p.Currency)
	if err != nil {
		return Currency{}, err
	}
	if requested != "" {
		rc, err := l.currencies.Lookup(requested)
		if err != nil {
			return Currency{}, err
		}
		if rc.Code != cur.Code {
			return Currency{}, fmt.Errorf("payment %q is in %s, not %s: %w", p.ID, cur.Upper(), rc.Upper(), ErrCurrencyMismatch)
		}
	}
	return cur, nil
}

// fees converts fees into debit postings and fee details.
func (l *Ledger) fees(in []Fee, provider string, cur Currency) ([]Posting, []FeeDetail, int64, error) {
	var ps []Posting
	var details []FeeDetail
	var total int64
	for _, f := range in {
		typ := f.Type
		if typ == "" {
			typ = "processing"
		}
		m, err := minorOf("fee", typ, f.Amount, cur, true)
		if err != nil {
			return nil, nil, 0, err
		}
		if m == 0 {
			continue
		}
		if total, err = AddMinor(total, m); err != nil {
			return nil, nil, 0, err
		}
		ps = append(ps, Posting{Account: fill(l.chart.Fees, provider, typ), Currency: cur.Code, Amount: m})
		details = append(details, FeeDetail{Type: typ, Amount: m})
	}
	return ps, details, total, nil
}

// CancelRequest cancels an authorized payment before capture.
type CancelRequest struct {
	Key       string
	PaymentID string
	At        time.Time
}

// Cancel voids a payment's authorization; it must not have been captured.
func (l *Ledger) Cancel(ctx context.Context, req CancelRequest) (*Result, error) {
	// The request is hashed before At defaults to now, so that a retry
	// which leaves At to the clock replays instead of conflicting.
	req.At = req.At.UTC()
	return l.idempotent(ctx, "cancel", req.Key, req, func(tx Tx, res *Result) error {
		req.At = l.at(req.At)
		p, err := tx.Payment(ctx, req.PaymentID)
		if err != nil {
			return err
		}
		return l.voidAuthorization(ctx, tx, p, Voided, req.At, res)
	})
}

func (l *Ledger) voidAuthorization(ctx context.Context, tx Tx, p *Payment, how Resolution, at time.Time, res *Result) error {
	switch p.Status {
	case PaymentAuthorized:
	case PaymentCanceled:
		return fmt.Errorf("payment %q: %w", p.ID, ErrAlreadyVoided)
	default:
		return fmt.Errorf("payment %q: %w", p.ID, ErrAlreadyCaptured)
	}
	if err := tx.ResolvePending(ctx, p.PendingEntryID, how, 0); err != nil {
		return err
	}
	p.Status, p.UpdatedAt = PaymentCanceled, at
	if err := tx.SavePayment(ctx, p); err != nil {
		return err
	}
	res.Payment = p
	return nil
}

// estimateAvailable is when a capture at at is estimated to become
// available when it does not say: at the start (00:00 UTC) of the day on
// which the delay after at ends. Providers make funds available by the
// day — Stripe's available_on is a midnight UTC — so an estimate to the
// second would differ from nearly every provider's date, and adopting
// each one books two entries. A delay shorter than a day is kept exact:
// rounded down, it would make the funds available before the capture.
func estimateAvailable(at time.Time, delay time.Duration) time.Time {
	end := at.Add(delay).UTC()
	if delay < 24*time.Hour {
		return end
	}
	return end.Truncate(24 * time.Hour)
}
