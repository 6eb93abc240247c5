package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// In WAL mode every commit appends pages to the write-ahead log, and a
// checkpoint copies them into the database file. SQLite's own automatic
// checkpoint runs inside the commit that crosses its threshold, on the
// writer's time: in batched posting that was a seventh of the run, and an
// import of a million rows waited a second for it at commit
// (BENCHMARKS.md). The checkpointer runs PASSIVE checkpoints on a pool
// connection instead, at most every checkpointEvery while commits arrive,
// so the copying overlaps the next transactions on another CPU (or, for a
// one-shot command, happens when the store closes). A PASSIVE checkpoint
// never blocks the writer or readers.
//
// The writer keeps an automatic checkpoint as the fallback, should the
// background one fail, at a threshold (writerAutoCheckpoint) above what a
// large import writes in one transaction, so that the log stays bounded
// either way; journalSizeLimit truncates the log file when it is reused, so
// that one large transaction does not leave a large file behind.
const (
	checkpointEvery      = 200 * time.Millisecond
	writerAutoCheckpoint = 262144   // pages: 1 GiB of log at 4 KiB a page, 2 GiB at 8 KiB
	journalSizeLimit     = 64 << 20 // bytes
)

type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func startCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// committed tells the checkpointer a transaction committed. It never
// blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// An error leaves the work to the writer's automatic checkpoint.
		_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		cancel()
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// close stops the checkpointer and waits for it.
func (c *checkpointer) close() {
	close(c.stop)
	<-c.done
}
