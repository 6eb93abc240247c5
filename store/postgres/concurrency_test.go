package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// TestConcurrentCaptureRefund runs many goroutines on several stores (each
// its own connection pool, as separate processes would have) against the
// same payments: every payment is captured by several at once, refunded in
// small random amounts by all of them, and some requests are sent under the
// same key by many workers at once. The books must come out as if the
// calls had run one at a time: one capture per payment, no over-refund, no
// lost balance update, every replay answered with the original result,
// Verify clean, every currency summing to zero.
func TestConcurrentCaptureRefund(t *testing.T) {
	const (
		stores    = 4
		perStore  = 6
		payments  = 5
		opsEach   = 40
		authorize = 10000 // minor units per payment
	)
	schema := testSchema(t)
	url := serverURL(t)
	ctx := context.Background()
	var ls []*ledger.Ledger
	for range stores {
		s, err := Open(ctx, url, &Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ls = append(ls, ledger.New(s, nil))
	}
	for p := range payments {
		if _, err := ls[0].Authorize(ctx, ledger.AuthorizeRequest{Key: fmt.Sprint("auth-", p), PaymentID: fmt.Sprint("pay_", p),
			Provider: "stripe", Amount: decimal.New(authorize, -2), Currency: "usd"}); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	captured := map[string]int64{} // by payment: the amount of the one capture that took
	refunded := map[string]int64{} // by payment: refunds that took, first executions only
	replays := map[string]int{}    // by shared key: calls that were not replays
	var hot int64                  // minor units posted to the hot account
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		t.Error(err)
	}
	var wg sync.WaitGroup
	for w := range stores * perStore {
		l := ls[w%stores]
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for op := range opsEach {
				pay := fmt.Sprint("pay_", rng.IntN(payments))
				switch k := rng.IntN(10); {
				case k == 0: // capture: many workers race, one wins
					amt := int64(5000 + rng.IntN(5000))
					res, err := l.Capture(ctx, ledger.CaptureRequest{Key: fmt.Sprintf("cap-%d-%d", w, op), PaymentID: pay,
						Amount: decimal.New(amt, -2), AvailableOn: time.Unix(1, 0)})
					switch {
					case err == nil:
						mu.Lock()
						if captured[pay] != 0 {
							t.Errorf("%s captured twice", pay)
						}
						captured[pay] = res.Payment.Captured
						mu.Unlock()
					case !errors.Is(err, ledger.ErrAlreadyCaptured):
						fail(fmt.Errorf("capture %s: %w", pay, err))
					}
				case k <= 6: // a refund of its own
					amt := int64(1 + rng.IntN(900))
					_, err := l.Refund(ctx, ledger.RefundRequest{Key: fmt.Sprintf("ref-%d-%d", w, op), PaymentID: pay,
						RefundID: fmt.Sprintf("re_%d_%d", w, op), Amount: decimal.New(amt, -2)})
					switch {
					case err == nil:
						mu.Lock()
						refunded[pay] += amt
						mu.Unlock()
					case !errors.Is(err, ledger.ErrOverRefund):
						fail(fmt.Errorf("refund %s: %w", pay, err))
					}
				case k <= 8: // a refund many workers send under one key
					key := fmt.Sprintf("shared-%s-%d", pay, op%4)
					res, err := l.Refund(ctx, ledger.RefundRequest{Key: key, PaymentID: pay, RefundID: "re_" + key, Amount: decimal.New(100, -2)})
					switch {
					case err == nil && !res.Replayed:
						mu.Lock()
						replays[key]++
						refunded[pay] += 100
						mu.Unlock()
					case err != nil && !errors.Is(err, ledger.ErrOverRefund):
						fail(fmt.Errorf("shared refund %s: %w", key, err))
					}
				default: // a journal entry on one hot account
					_, err := l.PostEntry(ctx, ledger.EntryInput{Key: fmt.Sprintf("hot-%d-%d", w, op), Postings: []ledger.PostingInput{
						ledger.Debit("assets:bank:ops", "usd", "0.01"), ledger.Credit("equity:capital", "usd", "0.01")}})
					if err != nil {
						fail(fmt.Errorf("hot entry: %w", err))
						continue
					}
					mu.Lock()
					hot++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()

	l := ls[0]
	var totalRefunded int64
	for p := range payments {
		id := fmt.Sprint("pay_", p)
		var pm *ledger.Payment
		if err := l.View(ctx, func(tx ledger.ReadTx) error {
			var err error
			pm, err = tx.Payment(ctx, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if pm.Captured != captured[id] || pm.Refunded != refunded[id] || pm.Refunded > pm.Captured || pm.Captured > pm.Authorized {
			t.Errorf("%s: authorized %d captured %d (calls say %d) refunded %d (calls say %d)", id, pm.Authorized,
				pm.Captured, captured[id], pm.Refunded, refunded[id])
		}
		totalRefunded += pm.Refunded
	}
	for key, n := range replays {
		if n != 1 {
			t.Errorf("%s executed %d times", key, n)
		}
	}
	bal := func(account string) int64 {
		v, err := l.Balance(ctx, account, "usd")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := bal("income:refunds"); -got != totalRefunded {
		t.Errorf("income:refunds %d, refunds %d", -got, totalRefunded)
	}
	if got := bal("assets:bank:ops"); got != hot {
		t.Errorf("hot account %d, want %d", got, hot)
	}
	verifyBooks(t, ctx, l)
	t.Logf("%d captures, %d refunded in total, %d hot entries, %d shared keys", len(captured), totalRefunded, hot, len(replays))
}
