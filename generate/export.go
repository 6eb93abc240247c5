package generate

import (
	"bufio"
	"encoding/csv"
	"math/rand/v2"
	"strconv"
	"time"
)

// ItemizedColumns are the columns of the generated itemized report, in order.
var ItemizedColumns = []string{"balance_transaction_id", "created_utc", "available_on_utc", "currency", "gross", "fee",
	"net", "reporting_category", "source_id", "description", "automatic_payout_id"}

const reportTime = "2006-01-02 15:04:05"

// DiffKind is a kind of difference injected into the provider exports.
type DiffKind string

// The injected differences. Each names what a reconciler should report.
const (
	// FeeOffByOne: the provider's fee is one minor unit more than the
	// ledger's (and its net one less). Reconciliation: mismatched fee and net.
	FeeOffByOne DiffKind = "fee_off_by_one"
	// MissingAtProvider: a balance transaction the ledger has is absent
	// from the exports. Reconciliation: missing at provider.
	MissingAtProvider DiffKind = "missing_at_provider"
	// MissingInLedger: the exports hold an extra charge, with its own
	// txn_e… id and ch_e… source, that the feed never recorded.
	// Reconciliation: missing in ledger.
	MissingInLedger DiffKind = "missing_in_ledger"
	// Duplicate: a record appears twice, with the same id, in a row.
	// Reconciliation: duplicate.
	Duplicate DiffKind = "duplicate"
)

// DiffKinds lists the injected difference kinds.
var DiffKinds = []DiffKind{FeeOffByOne, MissingAtProvider, MissingInLedger, Duplicate}

// Diff is one difference injected into the exports. Amounts are minor units
// of Currency, as the ledger has them (for MissingInLedger, as exported).
type Diff struct {
	Kind              DiffKind
	RecordID          string // the provider's txn_ id (also for a missing one: the id it would have had)
	SourceRef         string // ch_…, re_…, dp_… (payouts are never altered)
	Type              string // the balance transaction type: charge, refund, adjustment
	ReportingCategory string
	Currency          string
	Amount            int64
	Fee               int64
	// Payout is the payout that swept the record, if any. In the itemized
	// report, which names each record's payout, a FeeOffByOne or
	// MissingAtProvider record makes that payout's swept total differ from
	// its amount. (A duplicate is set aside, and an extra record is never
	// swept.)
	Payout string
	// Estimated is set for a foreign payment's refund, dispute or won
	// dispute that the ledger converted at the payment's booking rate
	// (Options.ForeignShare): missing at the provider, its settlement is
	// never told, and the payout that holds it does not add up in the
	// ledger either.
	Estimated bool
}

// foreignColumns are added to the itemized report when some payments are
// foreign (Options.ForeignShare).
var foreignColumns = []string{"customer_facing_amount", "customer_facing_currency"}

// exporter writes the provider exports and injects differences.
type exporter struct {
	foreign bool // the itemized report has foreignColumns
	ids     idStyle
	end     time.Time
	rate    float64
	r       *rand.Rand // its own stream: the diff rate never changes the history
	csvW    *csv.Writer
	csvB    *bufio.Writer
	jsonB   *bufio.Writer
	cells   []string
	buf     []byte
	rows    int
	extra   int
	diffs   []Diff
	// amounts of missing and extra records, by currency, kept apart so that
	// no extra record could stand in for a missing one on amount alone.
	missing, extras map[amountKey]bool
}

type amountKey struct {
	cur    string
	amount int64
}

func newExporter(o Options, end time.Time, out Output) *exporter {
	cols := ItemizedColumns
	if o.ForeignShare > 0 {
		cols = append(cols[:len(cols):len(cols)], foreignColumns...)
	}
	e := &exporter{end: end, rate: o.DiffRate, r: newRand(o.Seed, 2), cells: make([]string, len(cols)),
		missing: map[amountKey]bool{}, extras: map[amountKey]bool{}, foreign: o.ForeignShare > 0,
		ids: idStyle{random: o.RandomIDs, base: o.IDBase}}
	if out.ItemizedCSV != nil {
		e.csvB = bufio.NewWriterSize(out.ItemizedCSV, 64<<10)
		e.csvW = csv.NewWriter(e.csvB)
		e.csvW.Write(cols)
	}
	if out.BalanceJSON != nil {
		e.jsonB = bufio.NewWriterSize(out.BalanceJSON, 64<<10)
		e.jsonB.WriteString(`{"object":"list","data":[`)
	}
	return e
}

// write exports one ledger balance transaction, perhaps with a difference.
func (e *exporter) write(b *btRow) error {
	if e.rate > 0 && e.r.Float64() < e.rate {
		return e.inject(b)
	}
	return e.emit(b)
}

// inject exports b with a difference of a random kind. Payouts and payout
// failures are never altered: a difference there gets an extra record
// beside it instead.
func (e *exporter) inject(b *btRow) error {
	kind := DiffKinds[e.r.IntN(len(DiffKinds))]
	payoutRow := b.typ == "payout" || b.typ == "payout_failure"
	if payoutRow {
		kind = MissingInLedger
	}
	key := amountKey{b.cur.code, b.amount}
	if kind == MissingAtProvider && e.extras[key] {
		kind = FeeOffByOne
	}
	// The ledger books an untold foreign payment's transactions in the
	// presentment currency, with no fee, and adopts the provider's
	// settlement: a changed fee would be adopted, and a missing
	// transaction would sit in a payout of the presentment currency.
	if b.untold && (kind == FeeOffByOne || kind == MissingAtProvider) {
		kind = Duplicate
	}
	d := Diff{Kind: kind, RecordID: b.id, SourceRef: b.source, Type: b.typ, ReportingCategory: b.category,
		Currency: b.cur.code, Amount: b.amount, Fee: b.fee, Payout: b.payout,
		Estimated: b.pcur != nil && !b.untold && b.typ != "charge"}
	switch kind {
	case FeeOffByOne:
		c := *b
		c.fee++
		c.net--
		if c.feeDesc == "" {
			c.feeDesc = "Stripe processing fees"
		}
		e.diffs = append(e.diffs, d)
		return e.emit(&c)
	case MissingAtProvider:
		e.missing[key] = true
		e.diffs = append(e.diffs, d)
		return nil
	case Duplicate:
		e.diffs = append(e.diffs, d)
		if err := e.emit(b); err != nil {
			return err
		}
		return e.emit(b)
	}
	// MissingInLedger: b as it is, then a charge the ledger never saw.
	if err := e.emit(b); err != nil {
		return err
	}
	e.extra++
	amt := cartAmount(e.r, b.cur)
	for e.missing[amountKey{b.cur.code, amt}] {
		amt += 100
	}
	e.extras[amountKey{b.cur.code, amt}] = true
	fee := processingFee(b.cur, amt)
	x := &btRow{id: e.ids.id("txn_e", e.extra), typ: "charge", category: "charge", source: e.ids.id("ch_e", e.extra),
		description: "Order " + e.ids.id("ord_e", e.extra), cur: b.cur, amount: amt, fee: fee, net: amt - fee,
		feeDesc: "Stripe processing fees", created: b.created, availableOn: b.created.Truncate(day).Add(2 * day)}
	e.diffs = append(e.diffs, Diff{Kind: MissingInLedger, RecordID: x.id, SourceRef: x.source, Type: x.typ,
		ReportingCategory: x.category, Currency: x.cur.code, Amount: x.amount, Fee: x.fee})
	return e.emit(x)
}

// emit writes one record to each export.
func (e *exporter) emit(b *btRow) error {
	e.rows++
	d := b.cur.digits
	if e.csvW != nil {
		c := e.cells
		c[0] = b.id
		c[1] = b.created.Format(reportTime)
		c[2] = b.availableOn.Format(reportTime)
		c[3] = b.cur.code
		c[4] = string(appendMinor(e.buf[:0], b.amount, d))
		c[5] = string(appendMinor(e.buf[:0], b.fee, d))
		c[6] = string(appendMinor(e.buf[:0], b.net, d))
		c[7] = b.category
		c[8] = b.source
		c[9] = b.description
		c[10] = b.payout
		if e.foreign {
			c[11], c[12] = "", ""
			if b.pcur != nil {
				pm := b.pamount
				if pm < 0 {
					pm = -pm
				}
				c[11], c[12] = string(appendMinor(e.buf[:0], pm, b.pcur.digits)), b.pcur.code
			}
		}
		if err := e.csvW.Write(c); err != nil {
			return err
		}
	}
	if e.jsonB != nil {
		j := e.buf[:0]
		if e.rows > 1 {
			j = append(j, ',')
		}
		j = append(j, "\n"+`{"id":"`...)
		j = append(j, b.id...)
		j = append(j, `","object":"balance_transaction","amount":`...)
		j = strconv.AppendInt(j, b.amount, 10)
		j = append(j, `,"available_on":`...)
		j = appendUnix(j, b.availableOn)
		j = append(j, `,"balance_type":"payments","created":`...)
		j = appendUnix(j, b.created)
		j = append(j, `,"currency":"`...)
		j = append(j, b.cur.code...)
		j = append(j, `","description":"`...)
		j = append(j, b.description...)
		if b.rate != "" {
			j = append(j, `","exchange_rate":`...)
			j = append(j, b.rate...)
			j = append(j, `,"fee":`...)
		} else {
			j = append(j, `","exchange_rate":null,"fee":`...)
		}
		j = strconv.AppendInt(j, b.fee, 10)
		j = append(j, `,"fee_details":[`...)
		if b.fee != 0 {
			j = append(j, `{"amount":`...)
			j = strconv.AppendInt(j, b.fee, 10)
			j = append(j, `,"application":null,"currency":"`...)
			j = append(j, b.cur.code...)
			j = append(j, `","description":"`...)
			j = append(j, b.feeDesc...)
			j = append(j, `","type":"stripe_fee"}`...)
		}
		j = append(j, `],"net":`...)
		j = strconv.AppendInt(j, b.net, 10)
		j = append(j, `,"reporting_category":"`...)
		j = append(j, b.category...)
		j = append(j, `","source":"`...)
		j = append(j, b.source...)
		j = append(j, `","status":"`...)
		if b.availableOn.After(e.end) {
			j = append(j, "pending"...)
		} else {
			j = append(j, "available"...)
		}
		j = append(j, `","type":"`...)
		j = append(j, b.typ...)
		j = append(j, `"}`...)
		e.buf = j
		if _, err := e.jsonB.Write(j); err != nil {
			return err
		}
	}
	return nil
}

// close finishes the exports and flushes them.
func (e *exporter) close() error {
	if e.csvW != nil {
		e.csvW.Flush()
		if err := e.csvW.Error(); err != nil {
			return err
		}
		if err := e.csvB.Flush(); err != nil {
			return err
		}
	}
	if e.jsonB != nil {
		e.jsonB.WriteString("\n],\"has_more\":false,\"url\":\"/v1/balance_transactions\"}\n")
		return e.jsonB.Flush()
	}
	return nil
}
