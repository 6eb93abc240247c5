package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// bulkPlan is a plan that opens n exceptions, missing in the ledger, one
// for each of n provider records; repeat gives the last the first's
// fingerprint.
func bulkPlan(n int, repeat bool) reconcile.ExceptionPlan {
	es := make([]reconcile.Exception, n)
	for i := range es {
		id := fmt.Sprintf("txn_%08x", uint32(i)*2654435761) // distinct, in no order, as a provider's
		es[i] = reconcile.Exception{Kind: reconcile.MissingInLedger, Provider: "stripe", Grain: provider.BalanceGrain,
			Subject: "charge", ProviderID: id, Currency: "usd", Amount: int64(100 + i),
			At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Fingerprint: "missing_in_ledger|stripe|charge|" + id + "||"}
	}
	if repeat {
		es[n-1].Fingerprint = es[0].Fingerprint
	}
	return reconcile.ExceptionPlan{Open: es}
}

// saveBulkRun stores a run with plan.
func saveBulkRun(s *Store, plan reconcile.ExceptionPlan) error {
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	run := &reconcile.Run{Provider: "stripe", Grain: provider.BalanceGrain, StartedAt: at, FinishedAt: at}
	return s.UpdateRecon(context.Background(), func(tx reconcile.Tx) error {
		return tx.SaveRun(context.Background(), run, plan, nil)
	})
}

// A run that changes at least bulkIndexChanges entries of the index of
// open fingerprints, and at least half as many as the table has rows,
// drops the index before writing them; a smaller run, or one into a table
// of more than twice as many rows, keeps it in place.
func TestDropOpenFingerprintsOnlyForBulk(t *testing.T) {
	s := tempStore(t)
	ctx := context.Background()
	const present = `SELECT count(*) FROM sqlite_schema WHERE name = '` + openFingerprints + `'`
	try := func(n int) (dropped bool) {
		t.Helper()
		err := s.UpdateRecon(ctx, func(rt reconcile.Tx) error {
			wt := rt.(*tx)
			ixs, err := wt.dropOpenFingerprints(ctx, n)
			if err != nil {
				return err
			}
			dropped = len(ixs) == 1
			if got := queryString(t, wt.q, present); (got == "0") != dropped {
				t.Errorf("n=%d: returned %v, and the schema holds the index %s times", n, ixs, got)
			}
			return rebuildIndexes(ctx, wt.q, ixs)
		})
		if err != nil {
			t.Fatal(err)
		}
		return dropped
	}
	if try(bulkIndexChanges - 1) {
		t.Error("a run below bulkIndexChanges dropped the index")
	}
	if !try(bulkIndexChanges) {
		t.Error("a bulk run into an empty table kept the index")
	}
	// A table of 2 × bulkIndexChanges + 1 rows, resolved (so out of the
	// index), made in SQL.
	_, err := s.DB().Exec(`INSERT INTO recon_runs (provider, grain, window_from, window_to, started_at, finished_at,
		provider_records, ledger_records, inputs_digest, matched, mismatched, missing_in_ledger, missing_at_provider,
		duplicates, heuristic, payout_mismatches, opened, closed) VALUES ('stripe', 'balance', 0, 0, 0, 0, 0, 0, '', 0, 0, 0, 0, 0, 0, 0, 0, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.DB().Exec(`WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO recon_exceptions (fingerprint, provider, grain, kind, status, first_run, last_run, updated_at)
		SELECT 'f' || i, 'stripe', 'balance', 'missing_in_ledger', 'resolved', 1, 1, 0 FROM n`, 2*bulkIndexChanges+1)
	if err != nil {
		t.Fatal(err)
	}
	if try(bulkIndexChanges) {
		t.Error("a run changing fewer than half the table's rows dropped the index")
	}
	if !try(bulkIndexChanges + 1) {
		t.Error("a run changing half the table's rows kept the index")
	}
}

// The index of open fingerprints built after a bulk run is the one the
// schema declares, and it refuses a second open exception of a
// fingerprint, as before; a bulk run whose plan repeats a fingerprint is
// refused whole, and leaves the index in place.
func TestBulkOpenRebuildsTheUniqueIndex(t *testing.T) {
	s := tempStore(t)
	db := s.DB()
	const declared = `SELECT sql FROM sqlite_schema WHERE name = '` + openFingerprints + `'`
	want := queryString(t, db, declared)

	// Refused as an insert into the index would be: ErrInvalidState.
	err := saveBulkRun(s, bulkPlan(bulkIndexChanges+5, true))
	if !errors.Is(err, ledger.ErrInvalidState) || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("a bulk run repeating a fingerprint: err %v, want the unique index refusing it", err)
	}
	if n := queryString(t, db, `SELECT count(*) FROM recon_exceptions`) + queryString(t, db, `SELECT count(*) FROM recon_runs`); n != "00" {
		t.Errorf("exceptions and runs after the refused run: %s, want none", n)
	}
	if got := queryString(t, db, declared); got != want {
		t.Fatalf("the index after the refused run: %q, want %q", got, want)
	}

	// SaveRun drops and builds the index for a bulk run, as SQLite's
	// count of schema changes shows, and leaves it alone for a small one.
	schema := func() int {
		var v int
		if err := db.QueryRow(`PRAGMA schema_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := schema()
	if err := saveBulkRun(s, bulkPlan(bulkIndexChanges+5, false)); err != nil {
		t.Fatal(err)
	}
	if after := schema(); after <= before {
		t.Errorf("schema version %d after a bulk open, %d before: the index was not built again", after, before)
	}
	before = schema()
	small := bulkPlan(1, false)
	small.Open[0].Fingerprint = "small"
	if err := saveBulkRun(s, small); err != nil {
		t.Fatal(err)
	}
	if after := schema(); after != before {
		t.Errorf("schema version %d after a run opening one exception, %d before: the index was built again", after, before)
	}
	if got := queryString(t, db, declared); got != want {
		t.Errorf("the index after a bulk run: %q, want %q", got, want)
	}
	if got := queryString(t, db, `PRAGMA integrity_check`); got != "ok" {
		t.Errorf("integrity check: %s", got)
	}
	// The build sorted with temporary files on disk; the writer keeps
	// its own in memory again (writerTempStore).
	err = s.UpdateRecon(context.Background(), func(rt reconcile.Tx) error {
		if got := queryString(t, rt.(*tx).q, `PRAGMA temp_store`); got != "2" {
			t.Errorf("the writer's temp_store after a bulk run: %s, want 2 (memory)", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fp := queryString(t, db, `SELECT fingerprint FROM recon_exceptions ORDER BY id LIMIT 1`)
	openAgain := func() error {
		_, err := db.Exec(`INSERT INTO recon_exceptions (fingerprint, provider, grain, kind, status, first_run, last_run, updated_at)
			VALUES (?, 'stripe', 'balance', 'missing_in_ledger', 'open', 1, 1, 0)`, fp)
		return err
	}
	if err := openAgain(); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("a second open exception of %q: err %v, want the unique index refusing it", fp, err)
	}

	// A run that closes them all builds the index after them too: it is
	// then empty, and the fingerprint may open again once.
	var known []reconcile.Exception
	err = s.UpdateRecon(context.Background(), func(rt reconcile.Tx) error {
		var err error
		known, err = rt.KnownExceptions(context.Background(), "stripe", provider.BalanceGrain)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	before = schema()
	if err := saveBulkRun(s, reconcile.ExceptionPlan{Close: known}); err != nil {
		t.Fatal(err)
	}
	if after := schema(); after <= before {
		t.Errorf("schema version %d after a bulk close, %d before: the index was not built again", after, before)
	}
	if n := queryString(t, db, `SELECT count(*) FROM recon_exceptions WHERE status = 'resolved'`); n != fmt.Sprint(len(known)) {
		t.Errorf("%s exceptions resolved by the bulk close, want %d", n, len(known))
	}
	if got := queryString(t, db, declared); got != want {
		t.Errorf("the index after a bulk close: %q, want %q", got, want)
	}
	if got := queryString(t, db, `PRAGMA integrity_check`); got != "ok" {
		t.Errorf("integrity check after the bulk close: %s", got)
	}
	if err := openAgain(); err != nil {
		t.Errorf("opening %q again after it closed: %v", fp, err)
	}
	if err := openAgain(); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Errorf("a second open exception of %q after the bulk close: err %v, want the unique index refusing it", fp, err)
	}
}

// A store that has just migrated a new database can still move its
// writer's temporary files to disk inside a transaction, as rebuildIndexes
// does for its sort: the migrations' temporary table does not leave the
// temporary database open.
func TestWriterMovesTempFilesAfterMigrating(t *testing.T) {
	s := tempStore(t)
	ctx := context.Background()
	err := s.UpdateRecon(ctx, func(rt reconcile.Tx) error {
		q := rt.(*tx).q
		if _, err := q.ExecContext(ctx, "PRAGMA temp_store = FILE"); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, writerTempStore)
		return err
	})
	if err != nil {
		t.Fatalf("moving the writer's temporary files in a transaction: %v", err)
	}
}
