package sqlite

import (
	"cmp"
	"context"
	"database/sql"
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

// UpdateRecon runs fn in one write transaction.
func (s *Store) UpdateRecon(ctx context.Context, fn func(reconcile.Tx) error) error {
	return s.Update(ctx, func(t ledger.Tx) error { return fn(t.(*tx)) })
}

// KnownExceptions loads every exception of a provider and grain without
// its differences, counted first so that they are read into a slice made
// at their size. The table is read in id order rather than through
// recon_exceptions_scope, which would sort every row of the scope.
func (t *tx) KnownExceptions(ctx context.Context, prov string, grain provider.Grain) ([]reconcile.Exception, error) {
	where, args := exceptionWhere(reconcile.ExceptionFilter{Provider: prov}, string(grain))
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM recon_exceptions WHERE `+where, args...).Scan(&n); err != nil {
		return nil, err
	}
	return t.exceptions(ctx, `SELECT `+reconrow.KnownColumns+` FROM recon_exceptions NOT INDEXED WHERE `+where+` ORDER BY id`,
		args, n)
}

// exceptionChunk is how many exceptions one statement writes or changes: a
// run that finds a difference in every record (a ledger that starts later
// than the provider's export, a fee the books get wrong every time) opens
// a million of them, and every later run refreshes them all.
const exceptionChunk = 256

// SaveRun stores a run with the plan of its exceptions and its links, in
// the transaction: it stores what reconciliation decided and decides
// nothing itself. Every change of an exception goes into its history.
// Exceptions are written exceptionChunk a statement, handed to the
// write-behind goroutine, so that their details are encoded while SQLite
// writes the chunk before.
func (t *tx) SaveRun(ctx context.Context, run *reconcile.Run, plan reconcile.ExceptionPlan, links []reconcile.Link) error {
	q := t.q
	sm := run.Summary
	now := run.FinishedAt.UTC()
	res, err := q.ExecContext(ctx, `INSERT INTO recon_runs (provider, grain, window_from, window_to, started_at, finished_at,
		provider_records, ledger_records, inputs_digest, matched, mismatched, missing_in_ledger, missing_at_provider,
		duplicates, heuristic, payout_mismatches, opened, closed, adopted, records_through)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		run.Provider, string(run.Grain), ts(run.From), ts(run.To), ts(run.StartedAt), ts(now), sm.ProviderRecords,
		sm.LedgerRecords, run.InputsDigest, sm.Matched, sm.Mismatched, sm.MissingInLedger, sm.MissingAtProvider,
		sm.Duplicates, sm.Heuristic, sm.PayoutMismatches, len(plan.Open)+len(plan.Reopen), len(plan.Close),
		run.Adopted, run.RecordsThrough)
	if err != nil {
		return translate(err)
	}
	if run.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	run.Opened, run.Closed = len(plan.Open)+len(plan.Reopen), len(plan.Close)
	dropped, err := t.dropOpenFingerprints(ctx, len(plan.Open)+len(plan.Reopen)+len(plan.Close))
	if err != nil {
		return err
	}
	if err := reconrow.ApplyPlan(ctx, planWriter{t, run, now}, run.ID, plan); err != nil {
		return err
	}
	if err := rebuildIndexes(ctx, t.q, dropped); err != nil {
		return translate(err)
	}
	return t.saveLinks(ctx, run, links)
}

// openFingerprints is the unique index of the open exceptions'
// fingerprints: what keeps one difference one open exception.
const openFingerprints = "recon_exceptions_unresolved"

// bulkIndexChanges is how many entries of openFingerprints a run adds or
// removes before SaveRun asks whether to build the index after its writes
// (dropOpenFingerprints).
const bulkIndexChanges = 10_000

// dropOpenFingerprints drops openFingerprints when a run adds or removes n
// of its entries (the exceptions it opens, reopens and closes), at least
// bulkIndexChanges and at least half as many as the table has rows, and
// returns it for rebuildIndexes to build again once the run's plan is
// written; otherwise it returns nil and leaves the index in place. The
// caller's transaction restores the index either way: rebuildIndexes
// before it commits, or its rollback. Readers on other connections see the
// index throughout: they read the last commit.
//
// Fingerprints come in no order (a provider's ids), so a run's changes go
// to random places in an index larger than the writer's cache. A run
// opening an exception for each of a million records took 15.9 s to store
// them; without the index it took 3.7 s, and building the index afterwards
// 1.3 s. Closing those million exceptions took 14.9 s in the sqlite3 shell,
// and 4.7 s with the index dropped and built again (BENCHMARKS.md,
// thirty-sixth round). That is the first reconciliation of a history
// imported whole before the books begin, or of a provider the books do not
// record, and the run after the books catch up. Building reads the whole
// table, so it is done only when the changes are at least half its rows.
// A plan never opens or reopens two exceptions with one fingerprint, nor
// one that is open already; were it to, building the unique index fails
// and the run is rolled back, as the insert would have failed it.
func (t *tx) dropOpenFingerprints(ctx context.Context, n int) ([]tableIndex, error) {
	if n < bulkIndexChanges {
		return nil, nil
	}
	var rows int
	// The count stops past 2n: a table of more rows keeps its index.
	if err := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM recon_exceptions LIMIT ?)`, 2*n+1).Scan(&rows); err != nil {
		return nil, err
	}
	if rows > 2*n {
		return nil, nil
	}
	ix := tableIndex{name: openFingerprints}
	if err := t.q.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`, ix.name).Scan(&ix.create); err != nil {
		return nil, fmt.Errorf("the index %s: %w", ix.name, err)
	}
	if _, err := t.q.ExecContext(ctx, dropIndex(ix.name)); err != nil {
		return nil, err
	}
	return []tableIndex{ix}, nil
}

// planWriter writes a run's exception plan in the transaction.
type planWriter struct {
	t   *tx
	run *reconcile.Run
	now time.Time
}

var _ reconrow.PlanWriter = planWriter{}

// Open inserts a run's new exceptions, in the plan's order, and an
// "opened" event for each: the events are made from the rows inserted,
// which are the exceptions whose id is above the largest before them.
func (w planWriter) Open(ctx context.Context, es []reconcile.Exception) error {
	t, run := w.t, w.run
	var last int64
	if err := t.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM recon_exceptions`).Scan(&last); err != nil {
		return err
	}
	var failed error
	err := execChunks(ctx, t, es, exceptionChunk, `INSERT INTO recon_exceptions (fingerprint, provider, grain, kind,
		subject, provider_id, ref, ledger_id, currency, amount, occurred_at, heuristic, details, status, first_run, last_run,
		updated_at) VALUES `, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)", "",
		func(p *params, e *reconcile.Exception) {
			p.text(e.Fingerprint)
			p.text(run.Provider)
			p.text(string(run.Grain))
			p.text(string(e.Kind))
			p.text(e.Subject)
			p.text(e.ProviderID)
			p.text(e.Ref)
			failed = cmp.Or(failed, bindFigures(p, e))
			p.int(run.ID)
			p.int(run.ID)
			p.int(ts(w.now))
		})
	if err = cmp.Or(failed, err); err != nil {
		return err
	}
	return t.execArgsLater(ctx, `INSERT INTO recon_exception_events (exception_id, at, run_id, action, status, note, entry_id)
		SELECT id, ?, ?, 'opened', 'open', '', NULL FROM recon_exceptions WHERE id > ? ORDER BY id`, ts(w.now), run.ID, last)
}

// bindFigures binds what a run finds of an exception, which a later run
// refreshes: ledger_id, currency, amount, occurred_at, heuristic, details.
func bindFigures(p *params, e *reconcile.Exception) error {
	details, err := reconrow.DetailsOf(e)
	p.text(e.LedgerID)
	p.text(e.Currency)
	p.int(e.Amount)
	p.int(ts(e.At))
	p.bool(e.Heuristic)
	p.text(details)
	return err
}

// Refresh writes a run's figures into stored exceptions, and opens them
// again, with a "reopened" event each, when reopen is set.
func (w planWriter) Refresh(ctx context.Context, es []reconcile.Exception, reopen bool, note string) error {
	set := ""
	if reopen {
		set = "status = 'open', resolution_entry_id = NULL, "
	}
	var failed error
	err := execChunks(ctx, w.t, es, exceptionChunk, `UPDATE recon_exceptions SET `+set+`ledger_id = v.column2,
		currency = v.column3, amount = v.column4, occurred_at = v.column5, heuristic = v.column6, details = v.column7,
		last_run = v.column8, updated_at = v.column9 FROM (VALUES `, "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
		`) AS v WHERE recon_exceptions.id = v.column1`,
		func(p *params, e *reconcile.Exception) {
			p.int(e.ID)
			failed = cmp.Or(failed, bindFigures(p, e))
			p.int(w.run.ID)
			p.int(ts(w.now))
		})
	if err = cmp.Or(failed, err); err != nil || !reopen {
		return err
	}
	return w.t.exceptionEvents(ctx, es, w.now, w.run.ID, "reopened", reconcile.ExceptionOpen, note)
}

// Ignore stamps exceptions left ignored with the run.
func (w planWriter) Ignore(ctx context.Context, es []reconcile.Exception) error {
	return w.t.changeExceptions(ctx, es, `UPDATE recon_exceptions SET last_run = ? WHERE id IN (`, ")",
		func(p *params) { p.int(w.run.ID) })
}

// Close resolves exceptions the run did not find again, each with a
// "closed" event.
func (w planWriter) Close(ctx context.Context, es []reconcile.Exception, note string) error {
	err := w.t.changeExceptions(ctx, es, `UPDATE recon_exceptions SET status = 'resolved', updated_at = ?,
		note = CASE WHEN note = '' THEN ? ELSE note || '; ' || ? END WHERE id IN (`, ")",
		func(p *params) { p.int(ts(w.now)); p.text(note); p.text(note) })
	if err != nil {
		return err
	}
	return w.t.exceptionEvents(ctx, es, w.now, w.run.ID, "closed", reconcile.ExceptionResolved, note)
}

// changeExceptions runs head, the ids of es a chunk at a time, then tail;
// first binds the values head names before the ids.
func (t *tx) changeExceptions(ctx context.Context, es []reconcile.Exception, head, tail string, first func(*params)) error {
	for start := 0; start < len(es); start += exceptionChunk {
		chunk := es[start:min(start+exceptionChunk, len(es))]
		p := t.laterChunkParams()
		first(p)
		for i := range chunk {
			p.int(chunk[i].ID)
		}
		if err := t.execLater(ctx, head+placeholders(len(chunk))+tail, p, -1); err != nil {
			return translate(err)
		}
	}
	return nil
}

// exceptionEvents adds one event to the history of each of es.
func (t *tx) exceptionEvents(ctx context.Context, es []reconcile.Exception, at time.Time, runID int64, action string,
	status reconcile.ExceptionStatus, note string) error {
	return execChunks(ctx, t, es, exceptionChunk, `INSERT INTO recon_exception_events (exception_id, at, run_id, action,
		status, note, entry_id) VALUES `, "(?, ?, ?, ?, ?, ?, NULL)", "",
		func(p *params, e *reconcile.Exception) {
			p.int(e.ID)
			p.int(ts(at))
			p.int(runID)
			p.text(action)
			p.text(string(status))
			p.text(note)
		})
}

// linkChunk is how many links one statement writes: a first run stores a
// link for every pair it matched, a million of them for a month.
const linkChunk = 128

// saveLinks stores a run's links, linkChunk rows a statement with all their
// values bound in one call into C.
func (t *tx) saveLinks(ctx context.Context, run *reconcile.Run, links []reconcile.Link) error {
	var p params
	for start := 0; start < len(links); start += linkChunk {
		chunk := links[start:min(start+linkChunk, len(links))]
		p.reset()
		for _, l := range chunk {
			p.text(run.Provider)
			p.text(string(run.Grain))
			p.text(l.ProviderID)
			p.text(l.LedgerID)
			p.bool(l.Heuristic)
			p.int(run.ID)
		}
		tuples := tuples("(?, ?, ?, ?, ?, ?)", len(chunk))
		if _, err := t.execParams(ctx, `INSERT INTO recon_links (provider, grain, provider_id, ledger_id, heuristic, run_id)
			VALUES `+tuples+` ON CONFLICT (provider, grain, provider_id) DO UPDATE SET ledger_id = excluded.ledger_id,
			heuristic = excluded.heuristic, run_id = excluded.run_id`, &p); err != nil {
			return translate(err)
		}
	}
	return nil
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

// RecordsCovered returns the newest provider record id that runs of a
// provider and grain covered together with every record before it.
func (s *Store) RecordsCovered(ctx context.Context, prov string, grain provider.Grain) (int64, error) {
	var id sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(records_through) FROM recon_runs WHERE provider = ? AND grain = ?`,
		prov, string(grain)).Scan(&id)
	return id.Int64, err
}

// Exceptions lists exceptions ordered by id.
func (s *Store) Exceptions(ctx context.Context, f reconcile.ExceptionFilter) ([]reconcile.Exception, error) {
	var out []reconcile.Exception
	err := s.exceptionRows(ctx, f, func(rows rowSource) (err error) {
		out, err = reconrow.Scan(rows, f.Limit)
		return err
	})
	return out, err
}

// EachException calls fn with each exception f selects, ordered by id,
// read in one query on one connection.
func (s *Store) EachException(ctx context.Context, f reconcile.ExceptionFilter, fn func(*reconcile.Exception) error) error {
	return s.exceptionRows(ctx, f, func(rows rowSource) error { return reconrow.Each(rows, fn) })
}

// exceptionRows runs the query of f's exceptions on a reader connection
// and hands its rows, packed, to read.
func (s *Store) exceptionRows(ctx context.Context, f reconcile.ExceptionFilter, read func(rowSource) error) error {
	query, args := exceptionQuery(f, "")
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rows, err := queryRows(ctx, conn.Raw, func() (*sql.Rows, error) { return conn.QueryContext(ctx, query, args...) }, query, args)
	if err != nil {
		return err
	}
	return read(rows)
}

// CountExceptions counts the exceptions f selects (its Limit and Offset
// aside).
func (s *Store) CountExceptions(ctx context.Context, f reconcile.ExceptionFilter) (int, error) {
	where, args := exceptionWhere(f, "")
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM recon_exceptions WHERE `+where, args...).Scan(&n)
	return n, err
}

// exceptions reads the exceptions of query, in the transaction, packed;
// hint is how many are expected.
func (t *tx) exceptions(ctx context.Context, query string, args []any, hint int) ([]reconcile.Exception, error) {
	rows, err := t.rows(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return reconrow.Scan(rows, hint)
}

// exceptionWhere returns the condition selecting f's exceptions, of grain
// too unless it is empty, and its arguments.
func exceptionWhere(f reconcile.ExceptionFilter, grain string) (string, []any) {
	where, args := "1 = 1", []any{}
	for _, c := range []struct {
		col, v string
	}{{"status", string(f.Status)}, {"provider", f.Provider}, {"kind", string(f.Kind)}, {"grain", grain}} {
		if c.v != "" {
			where += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.ID != 0 {
		where += " AND id = ?"
		args = append(args, f.ID)
	}
	if !f.Before.IsZero() {
		where += " AND occurred_at < ?"
		args = append(args, ts(f.Before))
	}
	return where, args
}

// exceptionQuery returns the query of f's exceptions, ordered by id and
// paged as f asks, and its arguments.
func exceptionQuery(f reconcile.ExceptionFilter, grain string) (string, []any) {
	where, args := exceptionWhere(f, grain)
	page := ""
	if f.Limit > 0 || f.Offset > 0 {
		// SQLite wants a LIMIT before an OFFSET; -1 is none.
		limit := int64(-1)
		if f.Limit > 0 {
			limit = int64(f.Limit)
		}
		page = " LIMIT ? OFFSET ?"
		args = append(args, limit, max(f.Offset, 0))
	}
	return `SELECT ` + reconrow.Columns + ` FROM recon_exceptions WHERE ` + where + ` ORDER BY id` + page, args
}

// Exception returns one exception by id.
func (s *Store) Exception(ctx context.Context, id int64) (*reconcile.Exception, error) {
	es, err := s.Exceptions(ctx, reconcile.ExceptionFilter{ID: id})
	return first(es, id, err)
}

// Exception returns one exception by id, inside a transaction.
func (t *tx) Exception(ctx context.Context, id int64) (*reconcile.Exception, error) {
	query, args := exceptionQuery(reconcile.ExceptionFilter{ID: id}, "")
	es, err := t.exceptions(ctx, query, args, 1)
	return first(es, id, err)
}

// first returns the exception the lookup of id found.
func first(es []reconcile.Exception, id int64, err error) (*reconcile.Exception, error) {
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return &es[0], nil
}

// SetExceptionStatus changes an exception's status inside a transaction.
func (t *tx) SetExceptionStatus(ctx context.Context, id int64, status reconcile.ExceptionStatus, note string, entryID int64, at time.Time) error {
	switch status {
	case reconcile.ExceptionOpen, reconcile.ExceptionResolved, reconcile.ExceptionIgnored:
	default:
		return fmt.Errorf("%w: exception status %q", ledger.ErrInvalidRequest, status)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE recon_exceptions SET status = ?, note = ?, resolution_entry_id = ?, updated_at = ? WHERE id = ?`,
		string(status), note, nullID(entryID), ts(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("exception %d: %w", id, ledger.ErrNotFound)
	}
	return addExceptionEvent(ctx, t.q, id, at, 0, string(status), status, note, entryID)
}

func addExceptionEvent(ctx context.Context, q querier, id int64, at time.Time, runID int64, action string,
	status reconcile.ExceptionStatus, note string, entryID int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO recon_exception_events (exception_id, at, run_id, action, status, note, entry_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, ts(at), nullID(runID), action, string(status), note, nullID(entryID))
	return err
}

// ExceptionHistory lists the changes of an exception, oldest first.
func (s *Store) ExceptionHistory(ctx context.Context, id int64) ([]reconcile.ExceptionEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, COALESCE(run_id, 0), action, status, note, COALESCE(entry_id, 0)
		FROM recon_exception_events WHERE exception_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
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

// Runs lists stored runs, newest first, of one provider or all ("").
func (s *Store) Runs(ctx context.Context, prov string) ([]*reconcile.Run, error) {
	var raw []reconrow.Run
	if err := sqlx.SelectContext(ctx, s.dbx, &raw, `SELECT * FROM recon_runs WHERE (? = '' OR provider = ?) ORDER BY id DESC`,
		prov, prov); err != nil {
		return nil, err
	}
	return reconrow.Runs(raw), nil
}
