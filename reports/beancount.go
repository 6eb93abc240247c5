package reports

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/settlehq/settle/ledger"
)

// ExportBeancount writes the posted entries of the ledger as a beancount
// file: an operating_currency option per currency in use, an open directive
// for every account (dated the day of its first posting, written just before
// it), one transaction per entry ("stripe" as payee when the entry has a
// provider, the description as narration, the entry id as settle_entry
// metadata, amounts as "12.34 USD", each currency balancing on its own with
// no prices), and balance directives with settle's maintained balances the
// day after the last entry. Account names are mapped to beancount's form
// (see BeancountAccount). Entries are written as they are read.
func ExportBeancount(ctx context.Context, l *ledger.Ledger, w io.Writer) error {
	return ExportBeancountPriced(ctx, l, w, nil)
}

// ExportBeancountPriced is ExportBeancount with a price directive for every
// rate of rates (nil for none), so that beancount values holdings at the
// rates settle's valuation uses.
func ExportBeancountPriced(ctx context.Context, l *ledger.Ledger, w io.Writer, rates *Rates) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	curs := newCurrencies(l)
	names := beanNames{}
	err := l.View(ctx, func(tx ledger.ReadTx) error {
		snap, err := readSnapshot(ctx, tx, curs)
		if err != nil {
			return err
		}
		bw.WriteString(commentLines(";", exportHeader))
		bw.WriteString("\noption \"title\" \"settle\"\n")
		for _, c := range snap.currencies {
			fmt.Fprintf(bw, "option \"operating_currency\" \"%s\"\n", c.Upper())
		}
		if rates != nil {
			bw.WriteString("\n")
			for _, r := range rates.All() {
				fmt.Fprintf(bw, "%s price %s %s %s\n", r.Date.Format(dateLayout), upper(r.Base), r.Rate.String(), upper(r.Quote))
			}
		}
		opened := map[string]bool{}
		var last time.Time
		var buf []byte
		err = eachPosted(ctx, tx, func(e *ledger.Entry) error {
			date := day(e.OccurredAt)
			last = e.OccurredAt
			buf = append(buf[:0], '\n')
			for _, p := range e.Postings {
				if opened[p.Account] {
					continue
				}
				name, err := names.get(p.Account)
				if err != nil {
					return err
				}
				buf = fmt.Appendf(buf, "%s open %s\n", date, name)
				opened[p.Account] = true
			}
			buf = append(buf, date...)
			buf = append(buf, " * "...)
			if e.Source.Provider != "" {
				buf = appendBeanString(buf, e.Source.Provider)
				buf = append(buf, ' ')
			}
			buf = appendBeanString(buf, e.Description)
			buf = append(buf, "\n  settle_entry: \""...)
			buf = strconv.AppendInt(buf, e.ID, 10)
			buf = append(buf, "\"\n"...)
			for _, p := range e.Postings {
				c, err := curs.get(p.Currency)
				if err != nil {
					return err
				}
				name, err := names.get(p.Account)
				if err != nil {
					return err
				}
				buf = append(buf, "  "...)
				buf = append(buf, name...)
				buf = append(buf, "  "...)
				buf = appendMinor(buf, p.Amount, c.Digits)
				buf = append(buf, ' ')
				buf = append(buf, c.Upper()...)
				buf = append(buf, '\n')
			}
			_, err := bw.Write(buf)
			return err
		})
		if err != nil {
			return err
		}
		// Accounts with no posted entry (used by pending entries only) are
		// opened too, on the last day of the journal.
		openOn := "1970-01-01"
		if !last.IsZero() {
			openOn = day(last)
		}
		sep := "\n"
		for _, a := range snap.accounts {
			if opened[a.Name] {
				continue
			}
			name, err := names.get(a.Name)
			if err != nil {
				return err
			}
			fmt.Fprintf(bw, "%s%s open %s\n", sep, openOn, name)
			sep = ""
		}
		if last.IsZero() || len(snap.balances) == 0 {
			return nil
		}
		return writeBeanBalances(bw, snap.balances, day(last.AddDate(0, 0, 1)), names, curs)
	})
	if err != nil {
		return fmt.Errorf("beancount export: %w", err)
	}
	return bw.Flush()
}

// writeBeanBalances writes a balance directive per account and currency.
// Beancount's balance directive includes subaccounts, so a parent account's
// asserted amount adds its children's balances.
func writeBeanBalances(w *bufio.Writer, bals []ledger.Balance, date string, names beanNames, curs *currencies) error {
	type key struct{ account, currency string }
	sums := map[key]int64{}
	for _, b := range bals {
		sums[key{b.Account, b.Currency}] = 0
	}
	for _, b := range bals {
		for a := b.Account; ; {
			k := key{a, b.Currency}
			if _, ok := sums[k]; ok {
				s, err := ledger.AddMinor(sums[k], b.Posted)
				if err != nil {
					return err
				}
				sums[k] = s
			}
			i := strings.LastIndexByte(a, ':')
			if i < 0 {
				break
			}
			a = a[:i]
		}
	}
	fmt.Fprintf(w, "\n; The posted balances settle maintains, at the end of the journal.\n")
	for _, b := range bals {
		c, err := curs.get(b.Currency)
		if err != nil {
			return err
		}
		name, err := names.get(b.Account)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s balance %s  %s %s\n", date, name, formatMinor(sums[key{b.Account, b.Currency}], c.Digits), c.Upper())
	}
	return nil
}

// appendBeanString appends s as a one-line beancount string literal.
func appendBeanString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range oneLine(s) {
		switch r {
		case '"', '\\':
			b = append(b, '\\', byte(r))
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// BeancountAccount maps a settle account name to beancount's form: the root
// capitalized (Assets, Liabilities, Equity, Income, Expenses) and each
// component capitalized, with '_' turned into '-' and each word after it
// capitalized ("assets:payouts:in_transit" is "Assets:Payouts:In-Transit").
// A component that would not start with a letter or digit is prefixed with
// "X".
func BeancountAccount(name string) string {
	segs := strings.Split(name, ":")
	for i, s := range segs {
		words := strings.Split(s, "_")
		for j, w := range words {
			if w != "" {
				words[j] = strings.ToUpper(w[:1]) + w[1:]
			}
		}
		s = strings.Join(words, "-")
		if s == "" || !(s[0] >= 'A' && s[0] <= 'Z' || s[0] >= '0' && s[0] <= '9') {
			s = "X" + s
		}
		segs[i] = s
	}
	return strings.Join(segs, ":")
}

// beanNames caches BeancountAccount and refuses two settle accounts that
// would map to one beancount account ("a_b" and "a-b").
type beanNames map[string]string

func (n beanNames) get(account string) (string, error) {
	if b, ok := n[account]; ok {
		return b, nil
	}
	b := BeancountAccount(account)
	if other, ok := n["\x00"+b]; ok && other != account {
		return "", fmt.Errorf("accounts %q and %q both map to beancount account %s", other, account, b)
	}
	n[account], n["\x00"+b] = b, account
	return b, nil
}
