package app

// Bank reconciliation: the ledger's payouts against the deposits of stored
// bank statements (reconcile.MatchPayouts), stored as a run of provider
// "bank" and grain "bank" with its exceptions and links; a payout the bank
// shows arrived is booked paid when the ledger lacks it; and each bank
// account's closing balance is set against its ledger account's.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/booking"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reconcile"
)

// ErrNoStatements: bank reconciliation was asked for, but no bank statement
// (of the account named) was imported.
var ErrNoStatements = errors.New("no bank statements imported")

// BankOptions tune a bank reconciliation. A nil *BankOptions, and every
// zero field, means the defaults.
type BankOptions struct {
	// Account reconciles one bank account (as its statements name it);
	// "" reconciles them all.
	Account string
	// From and To bound the run: payouts expected, and deposits made, in
	// [From, To). Zero ends are open.
	From, To time.Time
	// Holidays are bank holidays on which no payout arrives.
	Holidays []time.Time
	// EarlyDays, LateDays and FeeTolerance are reconcile.BankOptions'.
	EarlyDays, LateDays int
	FeeTolerance        int64
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// BankReport is one stored bank reconciliation run and what it found.
type BankReport struct {
	Run    *reconcile.Run
	Result *reconcile.BankResult
	// Paid lists the payouts this run booked paid from the bank's deposits.
	Paid     []string
	Balances []BankBalance
}

// BankBalance sets a bank account's closing balance, from its latest
// statement, against the balance of its ledger account at the end of that
// statement's closing date.
type BankBalance struct {
	Account       string
	Currency      string
	LedgerAccount string
	ClosingDate   time.Time
	Statement     int64 // the bank's closing balance
	Ledger        int64 // the ledger account's balance as of the closing date
	// Unexplained is the sum of this account's deposits that no payout and
	// no ledger entry explains, which the ledger does not hold.
	Unexplained int64
}

// Difference is the bank's balance less the ledger's.
func (b BankBalance) Difference() int64 { return b.Statement - b.Ledger }

// String says plainly whether the two balances agree.
func (b BankBalance) String() string {
	m := func(v int64) string { return Money(b.Currency, v) }
	s := fmt.Sprintf("%s (%s, %s): statement closing balance %s on %s; ledger %s %s", b.Account, strings.ToUpper(b.Currency),
		b.LedgerAccount, m(b.Statement), b.ClosingDate.Format("2006-01-02"), b.LedgerAccount, m(b.Ledger))
	d := b.Difference()
	switch {
	case d == 0:
		return s + "; they agree"
	case d > 0:
		s += fmt.Sprintf("; the ledger is %s short of the bank", m(d))
	default:
		s += fmt.Sprintf("; the ledger holds %s more than the bank", m(-d))
	}
	if b.Unexplained != 0 {
		s += fmt.Sprintf(" (unexplained deposits: %s)", m(b.Unexplained))
	}
	return s
}

// bankInputs is what a bank reconciliation compares.
type bankInputs struct {
	accounts  []bank.Account
	payouts   []reconcile.BankPayout
	all       map[string]*ledger.Payout // every payout by id, failed ones too
	deposits  []reconcile.BankDeposit
	lines     map[string]*bank.StoredLine
	others    []reconcile.BankEntry
	opts      reconcile.BankOptions
	deposited map[string]bool // deposit ids loaded
}

// loadBank loads the inputs of a bank reconciliation.
func loadBank(ctx context.Context, st Store, books *ledger.Ledger, o BankOptions) (*bankInputs, error) {
	all, err := st.BankAccounts(ctx)
	if err != nil {
		return nil, err
	}
	in := &bankInputs{lines: map[string]*bank.StoredLine{}, all: map[string]*ledger.Payout{}, deposited: map[string]bool{}}
	for _, a := range all {
		if o.Account == "" || accountKey(a.Account) == accountKey(o.Account) {
			in.accounts = append(in.accounts, a)
		}
	}
	if len(in.accounts) == 0 {
		if o.Account != "" {
			return nil, fmt.Errorf("%w for bank account %q", ErrNoStatements, o.Account)
		}
		return nil, fmt.Errorf("%w; import a statement first (settle import statement.xml)", ErrNoStatements)
	}
	links, err := st.Links(ctx, reconcile.BankProvider, reconcile.BankGrain)
	if err != nil {
		return nil, err
	}
	in.opts = reconcile.BankOptions{Links: links, Coverage: map[string]reconcile.Coverage{}, Calendar: reconcile.NewCalendar(o.Holidays),
		EarlyDays: o.EarlyDays, LateDays: o.LateDays, FeeTolerance: o.FeeTolerance, From: o.From, To: o.To}
	ledgerAccounts := map[string]bool{}
	for _, a := range in.accounts {
		c, ok := in.opts.Coverage[a.Currency]
		if !ok || a.From.Before(c.From) {
			c.From = a.From
		}
		if a.Through.After(c.Through) {
			c.Through = a.Through
		}
		in.opts.Coverage[a.Currency] = c
		ledgerAccounts[a.LedgerAccount] = true
	}
	// Deposits are loaded a margin beyond the window, so that a payout at
	// its edge still finds its deposit; only those inside are reported.
	margin := time.Duration(max(o.EarlyDays, o.LateDays, reconcile.DefaultLateDays)+7) * 24 * time.Hour
	lf := bank.LineFilter{}
	if !o.From.IsZero() {
		lf.From = o.From.Add(-margin)
	}
	if !o.To.IsZero() {
		lf.To = o.To.Add(margin)
	}
	for _, a := range in.accounts {
		lf.Account, lf.Currency = a.Account, a.Currency
		err := st.EachLine(ctx, lf, func(l *bank.StoredLine) error {
			if l.Status != bank.StatusBooked || l.Reversal || l.Amount <= 0 {
				return nil
			}
			id := bank.LineID(l.ID)
			cp := *l
			in.lines[id] = &cp
			in.deposited[id] = true
			in.deposits = append(in.deposits, reconcile.BankDeposit{ID: id, Account: l.Account, LedgerAccount: l.LedgerAccount,
				Currency: l.Currency, Amount: l.Amount, Date: l.Date(),
				Texts: []string{l.BankRef, l.CustomerRef, l.MessageRef, l.Remittance, l.Info}})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	fees := map[string]int64{}
	err = books.View(ctx, func(tx ledger.ReadTx) error {
		err := tx.EachPayout(ctx, "", func(p *ledger.Payout) error {
			cp := *p
			in.all[p.ID] = &cp
			return nil
		})
		if err != nil {
			return err
		}
		for _, la := range sortedKeys(ledgerAccounts) {
			err := tx.EachEntry(ctx, ledger.EntryFilter{Account: la, PostedOnly: true}, func(e *ledger.Entry) error {
				sums := map[string]int64{}
				for _, p := range e.Postings {
					if p.Account == la {
						sums[p.Currency] += p.Amount
					}
				}
				for cur, amt := range sums {
					switch {
					case amt == 0, e.Source.Type == "payout":
					case e.Source.Type == booking.BankFeeSource:
						fees[e.Source.ID] -= amt
					default:
						in.others = append(in.others, reconcile.BankEntry{ID: "entry_" + strconv.FormatInt(e.ID, 10),
							LedgerAccount: la, Currency: cur, Amount: amt, At: e.OccurredAt})
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(in.all) {
		p := in.all[id]
		if p.Status == ledger.PayoutFailed {
			continue
		}
		if _, ok := in.opts.Coverage[p.Currency]; !ok {
			continue
		}
		if (!o.From.IsZero() && p.ArrivalDate.Before(o.From)) || (!o.To.IsZero() && !p.ArrivalDate.Before(o.To)) {
			continue
		}
		if o.Account != "" && linkedElsewhere(links[p.ID], in.deposited) {
			continue
		}
		in.payouts = append(in.payouts, reconcile.BankPayout{ID: p.ID, Provider: p.Provider, Ref: p.ProviderRef, Currency: p.Currency,
			Amount: p.Amount, Fees: fees[p.ID], Arrival: p.ArrivalDate, Paid: p.Status == ledger.PayoutPaid})
	}
	return in, nil
}

// linkedElsewhere reports whether a payout's remembered deposits all lie
// outside those loaded (in another bank account).
func linkedElsewhere(link string, loaded map[string]bool) bool {
	if link == "" {
		return false
	}
	for _, id := range strings.Split(link, ",") {
		if loaded[id] {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ReconcileBank reconciles the ledger's payouts with the deposits of the
// stored bank statements and stores the run. Each payout the bank shows
// arrived (in full or short) that the ledger still has in transit is booked
// paid, into the deposit's ledger account at the deposit's date (or the
// first open day after a closed period). The report also sets each bank
// account's closing balance against its ledger account's.
func ReconcileBank(ctx context.Context, st Store, books *ledger.Ledger, opts *BankOptions) (*BankReport, error) {
	var o BankOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	started := o.Now().UTC()
	in, err := loadBank(ctx, st, books, o)
	if err != nil {
		return nil, err
	}
	res := reconcile.MatchPayouts(in.payouts, in.deposits, in.others, &in.opts)
	rep := &BankReport{Result: res}
	if rep.Paid, err = payFromBank(ctx, books, in, res); err != nil {
		return nil, err
	}
	d := newDigest()
	for i := range in.payouts {
		p := &in.payouts[i]
		d.str("p", p.ID, p.Ref, p.Currency)
		d.num(p.Amount, p.Fees, p.Arrival.UnixNano())
	}
	for i := range in.deposits {
		dp := &in.deposits[i]
		d.str("d", dp.ID, dp.Currency, dp.LedgerAccount)
		d.num(dp.Amount, dp.Date.UnixNano())
	}
	for i := range in.others {
		e := &in.others[i]
		d.str("e", e.ID, e.Currency)
		d.num(e.Amount, e.At.UnixNano())
	}
	run := &reconcile.Run{Provider: reconcile.BankProvider, Grain: reconcile.BankGrain, From: o.From, To: o.To, StartedAt: started,
		FinishedAt: o.Now().UTC(), InputsDigest: d.sum(), Summary: res.Summary.Summary()}
	scope := reconcile.Scope{Provider: reconcile.BankProvider, Grain: reconcile.BankGrain, From: o.From, To: o.To}
	outcomes := make([]reconcile.Outcome, 0, len(res.Outcomes))
	for _, oc := range res.Outcomes {
		if oc.Kind != reconcile.PayoutMatched {
			outcomes = append(outcomes, oc)
		}
	}
	err = st.UpdateRecon(ctx, func(tx reconcile.Tx) error {
		known, err := tx.KnownExceptions(ctx, reconcile.BankProvider, reconcile.BankGrain)
		if err != nil {
			return err
		}
		if o.Account != "" {
			known = slices.DeleteFunc(known, func(e reconcile.Exception) bool { return !in.covers(&e) })
		}
		return tx.SaveRun(ctx, run, reconcile.PlanExceptions(scope, known, outcomes), res.Links)
	})
	if err != nil {
		return nil, err
	}
	rep.Run = run
	if rep.Balances, err = bankBalances(ctx, books, in, res); err != nil {
		return nil, err
	}
	return rep, nil
}

// covers reports whether a run over the loaded accounts could find an
// exception: a payout's of their currencies, or a deposit's of theirs.
func (in *bankInputs) covers(e *reconcile.Exception) bool {
	if e.Subject == reconcile.SubjectPayout {
		_, ok := in.opts.Coverage[e.Currency]
		return ok
	}
	for _, id := range strings.Split(e.ProviderID, ",") {
		if in.deposited[id] {
			return true
		}
	}
	return false
}

// payFromBank books paid every matched payout that the ledger has in
// transit, and returns their ids.
func payFromBank(ctx context.Context, books *ledger.Ledger, in *bankInputs, res *reconcile.BankResult) ([]string, error) {
	var closed time.Time
	err := books.View(ctx, func(tx ledger.ReadTx) error {
		var err error
		closed, err = tx.ClosedThrough(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	var paid []string
	for _, m := range res.Matches {
		for _, id := range m.Payouts {
			p := in.all[id]
			if p == nil || p.Status != ledger.PayoutInTransit {
				continue
			}
			_, err := books.PayPayout(ctx, ledger.PayoutUpdateRequest{Key: "bank:payout_paid:" + id, PayoutID: id,
				At: ledger.FirstOpen(m.Date, closed), Account: m.LedgerAccount})
			if err != nil {
				return paid, fmt.Errorf("booking payout %s paid from the bank: %w", id, err)
			}
			paid = append(paid, id)
		}
	}
	return paid, nil
}

// bankBalances sets each account's closing balance against its ledger
// account's at the end of the closing date.
func bankBalances(ctx context.Context, books *ledger.Ledger, in *bankInputs, res *reconcile.BankResult) ([]BankBalance, error) {
	unexplained := map[[2]string]int64{}
	for _, oc := range res.Outcomes {
		if oc.Kind == reconcile.DepositUnexplained {
			if l := in.lines[oc.ProviderID]; l != nil {
				unexplained[[2]string{l.Account, l.Currency}] += l.Amount
			}
		}
	}
	var out []BankBalance
	err := books.View(ctx, func(tx ledger.ReadTx) error {
		for _, a := range in.accounts {
			b := BankBalance{Account: a.Account, Currency: a.Currency, LedgerAccount: a.LedgerAccount, ClosingDate: a.Through,
				Statement: a.ClosingBalance, Unexplained: unexplained[[2]string{a.Account, a.Currency}]}
			bals, err := tx.BalancesAsOf(ctx, a.LedgerAccount, reconcile.Day(a.Through).Add(24*time.Hour-time.Nanosecond))
			if err != nil {
				return err
			}
			for _, bal := range bals {
				if bal.Account == a.LedgerAccount && bal.Currency == a.Currency {
					b.Ledger = bal.Posted
				}
			}
			out = append(out, b)
		}
		return nil
	})
	return out, err
}
