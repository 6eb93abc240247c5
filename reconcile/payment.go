package reconcile

import (
	"cmp"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// MatchPayments reconciles one provider's payment-grain records with the
// ledger's payments.
//
// Payment records (Type payment, charge or empty) are the subjects. Refund
// and dispute records (Payments API V3 refunds, Stripe refund and dispute
// objects) are folded into the payment they name by PaymentRef: the
// payment's refunded amount is the larger of its own figure and the sum of
// its refunds that did not fail, and its disputed amount is the sum of its
// disputes not won or merely inquired about when any dispute record is
// present. A refund or dispute whose payment is not in the input, and other
// record types (payouts), are counted in Summary.Skipped.
//
// Passes: opt.Links (provider record id → ledger payment id); the record id
// against Payment.ProviderRef, then the record's PaymentRef (a Stripe
// charge's payment intent); then currency and amount within
// opt.HeuristicWindow when unique on both sides. Pairs are compared on
// amount (the ledger's authorized amount), captured, refunded, disputed,
// currency, status (see PaymentStatusOf) and created date. A provider payment
// that collected nothing (NotCollected) and has no ledger payment is
// skipped, not reported missing.
func MatchPayments(records []provider.Record, payments []ledger.Payment, opts *Options) *Result {
	opt := opts.withDefaults()
	p := &providerPayments{recs: records, refunded: make([]int64, len(records)), disputed: make([]int64, len(records))}
	l := &ledgerPayments{ps: payments}
	m := newMatcher(p, l, opt)
	m.dedupe()
	folded, skipped := p.fold(m)
	m.linkPass(opt.Links, opt.LinkList)
	m.refPass(func(i int) string { return records[i].ID })
	m.refPass(func(i int) string {
		if r := &records[i]; r.PaymentRef != r.ID {
			return r.PaymentRef
		}
		return ""
	})
	m.heuristicPass()

	r := &Result{Links: m.links()}
	var list outcomeList
	r.Summary.ProviderRecords, r.Summary.LedgerRecords = len(records), len(payments)
	r.Summary.Folded, r.Summary.Skipped = folded, skipped
	for i := range records {
		rec := &records[i]
		o := Outcome{Provider: rec.Provider, Subject: "payment", ProviderID: rec.ID, Ref: rec.SourceRef,
			Currency: rec.Currency, Amount: rec.Amount, At: rec.Created}
		switch m.pState[i] {
		case paired:
			pay := &payments[m.pMate[i]]
			o.LedgerID, o.Heuristic = pay.ID, m.pHow[i] == viaHeuristic
			o.Diffs = comparePayment(p, i, pay, opt.DateTolerance)
			if o.Heuristic {
				r.Summary.Heuristic++
			}
			if len(o.Diffs) == 0 {
				r.Summary.Matched++
				if !opt.ListMatched {
					continue
				}
				o.Kind = Matched
			} else {
				o.Kind = Mismatched
			}
		case dup:
			o.Kind = Duplicate
			if k, ok := m.dupOf[int32(i)]; ok && m.pState[k] == paired {
				o.LedgerID = payments[m.pMate[k]].ID
			} else if j, ok := m.dupLedger[int32(i)]; ok {
				o.LedgerID = payments[j].ID
			}
		case free:
			if st, _ := p.status(i); rec.Test || st == NotCollected && rec.Captured == 0 {
				r.Summary.Skipped++
				continue
			}
			o.Kind = MissingInLedger
		default:
			continue
		}
		list.add(o)
	}
	for j := range payments {
		if m.lState[j] != free {
			continue
		}
		pay := &payments[j]
		list.add(Outcome{Kind: MissingAtProvider, Provider: pay.Provider, Subject: "payment",
			LedgerID: pay.ID, Ref: pay.ProviderRef, Currency: pay.Currency, Amount: l.Amount(j), At: pay.CreatedAt})
	}
	r.Outcomes = list.all()
	r.finish()
	return r
}

// comparePayment lists the fields on which a provider payment and a ledger
// payment differ. A status word PaymentStatusOf does not know is not
// compared.
func comparePayment(p *providerPayments, i int, pay *ledger.Payment, tol time.Duration) []Diff {
	rec := &p.recs[i]
	var ds []Diff
	if amt := ledgerAmount(pay); rec.Amount != amt {
		ds = append(ds, diffInt(FieldAmount, amt, rec.Amount))
	}
	if rec.Captured != pay.Captured {
		ds = append(ds, diffInt(FieldCaptured, pay.Captured, rec.Captured))
	}
	if p.refunded[i] != pay.Refunded {
		ds = append(ds, diffInt(FieldRefunded, pay.Refunded, p.refunded[i]))
	}
	if p.disputed[i] != pay.Disputed {
		ds = append(ds, diffInt(FieldDisputed, pay.Disputed, p.disputed[i]))
	}
	if !strings.EqualFold(rec.Currency, pay.Currency) {
		ds = append(ds, Diff{FieldCurrency, pay.Currency, rec.Currency})
	}
	if st, ok := p.status(i); ok && st != pay.Status {
		ds = append(ds, Diff{FieldStatus, string(pay.Status), string(st)})
	}
	if farApart(rec.Created, pay.CreatedAt, tol) {
		ds = append(ds, diffTime(FieldDate, pay.CreatedAt, rec.Created))
	}
	return ds
}

// providerPayments is the provider side of the payment grain.
type providerPayments struct {
	recs               []provider.Record
	refunded, disputed []int64 // after folding refunds and disputes
}

// fold folds refund and dispute records into their payments and puts
// records of other types out of play.
func (p *providerPayments) fold(m *matcher) (folded, skipped int) {
	byRef := make(map[string]int32, len(p.recs))
	for i := range p.recs {
		r := &p.recs[i]
		p.refunded[i], p.disputed[i] = r.Refunded, r.Disputed
		if m.pState[i] != free {
			continue
		}
		switch strings.ToLower(r.Type) {
		case "payment", "charge", "":
			byRef[r.ID] = int32(i)
			if r.PaymentRef != "" && r.PaymentRef != r.ID {
				if _, taken := byRef[r.PaymentRef]; !taken {
					byRef[r.PaymentRef] = int32(i)
				}
			}
		}
	}
	refunds := map[int32]int64{}
	disputes := map[int32]int64{}
	for i := range p.recs {
		r := &p.recs[i]
		typ := strings.ToLower(r.Type)
		if m.pState[i] != free || typ == "payment" || typ == "charge" || typ == "" {
			continue
		}
		m.pState[i] = out
		parent, ok := byRef[r.PaymentRef]
		if !ok || (typ != "refund" && typ != "dispute") {
			skipped++
			continue
		}
		folded++
		st := strings.ToLower(r.Status)
		if typ == "refund" {
			if st != "failed" && st != "canceled" {
				refunds[parent] += r.Amount
			}
			continue
		}
		sum := disputes[parent]
		if st != "won" && st != "prevented" && !strings.HasPrefix(st, "warning_") {
			sum += r.Amount
		}
		disputes[parent] = sum
	}
	for i, s := range refunds {
		p.refunded[i] = max(p.refunded[i], s)
	}
	for i, s := range disputes {
		p.disputed[i] = s
	}
	return folded, skipped
}

func (p *providerPayments) status(i int) (ledger.PaymentStatus, bool) {
	r := &p.recs[i]
	return PaymentStatusOf(r.Provider, r.Status, r.Captured, p.refunded[i], p.disputed[i])
}

func (p *providerPayments) Len() int              { return len(p.recs) }
func (p *providerPayments) ID(i int) string       { return p.recs[i].ID }
func (p *providerPayments) Ref(i int) string      { return p.recs[i].SourceRef }
func (p *providerPayments) Kind(int) uint8        { return 0 }
func (p *providerPayments) Currency(i int) string { return p.recs[i].Currency }
func (p *providerPayments) Amount(i int) int64    { return p.recs[i].Amount }
func (p *providerPayments) Time(i int) time.Time  { return p.recs[i].Created }
func (p *providerPayments) Compare(i, j int) int  { return compareRecords(&p.recs[i], &p.recs[j]) }

// ledgerPayments is the ledger side of the payment grain.
type ledgerPayments struct{ ps []ledger.Payment }

func (l *ledgerPayments) Len() int              { return len(l.ps) }
func (l *ledgerPayments) ID(i int) string       { return l.ps[i].ID }
func (l *ledgerPayments) Ref(i int) string      { return l.ps[i].ProviderRef }
func (l *ledgerPayments) Kind(int) uint8        { return 0 }
func (l *ledgerPayments) Currency(i int) string { return l.ps[i].Currency }
func (l *ledgerPayments) Time(i int) time.Time  { return l.ps[i].CreatedAt }

// Amount is the authorized amount, or the captured one for a payment
// recorded without an authorization.
func (l *ledgerPayments) Amount(i int) int64 { return ledgerAmount(&l.ps[i]) }

func ledgerAmount(p *ledger.Payment) int64 {
	if p.Authorized != 0 {
		return p.Authorized
	}
	return p.Captured
}

func (l *ledgerPayments) Compare(i, j int) int {
	a, b := &l.ps[i], &l.ps[j]
	if c := compareTimeID(a.CreatedAt, b.CreatedAt, a.ID, b.ID); c != 0 {
		return c
	}
	for _, c := range []int{cmp.Compare(a.Authorized, b.Authorized), cmp.Compare(a.Captured, b.Captured),
		strings.Compare(a.ProviderRef, b.ProviderRef), strings.Compare(a.Currency, b.Currency)} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// compareRecords is a total order on provider records' contents.
func compareRecords(a, b *provider.Record) int {
	if c := compareTimeID(a.Created, b.Created, a.ID, b.ID); c != 0 {
		return c
	}
	for _, c := range []int{cmp.Compare(a.Amount, b.Amount), cmp.Compare(a.Fee, b.Fee), cmp.Compare(a.Net, b.Net),
		strings.Compare(a.Type, b.Type), strings.Compare(a.SourceRef, b.SourceRef), strings.Compare(a.Currency, b.Currency),
		cmp.Compare(a.Captured, b.Captured), cmp.Compare(a.Refunded, b.Refunded), cmp.Compare(a.Disputed, b.Disputed),
		strings.Compare(a.Status, b.Status), strings.Compare(a.ReportingCategory, b.ReportingCategory),
		strings.Compare(a.PaymentRef, b.PaymentRef), strings.Compare(a.PayoutID, b.PayoutID), a.AvailableOn.Compare(b.AvailableOn),
		strings.Compare(a.Provider, b.Provider), strings.Compare(a.Description, b.Description),
		strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), strings.Compare(a.Raw, b.Raw)} {
		if c != 0 {
			return c
		}
	}
	return 0
}
