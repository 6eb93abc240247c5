package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/settlehq/settle/ledger"
)

// lookupChunk is how many ids one IN (…) lookup carries.
const lookupChunk = 256

// chunkArgs calls fn with the values of vs, lookupChunk at a time, padded
// (see padded) so that few statement sizes are prepared.
func chunkArgs(vs []string, fn func(args []any) error) error {
	for start := 0; start < len(vs); start += lookupChunk {
		part := vs[start:min(start+lookupChunk, len(vs))]
		args := make([]any, len(part), lookupChunk)
		for i, v := range part {
			args[i] = v
		}
		if err := fn(padded(args)); err != nil {
			return err
		}
	}
	return nil
}

// BalanceTransactionsByID returns the balance transactions of ids. They
// are looked up in the order given, not in the order of the ids' text as
// an IN (…) list would: callers pass them roughly in the order they were
// booked, which is the order of the table's rows, so each page of the
// table is read once rather than once per lookup.
func (t *tx) BalanceTransactionsByID(ctx context.Context, ids []string) (map[string]*ledger.BalanceTransaction, error) {
	out := make(map[string]*ledger.BalanceTransaction, len(ids))
	err := chunkArgs(ids, func(args []any) error {
		from := `(VALUES ` + tuples("(?)", len(args)) + `) AS v JOIN bt_core AS b ON b.id = v.column1` + btJoinSettlements
		return t.eachBTFrom(ctx, from, "1 = 1", args, func(b *ledger.BalanceTransaction) error {
			out[b.ID] = b
			return nil
		})
	})
	return out, err
}

// StoredEntryKeys reports which of keys are stored: a read of the key
// index alone, not of the entries, its rows read packed (a first
// reconciliation asks for half a million keys).
func (t *tx) StoredEntryKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	err := chunkArgs(keys, func(args []any) error {
		rows, err := t.rows(ctx, `SELECT key FROM entries WHERE key IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			out[k] = true
		}
		return rows.Err()
	})
	return out, err
}

// updateBTs begins the UPDATEs that change many balance transactions at
// once (a reconciliation's adopted dates, a payout's sweep and its
// composition). They are OR FAIL rather than SQLite's default ABORT: a
// statement that may abort halfway makes SQLite copy every page it is about
// to change to a statement journal, to undo that statement alone. At a
// million payments, a first reconciliation wrote 2.8 GB there (345,750
// pages) for a 526 MB log. These statements set no column that
// a constraint could refuse (no foreign key; NOT NULL columns are given
// values), and a store error rolls back the transaction or savepoint that
// ran them, so a statement stopped halfway never stays half-done.
const updateBTs = `UPDATE OR FAIL bt_settlements`

// settlementChunk is how many balance transactions one UPDATE changes.
const settlementChunk = 128

// SetSettlements applies settlement changes, settlementChunk a statement.
// Each statement sets only the columns its changes name (Fields): a column
// left out of the SET list is an index SQLite does not touch. The changes
// are grouped by the columns they name, each group sized exactly; when all
// name the same ones (a payout's sweep changes only statuses) the group is
// cs itself.
func (t *tx) SetSettlements(ctx context.Context, cs []ledger.SettlementChange) error {
	var count [ledger.ChangesAll + 1]int
	for _, c := range cs {
		count[c.Fields()]++
	}
	for f, n := range count {
		if n == 0 {
			continue
		}
		shape := ledger.SettlementFields(f)
		group := cs
		if n < len(cs) {
			group = make([]ledger.SettlementChange, 0, n)
			for _, c := range cs {
				if c.Fields() == shape {
					group = append(group, c)
				}
			}
		}
		if err := t.setSettlements(ctx, shape, group); err != nil {
			return err
		}
	}
	t.followSettlements(cs)
	return nil
}

// setSettlements writes the columns f names of changes.
func (t *tx) setSettlements(ctx context.Context, f ledger.SettlementFields, cs []ledger.SettlementChange) error {
	if len(cs) == 0 {
		return nil
	}
	var set []string
	if f&ledger.ChangesDate != 0 {
		set = append(set, "available_on", "available_on_estimated")
	}
	if f&ledger.ChangesPayout != 0 {
		set = append(set, "payout_id")
	}
	if f&ledger.ChangesStatus != 0 {
		set = append(set, "status")
	}
	assign := make([]string, len(set))
	for i, col := range set {
		assign[i] = fmt.Sprintf("%s = v.column%d", col, i+2)
	}
	tuple := "(" + placeholders(len(set)+1) + ")"
	for start := 0; start < len(cs); start += settlementChunk {
		chunk := cs[start:min(start+settlementChunk, len(cs))]
		p := t.laterChunkParams()
		for _, c := range chunk {
			p.text(c.ID)
			if f&ledger.ChangesDate != 0 {
				avail, err := storeTS("available_on", c.AvailableOn)
				if err != nil {
					return err
				}
				p.int(avail)
				p.bool(c.Estimated)
			}
			if f&ledger.ChangesPayout != 0 {
				p.text(c.PayoutID)
			}
			if f&ledger.ChangesStatus != 0 {
				p.text(c.Status)
			}
		}
		tuples := tuples(tuple, len(chunk))
		// Only the balance transactions it names: those waiting in memory
		// are written first only if it names one.
		if t.bts.holdsAny(chunk) {
			if err := t.flushBTs(ctx); err != nil {
				return err
			}
		}
		err := t.handOver(ctx, updateBTs+` SET `+strings.Join(assign, ", ")+`
			FROM (VALUES `+tuples+`) AS v WHERE bt_settlements.id = v.column1`, p, -1)
		if err != nil {
			return translate(err)
		}
	}
	return nil
}
