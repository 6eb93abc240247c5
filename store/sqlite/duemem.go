package sqlite

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/settlehq/settle/ledger"
)

// The pending balance transactions a write transaction holds in memory.
//
// A payout's sweep asks for the pending balance transactions now due
// (DueBalanceTransactions). Read from SQLite, each sweep first waits for
// every write handed to the write-behind goroutine, then reads a day or
// more of transactions back on the connection that goroutine writes on:
// recording a month of 300,000 payments spent 1.5 s of processor time
// reading back 390,000 transactions it had written itself, all of it on the
// one connection whose statements are what the run waits for.
//
// A transaction that finds no pending transaction stored when it first
// touches the balance transactions (a new database; books whose every
// transaction was made available) knows every pending one it will see: it
// inserts them. It keeps them (dueMemory), follows every change its own
// statements make to them (a status, a date, a payout), and answers the
// sweep from memory, as the table would. A change it does not follow (a
// balance transaction's figures rewritten, one made pending again, a
// rolled-back savepoint) turns the memory off, and the rest of the
// transaction reads SQLite as before.
//
// While the memory answers, nothing reads the index of pending
// settlements (bt_pending), and every transaction booked pending goes into
// it and out again at its sweep. A transaction that finds the table empty
// (a new database) drops the index and builds it again from the rows
// before it commits, or before it reads SQLite if the memory turns off
// (dropindex.go). Recording a month
// of a million payments into a new database took about 5% less time
// (BENCHMARKS.md, twenty-third round).

// dueIndex is the index only DueBalanceTransactions reads.
const dueIndex = "bt_pending"

// dueState is whether a transaction answers from memory.
type dueState int8

const (
	dueUnknown dueState = iota // not looked yet
	dueOn                      // memory holds every pending transaction
	dueOff                     // read SQLite
)

// dueBT is a pending balance transaction as stored, and its available_on
// as stored.
type dueBT struct {
	bt    ledger.BalanceTransaction
	avail int64
}

// dueMemory is a write transaction's pending balance transactions.
type dueMemory struct {
	state dueState
	byID  map[string]*dueBT
	// lists holds them by provider and currency, in the order inserted;
	// those no longer pending are dropped when a sweep meets them.
	lists map[provCur][]*dueBT
}

// dueAnswered, when set (by a test), is shown every answer from memory
// before it is returned; an error it returns is the answer's.
var dueAnswered func(ctx context.Context, t *tx, due []ledger.BalanceTransaction, asOf time.Time, provider, currency string) error

// dueKnown decides, on a write transaction's first use of the balance
// transactions, whether it can keep them in memory: when none is pending.
func (t *tx) dueKnown(ctx context.Context) error {
	if t.due.state != dueUnknown {
		return nil
	}
	if !t.write {
		t.due.state = dueOff
		return nil
	}
	var pending, rows bool
	err := t.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bt_settlements WHERE status = 'pending'),
		EXISTS (SELECT 1 FROM bt_settlements)`).Scan(&pending, &rows)
	if err != nil {
		return err
	}
	if pending {
		t.due.state = dueOff
		return nil
	}
	t.due = dueMemory{state: dueOn, byID: map[string]*dueBT{}, lists: map[provCur][]*dueBT{}}
	t.btsNew = !rows
	if rows {
		return nil
	}
	return t.dropIndexFor(ctx, &t.dueIdx, dueIndex)
}

// dueOffNow turns the memory off for the rest of the transaction.
func (t *tx) dueOffNow() { t.due = dueMemory{state: dueOff} }

// rememberDue keeps a pending balance transaction about to be inserted,
// as the row will read back: times and exchange rate (its stored text) as
// stored, no fee details for none.
func (t *tx) rememberDue(b *ledger.BalanceTransaction, created, avail int64, rate string) error {
	if t.due.state != dueOn || b.Status != ledger.BTPending {
		return nil
	}
	d := &dueBT{bt: *b, avail: avail}
	d.bt.Created, d.bt.AvailableOn = fromTS(created), fromTS(avail)
	d.bt.FeeDetails = nil
	if len(b.FeeDetails) > 0 {
		d.bt.FeeDetails = slices.Clone(b.FeeDetails)
	}
	var err error
	if d.bt.ExchangeRate, err = parseRate(rate); err != nil {
		return err
	}
	if _, dup := t.due.byID[b.ID]; dup {
		// The insert fails as the table's key refuses it; nothing to keep.
		t.dueOffNow()
		return nil
	}
	t.due.byID[b.ID] = d
	k := provCur{b.Provider, b.Currency}
	t.due.lists[k] = append(t.due.lists[k], d)
	return nil
}

// followSettlements applies settlement changes written to the
// transactions in memory.
func (t *tx) followSettlements(cs []ledger.SettlementChange) {
	if t.due.state != dueOn {
		return
	}
	for _, c := range cs {
		f := c.Fields()
		d := t.due.byID[c.ID]
		if d == nil {
			if f&ledger.ChangesStatus != 0 && c.Status == ledger.BTPending {
				t.dueOffNow() // pending again: its figures are not here
				return
			}
			continue
		}
		if f&ledger.ChangesDate != 0 {
			d.avail = ts(c.AvailableOn)
			d.bt.AvailableOn, d.bt.AvailableOnEstimated = fromTS(d.avail), c.Estimated
		}
		if f&ledger.ChangesPayout != 0 {
			d.bt.PayoutID = c.PayoutID
		}
		if f&ledger.ChangesStatus != 0 {
			d.bt.Status = c.Status
			if c.Status != ledger.BTPending {
				delete(t.due.byID, c.ID)
			}
		}
	}
}

// followAssignPayout applies AssignPayout to the transactions in memory.
func (t *tx) followAssignPayout(provider, currency string, after int64, open bool, through int64, payoutID string) {
	if t.due.state != dueOn {
		return
	}
	for _, d := range t.due.lists[provCur{provider, currency}] {
		if d.bt.Status == ledger.BTPending && d.bt.PayoutDerived && d.avail <= through && (open || d.avail > after) {
			d.bt.PayoutID = payoutID
		}
	}
}

// dueFromMemory answers DueBalanceTransactions from memory, in the
// table's order (available_on, then id).
func (t *tx) dueFromMemory(asOf int64, provider, currency string) []ledger.BalanceTransaction {
	var due []*dueBT
	for k, list := range t.due.lists {
		if provider != "" && k.provider != provider || currency != "" && k.currency != currency {
			continue
		}
		kept := list[:0]
		for _, d := range list {
			if d.bt.Status != ledger.BTPending {
				continue // made available: dropped
			}
			kept = append(kept, d)
			if d.avail <= asOf {
				due = append(due, d)
			}
		}
		clear(list[len(kept):])
		t.due.lists[k] = kept
	}
	if len(due) == 0 {
		return nil
	}
	slices.SortFunc(due, func(a, b *dueBT) int {
		return cmp.Or(cmp.Compare(a.avail, b.avail), strings.Compare(a.bt.ID, b.bt.ID))
	})
	out := make([]ledger.BalanceTransaction, len(due))
	for i, d := range due {
		out[i] = d.bt
		out[i].FeeDetails = slices.Clone(d.bt.FeeDetails)
	}
	return out
}
