package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

var _ provider.Store = (*Store)(nil)

// EachRecord streams stored provider records ordered by created, then id.
//
// A raw row kept in its import's file is read from the file's chunk, which
// is decoded for it (well under a millisecond) unless one of the last few is
// the one: cheap for records in about the order of their file, as exports
// list them, dear for many records in another order. Callers that do not
// show raw rows should set NoRaw.
func (s *Store) EachRecord(ctx context.Context, f provider.RecordFilter, fn func(*provider.Record) error) error {
	// Raw rows are read from the chunks of their file in the same read
	// transaction, on the same connection, as the records.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var q querier = conn
	if !f.NoRaw {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		q = tx
	}
	query, args := recordQuery(f)
	rows, err := queryRows(ctx, conn.Raw, func() (*sql.Rows, error) { return q.QueryContext(ctx, query, args...) }, query, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	raws := &rawReader{q: q}
	for rows.Next() {
		var r provider.Record
		var grain string
		var created, avail, importID int64
		var rawOffset, rawSize sql.NullInt64
		var raw sql.NullString
		if err := rows.Scan(&r.Provider, &grain, &r.ID, &r.Format, &r.Type, &r.ReportingCategory, &r.SourceRef,
			&r.PaymentRef, &r.Currency, &r.Amount, &r.Fee, &r.Net, &r.Captured, &r.Refunded, &r.Disputed, &r.Status,
			&created, &avail, &r.PayoutID, &r.Description, &r.Test, &r.PresentmentAmount, &r.PresentmentCurrency,
			&r.ExchangeRate, &importID, &r.File, &r.Line, &rawOffset, &rawSize, &raw); err != nil {
			return err
		}
		r.Grain, r.Created, r.AvailableOn = provider.Grain(grain), fromTS(created), fromTS(avail)
		r.Offset, r.Raw = rawOffset.Int64, raw.String
		if rawSize.Valid {
			if r.Raw, err = raws.read(ctx, importID, rawOffset.Int64, rawSize.Int64); err != nil {
				return fmt.Errorf("provider record %s: raw row: %w", r.ID, err)
			}
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// recordQuery is EachRecord's query of f's records and its arguments.
func recordQuery(f provider.RecordFilter) (string, []any) {
	where, args := recordWhere(f)
	rawCols := "r.raw_offset, r.raw_size, r.raw"
	if f.NoRaw {
		rawCols = "NULL, NULL, NULL"
	}
	// One record's occurrences are found through the key index. Left to
	// itself SQLite walks the provider's and grain's part of the created
	// index instead, to have the order without sorting: every record of
	// the provider, 190 ms for an exception's detail among a million.
	from := "provider_records r"
	if f.RecordID != "" {
		from += " INDEXED BY provider_records_key"
	}
	query := `SELECT r.provider, r.grain, r.record_id, COALESCE(r.format, i.format), r.type,
		r.reporting_category, r.source_ref, r.payment_ref, r.currency, r.amount, r.fee, r.net, r.captured, r.refunded,
		r.disputed, r.status, r.created, r.available_on, r.payout_id, r.description, r.test, r.presentment_amount,
		r.presentment_currency, r.exchange_rate, r.import_id, COALESCE(r.file, i.file),
		r.line, ` + rawCols + `
		FROM ` + from + ` JOIN imports i ON i.id = r.import_id WHERE ` + where + ` ORDER BY r.created, r.id`
	return query, args
}

// recordWhere is the WHERE clause (on provider_records r) and arguments
// of a filter.
func recordWhere(f provider.RecordFilter) (string, []any) {
	where := "1 = 1"
	var args []any
	if f.ImportID != 0 {
		where += " AND r.import_id = ?"
		args = append(args, f.ImportID)
	}
	if f.Provider != "" {
		where += " AND r.provider = ?"
		args = append(args, f.Provider)
	}
	if f.RecordID != "" {
		where += " AND r.record_id = ?"
		args = append(args, f.RecordID)
	}
	if f.Grain != "" {
		where += " AND r.grain = ?"
		args = append(args, string(f.Grain))
	}
	if !f.From.IsZero() {
		where += " AND r.created >= ?"
		args = append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		where += " AND r.created < ?"
		args = append(args, ts(f.To))
	}
	return where, args
}

// RecordGrains lists the (provider, grain) pairs that have stored records,
// each found by a seek or two in provider_records_created: the provider's
// next grain, else the next provider's first. A DISTINCT read every record
// (75 ms a million), and the workbench asks on every page. (A row value,
// (provider, grain) > (?, ?), seeks to the pair itself and walks all its
// records.)
func (s *Store) RecordGrains(ctx context.Context) ([][2]string, error) {
	var out [][2]string
	var pg [2]string
	for {
		err := s.db.QueryRowContext(ctx, nextGrainQuery, pg[0], pg[1]).Scan(&pg[0], &pg[1])
		if errors.Is(err, sql.ErrNoRows) {
			err = s.db.QueryRowContext(ctx, nextProviderQuery, pg[0]).Scan(&pg[0], &pg[1])
		}
		if errors.Is(err, sql.ErrNoRows) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, pg)
	}
}

// RecordGrains' queries: the provider's next grain, and the next
// provider's first.
const (
	nextGrainQuery    = `SELECT provider, grain FROM provider_records WHERE provider = ? AND grain > ? ORDER BY grain LIMIT 1`
	nextProviderQuery = `SELECT provider, grain FROM provider_records WHERE provider > ? ORDER BY provider, grain LIMIT 1`
)

// Record returns the first stored occurrence of a provider record.
func (s *Store) Record(ctx context.Context, prov string, grain provider.Grain, id string) (*provider.Record, error) {
	var found *provider.Record
	err := s.EachRecord(ctx, provider.RecordFilter{Provider: prov, Grain: grain, RecordID: id}, func(r *provider.Record) error {
		if found == nil {
			found = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, fmt.Errorf("provider record %s %s: %w", prov, id, ledger.ErrNotFound)
	}
	return found, nil
}

// RecordsSince describes the records of a provider and grain stored after
// afterID. Records updated in place by a later, overlapping export keep
// their id and are not counted again.
func (s *Store) RecordsSince(ctx context.Context, prov string, grain provider.Grain, afterID int64) (provider.RecordsAfter, error) {
	var r provider.RecordsAfter
	var minC, maxC, maxID sql.NullInt64
	err := s.db.QueryRowContext(ctx, recordsSinceQuery(afterID), prov, string(grain), afterID).Scan(&r.Count, &minC, &maxC, &maxID)
	if err != nil {
		return r, err
	}
	if r.Count > 0 {
		r.MinCreated, r.MaxCreated, r.MaxID = fromTS(minC.Int64), fromTS(maxC.Int64), maxID.Int64
	}
	return r, nil
}

// recordsSinceQuery counts the records after afterID. Those after a
// record (a nightly run asks for the ones imported since the last) are
// read by row id from there; left to itself SQLite walks every record of
// the provider in the time index and skips the older (0.4 s a million,
// every night). From the start, the time index, which holds every column
// counted, is the smaller read.
func recordsSinceQuery(afterID int64) string {
	from := "provider_records"
	if afterID > 0 {
		from += " NOT INDEXED"
	}
	return `SELECT COUNT(*), MIN(created), MAX(created), MAX(id) FROM ` + from + ` WHERE provider = ? AND grain = ? AND id > ?`
}

// RecordSpan returns the earliest and the latest created of a provider's
// and grain's records, each by a seek of provider_records_created.
func (s *Store) RecordSpan(ctx context.Context, prov string, grain provider.Grain) (first, last time.Time, err error) {
	var a, b sql.NullInt64
	err = s.db.QueryRowContext(ctx, recordSpanQuery, prov, string(grain)).Scan(&a, &b)
	return fromTS(a.Int64), fromTS(b.Int64), err
}

const recordSpanQuery = `SELECT (SELECT MIN(created) FROM provider_records WHERE provider = ?1 AND grain = ?2),
	(SELECT MAX(created) FROM provider_records WHERE provider = ?1 AND grain = ?2)`
