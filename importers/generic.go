package importers

import (
	"fmt"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// generic-csv reads any CSV described by a Mapping (see ParseMapping). The
// mapped columns must all be in the header. Records take the mapping's
// provider name and grain; amounts are read in the declared units. For the
// balance grain a missing fee column means a fee of 0 and a missing net
// column means net = amount − fee; a net column is checked against
// amount − fee. For the payment grain ID, SourceRef and (unless a payment
// column is mapped) PaymentRef are the id column.
type genericCSV struct {
	m     *Mapping
	cc    *currencyCache
	fixed ledger.Currency
	minor bool

	id, typ, category, amount, fee, net, currency, date, availableOn int
	source, payment, status, payout, description                     int
	captured, refunded, disputed                                     int
}

func newGenericCSV(cc *currencyCache, opts *Options) (csvFormat, rune, error) {
	m := opts.Mapping
	if m == nil {
		return nil, 0, fmt.Errorf("%w: generic-csv needs a mapping (Options.Mapping)", ErrBadMapping)
	}
	g := &genericCSV{m: m, cc: cc, minor: m.Units == "minor"}
	if m.FixedCurrency != "" {
		cur, err := cc.lookup(m.FixedCurrency)
		if err != nil {
			return nil, 0, &ParseError{File: m.Name, Column: "fixed-currency", Err: err}
		}
		g.fixed = cur
	}
	comma := m.Comma
	if comma == 0 {
		comma = ','
	}
	return g, comma, nil
}

func (g *genericCSV) header(h *csvHeader) error {
	m := g.m
	req := map[string][]string{}
	idx := func(col string) int {
		if col == "" {
			return -1
		}
		req[col] = []string{col}
		return h.index(col)
	}
	g.id, g.typ, g.category = idx(m.ID), idx(m.Type), idx(m.Category)
	g.amount, g.fee, g.net = idx(m.Amount), idx(m.Fee), idx(m.Net)
	g.currency, g.date, g.availableOn = idx(m.Currency), idx(m.Date), idx(m.AvailableOn)
	g.source, g.payment, g.status = idx(m.Source), idx(m.Payment), idx(m.Status)
	g.payout, g.description = idx(m.Payout), idx(m.Description)
	g.captured, g.refunded, g.disputed = idx(m.Captured), idx(m.Refunded), idx(m.Disputed)
	return h.require(req)
}

func (g *genericCSV) when(r *csvRow, i int, required bool) time.Time {
	s := r.get(i)
	if r.err != nil || (s == "" && !required) {
		return time.Time{}
	}
	if s == "" {
		r.fail(i, fmt.Errorf("%w: empty cell", ErrMissingField))
		return time.Time{}
	}
	layout := g.m.DateFormat
	if layout == "" {
		layout = time.RFC3339Nano
	}
	t, err := parseLayout(s, layout)
	if err != nil {
		r.fail(i, err)
	}
	return t
}

func (g *genericCSV) row(r *csvRow, rec *provider.Record) {
	rec.Grain = g.m.Grain
	rec.ID = r.req(g.id)
	cur := g.fixed
	if g.currency >= 0 {
		cur = r.currency(g.currency, g.cc)
	}
	rec.Currency = cur.Code
	rec.Type = r.get(g.typ)
	rec.ReportingCategory = r.get(g.category)
	rec.Amount = r.amount(g.amount, cur, g.minor, true)
	rec.Fee = r.amount(g.fee, cur, g.minor, false)
	rec.Created = g.when(r, g.date, true)
	rec.AvailableOn = g.when(r, g.availableOn, false)
	rec.SourceRef = r.get(g.source)
	rec.PaymentRef = r.get(g.payment)
	rec.Status = r.get(g.status)
	rec.PayoutID = r.get(g.payout)
	rec.Description = r.get(g.description)
	if rec.Grain == provider.PaymentGrain {
		rec.Captured = r.amount(g.captured, cur, g.minor, false)
		rec.Refunded = r.amount(g.refunded, cur, g.minor, false)
		rec.Disputed = r.amount(g.disputed, cur, g.minor, false)
		if rec.SourceRef == "" {
			rec.SourceRef = rec.ID
		}
		if rec.PaymentRef == "" {
			rec.PaymentRef = rec.ID
		}
		return
	}
	rec.Net = rec.Amount - rec.Fee
	if g.net >= 0 {
		rec.Net = r.amount(g.net, cur, g.minor, true)
		r.checkNet(g.net, rec)
	}
}
