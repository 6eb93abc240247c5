package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
	"github.com/settlehq/settle/store/internal/reconrow"
)

var (
	_ reconcile.Store = (*Store)(nil)
	_ reconcile.Tx    = (*tx)(nil)
)

// UpdateRecon runs fn in one write transaction, run again on a conflict
// like Update.
func (s *Store) UpdateRecon(ctx context.Context, fn func(reconcile.Tx) error) error {
	return s.Update(ctx, func(t ledger.Tx) error { return fn(t.(*tx)) })
}

// KnownExceptions loads every exception of a provider and grain without
// its differences, after locking the scope: two runs of one scope plan
// their exceptions one after the other, each seeing what the other stored.
// They are counted first, so that they are read into a slice made at
// their size.
func (t *tx) KnownExceptions(ctx context.Context, prov string, grain provider.Grain) ([]reconcile.Exception, error) {
	if _, err := t.exec(ctx, `INSERT INTO {schema}.recon_scopes (provider, grain) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		prov, string(grain)); err != nil {
		return nil, err
	}
	var one int
	if err := t.queryRow(ctx, `SELECT 1 FROM {schema}.recon_scopes WHERE provider = $1 AND grain = $2 FOR UPDATE`,
		prov, string(grain)).Scan(&one); err != nil {
		return nil, t.fail(err)
	}
	where, args := exceptionWhere(reconcile.ExceptionFilter{Provider: prov}, string(grain))
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM {schema}.recon_exceptions WHERE `+where, args...).Scan(&n); err != nil {
		return nil, t.fail(err)
	}
	return t.exceptions(ctx, `SELECT `+reconrow.KnownColumns+` FROM {schema}.recon_exceptions WHERE `+where+` ORDER BY id`,
		args, n)
}

// SaveRun stores a run with the plan of its exceptions and its links: it
// stores what reconciliation decided and decides nothing itself. Every
// change of an exception goes into its history.
func (t *tx) SaveRun(ctx context.Context, run *reconcile.Run, plan reconcile.ExceptionPlan, links []reconcile.Link) error {
	sm := run.Summary
	now := run.FinishedAt.UTC()
	opened, closed := len(plan.Open)+len(plan.Reopen), len(plan.Close)
	err := t.queryRow(ctx, `INSERT INTO {schema}.recon_runs (provider, grain, window_from, window_to, started_at, finished_at,
		provider_records, ledger_records, inputs_digest, matched, mismatched, missing_in_ledger, missing_at_provider,
		duplicates, heuristic, payout_mismatches, opened, closed, adopted, records_through)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id`,
		run.Provider, string(run.Grain), ts(run.From), ts(run.To), ts(run.StartedAt), ts(now), sm.ProviderRecords,
		sm.LedgerRecords, run.InputsDigest, sm.Matched, sm.Mismatched, sm.MissingInLedger, sm.MissingAtProvider,
		sm.Duplicates, sm.Heuristic, sm.PayoutMismatches, opened, closed, run.Adopted, run.RecordsThrough).Scan(&run.ID)
	if err != nil {
		return t.fail(err)
	}
	run.Opened, run.Closed = opened, closed
	if err := reconrow.ApplyPlan(ctx, planWriter{t, run, now}, run.ID, plan); err != nil {
		return err
	}
	if len(links) == 0 {
		return nil
	}
	pids, lids := make([]string, len(links)), make([]string, len(links))
	heur := make([]bool, len(links))
	for i, l := range links {
		pids[i], lids[i], heur[i] = l.ProviderID, l.LedgerID, l.Heuristic
	}
	// One statement for all links; a provider id linked twice keeps its
	// last link, as one statement a link would.
	_, err = t.exec(ctx, `INSERT INTO {schema}.recon_links AS k (provider, grain, provider_id, ledger_id, heuristic, run_id)
		SELECT DISTINCT ON (p) $1, $2, p, l, h, $3 FROM unnest($4::text[], $5::text[], $6::boolean[]) WITH ORDINALITY AS u (p, l, h, n)
		ORDER BY p, n DESC
		ON CONFLICT (provider, grain, provider_id) DO UPDATE SET ledger_id = excluded.ledger_id,
		heuristic = excluded.heuristic, run_id = excluded.run_id`,
		run.Provider, string(run.Grain), run.ID, pids, lids, heur)
	return err
}

// exceptionChunk is how many exceptions one statement writes or changes,
// as arrays: a run that finds a difference in every record opens a million
// exceptions, and every later run refreshes them all.
const exceptionChunk = 10000

// exceptionColumns are exceptions' values as arrays, one element an
// exception, as a statement's unnest reads them.
type exceptionColumns struct {
	ids                                                               []int64
	fingerprints, kinds, subjects, providerIDs, ledgerIDs, refs, curs []string
	amounts, ats                                                      []int64
	heuristic                                                         []bool
	details                                                           []string
}

// columnsOf returns es as arrays.
func columnsOf(es []reconcile.Exception) (*exceptionColumns, error) {
	n := len(es)
	c := &exceptionColumns{ids: make([]int64, 0, n), fingerprints: make([]string, 0, n), kinds: make([]string, 0, n),
		subjects: make([]string, 0, n), providerIDs: make([]string, 0, n), ledgerIDs: make([]string, 0, n),
		refs: make([]string, 0, n), curs: make([]string, 0, n), amounts: make([]int64, 0, n), ats: make([]int64, 0, n),
		heuristic: make([]bool, 0, n), details: make([]string, 0, n)}
	for i := range es {
		e := &es[i]
		d, err := reconrow.DetailsOf(e)
		if err != nil {
			return nil, err
		}
		c.ids = append(c.ids, e.ID)
		c.fingerprints = append(c.fingerprints, e.Fingerprint)
		c.kinds = append(c.kinds, string(e.Kind))
		c.subjects = append(c.subjects, e.Subject)
		c.providerIDs = append(c.providerIDs, e.ProviderID)
		c.ledgerIDs = append(c.ledgerIDs, e.LedgerID)
		c.refs = append(c.refs, e.Ref)
		c.curs = append(c.curs, e.Currency)
		c.amounts = append(c.amounts, e.Amount)
		c.ats = append(c.ats, ts(e.At))
		c.heuristic = append(c.heuristic, e.Heuristic)
		c.details = append(c.details, d)
	}
	return c, nil
}

// chunks calls fn with es exceptionChunk at a time.
func chunks(es []reconcile.Exception, fn func([]reconcile.Exception) error) error {
	for start := 0; start < len(es); start += exceptionChunk {
		if err := fn(es[start:min(start+exceptionChunk, len(es))]); err != nil {
			return err
		}
	}
	return nil
}

// planWriter writes a run's exception plan in the transaction,
// exceptionChunk exceptions a statement.
type planWriter struct {
	t   *tx
	run *reconcile.Run
	now time.Time
}

var _ reconrow.PlanWriter = planWriter{}

// Open inserts a run's new exceptions, in the plan's order, each with an
// "opened" event, a chunk a statement.
func (w planWriter) Open(ctx context.Context, all []reconcile.Exception) error {
	return chunks(all, func(es []reconcile.Exception) error {
		c, err := columnsOf(es)
		if err != nil {
			return err
		}
		_, err = w.t.exec(ctx, `WITH ins AS (
			INSERT INTO {schema}.recon_exceptions (fingerprint, provider, grain, kind, subject, provider_id, ledger_id, ref,
				currency, amount, occurred_at, heuristic, details, status, first_run, last_run, updated_at)
			SELECT f, $1, $2, k, s, p, l, r, c, a, o, h, d, 'open', $3, $3, $4
			FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[],
				$13::bigint[], $14::boolean[], $15::text[]) WITH ORDINALITY AS u (f, k, s, p, l, r, c, a, o, h, d, n)
			ORDER BY n
			RETURNING id)
			INSERT INTO {schema}.recon_exception_events (exception_id, at, run_id, action, status, note, entry_id)
			SELECT id, $4, $3, 'opened', 'open', '', NULL FROM ins ORDER BY id`,
			w.run.Provider, string(w.run.Grain), w.run.ID, ts(w.now), c.fingerprints, c.kinds, c.subjects, c.providerIDs,
			c.ledgerIDs, c.refs, c.curs, c.amounts, c.ats, c.heuristic, c.details)
		return err
	})
}

// Refresh writes a run's figures into stored exceptions, and opens them
// again, with a "reopened" event each, when reopen is set.
func (w planWriter) Refresh(ctx context.Context, all []reconcile.Exception, reopen bool, note string) error {
	set := ""
	if reopen {
		set = "status = 'open', resolution_entry_id = NULL, "
	}
	return chunks(all, func(es []reconcile.Exception) error {
		c, err := columnsOf(es)
		if err != nil {
			return err
		}
		if _, err := w.t.exec(ctx, `UPDATE {schema}.recon_exceptions AS e SET `+set+`ledger_id = u.l, currency = u.c,
			amount = u.a, occurred_at = u.o, heuristic = u.h, details = u.d, last_run = $1, updated_at = $2
			FROM unnest($3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::boolean[], $9::text[])
				AS u (id, l, c, a, o, h, d)
			WHERE e.id = u.id`, w.run.ID, ts(w.now), c.ids, c.ledgerIDs, c.curs, c.amounts, c.ats, c.heuristic,
			c.details); err != nil {
			return err
		}
		if !reopen {
			return nil
		}
		return w.t.exceptionEvents(ctx, c.ids, w.now, w.run.ID, "reopened", reconcile.ExceptionOpen, note)
	})
}

// Ignore stamps exceptions left ignored with the run.
func (w planWriter) Ignore(ctx context.Context, es []reconcile.Exception) error {
	_, err := w.t.exec(ctx, `UPDATE {schema}.recon_exceptions SET last_run = $1 WHERE id = ANY ($2::bigint[])`,
		w.run.ID, exceptionIDs(es))
	return err
}

// Close resolves exceptions the run did not find again, each with a
// "closed" event.
func (w planWriter) Close(ctx context.Context, es []reconcile.Exception, note string) error {
	ids := exceptionIDs(es)
	if _, err := w.t.exec(ctx, `UPDATE {schema}.recon_exceptions SET status = 'resolved', updated_at = $1,
		note = CASE WHEN note = '' THEN $2 ELSE note || '; ' || $2 END WHERE id = ANY ($3::bigint[])`, ts(w.now), note, ids); err != nil {
		return err
	}
	return w.t.exceptionEvents(ctx, ids, w.now, w.run.ID, "closed", reconcile.ExceptionResolved, note)
}

// exceptionEvents adds one event to the history of each exception of ids,
// in their order.
func (t *tx) exceptionEvents(ctx context.Context, ids []int64, at time.Time, runID int64, action string,
	status reconcile.ExceptionStatus, note string) error {
	_, err := t.exec(ctx, `INSERT INTO {schema}.recon_exception_events (exception_id, at, run_id, action, status, note, entry_id)
		SELECT id, $1, $2, $3, $4, $5, NULL FROM unnest($6::bigint[]) WITH ORDINALITY AS u (id, n) ORDER BY n`,
		ts(at), runID, action, string(status), note, ids)
	return err
}

// exceptionIDs returns the ids of es.
func exceptionIDs(es []reconcile.Exception) []int64 {
	ids := make([]int64, len(es))
	for i := range es {
		ids[i] = es[i].ID
	}
	return ids
}

func (t *tx) addExceptionEvent(ctx context.Context, id int64, at time.Time, runID int64, action string,
	status reconcile.ExceptionStatus, note string, entryID int64) error {
	_, err := t.exec(ctx, `INSERT INTO {schema}.recon_exception_events (exception_id, at, run_id, action, status, note, entry_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, ts(at), nullID(runID), action, string(status), note, nullID(entryID))
	return err
}

// Exception returns one exception by id, inside a transaction, locked in
// a write transaction.
func (t *tx) Exception(ctx context.Context, id int64) (*reconcile.Exception, error) {
	query, args := exceptionQuery(reconcile.ExceptionFilter{ID: id}, "")
	es, err := t.exceptions(ctx, query, args, 1)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return &es[0], nil
}

// SetExceptionStatus resolves, ignores or reopens an exception inside a
// transaction, and records the change in its history.
func (t *tx) SetExceptionStatus(ctx context.Context, id int64, status reconcile.ExceptionStatus, note string, entryID int64, at time.Time) error {
	switch status {
	case reconcile.ExceptionOpen, reconcile.ExceptionResolved, reconcile.ExceptionIgnored:
	default:
		return fmt.Errorf("%w: exception status %q", ledger.ErrInvalidRequest, status)
	}
	res, err := t.exec(ctx, `UPDATE {schema}.recon_exceptions SET status = $1, note = $2, resolution_entry_id = $3, updated_at = $4
		WHERE id = $5`, string(status), note, nullID(entryID), ts(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return t.addExceptionEvent(ctx, id, at, 0, string(status), status, note, entryID)
}

// exceptionWhere returns the condition selecting f's exceptions (of grain
// too unless it is empty) and its arguments, $1 on.
func exceptionWhere(f reconcile.ExceptionFilter, grain string) (string, []any) {
	where, args := "TRUE", []any{}
	for _, c := range []struct{ col, v string }{
		{"status", string(f.Status)}, {"provider", f.Provider}, {"kind", string(f.Kind)}, {"grain", grain}} {
		if c.v != "" {
			args = append(args, c.v)
			where += fmt.Sprintf(" AND %s = $%d", c.col, len(args))
		}
	}
	if f.ID != 0 {
		args = append(args, f.ID)
		where += fmt.Sprintf(" AND id = $%d", len(args))
	}
	if !f.Before.IsZero() {
		args = append(args, ts(f.Before))
		where += fmt.Sprintf(" AND occurred_at < $%d", len(args))
	}
	return where, args
}

// exceptionQuery returns the query and arguments selecting exceptions.
func exceptionQuery(f reconcile.ExceptionFilter, grain string) (string, []any) {
	where, args := exceptionWhere(f, grain)
	page := ""
	if f.Limit > 0 {
		args = append(args, f.Limit)
		page += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	if f.Offset > 0 {
		args = append(args, f.Offset)
		page += fmt.Sprintf(" OFFSET $%d", len(args))
	}
	return `SELECT ` + reconrow.Columns + ` FROM {schema}.recon_exceptions WHERE ` + where + ` ORDER BY id` + page, args
}

// exceptions reads the exceptions of query in the transaction; hint is
// how many are expected.
func (t *tx) exceptions(ctx context.Context, query string, args []any, hint int) ([]reconcile.Exception, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	es, err := reconrow.Scan(rows, hint)
	return es, t.fail(err)
}

// Exceptions lists exceptions ordered by id.
func (s *Store) Exceptions(ctx context.Context, f reconcile.ExceptionFilter) ([]reconcile.Exception, error) {
	q, args := exceptionQuery(f, "")
	rows, err := s.db.QueryContext(ctx, s.sql(q), args...)
	if err != nil {
		return nil, translate(err)
	}
	es, err := reconrow.Scan(rows, f.Limit)
	return es, translate(err)
}

// EachException calls fn with each exception f selects, ordered by id,
// read in one query.
func (s *Store) EachException(ctx context.Context, f reconcile.ExceptionFilter, fn func(*reconcile.Exception) error) error {
	q, args := exceptionQuery(f, "")
	rows, err := s.db.QueryContext(ctx, s.sql(q), args...)
	if err != nil {
		return translate(err)
	}
	return translate(reconrow.Each(rows, fn))
}

// CountExceptions counts the exceptions f selects (its Limit and Offset
// aside).
func (s *Store) CountExceptions(ctx context.Context, f reconcile.ExceptionFilter) (int, error) {
	where, args := exceptionWhere(f, "")
	var n int
	err := s.db.QueryRowContext(ctx, s.sql(`SELECT COUNT(*) FROM {schema}.recon_exceptions WHERE `+where), args...).Scan(&n)
	return n, translate(err)
}

// Exception returns one exception by id.
func (s *Store) Exception(ctx context.Context, id int64) (*reconcile.Exception, error) {
	es, err := s.Exceptions(ctx, reconcile.ExceptionFilter{ID: id})
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return &es[0], nil
}

// ExceptionHistory lists the changes of an exception, oldest first.
func (s *Store) ExceptionHistory(ctx context.Context, id int64) ([]reconcile.ExceptionEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.sql(`SELECT at, COALESCE(run_id, 0), action, status, note, COALESCE(entry_id, 0)
		FROM {schema}.recon_exception_events WHERE exception_id = $1 ORDER BY id`), id)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []reconcile.ExceptionEvent
	for rows.Next() {
		var e reconcile.ExceptionEvent
		var at int64
		var status string
		if err := rows.Scan(&at, &e.RunID, &e.Action, &status, &e.Note, &e.EntryID); err != nil {
			return nil, err
		}
		e.At, e.Status = fromTS(at), reconcile.ExceptionStatus(status)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Links returns the stored provider id → ledger id links of a provider and
// grain, as a map (LinkList, which reads them, gives them as a list).
func (s *Store) Links(ctx context.Context, prov string, grain provider.Grain) (map[string]string, error) {
	list, err := s.LinkList(ctx, prov, grain, nil)
	if err != nil {
		return nil, err
	}
	return reconcile.LinkMap(list), nil
}

// LinkList returns the links of a provider and grain, as Links does, as a
// list; with ledgerIDs (not nil), only the links of those ledger ids, told
// on the server so that the history's links are not sent (as the SQLite
// store's LinkList).
func (s *Store) LinkList(ctx context.Context, prov string, grain provider.Grain, ledgerIDs []string) ([]reconcile.Link, error) {
	query := `SELECT provider_id, ledger_id FROM {schema}.recon_links WHERE provider = $1 AND grain = $2`
	args := []any{prov, string(grain)}
	if ledgerIDs != nil {
		query += ` AND ledger_id = ANY($3)`
		args = append(args, ledgerIDs)
	}
	rows, err := s.db.QueryContext(ctx, s.sql(query), args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []reconcile.Link
	var l reconcile.Link
	for rows.Next() {
		if err := rows.Scan(&l.ProviderID, &l.LedgerID); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// RecordsCovered returns the newest provider record id that runs of a
// provider and grain covered together with every record before it.
func (s *Store) RecordsCovered(ctx context.Context, prov string, grain provider.Grain) (int64, error) {
	var id sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.sql(`SELECT MAX(records_through) FROM {schema}.recon_runs WHERE provider = $1 AND grain = $2`),
		prov, string(grain)).Scan(&id)
	return id.Int64, translate(err)
}

// Runs lists stored runs, newest first, of one provider or all ("").
func (s *Store) Runs(ctx context.Context, prov string) ([]*reconcile.Run, error) {
	var raw []reconrow.Run
	if err := sqlx.SelectContext(ctx, s.db, &raw, s.sql(`SELECT * FROM {schema}.recon_runs
		WHERE ($1 = '' OR provider = $1) ORDER BY id DESC`), prov); err != nil {
		return nil, translate(err)
	}
	return reconrow.Runs(raw), nil
}

// Setting returns a named setting, or "" if it was never set.
func (s *Store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.sql(`SELECT value FROM {schema}.settings WHERE name = $1`), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, translate(err)
}

// SetSetting stores a named setting.
func (s *Store) SetSetting(ctx context.Context, name, value string) error {
	_, err := s.db.ExecContext(ctx, s.sql(`INSERT INTO {schema}.settings (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, value)
	switch name {
	case "closed_through":
		s.closed.forget()
	case bankSetting:
		s.bank.forget()
	}
	return translate(err)
}

// Lease takes or renews the lease name for holder until ttl from now, and
// reports whether holder has it: it is free, expired, or already holder's.
// A ttl of zero or less gives the lease up (if holder has it).
func (s *Store) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.now().UnixNano()
	if ttl <= 0 {
		_, err := s.db.ExecContext(ctx, s.sql(`UPDATE {schema}.leases SET expires_at = $3 WHERE name = $1 AND holder = $2`),
			name, holder, now)
		return false, translate(err)
	}
	var got string
	err := s.db.QueryRowContext(ctx, s.sql(`INSERT INTO {schema}.leases AS l (name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE l.holder = excluded.holder OR l.expires_at <= $4 RETURNING holder`),
		name, holder, now+int64(ttl), now).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, translate(err)
	}
	return got == holder, nil
}
