package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/postgres"
)

const (
	mpProcesses  = 4
	mpGoroutines = 8
	mpPayments   = 6
	mpOps        = 30    // per goroutine
	mpAuthorized = 10000 // minor units per payment
)

// mpReport is what one child process saw succeed.
type mpReport struct {
	Captures map[string]int64 // payment → amount of the capture this process saw take (not a replay)
	Refunds  map[string]int64 // payment → refunds this process made
}

// Four processes (this test binary run again as children), each with eight
// goroutines on its own connection pool, capture and refund the same
// payments at once: each capture is tried by every worker under one key,
// and refunds of random amounts go on until the payments are exhausted.
// The books must come out as if the calls had run one at a time: one
// capture per payment, refunds never beyond it, no lost balance update,
// Verify clean, every currency summing to zero.
func TestMultiProcessCaptureRefund(t *testing.T) {
	if schema := os.Getenv("SETTLE_MP_SCHEMA"); schema != "" {
		mpChild(t, schema)
		return
	}
	url := serverURL(t)
	ctx := context.Background()
	schema := testSchema(t)
	st, err := postgres.Open(ctx, url, &postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := ledger.New(st, nil)
	for p := range mpPayments {
		if _, err := l.Authorize(ctx, ledger.AuthorizeRequest{Key: fmt.Sprint("auth-", p), PaymentID: fmt.Sprint("pay_", p),
			Provider: "stripe", Amount: decimal.New(mpAuthorized, -2), Currency: "usd"}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	reports := make([]mpReport, mpProcesses)
	for i := range mpProcesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestMultiProcessCaptureRefund$", "-test.v")
			cmd.Env = append(os.Environ(), "SETTLE_MP_SCHEMA="+schema, "SETTLE_MP_CHILD="+strconv.Itoa(i))
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("child %d: %v\n%s", i, err, out)
				return
			}
			for _, line := range splitLines(out) {
				if len(line) > 7 && line[:7] == "REPORT " {
					if err := json.Unmarshal([]byte(line[7:]), &reports[i]); err != nil {
						t.Errorf("child %d: %v", i, err)
					}
				}
			}
		}()
	}
	wg.Wait()

	captures := map[string]int{}
	refunded := map[string]int64{}
	var totalCaptured, totalRefunded int64
	for _, r := range reports {
		for p, amt := range r.Captures {
			captures[p]++
			totalCaptured += amt
		}
		for p, amt := range r.Refunds {
			refunded[p] += amt
			totalRefunded += amt
		}
	}
	for p := range mpPayments {
		id := fmt.Sprint("pay_", p)
		var pay *ledger.Payment
		if err := l.View(ctx, func(tx ledger.ReadTx) error {
			var err error
			pay, err = tx.Payment(ctx, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if captures[id] != 1 {
			t.Errorf("%s: %d processes saw their capture take, want 1", id, captures[id])
		}
		if pay.Refunded > pay.Captured || pay.Refunded != refunded[id] {
			t.Errorf("%s: refunded %d of %d captured; the processes made %d", id, pay.Refunded, pay.Captured, refunded[id])
		}
	}
	bal := func(account string) int64 {
		v, err := l.Balance(ctx, account, "usd")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := bal("income:sales"); got != totalCaptured {
		t.Errorf("income:sales %d, captures %d", got, totalCaptured)
	}
	if got := -bal("income:refunds"); got != totalRefunded { // debits to an income account
		t.Errorf("income:refunds %d, refunds %d", got, totalRefunded)
	}
	vs, err := l.Verify(ctx)
	if err != nil || len(vs) > 0 {
		t.Errorf("verify: %v %v", vs, err)
	}
	bals, err := l.Balances(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var posted, pending int64
	for _, b := range bals {
		posted += b.Posted
		pending += b.Pending
	}
	if posted != 0 || pending != 0 {
		t.Errorf("balances sum to %d posted, %d pending", posted, pending)
	}
	t.Logf("%d processes × %d goroutines: %d captured, %d refunded", mpProcesses, mpGoroutines, totalCaptured, totalRefunded)
}

// mpChild is one child process: its goroutines capture and refund, and it
// prints what succeeded.
func mpChild(t *testing.T, schema string) {
	ctx := context.Background()
	child, _ := strconv.Atoi(os.Getenv("SETTLE_MP_CHILD"))
	st, err := postgres.Open(ctx, serverURL(t), &postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := ledger.New(st, nil)
	var mu sync.Mutex
	rep := mpReport{Captures: map[string]int64{}, Refunds: map[string]int64{}}
	var wg sync.WaitGroup
	for g := range mpGoroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(child), uint64(g)))
			for i := range mpOps {
				id := fmt.Sprint("pay_", (g+i)%mpPayments)
				// Every worker captures under the payment's one key.
				res, err := l.Capture(ctx, ledger.CaptureRequest{Key: "cap-" + id, PaymentID: id, Amount: decimal.New(8000, -2),
					Fees: []ledger.Fee{{Amount: decimal.New(262, -2)}}})
				if err != nil {
					t.Errorf("capture %s: %v", id, err)
					return
				}
				if !res.Replayed {
					mu.Lock()
					rep.Captures[id] += 8000
					mu.Unlock()
				}
				amount := int64(1 + rng.IntN(700))
				_, err = l.Refund(ctx, ledger.RefundRequest{Key: fmt.Sprintf("ref-%d-%d-%d", child, g, i), PaymentID: id,
					RefundID: fmt.Sprintf("re_%d_%d_%d", child, g, i), Amount: decimal.New(amount, -2)})
				switch {
				case err == nil:
					mu.Lock()
					rep.Refunds[id] += amount
					mu.Unlock()
				case !errors.Is(err, ledger.ErrOverRefund):
					t.Errorf("refund %s: %v", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b, _ := json.Marshal(rep)
	fmt.Printf("REPORT %s\n", b)
}

func splitLines(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return append(out, string(b[start:]))
}
