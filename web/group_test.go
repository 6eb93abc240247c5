package web

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/postgres"
	"github.com/settlehq/settle/store/storetest"
)

// Posts that queue while a group runs are recorded together, each in a
// savepoint: in a group of twenty-one, the posts the ledger refuses, or
// that do not parse, are answered as they were alone and leave nothing;
// the good ones land once each, one of them twice in the group (the second
// a replay); a post after the group has its own transaction. On SQLite,
// and on PostgreSQL when SETTLE_TEST_POSTGRES names a server.
func TestPostsQueuedTogetherLandAlone(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		e := newEnv(t, nil)
		testPostsQueuedTogether(t, e.st, e.books)
	})
	t.Run("postgres", func(t *testing.T) {
		st := postgresStore(t)
		testPostsQueuedTogether(t, st, ledger.New(st, &ledger.Options{Now: func() time.Time { return testNow }}))
	})
}

// postgresStore opens a store in a fresh schema on the test server
// (storetest.PostgresSchema), closed before the schema is dropped.
func postgresStore(t *testing.T) *postgres.Store {
	t.Helper()
	server, schema := storetest.PostgresSchema(t, "settle_web_")
	st, err := postgres.Open(context.Background(), server, &postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testPostsQueuedTogether(t *testing.T, st app.Store, books *ledger.Ledger) {
	s, err := New(st, books, &Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	entries := func() int {
		n := 0
		err := books.View(context.Background(), func(tx ledger.ReadTx) error {
			return tx.EachEntry(context.Background(), ledger.EntryFilter{}, func(*ledger.Entry) error { n++; return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	capture := func(id, payment string) []byte {
		return fmt.Appendf(nil, `{"id":%q,"type":"payment.captured","at":"2026-11-03T10:00:00Z","payment":%q,"provider":"stripe","currency":"usd","amount":"10.00"}`, id, payment)
	}
	type post struct {
		body    []byte
		applied int // events recorded
		replays int
		bad     bool
	}
	var posts []post
	for i := range 16 {
		p := post{body: capture(fmt.Sprintf("g%d", i), fmt.Sprintf("order-g%d", i)), applied: 1}
		switch {
		case i%5 == 3: // refused by the ledger: a refund of a payment never captured
			p = post{body: fmt.Appendf(nil, `{"id":"bad%d","type":"payment.refunded","at":"2026-11-04T10:00:00Z","payment":"order-none-%d","refund":"r%d","amount":"1.00"}`, i, i, i), bad: true}
		case i%5 == 4: // does not parse
			p = post{body: fmt.Appendf(nil, `{"id":"bad%d","type":"payment.captured","amount":12}`, i), bad: true}
		case i%7 == 1: // two events in one post
			p.body = append(append(p.body, '\n'), capture(fmt.Sprintf("g%d-b", i), fmt.Sprintf("order-g%d-b", i))...)
			p.applied = 2
		}
		posts = append(posts, p)
	}
	// The same event twice in the group: recorded once, replayed once,
	// whichever of the two queued first.
	twin := len(posts)
	posts = append(posts, post{body: capture("g0", "order-g0"), replays: 1})
	for i := range 4 {
		posts = append(posts, post{body: capture(fmt.Sprintf("h%d", i), fmt.Sprintf("order-h%d", i)), applied: 1})
	}
	before := entries()
	// Hold the run, queue every post as a follower, then lead them.
	s.group.mu.Lock()
	s.group.running = true
	s.group.mu.Unlock()
	type answer struct {
		applied, replays, errs int
	}
	answers := make([]answer, len(posts))
	var wg sync.WaitGroup
	for i, p := range posts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, errs := s.record(context.Background(), p.body)
			answers[i] = answer{sum.Applied, sum.Replayed, len(errs)}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.group.mu.Lock()
		n := len(s.group.queue)
		s.group.mu.Unlock()
		if n == len(posts) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d posts queued", n, len(posts))
		}
		time.Sleep(time.Millisecond)
	}
	s.lead(context.Background(), nil)
	wg.Wait()
	if s.group.largest != len(posts) || s.group.alone != 0 {
		t.Errorf("the largest group recorded %d posts, want all %d; %d groups recorded their posts alone, want none",
			s.group.largest, len(posts), s.group.alone)
	}
	if a, b := answers[0], answers[twin]; a.errs == 0 && b.errs == 0 && a.applied+b.applied == 1 && a.replays+b.replays == 1 &&
		a.applied != a.replays {
		answers[0], answers[twin] = answer{applied: 1}, answer{replays: 1} // as the posts list them
	}
	want := 0
	for i, p := range posts {
		a := answers[i]
		switch {
		case p.bad && (a.errs == 0 || a.applied != 0):
			t.Errorf("post %d (bad): %+v", i, a)
		case !p.bad && (a.errs != 0 || a.applied != p.applied || a.replays != p.replays):
			t.Errorf("post %d: %+v, want %d recorded, %d replayed", i, a, p.applied, p.replays)
		}
		want += p.applied
	}
	// Each capture books one entry.
	if got := entries() - before; got != want {
		t.Errorf("%d entries written, want %d", got, want)
	}
	// The run is over: a post alone leads its own.
	if sum, errs := s.record(context.Background(), capture("late", "order-late")); len(errs) != 0 || sum.Applied != 1 {
		t.Errorf("a post after the group: %+v %v", sum, errs)
	}
	if s.group.running || len(s.group.queue) != 0 {
		t.Errorf("after the posts: running %v, %d queued", s.group.running, len(s.group.queue))
	}
}
