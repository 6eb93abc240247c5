package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/settlehq/settle/ledger"
)

// An object a write transaction reads by id is locked (lockClause) and
// remembered in t.locked: saving it then updates the row. An object it did
// not find is inserted without ON CONFLICT, so that two transactions
// creating the same object cannot both succeed: the second fails with a
// unique violation, runs again, and finds the first's.

func (t *tx) notFound(what, id string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s %q: %w", what, id, ledger.ErrNotFound)
	}
	return err
}

func (t *tx) markLocked(kind, id string) {
	if t.write {
		t.locked[kind+"\x00"+id] = true
	}
}

func (t *tx) isLocked(kind, id string) bool { return t.locked[kind+"\x00"+id] }

type paymentRow struct {
	ID             string         `db:"id"`
	Provider       string         `db:"provider"`
	ProviderRef    string         `db:"provider_ref"`
	Currency       string         `db:"currency"`
	Customer       string         `db:"customer"`
	Description    string         `db:"description"`
	Metadata       sql.NullString `db:"metadata"`
	CaptureMethod  string         `db:"capture_method"`
	Status         string         `db:"status"`
	Authorized     int64          `db:"authorized"`
	Captured       int64          `db:"captured"`
	Refunded       int64          `db:"refunded"`
	Disputed       int64          `db:"disputed"`
	Fees           int64          `db:"fees"`
	PendingEntryID sql.NullInt64  `db:"pending_entry_id"`
	CreatedAt      int64          `db:"created_at"`
	UpdatedAt      int64          `db:"updated_at"`
	// The booking conversion of a payment settled in another currency.
	SettlementCurrency string `db:"settlement_currency"`
	Settled            int64  `db:"settled"`
	Unwound            int64  `db:"unwound"`
}

const paymentCols = `id, provider, provider_ref, currency, customer, description, metadata, capture_method, status,
	authorized, captured, refunded, disputed, fees, pending_entry_id, created_at, updated_at,
	settlement_currency, settled, unwound`

func (r *paymentRow) payment() (*ledger.Payment, error) {
	p := &ledger.Payment{ID: r.ID, Provider: r.Provider, ProviderRef: r.ProviderRef, Currency: r.Currency,
		Customer: r.Customer, Description: r.Description, CaptureMethod: r.CaptureMethod,
		Status: ledger.PaymentStatus(r.Status), Authorized: r.Authorized, Captured: r.Captured, Refunded: r.Refunded,
		Disputed: r.Disputed, Fees: r.Fees, PendingEntryID: r.PendingEntryID.Int64,
		CreatedAt: fromTS(r.CreatedAt), UpdatedAt: fromTS(r.UpdatedAt),
		SettlementCurrency: r.SettlementCurrency, Settled: r.Settled, Unwound: r.Unwound}
	var err error
	p.Metadata, err = fromMeta(r.Metadata)
	return p, err
}

// Payment returns a payment by id, locked in a write transaction.
func (t *tx) Payment(ctx context.Context, id string) (*ledger.Payment, error) {
	if p, ok, err := t.aheadPayment(id); ok {
		return p, err
	}
	var r paymentRow
	if err := t.get(ctx, &r, `SELECT `+paymentCols+` FROM {schema}.payments WHERE id = $1`+t.lockClause(), id); err != nil {
		return nil, t.notFound("payment", id, err)
	}
	t.markLocked("payment", id)
	return r.payment()
}

// SavePayment updates a payment this transaction read, or inserts a new one.
func (t *tx) SavePayment(ctx context.Context, p *ledger.Payment) error {
	delete(t.aheadPayments, p.ID)
	created, err := storeTS("created_at", p.CreatedAt)
	if err != nil {
		return err
	}
	updated, err := storeTS("updated_at", p.UpdatedAt)
	if err != nil {
		return err
	}
	if t.isLocked("payment", p.ID) {
		return t.execLater(ctx, `UPDATE {schema}.payments SET provider_ref = $2, status = $3, authorized = $4, captured = $5,
			refunded = $6, disputed = $7, fees = $8, updated_at = $9, settlement_currency = $10, settled = $11, unwound = $12
			WHERE id = $1`,
			p.ID, p.ProviderRef, string(p.Status), p.Authorized, p.Captured, p.Refunded, p.Disputed, p.Fees, updated,
			p.SettlementCurrency, p.Settled, p.Unwound)
	}
	md, err := meta(p.Metadata)
	if err != nil {
		return err
	}
	err = t.execLater(ctx, `INSERT INTO {schema}.payments (`+paymentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		p.ID, p.Provider, p.ProviderRef, p.Currency, p.Customer, p.Description, md, p.CaptureMethod, string(p.Status),
		p.Authorized, p.Captured, p.Refunded, p.Disputed, p.Fees, nullID(p.PendingEntryID), created, updated,
		p.SettlementCurrency, p.Settled, p.Unwound)
	if err == nil {
		t.markLocked("payment", p.ID)
	}
	return err
}

// EachPayment streams payments of a provider ("" for all), ordered by id.
func (t *tx) EachPayment(ctx context.Context, provider string, fn func(*ledger.Payment) error) error {
	after := ""
	for {
		var rows []paymentRow
		if err := t.selectAll(ctx, &rows, `SELECT `+paymentCols+` FROM {schema}.payments
			WHERE ($1 = '' OR provider = $1) AND id COLLATE "C" > $2 ORDER BY id COLLATE "C" LIMIT `+fmt.Sprint(objectPage),
			provider, after); err != nil {
			return err
		}
		for i := range rows {
			p, err := rows[i].payment()
			if err != nil {
				return err
			}
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(rows) < objectPage {
			return nil
		}
		after = rows[len(rows)-1].ID
	}
}

// objectPage is how many payments, payouts or balance transactions the
// Each methods read at a time.
const objectPage = 2000

// Refund returns a refund by id.
func (t *tx) Refund(ctx context.Context, id string) (*ledger.Refund, error) {
	var r ledger.Refund
	var created int64
	err := t.queryRow(ctx, `SELECT id, payment_id, provider_ref, amount, fee_refund, currency, reason, entry_id, created_at
		FROM {schema}.refunds WHERE id = $1`, id).Scan(&r.ID, &r.PaymentID, &r.ProviderRef, &r.Amount, &r.FeeRefund,
		&r.Currency, &r.Reason, &r.EntryID, &created)
	if err != nil {
		return nil, t.notFound("refund", id, t.failUnlessNoRows(err))
	}
	r.CreatedAt = fromTS(created)
	return &r, nil
}

func (t *tx) failUnlessNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return t.fail(err)
}

// SaveRefund inserts a refund.
func (t *tx) SaveRefund(ctx context.Context, r *ledger.Refund) error {
	created, err := storeTS("created_at", r.CreatedAt)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO {schema}.refunds (id, payment_id, provider_ref, amount, fee_refund, currency, reason, entry_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ID, r.PaymentID, r.ProviderRef, r.Amount, r.FeeRefund, r.Currency,
		r.Reason, r.EntryID, created)
	return err
}

// Dispute returns a dispute by id, locked in a write transaction.
func (t *tx) Dispute(ctx context.Context, id string) (*ledger.Dispute, error) {
	var d ledger.Dispute
	var status string
	var created, updated int64
	err := t.queryRow(ctx, `SELECT id, payment_id, provider, provider_ref, amount, fee, fee_refund, currency, status,
		created_at, updated_at FROM {schema}.disputes WHERE id = $1`+t.lockClause(), id).Scan(&d.ID, &d.PaymentID,
		&d.Provider, &d.ProviderRef, &d.Amount, &d.Fee, &d.FeeRefund, &d.Currency, &status, &created, &updated)
	if err != nil {
		return nil, t.notFound("dispute", id, t.failUnlessNoRows(err))
	}
	t.markLocked("dispute", id)
	d.Status, d.CreatedAt, d.UpdatedAt = ledger.DisputeStatus(status), fromTS(created), fromTS(updated)
	return &d, nil
}

// SaveDispute updates a dispute this transaction read, or inserts a new one.
func (t *tx) SaveDispute(ctx context.Context, d *ledger.Dispute) error {
	created, err := storeTS("created_at", d.CreatedAt)
	if err != nil {
		return err
	}
	updated, err := storeTS("updated_at", d.UpdatedAt)
	if err != nil {
		return err
	}
	if t.isLocked("dispute", d.ID) {
		_, err = t.exec(ctx, `UPDATE {schema}.disputes SET status = $2, fee_refund = $3, updated_at = $4 WHERE id = $1`,
			d.ID, string(d.Status), d.FeeRefund, updated)
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO {schema}.disputes (id, payment_id, provider, provider_ref, amount, fee, fee_refund,
		currency, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		d.ID, d.PaymentID, d.Provider, d.ProviderRef, d.Amount, d.Fee, d.FeeRefund, d.Currency, string(d.Status),
		created, updated)
	if err == nil {
		t.markLocked("dispute", d.ID)
	}
	return err
}

type payoutRow struct {
	ID          string `db:"id"`
	Provider    string `db:"provider"`
	ProviderRef string `db:"provider_ref"`
	Amount      int64  `db:"amount"`
	Currency    string `db:"currency"`
	Status      string `db:"status"`
	ArrivalDate int64  `db:"arrival_date"`
	CreatedAt   int64  `db:"created_at"`
	UpdatedAt   int64  `db:"updated_at"`
	Automatic   bool   `db:"automatic"`
}

const payoutCols = `id, provider, provider_ref, amount, currency, status, arrival_date, created_at, updated_at, automatic`

func (r *payoutRow) payout() *ledger.Payout {
	return &ledger.Payout{ID: r.ID, Provider: r.Provider, ProviderRef: r.ProviderRef, Amount: r.Amount,
		Currency: r.Currency, Status: ledger.PayoutStatus(r.Status), ArrivalDate: fromTS(r.ArrivalDate),
		Automatic: r.Automatic, CreatedAt: fromTS(r.CreatedAt), UpdatedAt: fromTS(r.UpdatedAt)}
}

// Payout returns a payout by id, locked in a write transaction.
func (t *tx) Payout(ctx context.Context, id string) (*ledger.Payout, error) {
	var r payoutRow
	if err := t.get(ctx, &r, `SELECT `+payoutCols+` FROM {schema}.payouts WHERE id = $1`+t.lockClause(), id); err != nil {
		return nil, t.notFound("payout", id, err)
	}
	t.markLocked("payout", id)
	return r.payout(), nil
}

// SavePayout updates a payout this transaction read, or inserts a new one.
func (t *tx) SavePayout(ctx context.Context, p *ledger.Payout) error {
	arrival, err := storeTS("arrival_date", p.ArrivalDate)
	if err != nil {
		return err
	}
	created, err := storeTS("created_at", p.CreatedAt)
	if err != nil {
		return err
	}
	updated, err := storeTS("updated_at", p.UpdatedAt)
	if err != nil {
		return err
	}
	if t.isLocked("payout", p.ID) {
		_, err = t.exec(ctx, `UPDATE {schema}.payouts SET status = $2, updated_at = $3 WHERE id = $1`, p.ID, string(p.Status), updated)
		return err
	}
	delete(t.autoPayouts, scopeKey{p.Provider, p.Currency})
	_, err = t.exec(ctx, `INSERT INTO {schema}.payouts (`+payoutCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		p.ID, p.Provider, p.ProviderRef, p.Amount, p.Currency, string(p.Status), arrival, created, updated, p.Automatic)
	if err == nil {
		t.markLocked("payout", p.ID)
	}
	return err
}

// EachPayout streams payouts of a provider ("" for all), ordered by
// created then id.
func (t *tx) EachPayout(ctx context.Context, provider string, fn func(*ledger.Payout) error) error {
	var afterAt int64
	afterID, first := "", true
	for {
		var rows []payoutRow
		if err := t.selectAll(ctx, &rows, `SELECT `+payoutCols+` FROM {schema}.payouts
			WHERE ($1 = '' OR provider = $1) AND ($2 OR (created_at, id COLLATE "C") > ($3, $4::text COLLATE "C"))
			ORDER BY created_at, id COLLATE "C" LIMIT `+fmt.Sprint(objectPage), provider, first, afterAt, afterID); err != nil {
			return err
		}
		for i := range rows {
			if err := fn(rows[i].payout()); err != nil {
				return err
			}
		}
		if len(rows) < objectPage {
			return nil
		}
		afterAt, afterID, first = rows[len(rows)-1].CreatedAt, rows[len(rows)-1].ID, false
	}
}

type btRow struct {
	ID                   string         `db:"id"`
	Provider             string         `db:"provider"`
	EntryID              int64          `db:"entry_id"`
	Type                 string         `db:"type"`
	ReportingCategory    string         `db:"reporting_category"`
	SourceType           string         `db:"source_type"`
	SourceID             string         `db:"source_id"`
	SourceRef            string         `db:"source_ref"`
	PaymentID            string         `db:"payment_id"`
	Amount               int64          `db:"amount"`
	Fee                  int64          `db:"fee"`
	Net                  int64          `db:"net"`
	FeeDetails           sql.NullString `db:"fee_details"`
	Currency             string         `db:"currency"`
	Status               string         `db:"status"`
	Description          string         `db:"description"`
	Created              int64          `db:"created"`
	AvailableOn          int64          `db:"available_on"`
	PayoutID             string         `db:"payout_id"`
	AvailableOnEstimated bool           `db:"available_on_estimated"`
	PayoutDerived        bool           `db:"payout_derived"`
	PresentmentAmount    int64          `db:"presentment_amount"`
	PresentmentCurrency  string         `db:"presentment_currency"`
	ExchangeRate         string         `db:"exchange_rate"`
	SettlementEstimated  bool           `db:"settlement_estimated"`
}

const btCols = `id, provider, entry_id, type, reporting_category, source_type, source_id, source_ref, payment_id,
	amount, fee, net, fee_details, currency, status, description, created, available_on, payout_id,
	available_on_estimated, payout_derived, presentment_amount, presentment_currency, exchange_rate, settlement_estimated`

func (r *btRow) bt() (*ledger.BalanceTransaction, error) {
	b := &ledger.BalanceTransaction{ID: r.ID, Provider: r.Provider, EntryID: r.EntryID, Type: r.Type,
		ReportingCategory: r.ReportingCategory, SourceType: r.SourceType, SourceID: r.SourceID, SourceRef: r.SourceRef,
		PaymentID: r.PaymentID, Amount: r.Amount, Fee: r.Fee, Net: r.Net, Currency: r.Currency, Status: r.Status,
		Description: r.Description, Created: fromTS(r.Created), AvailableOn: fromTS(r.AvailableOn), PayoutID: r.PayoutID,
		AvailableOnEstimated: r.AvailableOnEstimated, PayoutDerived: r.PayoutDerived,
		PresentmentAmount: r.PresentmentAmount, PresentmentCurrency: r.PresentmentCurrency,
		SettlementEstimated: r.SettlementEstimated}
	if r.ExchangeRate != "" {
		var err error
		if b.ExchangeRate, err = decimal.NewFromString(r.ExchangeRate); err != nil {
			return nil, fmt.Errorf("balance transaction %s: exchange rate %q: %w", r.ID, r.ExchangeRate, err)
		}
	}
	if r.FeeDetails.Valid && r.FeeDetails.String != "" {
		if err := json.Unmarshal([]byte(r.FeeDetails.String), &b.FeeDetails); err != nil {
			return nil, fmt.Errorf("balance transaction %s: fee_details: %w", r.ID, err)
		}
	}
	return b, nil
}

// BalanceTransaction returns a balance transaction by id, locked in a write
// transaction.
func (t *tx) BalanceTransaction(ctx context.Context, id string) (*ledger.BalanceTransaction, error) {
	var r btRow
	if err := t.get(ctx, &r, `SELECT `+btCols+` FROM {schema}.balance_transactions WHERE id = $1`+t.lockClause(), id); err != nil {
		return nil, t.notFound("balance transaction", id, err)
	}
	return r.bt()
}

// InsertBalanceTransaction writes a balance transaction.
func (t *tx) InsertBalanceTransaction(ctx context.Context, b *ledger.BalanceTransaction) error {
	details, err := feeDetails(b.FeeDetails)
	if err != nil {
		return err
	}
	created, err := storeTS("created", b.Created)
	if err != nil {
		return err
	}
	avail, err := storeTS("available_on", b.AvailableOn)
	if err != nil {
		return err
	}
	return t.execLater(ctx, `INSERT INTO {schema}.balance_transactions (`+btCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
		$22, $23, $24, $25)`,
		b.ID, b.Provider, b.EntryID, b.Type, b.ReportingCategory, b.SourceType, b.SourceID, b.SourceRef, b.PaymentID,
		b.Amount, b.Fee, b.Net, details, b.Currency, b.Status, b.Description, created, avail, b.PayoutID,
		b.AvailableOnEstimated, b.PayoutDerived, b.PresentmentAmount, b.PresentmentCurrency, rateText(b.ExchangeRate),
		b.SettlementEstimated)
}

// UpdateBalanceTransaction rewrites a balance transaction's settlement
// figures and payout (ledger.AdoptSettlement). The ledger read the
// transaction first in this transaction, which locked its row.
func (t *tx) UpdateBalanceTransaction(ctx context.Context, b *ledger.BalanceTransaction) error {
	details, err := feeDetails(b.FeeDetails)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `UPDATE {schema}.balance_transactions SET currency = $2, amount = $3, fee = $4, net = $5,
		fee_details = $6, presentment_amount = $7, presentment_currency = $8, exchange_rate = $9,
		settlement_estimated = $10, payout_id = $11 WHERE id = $1`,
		b.ID, b.Currency, b.Amount, b.Fee, b.Net, details, b.PresentmentAmount, b.PresentmentCurrency,
		rateText(b.ExchangeRate), b.SettlementEstimated, b.PayoutID)
	return err
}

// feeDetails encodes fee details as JSON text for a JSONB column, or NULL
// when there are none.
func feeDetails(ds []ledger.FeeDetail) (any, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	js, err := json.Marshal(ds)
	if err != nil {
		return nil, err
	}
	return string(js), nil
}

// rateText encodes an exchange rate exactly, "" for none.
func rateText(d decimal.Decimal) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// SetBalanceTransactionStatus changes a balance transaction's status.
func (t *tx) SetBalanceTransactionStatus(ctx context.Context, id, status string) error {
	_, err := t.exec(ctx, `UPDATE {schema}.balance_transactions SET status = $2 WHERE id = $1`, id, status)
	return err
}

// lockScope locks the payout scope of provider and currency: shared by the
// writers that derive a balance transaction's payout, exclusive for an
// automatic payout claiming its composition (schema.sql, payout_scopes).
// The row is created on first use.
func (t *tx) lockScope(ctx context.Context, provider, currency string, exclusive bool) error {
	k := scopeKey{provider, currency}
	if held, ok := t.scopes[k]; ok && (held || !exclusive) {
		return nil
	}
	mode := " FOR SHARE"
	if exclusive {
		mode = " FOR UPDATE"
	}
	for range 2 {
		var one int
		err := t.queryRow(ctx, `SELECT 1 FROM {schema}.payout_scopes WHERE provider = $1 AND currency = $2`+mode,
			provider, currency).Scan(&one)
		if err == nil {
			t.scopes[k] = exclusive
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return t.fail(err)
		}
		if _, err := t.exec(ctx, `INSERT INTO {schema}.payout_scopes (provider, currency) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, provider, currency); err != nil {
			return err
		}
	}
	return fmt.Errorf("postgres: payout scope %s %s: %w", provider, currency, ledger.ErrNotFound)
}

// AutomaticPayoutFor returns the first automatic payout at or after
// availableOn. The scope is locked first, in its own statement, so that
// the payouts are read after any automatic payout that held it commits.
func (t *tx) AutomaticPayoutFor(ctx context.Context, provider, currency string, availableOn time.Time) (string, error) {
	if err := t.lockScope(ctx, provider, currency, false); err != nil {
		return "", err
	}
	if ps, ok, err := t.autoPayoutsOf(ctx, provider, currency); err != nil || ok {
		at := ts(availableOn)
		i := sort.Search(len(ps), func(i int) bool { return ps[i].at >= at })
		if err != nil || i == len(ps) {
			return "", err
		}
		return ps[i].id, nil
	}
	var id string
	err := t.queryRow(ctx, `SELECT id FROM {schema}.payouts WHERE provider = $1 AND currency = $2 AND automatic
		AND created_at >= $3 ORDER BY created_at, id COLLATE "C" LIMIT 1`, provider, currency, ts(availableOn)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, t.fail(err)
}

// autoPayout is an automatic payout's time and id.
type autoPayout struct {
	at int64
	id string
}

// autoAskedBefore is how many times a transaction asks AutomaticPayoutFor
// of one scope one row at a time before it reads the scope's automatic
// payouts whole: a captured payment asks once, a first reconciliation
// adopting dates asks for most of a month's charges (28,643 times at
// 100,000 payments, a round trip each).
const autoAskedBefore = 8

// autoPayoutsOf returns the automatic payouts of a scope the transaction
// holds locked, ordered by time then id as AutomaticPayoutFor orders them
// (COLLATE "C" is Go's byte order), once it has been asked often enough;
// ok is false before. The lock keeps other transactions from adding one
// until this one ends, and SavePayout drops the list when this one does.
func (t *tx) autoPayoutsOf(ctx context.Context, provider, currency string) (ps []autoPayout, ok bool, err error) {
	k := scopeKey{provider, currency}
	if ps, ok := t.autoPayouts[k]; ok {
		return ps, true, nil
	}
	if t.autoAsked == nil {
		t.autoAsked, t.autoPayouts = map[scopeKey]int{}, map[scopeKey][]autoPayout{}
	}
	if t.autoAsked[k]++; t.autoAsked[k] <= autoAskedBefore {
		return nil, false, nil
	}
	rows, err := t.query(ctx, `SELECT created_at, id FROM {schema}.payouts WHERE provider = $1 AND currency = $2 AND automatic
		ORDER BY created_at, id COLLATE "C"`, provider, currency)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	ps = []autoPayout{}
	for rows.Next() {
		var p autoPayout
		if err := rows.Scan(&p.at, &p.id); err != nil {
			return nil, false, t.fail(err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, false, t.fail(err)
	}
	t.autoPayouts[k] = ps
	return ps, true, nil
}

// PreviousAutomaticPayout returns the time of the automatic payout before
// (at, id), holding the scope exclusively: the payout being created claims
// its composition next.
func (t *tx) PreviousAutomaticPayout(ctx context.Context, provider, currency string, at time.Time, id string) (time.Time, bool, error) {
	if err := t.lockScope(ctx, provider, currency, true); err != nil {
		return time.Time{}, false, err
	}
	var prev int64
	err := t.queryRow(ctx, `SELECT created_at FROM {schema}.payouts WHERE provider = $1 AND currency = $2 AND automatic
		AND (created_at < $3 OR (created_at = $3 AND id COLLATE "C" < $4)) ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT 1`,
		provider, currency, ts(at), id).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, t.fail(err)
	}
	return fromTS(prev), true, nil
}

// AssignPayout sets the derived payout of the transactions in (after, through].
func (t *tx) AssignPayout(ctx context.Context, provider, currency string, after time.Time, open bool, through time.Time, payoutID string) error {
	if err := t.lockScope(ctx, provider, currency, true); err != nil {
		return err
	}
	q := `UPDATE {schema}.balance_transactions SET payout_id = $1 WHERE provider = $2 AND currency = $3 AND payout_derived
		AND available_on <= $4 AND payout_id <> $1`
	args := []any{payoutID, provider, currency, ts(through)}
	if !open {
		q += ` AND available_on > $5`
		args = append(args, ts(after))
	}
	_, err := t.exec(ctx, q, args...)
	return err
}

// SetBalanceTransactionSettlement sets available_on, its estimate flag and the payout.
func (t *tx) SetBalanceTransactionSettlement(ctx context.Context, id string, availableOn time.Time, estimated bool, payoutID string) error {
	avail, err := storeTS("available_on", availableOn)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `UPDATE {schema}.balance_transactions SET available_on = $2, available_on_estimated = $3, payout_id = $4
		WHERE id = $1`, id, avail, estimated, payoutID)
	return err
}

// DueBalanceTransactions lists pending balance transactions now due,
// locking them: one that a concurrent transaction makes available is left
// out once that one commits.
func (t *tx) DueBalanceTransactions(ctx context.Context, asOf time.Time, provider, currency string) ([]ledger.BalanceTransaction, error) {
	var rows []btRow
	if err := t.selectAll(ctx, &rows, `SELECT `+btCols+` FROM {schema}.balance_transactions
		WHERE status = 'pending' AND available_on <= $1 AND ($2 = '' OR provider = $2) AND ($3 = '' OR currency = $3)
		ORDER BY available_on, id COLLATE "C"`+t.lockClause(), ts(asOf), provider, currency); err != nil {
		return nil, t.fail(err)
	}
	out := make([]ledger.BalanceTransaction, 0, len(rows))
	for i := range rows {
		b, err := rows[i].bt()
		if err != nil {
			return nil, err
		}
		out = append(out, *b)
	}
	return out, nil
}

// EachBalanceTransaction streams balance transactions ordered by created
// then id, a page at a time.
func (t *tx) EachBalanceTransaction(ctx context.Context, f ledger.BTFilter, fn func(*ledger.BalanceTransaction) error) error {
	where := "TRUE"
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Provider != "" {
		where += " AND provider = " + arg(f.Provider)
	}
	if !f.From.IsZero() {
		where += " AND created >= " + arg(ts(f.From))
	}
	if !f.To.IsZero() {
		where += " AND created < " + arg(ts(f.To))
	}
	if f.PayoutID != "" {
		where += " AND payout_id = " + arg(f.PayoutID)
	}
	if f.SourceType != "" {
		where += " AND source_type = " + arg(f.SourceType)
	}
	var afterAt int64
	afterID, first := "", true
	for {
		page, pargs := where, args
		if !first {
			page += fmt.Sprintf(` AND (created, id COLLATE "C") > ($%d, $%d::text COLLATE "C")`, len(args)+1, len(args)+2)
			pargs = append(append([]any(nil), args...), afterAt, afterID)
		}
		rows, err := t.btPage(ctx, `SELECT `+btCols+` FROM {schema}.balance_transactions WHERE `+page+
			` ORDER BY created, id COLLATE "C" LIMIT `+fmt.Sprint(objectPage), pargs...)
		if err != nil {
			return err
		}
		for i := range rows {
			b, err := rows[i].bt()
			if err != nil {
				return err
			}
			if err := fn(b); err != nil {
				return err
			}
		}
		if len(rows) < objectPage {
			return nil
		}
		afterAt, afterID, first = rows[len(rows)-1].Created, rows[len(rows)-1].ID, false
	}
}

// btPage reads a page of balance transactions (btCols). On the store's own
// connection pgx scans each column straight into its field; in a caller's
// transaction sqlx does, by reflection.
func (t *tx) btPage(ctx context.Context, query string, args ...any) ([]btRow, error) {
	var out []btRow
	if t.raw == nil {
		err := t.selectAll(ctx, &out, query, args...)
		return out, err
	}
	if err := t.begin(ctx); err != nil {
		return nil, t.fail(err)
	}
	err := t.pgx(func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, t.s.sql(query), args...)
		if err != nil {
			return err
		}
		var r btRow
		_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Provider, &r.EntryID, &r.Type, &r.ReportingCategory, &r.SourceType,
			&r.SourceID, &r.SourceRef, &r.PaymentID, &r.Amount, &r.Fee, &r.Net, &r.FeeDetails, &r.Currency, &r.Status,
			&r.Description, &r.Created, &r.AvailableOn, &r.PayoutID, &r.AvailableOnEstimated, &r.PayoutDerived,
			&r.PresentmentAmount, &r.PresentmentCurrency, &r.ExchangeRate, &r.SettlementEstimated}, func() error {
			out = append(out, r)
			return nil
		})
		return err
	})
	return out, err
}
