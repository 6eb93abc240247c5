package app

// Importing bank statements (BAI2, camt.053, MT940): each file in one
// transaction, each statement under the ledger account that mirrors its
// bank account.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/ledger"
)

// StatementOptions configure ImportStatement.
type StatementOptions struct {
	// Format, when set, skips detection.
	Format bank.Format
	// Accounts maps a bank account as statements name it (an IBAN, an
	// account number; spaces and case do not matter) to its ledger
	// account; the key "" maps every account of the file. A mapping given
	// here is stored and holds for later imports of the account.
	Accounts map[string]string
	// Provider, when set, maps an account that has no mapping yet to the
	// chart's bank account of that provider (assets:bank:stripe), where
	// the ledger books that provider's paid payouts.
	Provider string
	// Chart gives the bank account template for Provider; zero is
	// ledger.DefaultChart.
	Chart      ledger.Chart
	Currencies *ledger.Currencies
}

// ImportStatementFile imports a bank statement file (see ImportStatement).
func ImportStatementFile(ctx context.Context, st Store, path string, opts StatementOptions) (bank.ImportStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return bank.ImportStats{}, err
	}
	defer f.Close()
	return ImportStatement(ctx, st, path, f, opts)
}

// ImportStatement reads the bank statements of one file, named name in
// errors and in the store, and stores them in one transaction: a file that
// does not read or does not balance stores nothing and the error lists
// every problem (a bank.ErrorList of *bank.ParseError, each with its
// line). The same file twice adds nothing, and neither does a statement
// stored before from another file.
//
// Each statement's bank account is mapped to a ledger account, in this
// order: opts.Accounts; the mapping an earlier import stored; the chart's
// bank account of opts.Provider. An account with none of these is refused
// (bank.ErrUnmappedAccount): settle does not guess where money is.
func ImportStatement(ctx context.Context, st Store, name string, r io.ReadSeeker, opts StatementOptions) (bank.ImportStats, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return bank.ImportStats{}, fmt.Errorf("reading %s: %w", name, err)
	}
	mapping, err := statementMapping(ctx, st, opts)
	if err != nil {
		return bank.ImportStats{}, err
	}
	file := bank.ImportFile{File: name, SHA256: hex.EncodeToString(h.Sum(nil)), Format: opts.Format}
	return st.ImportStatements(ctx, file, func(sink bank.StatementSink) error {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return err
		}
		return bank.Read(r, &bank.Options{File: name, Format: opts.Format, Currencies: opts.Currencies}, func(s *bank.Statement) error {
			la, err := mapping(s.Account, s.Currency)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", name, s.Line, err)
			}
			return sink.Add(s, la)
		})
	})
}

// statementMapping returns the function that names a statement's ledger
// account.
func statementMapping(ctx context.Context, st Store, opts StatementOptions) (func(account, currency string) (string, error), error) {
	given := map[string]string{}
	for k, v := range opts.Accounts {
		if t, err := ledger.AccountTypeOf(v); err != nil {
			return nil, fmt.Errorf("%w: bank account %q: %w", ledger.ErrInvalidRequest, k, err)
		} else if t != ledger.Asset {
			return nil, fmt.Errorf("%w: bank account %q: %q is not an asset account", ledger.ErrInvalidRequest, k, v)
		}
		given[accountKey(k)] = v
	}
	accounts, err := st.BankAccounts(ctx)
	if err != nil {
		return nil, err
	}
	stored := map[[2]string]string{}
	for _, a := range accounts {
		stored[[2]string{accountKey(a.Account), a.Currency}] = a.LedgerAccount
	}
	fallback := ""
	if opts.Provider != "" {
		p, err := ledger.NormalizeProvider(opts.Provider)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ledger.ErrInvalidRequest, err)
		}
		tpl := opts.Chart.Bank
		if tpl == "" {
			tpl = ledger.DefaultChart.Bank
		}
		fallback = strings.ReplaceAll(tpl, "{provider}", p)
	}
	return func(account, currency string) (string, error) {
		key := accountKey(account)
		if la, ok := given[key]; ok {
			return la, nil
		}
		if la, ok := given[""]; ok {
			return la, nil
		}
		if la, ok := stored[[2]string{key, currency}]; ok {
			return la, nil
		}
		if fallback != "" {
			return fallback, nil
		}
		return "", fmt.Errorf("%w: %q (%s); name its ledger account once, e.g. --bank-account %s=assets:bank:operating",
			bank.ErrUnmappedAccount, account, strings.ToUpper(currency), strings.ReplaceAll(account, " ", ""))
	}, nil
}

// accountKey compares bank account names as banks write them: IBANs come
// with and without spaces, in either case.
func accountKey(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// IsStatement reports whether a file is a bank statement rather than a
// provider export, from its name and first bytes (64 KiB is plenty).
func IsStatement(name string, head []byte) bool {
	_, err := bank.Detect(name, head)
	return err == nil
}
