package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/store/internal/bankmark"
)

// InsertEntry writes an entry with its postings in one statement and notes
// its balance changes. The entry's id comes from the database.
func (t *tx) InsertEntry(ctx context.Context, e *ledger.Entry) error {
	t.entries++
	ok, err := t.insertEntry(ctx, e)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("entry key %q exists: %w", e.Key, ledger.ErrIdempotencyConflict)
	}
	return nil
}

// insertEntrySQL inserts an entry with its postings ($15–$17) and its
// bank mark ($18, bankentries.go), and returns
// its new id, or no row when the key is stored already; a concurrent
// transaction inserting the same key makes it wait for that one to end.
const insertEntrySQL = `INSERT INTO {schema}.entries (key, hash, phase, occurred_at, recorded_at, description, metadata,
		source_provider, source_type, source_id, source_ref, reverses, pending_of, expires_at, account_ids, currencies, amounts, bank)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
	ON CONFLICT (key) DO NOTHING RETURNING id`

// insertEntry writes e unless its key is stored, and reports whether it
// did. It sets e.ID and e.RecordedAt.
func (t *tx) insertEntry(ctx context.Context, e *ledger.Entry) (bool, error) {
	v, err := t.entryValues(ctx, e)
	if err != nil {
		return false, err
	}
	args, recorded, accounts, currencies, amounts := v.args, v.recorded, v.accounts, v.currencies, v.amounts
	var id int64
	if t.raw == nil {
		// A caller's transaction, begun by the caller.
		err = t.queryRow(ctx, insertEntrySQL, args...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, t.fail(err)
		}
		e.ID, e.RecordedAt = id, recorded
		return true, t.addPostings(e.Phase, accounts, currencies, amounts)
	}
	err = t.pgx(func(c *pgx.Conn) error {
		if t.started() {
			return c.QueryRow(ctx, t.s.sql(insertEntrySQL), args...).Scan(&id)
		}
		// The transaction's first statement: BEGIN goes in the same
		// round trip.
		var b pgx.Batch
		n := t.queueStart(&b)
		b.Queue(t.s.sql(insertEntrySQL), args...)
		br := c.SendBatch(ctx, &b)
		if err := t.readStart(br, n); err != nil {
			br.Close()
			return err
		}
		err := br.QueryRow().Scan(&id)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	e.ID, e.RecordedAt = id, recorded
	return true, t.addPostings(e.Phase, accounts, currencies, amounts)
}

// deferredEntrySQL inserts an entry with an id drawn beforehand: a stored
// key fails it with a unique violation.
const deferredEntrySQL = `INSERT INTO {schema}.entries (id, key, hash, phase, occurred_at, recorded_at, description, metadata,
		source_provider, source_type, source_id, source_ref, reverses, pending_of, expires_at, account_ids, currencies, amounts, bank)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`

// deferEntry writes e, the transaction's first statement, optimistically:
// its id comes from the store's block of drawn ids and its INSERT waits to
// go out with the next statement, in the same round trip as BEGIN, or with
// the balance changes and COMMIT if there is none (PostEntry). A key
// already stored, or stored meanwhile by a concurrent transaction, then
// fails the INSERT with a unique violation, and the transaction runs again,
// no longer optimistic: insertEntry finds the stored entry, and the ledger
// answers with a replay or ErrIdempotencyConflict as it would have at
// once. It reports false, having written nothing, when the transaction
// has begun meanwhile (an account was created): e is then written the
// usual way.
func (t *tx) deferEntry(ctx context.Context, e *ledger.Entry) (bool, error) {
	v, err := t.entryValues(ctx, e)
	if err != nil {
		return false, err
	}
	if t.begun {
		return false, nil // creating an account began the transaction: the usual way
	}
	id, err := t.s.drawEntryID(ctx, t)
	if err != nil {
		return false, err
	}
	t.deferred = &deferredStmt{sql: t.s.sql(deferredEntrySQL), args: append([]any{id}, v.args...)}
	e.ID, e.RecordedAt = id, v.recorded
	return true, t.addPostings(e.Phase, v.accounts, v.currencies, v.amounts)
}

// entryValues are an entry's column values as both inserts write them.
type entryValues struct {
	args       []any // the columns of insertEntrySQL, key to bank
	recorded   time.Time
	accounts   []int64
	currencies []string
	amounts    []int64
}

// entryValues converts e for insertEntrySQL (and, after its id,
// deferredEntrySQL), creating missing accounts. RecordedAt is the ledger's
// clock, else the store's.
func (t *tx) entryValues(ctx context.Context, e *ledger.Entry) (entryValues, error) {
	var v entryValues
	occurred, err := storeTS("occurred_at", e.OccurredAt)
	if err != nil {
		return v, err
	}
	expires, err := storeNullTS("expires_at", e.ExpiresAt)
	if err != nil {
		return v, err
	}
	md, err := meta(e.Metadata)
	if err != nil {
		return v, err
	}
	if v.accounts, v.currencies, v.amounts, err = t.postingArrays(ctx, e.Postings); err != nil {
		return v, err
	}
	banks, err := t.bankLedgerAccounts(ctx)
	if err != nil {
		return v, err
	}
	v.recorded = e.RecordedAt
	if v.recorded.IsZero() {
		v.recorded = t.s.now().UTC()
	}
	v.args = []any{e.Key, e.Hash, string(e.Phase), occurred, ts(v.recorded), e.Description, md,
		e.Source.Provider, e.Source.Type, e.Source.ID, e.Source.Ref, nullID(e.Reverses), nullID(e.PendingOf), expires,
		v.accounts, v.currencies, v.amounts, bankmark.Marked(e, banks)}
	return v, nil
}

// entryIDBlock is how many entry ids a store draws from the sequence at a
// time for deferEntry, as a sequence's CACHE option would: ids stay unique
// and grow within a process, and ids a process drew but never used are
// gaps, as a rolled-back insert leaves.
const entryIDBlock = 64

// drawEntryID returns an unused entry id, drawing a new block on t's
// connection, outside any transaction, when the store has none left.
func (s *Store) drawEntryID(ctx context.Context, t *tx) (int64, error) {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	if len(s.entryIDs) == 0 {
		err := t.pgx(func(c *pgx.Conn) error {
			rows, err := c.Query(ctx, s.sql(`SELECT nextval('{schema}.entries_id_seq') FROM generate_series(1, $1)`), entryIDBlock)
			if err != nil {
				return err
			}
			var id int64
			_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
				s.entryIDs = append(s.entryIDs, id)
				return nil
			})
			return err
		})
		if err != nil {
			return 0, err
		}
		slices.Sort(s.entryIDs)
	}
	id := s.entryIDs[0]
	s.entryIDs = s.entryIDs[1:]
	return id, nil
}

// postingArrays returns the columns account_ids, currencies and amounts
// of postings, creating missing accounts.
func (t *tx) postingArrays(ctx context.Context, ps []ledger.Posting) ([]int64, []string, []int64, error) {
	accounts := make([]int64, len(ps))
	currencies := make([]string, len(ps))
	amounts := make([]int64, len(ps))
	for i, p := range ps {
		var err error
		if accounts[i], err = t.accountID(ctx, p.Account); err != nil {
			return nil, nil, nil, err
		}
		currencies[i], amounts[i] = p.Currency, p.Amount
	}
	return accounts, currencies, amounts, nil
}

// addPostings adds written postings to the balance changes: posted or,
// for a pending entry, pending.
func (t *tx) addPostings(phase ledger.Phase, accounts []int64, currencies []string, amounts []int64) error {
	for i := range accounts {
		var err error
		if phase == ledger.Pending {
			err = t.addDelta(accounts[i], currencies[i], 0, amounts[i])
		} else {
			err = t.addDelta(accounts[i], currencies[i], amounts[i], 0)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// copyFrom is the batch size from which InsertEntries writes with COPY;
// smaller batches are written a statement an entry.
const copyFrom = 16

// InsertEntries writes many entries. An entry whose key is stored is not
// written; its stored version is returned under its index instead. Large
// batches go through COPY: ids are drawn from the entries' sequence first,
// then entries and postings are copied. A key that a concurrent
// transaction stores between the lookup and the COPY fails it with a
// unique violation, and the transaction runs again.
func (t *tx) InsertEntries(ctx context.Context, es []*ledger.Entry) (map[int]*ledger.Entry, error) {
	t.entries += len(es)
	existing := map[int]*ledger.Entry{}
	if len(es) == 1 && t.raw != nil && !t.begun && t.deferred == nil && t.optimistic {
		// One entry as the transaction's first statement (PostEntry):
		// sent with BEGIN and COMMIT in one round trip.
		if ok, err := t.deferEntry(ctx, es[0]); err != nil || ok {
			return existing, err
		}
	}
	if len(es) < copyFrom || t.raw == nil { // no COPY in a caller's database/sql transaction
		for i, e := range es {
			ok, err := t.insertEntry(ctx, e)
			if err != nil {
				return nil, err
			}
			if !ok {
				if existing[i], err = t.EntryByKey(ctx, e.Key); err != nil {
					return nil, err
				}
			}
		}
		return existing, nil
	}
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.Key
	}
	stored, ids, err := t.storedKeysAndIDs(ctx, keys)
	if err != nil {
		return nil, err
	}
	fresh := make([]*ledger.Entry, 0, len(es))
	for i, e := range es {
		if _, ok := stored[e.Key]; !ok {
			fresh = append(fresh, e)
			continue
		}
		if existing[i], err = t.Entry(ctx, stored[e.Key]); err != nil {
			return nil, err
		}
	}
	if len(fresh) == 0 {
		return existing, nil
	}
	if err := t.copyEntries(ctx, fresh, ids[:len(fresh)]); err != nil {
		return nil, err
	}
	return existing, nil
}

// storedKeysAndIDs returns the ids of the entries stored under keys, and
// len(keys) new ids drawn from the entries' identity sequence in ascending
// order, in one round trip that also begins the transaction if no
// statement has. Ids left unused by keys found stored are gaps, as a
// rolled-back insert leaves.
func (t *tx) storedKeysAndIDs(ctx context.Context, keys []string) (map[string]int64, []int64, error) {
	stored := map[string]int64{}
	ids := make([]int64, 0, len(keys))
	err := t.pgx(func(c *pgx.Conn) error {
		var b pgx.Batch
		n := t.queueStart(&b)
		b.Queue(t.s.sql(`SELECT key, id FROM {schema}.entries WHERE key = ANY($1)`), keys)
		b.Queue(t.s.sql(`SELECT nextval('{schema}.entries_id_seq') FROM generate_series(1, $1)`), len(keys))
		br := c.SendBatch(ctx, &b)
		defer br.Close()
		if err := t.readStart(br, n); err != nil {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var k string
		var id int64
		if _, err := pgx.ForEachRow(rows, []any{&k, &id}, func() error {
			stored[k] = id
			return nil
		}); err != nil {
			return err
		}
		if rows, err = br.Query(); err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
			ids = append(ids, id)
			return nil
		}); err != nil {
			return err
		}
		return br.Close()
	})
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(ids)
	return stored, ids, nil
}

var entryCopyCols = []string{"id", "key", "hash", "phase", "occurred_at", "recorded_at", "description", "metadata",
	"source_provider", "source_type", "source_id", "source_ref", "reverses", "pending_of", "expires_at",
	"account_ids", "currencies", "amounts", "bank"}

// copyEntries writes new entries with ids (ascending) through a binary
// COPY, each row encoded straight into the COPY's buffer.
func (t *tx) copyEntries(ctx context.Context, es []*ledger.Entry, ids []int64) error {
	banks, err := t.bankLedgerAccounts(ctx)
	if err != nil {
		return err
	}
	now := t.s.now().UTC()
	rows := newCopyRows(len(es) * 512) // a four-posting entry takes about 400 bytes
	var accounts, amounts []int64
	var currencies []string
	for i, e := range es {
		occurred, err := storeTS("occurred_at", e.OccurredAt)
		if err != nil {
			return err
		}
		expires, err := storeNullTS("expires_at", e.ExpiresAt)
		if err != nil {
			return err
		}
		md, err := meta(e.Metadata)
		if err != nil {
			return err
		}
		accounts, currencies, amounts = accounts[:0], currencies[:0], amounts[:0]
		for _, p := range e.Postings {
			id, err := t.accountID(ctx, p.Account)
			if err != nil {
				return err
			}
			accounts, currencies, amounts = append(accounts, id), append(currencies, p.Currency), append(amounts, p.Amount)
		}
		recorded := e.RecordedAt // the ledger's clock, else the store's
		if recorded.IsZero() {
			recorded = now
		}
		e.ID, e.RecordedAt = ids[i], recorded
		rows.row(len(entryCopyCols))
		rows.int64(e.ID)
		rows.text(e.Key)
		rows.text(e.Hash)
		rows.text(string(e.Phase))
		rows.int64(occurred)
		rows.int64(ts(recorded))
		rows.text(e.Description)
		rows.jsonb(md)
		rows.text(e.Source.Provider)
		rows.text(e.Source.Type)
		rows.text(e.Source.ID)
		rows.text(e.Source.Ref)
		rows.int64OrNull(e.Reverses, e.Reverses == 0)
		rows.int64OrNull(e.PendingOf, e.PendingOf == 0)
		x, ok := expires.(int64)
		rows.int64OrNull(x, !ok)
		rows.int64Array(accounts)
		rows.textArray(currencies)
		rows.int64Array(amounts)
		rows.bool(bankmark.Marked(e, banks))
		if err := t.addPostings(e.Phase, accounts, currencies, amounts); err != nil {
			return err
		}
	}
	rows.trailer()
	if err := t.begin(ctx); err != nil {
		return t.fail(err)
	}
	return t.pgx(func(c *pgx.Conn) error {
		_, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(rows.b), copyStatement(t.s.quoted+".entries", entryCopyCols))
		return err
	})
}

// ResolvePending marks a pending entry resolved and releases its pending
// balances, in one statement that returns its postings. The UPDATE's condition is checked again on
// the newest version of the row after any concurrent resolution commits, so
// a pending entry is resolved once.
func (t *tx) ResolvePending(ctx context.Context, id int64, r ledger.Resolution, by int64) error {
	rows, err := t.query(ctx, `WITH u AS (
		UPDATE {schema}.entries SET resolution = $1, resolved_by = $2
		WHERE id = $3 AND phase = 'pending' AND resolution = '' RETURNING account_ids, currencies, amounts)
		SELECT p.account_id, p.currency, p.amount FROM u, unnest(u.account_ids, u.currencies, u.amounts) AS p (account_id, currency, amount)`,
		string(r), nullID(by), id)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var acc, amount int64
		var currency string
		if err := rows.Scan(&acc, &currency, &amount); err != nil {
			return err
		}
		if err := t.addDelta(acc, currency, 0, -amount); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return t.fail(err)
	}
	if n == 0 {
		return fmt.Errorf("pending entry %d: %w", id, ledger.ErrAlreadyResolved)
	}
	return nil
}

// entryRow is a row of entryCols, scanned by sqlx.
type entryRow struct {
	ID             int64          `db:"id"`
	Key            string         `db:"key"`
	Hash           string         `db:"hash"`
	Phase          string         `db:"phase"`
	OccurredAt     int64          `db:"occurred_at"`
	RecordedAt     int64          `db:"recorded_at"`
	Description    string         `db:"description"`
	Metadata       sql.NullString `db:"metadata"`
	SourceProvider string         `db:"source_provider"`
	SourceType     string         `db:"source_type"`
	SourceID       string         `db:"source_id"`
	SourceRef      string         `db:"source_ref"`
	Reverses       sql.NullInt64  `db:"reverses"`
	PendingOf      sql.NullInt64  `db:"pending_of"`
	ExpiresAt      sql.NullInt64  `db:"expires_at"`
	Resolution     string         `db:"resolution"`
	ResolvedBy     sql.NullInt64  `db:"resolved_by"`
	// The postings' arrays, in PostgreSQL's text form (postingsOf).
	AccountIDs []byte `db:"account_ids"`
	Currencies []byte `db:"currencies"`
	Amounts    []byte `db:"amounts"`
}

// entryCols are an entry's columns with its postings: read in the same
// row, not joined again through the postings view, which had the journal
// of a month read each page of entries twice.
const entryCols = `e.id, e.key, e.hash, e.phase, e.occurred_at, e.recorded_at, e.description, e.metadata,
	e.source_provider, e.source_type, e.source_id, e.source_ref, e.reverses, e.pending_of, e.expires_at,
	e.resolution, e.resolved_by, e.account_ids, e.currencies, e.amounts`

func (r *entryRow) entry() (*ledger.Entry, error) {
	e := &ledger.Entry{ID: r.ID, Key: r.Key, Hash: r.Hash, Phase: ledger.Phase(r.Phase),
		OccurredAt: fromTS(r.OccurredAt), RecordedAt: fromTS(r.RecordedAt), Description: r.Description,
		Source:   ledger.Source{Provider: r.SourceProvider, Type: r.SourceType, ID: r.SourceID, Ref: r.SourceRef},
		Reverses: r.Reverses.Int64, PendingOf: r.PendingOf.Int64, ExpiresAt: fromNullTS(r.ExpiresAt),
		Resolution: ledger.Resolution(r.Resolution), ResolvedBy: r.ResolvedBy.Int64}
	var err error
	e.Metadata, err = fromMeta(r.Metadata)
	return e, err
}

// entryWhere reads one entry, locked in a write transaction, with its
// postings.
func (t *tx) entryWhere(ctx context.Context, where string, arg any) (*ledger.Entry, error) {
	var r entryRow
	err := t.get(ctx, &r, `SELECT `+entryCols+` FROM {schema}.entries e WHERE `+where+t.lockClause(), arg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("entry %v: %w", arg, ledger.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return t.entryOf(ctx, &r, map[string]string{})
}

// entryOf returns the entry of a row with its postings, accounts named;
// currencies keeps each currency code once across the rows of a read.
func (t *tx) entryOf(ctx context.Context, r *entryRow, currencies map[string]string) (*ledger.Entry, error) {
	e, err := r.entry()
	if err != nil {
		return nil, err
	}
	ps, why := postingsOf(nil, r.AccountIDs, r.Currencies, r.Amounts, currencies)
	if why != "" {
		return nil, fmt.Errorf("entry %d: %s", r.ID, why)
	}
	e.Postings = make([]ledger.Posting, len(ps))
	for i, p := range ps {
		name, err := t.accountName(ctx, p.Account)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", r.ID, err)
		}
		e.Postings[i] = ledger.Posting{Account: name, Currency: p.Currency, Amount: p.Amount}
	}
	return e, nil
}

// Entry returns an entry with its postings.
func (t *tx) Entry(ctx context.Context, id int64) (*ledger.Entry, error) {
	return t.entryWhere(ctx, "e.id = $1", id)
}

// EntryByKey returns the entry written under an idempotency key.
func (t *tx) EntryByKey(ctx context.Context, key string) (*ledger.Entry, error) {
	return t.entryWhere(ctx, "e.key = $1", key)
}

// ReversedBy returns the id of the entry reversing id, or 0. The caller
// (Reverse) has locked entry id by reading it, so no reversal can commit
// between this answer and its own.
func (t *tx) ReversedBy(ctx context.Context, id int64) (int64, error) {
	var by int64
	err := t.queryRow(ctx, `SELECT id FROM {schema}.entries WHERE reverses = $1 ORDER BY id LIMIT 1`, id).Scan(&by)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return by, t.fail(err)
}

// entryPage is how many entries EachEntry reads at a time.
const entryPage = 1000

// EachEntry streams entries with their postings, ordered by occurred_at
// then id, a page at a time (keyset pagination), so that neither the
// entries nor an open cursor are held while fn runs: fn may use the
// transaction.
func (t *tx) EachEntry(ctx context.Context, f ledger.EntryFilter, fn func(*ledger.Entry) error) error {
	where := "TRUE"
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !f.From.IsZero() {
		where += " AND e.occurred_at >= " + arg(ts(f.From))
	}
	if !f.To.IsZero() {
		where += " AND e.occurred_at < " + arg(ts(f.To))
	}
	if f.PostedOnly {
		where += " AND e.phase = 'posted'"
	}
	if f.Account != "" {
		ids, marked, err := t.accountIDsUnder(ctx, f.Account)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		// Array overlap, checked on the rows the other conditions keep:
		// like the SQLite store, no per-account index slows every write
		// for the sake of statements. The entries of bank accounts'
		// ledger accounts are marked, and read through their own index.
		if marked {
			where += " AND e.bank"
		}
		where += " AND e.account_ids && " + arg(ids) + "::bigint[]"
	}
	// Each page starts after the last entry of the page before, the
	// first after f.After where it is set.
	afterAt, afterID := ts(f.After.OccurredAt), f.After.ID
	first := f.After.ID == 0
	currencies := map[string]string{}
	for {
		page := where
		pargs := args
		if !first {
			page += fmt.Sprintf(" AND (e.occurred_at, e.id) > ($%d, $%d)", len(args)+1, len(args)+2)
			pargs = append(slices.Clip(args), afterAt, afterID)
		}
		// The offset applies once, to the first page: every condition
		// is in SQL here, so the entries it skips are those fn would
		// have been given.
		skip := ""
		if f.Offset > 0 {
			skip = " OFFSET " + fmt.Sprint(f.Offset)
			f.Offset = 0
		}
		var rows []entryRow
		if err := t.selectAll(ctx, &rows, `SELECT `+entryCols+` FROM {schema}.entries e WHERE `+page+
			` ORDER BY e.occurred_at, e.id LIMIT `+fmt.Sprint(entryPage)+skip, pargs...); err != nil {
			return err
		}
		for i := range rows {
			e, err := t.entryOf(ctx, &rows[i], currencies)
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(rows) < entryPage {
			return nil
		}
		last := rows[len(rows)-1]
		afterAt, afterID, first = last.OccurredAt, last.ID, false
	}
}

// accountIDsUnder returns the ids of account and its subaccounts, and
// whether each is under a bank account's ledger account, so that their
// entries are marked (bankentries.go).
func (t *tx) accountIDsUnder(ctx context.Context, account string) ([]int64, bool, error) {
	banks, err := t.bankLedgerAccounts(ctx)
	if err != nil {
		return nil, false, err
	}
	rows, err := t.query(ctx, `SELECT id, name FROM {schema}.accounts WHERE name = $1 OR starts_with(name, $2)`, account, account+":")
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var ids []int64
	marked := true
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, false, t.fail(err)
		}
		ids = append(ids, id)
		marked = marked && bankmark.Under(name, banks)
	}
	return ids, marked, t.fail(rows.Err())
}

// ExpiredPending lists unresolved pending entries past their expiry,
// locking them: an entry resolved meanwhile by a concurrent transaction is
// left out once that one commits.
func (t *tx) ExpiredPending(ctx context.Context, asOf time.Time) ([]ledger.Entry, error) {
	rows, err := t.query(ctx, `SELECT id FROM {schema}.entries WHERE phase = 'pending' AND resolution = ''
		AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at, id`+t.lockClause(), ts(asOf))
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, t.fail(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, t.fail(err)
	}
	out := make([]ledger.Entry, 0, len(ids))
	for _, id := range ids {
		e, err := t.Entry(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, nil
}
