package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/sqlite"
)

// errLog collects unexpected errors from goroutines.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errLog) report(t *testing.T) {
	t.Helper()
	for i, err := range l.errs {
		if i == 10 {
			t.Errorf("... and %d more", len(l.errs)-10)
			break
		}
		t.Errorf("unexpected error: %v", err)
	}
}

// tally sums the successful refunds per payment.
type tally struct {
	mu       sync.Mutex
	refunds  map[string]int64
	captures map[string]int
	n        int
}

func (ta *tally) refund(payment string, amt int64) {
	ta.mu.Lock()
	ta.refunds[payment] += amt
	ta.n++
	ta.mu.Unlock()
}

func (ta *tally) capture(payment string) {
	ta.mu.Lock()
	ta.captures[payment]++
	ta.mu.Unlock()
}

// Many goroutines capture and refund the same few payments at once. Exactly
// one capture of each payment wins, refunds never exceed what was captured,
// none is lost, and the only refusals are the expected ones: no busy or
// locked database.
func TestConcurrentCapturesAndRefunds(t *testing.T) {
	const (
		workers  = 16
		payments = 4
	)
	iters := 25
	if testing.Short() {
		iters = 8
	}
	e := newEnv(t, nil)
	for i := 0; i < payments; i++ {
		r := authorizeReq(fmt.Sprint("pay_", i), "1000.00")
		must(e.l.Authorize(e.ctx, r)).ok(t)
	}
	ta := &tally{refunds: map[string]int64{}, captures: map[string]int{}}
	var bad errLog
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < iters; i++ {
				pay := fmt.Sprint("pay_", rng.Intn(payments))
				key := fmt.Sprintf("w%d-%d", w, i)
				switch r := rng.Intn(10); {
				case r < 2:
					amt := 50000 + rng.Int63n(50001) // 500.00 to 1000.00
					_, err := e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "cap-" + key, PaymentID: pay,
						Amount: ledger.FromMinor(amt, ledger.Currency{Code: "usd", Digits: 2}),
						Fees:   []ledger.Fee{{Type: "stripe_fee", Amount: dec("1.00")}}})
					switch {
					case err == nil:
						ta.capture(pay)
					case !errors.Is(err, ledger.ErrAlreadyCaptured):
						bad.add(fmt.Errorf("capture %s: %w", key, err))
					}
				case r < 9:
					amt := 1 + rng.Int63n(30000)
					_, err := e.l.Refund(e.ctx, ledger.RefundRequest{Key: "rf-" + key, PaymentID: pay, RefundID: "re-" + key,
						Amount: ledger.FromMinor(amt, ledger.Currency{Code: "usd", Digits: 2})})
					switch {
					case err == nil:
						ta.refund(pay, amt)
					case !errors.Is(err, ledger.ErrOverRefund):
						bad.add(fmt.Errorf("refund %s: %w", key, err))
					}
				default:
					// Readers run beside the writers.
					if _, err := e.l.Balances(e.ctx, "income"); err != nil {
						bad.add(fmt.Errorf("balances: %w", err))
					}
					if vs, err := e.l.Verify(e.ctx); err != nil || len(vs) > 0 {
						bad.add(fmt.Errorf("verify during the run: %v %v", vs, err))
					}
				}
			}
		}(w)
	}
	wg.Wait()
	bad.report(t)

	var total int64
	for i := 0; i < payments; i++ {
		id := fmt.Sprint("pay_", i)
		p := e.payment(t, id)
		if ta.captures[id] > 1 {
			t.Errorf("%s captured %d times", id, ta.captures[id])
		}
		if (p.Captured > 0) != (ta.captures[id] == 1) {
			t.Errorf("%s: captured %d, %d captures succeeded", id, p.Captured, ta.captures[id])
		}
		if p.Refunded > p.Captured {
			t.Errorf("%s: refunded %d > captured %d", id, p.Refunded, p.Captured)
		}
		if p.Refunded != ta.refunds[id] {
			t.Errorf("%s: refunded %d, successful refunds sum to %d", id, p.Refunded, ta.refunds[id])
		}
		total += ta.refunds[id]
	}
	if got := must(e.l.Balance(e.ctx, "income:refunds", "usd")).ok(t); -got != total {
		t.Errorf("income:refunds = %d, successful refunds sum to %d", -got, total)
	}
	if ta.n == 0 {
		t.Error("no refund succeeded")
	}
	t.Logf("%d refunds for %s", ta.n, ledger.FormatMinor(total, 2))
	e.verify(t)
}

// Two stores opened on one file stand for two processes: their writers
// queue on SQLite's lock instead of failing with SQLITE_BUSY.
func TestTwoStoresOnOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	var ledgers [2]*ledger.Ledger
	for i := range ledgers {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ledgers[i] = ledger.New(s, nil)
	}
	iters := 20
	if testing.Short() {
		iters = 6
	}
	// Shared payments, refunded through both stores.
	for i := 0; i < 2; i++ {
		must(ledgers[i].Capture(ctx, chargeReq(fmt.Sprint("shared_", i), "500.00", ""))).ok(t)
	}
	ta := &tally{refunds: map[string]int64{}, captures: map[string]int{}}
	var bad errLog
	var wg sync.WaitGroup
	const workers = 8
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			l := ledgers[w%2]
			rng := rand.New(rand.NewSource(int64(100 + w)))
			usd := ledger.Currency{Code: "usd", Digits: 2}
			for i := 0; i < iters; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				at := t0.Add(time.Duration(i) * time.Minute)
				own := "own_" + key
				amt := 100 + rng.Int63n(10000)
				if _, err := l.Capture(ctx, ledger.CaptureRequest{Key: "cap-" + key, PaymentID: own, Provider: "stripe",
					Currency: "usd", Amount: ledger.FromMinor(amt, usd), At: at}); err != nil {
					bad.add(fmt.Errorf("capture %s: %w", key, err))
					continue
				}
				ta.capture(own)
				if _, err := l.Refund(ctx, ledger.RefundRequest{Key: "rf-" + key, PaymentID: own, RefundID: "re-" + key,
					Amount: ledger.FromMinor(amt/2, usd), At: at}); err != nil {
					bad.add(fmt.Errorf("refund %s: %w", key, err))
				} else {
					ta.refund(own, amt/2)
				}
				shared := fmt.Sprint("shared_", rng.Intn(2))
				ramt := 1 + rng.Int63n(5000)
				_, err := l.Refund(ctx, ledger.RefundRequest{Key: "srf-" + key, PaymentID: shared, RefundID: "sre-" + key,
					Amount: ledger.FromMinor(ramt, usd), At: at})
				switch {
				case err == nil:
					ta.refund(shared, ramt)
				case !errors.Is(err, ledger.ErrOverRefund):
					bad.add(fmt.Errorf("shared refund %s: %w", key, err))
				}
				if _, err := l.PostEntry(ctx, ledger.EntryInput{Key: "adj-" + key, OccurredAt: at, Postings: []ledger.PostingInput{
					ledger.Debit("assets:stripe:available", "usd", "0.01"), ledger.Credit("income:adjustments", "usd", "0.01")}}); err != nil {
					bad.add(fmt.Errorf("entry %s: %w", key, err))
				}
				if _, err := l.Balances(ctx, ""); err != nil {
					bad.add(fmt.Errorf("balances: %w", err))
				}
			}
		}(w)
	}
	wg.Wait()
	bad.report(t)

	var refunds int64
	for _, r := range ta.refunds {
		refunds += r
	}
	for i, l := range ledgers {
		if got := must(l.Balance(ctx, "income:refunds", "usd")).ok(t); -got != refunds {
			t.Errorf("store %d: income:refunds = %d, successful refunds sum to %d", i, -got, refunds)
		}
		if got := must(l.Balance(ctx, "income:adjustments", "usd")).ok(t); got != int64(workers*iters) {
			t.Errorf("store %d: income:adjustments = %d, want %d", i, got, workers*iters)
		}
		vs := must(l.Verify(ctx)).ok(t)
		for _, v := range vs {
			t.Errorf("store %d: violation: %s", i, v)
		}
	}
	var p *ledger.Payment
	for i := 0; i < 2; i++ {
		id := fmt.Sprint("shared_", i)
		must(0, ledgers[i].View(ctx, func(tx ledger.ReadTx) error {
			var err error
			p, err = tx.Payment(ctx, id)
			return err
		})).ok(t)
		if p.Refunded != ta.refunds[id] || p.Refunded > p.Captured {
			t.Errorf("%s: refunded %d of %d, successful refunds sum to %d", id, p.Refunded, p.Captured, ta.refunds[id])
		}
	}
}
