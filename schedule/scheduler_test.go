package schedule

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a Clock whose time moves only when a test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	waiting chan struct{} // one value per call to After
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waiting: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
	} else {
		c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	}
	c.mu.Unlock()
	c.waiting <- struct{}{}
	return ch
}

// Advance moves the time on and fires the waiters that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
		} else {
			w.ch <- c.now
		}
	}
	c.waiters = kept
}

// awaitSleep waits until the scheduler blocks on the clock.
func (c *fakeClock) awaitSleep(t *testing.T) {
	t.Helper()
	select {
	case <-c.waiting:
	case <-time.After(5 * time.Second):
		t.Fatal("the scheduler did not go to sleep")
	}
}

func day(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }

// recorder is a job that records its windows.
type recorder struct {
	mu      sync.Mutex
	windows []Window
}

func (r *recorder) job(_ context.Context, w Window) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.windows = append(r.windows, w)
	return nil
}

func (r *recorder) days() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ds []int
	for _, w := range r.windows {
		ds = append(ds, w.To.Day())
		if w.To.Sub(w.From) != 24*time.Hour {
			ds = append(ds, -1) // a window that is not one day
		}
	}
	return ds
}

func TestSchedulerCatchesUp(t *testing.T) {
	clock := newFakeClock(day(5).Add(10 * time.Hour))
	rec := &recorder{}
	s, err := New("@daily", rec.job, &Options{Clock: clock,
		LastRun: func(context.Context) (time.Time, error) { return day(2), nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()

	clock.awaitSleep(t) // after catching up, waiting for day 6
	if got := rec.days(); !equalInts(got, []int{3, 4, 5}) {
		t.Fatalf("caught up %v, want windows ending on days 3, 4, 5", got)
	}
	clock.Advance(14 * time.Hour)
	clock.awaitSleep(t)
	if got := rec.days(); !equalInts(got, []int{3, 4, 5, 6}) {
		t.Fatalf("ran %v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSchedulerFirstStart(t *testing.T) {
	clock := newFakeClock(day(5).Add(10 * time.Hour))
	rec := &recorder{}
	s, _ := New("0 0 * * *", rec.job, &Options{Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	clock.awaitSleep(t)
	if got := rec.days(); len(got) != 0 {
		t.Fatalf("with no last run, nothing is caught up; ran %v", got)
	}
	clock.Advance(14 * time.Hour)
	clock.awaitSleep(t)
	if rec.windows[0] != (Window{day(5), day(6)}) {
		t.Fatalf("first window = %+v", rec.windows[0])
	}
	cancel()
	<-done
}

func TestSchedulerNoOverlap(t *testing.T) {
	clock := newFakeClock(day(1).Add(90 * time.Minute))
	var running, most atomic.Int32
	var windows []Window
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	job := func(_ context.Context, w Window) error {
		n := running.Add(1)
		defer running.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		windows = append(windows, w)
		started <- struct{}{}
		<-release
		return nil
	}
	s, _ := New("@hourly", job, &Options{Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	clock.awaitSleep(t)
	clock.Advance(30 * time.Minute) // 02:00: the job starts and hangs
	<-started
	clock.Advance(2 * time.Hour) // 03:00 and 04:00 pass while it runs
	manual := make(chan error)
	go func() { manual <- s.RunOnce(context.Background(), Window{day(1), day(2)}) }()
	time.Sleep(20 * time.Millisecond) // let RunOnce queue behind the running job
	release <- struct{}{}
	for range 3 { // 03:00, 04:00 and the manual one, in some order
		<-started
		time.Sleep(5 * time.Millisecond) // a second job, if one could start, would show now
		release <- struct{}{}
	}
	<-manual
	clock.awaitSleep(t)
	cancel()
	<-done
	if most.Load() != 1 {
		t.Errorf("%d jobs ran at once", most.Load())
	}
	var hourly []int
	for _, w := range windows {
		if w.To.Sub(w.From) == time.Hour {
			hourly = append(hourly, w.To.Hour())
		}
	}
	if !equalInts(hourly, []int{2, 3, 4}) {
		t.Errorf("hourly windows ended at %v, want 2, 3, 4", hourly)
	}
}

func TestSchedulerGracefulStop(t *testing.T) {
	clock := newFakeClock(day(1).Add(-time.Minute))
	inJob := make(chan struct{})
	finish := make(chan struct{})
	var jobErr error
	job := func(ctx context.Context, _ Window) error {
		close(inJob)
		<-finish
		jobErr = ctx.Err()
		return nil
	}
	s, _ := New("@daily", job, &Options{Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	clock.awaitSleep(t)
	clock.Advance(time.Minute)
	<-inJob
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while the job was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if jobErr != nil {
		t.Errorf("the job's context was canceled: %v", jobErr)
	}
}

func TestSchedulerJobErrorsAreLogged(t *testing.T) {
	clock := newFakeClock(day(3).Add(time.Hour))
	var buf bytes.Buffer
	var mu sync.Mutex
	calls := 0
	job := func(context.Context, Window) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("provider export missing")
		}
		if calls == 2 {
			panic("boom")
		}
		return nil
	}
	s, _ := New("@daily", job, &Options{Clock: clock,
		Logger:  slog.New(slog.NewTextHandler(&syncWriter{w: &buf, mu: &mu}, nil)),
		LastRun: func(context.Context) (time.Time, error) { return day(0), nil }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	clock.awaitSleep(t)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 || !strings.Contains(buf.String(), "provider export missing") || !strings.Contains(buf.String(), "boom") {
		t.Errorf("calls %d, log:\n%s", calls, buf.String())
	}
}

type syncWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	return s.w.Write(p) // the job holds no lock while the scheduler logs
}

func TestSchedulerSpecs(t *testing.T) {
	if _, err := New("not a spec", func(context.Context, Window) error { return nil }, nil); err == nil {
		t.Error("a bad spec was accepted")
	}
	s, err := New("30 2 * * 1-5", func(context.Context, Window) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2024, 1, 5, 12, 0, 0, 0, time.UTC)
	if got, want := s.Next(fri), time.Date(2024, 1, 8, 2, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Next = %v, want %v", got, want)
	}
	if got, want := s.Prev(fri), time.Date(2024, 1, 5, 2, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Prev = %v, want %v", got, want)
	}
	w := s.WindowAt(time.Date(2024, 1, 8, 2, 30, 0, 0, time.UTC))
	if w.From != time.Date(2024, 1, 5, 2, 30, 0, 0, time.UTC) || w.To != time.Date(2024, 1, 8, 2, 30, 0, 0, time.UTC) {
		t.Errorf("WindowAt = %+v", w)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
