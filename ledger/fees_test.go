package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// A capture whose fees exceed the amount captured is refused: its charge
// would have a negative net. Fees equal to the amount (net zero) are kept.
func TestCaptureFeesAboveTheAmountAreRefused(t *testing.T) {
	e := newEnv(t, nil)
	must(e.l.Authorize(e.ctx, ledger.AuthorizeRequest{Key: "a", PaymentID: "pa", Provider: "stripe", Currency: "usd", Amount: dec("10"), At: t0})).ok(t)
	before := dump(t, e.store.DB())
	for _, req := range []ledger.CaptureRequest{
		{Key: "c1", PaymentID: "pn", Provider: "stripe", Currency: "usd", Amount: dec("10.00"), At: t0,
			Fees: []ledger.Fee{{Type: "processing", Amount: dec("10.01")}}},
		{Key: "c2", PaymentID: "pn", Provider: "stripe", Currency: "usd", Amount: dec("10.00"), At: t0,
			Fees: []ledger.Fee{{Type: "processing", Amount: dec("6")}, {Type: "fx", Amount: dec("5")}}},
		// The authorized amount, captured by default.
		{Key: "c3", PaymentID: "pa", At: t0, Fees: []ledger.Fee{{Amount: dec("12")}}},
	} {
		_, err := e.l.Capture(e.ctx, req)
		if !errors.Is(err, ledger.ErrInvalidAmount) || !strings.Contains(err.Error(), "exceed the 10.00 USD captured") {
			t.Errorf("%s: err = %v, want ErrInvalidAmount naming the fees and the amount", req.Key, err)
		}
	}
	if after := dump(t, e.store.DB()); after != before {
		t.Errorf("refused captures wrote:\n%s", after)
	}
	res := must(e.l.Capture(e.ctx, ledger.CaptureRequest{Key: "c4", PaymentID: "pa", At: t0, Fees: []ledger.Fee{{Amount: dec("10")}}})).ok(t)
	if bt := res.BalanceTransaction; bt.Net != 0 || bt.Fee != 1000 {
		t.Errorf("fees equal to the amount: net %d fee %d, want 0 and 1000", bt.Net, bt.Fee)
	}
	e.verify(t)
}
