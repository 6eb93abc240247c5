package importers

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"sort"
	"strings"
)

// Detect names the format of a file from its first bytes (head; up to
// 64 KiB is enough). JSON is recognized by the fields of its first record
// (or, for an empty list, by its envelope); CSV by its header. When no
// format fits, or several do, the error (wrapping ErrUnknownFormat or
// ErrAmbiguousFormat) names the candidates. generic-csv is never detected:
// it needs a mapping.
func Detect(name string, head []byte) (string, error) {
	b := bytes.TrimLeft(trimBOM(head), " \t\r\n")
	if len(b) == 0 {
		return "", fmt.Errorf("%s: %w: the file is empty", name, ErrUnknownFormat)
	}
	if b[0] == '{' || b[0] == '[' {
		h, err := scanHead(b)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return detectJSON(name, h)
	}
	return detectCSV(name, b)
}

func jsonFormats() []string {
	var out []string
	for _, f := range formatTable() {
		if f.json != nil {
			out = append(out, f.name)
		}
	}
	return out
}

func detectJSON(name string, h *jsonHead) (string, error) {
	f := h.first
	if f == nil {
		return detectEmptyJSON(name, h)
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := f[k]; ok {
				return true
			}
		}
		return false
	}
	textual := func(k string) bool { // a string value, such as an ISO time
		_, ok := f[k].(string)
		return ok
	}
	id := f.str("id")
	switch f.str("object") {
	case "balance_transaction":
		return FormatStripeBalanceJSON, nil
	case "charge", "refund", "dispute", "payout":
		if has("livemode") || strings.HasPrefix(id, "ch_") || strings.HasPrefix(id, "re_") ||
			strings.HasPrefix(id, "dp_") || strings.HasPrefix(id, "po_") || has("created") {
			return FormatStripeObjectsJSON, nil
		}
	case "payment":
		if has("live", "amount_received", "amount_capturable", "capture_method") {
			return FormatCardPayJSON, nil
		}
	}
	switch {
	case has("payment_balance_txn_type"):
		return FormatJustiFiBalanceJSON, nil
	case has("capture_strategy", "amount_refundable", "amount_disputed") || strings.HasPrefix(id, "py_"):
		return FormatJustiFiPaymentsJSON, nil
	case has("final_amount", "subtotal", "payments_failed"):
		return FormatWhopPaymentsJSON, nil
	case has("amount") && textual("created_at") && (strings.HasPrefix(id, "pay_") || has("payment_id", "customer")):
		return FormatPaymentsV3JSON, nil
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "", fmt.Errorf("%s: %w: no JSON format has records with fields %s; the JSON formats are %s",
		name, ErrUnknownFormat, strings.Join(keys, ", "), strings.Join(jsonFormats(), ", "))
}

// detectEmptyJSON uses the envelope of a list without records.
func detectEmptyJSON(name string, h *jsonHead) (string, error) {
	candidates := jsonFormats()
	url := h.top.str("url")
	switch {
	case strings.HasPrefix(url, "/v1/balance_transactions"):
		return FormatStripeBalanceJSON, nil
	case strings.HasPrefix(url, "/v1/"):
		return FormatStripeObjectsJSON, nil
	case h.top.str("object") == "list":
		candidates = []string{FormatStripeBalanceJSON, FormatStripeObjectsJSON}
	case h.top["page_info"] != nil || h.top.str("type") == "array":
		candidates = []string{FormatJustiFiPaymentsJSON, FormatJustiFiBalanceJSON}
	case h.top["pagination"] != nil:
		return FormatWhopPaymentsJSON, nil
	}
	return "", fmt.Errorf("%s: %w: the list has no records to tell; it may be %s", name, ErrAmbiguousFormat, strings.Join(candidates, ", "))
}

func detectCSV(name string, b []byte) (string, error) {
	line := b
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		line = b[:i]
	}
	cr := csv.NewReader(bytes.NewReader(line))
	cr.LazyQuotes = true
	fields, err := cr.Read()
	if err != nil {
		return "", fmt.Errorf("%s: %w: neither JSON nor a CSV header: %v", name, ErrUnknownFormat, err)
	}
	cols := map[string]bool{}
	for _, f := range fields {
		cols[strings.ToLower(strings.TrimSpace(f))] = true
	}
	all := func(names ...string) bool {
		for _, n := range names {
			if !cols[n] {
				return false
			}
		}
		return true
	}
	switch {
	case all("balance_transaction_id", "reporting_category", "gross", "net"):
		return FormatStripeItemizedCSV, nil
	case all("id", "type", "amount", "fee", "net") && (cols["payout_id"] || cols["source_account_id"] || cols["payment_id"]):
		return FormatJustiFiPayoutCSV, nil
	}
	return "", fmt.Errorf("%s: %w: the CSV header (%s) matches neither %s nor %s; describe the columns with a mapping file and use %s",
		name, ErrUnknownFormat, strings.Join(fields, ", "), FormatStripeItemizedCSV, FormatJustiFiPayoutCSV, FormatGenericCSV)
}
