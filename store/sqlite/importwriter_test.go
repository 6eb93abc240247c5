package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/provider"
)

// queryPlan is SQLite's plan of query, its steps joined by "; ".
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// The UPDATE of a batch's records stored before looks each up by its key:
// a plan that reads all the provider's records for each batch made updating
// an overlapping export quadratic.
func TestUpdateRecordsLooksUpByKey(t *testing.T) {
	s := tempStore(t)
	args := make([]any, 3+len(recordCols)*recordBatch)
	for i := range args {
		args[i] = int64(1)
	}
	got := queryPlan(t, s, updateRecords(recordBatch), args...)
	if want := "SCAN v; SEARCH r USING INDEX provider_records_key (record_id=? AND occurrence=? AND provider=? AND grain=?)"; !strings.Contains(got, want) {
		t.Errorf("plan %q, want it to contain %q", got, want)
	}
}

// Should two records of an import into an empty table share a key (the
// sink numbers repeats, so none do), building the unique index again
// fails, and with it the import: the insert's missing check is made up for
// before the transaction commits, not skipped.
func TestRebuiltIndexRefusesRepeatedKeys(t *testing.T) {
	s := tempStore(t)
	ctx := context.Background()
	err := s.withWrite(ctx, func(q querier) error {
		create, kept, err := dropIndexesIfEmpty(ctx, q)
		if err != nil {
			return err
		}
		if len(create) != 1 || create[0].name != "provider_records_key" || len(kept) != 1 || kept[0].name != "provider_records_created" {
			t.Errorf("of an empty table's indexes, dropped %v and kept %v; want the key dropped and the created kept", create, kept)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO imports (file, sha256, format, imported_at) VALUES ('f', 'x', 'test', 0)`); err != nil {
			return err
		}
		for range 2 {
			if _, err := q.ExecContext(ctx, `INSERT INTO provider_records (provider, grain, record_id, occurrence, currency, amount, created, import_id, line, raw)
				VALUES ('stripe', 'balance', 'txn_1', 1, 'usd', 100, 1, 1, 2, 'row')`); err != nil {
				return err
			}
		}
		return rebuildIndexes(ctx, q, create)
	})
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("err %v, want the unique index refusing the repeated key", err)
	}
	var rows int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM provider_records`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d records after the failed write, %v", rows, err)
	}
	if n := queryString(t, s.DB(), `SELECT count(*) FROM sqlite_schema WHERE name = 'provider_records_key'`); n != "1" {
		t.Error("the key index is gone after the rollback")
	}
}

// An import's rebuildIndexes moves the writer's temporary files to disk
// and gives it a helper thread, and sets the writer back as it was
// afterwards, inside the transaction: temporary files in memory, its own
// page cache, no helpers. Enough
// records for several runs of sortCacheKiB (whether SQLite sorted in runs
// is not visible from here; BENCHMARKS.md measured it) are built into
// indexes SQLite's integrity check finds whole.
func TestRebuildIndexesOnDiskRestoresTheWriter(t *testing.T) {
	s := tempStore(t)
	ctx := context.Background()
	const records = 200_000 // keys of about 14 MiB: runs of sortCacheKiB
	err := s.withWriteAlone(ctx, func(q querier) error {
		if ts := queryString(t, q, "PRAGMA temp_store"); ts != "2" {
			t.Errorf("an import's temp_store is %s before its build, want 2 (memory)", ts)
		}
		create, _, err := dropIndexesIfEmpty(ctx, q)
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO imports (file, sha256, format, imported_at) VALUES ('f', 'x', 'test', 0)`); err != nil {
			return err
		}
		// Ids in an order unlike the keys' (i * 7919 mod records).
		if _, err := q.ExecContext(ctx, `WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
			INSERT INTO provider_records (provider, grain, record_id, occurrence, currency, amount, created, import_id, line, raw)
			SELECT 'stripe', 'balance', printf('txn_%024d', i * 7919 % ?), 1, 'usd', i, i, 1, i + 2, 'row' FROM n`, records, records); err != nil {
			return err
		}
		if err := rebuildIndexes(ctx, q, create); err != nil {
			return err
		}
		if ts := queryString(t, q, "PRAGMA temp_store"); ts != "2" {
			t.Errorf("an import's temp_store is %s after its build, want 2 (memory)", ts)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok := s.writerPragma(t, "integrity_check"); ok != "ok" {
		t.Errorf("integrity_check: %s", ok)
	}
	want := map[string]string{"temp_store": "2", "threads": "0", "cache_size": fmt.Sprint(-s.opts.writerCacheKiB())}
	for pragma, v := range want {
		if got := s.writerPragma(t, pragma); got != v {
			t.Errorf("the writer's %s is %s after the rebuild, want %s", pragma, got, v)
		}
	}
}

// writerPragma returns PRAGMA name on the writer's connection.
func (s *Store) writerPragma(t *testing.T, name string) string {
	t.Helper()
	return queryString(t, s.writer, "PRAGMA "+name)
}

// queryString returns the one value query returns on q.
func queryString(t *testing.T, q querier, query string) string {
	t.Helper()
	var v string
	if err := q.QueryRowContext(context.Background(), query).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Records are in the order of provider_records_created when each one's
// provider, grain and time created is not before the last one's: a record
// of an earlier time after a later one breaks it, and so does one of an
// earlier provider or grain whatever its time.
func TestOrderKeyBefore(t *testing.T) {
	at := func(p, g string, created int64) orderKey { return orderKey{p, provider.Grain(g), created} }
	for _, c := range []struct {
		o, p orderKey
		want bool
	}{
		{at("stripe", "balance", 1), at("stripe", "balance", 2), true},
		{at("stripe", "balance", 2), at("stripe", "balance", 2), false},
		{at("stripe", "balance", 3), at("stripe", "balance", 2), false},
		{at("stripe", "balance", 9), at("stripe", "payout", 1), true},
		{at("stripe", "payout", 1), at("stripe", "balance", 9), false},
		{at("justifi", "payout", 9), at("stripe", "balance", 1), true},
		{at("whop", "balance", 1), at("stripe", "payout", 9), false},
	} {
		if got := c.o.before(c.p); got != c.want {
			t.Errorf("%+v before %+v: %v, want %v", c.o, c.p, got, c.want)
		}
	}
}

// The sink marks the first batch whose record comes before the one passed
// before it, and only when asked to follow the order: an import into a
// table with rows keeps no index in place, and has no order to watch.
func TestSinkFollowsOrderOnlyWhenAsked(t *testing.T) {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, follow := range []bool{true, false} {
		k := newSink(provider.ImportFile{File: "report.csv"}, 1, follow)
		for i, created := range []time.Time{at, at.Add(time.Minute), at} {
			r := &provider.Record{Provider: "stripe", Grain: provider.BalanceGrain, ID: fmt.Sprintf("txn_%d", i),
				Currency: "usd", Created: created, File: "report.csv", Line: i + 2}
			if err := k.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		if k.cur == nil || k.cur.unordered != follow || k.unordered != follow {
			t.Errorf("following the order %v: the batch is marked out of order %v, want %v", follow, k.cur != nil && k.cur.unordered, follow)
		}
	}
}
