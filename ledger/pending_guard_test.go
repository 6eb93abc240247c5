package ledger_test

import (
	"errors"
	"testing"

	"github.com/settlehq/settle/ledger"
)

// A payment's authorization is resolved through Capture or Cancel only, so
// that the payment's status moves with it.
func TestPaymentAuthorizationNotResolvableDirectly(t *testing.T) {
	e := newEnv(t, nil)
	res := must(e.l.Authorize(e.ctx, ledger.AuthorizeRequest{Key: "a1", PaymentID: "p1", Provider: "stripe",
		Amount: dec("10.00"), Currency: "usd"})).ok(t)
	before := dump(t, e.store.DB())
	if _, err := e.l.PostPending(e.ctx, ledger.PostPendingRequest{Key: "pp1", EntryID: res.Entry.ID}); !errors.Is(err, ledger.ErrInvalidState) {
		t.Errorf("PostPending of an authorization: %v, want ErrInvalidState", err)
	}
	if err := e.l.VoidPending(e.ctx, "vp1", res.Entry.ID); !errors.Is(err, ledger.ErrInvalidState) {
		t.Errorf("VoidPending of an authorization: %v, want ErrInvalidState", err)
	}
	if after := dump(t, e.store.DB()); after != before {
		t.Errorf("refused calls changed the database:\n%s", diffDumps(before, after))
	}
	must(e.l.Cancel(e.ctx, ledger.CancelRequest{Key: "c1", PaymentID: "p1"})).ok(t)
	if p := e.payment(t, "p1"); p.Status != ledger.PaymentCanceled {
		t.Errorf("status %s after Cancel", p.Status)
	}
	e.verify(t)
}
