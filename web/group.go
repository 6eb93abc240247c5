package web

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/settlehq/settle/feed"
	"github.com/settlehq/settle/ledger"
)

// maxGroup bounds the posts one transaction records.
const maxGroup = 64

// posting is one event post's body, waiting for the transaction that
// records it, and what recording it gave.
type posting struct {
	body []byte
	sum  feed.Summary
	errs []error
	done chan struct{}
}

// groupCommit records the event posts that arrive while a transaction is
// recording others in one transaction of their own, each post in a
// savepoint (ledger.Atomic): a post with a bad line is rolled back alone
// and answered as it was in a transaction of its own, and the others land.
// A post alone is recorded as before, in its own transaction. Under load
// the posts queue while one group commits and the next group takes them
// all, so each commit, and the pages of the balances every post changes,
// is written once a group rather than once a post (BENCHMARKS.md, "The
// HTTP API under load").
//
// It has no goroutine of its own: the post that finds no group running
// leads, recording groups until its own is recorded, and hands what queued
// meanwhile to a goroutine that leads until the queue is empty.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*posting
	running bool
	// largest is the most posts one transaction recorded, and alone the
	// groups whose transaction failed and whose posts were recorded one
	// by one: for tests.
	largest, alone int
}

// record records body, a feed file of one post, and returns what
// feed.ApplyFile gave for it.
func (s *Server) record(ctx context.Context, body []byte) (feed.Summary, []error) {
	p := &posting{body: body, done: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		// A group's transaction is its posts', not one client's: it goes
		// on should the leader's client leave.
		s.lead(context.WithoutCancel(ctx), p)
	}
	<-p.done
	return p.sum, p.errs
}

// lead records groups from the queue until mine is recorded (or, mine nil,
// until the queue is empty), then hands what is left to a new leader.
func (s *Server) lead(ctx context.Context, mine *posting) {
	g := &s.group
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		group := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.largest = max(g.largest, n)
		g.mu.Unlock()
		s.recordGroup(ctx, group)
		if mine == nil {
			continue
		}
		select {
		case <-mine.done:
			g.mu.Lock()
			more := len(g.queue) > 0
			g.running = more
			g.mu.Unlock()
			if more {
				go s.lead(ctx, nil)
			}
			return
		default:
		}
	}
}

// recordGroup records the posts of group, several in one transaction, each
// in a savepoint. Should that transaction fail as a whole (not one post's
// events: a busy database, a lost connection), each post is recorded again
// in a transaction of its own, so that no post fails for another. A panic
// while recording fails the group's posts rather than leaving them waiting.
func (s *Server) recordGroup(ctx context.Context, group []*posting) {
	defer func() {
		if r := recover(); r != nil {
			s.o.Logger.Error("recording event posts", "panic", r)
			for _, p := range group {
				p.sum, p.errs = feed.Summary{}, []error{fmt.Errorf("recording the events failed: %v", r)}
			}
		}
		for _, p := range group {
			close(p.done)
		}
	}()
	if len(group) > 1 {
		err := s.books.Atomic(ctx, func(tl *ledger.Ledger) error {
			for _, p := range group {
				p.sum, p.errs = feed.ApplyFile(ctx, tl, "body", bytes.NewReader(p.body), false)
			}
			return nil
		})
		if err == nil {
			return
		}
		s.o.Logger.Info("a group of event posts failed together; recording each alone", "posts", len(group), "err", err)
		s.group.mu.Lock()
		s.group.alone++
		s.group.mu.Unlock()
	}
	for _, p := range group {
		p.sum, p.errs = feed.ApplyFile(ctx, s.books, "body", bytes.NewReader(p.body), false)
	}
}
