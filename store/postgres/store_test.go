package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver for TestConstructors
	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // a database/sql driver that is not pgx, for TestConstructors

	"github.com/settlehq/settle/ledger"
)

func TestConstructors(t *testing.T) {
	ctx := context.Background()
	url := serverURL(t)
	post := func(t *testing.T, st ledger.Store) {
		t.Helper()
		l := ledger.New(st, nil)
		if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "k", Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("sql.DB", func(t *testing.T) {
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := New(ctx, db, &Options{Schema: testSchema(t)})
		if err != nil {
			t.Fatal(err)
		}
		post(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.PingContext(ctx); err != nil {
			t.Errorf("Close closed the caller's database: %v", err)
		}
	})
	t.Run("pgxpool", func(t *testing.T) {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		s, err := NewPool(ctx, pool, &Options{Schema: testSchema(t)})
		if err != nil {
			t.Fatal(err)
		}
		post(t, s)
		s.Close()
		if err := pool.Ping(ctx); err != nil {
			t.Errorf("Close closed the caller's pool: %v", err)
		}
	})
	t.Run("not pgx", func(t *testing.T) {
		db, err := sql.Open("sqlite3", ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, err = New(ctx, db, nil)
		wantErr(t, "sqlite3 database", err, ErrDriver)
	})
	t.Run("schema name", func(t *testing.T) {
		for _, name := range []string{"Settle", "a-b", "x; DROP TABLE y", "1abc"} {
			_, err := Open(ctx, url, &Options{Schema: name})
			wantErr(t, name, err, ErrSchemaName)
		}
	})
}

// TestRebind checks that sqlx binds the store's driver name to $n: under
// "pgx/v5", which sqlx does not know, Rebind would keep '?' silently.
func TestRebind(t *testing.T) {
	s := openTest(t, nil)
	if got := s.db.Rebind("SELECT ? WHERE a = ?"); got != "SELECT $1 WHERE a = $2" {
		t.Errorf("Rebind gives %q", got)
	}
	if sqlx.BindType(driverName) != sqlx.DOLLAR {
		t.Errorf("bind type of %s is %d", driverName, sqlx.BindType(driverName))
	}
	var n int
	if err := s.db.Get(&n, s.db.Rebind("SELECT ?::int + ?::int"), 2, 3); err != nil || n != 5 {
		t.Errorf("rebound query: %d, %v", n, err)
	}
}

// TestConcurrentMigrations opens one new schema from many stores at once,
// with and without the advisory lock: each must come up, and each migration
// be recorded once.
func TestConcurrentMigrations(t *testing.T) {
	ctx := context.Background()
	url := serverURL(t)
	for _, lock := range []bool{true, false} {
		t.Run(fmt.Sprint("lock=", lock), func(t *testing.T) {
			schema := testSchema(t)
			var wg sync.WaitGroup
			errs := make([]error, 6)
			for i := range errs {
				wg.Go(func() {
					pool, err := pgxpool.New(ctx, url)
					if err != nil {
						errs[i] = err
						return
					}
					defer pool.Close()
					db := sqlx.NewDb(openDBFromPool(pool), driverName)
					defer db.Close()
					s := &Store{db: db, schema: schema, quoted: `"` + schema + `"`, now: time.Now, log: discard(),
						attempts: DefaultMaxAttempts, accounts: map[string]int64{}, names: map[int64]string{}}
					errs[i] = s.migrateLocked(ctx, lock)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("migrator %d: %v", i, err)
				}
			}
			s, err := Open(ctx, url, &Options{Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var versions, rows int
			if err := s.db.QueryRow(s.sql(`SELECT COUNT(DISTINCT version), COUNT(*) FROM {schema}.schema_migrations`)).Scan(&versions, &rows); err != nil {
				t.Fatal(err)
			}
			migs, _ := migrations()
			if versions != len(migs) || rows != len(migs) {
				t.Errorf("%d versions in %d rows, want %d", versions, rows, len(migs))
			}
		})
	}
}

// TestClosedPeriodAcrossStores closes the books from one store while
// another has the closed period cached: the other's next write dated in
// the closed period is refused.
func TestClosedPeriodAcrossStores(t *testing.T) {
	ctx := context.Background()
	schema := testSchema(t)
	a, b := ledger.New(openSchema(t, schema), nil), ledger.New(openSchema(t, schema), nil)
	at := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	entry := func(key string, at time.Time) ledger.EntryInput {
		return ledger.EntryInput{Key: key, OccurredAt: at, Postings: []ledger.PostingInput{
			ledger.Debit("assets:bank:ops", "usd", "1"), ledger.Credit("equity:capital", "usd", "1")}}
	}
	if _, err := b.PostEntry(ctx, entry("b1", at)); err != nil { // b caches "not closed"
		t.Fatal(err)
	}
	if err := a.ClosePeriod(ctx, at.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := b.PostEntry(ctx, entry("b2", at))
	wantErr(t, "write into a period another store closed", err, ledger.ErrClosedPeriod)
	if _, err := b.PostEntry(ctx, entry("b3", at.Add(48*time.Hour))); err != nil {
		t.Errorf("write after the closed period: %v", err)
	}
}

func TestErrorsByCode(t *testing.T) {
	s := openTest(t, nil)
	err := s.Update(context.Background(), func(tx ledger.Tx) error {
		return tx.SaveRefund(context.Background(), &ledger.Refund{ID: "re_1", PaymentID: "missing", Currency: "usd", EntryID: 1, CreatedAt: time.Now()})
	})
	if err == nil || errors.Is(err, ErrConflict) {
		t.Errorf("a foreign key violation: %v", err)
	}
}
