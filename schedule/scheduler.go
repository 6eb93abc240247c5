package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Window is the span of time a run covers: [From, To).
type Window struct {
	From, To time.Time
}

// Job is the work the scheduler runs for each window, such as ingesting the
// inbox and reconciling each provider over the window.
type Job func(ctx context.Context, w Window) error

// Clock is the scheduler's source of time; tests replace it with a fake.
type Clock interface {
	Now() time.Time
	// After sends the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock returns the real clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure a Scheduler. A nil *Options means the
// defaults.
type Options struct {
	// Clock defaults to SystemClock().
	Clock Clock
	// Logger receives job starts, ends and errors; nil discards them.
	Logger *slog.Logger
	// LastRun returns the end (Window.To) of the last window whose job
	// completed, read once when Run starts; the zero time means none, and
	// then nothing is caught up. Nil is the same as always returning zero.
	LastRun func(ctx context.Context) (time.Time, error)
	// Location is the time zone schedule times are computed in (a spec may
	// also begin with CRON_TZ=…); default UTC.
	Location *time.Location
}

// Scheduler runs a Job at the times of a cron schedule, one job at a time.
// The window of the run at schedule time T starts at the previous schedule
// time (or at the end of the last completed window) and ends at T.
type Scheduler struct {
	sched   cron.Schedule
	job     Job
	clock   Clock
	log     *slog.Logger
	lastRun func(ctx context.Context) (time.Time, error)
	loc     *time.Location
	mu      sync.Mutex // held while a job runs
}

// New parses spec — standard five fields ("0 2 * * *") or a
// descriptor (@daily, @hourly, @every 6h) — and returns a scheduler of job.
func New(spec string, job Job, opts *Options) (*Scheduler, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	if job == nil {
		return nil, fmt.Errorf("schedule %q: no job", spec)
	}
	s := &Scheduler{sched: sched, job: job, clock: SystemClock(), loc: time.UTC,
		log: slog.New(slog.DiscardHandler)}
	if opts != nil {
		if opts.Clock != nil {
			s.clock = opts.Clock
		}
		if opts.Logger != nil {
			s.log = opts.Logger
		}
		if opts.Location != nil {
			s.loc = opts.Location
		}
		s.lastRun = opts.LastRun
	}
	return s, nil
}

// Next returns the first schedule time after t.
func (s *Scheduler) Next(t time.Time) time.Time { return s.sched.Next(t.In(s.loc)) }

// Prev returns the last schedule time strictly before t, or the zero time
// if none is found within ten years.
func (s *Scheduler) Prev(t time.Time) time.Time {
	t = t.In(s.loc)
	for back := time.Minute; back <= 10*366*24*time.Hour; back *= 2 {
		p := s.sched.Next(t.Add(-back))
		if !p.Before(t) {
			continue
		}
		for {
			n := s.sched.Next(p)
			if !n.Before(t) {
				return p
			}
			p = n
		}
	}
	return time.Time{}
}

// WindowAt returns the window of the latest schedule time at or before t:
// what a run at that time covered.
func (s *Scheduler) WindowAt(t time.Time) Window {
	to := s.Prev(t.Add(time.Nanosecond))
	return Window{From: s.Prev(to), To: to}
}

// Run runs the job until ctx is done. On start it catches up, in order and
// once each, every window whose schedule time passed since the last
// completed run (Options.LastRun); then it waits for each schedule
// time and runs the window ending there. A job that overruns later schedule
// times is followed by their windows in turn, never by a second job at the
// same time. A job's error (or panic) is logged and the scheduler goes on
// to the next window; the failed window is not retried in this process.
// When ctx is done, a running job is left to finish (its context is not
// canceled) and Run returns nil. Run returns an error only if LastRun fails.
func (s *Scheduler) Run(ctx context.Context) error {
	var last time.Time
	if s.lastRun != nil {
		var err error
		if last, err = s.lastRun(ctx); err != nil {
			return fmt.Errorf("scheduler: last run: %w", err)
		}
	}
	if last.IsZero() {
		last = s.Prev(s.clock.Now())
	}
	for {
		next := s.Next(last)
		if next.IsZero() {
			return nil // a schedule with no more times
		}
		if now := s.clock.Now(); next.After(now) {
			select {
			case <-ctx.Done():
				return nil
			case <-s.clock.After(next.Sub(now)):
			}
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		_ = s.RunOnce(context.WithoutCancel(ctx), Window{From: last, To: next})
		last = next
	}
}

// RunOnce runs the job for one window now, after any job already running,
// and returns its error (which it also logs).
func (s *Scheduler) RunOnce(ctx context.Context, w Window) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.clock.Now()
	s.log.Info("job started", "from", w.From, "to", w.To)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v", p)
		}
		if err != nil {
			s.log.Error("job failed", "from", w.From, "to", w.To, "err", err)
			return
		}
		s.log.Info("job finished", "from", w.From, "to", w.To, "took", s.clock.Now().Sub(start).Round(time.Millisecond))
	}()
	return s.job(ctx, w)
}
