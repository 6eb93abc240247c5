package main

import (
	"errors"
	"os"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/reports"
)

// readRates reads a rates CSV (date,base,quote,rate or date,pair,rate) for
// a valuation or priced export. A bad file is a usage error.
func readRates(path string, books *ledger.Ledger) (*reports.Rates, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--rates: %v", err)
	}
	defer f.Close()
	rs, err := reports.ReadRates(path, f, books)
	if errors.Is(err, reports.ErrBadRates) {
		return nil, usageError{err}
	}
	return rs, err
}
