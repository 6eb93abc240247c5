package postgres

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// TestCopyEntriesLikeInsert writes the same entries twice, once a
// statement an entry (batches under copyFrom) and once through the binary
// COPY, and expects every column to read back the same: metadata, source,
// reversal and pending links, expiry, several currencies, unicode and
// extreme amounts and times.
func TestCopyEntriesLikeInsert(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, nil)
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.UTC)
	entries := func(prefix string, n int) []*ledger.Entry {
		out := make([]*ledger.Entry, n)
		for i := range out {
			e := &ledger.Entry{Key: fmt.Sprintf("%s-%d", prefix, i), Hash: fmt.Sprintf("h%064d", i), Phase: ledger.Posted,
				OccurredAt: at.Add(time.Duration(i) * time.Nanosecond), RecordedAt: at.Add(time.Hour),
				Description: "naïve café ☕ " + fmt.Sprint(i),
				Postings: []ledger.Posting{
					{Account: "assets:bank:ops", Currency: "usd", Amount: 50_000_000_000_000_000 - int64(i)},
					{Account: "income:sales", Currency: "usd", Amount: -50_000_000_000_000_000 + int64(i)},
					{Account: "assets:bank:eur", Currency: "eur", Amount: int64(i)},
					{Account: "income:sales", Currency: "eur", Amount: -int64(i)}}}
			switch i % 4 {
			case 1:
				e.Metadata = map[string]string{"order": fmt.Sprint(i), "quote\"d": "\\back\nslash"}
				e.Source = ledger.Source{Provider: "stripe", Type: "charge", ID: "ch_" + fmt.Sprint(i), Ref: "pi_x"}
			case 2:
				e.Phase, e.ExpiresAt = ledger.Pending, ledger.MaxTime
			case 3:
				e.OccurredAt = ledger.MinTime
			}
			out[i] = e
		}
		return out
	}
	n := copyFrom * 3
	var small, copied []*ledger.Entry
	if err := s.Update(ctx, func(tx ledger.Tx) error {
		small = nil
		for i := 0; i < n; i += copyFrom - 1 { // under copyFrom: one statement an entry
			es := entries("s", n)[i:min(i+copyFrom-1, n)]
			if _, err := tx.InsertEntries(ctx, es); err != nil {
				return err
			}
			small = append(small, es...)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx ledger.Tx) error {
		copied = entries("c", n)
		_, err := tx.InsertEntries(ctx, copied)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Links to stored entries, through both paths.
	link := func(prefix string, count int) []*ledger.Entry {
		es := entries(prefix, count)
		for i, e := range es {
			if e.Phase == ledger.Pending {
				e.Phase, e.ExpiresAt = ledger.Posted, time.Time{}
			}
			if i%2 == 0 {
				e.Reverses = copied[i].ID
			} else {
				e.PendingOf = small[i].ID
			}
		}
		return es
	}
	var linkedSmall, linkedCopied []*ledger.Entry
	if err := s.Update(ctx, func(tx ledger.Tx) error {
		linkedSmall = link("ls", 3)
		if _, err := tx.InsertEntries(ctx, linkedSmall); err != nil {
			return err
		}
		linkedCopied = link("lc", copyFrom)
		for i, e := range linkedCopied {
			e.Reverses, e.PendingOf = 0, 0
			if i%2 == 0 {
				e.Reverses = copied[i+4].ID
			} else {
				e.PendingOf = small[i+4].ID
			}
		}
		_, err := tx.InsertEntries(ctx, linkedCopied)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	read := func(e *ledger.Entry) *ledger.Entry {
		t.Helper()
		var got *ledger.Entry
		if err := s.View(ctx, func(tx ledger.ReadTx) error {
			var err error
			got, err = tx.Entry(ctx, e.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	same := func(a, b *ledger.Entry) {
		t.Helper()
		a, b = read(a), read(b)
		a.ID, b.ID = 0, 0
		a.Key, b.Key = "", ""
		if !reflect.DeepEqual(a, b) {
			t.Errorf("COPY stored\n%+v\nthe statement stored\n%+v", b, a)
		}
	}
	for i := range n {
		same(small[i], copied[i])
	}
	for i := range linkedSmall {
		a, b := read(linkedSmall[i]), read(linkedCopied[i])
		if (a.Reverses != 0) != (b.Reverses != 0) || (a.PendingOf != 0) != (b.PendingOf != 0) || b.Reverses+b.PendingOf == 0 {
			t.Errorf("links: statement %d/%d, COPY %d/%d", a.Reverses, a.PendingOf, b.Reverses, b.PendingOf)
		}
	}
	if got := read(linkedCopied[1]).PendingOf; got != small[5].ID {
		t.Errorf("COPY pending_of = %d, want %d", got, small[5].ID)
	}
	if got := read(linkedCopied[2]).Reverses; got != copied[6].ID {
		t.Errorf("COPY reverses = %d, want %d", got, copied[6].ID)
	}
	// The maintained balances are the postings' sums, whichever path
	// wrote them.
	var got, want []ledger.Balance
	if err := s.View(ctx, func(tx ledger.ReadTx) error {
		var err error
		if got, err = tx.Balances(ctx, ""); err != nil {
			return err
		}
		want, err = tx.BalancesAsOf(ctx, "", ledger.MaxTime)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	posted := map[string]int64{}
	for _, b := range got {
		posted[b.Account+" "+b.Currency] = b.Posted
	}
	for _, b := range want {
		if posted[b.Account+" "+b.Currency] != b.Posted {
			t.Errorf("%s %s: maintained %d, postings sum to %d", b.Account, b.Currency, posted[b.Account+" "+b.Currency], b.Posted)
		}
	}
}

// TestImportIDsFollowFiles imports files whose records repeat ids and
// overlap earlier files, and expects store ids to follow each file's order,
// every import's new ids above every earlier one's, and a record's fields
// (file and format where they differ from the import's, text with
// unicode, flags) to read back as added.
func TestImportIDsFollowFiles(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, nil)
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	rec := func(id string, amount int64, created time.Time) provider.Record {
		return provider.Record{Provider: "stripe", Format: "stripe-itemized-csv", Grain: provider.BalanceGrain, ID: id,
			Type: "charge", Currency: "usd", Amount: amount, Net: amount, Created: created, AvailableOn: created,
			File: "f.csv", Line: 2, Raw: "raw «" + id + "»", Description: "süß", Test: amount%2 == 0}
	}
	imp := func(sum string, recs ...provider.Record) provider.ImportStats {
		t.Helper()
		st, err := s.Import(ctx, provider.ImportFile{File: "f.csv", SHA256: sum}, func(k provider.Sink) error {
			for i := range recs {
				if err := k.Add(&recs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// Later records first in created order: ids follow the file, not time.
	other := rec("txn_3", 3, at)
	other.File, other.Format = "g.csv", "other-format"
	imp("a", rec("txn_2", 2, at.Add(time.Hour)), rec("txn_1", 1, at), rec("txn_2", 2, at.Add(time.Hour)), other)
	st := imp("b", rec("txn_1", 11, at), rec("txn_4", 4, at), rec("txn_5", 5, at))
	if st.Added != 2 || st.Updated != 1 {
		t.Errorf("second import: %+v", st)
	}
	// Providers and grains without stored records are copied straight
	// into the table, one COPY each, until one with stored records sends
	// it and the rest of the file to the staging table.
	whop := func(id string, amount int64) provider.Record {
		r := rec(id, amount, at.Add(time.Minute))
		r.Provider = "whop"
		return r
	}
	pay := rec("py_1", 7, at)
	pay.Grain = provider.PaymentGrain
	st = imp("c", whop("w_1", 1), pay, rec("txn_6", 6, at), whop("w_2", 2), rec("txn_1", 12, at))
	if st.Added != 4 || st.Updated != 1 || st.Records != 5 {
		t.Errorf("third import: %+v", st)
	}
	type row struct {
		id         int64
		recordID   string
		occurrence int
		importID   int64
	}
	var got []row
	rows, err := s.DB().QueryContext(ctx, `SELECT id, record_id, occurrence, import_id FROM `+s.quoted+`.provider_records ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.recordID, &r.occurrence, &r.importID); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	rows.Close()
	want := []string{"txn_2/1", "txn_1/1", "txn_2/2", "txn_3/1", "txn_4/1", "txn_5/1", "w_1/1", "py_1/1", "txn_6/1", "w_2/1"}
	if len(got) != len(want) {
		t.Fatalf("records %+v", got)
	}
	for i, r := range got {
		if fmt.Sprintf("%s/%d", r.recordID, r.occurrence) != want[i] {
			t.Errorf("record %d by id: %+v, want %s", i, r, want[i])
		}
	}
	var recs []provider.Record
	if err := s.EachRecord(ctx, provider.RecordFilter{}, func(r *provider.Record) error {
		recs = append(recs, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	byID := map[string]provider.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	if r := byID["txn_3"]; r.File != "g.csv" || r.Format != "other-format" || r.Raw != "raw «txn_3»" || r.Description != "süß" || r.Test {
		t.Errorf("txn_3 read back as %+v", r)
	}
	if r := byID["txn_1"]; r.Amount != 12 || r.File != "f.csv" || r.Format != "stripe-itemized-csv" {
		t.Errorf("updated txn_1 read back as %+v", r)
	}
	if r := byID["txn_4"]; !r.Test || r.Amount != 4 || !r.Created.Equal(at) {
		t.Errorf("txn_4 read back as %+v", r)
	}
	if r := byID["w_2"]; r.Provider != "whop" || r.Amount != 2 || !r.Test || r.Raw != "raw «w_2»" {
		t.Errorf("w_2 (staged) read back as %+v", r)
	}
	if r := byID["py_1"]; r.Grain != provider.PaymentGrain || r.Amount != 7 || r.Test {
		t.Errorf("py_1 (copied straight) read back as %+v", r)
	}
	// Each import's records point at it.
	var direct, staged int64
	if err := s.DB().QueryRowContext(ctx, `SELECT (SELECT import_id FROM `+s.quoted+`.provider_records WHERE record_id = 'w_1'),
		(SELECT import_id FROM `+s.quoted+`.provider_records WHERE record_id = 'w_2')`).Scan(&direct, &staged); err != nil {
		t.Fatal(err)
	}
	if direct != st.ImportID || staged != st.ImportID {
		t.Errorf("import ids %d and %d, want %d", direct, staged, st.ImportID)
	}
}
