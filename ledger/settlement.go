package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
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
	return tx.AssignPayout(ctx, po.Provider, po.Currency, prev, !ok, po.CreatedAt, po.ID)
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
		// One change for each adoption, nearly: a first run adopts
		// hundreds of thousands, and a slice grown as it goes copies them
		// all again and again.
		out = make([]SettlementChange, 0, len(adoptions))
		closed, err := tx.ClosedThrough(ctx)
		if err != nil {
			return err
		}
		cs := corrections{}
		var chunks [][]Adoption
		for start := 0; start < len(adoptions); start += adoptionChunk {
			chunks = append(chunks, adoptions[start:min(start+adoptionChunk, len(adoptions))])
		}
		// The funds moved are added up over every chunk and booked once
		// at the end, so that where a chunk ends does not change the
		// entries.
		var moves fundsMoves
		err = readingAhead(ctx, tx, chunks, func(chunk []Adoption, rd *adoptionReads) error {
			out, err = l.adoptChunk(ctx, tx, chunk, rd, asOf, closed, cs, &moves, out)
			return err
		})
		if err != nil {
			return err
		}
		return l.insertMany(ctx, tx, moves.entries(l, asOf, closed), closed)
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

// adoptionReads is what adopting a chunk reads before it writes: the
// balance transactions of its adoptions, and which of the keys of their
// availability entries are stored.
type adoptionReads struct {
	bts  map[string]*BalanceTransaction
	made map[string]bool
	// written are the transactions adopting the chunk changed (its own
	// and the corrections that follow them), set by adoptChunk.
	written []string
}

// readAdoptions reads what adopting a chunk needs, through r.
func readAdoptions(ctx context.Context, r ReadTx, adoptions []Adoption) (*adoptionReads, error) {
	ids := make([]string, 0, len(adoptions))
	for _, a := range adoptions {
		if !a.AvailableOn.IsZero() {
			ids = append(ids, a.BalanceTransactionID)
		}
	}
	bts, err := r.BalanceTransactionsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	made, err := r.StoredEntryKeys(ctx, availabilityKeys(adoptions, bts))
	if err != nil {
		return nil, err
	}
	return &adoptionReads{bts: bts, made: made}, nil
}

// availabilityKeys are the keys under which the entries that made the
// adopted transactions available may be stored: those entries are what an
// adoption moves.
func availabilityKeys(adoptions []Adoption, bts map[string]*BalanceTransaction) []string {
	keys := make([]string, 0, 2*len(adoptions))
	for _, a := range adoptions {
		bt := bts[a.BalanceTransactionID]
		if bt != nil && !a.AvailableOn.IsZero() && bt.Status == BTAvailable && bt.Net != 0 && !sweptTogether(bt) {
			keys = append(keys, availabilityKey(bt.ID, bt.AvailableOn), "available:"+bt.ID)
		}
	}
	return keys
}

// readingAhead calls adopt with each chunk and what it reads. Where tx can
// read its base (BaseReader), the chunks are read on another connection,
// one chunk ahead of the writes, so that a first run's reads and writes
// share the CPUs of a small machine; otherwise each chunk is read through
// tx before it is adopted.
//
// A read ahead sees the transaction as it began. That is right for every
// transaction the chunks before did not change; those they changed (one
// adopted twice, a correction that follows the transaction it corrects)
// are read again through tx, with their availability keys.
func readingAhead(ctx context.Context, tx Tx, chunks [][]Adoption, adopt func([]Adoption, *adoptionReads) error) error {
	br, ok := tx.(BaseReader)
	if !ok || len(chunks) < 2 {
		return adoptInTurn(ctx, tx, chunks, adopt)
	}
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ahead := make(chan *adoptionReads, 1)
	done := make(chan error, 1)
	go func() {
		defer close(ahead)
		done <- br.ReadBase(readCtx, func(r ReadTx) error {
			for _, chunk := range chunks {
				rd, err := readAdoptions(readCtx, r, chunk)
				if err != nil {
					return err
				}
				select {
				case ahead <- rd:
				case <-readCtx.Done():
					return nil // the writes stopped early
				}
			}
			return nil
		})
	}()
	// wait waits for the reads to end: they must not outlive tx.
	wait := func() error {
		for range ahead {
		}
		return <-done
	}
	// The transactions the chunks so far changed. Their ids are copied:
	// an id as read shares its memory with the rest of its row.
	changed := map[string]bool{}
	for i, chunk := range chunks {
		rd, ok := <-ahead
		if !ok {
			err := <-done
			if errors.Is(err, ErrNoBaseReader) && i == 0 {
				return adoptInTurn(ctx, tx, chunks, adopt)
			}
			if err == nil {
				err = errors.New("the reads ended early")
			}
			return fmt.Errorf("reading ahead: %w", err)
		}
		err := rd.refresh(ctx, tx, chunk, changed)
		if err == nil {
			err = adopt(chunk, rd)
		}
		if err != nil {
			// The writes' error is the one to report; the reads are
			// cancelled.
			cancel()
			wait()
			return err
		}
		for _, id := range rd.written {
			changed[strings.Clone(id)] = true
		}
	}
	if err := wait(); err != nil {
		return fmt.Errorf("reading ahead: %w", err)
	}
	return nil
}

// adoptInTurn reads each chunk through tx, then adopts it.
func adoptInTurn(ctx context.Context, tx Tx, chunks [][]Adoption, adopt func([]Adoption, *adoptionReads) error) error {
	for _, chunk := range chunks {
		rd, err := readAdoptions(ctx, tx, chunk)
		if err != nil {
			return err
		}
		if err := adopt(chunk, rd); err != nil {
			return err
		}
	}
	return nil
}

// refresh reads again, through tx, the transactions of the chunk that the
// chunks before it changed, and their availability keys: the read ahead
// saw them as they were. Nothing the read ahead found is gone since (a
// transaction or an entry is never deleted), so what is read again is
// added to it.
func (rd *adoptionReads) refresh(ctx context.Context, tx Tx, chunk []Adoption, changed map[string]bool) error {
	var stale []Adoption
	for _, a := range chunk {
		if !a.AvailableOn.IsZero() && changed[a.BalanceTransactionID] {
			stale = append(stale, a)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	now, err := readAdoptions(ctx, tx, stale)
	if err != nil {
		return err
	}
	maps.Copy(rd.bts, now.bts)
	maps.Copy(rd.made, now.made)
	return nil
}

// adoptChunk adopts the dates of one chunk, with what was read for it, and
// appends the settlements of the transactions it changed to out.
func (l *Ledger) adoptChunk(ctx context.Context, tx Tx, adoptions []Adoption, rd *adoptionReads, asOf, closed time.Time,
	cs corrections, moves *fundsMoves, out []SettlementChange) ([]SettlementChange, error) {
	bts, made := rd.bts, rd.made
	ad := adopting{tx: tx, moves: moves, asOf: asOf, closed: closed, made: made, cs: cs, seen: make(map[string]bool, len(adoptions)),
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
	if err := tx.SetSettlements(ctx, ad.written()); err != nil {
		return nil, err
	}
	for _, c := range ad.changes {
		rd.written = append(rd.written, c.ID)
	}
	for _, id := range ad.order {
		bt := bts[id]
		out = append(out, SettlementChange{ID: bt.ID, AvailableOn: bt.AvailableOn, Estimated: bt.AvailableOnEstimated,
			PayoutID: bt.PayoutID, Status: bt.Status})
	}
	return out, nil
}

// adopting works out one chunk of AdoptDates: the funds it moves between
// pending and available (added to moves, booked once the whole adoption
// has been worked out) and the settlement changes, written in bulk at the
// chunk's end.
type adopting struct {
	tx           Tx
	asOf, closed time.Time
	made         map[string]bool // which keys of the chunk's availability entries are stored (adoptionReads)
	cs           corrections
	moves        *fundsMoves // what the adoptions move, added up
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
		// entry to move; the others moved their funds when booked. A
		// capture's charge always did (sweptTogether); any other has an
		// entry of its own, with the transaction's source.
		if sweptTogether(bt) || ad.made[availabilityKey(bt.ID, bt.AvailableOn)] || ad.made["available:"+bt.ID] {
			ad.moves.add(true, bt, from, to)
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
		ad.moves.add(false, bt, to, to)
		bt.Status = BTAvailable
	}
	ad.changes = append(ad.changes, SettlementChange{ID: bt.ID, AvailableOn: to, PayoutID: bt.PayoutID, Status: bt.Status})
	if !ad.seen[bt.ID] {
		ad.seen[bt.ID] = true
		ad.order = append(ad.order, bt.ID)
	}
	return nil
}

// fundsMoves adds up what an adoption, or a sweep of captures' charges
// (sweptTogether), moves between pending and available funds: one entry
// for each provider, currency, direction and date, not one for each
// transaction. A first reconciliation moves
// hundreds of thousands of transactions over a few dozen dates, and an
// entry for each was a third of its adopt step's time (BENCHMARKS.md,
// sixteenth round). A move of one transaction is booked as it always was, with that
// transaction's key, description and source; nothing looks a moved
// transaction's entry up by its key afterwards, since an adopted date is
// told and is never adopted again.
type fundsMoves struct {
	index map[fundsMoveKey]int
	moves []fundsMove // in the order first met
	// sweep: the moves are a sweep's (makeAvailable), of funds due on
	// their dates, not an adoption's of a provider's dates.
	sweep bool
}

type fundsMoveKey struct {
	undo               bool // back to pending (the estimate was too early), or available
	provider, currency string
	at                 time.Time // the date moved: the estimate undone, or the provider's date
}

type fundsMove struct {
	fundsMoveKey
	// first is the first transaction moved, which names the entry: its
	// id, provider, currency and source, copied (a transaction as read
	// shares its memory with the rest of its chunk).
	first BalanceTransaction
	to    time.Time // the first transaction's provider's date
	net   int64
	count int
}

// add notes that bt's net moves: back to pending at its estimate at when
// undo, else to available at the provider's date at; to is the provider's
// date.
func (m *fundsMoves) add(undo bool, bt *BalanceTransaction, at, to time.Time) {
	if bt.Net == 0 {
		return
	}
	k := fundsMoveKey{undo: undo, provider: bt.Provider, currency: bt.Currency, at: at}
	i, ok := m.index[k]
	if !ok {
		if m.index == nil {
			m.index = map[fundsMoveKey]int{}
		}
		i = len(m.moves)
		m.index[k] = i
		first := BalanceTransaction{ID: strings.Clone(bt.ID), Provider: strings.Clone(bt.Provider), Currency: strings.Clone(bt.Currency),
			SourceType: strings.Clone(bt.SourceType), SourceID: strings.Clone(bt.SourceID), SourceRef: strings.Clone(bt.SourceRef)}
		m.moves = append(m.moves, fundsMove{fundsMoveKey: k, first: first, to: to})
	}
	m.moves[i].net += bt.Net
	m.moves[i].count++
}

// entries are the moves' entries, dated as the adoption at asOf dates them
// with the books closed through closed: a move of one transaction is that
// transaction's entry (availability, unavailability); a move of several is
// that entry for all of their net, keyed by the first transaction and
// their count (each transaction's date is adopted once, so no other move
// starts with it) and sourced to the provider.
func (m *fundsMoves) entries(l *Ledger, asOf, closed time.Time) []*Entry {
	es := make([]*Entry, 0, len(m.moves))
	for _, mv := range m.moves {
		bt := mv.first
		bt.Net, bt.AvailableOn = mv.net, mv.at
		var e *Entry
		if mv.undo {
			e = l.unavailability(bt, mv.to, asOf, closed)
		} else {
			e = l.availability(bt, asOf, closed)
		}
		if e == nil {
			continue // the transactions' nets added up to nothing
		}
		if mv.count > 1 {
			n := strconv.Itoa(mv.count)
			e.Key += "+" + n
			e.Source = Source{Provider: mv.provider}
			switch {
			case m.sweep:
				e.Description = "Funds of " + n + " balance transactions available on " + mv.at.UTC().Format(time.DateOnly)
			case mv.undo:
				e.Description = "Funds of " + n + " balance transactions not yet available (their provider's dates replace the estimate of " +
					mv.at.UTC().Format(time.DateOnly) + ")"
			default:
				e.Description = "Funds of " + n + " balance transactions available (their provider's date " + mv.at.UTC().Format(time.DateOnly) + ")"
			}
		}
		es = append(es, e)
	}
	return es
}

// unavailability is the entry that takes back bt's funds made available at
// its estimate (bt.AvailableOn), the provider's date being to: nil when its
// net is zero.
func (l *Ledger) unavailability(bt BalanceTransaction, to, asOf, closed time.Time) *Entry {
	if bt.Net == 0 {
		return nil
	}
	return &Entry{Key: "unavailable:" + bt.ID + "@" + stamp(bt.AvailableOn), Phase: Posted,
		OccurredAt:  datedOpen(bt.AvailableOn, closed, asOf),
		Description: "Funds of " + bt.ID + " not yet available (provider's date " + to.Format(time.DateOnly) + ")",
		Source:      btSource(&bt),
		Postings: []Posting{
			{Account: fill(l.chart.Pending, bt.Provider, ""), Currency: bt.Currency, Amount: bt.Net},
			{Account: fill(l.chart.Available, bt.Provider, ""), Currency: bt.Currency, Amount: -bt.Net},
		}}
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
