package postgres

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed schema.sql
var schemaSQL string

// migration is one "-- migration: N" section of schema.sql.
type migration struct {
	version int
	sql     string
}

// migrations returns schema.sql's sections in order.
func migrations() ([]migration, error) {
	const marker = "-- migration:"
	var out []migration
	var body strings.Builder
	cur := -1
	flush := func() {
		if cur >= 0 {
			out = append(out, migration{version: cur, sql: body.String()})
		}
		body.Reset()
	}
	for i, line := range strings.Split(schemaSQL, "\n") {
		if strings.HasPrefix(line, marker) {
			flush()
			v, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, marker)))
			if err != nil {
				return nil, fmt.Errorf("schema.sql:%d: bad migration marker %q", i+1, line)
			}
			if n := len(out); n > 0 && out[n-1].version >= v {
				return nil, fmt.Errorf("schema.sql:%d: migration %d out of order", i+1, v)
			}
			cur = v
			continue
		}
		if cur >= 0 {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	flush()
	return out, nil
}

// migrationAttempts bounds how often a migration that lost a race with
// another process's is tried again.
const migrationAttempts = 5

// migrate brings the schema up to date. A schema already up to date is
// only read. Otherwise the pending migrations run in one transaction that
// records each in schema_migrations, whose primary key makes the loser of
// two processes migrating at once fail cleanly (its transaction rolls
// back) and try again, finding the work done. An advisory lock around the
// transaction makes the loser wait instead, where the engine has them.
func (s *Store) migrate(ctx context.Context) error { return s.migrateLocked(ctx, true) }

// migrateLocked is migrate, with the advisory lock only if lock is set.
func (s *Store) migrateLocked(ctx context.Context, lock bool) error {
	migs, err := migrations()
	if err != nil {
		return err
	}
	latest := migs[len(migs)-1].version
	for attempt := 1; ; attempt++ {
		cur, err := s.schemaVersion(ctx)
		if err != nil {
			return fmt.Errorf("postgres: reading the schema version: %w", err)
		}
		if cur >= latest {
			return nil
		}
		err = s.applyMigrations(ctx, migs, lock)
		if lock && isUnsupported(err) {
			s.log.Info("postgres: the server has no advisory locks; migrating without", "err", err)
			err = s.applyMigrations(ctx, migs, false)
		}
		if err == nil {
			return nil
		}
		if !lostRace(err) || attempt >= migrationAttempts {
			return fmt.Errorf("postgres: migrating schema %s: %w", s.schema, err)
		}
		s.log.Info("postgres: another process migrated at the same time; trying again", "err", err)
	}
}

// schemaVersion returns the last migration applied, 0 for a new schema.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, s.sql(`SELECT COALESCE(MAX(version), 0) FROM {schema}.schema_migrations`)).Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == codeUndefinedTable || pe.Code == codeInvalidSchemaName) {
		return 0, nil
	}
	return v, err
}

func (s *Store) applyMigrations(ctx context.Context, migs []migration, lock bool) error {
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	err = func() error {
		if lock {
			h := fnv.New64a()
			h.Write([]byte("settle migrate " + s.schema))
			if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
				return err
			}
		}
		if _, err := conn.ExecContext(ctx, s.sql(`CREATE SCHEMA IF NOT EXISTS {schema}`)); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, s.sql(`CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
			version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`)); err != nil {
			return err
		}
		var cur int
		if err := conn.QueryRowContext(ctx, s.sql(`SELECT COALESCE(MAX(version), 0) FROM {schema}.schema_migrations`)).Scan(&cur); err != nil {
			return err
		}
		for _, m := range migs {
			if m.version <= cur {
				continue
			}
			// No arguments: pgx sends the section in the simple protocol,
			// which runs several statements.
			if _, err := conn.ExecContext(ctx, s.sql(m.sql)); err != nil {
				return fmt.Errorf("migration %d: %w", m.version, err)
			}
			if _, err := conn.ExecContext(ctx, s.sql(`INSERT INTO {schema}.schema_migrations (version, applied_at) VALUES ($1, $2)`),
				m.version, s.now().UnixNano()); err != nil {
				return err
			}
			s.log.Info("postgres: applied migration", "schema", s.schema, "version", m.version)
		}
		return nil
	}()
	if err != nil {
		rollback(conn)
		return err
	}
	return commit(ctx, conn)
}

// lostRace reports whether a migration failed because another process
// created the same objects meanwhile.
func lostRace(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case codeUniqueViolation, "42P07" /* duplicate_table */, "42710" /* duplicate_object */, "42P06", /* duplicate_schema */
		codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	return false
}

// isUnsupported reports an engine without advisory locks.
func isUnsupported(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "0A000" /* feature_not_supported */ || pe.Code == "42883" /* undefined_function */)
}
