package reconcile

import (
	"slices"
	"strings"
)

// splitParents names the record types whose fee a provider reports as a
// record of its own, by the fee record's type. JustiFi books a payment's
// processing fee as a payment_fee record next to the payment record, and a
// dispute's fee as dispute_fee (returned as dispute_fee_refund when the
// dispute is won), where the ledger keeps one balance transaction with an
// amount and a fee, as Stripe does.
var splitParents = map[string]string{
	"payment_fee":        "payment",
	"dispute_fee":        "dispute",
	"dispute_fee_refund": "dispute_refund",
}

// foldSplits folds each such fee record into its parent record so that the
// pair compares with the ledger's one balance transaction: the parent keeps
// its id, reference and amount, its fee grows by the fee record's debit (so
// a returned fee makes it negative) and its net becomes amount − fee. A fee
// belongs to the parent record of the matching type with the same payment
// (PaymentRef, else SourceRef) and currency; when a payment has several such
// parents, fees and parents pair in time order, and a fee with no parent is
// left alone to be matched as a fee. Folded records are out of play and
// counted in Summary.Folded; outcomes list them in FoldedIDs.
func (p *providerBalances) foldSplits(m *matcher) int {
	type key struct{ typ, ref, cur string }
	keyOf := func(i int, typ string) key {
		ref := p.s.paymentRef(i)
		if ref == "" {
			ref = p.s.items[i].ref
		}
		return key{typ, ref, strings.ToLower(p.s.currency(i))}
	}
	fees := map[key][]int32{}
	wanted := map[string]bool{}
	n := p.Len()
	for i := range n {
		if m.pState[i] != free {
			continue
		}
		if parent, ok := splitParents[strings.ToLower(p.s.typeCat(i).typ)]; ok {
			k := keyOf(i, parent)
			fees[k] = append(fees[k], int32(i))
			wanted[parent] = true
		}
	}
	if len(fees) == 0 {
		return 0
	}
	parents := map[key][]int32{}
	for i := range n {
		if typ := strings.ToLower(p.s.typeCat(i).typ); m.pState[i] == free && wanted[typ] {
			if k := keyOf(i, typ); fees[k] != nil {
				parents[k] = append(parents[k], int32(i))
			}
		}
	}
	p.fee, p.net = make([]int64, n), make([]int64, n)
	for i := range n {
		p.fee[i], p.net[i] = p.s.items[i].fee, p.s.items[i].net
	}
	p.foldedInto = map[int32]int32{}
	byContent := func(a, b int32) int { return p.Compare(int(a), int(b)) }
	for k, fs := range fees {
		ps := parents[k]
		if len(ps) == 0 {
			continue
		}
		slices.SortFunc(fs, byContent)
		slices.SortFunc(ps, byContent)
		for n, f := range fs {
			par := ps[0]
			if len(ps) > 1 {
				if n >= len(ps) {
					break
				}
				par = ps[n]
			}
			p.fee[par] -= p.s.items[f].net
			p.net[par] += p.s.items[f].net
			p.foldedInto[f] = par
			m.pState[f] = out
		}
	}
	return len(p.foldedInto)
}
