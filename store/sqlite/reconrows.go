package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
	"github.com/settlehq/settle/reconcile"
)

// A reconciliation run reads a million provider records and a million
// balance transactions, of which it keeps a compact projection
// (reconcile.ProviderSide, reconcile.LedgerSide). ScanRecords and
// ScanBalanceTransactions stream them through one reused struct, reading
// only the columns a run compares and hashes: no per-row allocation of
// the whole struct, no raw rows, no fee details to decode.

// ScanRecords streams the provider records of f (its NoRaw is implied)
// ordered by created, then id, as EachRecord does, through one reused
// Record: fn must not keep it. Format, Offset and Raw are left empty.
func (s *Store) ScanRecords(ctx context.Context, f provider.RecordFilter, fn func(*provider.Record) error) error {
	where, args := recordWhere(f)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	query := `SELECT r.provider, r.grain, r.record_id, r.type, r.reporting_category, r.source_ref, r.payment_ref,
		r.currency, r.amount, r.fee, r.net, r.captured, r.refunded, r.disputed, r.status, r.created, r.available_on,
		r.payout_id, r.description, r.test, r.presentment_amount, r.presentment_currency, r.exchange_rate,
		COALESCE(r.file, i.file), r.line
		FROM provider_records r JOIN imports i ON i.id = r.import_id WHERE ` + where + ` ORDER BY r.created, r.id`
	rows, err := queryRows(ctx, conn.Raw, func() (*sql.Rows, error) { return conn.QueryContext(ctx, query, args...) }, query, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r provider.Record
	var grain string
	var created, avail int64
	dest := []any{&r.Provider, &grain, &r.ID, &r.Type, &r.ReportingCategory, &r.SourceRef, &r.PaymentRef,
		&r.Currency, &r.Amount, &r.Fee, &r.Net, &r.Captured, &r.Refunded, &r.Disputed, &r.Status, &created, &avail,
		&r.PayoutID, &r.Description, &r.Test, &r.PresentmentAmount, &r.PresentmentCurrency, &r.ExchangeRate,
		&r.File, &r.Line}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		r.Grain, r.Created, r.AvailableOn = provider.Grain(grain), fromTS(created), fromTS(avail)
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// btScanCols are the columns ScanBalanceTransactions reads.
const btScanCols = `b.id, b.provider, b.type, b.reporting_category, b.source_type, b.source_id, b.source_ref, b.amount,
	b.fee, b.net, s.currency, s.status, b.created, s.available_on, s.payout_id, s.available_on_estimated, s.payout_derived,
	b.presentment_amount, b.presentment_currency, b.settlement_estimated`

// ScanBalanceTransactions streams the balance transactions of f ordered
// by created, then id, as EachBalanceTransaction does, through one reused
// BalanceTransaction: fn must not keep it. EntryID, PaymentID, FeeDetails,
// Description and ExchangeRate are left empty.
func (t *tx) ScanBalanceTransactions(ctx context.Context, f ledger.BTFilter, fn func(*ledger.BalanceTransaction) error) error {
	from, where, args := btWhere(f)
	rows, err := t.rows(ctx, `SELECT `+btScanCols+` FROM `+from+` WHERE `+where+` ORDER BY b.created, b.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var b ledger.BalanceTransaction
	var created, avail int64
	dest := []any{&b.ID, &b.Provider, &b.Type, &b.ReportingCategory, &b.SourceType, &b.SourceID, &b.SourceRef,
		&b.Amount, &b.Fee, &b.Net, &b.Currency, &b.Status, &created, &avail, &b.PayoutID, &b.AvailableOnEstimated,
		&b.PayoutDerived, &b.PresentmentAmount, &b.PresentmentCurrency, &b.SettlementEstimated}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		b.Created, b.AvailableOn = fromTS(created), fromTS(avail)
		if err := fn(&b); err != nil {
			return err
		}
	}
	return rows.Err()
}

// payoutSweptIDs selects the ids of the balance transactions in a payout
// (its id bound twice): those told to be in it, through bt_told_payout, and
// those derived to be, through bt_derived_payout: of the payout's provider
// and currency, available after the automatic payout before it and by the
// payout's own time (the rule of ledger.AutomaticPayoutFor). A payout at
// the same time as an earlier one in id order gets none of that range:
// the payout_id test keeps each transaction in the one payout it names.
const payoutSweptIDs = `SELECT id FROM bt_settlements
	WHERE payout_derived = 0 AND payout_id <> '' AND payout_id = ?
	UNION ALL
	SELECT d.id FROM payouts AS p JOIN bt_settlements AS d
	ON d.payout_derived = 1 AND d.provider = p.provider AND d.currency = p.currency AND d.available_on <= p.created_at
		AND d.available_on > COALESCE((SELECT q.created_at FROM payouts AS q WHERE q.automatic = 1
			AND q.provider = p.provider AND q.currency = p.currency AND q.created_at < p.created_at
			ORDER BY q.created_at DESC LIMIT 1), -9223372036854775808)
		AND d.payout_id = p.id
	WHERE p.id = ? AND p.automatic = 1`

// btWhere is the tables (with an index) and WHERE clause of a filter, on
// btFrom's names.
func btWhere(f ledger.BTFilter) (from, where string, args []any) {
	from, where = btFrom, "1 = 1"
	if f.Provider != "" {
		where += " AND b.provider = ?"
		args = append(args, f.Provider)
	}
	if !f.From.IsZero() {
		where += " AND b.created >= ?"
		args = append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		where += " AND b.created < ?"
		args = append(args, ts(f.To))
	}
	if f.PayoutID != "" {
		where += " AND s.id IN (" + payoutSweptIDs + ")"
		args = append(args, f.PayoutID, f.PayoutID)
	}
	switch f.SourceType {
	case "":
	case ledger.SourceCorrection:
		// Spelled out, so that SQLite can use the partial index of
		// corrections (bt_corrections), which a bound value cannot
		// select: adopting a provider's dates looks up the corrections of
		// every transaction it moves.
		where += " AND b.source_type = 'correction'"
		from = "bt_core AS b INDEXED BY bt_corrections" + btJoinSettlements
	default:
		where += " AND b.source_type = ?"
		args = append(args, f.SourceType)
	}
	return from, where, args
}

// LinkList returns the links of a provider and grain, as Links does, as a
// list: a million links are read into it in a fraction of the time a map
// takes. With ledgerIDs (not nil), only the links of those ledger ids are
// listed (a run over a window of long books wants those of the window's
// ledger side): the others are read and let go, and the list is the
// window's size, not the history's. (SQLite tells them faster in Go than
// an IN list over the whole table does.)
func (s *Store) LinkList(ctx context.Context, prov string, grain provider.Grain, ledgerIDs []string) ([]reconcile.Link, error) {
	var keep map[string]bool
	if ledgerIDs != nil {
		keep = make(map[string]bool, len(ledgerIDs))
		for _, id := range ledgerIDs {
			keep[id] = true
		}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var n int
	if keep == nil {
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM recon_links WHERE provider = ? AND grain = ?`,
			prov, string(grain)).Scan(&n); err != nil {
			return nil, err
		}
	}
	const query = `SELECT provider_id, ledger_id FROM recon_links WHERE provider = ? AND grain = ?`
	args := []any{prov, string(grain)}
	rows, err := queryRows(ctx, conn.Raw, func() (*sql.Rows, error) { return conn.QueryContext(ctx, query, args...) }, query, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]reconcile.Link, 0, n)
	var l reconcile.Link
	dest := []any{&l.ProviderID, &l.LedgerID}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if keep != nil {
			if !keep[l.LedgerID] {
				continue
			}
			// A kept link must not hold on to the rows read with it.
			l.ProviderID, l.LedgerID = strings.Clone(l.ProviderID), strings.Clone(l.LedgerID)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
