package reports

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/settlehq/settle/ledger"
)

// ExportHledger writes the posted entries of the ledger as an hledger
// journal: commodity directives that fix each currency's decimals, an
// account directive for every account, one transaction per entry (dated
// with the UTC day it occurred, the entry id as its code, amounts as
// "12.34 USD" with every commodity balancing on its own, so hledger never
// infers a conversion), and a final transaction of balance assertions with
// settle's maintained balances. Account names are settle's, unchanged.
// Entries are written as they are read.
func ExportHledger(ctx context.Context, l *ledger.Ledger, w io.Writer) error {
	return ExportHledgerPriced(ctx, l, w, nil)
}

// ExportHledgerPriced is ExportHledger with a P directive for every rate
// of rates (nil for none), so that hledger's valuation (bal -X USD) uses
// the rates settle's valuation does (ValuedTrialBalance).
func ExportHledgerPriced(ctx context.Context, l *ledger.Ledger, w io.Writer, rates *Rates) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	curs := newCurrencies(l)
	err := l.View(ctx, func(tx ledger.ReadTx) error {
		snap, err := readSnapshot(ctx, tx, curs)
		if err != nil {
			return err
		}
		bw.WriteString(commentLines(";", exportHeader))
		bw.WriteString("\n")
		declared := map[string]bool{}
		for _, c := range snap.currencies {
			writeCommodity(bw, c)
			declared[c.Code] = true
		}
		for _, a := range snap.accounts {
			fmt.Fprintf(bw, "account %s\n", a.Name)
		}
		if rates != nil {
			bw.WriteString("\n")
			for _, r := range rates.All() {
				fmt.Fprintf(bw, "P %s %s %s %s\n", r.Date.Format(dateLayout), upper(r.Base), r.Rate.String(), upper(r.Quote))
			}
		}
		var last string
		var buf []byte
		err = eachPosted(ctx, tx, func(e *ledger.Entry) error {
			for _, p := range e.Postings {
				if !declared[p.Currency] {
					c, err := curs.get(p.Currency)
					if err != nil {
						return err
					}
					bw.WriteString("\n")
					writeCommodity(bw, c)
					declared[p.Currency] = true
				}
			}
			last = day(e.OccurredAt)
			buf = append(buf[:0], '\n')
			buf = append(buf, last...)
			buf = append(buf, " * ("...)
			buf = strconv.AppendInt(buf, e.ID, 10)
			buf = append(buf, ')')
			if d := hledgerText(e.Description); d != "" {
				buf = append(buf, ' ')
				buf = append(buf, d...)
			}
			buf = append(buf, '\n')
			for _, p := range e.Postings {
				c, err := curs.get(p.Currency)
				if err != nil {
					return err
				}
				buf = append(buf, "    "...)
				buf = append(buf, p.Account...)
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
		if last == "" || len(snap.balances) == 0 {
			return nil
		}
		fmt.Fprintf(bw, "\n; The posted balances settle maintains, as of the end of the journal.\n%s * settle balances\n", last)
		for _, b := range snap.balances {
			c, err := curs.get(b.Currency)
			if err != nil {
				return err
			}
			fmt.Fprintf(bw, "    %s  0 %s = %s %s\n", b.Account, c.Upper(), formatMinor(b.Posted, c.Digits), c.Upper())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("hledger export: %w", err)
	}
	return bw.Flush()
}

// writeCommodity declares a currency with its decimals, so that hledger
// neither guesses digit-group marks ("1.234 KWD") nor rounds on display.
func writeCommodity(w *bufio.Writer, c ledger.Currency) {
	sample := "1000." + strings.Repeat("0", c.Digits) // "1000." for JPY: hledger wants the mark
	fmt.Fprintf(w, "commodity %s %s\n", sample, c.Upper())
}

// hledgerText makes a description safe for an hledger transaction line: one
// line, and no ';', which would start a comment.
func hledgerText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(oneLine(s), ";", ","))
}
