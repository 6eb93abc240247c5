package ledger

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Settlement facts — when funds become available and which payout they go
// into — are the provider's to tell. The ledger estimates them where it was
// not told (a default delay for a capture, the transaction's own time for a
// refund) and keeps, per balance transaction, which values are estimates so
// that reconciliation can adopt the provider's facts instead of raising them.
//
// Payout composition is derived, never recorded in the order events arrive:
// a balance transaction whose payout is not told belongs to the first
// automatic payout of its provider and currency, in (cutoff, id) order,
// whose cutoff (the payout's time) is at or after its available_on. Every
// write that could change that answer (a new transaction, a new automatic
// payout, an adopted available_on) re-derives what it touches, so the books
// are the same whatever order their events were recorded in. Verify checks
// the rule over the whole database.

// putBT derives bt's payout when it is not told, then stores it.
func (l *Ledger) putBT(ctx context.Context, tx Tx, bt *BalanceTransaction) error {
	if bt.PayoutID == "" && sweepable(bt.Type) {
		id, err := tx.AutomaticPayoutFor(ctx, bt.Provider, bt.Currency, bt.AvailableOn)
		if err != nil {
			return err
		}
		bt.PayoutID, bt.PayoutDerived = id, true
	}
	return tx.InsertBalanceTransaction(ctx, bt)
}

// sweepable reports whether a balance transaction of this type can go into
// a payout: everything but the payouts themselves. A failed payout's funds
// return to the balance and go out with the next automatic payout.
func sweepable(typ string) bool {
	return typ != "payout"
}

// claimComposition gives an automatic payout the balance transactions it
// holds: those whose payout is derived and whose available_on lies after the
// previous automatic payout's cutoff and at or before this one's.
func claimComposition(ctx context.Context, tx Tx, po *Payout) error {
	prev, ok, err := tx.PreviousAutomaticPayout(ctx, po.Provider, po.Currency, po.CreatedAt, po.ID)
	if err != nil {
		return err
	}
	if !ok {
		prev = time.Time{}
	}
	_, err = tx.AssignPayout(ctx, po.Provider, po.Currency, prev, !ok, po.CreatedAt, po.ID)
	return err
}

// Adoption is a settlement fact a provider reported for a balance
// transaction whose ledger value was an estimate.
type Adoption struct {
	BalanceTransactionID string
	AvailableOn          time.Time
}

// AdoptAvailableOn replaces estimated available_on dates with the
// provider's, in one transaction, as of asOf:
//   - the date becomes told, and the derived payout follows it;
//   - a transaction still pending is made available now if the new date
//     has come (dated at the new date), or waits for it;
//   - a transaction already made available at the estimate is moved: an
//     entry dated at the estimate undoes the availability, and a new one is
//     booked at the new date if it has come (or the transaction is pending
//     again until then). Dates inside a closed period move to asOf.
//
// It returns how many transactions changed. A transaction whose date was
// told, not estimated, is refused with ErrInvalidRequest: a told date that
// differs is a real mismatch for a person to look at.
func (l *Ledger) AdoptAvailableOn(ctx context.Context, adoptions []Adoption, asOf time.Time) (int, error) {
	changed, err := l.AdoptDates(ctx, adoptions, asOf)
	return len(changed), err
}

// AdoptDates is AdoptAvailableOn returning the settlements it changed, as
// they now stand, in the order of adoptions: a reconciliation run matches
// again on what it loaded, patched, without reading the whole ledger
// again. A first run adopts a date for nearly every charge, so the work is
// done in bulk, adoptionChunk adoptions at a time: their transactions and
// availability entries are read in a few queries, the entries booked
// through InsertEntries and the settlements written with SetSettlements.
func (l *Ledger) AdoptDates(ctx context.Context, adoptions []Adoption, asOf time.Time) ([]SettlementChange, error) {
	asOf = asOf.UTC()
	var out []SettlementChange
	err := l.store.Update(ctx, func(tx Tx) error {
		// What each chunk reads is read ahead, on another connection, while
		// the chunk before is written (see readAhead); first, before this
		// transaction writes anything.
		ahead, stop, err := readAhead(ctx, tx, adoptions)
		if err != nil {
			return err
		}
		defer stop()
		// One change for each adoption, nearly: a first run adopts
		// hundreds of thousands, and a slice grown as it goes copies them
		// all again and again.
		out = make([]SettlementChange, 0, len(adoptions))
		closed, err := tx.ClosedThrough(ctx)
		if err != nil {
			return err
		}
		cs := corrections{}
		for start := 0; start < len(adoptions); start += adoptionChunk {
			chunk := adoptions[start:min(start+adoptionChunk, len(adoptions))]
			var read adoptionReads
			if ahead != nil {
				read = <-ahead
				if read.err == nil {
					read.err = read.refresh(ctx, tx)
				}
			} else {
				read = readAdoptions(ctx, tx, chunk)
			}
			if read.err != nil {
				return read.err
			}
			if out, err = l.adoptChunk(ctx, tx, chunk, read, asOf, closed, cs, out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// adoptionChunk is how many adoptions AdoptDates works out and writes at a
// time, so that its memory does not grow with a first run's million. A
// variable so that a test can make chunks of a few.
var adoptionChunk = 4096

// readAheadOff makes AdoptDates read every chunk in its transaction, for
// a test to compare with.
var readAheadOff = false

// adoptionReads is what one chunk of adoptions reads: the transactions
// adopted and which of their availability entries are stored.
type adoptionReads struct {
	bts  map[string]*BalanceTransaction
	made map[string]bool
	err  error
}

// readAdoptions reads what a chunk of adoptions needs: their balance
// transactions and, for those whose funds an entry made available, the keys
// of the entries that could have.
func readAdoptions(ctx context.Context, rt ReadTx, adoptions []Adoption) adoptionReads {
	ids := make([]string, 0, len(adoptions))
	for _, a := range adoptions {
		if !a.AvailableOn.IsZero() {
			ids = append(ids, a.BalanceTransactionID)
		}
	}
	bts, err := rt.BalanceTransactionsByID(ctx, ids)
	if err != nil {
		return adoptionReads{err: err}
	}
	made, err := rt.StoredEntryKeys(ctx, availabilityKeys(bts, ids))
	return adoptionReads{bts: bts, made: made, err: err}
}

// availabilityKeys are the keys of the entries that could have made the
// transactions of ids available, if they are.
func availabilityKeys(bts map[string]*BalanceTransaction, ids []string) []string {
	keys := make([]string, 0, 2*len(ids))
	for _, id := range ids {
		if bt := bts[id]; bt != nil && bt.Status == BTAvailable && bt.Net != 0 {
			keys = append(keys, availabilityKey(bt.ID, bt.AvailableOn), "available:"+bt.ID)
		}
	}
	return keys
}

// refresh reads again, in tx, the corrections among transactions read
// ahead: adopting the transaction a correction corrects moves it too, so an
// earlier chunk may have changed it. No other transaction read ahead can
// have changed: readAhead reads ahead only when no transaction is adopted
// twice, and each chunk writes only its own transactions, their
// corrections and their availability entries.
func (r *adoptionReads) refresh(ctx context.Context, tx Tx) error {
	var ids []string
	for id, bt := range r.bts {
		if bt.SourceType == SourceCorrection {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	bts, err := tx.BalanceTransactionsByID(ctx, ids)
	if err != nil {
		return err
	}
	made, err := tx.StoredEntryKeys(ctx, availabilityKeys(bts, ids))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if bt := r.bts[id]; bt != nil && bt.Status == BTAvailable && bt.Net != 0 {
			delete(r.made, availabilityKey(bt.ID, bt.AvailableOn))
			delete(r.made, "available:"+bt.ID)
		}
		if bt, ok := bts[id]; ok {
			r.bts[id] = bt
		} else {
			delete(r.bts, id)
		}
	}
	for k, v := range made {
		r.made[k] = v
	}
	return nil
}

// readAhead starts reading, chunk by chunk, what the chunks of adoptions
// need, on a snapshot of the database as tx found it (Snapshotter), so
// that one CPU reads the next chunk while the other writes this one. It
// returns a nil channel when the reads must stay in tx: the store gives no
// snapshot, there is one chunk only, or a transaction is adopted twice (a
// later chunk would read it as it was before an earlier one moved it).
// stop ends the reading; it is safe to call before the channel is drained.
func readAhead(ctx context.Context, tx Tx, adoptions []Adoption) (<-chan adoptionReads, func(), error) {
	none := func() {}
	sn, ok := tx.(Snapshotter)
	if !ok || readAheadOff || len(adoptions) <= adoptionChunk {
		return nil, none, nil
	}
	ids := make(map[string]bool, len(adoptions))
	for _, a := range adoptions {
		if ids[a.BalanceTransactionID] {
			return nil, none, nil
		}
		ids[a.BalanceTransactionID] = true
	}
	rt, closeRead, err := sn.Snapshot(ctx)
	if err != nil || rt == nil {
		return nil, none, err
	}
	// Two chunks waiting at most: enough to keep the writer busy, and the
	// memory of a few thousand transactions.
	ch := make(chan adoptionReads, 2)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for start := 0; start < len(adoptions); start += adoptionChunk {
			r := readAdoptions(ctx, rt, adoptions[start:min(start+adoptionChunk, len(adoptions))])
			select {
			case ch <- r:
			case <-done:
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	stop := func() {
		close(done)
		<-finished
		closeRead()
	}
	return ch, stop, nil
}

// adoptChunk adopts the dates of one chunk, with what was read for it, and
// appends the settlements of the transactions it changed to out.
func (l *Ledger) adoptChunk(ctx context.Context, tx Tx, adoptions []Adoption, read adoptionReads, asOf, closed time.Time,
	cs corrections, out []SettlementChange) ([]SettlementChange, error) {
	bts := read.bts
	ad := adopting{l: l, tx: tx, asOf: asOf, closed: closed, made: read.made, cs: cs, seen: make(map[string]bool, len(adoptions)),
		stored: make(map[string]SettlementChange, len(adoptions)), changes: make([]SettlementChange, 0, len(adoptions)),
		order: make([]string, 0, len(adoptions))}
	for _, a := range adoptions {
		if a.AvailableOn.IsZero() {
			continue
		}
		bt := bts[a.BalanceTransactionID]
		if bt == nil {
			return nil, fmt.Errorf("adopting available_on of %s: balance transaction %q: %w", a.BalanceTransactionID,
				a.BalanceTransactionID, ErrNotFound)
		}
		if err := ad.adopt(ctx, bt, a.AvailableOn.UTC()); err != nil {
			return nil, fmt.Errorf("adopting available_on of %s: %w", a.BalanceTransactionID, err)
		}
	}
	if err := l.insertMany(ctx, tx, ad.entries, closed); err != nil {
		return nil, err
	}
	if err := tx.SetSettlements(ctx, ad.written()); err != nil {
		return nil, err
	}
	for _, id := range ad.order {
		bt := bts[id]
		out = append(out, SettlementChange{ID: bt.ID, AvailableOn: bt.AvailableOn, Estimated: bt.AvailableOnEstimated,
			PayoutID: bt.PayoutID, Status: bt.Status})
	}
	return out, nil
}

// adopting collects what AdoptDates books: the entries that move funds
// between pending and available, and the settlement changes, written in
// bulk once every adoption has been worked out.
type adopting struct {
	l            *Ledger
	tx           Tx
	asOf, closed time.Time
	made         map[string]bool // the keys of availability entries, with those booked here
	cs           corrections
	entries      []*Entry
	changes      []SettlementChange
	order        []string        // the adopted transactions, in order, once each
	seen         map[string]bool // in order
	// stored is the settlement of each transaction changed, as the
	// database holds it: what each change is compared with.
	stored map[string]SettlementChange
}

// keep notes bt's settlement as stored, before the first change to it.
func (ad *adopting) keep(bt *BalanceTransaction) {
	if _, ok := ad.stored[bt.ID]; !ok {
		ad.stored[bt.ID] = SettlementChange{ID: bt.ID, AvailableOn: bt.AvailableOn, Estimated: bt.AvailableOnEstimated,
			PayoutID: bt.PayoutID, Status: bt.Status}
	}
}

// written is the last change of each transaction, in order, naming the
// values that differ from the stored ones; a transaction that ends as it
// was stored is left out.
func (ad *adopting) written() []SettlementChange {
	cs := lastOf(ad.changes)
	out := make([]SettlementChange, 0, len(cs))
	for _, c := range cs {
		was := ad.stored[c.ID]
		var f SettlementFields
		if !c.AvailableOn.Equal(was.AvailableOn) || c.Estimated != was.Estimated {
			f |= ChangesDate
		}
		if c.PayoutID != was.PayoutID {
			f |= ChangesPayout
		}
		if c.Status != was.Status {
			f |= ChangesStatus
		}
		if f != 0 {
			c.Changes = f
			out = append(out, c)
		}
	}
	return out
}

func (ad *adopting) adopt(ctx context.Context, bt *BalanceTransaction, to time.Time) error {
	l := ad.l
	if to.IsZero() || to.Equal(bt.AvailableOn) {
		return nil
	}
	if !bt.AvailableOnEstimated {
		return fmt.Errorf("%w: its available_on was told, not estimated", ErrInvalidRequest)
	}
	ad.keep(bt)
	from := bt.AvailableOn
	if bt.Status == BTAvailable && bt.Net != 0 {
		// Only a transaction that went through pending has an availability
		// entry to move; the others moved their funds when booked.
		// The entry that made it available has the transaction's source.
		if ad.made[availabilityKey(bt.ID, bt.AvailableOn)] || ad.made["available:"+bt.ID] {
			ad.entries = append(ad.entries, &Entry{Key: "unavailable:" + bt.ID + "@" + stamp(from), Phase: Posted,
				OccurredAt:  datedOpen(from, ad.closed, ad.asOf),
				Description: "Funds of " + bt.ID + " not yet available (provider's date " + to.Format(time.DateOnly) + ")",
				Source:      btSource(bt),
				Postings: []Posting{
					{Account: fill(l.chart.Pending, bt.Provider, ""), Currency: bt.Currency, Amount: bt.Net},
					{Account: fill(l.chart.Available, bt.Provider, ""), Currency: bt.Currency, Amount: -bt.Net},
				}})
			bt.Status = BTPending
		}
	}
	bt.AvailableOn, bt.AvailableOnEstimated = to, false
	if bt.PayoutDerived {
		var err error
		if bt.PayoutID, err = ad.tx.AutomaticPayoutFor(ctx, bt.Provider, bt.Currency, to); err != nil {
			return err
		}
	}
	// A correction follows the transaction it corrects.
	cors, err := ad.cs.of(ctx, ad.tx, bt.Provider, bt.ID)
	if err != nil {
		return err
	}
	for _, c := range cors {
		ad.keep(c)
		if c.PayoutDerived {
			c.PayoutID = bt.PayoutID
		}
		c.AvailableOn, c.AvailableOnEstimated = to, false
		ad.changes = append(ad.changes, SettlementChange{ID: c.ID, AvailableOn: to, PayoutID: c.PayoutID, Status: c.Status})
	}
	if bt.Status == BTPending && !to.After(ad.asOf) {
		if e := l.availability(*bt, ad.asOf, ad.closed); e != nil {
			ad.entries = append(ad.entries, e)
			ad.made[e.Key] = true
		}
		bt.Status = BTAvailable
	}
	ad.changes = append(ad.changes, SettlementChange{ID: bt.ID, AvailableOn: to, PayoutID: bt.PayoutID, Status: bt.Status})
	if !ad.seen[bt.ID] {
		ad.seen[bt.ID] = true
		ad.order = append(ad.order, bt.ID)
	}
	return nil
}

// availabilityKey is the idempotency key of the entry that makes a balance
// transaction available on a date; a moved date gets a new entry.
func availabilityKey(btID string, on time.Time) string {
	return "available:" + btID + "@" + stamp(on)
}

func stamp(t time.Time) string { return strconv.FormatInt(t.UTC().Unix(), 10) }

// FirstOpen returns t, or, when t lies in the period closed through closed,
// the start of the first whole day after it: where an entry that belongs
// at t is dated when its own date can no longer be written.
func FirstOpen(t, closed time.Time) time.Time {
	if closed.IsZero() || t.After(closed) {
		return t
	}
	next := closed.Add(time.Nanosecond)
	day := next.Truncate(24 * time.Hour)
	if day.Before(next) {
		day = day.Add(24 * time.Hour)
	}
	return day
}

// lastOf keeps the last change of each balance transaction, in order: one
// UPDATE must not name a row twice.
func lastOf(cs []SettlementChange) []SettlementChange {
	last := make(map[string]int, len(cs))
	for i, c := range cs {
		last[c.ID] = i
	}
	if len(last) == len(cs) {
		return cs
	}
	out := make([]SettlementChange, 0, len(last))
	for i, c := range cs {
		if last[c.ID] == i {
			out = append(out, c)
		}
	}
	return out
}

// corrections are the correction balance transactions of each provider,
// by the id of the transaction they correct: read once per adoption batch
// rather than once per adopted transaction. Adopting creates none.
type corrections map[string]map[string][]*BalanceTransaction

func (cs corrections) of(ctx context.Context, tx Tx, provider, btID string) ([]*BalanceTransaction, error) {
	byID, ok := cs[provider]
	if !ok {
		byID = map[string][]*BalanceTransaction{}
		err := tx.EachBalanceTransaction(ctx, BTFilter{Provider: provider, SourceType: SourceCorrection}, func(c *BalanceTransaction) error {
			byID[c.SourceID] = append(byID[c.SourceID], c)
			return nil
		})
		if err != nil {
			return nil, err
		}
		cs[provider] = byID
	}
	return byID[btID], nil
}
