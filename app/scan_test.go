package app

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/generate"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/store/sqlite"
)

// plainStore hides the store's narrow readers (ScanRecords, LinkList), so
// that a run reads through EachRecord and Links.
type plainStore struct{ Store }

// plainBooks hides the read transaction's ScanBalanceTransactions, so that
// a run reads through EachBalanceTransaction.
type plainBooks struct{ ledger.Store }

func (b plainBooks) View(ctx context.Context, fn func(ledger.ReadTx) error) error {
	return b.Store.View(ctx, func(tx ledger.ReadTx) error { return fn(struct{ ledger.ReadTx }{tx}) })
}

// generatedMonth records and imports a generated month into a fresh
// SQLite database.
func generatedMonth(t *testing.T, fd, csv []byte, end time.Time) *sqlite.Store {
	t.Helper()
	st := newStore(t)
	record(t, ledger.New(st, &ledger.Options{Now: func() time.Time { return end }}), "feed.jsonl", fd)
	if _, problems, err := Import(context.Background(), st, "itemized.csv", bytes.NewReader(csv), ImportOptions{}); err != nil || len(problems) > 0 {
		t.Fatalf("importing: %v %v", err, problems)
	}
	return st
}

// A run that reads through the stores' narrow readers, projecting rows as
// they stream by, finds what a run reading whole records, transactions
// and a map of links finds: the same runs (digest included), outcomes,
// links and exceptions, on a first run that adopts dates and settlements,
// on a second that pairs by the first's links, and on a third over the
// last days only.
func TestNarrowReadsReconcileAsWholeRecords(t *testing.T) {
	ctx := context.Background()
	o := generate.Options{Payments: 1500, PerDay: 100, Seed: 5, TailDays: 20, DiffRate: 0.03, StripeDates: true, ForeignShare: 0.1}
	var fd, csv bytes.Buffer
	sum, err := generate.Generate(o, generate.Output{Feed: &fd, ItemizedCSV: &csv})
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return sum.End }
	narrow := generatedMonth(t, fd.Bytes(), csv.Bytes(), sum.End)
	whole := generatedMonth(t, fd.Bytes(), csv.Bytes(), sum.End)
	stores := []Store{narrow, plainStore{whole}}
	ledgers := []*ledger.Ledger{ledger.New(narrow, &ledger.Options{Now: now}), ledger.New(plainBooks{whole}, &ledger.Options{Now: now})}
	if _, ok := stores[1].(recordScanner); ok {
		t.Fatal("the plain store has ScanRecords")
	}
	sc := reconcile.Scope{Provider: "stripe", Grain: provider.BalanceGrain}
	for run := 1; run <= 3; run++ {
		if run == 3 {
			// A window that leaves records out: the narrow store lists
			// only the links of the window's ledger ids, the plain one
			// reads every link. Five records are moved to before the
			// window while their transactions stay in it: their links
			// keep those transactions out of play, where without them
			// they would be missing at the provider.
			sc.From = sum.End.AddDate(0, 0, -12)
			for _, db := range []*sqlite.Store{narrow, whole} {
				res, err := db.DB().Exec(`UPDATE provider_records SET created = ? WHERE record_id IN (SELECT l.provider_id
					FROM recon_links l JOIN bt_core b ON b.id = l.ledger_id WHERE b.created >= ? ORDER BY b.created LIMIT 5)`,
					sc.From.Add(-time.Hour).UnixNano(), sc.From.UnixNano())
				if err != nil {
					t.Fatal(err)
				}
				if n, err := res.RowsAffected(); err != nil || n != 5 {
					t.Fatalf("moving records before the window: %d, %v", n, err)
				}
			}
		}
		var reps [2]*Report
		for k := range stores {
			if reps[k], err = Reconcile(ctx, stores[k], ledgers[k], sc, &Options{Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		a, b := reps[0], reps[1]
		if run == 1 && a.Run.Adopted == 0 {
			t.Fatal("the first run adopted nothing")
		}
		if len(a.Outcomes) == 0 {
			t.Fatal("no exceptions found")
		}
		if fa, fb := describeRun(a.Run), describeRun(b.Run); fa != fb {
			t.Errorf("run %d:\nnarrow %s\nwhole  %s", run, fa, fb)
		}
		if !reflect.DeepEqual(a.Outcomes, b.Outcomes) {
			t.Errorf("run %d: the outcomes differ", run)
		}
		la, err := narrow.Links(ctx, sc.Provider, sc.Grain)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := whole.Links(ctx, sc.Provider, sc.Grain)
		if err != nil {
			t.Fatal(err)
		}
		if len(la) == 0 || !maps.Equal(la, lb) {
			t.Errorf("run %d: %d links stored reading narrowly, %d reading whole", run, len(la), len(lb))
		}
		if ea, eb := openExceptions(t, narrow), openExceptions(t, whole); !reflect.DeepEqual(ea, eb) {
			t.Errorf("run %d: the open exceptions differ", run)
		}
	}
}

func describeRun(r *reconcile.Run) string {
	return fmt.Sprintf("%+v adopted=%d opened=%d closed=%d through=%d digest=%s", r.Summary, r.Adopted, r.Opened, r.Closed,
		r.RecordsThrough, r.InputsDigest)
}

// SQLite's narrow readers give the rows, and the fields of them they
// promise, that EachRecord, EachBalanceTransaction and Links give.
func TestSQLiteNarrowReaders(t *testing.T) {
	ctx := context.Background()
	o := generate.Options{Payments: 600, PerDay: 100, Seed: 3, TailDays: 10, DiffRate: 0.03, StripeDates: true, ForeignShare: 0.1}
	var fd, csv bytes.Buffer
	sum, err := generate.Generate(o, generate.Output{Feed: &fd, ItemizedCSV: &csv})
	if err != nil {
		t.Fatal(err)
	}
	st := generatedMonth(t, fd.Bytes(), csv.Bytes(), sum.End)
	from, to := sum.End.AddDate(0, 0, -20), sum.End.AddDate(0, 0, -5)
	f := provider.RecordFilter{Provider: "stripe", Grain: provider.BalanceGrain, From: from, To: to, NoRaw: true}
	var want, got []provider.Record
	if err := st.EachRecord(ctx, f, func(r *provider.Record) error {
		r.Format, r.Offset = "", 0
		want = append(want, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.ScanRecords(ctx, f, func(r *provider.Record) error {
		got = append(got, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("ScanRecords gave %d records, EachRecord %d, or they differ", len(got), len(want))
	}

	for _, bf := range []ledger.BTFilter{{Provider: "stripe", From: from, To: to}, {SourceType: ledger.SourceCorrection},
		{SourceType: "payout"}, {}} {
		var want, got []ledger.BalanceTransaction
		err := st.View(ctx, func(tx ledger.ReadTx) error {
			if err := tx.EachBalanceTransaction(ctx, bf, func(b *ledger.BalanceTransaction) error {
				b.EntryID, b.PaymentID, b.FeeDetails, b.Description, b.ExchangeRate = 0, "", nil, "", decimal.Decimal{}
				want = append(want, *b)
				return nil
			}); err != nil {
				return err
			}
			return tx.(btScanner).ScanBalanceTransactions(ctx, bf, func(b *ledger.BalanceTransaction) error {
				got = append(got, *b)
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if (bf.SourceType != ledger.SourceCorrection && len(want) == 0) || !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: ScanBalanceTransactions gave %d, EachBalanceTransaction %d, or they differ", bf, len(got), len(want))
		}
	}

	sc := reconcile.Scope{Provider: "stripe", Grain: provider.BalanceGrain}
	if _, err := Reconcile(ctx, st, ledger.New(st, nil), sc, &Options{Now: func() time.Time { return sum.End }}); err != nil {
		t.Fatal(err)
	}
	links, err := st.Links(ctx, sc.Provider, sc.Grain)
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.LinkList(ctx, sc.Provider, sc.Grain, nil)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, l := range list {
		if _, twice := listed[l.ProviderID]; twice {
			t.Errorf("%s listed twice", l.ProviderID)
		}
		listed[l.ProviderID] = l.LedgerID
	}
	if len(links) == 0 || !maps.Equal(links, listed) {
		t.Errorf("LinkList gave %d links, Links %d, or they differ", len(listed), len(links))
	}
	// With ledger ids, the links of those ids, and no others.
	keep := func(id string) bool { return id[len(id)-1]%3 == 0 }
	var ids []string
	for _, lid := range links {
		if keep(lid) {
			ids = append(ids, lid)
		}
	}
	kept, err := st.LinkList(ctx, sc.Provider, sc.Grain, ids)
	if err != nil {
		t.Fatal(err)
	}
	wantKept := maps.Clone(links)
	maps.DeleteFunc(wantKept, func(_, lid string) bool { return !keep(lid) })
	gotKept := map[string]string{}
	for _, l := range kept {
		gotKept[l.ProviderID] = l.LedgerID
	}
	if len(wantKept) == 0 || len(wantKept) == len(links) || len(kept) != len(wantKept) || !maps.Equal(gotKept, wantKept) {
		t.Errorf("LinkList of ledger ids gave %d links, want %d of %d", len(kept), len(wantKept), len(links))
	}
}
