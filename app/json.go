package app

import (
	"time"

	"github.com/settlehq/settle/reconcile"
)

// ExceptionJSON is an exception as settle shows it to programs: `settle
// exceptions --format json` prints a list of them and the HTTP API returns
// the same objects. Amounts are decimal strings in major units of the
// currency.
type ExceptionJSON struct {
	ID         int64         `json:"id"`
	Status     string        `json:"status"`
	Provider   string        `json:"provider"`
	Grain      string        `json:"grain"`
	Kind       string        `json:"kind"`
	Subject    string        `json:"subject"`
	ProviderID string        `json:"provider_id"`
	LedgerID   string        `json:"ledger_id"`
	Ref        string        `json:"ref"`
	Currency   string        `json:"currency"`
	Amount     string        `json:"amount"`
	Date       string        `json:"date"`
	Heuristic  bool          `json:"heuristic"`
	Diffs      []DiffJSON    `json:"diffs"`
	Payout     *PayoutJSON   `json:"payout,omitempty"`
	Note       string        `json:"note"`
	FirstRun   int64         `json:"first_run"`
	LastRun    int64         `json:"last_run"`
	History    []HistoryJSON `json:"history,omitempty"`
}

// DiffJSON is one differing field, both sides rendered for people
// (amounts in major units).
type DiffJSON struct {
	Field    string `json:"field"`
	Ledger   string `json:"ledger"`
	Provider string `json:"provider"`
}

// PayoutJSON is the figures of a payout whose composition is off.
type PayoutJSON struct {
	Side     string   `json:"side"`
	Amount   string   `json:"amount"`
	SweptNet string   `json:"swept_net"`
	Swept    int      `json:"swept"`
	Missing  []string `json:"missing,omitempty"`
	Extra    []string `json:"extra,omitempty"`
}

// HistoryJSON is one change in an exception's life.
type HistoryJSON struct {
	At      string `json:"at"`
	Action  string `json:"action"`
	Status  string `json:"status"`
	RunID   int64  `json:"run_id,omitempty"`
	EntryID int64  `json:"entry_id,omitempty"`
	Note    string `json:"note,omitempty"`
}

// ToExceptionJSON renders an exception as ExceptionJSON (without history).
func ToExceptionJSON(e reconcile.Exception) ExceptionJSON {
	money := func(minor int64) string { return Money(e.Currency, minor) }
	r := ExceptionJSON{ID: e.ID, Status: string(e.Status), Provider: e.Provider, Grain: string(e.Grain), Kind: string(e.Kind), Subject: e.Subject,
		ProviderID: e.ProviderID, LedgerID: e.LedgerID, Ref: e.Ref, Currency: e.Currency, Amount: money(e.Amount),
		Date: e.At.Format("2006-01-02"), Heuristic: e.Heuristic, Note: e.Note, FirstRun: e.FirstRun, LastRun: e.LastRun,
		Diffs: []DiffJSON{}}
	for _, d := range e.Diffs {
		r.Diffs = append(r.Diffs, DiffJSON{d.Field, DiffValue(e.Currency, d.Field, d.Ledger), DiffValue(e.Currency, d.Field, d.Provider)})
	}
	if p := e.Payout; p != nil {
		r.Payout = &PayoutJSON{Side: p.Side, Amount: money(p.Amount), SweptNet: money(p.SweptNet), Swept: p.Swept,
			Missing: p.Missing, Extra: p.Extra}
	}
	return r
}

// DetailJSON is an exception with its history and both of its sides, as
// `settle exceptions show --format json` prints it and the HTTP API
// returns it.
type DetailJSON struct {
	ExceptionJSON
	ProviderRecord map[string]string `json:"provider_record,omitempty"`
	ProviderRaw    string            `json:"provider_raw,omitempty"`
	Ledger         map[string]string `json:"ledger,omitempty"`
}

// ToDetailJSON renders an ExceptionDetail as DetailJSON.
func ToDetailJSON(d *ExceptionDetail) DetailJSON {
	e := ToExceptionJSON(*d.Exception)
	for _, h := range d.History {
		e.History = append(e.History, HistoryJSON{At: h.At.UTC().Format(time.RFC3339), Action: h.Action, Status: string(h.Status),
			RunID: h.RunID, EntryID: h.EntryID, Note: h.Note})
	}
	out := DetailJSON{ExceptionJSON: e, ProviderRaw: d.ProviderRaw}
	if len(d.ProviderFields) > 0 {
		out.ProviderRecord = map[string]string{}
		for _, f := range d.ProviderFields {
			out.ProviderRecord[f[0]] = f[1]
		}
	}
	if len(d.LedgerFields) > 0 {
		out.Ledger = map[string]string{}
		for _, f := range d.LedgerFields {
			out.Ledger[f[0]] = f[1]
		}
	}
	return out
}
