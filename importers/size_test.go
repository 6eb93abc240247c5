package importers

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// piece is a string repeated n times.
type piece struct {
	s string
	n int
}

// pieceReader produces its pieces in order without holding them, and counts
// the bytes it has handed out.
type pieceReader struct {
	pieces []piece
	cur    string
	read   int64
}

func (r *pieceReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if len(r.pieces) == 0 {
			return 0, io.EOF
		}
		pc := &r.pieces[0]
		if pc.n == 0 {
			r.pieces = r.pieces[1:]
			continue
		}
		// Hand out up to 64 KiB of repeats at a time.
		k := max(1, min(pc.n, (64<<10)/max(1, len(pc.s))))
		r.cur = strings.Repeat(pc.s, k)
		pc.n -= k
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	r.read += int64(n)
	return n, nil
}

func one(s string) piece { return piece{s, 1} }

// TestRowsLongerThanMaxRowSizeAreRefused reads files with a 100 MB cell or
// record: the reader must say which row, stop, and not read (or hold) the
// rest of it. It used to import such a cell, at 1.28 GB of memory.
func TestRowsLongerThanMaxRowSizeAreRefused(t *testing.T) {
	const huge = 100 << 20
	goodRow := `"txn_1","2024-01-01 00:00:00","","usd","1.00","0.00","1.00","charge","",""` + "\n"
	goodJSON := `{"id":"txn_1","object":"balance_transaction","amount":100,"fee":0,"net":100,"currency":"usd","type":"charge","created":1700000000}`
	cases := []struct {
		name, format string
		pieces       []piece
		records      int
		line         int
		msg          string
	}{
		{"csv unquoted cell", FormatStripeItemizedCSV,
			[]piece{one(itemizedHeader), one(goodRow), one(`"txn_2","2024-01-01 00:00:00","","usd","1.00","0.00","1.00","charge","",`), {"x", huge}, one("\n"), one(goodRow)},
			1, 3, "big:3: row longer than 16 MiB; the file is not read past it"},
		{"csv quoted cell of many lines after blank lines", FormatStripeItemizedCSV,
			[]piece{one(itemizedHeader), one(goodRow), one("\n\r\n"), one(`"txn_2","2024-01-01 00:00:00","","usd","1.00","0.00","1.00","charge","","`), {"ab\n", huge / 3}, one("\"\n"), one(goodRow)},
			1, 5, "big:5: row longer than 16 MiB; the file is not read past it"},
		{"csv header", FormatJustiFiPayoutCSV,
			[]piece{one("id,type,currency,amount,fee,net,created_at,"), {"x", huge}, one("\n")},
			0, 1, "big:1: row longer than 16 MiB; the file is not read past it"},
		{"csv runaway quote", FormatJustiFiPayoutCSV,
			[]piece{one("id,type,currency,amount,fee,net,created_at\n"), one("bt_1,\"seller_payment,usd,100,3,97,2024-01-01T00:00:00Z\n"),
				{"bt_2,seller_payment,usd,100,3,97,2024-01-01T00:00:00Z\n", huge / 50}},
			0, 2, "big:2: row longer than 16 MiB; the file is not read past it"},
		{"json record in a list", FormatStripeBalanceJSON,
			[]piece{one("{\"object\":\"list\",\"data\":[\n" + goodJSON + ",\n\n{\"id\":\"txn_2\",\n\"description\":\""), {"x", huge}, one("\"}," + goodJSON + "]}")},
			1, 4, "big:4: record longer than 16 MiB; the file is not read past it"},
		{"json record in an array, nested", FormatStripeBalanceJSON,
			[]piece{one("[" + goodJSON + ",{\"id\":\"txn_2\",\"source\":{\"a\":["), {"1,", huge / 2}, one("1]}}]")},
			1, 1, "big:1: record longer than 16 MiB; the file is not read past it"},
		{"json single object in an envelope", FormatCardPayJSON,
			[]piece{one("{\"data\":\n{\"object\":\"payment\",\"description\":\""), {"x", huge}, one("\"}}")},
			0, 2, "big:2: record longer than 16 MiB; the file is not read past it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := &pieceReader{pieces: c.pieces}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rd, err := NewReader(c.format, "big", in, nil)
			if err != nil {
				t.Fatal(err)
			}
			recs, errs := ReadAll(rd)
			runtime.ReadMemStats(&after)
			if len(recs) != c.records || len(errs) != 1 {
				t.Fatalf("%d records, errors %v", len(recs), errs)
			}
			var pe *ParseError
			if !errors.As(errs[0], &pe) || pe.Line != c.line || !errors.Is(pe, ErrTooLong) || pe.Error() != c.msg {
				t.Errorf("%v\nwant %s (wrapping ErrTooLong)", errs[0], c.msg)
			}
			if _, err := rd.Read(); err != io.EOF {
				t.Errorf("Read after it: %v, want io.EOF", err)
			}
			// Bounded: the reader read little more than MaxRowSize of the
			// row, not the 100 MB. encoding/csv and encoding/json grow
			// their buffers step by step, so the bytes allocated are some
			// ten times the row (live at once: about four); reading the
			// whole cell allocated over 1 GB.
			if in.read > MaxRowSize+256<<10 {
				t.Errorf("read %d MiB of the input", in.read>>20)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*MaxRowSize {
				t.Errorf("allocated %d MiB", alloc>>20)
			} else {
				t.Logf("read %.1f MiB, allocated %d MiB", float64(in.read)/(1<<20), alloc>>20)
			}
		})
	}
}

// TestRowsOfMaxRowSizeAreRead checks the limit to the byte: a CSV row of
// MaxRowSize bytes with its line break, or a JSON record of MaxRowSize
// bytes, is read; one byte more is refused.
func TestRowsOfMaxRowSizeAreRead(t *testing.T) {
	const header = "id,type,currency,amount,fee,net,created_at,description\n"
	rowStart := "bt_1,seller_payment,usd,100,3,97,2024-01-01T00:00:00Z,"
	objStart := `{"object":"payment","id":"pay_1","amount":100,"status":"succeeded","created_at":1700000000000,"description":"`
	for _, extra := range []int{0, 1} {
		csvFill := MaxRowSize - len(rowStart) - len("\n") + extra
		jsonFill := MaxRowSize - len(objStart) - len(`"}`) + extra
		for _, c := range []struct {
			format string
			pieces []piece
		}{
			{FormatJustiFiPayoutCSV, []piece{one(header), one(rowStart), {"x", csvFill}, one("\n"), one(rowStart + "short\n")}},
			{FormatJustiFiPayoutCSV, []piece{one(header), one(rowStart), {"x", csvFill}, one("\n")}},
			{FormatJustiFiPayoutCSV, []piece{one(header), one(rowStart), {"x", csvFill + 1}}}, // no line break at the end
			{FormatCardPayJSON, []piece{one("[\n"), one(objStart), {"x", jsonFill}, one(`"}`), one("\n]")}},
			{FormatCardPayJSON, []piece{one("[\n"), one(objStart), {"x", jsonFill}, one(`"},`), one(objStart + `short"}`), one("\n]")}},
			{FormatCardPayJSON, []piece{one(`{"data":`), one(objStart), {"x", jsonFill}, one(`"}}`)}},
		} {
			t.Run(fmt.Sprintf("%s %d pieces %+d", c.format, len(c.pieces), extra), func(t *testing.T) {
				rd, err := NewReader(c.format, "edge", &pieceReader{pieces: c.pieces}, nil)
				if err != nil {
					t.Fatal(err)
				}
				recs, errs := ReadAll(rd)
				switch {
				case extra == 0 && len(errs) != 0:
					t.Fatalf("a row of MaxRowSize bytes: %v", errs)
				case extra == 0 && (len(recs) == 0 || len(recs[0].Raw) < MaxRowSize-2):
					t.Fatalf("%d records", len(recs))
				case extra == 1 && (len(errs) != 1 || !errors.Is(errs[0], ErrTooLong) || len(recs) != 0):
					t.Fatalf("a row one byte longer: %d records, errors %v", len(recs), errs)
				}
			})
		}
	}
}
