package bank_test

import (
	"fmt"
	"strings"

	"github.com/settlehq/settle/bank"
)

func Example() {
	statement := `:20:STMT0304
:25:NL91ABNA0417164300
:28C:42/1
:60F:C240301EUR1000,00
:61:2403040304C250,00NTRFpo_1OaBcD//BANKREF1
:86:STRIPE PAYOUT po_1OaBcD
:61:240304D1,50NCHGNONREF//FEE1
:62F:C240304EUR1248,50
-
`
	err := bank.Read(strings.NewReader(statement), &bank.Options{File: "statement.sta"}, func(st *bank.Statement) error {
		fmt.Println(st.Format, st.Account, st.Currency, st.OpeningBalance, st.ClosingBalance)
		for _, l := range st.Lines {
			fmt.Printf("%d %s %d %s %s %s %q\n", l.Line, l.BookingDate.Format("2006-01-02"), l.Amount, l.TypeCode, l.CustomerRef, l.BankRef, l.Remittance)
		}
		return nil
	})
	fmt.Println(err)

	// A statement that does not add up refuses the whole file.
	_, err = bank.ReadAll(strings.NewReader(strings.Replace(statement, "1248,50", "1250,00", 1)), &bank.Options{File: "statement.sta"})
	fmt.Println(err)
	// Output:
	// mt940 NL91ABNA0417164300 eur 100000 124850
	// 5 2024-03-04 25000 NTRF po_1OaBcD BANKREF1 "STRIPE PAYOUT po_1OaBcD"
	// 7 2024-03-04 -150 NCHG NONREF FEE1 ""
	// <nil>
	// statement.sta:8: out of balance: statement "STMT0304" (sequence 42/1) of account "NL91ABNA0417164300": opening balance 1000.00 + lines 248.50 = 1248.50 EUR, but the closing balance is 1250.00 (difference 1.50)
}
