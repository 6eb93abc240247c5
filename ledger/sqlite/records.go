package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"time"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
)

// ImportFile describes one provider export being imported.
type ImportFile struct {
	File   string
	SHA256 string
	Format string
}

// ImportStats says what an import did.
type ImportStats struct {
	ImportID      int64
	Records       int // records read, good and quarantined
	Added         int // new records stored
	Updated       int // records seen before whose fields changed (a newer export)
	Quarantined   int // bad rows kept aside (skip-invalid)
	AlreadyLoaded bool
}

// Quarantined is a bad row kept aside by an import with skip-invalid.
type Quarantined struct {
	Line    int
	Problem string
	Raw     string
}

// RecordSink receives the records of one import.
type RecordSink interface {
	Add(r *importers.Record) error
	Quarantine(q Quarantined) error
}

// Import stores the records that fn feeds to the sink, in one transaction:
// if fn returns an error nothing is stored. A file whose SHA-256 was imported
// before is skipped (ImportStats.AlreadyLoaded) without calling fn. Records
// are written in multi-row batches as they arrive; only a small hash per
// record id is held, to number repeats of one id within the file.
func (s *Store) Import(ctx context.Context, f ImportFile, fn func(RecordSink) error) (ImportStats, error) {
	var st ImportStats
	err := s.withWrite(ctx, func(q querier) error {
		st = ImportStats{}
		var prev int64
		err := q.QueryRowContext(ctx, `SELECT id FROM imports WHERE sha256 = ? LIMIT 1`, f.SHA256).Scan(&prev)
		if err == nil {
			st.ImportID, st.AlreadyLoaded = prev, true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		res, err := q.ExecContext(ctx, `INSERT INTO imports (file, sha256, format, imported_at) VALUES (?, ?, ?, ?)`,
			f.File, f.SHA256, f.Format, time.Now().UnixNano())
		if err != nil {
			return err
		}
		if st.ImportID, err = res.LastInsertId(); err != nil {
			return err
		}
		// New rows get rowids above the current largest, so counting the
		// rows above it afterwards gives the number added without a scan.
		var maxBefore int64
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM provider_records`).Scan(&maxBefore); err != nil {
			return err
		}
		sink := &recordSink{ctx: ctx, s: s, q: q, importID: st.ImportID, file: f.File, seen: map[uint64]int{}, seed: maphash.MakeSeed()}
		if err := fn(sink); err != nil {
			return err
		}
		if err := sink.flush(); err != nil {
			return err
		}
		var added int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM provider_records WHERE id > ?`, maxBefore).Scan(&added); err != nil {
			return err
		}
		st.Records, st.Quarantined = sink.records+sink.quarantined, sink.quarantined
		st.Added = int(added)
		st.Updated = int(sink.changed) - st.Added
		_, err = q.ExecContext(ctx, `UPDATE imports SET records = ?, added = ?, updated = ?, quarantined = ? WHERE id = ?`,
			st.Records, st.Added, st.Updated, st.Quarantined, st.ImportID)
		return err
	})
	return st, translate(err)
}

// recordBatch is how many records one INSERT statement carries.
const recordBatch = 200

const recordCols = `provider, grain, record_id, occurrence, format, type, reporting_category, source_ref, payment_ref,
	currency, amount, fee, net, captured, refunded, disputed, status, created, available_on, payout_id, description,
	import_id, file, line, raw`

const recordColCount = 25

type recordSink struct {
	ctx         context.Context
	s           *Store // for its statement cache; Import holds its writer lock
	q           querier
	importID    int64
	file        string
	seed        maphash.Seed
	seen        map[uint64]int // hash of provider|grain|record id → occurrences so far
	args        []any
	rows        int
	records     int
	quarantined int
	changed     int64
}

func (k *recordSink) Add(r *importers.Record) error {
	k.records++
	h := maphash.String(k.seed, r.Provider+"\x00"+string(r.Grain)+"\x00"+r.ID)
	k.seen[h]++
	k.args = append(k.args, r.Provider, string(r.Grain), r.ID, k.seen[h], r.Format, r.Type, r.ReportingCategory,
		r.SourceRef, r.PaymentRef, r.Currency, r.Amount, r.Fee, r.Net, r.Captured, r.Refunded, r.Disputed, r.Status,
		ts(r.Created), ts(r.AvailableOn), r.PayoutID, r.Description, k.importID, r.File, r.Line, r.Raw)
	k.rows++
	if k.rows == recordBatch {
		return k.flush()
	}
	return nil
}

func (k *recordSink) Quarantine(q Quarantined) error {
	k.quarantined++
	_, err := k.q.ExecContext(k.ctx, `INSERT INTO quarantine (import_id, file, line, problem, raw) VALUES (?, ?, ?, ?, ?)`,
		k.importID, k.file, q.Line, q.Problem, q.Raw)
	return err
}

// mutable are the fields a newer export of the same record may change.
var mutable = []string{"type", "reporting_category", "source_ref", "payment_ref", "currency", "amount", "fee", "net",
	"captured", "refunded", "disputed", "status", "available_on", "payout_id", "description"}

var upsertTail = func() string {
	set := make([]string, 0, len(mutable)+4)
	differ := make([]string, 0, len(mutable))
	for _, c := range mutable {
		set = append(set, c+" = excluded."+c)
		differ = append(differ, "provider_records."+c+" IS NOT excluded."+c)
	}
	set = append(set, "import_id = excluded.import_id", "file = excluded.file", "line = excluded.line", "raw = excluded.raw")
	return " ON CONFLICT (provider, grain, record_id, occurrence) DO UPDATE SET " + strings.Join(set, ", ") +
		" WHERE " + strings.Join(differ, " OR ")
}()

func (k *recordSink) flush() error {
	if k.rows == 0 {
		return nil
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", recordColCount), ", ") + ")"
	tuples := strings.TrimSuffix(strings.Repeat(tuple+", ", k.rows), ", ")
	stmt, err := k.s.stmt(k.ctx, `INSERT INTO provider_records (`+recordCols+`) VALUES `+tuples+upsertTail)
	if err != nil {
		return fmt.Errorf("storing provider records: %w", err)
	}
	res, err := stmt.ExecContext(k.ctx, k.args...)
	if err != nil {
		return fmt.Errorf("storing provider records: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	k.changed += n
	k.args, k.rows = k.args[:0], 0
	return nil
}

// RecordFilter selects provider records. Zero fields do not filter.
type RecordFilter struct {
	ImportID int64
	RecordID string
	Provider string
	Grain    importers.Grain
	From, To time.Time // created in [From, To)
	NoRaw    bool      // leave Raw empty (reconciliation does not need it)
}

// EachRecord streams stored provider records ordered by created, then id.
func (s *Store) EachRecord(ctx context.Context, f RecordFilter, fn func(*importers.Record) error) error {
	where := "1 = 1"
	var args []any
	if f.ImportID != 0 {
		where += " AND import_id = ?"
		args = append(args, f.ImportID)
	}
	if f.Provider != "" {
		where += " AND provider = ?"
		args = append(args, f.Provider)
	}
	if f.RecordID != "" {
		where += " AND record_id = ?"
		args = append(args, f.RecordID)
	}
	if f.Grain != "" {
		where += " AND grain = ?"
		args = append(args, string(f.Grain))
	}
	if !f.From.IsZero() {
		where += " AND created >= ?"
		args = append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		where += " AND created < ?"
		args = append(args, ts(f.To))
	}
	rawCol := "raw"
	if f.NoRaw {
		rawCol = "''"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT provider, grain, record_id, format, type, reporting_category, source_ref,
		payment_ref, currency, amount, fee, net, captured, refunded, disputed, status, created, available_on, payout_id,
		description, file, line, `+rawCol+` FROM provider_records WHERE `+where+` ORDER BY created, id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r importers.Record
		var grain string
		var created, avail int64
		if err := rows.Scan(&r.Provider, &grain, &r.ID, &r.Format, &r.Type, &r.ReportingCategory, &r.SourceRef,
			&r.PaymentRef, &r.Currency, &r.Amount, &r.Fee, &r.Net, &r.Captured, &r.Refunded, &r.Disputed, &r.Status,
			&created, &avail, &r.PayoutID, &r.Description, &r.File, &r.Line, &r.Raw); err != nil {
			return err
		}
		r.Grain, r.Created, r.AvailableOn = importers.Grain(grain), fromTS(created), fromTS(avail)
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// RecordGrains lists the (provider, grain) pairs that have stored records.
func (s *Store) RecordGrains(ctx context.Context) ([][2]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT provider, grain FROM provider_records ORDER BY provider, grain`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var pg [2]string
		if err := rows.Scan(&pg[0], &pg[1]); err != nil {
			return nil, err
		}
		out = append(out, pg)
	}
	return out, rows.Err()
}

// Record returns the first stored occurrence of a provider record.
func (s *Store) Record(ctx context.Context, provider string, grain importers.Grain, id string) (*importers.Record, error) {
	var found *importers.Record
	err := s.EachRecord(ctx, RecordFilter{Provider: provider, Grain: grain, RecordID: id}, func(r *importers.Record) error {
		if found == nil {
			found = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("provider record %s %s: %w", provider, id, ledger.ErrNotFound)
	}
	return found, nil
}
