package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

func notFound(what, id string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &missingError{what, id}
	}
	return err
}

// missingError is ledger.ErrNotFound for the object what with id, its
// message ("payment \"p1\": not found") made only when it is read:
// recording a feed looks up, and misses, a request and often a payment for
// every new event.
type missingError struct{ what, id string }

func (e *missingError) Error() string {
	return fmt.Sprintf("%s %q: %v", e.what, e.id, ledger.ErrNotFound)
}

func (e *missingError) Unwrap() error { return ledger.ErrNotFound }

const paymentCols = `id, provider, provider_ref, currency, customer, description, metadata, capture_method, status,
	authorized, captured, refunded, disputed, fees, pending_entry_id, created_at, updated_at,
	settlement_currency, settled, unwound`

func scanPayment(sc scanner) (*ledger.Payment, error) {
	var p ledger.Payment
	var md sql.NullString
	var status string
	var pending sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.Provider, &p.ProviderRef, &p.Currency, &p.Customer, &p.Description, &md,
		&p.CaptureMethod, &status, &p.Authorized, &p.Captured, &p.Refunded, &p.Disputed, &p.Fees, &pending,
		&created, &updated, &p.SettlementCurrency, &p.Settled, &p.Unwound); err != nil {
		return nil, err
	}
	p.Status, p.PendingEntryID = ledger.PaymentStatus(status), pending.Int64
	p.CreatedAt, p.UpdatedAt = fromTS(created), fromTS(updated)
	var err error
	p.Metadata, err = fromMeta(md)
	return &p, err
}

// Payment returns a payment by id.
func (t *tx) Payment(ctx context.Context, id string) (*ledger.Payment, error) {
	if c, ok := t.payments.get(id); ok {
		if c == nil {
			return nil, &missingError{"payment", id}
		}
		return clonePayment(c), nil
	}
	if h, ok := t.held[id]; ok {
		t.cachePayment(id, &h.p)
		return clonePayment(&h.p), nil
	}
	if gone, err := t.freshPayments.missing(ctx, t, anyPayment, id); err != nil {
		return nil, err
	} else if gone {
		t.cachePayment(id, nil)
		return nil, &missingError{"payment", id}
	}
	p, err := scanPayment(t.queryRowAfter(ctx, t.beforePayments, `SELECT `+paymentCols+` FROM payments WHERE id = ?`, id))
	switch {
	case err == nil:
		t.cachePayment(id, p)
	case errors.Is(err, sql.ErrNoRows):
		t.cachePayment(id, nil)
	}
	return p, notFound("payment", id, err)
}

// SavePayment inserts or updates a payment, held in memory to be written
// later (heldpayments.go). A payment this transaction knows (read,
// prefetched or saved) is inserted or updated plainly; others go through
// an upsert.
func (t *tx) SavePayment(ctx context.Context, p *ledger.Payment) error {
	c, known := t.payments.get(p.ID)
	write := writeUpdate // read or written by this transaction: the update finds it
	switch {
	case c != nil:
	case known:
		write = writeInsert
	default:
		write = writeUpsert
	}
	if err := t.holdPayment(ctx, p, write, known); err != nil {
		return err
	}
	if write != writeUpdate {
		t.freshPayments.add(p.ID)
	}
	t.rememberPayment(p)
	return nil
}

// paymentUpdated are the columns an update of a payment sets, in the order
// writePayment binds them; upsertPayment and updatePaymentSet are their
// SET lists.
var (
	paymentUpdated = []string{"provider_ref", "status", "authorized", "captured", "refunded", "disputed", "fees", "updated_at",
		"settlement_currency", "settled", "unwound"}
	upsertPayment    = setList(paymentUpdated, "%[1]s = excluded.%[1]s")
	updatePaymentSet = setList(paymentUpdated, "%s = ?")

	// paymentInserted are the columns only an insert of a payment sets, in
	// the order SavePayment binds them, before paymentUpdated's.
	paymentInserted = []string{"id", "provider", "currency", "customer", "description", "metadata", "capture_method",
		"pending_entry_id", "created_at"}

	// insertPaymentSQL inserts a payment SavePayment knows missing, its
	// columns in the order SavePayment binds them; upsertPaymentSQL one it
	// does not know, updating it if it is there.
	insertPaymentSQL = insertPaymentRows(1)
	upsertPaymentSQL = insertPaymentSQL + ` ON CONFLICT (id) DO UPDATE SET ` + upsertPayment
	updatePaymentSQL = `UPDATE payments SET ` + updatePaymentSet + ` WHERE id = ?`
)

// insertPaymentRows is the insert of n payments, their columns in the
// order SavePayment binds them.
func insertPaymentRows(n int) string {
	cols := slices.Concat(paymentInserted, paymentUpdated)
	return `INSERT INTO payments (` + strings.Join(cols, ", ") + `) VALUES ` + tuples("("+placeholders(len(cols))+")", n)
}

// setList formats each column with format and joins them for a SET clause.
func setList(cols []string, format string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf(format, c)
	}
	return strings.Join(parts, ", ")
}

// paymentState adds the values of paymentUpdated's columns, in its order:
// what an update of a payment sets, and the last columns of its insert.
func paymentState(q *params, p *ledger.Payment, updated int64) {
	q.text(p.ProviderRef)
	q.text(string(p.Status))
	q.int(p.Authorized)
	q.int(p.Captured)
	q.int(p.Refunded)
	q.int(p.Disputed)
	q.int(p.Fees)
	q.int(updated)
	q.text(p.SettlementCurrency)
	q.int(p.Settled)
	q.int(p.Unwound)
}

// rememberPayment keeps a saved payment for Payment to return, as its row
// now stands: a payment this transaction read before gets the columns an
// update changes; one it found missing is the row just inserted.
func (t *tx) rememberPayment(p *ledger.Payment) {
	prev, known := t.payments.get(p.ID)
	switch {
	case known && prev == nil:
		q := *p
		q.Metadata = nil
		if len(p.Metadata) > 0 {
			q.Metadata = maps.Clone(p.Metadata)
		}
		q.CreatedAt, q.UpdatedAt = fromTS(ts(p.CreatedAt)), fromTS(ts(p.UpdatedAt))
		t.payments.put(p.ID, &q)
	case known:
		setPaymentState(prev, p)
	}
}

// maxCachedPayments bounds the payments a transaction remembers.
const maxCachedPayments = 200_000

// paymentCache is the payments a write transaction read or saved (nil:
// known missing), in two generations of up to half maxCachedPayments each:
// when the newer fills it becomes the older, and the older is dropped. A
// payment found in the older moves to the newer. A feed captures, refunds
// and disputes the payments it authorized in the days before: they stay
// known, where forgetting every payment at once had the next events read
// back the ones they had just written.
//
// A payment the cache does not hold has no write waiting behind (later.go)
// once dropped has been cleared by a sync: every write of a payment
// (SavePayment) puts it in the newer generation, so only a dropped older
// generation can hold payments whose writes are still queued. Reads of
// payments the cache does not hold therefore wait for the queue only after
// a drop (beforePayments), not at every read.
type paymentCache struct {
	cur, old map[string]*ledger.Payment
	// gen counts the generations begun: cur is generation gen.
	gen int
	// dropped: an older generation was dropped since the last sync.
	dropped bool
}

func (c *paymentCache) get(id string) (*ledger.Payment, bool) {
	if p, ok := c.cur[id]; ok {
		return p, true
	}
	p, ok := c.old[id]
	if ok {
		c.put(id, p)
	}
	return p, ok
}

// has reports whether the cache holds id, without moving it.
func (c *paymentCache) has(id string) bool {
	_, cur := c.cur[id]
	_, old := c.old[id]
	return cur || old
}

// holdsSince reports, without a lookup, that the cache still holds a
// payment that generation in-1 held (in 0: none known): a payment
// leaves only when its generation is dropped, two generations later, and
// one read in the meantime moves to the newer generation.
func (c *paymentCache) holdsSince(in int) bool {
	return in > 0 && c.gen-(in-1) <= 1
}

func (c *paymentCache) put(id string, p *ledger.Payment) {
	if c.cur == nil || len(c.cur) >= maxCachedPayments/2 {
		c.dropped = c.dropped || len(c.old) > 0
		c.old, c.cur = c.cur, make(map[string]*ledger.Payment, 1024)
		c.gen++
	}
	c.cur[id] = p
}

// cachePayment remembers a payment read (nil: found missing) in a write
// transaction.
func (t *tx) cachePayment(id string, p *ledger.Payment) {
	if !t.write {
		return
	}
	if p == nil {
		t.payments.put(id, nil)
		return
	}
	t.payments.put(id, clonePayment(p))
}

// clonePayment returns a copy of p that shares nothing with it: what the
// transaction keeps and what a caller may change are apart.
func clonePayment(p *ledger.Payment) *ledger.Payment {
	v := *p
	v.Metadata = maps.Clone(p.Metadata)
	return &v
}

// EachPayment streams payments.
func (t *tx) EachPayment(ctx context.Context, provider string, fn func(*ledger.Payment) error) error {
	return t.eachPayment(ctx, t.before, `(? = '' OR provider = ?) ORDER BY id`, []any{provider, provider}, fn)
}

// beforePayments is before for a read of payments of which the transaction
// remembers none (paymentCache): their writes have all run unless the
// cache dropped some since the transaction last waited for the writes
// queued behind, so it waits only then. Recording a month of a million
// payments waited about twenty thousand times for the queue to empty, to
// read payments written days of events before, and was idle for it four
// seconds of 28 (BENCHMARKS.md, thirty-third round).
func (t *tx) beforePayments(ctx context.Context, query string) error {
	if !t.payments.dropped {
		return nil
	}
	return t.before(ctx, query)
}

func (t *tx) eachPayment(ctx context.Context, ready func(context.Context, string) error, where string, args []any, fn func(*ledger.Payment) error) error {
	rows, err := t.queryAfter(ctx, ready, `SELECT `+paymentCols+` FROM payments WHERE `+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPayment(rows)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Refund returns a refund by id.
func (t *tx) Refund(ctx context.Context, id string) (*ledger.Refund, error) {
	if gone, err := t.freshRefunds.missing(ctx, t, anyRefund, id); err != nil {
		return nil, err
	} else if gone {
		return nil, &missingError{"refund", id}
	}
	var r ledger.Refund
	var created int64
	err := t.queryRow(ctx, `SELECT id, payment_id, provider_ref, amount, fee_refund, currency, reason, entry_id, created_at
		FROM refunds WHERE id = ?`, id).Scan(&r.ID, &r.PaymentID, &r.ProviderRef, &r.Amount, &r.FeeRefund, &r.Currency,
		&r.Reason, &r.EntryID, &created)
	r.CreatedAt = fromTS(created)
	return &r, notFound("refund", id, err)
}

// SaveRefund inserts a refund.
func (t *tx) SaveRefund(ctx context.Context, r *ledger.Refund) error {
	created, err := storeTS("created_at", r.CreatedAt)
	if err != nil {
		return err
	}
	// Its row refers to its payment's.
	if err := t.flushPayment(ctx, r.PaymentID); err != nil {
		return err
	}
	t.freshRefunds.add(r.ID)
	err = t.execArgsLater(ctx, `INSERT INTO refunds (id, payment_id, provider_ref, amount, fee_refund, currency, reason, entry_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.PaymentID, r.ProviderRef, r.Amount, r.FeeRefund, r.Currency, r.Reason,
		r.EntryID, created)
	return translate(err)
}

// Dispute returns a dispute by id.
func (t *tx) Dispute(ctx context.Context, id string) (*ledger.Dispute, error) {
	if d, ok := t.disputes[id]; ok {
		c := *d
		return &c, nil
	}
	if gone, err := t.freshDisputes.missing(ctx, t, anyDispute, id); err != nil {
		return nil, err
	} else if gone {
		return nil, &missingError{"dispute", id}
	}
	d, err := scanDispute(t.queryRow(ctx, `SELECT `+disputeCols+` FROM disputes WHERE id = ?`, id))
	if err == nil {
		t.rememberDispute(d)
	}
	return &d, notFound("dispute", id, err)
}

const disputeCols = `id, payment_id, provider, provider_ref, amount, fee, fee_refund, currency, status, created_at, updated_at`

func scanDispute(sc scanner) (ledger.Dispute, error) {
	var d ledger.Dispute
	var status string
	var created, updated int64
	err := sc.Scan(&d.ID, &d.PaymentID, &d.Provider, &d.ProviderRef, &d.Amount, &d.Fee, &d.FeeRefund, &d.Currency,
		&status, &created, &updated)
	d.Status, d.CreatedAt, d.UpdatedAt = ledger.DisputeStatus(status), fromTS(created), fromTS(updated)
	return d, err
}

// maxCachedDisputes bounds the disputes a transaction remembers; past it
// they are forgotten, all at once, and read again when asked for.
const maxCachedDisputes = 100_000

// rememberDispute keeps a dispute as its row stands, in a write
// transaction: a feed closes the disputes it opened days before, and
// reading each back waited for every write handed over before it
// (later.go; BENCHMARKS.md, twenty-second round).
func (t *tx) rememberDispute(d ledger.Dispute) {
	if !t.write {
		return
	}
	if t.disputes == nil || len(t.disputes) >= maxCachedDisputes {
		t.disputes = make(map[string]*ledger.Dispute)
	}
	t.disputes[d.ID] = &d
}

// SaveDispute inserts or updates a dispute.
func (t *tx) SaveDispute(ctx context.Context, d *ledger.Dispute) error {
	created, updated, err := storeTimes2("created_at", d.CreatedAt, "updated_at", d.UpdatedAt)
	if err != nil {
		return err
	}
	// The row is d when it is new, or, when it was stored, d's status,
	// fee refund and update time on the stored one (the upsert's SET list).
	if prev, ok := t.disputes[d.ID]; ok {
		prev.Status, prev.FeeRefund, prev.UpdatedAt = d.Status, d.FeeRefund, fromTS(updated)
	} else if gone, err := t.freshDisputes.missing(ctx, t, anyDispute, d.ID); err != nil {
		return err
	} else if gone {
		row := *d
		row.CreatedAt, row.UpdatedAt = fromTS(created), fromTS(updated)
		t.rememberDispute(row)
	}
	// Its row refers to its payment's.
	if err := t.flushPayment(ctx, d.PaymentID); err != nil {
		return err
	}
	t.freshDisputes.add(d.ID)
	err = t.execArgsLater(ctx, `INSERT INTO disputes (id, payment_id, provider, provider_ref, amount, fee, fee_refund, currency, status,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, fee_refund = excluded.fee_refund, updated_at = excluded.updated_at`,
		d.ID, d.PaymentID, d.Provider, d.ProviderRef, d.Amount, d.Fee, d.FeeRefund, d.Currency, string(d.Status),
		created, updated)
	return translate(err)
}

const payoutCols = `id, provider, provider_ref, amount, currency, status, arrival_date, created_at, updated_at, automatic`

func scanPayout(sc scanner) (*ledger.Payout, error) {
	var p ledger.Payout
	var status string
	var arrival, created, updated int64
	err := sc.Scan(&p.ID, &p.Provider, &p.ProviderRef, &p.Amount, &p.Currency, &status, &arrival, &created, &updated, &p.Automatic)
	p.Status, p.ArrivalDate, p.CreatedAt, p.UpdatedAt = ledger.PayoutStatus(status), fromTS(arrival), fromTS(created), fromTS(updated)
	return &p, err
}

// Payout returns a payout by id.
func (t *tx) Payout(ctx context.Context, id string) (*ledger.Payout, error) {
	if p, ok := t.payouts[id]; ok {
		if p == nil {
			return nil, &missingError{"payout", id}
		}
		c := *p
		return &c, nil
	}
	if gone, err := t.freshPayouts.missing(ctx, t, anyPayout, id); err != nil {
		return nil, err
	} else if gone {
		t.rememberPayout(id, nil)
		return nil, &missingError{"payout", id}
	}
	p, err := scanPayout(t.queryRow(ctx, `SELECT `+payoutCols+` FROM payouts WHERE id = ?`, id))
	switch {
	case err == nil:
		c := *p // the caller may change p
		t.rememberPayout(id, &c)
	case errors.Is(err, sql.ErrNoRows):
		t.rememberPayout(id, nil)
	}
	return p, notFound("payout", id, err)
}

// rememberPayout keeps a payout as its row stands (nil: known missing), in
// a write transaction: a feed's payout is looked up as it is created and
// as it is paid, and each lookup waited for the writes handed over before
// it, a payout's sweep among them (later.go). A month has a few hundred.
func (t *tx) rememberPayout(id string, p *ledger.Payout) {
	if !t.write {
		return
	}
	if t.payouts == nil {
		t.payouts = map[string]*ledger.Payout{}
	}
	t.payouts[id] = p
}

// SavePayout inserts or updates a payout.
func (t *tx) SavePayout(ctx context.Context, p *ledger.Payout) error {
	arrival, err := storeTS("arrival_date", p.ArrivalDate)
	if err != nil {
		return err
	}
	created, updated, err := storeTimes2("created_at", p.CreatedAt, "updated_at", p.UpdatedAt)
	if err != nil {
		return err
	}
	// Behind (later.go), as AssignPayout after it.
	t.freshPayouts.add(p.ID)
	err = t.execArgsLater(ctx, `INSERT INTO payouts (`+payoutCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
		p.ID, p.Provider, p.ProviderRef, p.Amount, p.Currency, string(p.Status), arrival, created, updated, p.Automatic)
	// The row is p when it is new, or p's status and update time on the
	// stored one (the upsert's SET list).
	prev, known := t.payouts[p.ID]
	switch {
	case known && prev == nil:
		row := *p
		row.ArrivalDate, row.CreatedAt, row.UpdatedAt = fromTS(arrival), fromTS(created), fromTS(updated)
		t.rememberPayout(p.ID, &row)
	case known:
		prev.Status, prev.UpdatedAt = p.Status, fromTS(updated)
	}
	if p.Automatic {
		// A new automatic payout changes the order autoPayoutsOf keeps.
		// Known new, it takes its place in the order; else the order is
		// read again when next asked.
		k := provCur{p.Provider, p.Currency}
		ps, listed := t.autoPayouts[k]
		switch {
		case slices.ContainsFunc(ps, func(c payoutCutoff) bool { return c.id == p.ID }):
		case listed && known && prev == nil:
			c := payoutCutoff{at: created, id: p.ID}
			i, _ := slices.BinarySearchFunc(ps, c, comparePayoutCutoffs)
			t.autoPayouts[k] = slices.Insert(ps, i, c)
		default:
			delete(t.autoPayouts, k)
		}
	}
	return translate(err)
}

// comparePayoutCutoffs orders automatic payouts as autoPayoutsOf reads
// them: by time, then id.
func comparePayoutCutoffs(a, b payoutCutoff) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// EachPayout streams payouts.
func (t *tx) EachPayout(ctx context.Context, provider string, fn func(*ledger.Payout) error) error {
	rows, err := t.query(ctx, `SELECT `+payoutCols+` FROM payouts WHERE (? = '' OR provider = ?) ORDER BY created_at, id`, provider, provider)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// A balance transaction is stored in two tables (schema.sql, migration
// 13): bt_core, what was booked, and bt_settlements, what settles and is
// rewritten after booking. The store reads them joined, bt_core as b and
// bt_settlements as s (btFrom), so that each filter names the table whose
// index it can use: the balance_transactions view joins them the same way
// for people reading the database, but gives provider from bt_core only.
// btJoinSettlements joins s to b, however b is read (an index named, a
// list of ids before it).
const (
	btJoinSettlements = ` JOIN bt_settlements AS s ON s.id = b.id`
	btFrom            = `bt_core AS b` + btJoinSettlements
	btCols            = `b.id, b.provider, b.entry_id, b.type, b.reporting_category, b.source_type, b.source_id, b.source_ref,
	b.payment_id, b.amount, b.fee, b.net, b.fee_details, s.currency, s.status, b.description, b.created, s.available_on,
	s.payout_id, s.available_on_estimated, s.payout_derived, b.presentment_amount, b.presentment_currency, b.exchange_rate,
	b.settlement_estimated`
)

func scanBT(sc scanner) (*ledger.BalanceTransaction, error) {
	var b ledger.BalanceTransaction
	if err := scanBTInto(sc, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// scanBTInto scans a row of btCols into b, which must be zero: the
// exchange rate and fee details are set only when the row has them.
func scanBTInto(sc scanner, b *ledger.BalanceTransaction) error {
	var details sql.NullString
	var created, avail int64
	var rate string
	if err := sc.Scan(&b.ID, &b.Provider, &b.EntryID, &b.Type, &b.ReportingCategory, &b.SourceType, &b.SourceID,
		&b.SourceRef, &b.PaymentID, &b.Amount, &b.Fee, &b.Net, &details, &b.Currency, &b.Status, &b.Description,
		&created, &avail, &b.PayoutID, &b.AvailableOnEstimated, &b.PayoutDerived,
		&b.PresentmentAmount, &b.PresentmentCurrency, &rate, &b.SettlementEstimated); err != nil {
		return err
	}
	var err error
	if b.ExchangeRate, err = parseRate(rate); err != nil {
		return fmt.Errorf("balance transaction %s: %w", b.ID, err)
	}
	b.Created, b.AvailableOn = fromTS(created), fromTS(avail)
	if details.Valid && details.String != "" {
		var err error
		if b.FeeDetails, err = decodeFeeDetails(details.String); err != nil {
			return err
		}
	}
	return nil
}

// BalanceTransaction returns a balance transaction by id.
func (t *tx) BalanceTransaction(ctx context.Context, id string) (*ledger.BalanceTransaction, error) {
	b, err := scanBT(t.queryRow(ctx, `SELECT `+btCols+` FROM `+btFrom+` WHERE b.id = ?`, id))
	return b, notFound("balance transaction", id, err)
}

// InsertBalanceTransaction writes a balance transaction. In a write
// transaction the row waits in memory with the others inserted since
// (pendingBTs), and they are written in the order of their ids, btChunk a
// statement: before any statement that names their tables (but a
// settlement change of others), before a savepoint begins or ends, at
// commit, and when btBuffer are waiting.
func (t *tx) InsertBalanceTransaction(ctx context.Context, b *ledger.BalanceTransaction) error {
	if err := t.dueKnown(ctx); err != nil {
		return err
	}
	h := heldBT{b: *b, rate: rateText(b.ExchangeRate)}
	h.b.FeeDetails = nil
	if len(b.FeeDetails) > 0 {
		var err error
		if h.details, err = encodeFeeDetails(b.FeeDetails); err != nil {
			return err
		}
	}
	var err error
	if h.created, h.avail, err = storeTimes2("created", b.Created, "available_on", b.AvailableOn); err != nil {
		return err
	}
	if err := t.rememberDue(b, h.created, h.avail, h.rate); err != nil {
		return err
	}
	if t.bts.ids == nil {
		t.bts.ids = map[string]struct{}{}
	}
	t.bts.rows = append(t.bts.rows, h)
	t.bts.ids[b.ID] = struct{}{}
	if n := len(t.bts.rows); n >= btBuffer || n >= btChunk && !t.btsNew {
		return t.flushBTs(ctx)
	}
	return nil
}

// pendingBTs are balance transactions inserted and not yet written, and
// their ids.
type pendingBTs struct {
	rows []heldBT
	ids  map[string]struct{}
}

// heldBT is a balance transaction waiting in memory, with the columns
// InsertBalanceTransaction encoded: its fee details (JSON, "" for none),
// times and exchange rate. b.FeeDetails is not kept.
type heldBT struct {
	b              ledger.BalanceTransaction
	details, rate  string
	created, avail int64
}

func (p *pendingBTs) n() int { return len(p.rows) }

func (p *pendingBTs) reset() {
	p.rows = p.rows[:0]
	clear(p.ids)
}

// holdsAny reports whether any of cs changes a balance transaction
// waiting in memory.
func (p *pendingBTs) holdsAny(cs []ledger.SettlementChange) bool {
	if len(p.rows) == 0 {
		return false
	}
	for _, c := range cs {
		if _, ok := p.ids[c.ID]; ok {
			return true
		}
	}
	return false
}

// The columns a balance transaction's INSERTs write, in the order
// flushBTs packs them.
var (
	coreCols = []string{"id", "provider", "entry_id", "type", "reporting_category", "source_type", "source_id", "source_ref",
		"payment_id", "amount", "fee", "net", "fee_details", "description", "created", "presentment_amount",
		"presentment_currency", "exchange_rate", "settlement_estimated"}
	settleCols = []string{"id", "provider", "currency", "status", "available_on", "available_on_estimated", "payout_id",
		"payout_derived"}
)

// btChunk is how many balance transactions one INSERT writes; the values
// of that many rows of coreCols stay far below SQLite's limit on bound
// variables.
const btChunk = 128

// btBuffer is how many balance transactions a write transaction that
// found their tables empty (a month recorded into new books: btsNew) keeps
// in memory before writing them; others write them btChunk at a time, as
// a night's events into books that hold them are better written as they
// come (see heldpayments.go). Their ids are a provider's, in no order:
// written in the order of their ids, many at a time, they fill the ids'
// indexes (bt_core's, and bt_settlements, a table ordered by its id) a
// page at a time (BENCHMARKS.md, thirty-seventh round). A variable so
// that a test can make it small.
var btBuffer = 16384

// insertBTsSQL is the pair of INSERTs of n balance transactions.
func insertBTsSQL(n int) [2]string {
	insert := func(table string, cols []string) string {
		return `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) VALUES ` +
			tuples("("+placeholders(len(cols))+")", n)
	}
	return [2]string{insert("bt_core", coreCols), insert("bt_settlements", settleCols)}
}

// insertBTChunkSQL are the INSERTs of a full chunk, built once: nearly
// every statement of a flush writes one.
var insertBTChunkSQL = insertBTsSQL(btChunk)

// flushBTs writes the balance transactions waiting in memory, in the order
// of their ids, btChunk a statement.
func (t *tx) flushBTs(ctx context.Context) error {
	rows := t.bts.rows
	if len(rows) == 0 {
		return nil
	}
	// The rows are large: their order is sorted, not the rows.
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(rows[a].b.ID, rows[b].b.ID) })
	for start := 0; start < len(order); start += btChunk {
		chunk := order[start:min(start+btChunk, len(order))]
		q := insertBTChunkSQL
		if len(chunk) != btChunk {
			q = insertBTsSQL(len(chunk))
		}
		core, settle := t.laterChunkParams(), t.laterChunkParams()
		for _, i := range chunk {
			packBT(core, settle, &rows[i])
		}
		err := t.handOver(ctx, q[0], core, int64(len(chunk)))
		if err == nil {
			err = t.handOver(ctx, q[1], settle, int64(len(chunk)))
		}
		if err != nil {
			return translate(err)
		}
	}
	t.bts.reset()
	return nil
}

// packBT adds a held balance transaction's values for bt_core to core and
// for bt_settlements to settle, in the order of coreCols and settleCols.
func packBT(core, settle *params, h *heldBT) {
	b := &h.b
	p := core
	p.text(b.ID)
	p.text(b.Provider)
	p.int(b.EntryID)
	p.text(b.Type)
	p.text(b.ReportingCategory)
	p.text(b.SourceType)
	p.text(b.SourceID)
	p.text(b.SourceRef)
	p.text(b.PaymentID)
	p.int(b.Amount)
	p.int(b.Fee)
	p.int(b.Net)
	if h.details == "" {
		p.null()
	} else {
		p.text(h.details)
	}
	p.text(b.Description)
	p.int(h.created)
	p.int(b.PresentmentAmount)
	p.text(b.PresentmentCurrency)
	p.text(h.rate)
	p.bool(b.SettlementEstimated)
	p = settle
	p.text(b.ID)
	p.text(b.Provider)
	p.text(b.Currency)
	p.text(b.Status)
	p.int(h.avail)
	p.bool(b.AvailableOnEstimated)
	p.text(b.PayoutID)
	p.bool(b.PayoutDerived)
}

// UpdateBalanceTransaction rewrites a balance transaction's settlement figures and payout.
func (t *tx) UpdateBalanceTransaction(ctx context.Context, b *ledger.BalanceTransaction) error {
	t.dueOffNow() // not followed in memory
	details, err := feeDetails(b.FeeDetails)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `UPDATE bt_core SET amount = ?, fee = ?, net = ?, fee_details = ?,
		presentment_amount = ?, presentment_currency = ?, exchange_rate = ?, settlement_estimated = ? WHERE id = ?`,
		b.Amount, b.Fee, b.Net, details, b.PresentmentAmount, b.PresentmentCurrency, rateText(b.ExchangeRate),
		b.SettlementEstimated, b.ID)
	if err == nil {
		_, err = t.exec(ctx, `UPDATE bt_settlements SET currency = ?, payout_id = ? WHERE id = ?`, b.Currency, b.PayoutID, b.ID)
	}
	return translate(err)
}

func feeDetails(ds []ledger.FeeDetail) (any, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	js, err := json.Marshal(ds)
	if err != nil {
		return nil, err
	}
	return string(js), nil
}

func rateText(d decimal.Decimal) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// parseRate reads an exchange rate as rateText stored it: "" is none.
func parseRate(s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Decimal{}, nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("exchange rate %q: %w", s, err)
	}
	return d, nil
}

// SetBalanceTransactionStatus changes a balance transaction's status, as
// a settlement change.
func (t *tx) SetBalanceTransactionStatus(ctx context.Context, id, status string) error {
	return t.SetSettlements(ctx, []ledger.SettlementChange{{ID: id, Status: status, Changes: ledger.ChangesStatus}})
}

// autoPayoutsOf returns the automatic payouts of provider and currency in
// (created_at, id) order: read once per write transaction, which a feed
// asks for every balance transaction it books.
func (t *tx) autoPayoutsOf(ctx context.Context, provider, currency string) ([]payoutCutoff, error) {
	k := provCur{provider, currency}
	if ps, ok := t.autoPayouts[k]; ok {
		return ps, nil
	}
	rows, err := t.query(ctx, `SELECT created_at, id FROM payouts WHERE provider = ? AND currency = ? AND automatic = 1
		ORDER BY created_at, id`, provider, currency)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ps := []payoutCutoff{}
	for rows.Next() {
		var c payoutCutoff
		if err := rows.Scan(&c.at, &c.id); err != nil {
			return nil, err
		}
		ps = append(ps, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if t.write {
		if t.autoPayouts == nil {
			t.autoPayouts = map[provCur][]payoutCutoff{}
		}
		t.autoPayouts[k] = ps
	}
	return ps, nil
}

// AutomaticPayoutFor returns the first automatic payout at or after availableOn.
func (t *tx) AutomaticPayoutFor(ctx context.Context, provider, currency string, availableOn time.Time) (string, error) {
	ps, err := t.autoPayoutsOf(ctx, provider, currency)
	if err != nil {
		return "", err
	}
	at := ts(availableOn)
	i := sort.Search(len(ps), func(i int) bool { return ps[i].at >= at })
	if i == len(ps) {
		return "", nil
	}
	return ps[i].id, nil
}

// PreviousAutomaticPayout returns the time of the automatic payout before (at, id).
func (t *tx) PreviousAutomaticPayout(ctx context.Context, provider, currency string, at time.Time, id string) (time.Time, bool, error) {
	ps, err := t.autoPayoutsOf(ctx, provider, currency)
	if err != nil {
		return time.Time{}, false, err
	}
	n := ts(at)
	// The first payout at or after (at, id); the one before it is the answer.
	i := sort.Search(len(ps), func(i int) bool { return ps[i].at > n || (ps[i].at == n && ps[i].id >= id) })
	if i == 0 {
		return time.Time{}, false, nil
	}
	return fromTS(ps[i-1].at), true, nil
}

// AssignPayout sets the derived payout of the transactions in (after,
// through], behind (later.go): a payout's sweep hands over thousands of
// rows just before, and waiting for them here was most of a payout's time.
func (t *tx) AssignPayout(ctx context.Context, provider, currency string, after time.Time, open bool, through time.Time, payoutID string) error {
	q := updateBTs + ` SET payout_id = ? WHERE provider = ? AND currency = ? AND payout_derived = 1
		AND available_on <= ? AND payout_id <> ?`
	args := []any{payoutID, provider, currency, ts(through), payoutID}
	if !open {
		q += ` AND available_on > ?`
		args = append(args, ts(after))
	}
	if err := t.execArgsLater(ctx, q, args...); err != nil {
		return translate(err)
	}
	t.followAssignPayout(provider, currency, ts(after), open, ts(through), payoutID)
	return nil
}

// SetBalanceTransactionSettlement sets available_on, its estimate flag and
// the payout, as a settlement change.
func (t *tx) SetBalanceTransactionSettlement(ctx context.Context, id string, availableOn time.Time, estimated bool, payoutID string) error {
	return t.SetSettlements(ctx, []ledger.SettlementChange{{ID: id, AvailableOn: availableOn, Estimated: estimated,
		PayoutID: payoutID, Changes: ledger.ChangesDate | ledger.ChangesPayout}})
}

// DueBalanceTransactions lists pending balance transactions now due.
func (t *tx) DueBalanceTransactions(ctx context.Context, asOf time.Time, provider, currency string) ([]ledger.BalanceTransaction, error) {
	if err := t.dueKnown(ctx); err != nil {
		return nil, err
	}
	if t.due.state == dueOn {
		due := t.dueFromMemory(ts(asOf), provider, currency)
		if dueAnswered != nil {
			if err := dueAnswered(ctx, t, due, asOf, provider, currency); err != nil {
				return nil, err
			}
		}
		return due, nil
	}
	return t.dueFromSQLite(ctx, asOf, provider, currency)
}

// dueFromSQLite reads the pending balance transactions due.
func (t *tx) dueFromSQLite(ctx context.Context, asOf time.Time, provider, currency string) ([]ledger.BalanceTransaction, error) {
	if err := t.restoreDropped(ctx, &t.dueIdx); err != nil {
		return nil, err
	}
	return t.dueStored(ctx, asOf, provider, currency)
}

// dueStored reads the pending balance transactions due, by the index of
// pending settlements when it is there.
func (t *tx) dueStored(ctx context.Context, asOf time.Time, provider, currency string) ([]ledger.BalanceTransaction, error) {
	// Selected in bt_settlements, by its index of pending settlements.
	where, args := `s.status = 'pending'`, []any{}
	if provider != "" {
		where, args = where+` AND s.provider = ?`, append(args, provider)
	}
	if currency != "" {
		where, args = where+` AND s.currency = ?`, append(args, currency)
	}
	rows, err := t.rows(ctx, `SELECT `+btCols+` FROM `+btFrom+` WHERE `+where+` AND s.available_on <= ? ORDER BY s.available_on, s.id`,
		append(args, ts(asOf))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// A payout's sweep reads a day or more of transactions: they are
	// scanned in place into blocks, then copied once into a slice of the
	// right size, rather than each allocated and the slice grown by
	// copying them all again (a quarter of the sweep's read at a million).
	var blocks [][]ledger.BalanceTransaction
	var block []ledger.BalanceTransaction
	for rows.Next() {
		if len(block) == cap(block) {
			if block != nil {
				blocks = append(blocks, block)
			}
			block = make([]ledger.BalanceTransaction, 0, 256)
		}
		block = block[:len(block)+1]
		if err := scanBTInto(rows, &block[len(block)-1]); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return block, nil // one block, the usual nightly: nothing to join
	}
	return slices.Concat(append(blocks, block)...), nil
}

// EachBalanceTransaction streams balance transactions.
func (t *tx) EachBalanceTransaction(ctx context.Context, f ledger.BTFilter, fn func(*ledger.BalanceTransaction) error) error {
	if f.Provider == "" && f.PayoutID == "" && f.SourceType == "" {
		// In time order across providers: each provider's in the order
		// of its index, merged. SQLite's own plan sorted every row of the
		// two tables joined, a sort that spilled to temporary files (the
		// balance-transactions report of a month of a million payments:
		// 5.8 s, 3.6 s by the index).
		providers, err := t.btProviders(ctx)
		if err != nil || len(providers) == 0 {
			return err
		}
		if len(providers) > 1 {
			return t.mergeBTs(ctx, f, providers, fn)
		}
		f.Provider = providers[0]
	}
	from, where, args := btWhere(f)
	return t.eachBTFrom(ctx, from, where+" ORDER BY b.created, b.id", args, fn)
}

// btProviders returns the providers of the balance transactions, in order,
// each found by one step in the index bt_provider_created.
func (t *tx) btProviders(ctx context.Context) ([]string, error) {
	var out []string
	for p := ""; ; {
		err := t.queryRow(ctx, `SELECT provider FROM bt_core WHERE provider > ? ORDER BY provider LIMIT 1`, p).Scan(&p)
		if errors.Is(err, sql.ErrNoRows) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
}

// mergeBTs passes fn the balance transactions of every provider that f
// (without a provider) selects, in (created, id) order: one query for each
// provider, in the order of its index, merged.
func (t *tx) mergeBTs(ctx context.Context, f ledger.BTFilter, providers []string, fn func(*ledger.BalanceTransaction) error) error {
	type cursor struct {
		rows rowSource
		cur  *ledger.BalanceTransaction
	}
	cursors := make([]*cursor, 0, len(providers))
	defer func() {
		for _, c := range cursors {
			c.rows.Close()
		}
	}()
	next := func(c *cursor) error {
		c.cur = nil
		if !c.rows.Next() {
			return c.rows.Err()
		}
		var err error
		c.cur, err = scanBT(c.rows)
		return err
	}
	for _, p := range providers {
		f.Provider = p
		from, where, args := btWhere(f)
		rows, err := t.rows(ctx, `SELECT `+btCols+` FROM `+from+` WHERE `+where+` ORDER BY b.created, b.id`, args...)
		if err != nil {
			return err
		}
		c := &cursor{rows: rows}
		cursors = append(cursors, c)
		if err := next(c); err != nil {
			return err
		}
	}
	for {
		var first *cursor
		for _, c := range cursors {
			if c.cur != nil && (first == nil || c.cur.Created.Before(first.cur.Created) ||
				c.cur.Created.Equal(first.cur.Created) && c.cur.ID < first.cur.ID) {
				first = c
			}
		}
		if first == nil {
			return nil
		}
		if err := fn(first.cur); err != nil {
			return err
		}
		if err := next(first); err != nil {
			return err
		}
	}
}

func (t *tx) eachBTFrom(ctx context.Context, from, where string, args []any, fn func(*ledger.BalanceTransaction) error) error {
	rows, err := t.rows(ctx, `SELECT `+btCols+` FROM `+from+` WHERE `+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		b, err := scanBT(rows)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return rows.Err()
}
