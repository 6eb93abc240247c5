package ledger

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PostEntry posts one balanced journal entry (or, with in.Pending, a pending
// one). Replaying the same input under the same key returns the original
// entry; a different input under that key is ErrIdempotencyConflict.
//
// An entry that moves a provider balance (an account of the chart's
// Available or Pending form) also produces an adjustment balance
// transaction per provider and currency.
func (l *Ledger) PostEntry(ctx context.Context, in EntryInput) (*Entry, error) {
	out, err := l.PostEntries(ctx, []EntryInput{in})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// PostEntries posts many entries in one database transaction: all of them
// or, on any error, none. It is the fast path for bulk loads: entries are
// validated first, then written in multi-row statements.
func (l *Ledger) PostEntries(ctx context.Context, ins []EntryInput) ([]*Entry, error) {
	entries, err := l.prepareEntries(ins)
	if err != nil {
		return nil, err
	}
	first := make(map[string]int, len(ins)) // key → index of its first use in this batch
	for i, e := range entries {
		if j, dup := first[e.Key]; dup && entries[j].Hash != e.Hash {
			return nil, entryErr(i, len(ins), e.Key, fmt.Errorf("%w: the batch uses the key twice with different content", ErrIdempotencyConflict))
		} else if !dup {
			first[e.Key] = i
		}
	}
	out := make([]*Entry, len(ins))
	err = l.store.Update(ctx, func(tx Tx) error {
		closed, err := tx.ClosedThrough(ctx)
		if err != nil {
			return err
		}
		// The store assigns IDs to what it is given: it gets copies, so
		// that a store retrying fn starts again from the prepared entries.
		copies := make([]Entry, 0, len(entries))
		fresh := make([]*Entry, 0, len(entries))
		for i, e := range entries {
			if first[e.Key] != i {
				continue
			}
			copies = append(copies, *e)
			fresh = append(fresh, &copies[len(copies)-1])
		}
		now := l.now().UTC()
		for _, e := range fresh {
			e.RecordedAt = now
		}
		existing, err := tx.InsertEntries(ctx, fresh)
		if err != nil {
			return err
		}
		for k, e := range fresh {
			i := first[e.Key]
			if prev, ok := existing[k]; ok {
				if prev.Hash != e.Hash {
					return entryErr(i, len(ins), e.Key, fmt.Errorf("key %q was used for a different entry: %w", e.Key, ErrIdempotencyConflict))
				}
				prev.Replayed = true
				out[i] = prev
				continue
			}
			// Checked after the lookup: a replay returns the entry even
			// if its period has been closed since.
			if err := openAt(e.OccurredAt, closed); err != nil {
				return entryErr(i, len(ins), e.Key, err)
			}
			if err := l.checkNonNegative(ctx, tx, e.Postings); err != nil {
				return entryErr(i, len(ins), e.Key, err)
			}
			if err := l.adjustmentTransactions(ctx, tx, e); err != nil {
				return entryErr(i, len(ins), e.Key, err)
			}
			out[i] = e
		}
		for i, e := range entries {
			if j := first[e.Key]; j != i {
				out[i] = out[j]
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parallelPrepare is the batch size from which prepareEntries splits the
// work between CPUs.
const parallelPrepare = 512

// prepareEntries validates and converts a batch, on every CPU when it is
// large: validation and hashing need nothing from the database and were a
// fifth of a bulk load's time on one core. The error is that of the first
// bad entry, as a sequential pass would find it.
func (l *Ledger) prepareEntries(ins []EntryInput) ([]*Entry, error) {
	entries := make([]*Entry, len(ins))
	errs := make([]error, len(ins))
	prepare := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if entries[i], errs[i] = l.prepareEntry(ins[i]); errs[i] != nil {
				return // the rest of this range comes after this error
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(ins)/(parallelPrepare/2))
	if workers < 2 {
		prepare(0, len(ins))
	} else {
		var wg sync.WaitGroup
		per := (len(ins) + workers - 1) / workers
		for lo := 0; lo < len(ins); lo += per {
			wg.Go(func() { prepare(lo, min(lo+per, len(ins))) })
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			return nil, entryErr(i, len(ins), ins[i].Key, err)
		}
	}
	return entries, nil
}

func entryErr(i, n int, key string, err error) error {
	if n == 1 {
		return fmt.Errorf("entry %q: %w", key, err)
	}
	return fmt.Errorf("entry %d of %d (%q): %w", i+1, n, key, err)
}

// prepareEntry validates an input and converts it to an Entry.
func (l *Ledger) prepareEntry(in EntryInput) (*Entry, error) {
	if strings.TrimSpace(in.Key) == "" {
		return nil, fmt.Errorf("%w: an idempotency key is required", ErrInvalidRequest)
	}
	// Hashed as given, before OccurredAt defaults to now, so that a retry
	// that leaves it to the clock replays instead of conflicting.
	if err := CheckTime("occurred_at", in.OccurredAt); err != nil {
		return nil, err
	}
	if err := CheckTime("expires_at", in.ExpiresAt); err != nil {
		return nil, err
	}
	hash := entryHash(&in)
	in.OccurredAt = l.at(in.OccurredAt)
	if !in.ExpiresAt.IsZero() {
		in.ExpiresAt = in.ExpiresAt.UTC()
		if !in.Pending {
			return nil, fmt.Errorf("%w: only a pending entry can expire", ErrInvalidRequest)
		}
	}
	ps, err := l.postings(in.Postings)
	if err != nil {
		return nil, err
	}
	if err := checkBalanced(ps); err != nil {
		return nil, err
	}
	phase := Posted
	if in.Pending {
		phase = Pending
	}
	return &Entry{
		Key:         in.Key,
		Hash:        hash,
		Phase:       phase,
		OccurredAt:  in.OccurredAt,
		Description: in.Description,
		Metadata:    in.Metadata,
		Source:      in.Source,
		ExpiresAt:   in.ExpiresAt,
		Postings:    ps,
	}, nil
}

// providerOf returns the provider whose balance account name is, using the
// chart's Available and Pending templates, and which of the two it is.
func (l *Ledger) providerOf(account string) (provider string, available bool, ok bool) {
	for _, f := range l.balanceForms {
		if strings.HasPrefix(account, f.pre) && strings.HasSuffix(account, f.post) && len(account) > len(f.pre)+len(f.post) {
			p := account[len(f.pre) : len(account)-len(f.post)]
			if !strings.Contains(p, ":") {
				return p, f.available, true
			}
		}
	}
	return "", false, false
}

// balanceForm is a provider balance account template split at
// "{provider}", once, because every posting of every entry is matched
// against it.
type balanceForm struct {
	pre, post string
	available bool
}

func balanceForms(c Chart) []balanceForm {
	var out []balanceForm
	for _, t := range []struct {
		tmpl  string
		avail bool
	}{{c.Available, true}, {c.Pending, false}} {
		if pre, post, found := strings.Cut(t.tmpl, "{provider}"); found {
			out = append(out, balanceForm{pre, post, t.avail})
		}
	}
	return out
}

// adjustmentTransactions records a manual entry's effect on provider
// balances as adjustment balance transactions.
func (l *Ledger) adjustmentTransactions(ctx context.Context, tx Tx, e *Entry) error {
	if e.Phase != Posted {
		return nil
	}
	type key struct{ provider, currency string }
	sums := map[key]int64{}
	avail := map[key]bool{}
	var order []key
	for _, p := range e.Postings {
		prov, isAvail, ok := l.providerOf(p.Account)
		if !ok {
			continue
		}
		k := key{prov, p.Currency}
		if _, seen := sums[k]; !seen {
			order = append(order, k)
		}
		s, err := AddMinor(sums[k], p.Amount)
		if err != nil {
			return err
		}
		sums[k] = s
		avail[k] = avail[k] || isAvail
	}
	for i, k := range order {
		if sums[k] == 0 {
			continue
		}
		status := BTPending
		if avail[k] {
			status = BTAvailable
		}
		bt := &BalanceTransaction{
			ID:                btID(e.ID, i),
			Provider:          k.provider,
			EntryID:           e.ID,
			Type:              "adjustment",
			ReportingCategory: "other_adjustment",
			SourceType:        "entry",
			SourceID:          e.Key,
			SourceRef:         e.Source.Ref,
			Amount:            sums[k],
			Net:               sums[k],
			Currency:          k.currency,
			Status:            status,
			Description:       e.Description,
			Created:           e.OccurredAt,
			AvailableOn:       e.OccurredAt,
			// An adjustment's funds move when it is booked; a provider
			// may still report another date.
			AvailableOnEstimated: true,
		}
		if err := l.putBT(ctx, tx, bt); err != nil {
			return err
		}
	}
	return nil
}

// btID names the balance transaction produced by an entry.
func btID(entryID int64, n int) string {
	b := strconv.AppendInt(append(make([]byte, 0, 24), "btx_"...), entryID, 10)
	if n > 0 {
		b = strconv.AppendInt(append(b, '_'), int64(n), 10)
	}
	return string(b)
}

// PostPendingRequest posts a pending entry, in full or in part.
type PostPendingRequest struct {
	Key     string
	EntryID int64
	// Postings, if given, post part of the pending entry: each must name an
	// account and currency of the pending entry, with the same sign and no
	// larger amount. The rest is released. Empty posts it in full.
	Postings    []PostingInput
	OccurredAt  time.Time
	Description string
}

// PostPending posts a pending entry once; the unposted rest is released.
func (l *Ledger) PostPending(ctx context.Context, req PostPendingRequest) (*Entry, error) {
	// Hashed before OccurredAt defaults to now, so that a retry replays.
	req.OccurredAt = req.OccurredAt.UTC()
	partial, err := l.postings(req.Postings)
	if err != nil {
		return nil, err
	}
	res, err := l.idempotent(ctx, "post_pending", req.Key, req, func(tx Tx, res *Result) error {
		req.OccurredAt = l.at(req.OccurredAt)
		pe, err := tx.Entry(ctx, req.EntryID)
		if err != nil {
			return err
		}
		if err := checkResolvable(pe); err != nil {
			return err
		}
		ps := pe.Postings
		if len(partial) > 0 {
			if err := checkPartial(pe.Postings, partial); err != nil {
				return err
			}
			ps = partial
		}
		desc := req.Description
		if desc == "" {
			desc = pe.Description
		}
		e := &Entry{Key: req.Key, Phase: Posted, OccurredAt: req.OccurredAt, Description: desc,
			Metadata: pe.Metadata, Source: pe.Source, PendingOf: pe.ID, Postings: ps}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		if err := tx.ResolvePending(ctx, pe.ID, Settled, e.ID); err != nil {
			return err
		}
		res.Entry = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Entry.Replayed = res.Replayed
	return res.Entry, nil
}

func checkResolvable(pe *Entry) error {
	if pe.Phase != Pending {
		return fmt.Errorf("%w: entry %d is not pending", ErrInvalidState, pe.ID)
	}
	if pe.Source.Type == "payment" && pe.Source.ID != "" {
		// The payment's own status must move with its authorization.
		return fmt.Errorf("%w: entry %d authorizes payment %q; use Capture or Cancel", ErrInvalidState, pe.ID, pe.Source.ID)
	}
	switch pe.Resolution {
	case Unresolved:
		return nil
	case Settled:
		return fmt.Errorf("entry %d: %w", pe.ID, ErrAlreadyCaptured)
	default:
		return fmt.Errorf("entry %d (%s): %w", pe.ID, pe.Resolution, ErrAlreadyVoided)
	}
}

// checkPartial verifies that part is a partial posting of pending.
func checkPartial(pending, part []Posting) error {
	type key struct{ account, currency string }
	limit := map[key]int64{}
	for _, p := range pending {
		limit[key{p.Account, p.Currency}] += p.Amount
	}
	// Postings to the same account and currency are summed first, so that
	// splitting a posting cannot post more than is pending.
	sums := map[key]int64{}
	for _, p := range part {
		k := key{p.Account, p.Currency}
		lim, ok := limit[k]
		if !ok {
			return fmt.Errorf("%w: %s %s is not in the pending entry", ErrInvalidRequest, p.Account, p.Currency)
		}
		s, err := AddMinor(sums[k], p.Amount)
		if err != nil {
			return err
		}
		sums[k] = s
		if (lim > 0) != (p.Amount > 0) || abs(s) > abs(lim) {
			return fmt.Errorf("%w: %s %s: %d exceeds the pending %d", ErrOverCapture, p.Account, p.Currency, s, lim)
		}
	}
	return nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// VoidPending voids a pending entry, releasing its pending balances.
func (l *Ledger) VoidPending(ctx context.Context, key string, entryID int64) error {
	_, err := l.idempotent(ctx, "void_pending", key, entryID, func(tx Tx, res *Result) error {
		pe, err := tx.Entry(ctx, entryID)
		if err != nil {
			return err
		}
		if err := checkResolvable(pe); err != nil {
			return err
		}
		return tx.ResolvePending(ctx, entryID, Voided, 0)
	})
	return err
}

// Reverse posts a new entry that undoes a posted entry, linked to it. An
// entry is reversed at most once (ErrAlreadyResolved).
func (l *Ledger) Reverse(ctx context.Context, key string, entryID int64, at time.Time, description string) (*Entry, error) {
	// Hashed before at defaults to now, so that a retry replays.
	at = at.UTC()
	if err := CheckTime("at", at); err != nil {
		return nil, err
	}
	res, err := l.idempotent(ctx, "reverse", key, []any{entryID, at, description}, func(tx Tx, res *Result) error {
		at = l.at(at)
		orig, err := tx.Entry(ctx, entryID)
		if err != nil {
			return err
		}
		if orig.Phase != Posted {
			return fmt.Errorf("%w: entry %d is pending; void it instead", ErrInvalidState, entryID)
		}
		if by, err := tx.ReversedBy(ctx, entryID); err != nil {
			return err
		} else if by != 0 {
			return fmt.Errorf("%w: entry %d was already reversed by entry %d", ErrAlreadyResolved, entryID, by)
		}
		ps := make([]Posting, len(orig.Postings))
		for i, p := range orig.Postings {
			ps[i] = Posting{Account: p.Account, Currency: p.Currency, Amount: -p.Amount}
		}
		if description == "" {
			description = "Reversal of entry " + fmt.Sprint(entryID)
		}
		e := &Entry{Key: key, Phase: Posted, OccurredAt: at, Description: description,
			Source: orig.Source, Reverses: orig.ID, Postings: ps}
		if err := l.insert(ctx, tx, e); err != nil {
			return err
		}
		res.Entry = e
		return l.adjustmentTransactions(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	res.Entry.Replayed = res.Replayed
	return res.Entry, nil
}

// Balances returns the maintained balances of every account whose name starts
// with prefix ("" for all).
func (l *Ledger) Balances(ctx context.Context, prefix string) ([]Balance, error) {
	var out []Balance
	err := l.store.View(ctx, func(tx ReadTx) error {
		var err error
		out, err = tx.Balances(ctx, prefix)
		return err
	})
	return out, err
}

// BalancesAsOf computes posted balances at a point in time from postings.
func (l *Ledger) BalancesAsOf(ctx context.Context, prefix string, asOf time.Time) ([]Balance, error) {
	var out []Balance
	err := l.store.View(ctx, func(tx ReadTx) error {
		var err error
		out, err = tx.BalancesAsOf(ctx, prefix, asOf.UTC())
		return err
	})
	return out, err
}

// Balance returns one account's posted balance in one currency, in minor
// units on the account's normal side (an income account with sales shows
// positive).
func (l *Ledger) Balance(ctx context.Context, account, currency string) (int64, error) {
	cur, err := l.currencies.Lookup(currency)
	if err != nil {
		return 0, err
	}
	bals, err := l.Balances(ctx, account)
	if err != nil {
		return 0, err
	}
	for _, b := range bals {
		if b.Account == account && b.Currency == cur.Code {
			return b.Normal(), nil
		}
	}
	return 0, nil
}

// Entry returns one entry with its postings.
func (l *Ledger) Entry(ctx context.Context, id int64) (*Entry, error) {
	var e *Entry
	err := l.store.View(ctx, func(tx ReadTx) error {
		var err error
		e, err = tx.Entry(ctx, id)
		return err
	})
	return e, err
}

// Verify checks every invariant over the whole database and returns each
// violation found; an empty slice means the books are sound.
func (l *Ledger) Verify(ctx context.Context) ([]Violation, error) {
	var out []Violation
	err := l.store.View(ctx, func(tx ReadTx) error {
		var err error
		out, err = tx.Check(ctx)
		return err
	})
	return out, err
}
