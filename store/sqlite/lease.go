package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Lease takes or renews the lease name for holder until ttl from now, and
// reports whether holder has it: it is free, expired, or already holder's.
// A ttl of zero or less gives it up (if holder has it). SQLite has one
// writer at a time, so the lease is a setting ("lease:NAME" = expiry in
// Unix nanoseconds, a space, the holder) read and written in one write
// transaction.
func (s *Store) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	key := "lease:" + name
	now := s.now().UnixNano()
	var got bool
	err := s.withWrite(ctx, func(q querier) error {
		var v string
		err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, key).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		exp, cur, _ := strings.Cut(v, " ")
		until, _ := strconv.ParseInt(exp, 10, 64)
		free := v == "" || cur == holder || until <= now
		if ttl <= 0 {
			if cur == holder {
				_, err = q.ExecContext(ctx, `DELETE FROM settings WHERE name = ?`, key)
			}
			return err
		}
		if !free {
			return nil
		}
		got = true
		_, err = q.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, key, strconv.FormatInt(now+int64(ttl), 10)+" "+holder)
		return err
	})
	return got, translate(err)
}
