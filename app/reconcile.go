package app

// Reconciliation runs: load one provider's records and the ledger's side
// for a window, fold corrections into what they correct, match with package
// reconcile, and store the run, its exception plan and its links.

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"sync"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// Report is one stored run with the outcomes it found (non-matched only).
type Report struct {
	Run      *reconcile.Run
	Outcomes []reconcile.Outcome
	// Uncovered counts the provider records imported since the last run
	// that this run's window left out (they are still to reconcile).
	Uncovered int
	// Took says where the run's time went.
	Took Timings
}

// Timings are the wall-clock durations of a run's steps, for the nightly
// job's log: where a slow night spent its time.
type Timings struct {
	Load  time.Duration // reading the provider's records, the links and the ledger's side
	Match time.Duration // pairing and comparing, twice when the ledger adopted the provider's facts
	Adopt time.Duration // booking the provider's settlement dates and settlements in the ledger
	Store time.Duration // storing the run, its exceptions and its links
}

// Total is the whole run.
func (t Timings) Total() time.Duration { return t.Load + t.Match + t.Adopt + t.Store }

// LogAttrs are the timings as log attributes, to the millisecond.
func (t Timings) LogAttrs() []any {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return []any{"took", ms(t.Total()), "load", ms(t.Load), "match", ms(t.Match), "adopt", ms(t.Adopt), "store", ms(t.Store)}
}

// TookMS is Timings in whole milliseconds, as the JSON of a run gives it
// (settle reconcile --format json, POST /api/reconcile): Total is the sum
// of the steps.
type TookMS struct {
	Total int64 `json:"total"`
	Load  int64 `json:"load"`
	Match int64 `json:"match"`
	Adopt int64 `json:"adopt"`
	Store int64 `json:"store"`
}

// MS returns t in whole milliseconds.
func (t Timings) MS() *TookMS {
	k := &TookMS{Load: t.Load.Milliseconds(), Match: t.Match.Milliseconds(), Adopt: t.Adopt.Milliseconds(),
		Store: t.Store.Milliseconds()}
	k.Total = k.Load + k.Match + k.Adopt + k.Store
	return k
}

// Plus returns k and o added up, a new TookMS, for the totals of several
// runs; either may be nil.
func (k *TookMS) Plus(o *TookMS) *TookMS {
	switch {
	case k == nil && o == nil:
		return nil
	case k == nil:
		k = &TookMS{}
	case o == nil:
		o = &TookMS{}
	}
	return &TookMS{Total: k.Total + o.Total, Load: k.Load + o.Load, Match: k.Match + o.Match, Adopt: k.Adopt + o.Adopt,
		Store: k.Store + o.Store}
}

// lap returns the time since *mark and moves the mark to now.
func lap(mark *time.Time) time.Duration {
	now := time.Now()
	d := now.Sub(*mark)
	*mark = now
	return d
}

// Options tune a run. A nil *Options, and every zero field, means the
// defaults.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives what a run adopts from the provider; default none.
	Logger *slog.Logger
	// DateTolerance, HeuristicWindow and Fields are reconcile.Options'.
	DateTolerance   time.Duration
	HeuristicWindow time.Duration
	Fields          []string
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	return v
}

// ErrNothingCompared is returned by a run (or a night of runs) that had
// nothing to compare: no provider records and no ledger transactions in its
// window. It is not a clean result, and says so.
var ErrNothingCompared = errors.New("nothing was compared")

// farFuture bounds an open-ended window.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Scopes lists what there is to reconcile: every provider and grain with
// imported records (restricted to one provider if given). A provider whose
// exports were never imported has nothing to compare against and is left out.
func Scopes(ctx context.Context, st Store, prov string, from, to time.Time) ([]reconcile.Scope, error) {
	grains, err := st.RecordGrains(ctx)
	if err != nil {
		return nil, err
	}
	var out []reconcile.Scope
	for _, pg := range grains {
		if prov == "" || pg[0] == prov {
			out = append(out, reconcile.Scope{Provider: pg[0], Grain: provider.Grain(pg[1]), From: from, To: to})
		}
	}
	return out, nil
}

// Reconcile runs one scope and stores the run. Where the ledger only
// estimated a settlement date that the provider reports, the provider's
// date is adopted (booked through ledger.AdoptAvailableOn, logged, and
// counted in Run.Adopted) and the scope is matched again, so that derived
// payout compositions follow the adopted dates.
func Reconcile(ctx context.Context, st Store, books *ledger.Ledger, sc reconcile.Scope, opts *Options) (*Report, error) {
	o := opts.withDefaults()
	started := o.Now().UTC()
	mark := time.Now()
	var took Timings
	to := sc.To
	if to.IsZero() {
		to = farFuture
	}
	covered, err := st.RecordsCovered(ctx, sc.Provider, sc.Grain)
	if err != nil {
		return nil, err
	}
	fresh, err := st.RecordsSince(ctx, sc.Provider, sc.Grain, covered)
	if err != nil {
		return nil, err
	}
	// inWindow reports whether records all lie in the run's window.
	inWindow := func(r provider.RecordsAfter) bool { return !r.MinCreated.Before(sc.From) && r.MaxCreated.Before(to) }
	rep := &Report{}
	through := covered
	if fresh.Count > 0 {
		if inWindow(fresh) {
			through = fresh.MaxID
		} else {
			rep.Uncovered = fresh.Count
		}
	}
	// When the window holds every record (a first run, a whole-history
	// run), the count sizes the loads: a million records appended one by
	// one would briefly hold two copies of the slice as it grows.
	// Whether it does is known from the first and the last record
	// (two seeks); they are counted only then, since the run reads them
	// all anyway, not every night over a long history.
	sizeHint := 0
	all := fresh
	if covered != 0 {
		first, last, err := st.RecordSpan(ctx, sc.Provider, sc.Grain)
		if err != nil {
			return nil, err
		}
		all = provider.RecordsAfter{}
		if !first.IsZero() && inWindow(provider.RecordsAfter{MinCreated: first, MaxCreated: last}) {
			if all, err = st.RecordsSince(ctx, sc.Provider, sc.Grain, 0); err != nil {
				return nil, err
			}
		}
	}
	if all.Count > 0 && inWindow(all) {
		sizeHint = all.Count
	}
	// A run whose window leaves records out (the nightly run, over the
	// last days of long books) reads the stored links after its ledger
	// side and keeps those of the side's ledger ids, the only ones a run
	// uses: every link of the history, a million a month, was read into
	// memory each night. A whole-history run reads them all, beside the
	// other loads; a window with no ledger side reads none.
	windowed := sizeHint == 0
	// The provider's records, the stored links and the ledger's side are
	// read at once, each on its own connection: at a million of each the
	// loads are most of a run, and the machine has more than one CPU.
	inputs := newDigest()
	// On the balance grain both sides are kept compactly, projected as
	// the rows stream by (see reconcile.ProviderSide); the payment grain
	// keeps its records whole.
	balances := sc.Grain == provider.BalanceGrain
	var records []provider.Record
	var pside *reconcile.ProviderSide
	if balances {
		pside = reconcile.NewProviderSide(sizeHint)
	}
	var links map[string]string
	var linkList []reconcile.Link
	var lside *reconcile.LedgerSide
	var wg sync.WaitGroup
	var recErr, linkErr, btErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		f := provider.RecordFilter{Provider: sc.Provider, Grain: sc.Grain, From: sc.From, To: to, NoRaw: true}
		if balances {
			recErr = scanRecords(ctx, st, f, func(r *provider.Record) error {
				pside.Add(r)
				return nil
			})
			return
		}
		recErr = st.EachRecord(ctx, f, func(r *provider.Record) error {
			inputs.record(r)
			records = append(records, *r)
			return nil
		})
	}()
	loadLinks := func(ledgerIDs []string) {
		if l, ok := st.(linkLister); ok {
			linkList, linkErr = l.LinkList(ctx, sc.Provider, sc.Grain, ledgerIDs)
			return
		}
		links, linkErr = st.Links(ctx, sc.Provider, sc.Grain)
	}
	// linksOf loads, for a windowed run, the links of the n ledger ids id
	// gives, once its ledger side is read; none when it is empty.
	linksOf := func(n int, id func(int) string) error {
		if n == 0 {
			return nil
		}
		ids := make([]string, n)
		for i := range n {
			ids[i] = id(i)
		}
		loadLinks(ids)
		return linkErr
	}
	if !windowed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loadLinks(nil)
		}()
	}
	if balances {
		lside, btErr = ledgerBalances(ctx, books, sc.Provider, sc.From, to, sizeHint)
	}
	wg.Wait()
	if err := errors.Join(recErr, linkErr, btErr); err != nil {
		return nil, err
	}
	if windowed && balances {
		if err := linksOf(lside.Len(), lside.ID); err != nil {
			return nil, err
		}
	}
	took.Load = lap(&mark)
	mopts := &reconcile.Options{Links: links, LinkList: linkList, DateTolerance: o.DateTolerance, HeuristicWindow: o.HeuristicWindow, Fields: o.Fields}
	var res *reconcile.Result
	adopted := 0
	switch sc.Grain {
	case provider.BalanceGrain:
		// Both sides are hashed on the other CPU: the records while
		// pairing, then the ledger's side, as it stands once any dates are
		// adopted, while the pairs are compared.
		hashed := make(chan struct{})
		go func() {
			defer close(hashed)
			for i := range pside.Len() {
				r := pside.Record(i)
				inputs.record(&r)
			}
		}()
		compare := func(fn func()) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				<-hashed
				var b ledger.BalanceTransaction
				for j := range lside.Len() {
					lside.Transaction(j, &b)
					inputs.bt(&b)
				}
			}()
			fn()
			<-done
		}
		pairing := reconcile.PairSides(pside, lside, mopts)
		// What the ledger adopts is known without comparing the rest: the
		// pairs are compared once, after the adoption, when there is one.
		adoptions := pairing.Adoptions()
		if len(adoptions) == 0 {
			compare(func() { res = pairing.Result() })
			took.Match = lap(&mark)
			break
		}
		took.Match = lap(&mark)
		var settled int
		var dated []ledger.SettlementChange
		if settled, dated, err = adopt(ctx, books, adoptions, o); err != nil {
			<-hashed
			return nil, err
		}
		took.Adopt = lap(&mark)
		adopted = settled + len(dated)
		if settled > 0 {
			// A settlement changes currencies and amounts: read again,
			// and pair anew.
			if lside, err = ledgerBalances(ctx, books, sc.Provider, sc.From, to, lside.Len()); err != nil {
				<-hashed
				return nil, err
			}
			took.Load += lap(&mark)
		} else {
			// Corrections, folded into what they correct, are not in
			// the side and need nothing. New dates leave the pairs as
			// they were (balance transaction ids are unique): compare
			// them again.
			lside.PatchSettlements(dated)
		}
		compare(func() {
			if settled > 0 {
				res = reconcile.MatchSides(pside, lside, mopts)
			} else {
				res = pairing.Result()
			}
		})
		took.Match += lap(&mark)
	case provider.PaymentGrain:
		pays, err := ledgerPayments(ctx, books, sc.Provider, sc.From, to)
		if err != nil {
			return nil, err
		}
		if windowed {
			if err := linksOf(len(pays), func(i int) string { return pays[i].ID }); err != nil {
				return nil, err
			}
			mopts.Links, mopts.LinkList = links, linkList
		}
		for i := range pays {
			inputs.payment(&pays[i])
		}
		took.Load += lap(&mark)
		res = reconcile.MatchPayments(records, pays, mopts)
		took.Match = lap(&mark)
	default:
		return nil, fmt.Errorf("%w: unknown grain %q", ledger.ErrInvalidRequest, sc.Grain)
	}
	run := &reconcile.Run{Provider: sc.Provider, Grain: sc.Grain, From: sc.From, To: sc.To, StartedAt: started,
		FinishedAt: o.Now().UTC(), InputsDigest: inputs.sum(), Summary: res.Summary, Adopted: adopted, RecordsThrough: through}
	outcomes := res.Exceptions()
	// The plan is made against the exceptions as they stand in the run's
	// own transaction, so two runs at once cannot both open one difference.
	err = st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		known, err := tx.KnownExceptions(ctx, sc.Provider, sc.Grain)
		if err != nil {
			return err
		}
		return tx.SaveRun(ctx, run, reconcile.PlanExceptions(sc, known, outcomes), res.Links)
	})
	if err != nil {
		return nil, err
	}
	took.Store = lap(&mark)
	rep.Run, rep.Outcomes, rep.Took = run, outcomes, took
	return rep, nil
}

// adopt books the provider's dates for the ledger's estimates, in one
// transaction, and logs each. It returns how many settlements it adopted
// and the balance transactions whose dates it adopted, as they now stand.
func adopt(ctx context.Context, books *ledger.Ledger, as []reconcile.Adoption, o Options) (int, []ledger.SettlementChange, error) {
	// Settlements first: a converted transaction's currency decides its payout.
	settled, err := adoptSettlements(ctx, books, as, o)
	if err != nil {
		return 0, nil, err
	}
	in := make([]ledger.Adoption, 0, len(as))
	debug := o.Logger.Enabled(ctx, slog.LevelDebug)
	for _, a := range as {
		if a.AvailableOn.IsZero() {
			continue
		}
		in = append(in, ledger.Adoption{BalanceTransactionID: a.LedgerID, AvailableOn: a.AvailableOn})
		if debug {
			o.Logger.Debug("adopting the provider's available_on", "balance_transaction", a.LedgerID, "record", a.ProviderID,
				"available_on", a.AvailableOn.Format(time.RFC3339))
		}
	}
	dated, err := books.AdoptDates(ctx, in, o.Now())
	if err != nil {
		return 0, nil, fmt.Errorf("adopting the provider's settlement dates: %w", err)
	}
	if len(dated) > 0 {
		o.Logger.Info("adopted the provider's available_on where the ledger had estimated it", "transactions", len(dated))
	}
	return settled, dated, nil
}

// ledgerBalances loads a provider's balance transactions created in the
// window (sizeHint of them expected), with corrections (whenever they were
// made) added to the transaction they correct and fully corrected-away
// transactions dropped.
func ledgerBalances(ctx context.Context, books *ledger.Ledger, provider string, from, to time.Time, sizeHint int) (*reconcile.LedgerSide, error) {
	side := reconcile.NewLedgerSide(sizeHint)
	type sums struct{ amount, fee, net int64 }
	err := books.View(ctx, func(tx ledger.ReadTx) error {
		// The corrections first (few), so that the transactions (many) are
		// folded as they stream by, with no index of them all.
		corrected := map[string]sums{}
		err := scanBalanceTransactions(ctx, tx, ledger.BTFilter{Provider: provider, SourceType: ledger.SourceCorrection},
			func(c *ledger.BalanceTransaction) error {
				s := corrected[c.SourceID]
				s.amount, s.fee, s.net = s.amount+c.Amount, s.fee+c.Fee, s.net+c.Net
				corrected[c.SourceID] = s
				return nil
			})
		if err != nil {
			return err
		}
		return scanBalanceTransactions(ctx, tx, ledger.BTFilter{Provider: provider, From: from, To: to}, func(bt *ledger.BalanceTransaction) error {
			if bt.SourceType == ledger.SourceCorrection {
				return nil
			}
			if s, ok := corrected[bt.ID]; ok {
				bt.Amount, bt.Fee, bt.Net = bt.Amount+s.amount, bt.Fee+s.fee, bt.Net+s.net
			}
			if bt.Amount != 0 || bt.Fee != 0 || bt.Net != 0 {
				side.Add(bt)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return side, nil
}

// recordScanner is a store that streams provider records through one
// reused Record, without what a run does not read (see
// sqlite.Store.ScanRecords).
type recordScanner interface {
	ScanRecords(ctx context.Context, f provider.RecordFilter, fn func(*provider.Record) error) error
}

// scanRecords streams the records of f through the store's ScanRecords
// if it has one, else through EachRecord.
func scanRecords(ctx context.Context, st Store, f provider.RecordFilter, fn func(*provider.Record) error) error {
	if s, ok := st.(recordScanner); ok {
		return s.ScanRecords(ctx, f, fn)
	}
	return st.EachRecord(ctx, f, fn)
}

// linkLister is a store that lists links (see sqlite.Store.LinkList).
type linkLister interface {
	LinkList(ctx context.Context, provider string, grain provider.Grain, ledgerIDs []string) ([]reconcile.Link, error)
}

// btScanner is a read transaction that streams balance transactions
// through one reused BalanceTransaction, without what a run does not read
// (see sqlite's ScanBalanceTransactions).
type btScanner interface {
	ScanBalanceTransactions(ctx context.Context, f ledger.BTFilter, fn func(*ledger.BalanceTransaction) error) error
}

// scanBalanceTransactions streams the balance transactions of f through
// the transaction's ScanBalanceTransactions if it has one, else through
// EachBalanceTransaction.
func scanBalanceTransactions(ctx context.Context, tx ledger.ReadTx, f ledger.BTFilter, fn func(*ledger.BalanceTransaction) error) error {
	if s, ok := tx.(btScanner); ok {
		return s.ScanBalanceTransactions(ctx, f, fn)
	}
	return tx.EachBalanceTransaction(ctx, f, fn)
}

// ledgerPayments loads a provider's payments created in the window.
func ledgerPayments(ctx context.Context, books *ledger.Ledger, provider string, from, to time.Time) ([]ledger.Payment, error) {
	var out []ledger.Payment
	err := books.View(ctx, func(tx ledger.ReadTx) error {
		return tx.EachPayment(ctx, provider, func(p *ledger.Payment) error {
			if !p.CreatedAt.Before(from) && p.CreatedAt.Before(to) {
				out = append(out, *p)
			}
			return nil
		})
	})
	return out, err
}

// digest hashes the figures both sides bring to a run, so that a run can
// say whether its inputs equal an earlier run's. The bytes are gathered in
// a buffer and hashed 64 KiB at a time: a million records are tens of
// millions of small values.
type digest struct {
	h   hash.Hash
	buf []byte
}

func newDigest() *digest { return &digest{h: sha256.New(), buf: make([]byte, 0, 64<<10)} }

func (d *digest) str(ss ...string) {
	for _, s := range ss {
		d.buf = binary.LittleEndian.AppendUint64(d.buf, uint64(len(s)))
		d.buf = append(d.buf, s...)
	}
	d.spill()
}

func (d *digest) num(vs ...int64) {
	for _, v := range vs {
		d.buf = binary.LittleEndian.AppendUint64(d.buf, uint64(v))
	}
	d.spill()
}

func (d *digest) spill() {
	if len(d.buf) >= 60<<10 {
		d.h.Write(d.buf)
		d.buf = d.buf[:0]
	}
}

func (d *digest) record(r *provider.Record) {
	d.str("r", r.ID, r.Type, r.ReportingCategory, r.SourceRef, r.Currency, r.Status, r.PayoutID)
	d.num(r.Amount, r.Fee, r.Net, r.Captured, r.Refunded, r.Disputed, r.Created.UnixNano(), r.AvailableOn.UnixNano())
	if r.PresentmentCurrency != "" || r.ExchangeRate != "" {
		d.str("fx", r.PresentmentCurrency, r.ExchangeRate)
		d.num(r.PresentmentAmount)
	}
}

func (d *digest) bt(b *ledger.BalanceTransaction) {
	d.str("b", b.ID, b.Type, b.ReportingCategory, b.SourceRef, b.Currency, b.Status, b.PayoutID)
	d.num(b.Amount, b.Fee, b.Net, b.Created.UnixNano(), b.AvailableOn.UnixNano())
	if b.PresentmentCurrency != "" {
		d.str("fx", b.PresentmentCurrency)
		d.num(b.PresentmentAmount)
	}
}

func (d *digest) payment(p *ledger.Payment) {
	d.str("p", p.ID, p.ProviderRef, p.Currency, string(p.Status))
	d.num(p.Authorized, p.Captured, p.Refunded, p.Disputed, p.CreatedAt.UnixNano())
}

// clone returns a copy of the digest, to feed apart from it. SHA-256's
// state always copies (crypto/sha256 documents its BinaryMarshaler), so a
// failure is a programming error.
func (d *digest) clone() *digest {
	d.h.Write(d.buf)
	d.buf = d.buf[:0]
	state, err := d.h.(encoding.BinaryMarshaler).MarshalBinary()
	h := sha256.New()
	if err == nil {
		err = h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state)
	}
	if err != nil {
		panic("copying a SHA-256 state: " + err.Error())
	}
	return &digest{h: h, buf: make([]byte, 0, cap(d.buf))}
}

func (d *digest) sum() string {
	d.h.Write(d.buf)
	d.buf = d.buf[:0]
	return hex.EncodeToString(d.h.Sum(nil))
}
