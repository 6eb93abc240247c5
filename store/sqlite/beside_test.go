package sqlite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/settlehq/settle/ledger"
)

// A payment read back from the database while writes wait for the
// write-behind goroutine waits for them when one of them is its own, and
// otherwise runs at once, beside them. The goroutine is held back here, so
// that a read which did not wait for its payment's write would find the
// row missing or as it was, and one which waited for another's would not
// return until the hold is let go.
func TestPaymentReadsBesideQueuedWrites(t *testing.T) {
	ctx := context.Background()
	s := tempStore(t)
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var release chan struct{}
	laterHold = func() {
		if release != nil {
			<-release
		}
	}
	t.Cleanup(func() { laterHold = nil })
	// hold holds the goroutine back until let go; letGo lets it go after a
	// moment, from another goroutine, so that a read that waits returns.
	hold := func() { release = make(chan struct{}) }
	letGo := func() {
		r := release
		time.AfterFunc(50*time.Millisecond, func() { close(r) })
	}
	// unhurried fails unless read returns while the goroutine is held.
	unhurried := func(read func() error) error {
		done := make(chan error, 1)
		go func() { done <- read() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			close(release)
			<-done
			return errors.New("the read waited for writes that are not its payment's")
		}
	}
	err := s.Update(ctx, func(lt ledger.Tx) error {
		tx := lt.(*tx)
		old := authorizedPayment("pay_old", at)
		if err := tx.SavePayment(ctx, old); err != nil {
			return err
		}
		if err := tx.sync(); err != nil {
			return err
		}
		// The table's freshness is looked up once, with a wait: here.
		if _, err := tx.Payment(ctx, "pay_x"); !errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("pay_x: %v, want it missing", err)
		}
		hold()
		// Queued and held: a new payment, and a capture of another one.
		p := authorizedPayment("pay_new", at)
		if err := tx.SavePayment(ctx, p); err != nil {
			return err
		}
		other := authorizedPayment("pay_other", at)
		if err := tx.SavePayment(ctx, other); err != nil {
			return err
		}
		other.Status, other.Captured = ledger.PaymentCaptured, 100
		if err := tx.SavePayment(ctx, other); err != nil {
			return err
		}
		tx.later.send()
		tx.payments = paymentCache{} // as when the cache let them go
		// The old payment's write has run: read beside the held ones.
		if err := unhurried(func() error {
			got, err := tx.Payment(ctx, old.ID)
			if err == nil && got.Status != ledger.PaymentAuthorized {
				err = fmt.Errorf("%s read as %s", old.ID, got.Status)
			}
			if err == nil {
				err = tx.Prefetch(ctx, nil, []string{old.ID, "pay_never"})
			}
			return err
		}); err != nil {
			return err
		}
		// The others' writes are held: reading them waits.
		letGo()
		got, err := tx.Payment(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("%s, saved before: %w", p.ID, err)
		}
		hold()
		other.Status, other.Captured = ledger.PaymentRefunded, 100
		other.Refunded = 100
		if err := tx.SavePayment(ctx, other); err != nil {
			return err
		}
		tx.later.send()
		tx.payments = paymentCache{}
		letGo()
		if err := tx.Prefetch(ctx, nil, []string{other.ID, got.ID}); err != nil {
			return err
		}
		if got, err := tx.Payment(ctx, other.ID); err != nil || got.Status != ledger.PaymentRefunded {
			return fmt.Errorf("%s after its refund was handed over: %v %v", other.ID, got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeMarks forgets the marks of statements that have run, and only
// those, once it holds writeMarksFirst of them or twice what the last
// pruning left.
func TestWriteMarksForgetOnlyWhatRan(t *testing.T) {
	w := &writeBehind{}
	tx := &tx{later: w}
	var m writeMarks
	write := func(key string) {
		w.handed++
		m.note(tx, key)
	}
	for i := range 3 * writeMarksFirst {
		write(fmt.Sprint(i))
	}
	if len(m.last) != 3*writeMarksFirst || m.ran(tx, "0") {
		t.Fatalf("nothing ran: %d marks, key 0 ran %v", len(m.last), m.ran(tx, "0"))
	}
	// From here on all but the last ten statements have run.
	n := 0
	for ; len(m.last) > 100; n++ {
		if n > 4*writeMarksFirst {
			t.Fatalf("%d marks still, most of them run", len(m.last))
		}
		write(fmt.Sprint("new", n))
		w.ran.Store(w.handed - 10)
	}
	if n != writeMarksFirst {
		t.Errorf("pruned after %d more, want %d (twice the marks left before)", n, writeMarksFirst)
	}
	for i := range 3 * writeMarksFirst {
		if key := fmt.Sprint(i); !m.ran(tx, key) {
			t.Fatalf("key %s taken for not run", key)
		}
	}
	for i := n - 11; i < n; i++ {
		if key := fmt.Sprint("new", i); m.ran(tx, key) != (i == n-11) {
			t.Errorf("key %s ran %v", key, m.ran(tx, key))
		}
	}
	if !m.ran(tx) || !m.ran(tx, "never written") {
		t.Error("keys never written are taken for not run")
	}
}
