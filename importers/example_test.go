package importers_test

import (
	"fmt"
	"strings"

	"github.com/settlehq/settle/importers"
)

func Example() {
	report := `"balance_transaction_id","created_utc","currency","gross","fee","net","reporting_category","source_id"
"txn_1","2024-06-06 00:00:00","usd","100.00","3.20","96.80","charge","ch_1"
"txn_2","2024-06-08 00:00:00","usd","-25.00","0.00","-25.001","refund","re_1"
"txn_3","2024-06-09 00:00:00","usd","-50.00","15.00","-65.00","dispute","dp_1"
`
	rd, format, err := importers.Open("activity.csv", strings.NewReader(report), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	recs, problems := importers.ReadAll(rd)
	fmt.Println(format)
	for _, r := range recs {
		fmt.Println(r.Line, r.ID, r.Type, r.ReportingCategory, r.Amount, r.Fee, r.Net, r.Currency, r.SourceRef)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// stripe-itemized-csv
	// 2 txn_1 charge charge 10000 320 9680 usd ch_1
	// 4 txn_3 adjustment dispute -5000 1500 -6500 usd dp_1
	// activity.csv:3:net: invalid amount: -25.001 has more than 2 decimals for USD
}
