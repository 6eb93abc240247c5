package bank

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// genReader produces a file piece by piece, so that a test can feed a
// reader more than it would want to hold.
type genReader struct {
	pieces int
	next   int
	piece  func(i int) string // piece -1 is the head, pieces the tail
	buf    string
}

func (g *genReader) Read(p []byte) (int, error) {
	for g.buf == "" {
		if g.next > g.pieces+1 {
			return 0, io.EOF
		}
		g.buf = g.piece(g.next - 1)
		g.next++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// bigFile returns a generated file of n statements of one credit each,
// about 250 bytes a statement, and its name.
func bigFile(format Format, n int) (string, io.Reader) {
	switch format {
	case BAI2:
		// Each account: 0 opening, a credit of 100, 100 closing: a
		// control total of 200 and 3 records.
		return "big.bai", &genReader{pieces: n, piece: func(i int) string {
			switch i {
			case -1:
				return "01,BANK,SETTLE,240305,0800,BIG,,,2/\n02,SETTLE,BANK,1,240304,,USD,/\n"
			case n:
				return fmt.Sprintf("98,%d,%d,%d/\n99,%d,1,%d/\n", 200*n, n, 3*n+2, 200*n, 3*n+4)
			}
			return fmt.Sprintf("03,%010d,USD,010,0,,,015,100,,/\n16,165,100,,REF%d,po_%d,STRIPE PAYOUT po_%d WITH SOME REMITTANCE TEXT/\n49,200,3/\n", i, i, i, i)
		}}
	case Camt053:
		return "big.xml", &genReader{pieces: n, piece: func(i int) string {
			switch i {
			case -1:
				return `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>BIG</MsgId></GrpHdr>` + "\n"
			case n:
				return "</BkToCstmrStmt></Document>\n"
			}
			return strings.ReplaceAll(goodStmt, "<Id>S1</Id>", fmt.Sprintf("<Id>S%d</Id>", i))
		}}
	default:
		return "big.sta", &genReader{pieces: n, piece: func(i int) string {
			if i < 0 || i == n {
				return ""
			}
			return strings.Replace(goodMT940, ":20:S1", fmt.Sprintf(":20:S%d", i), 1)
		}}
	}
}

// TestStreaming reads a generated file many times larger than the memory
// the reader may use and checks that the heap stays small: the readers hold
// one statement at a time.
func TestStreaming(t *testing.T) {
	n := 20_000 // about 5 MB a file, whose statements would take over 10 MB held together
	if testing.Short() || raceEnabled {
		n = 10_000
	}
	for _, format := range Formats() {
		t.Run(string(format), func(t *testing.T) {
			name, r := bigFile(format, n)
			var peak uint64
			count := 0
			err := Read(r, &Options{File: name}, func(st *Statement) error {
				count++
				if count%5000 == 0 {
					runtime.GC()
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					peak = max(peak, m.HeapAlloc)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if count != n {
				t.Fatalf("%d statements, want %d", count, n)
			}
			t.Logf("%d statements, heap at most %d KiB", n, peak>>10)
			if peak > 4<<20 {
				t.Errorf("heap reached %d MiB reading %d statements", peak>>20, n)
			}
		})
	}
}

// BenchmarkRead measures the whole public path, Read with detection, over
// generated files; b.SetBytes makes the figure a throughput.
func BenchmarkRead(b *testing.B) {
	for _, format := range Formats() {
		b.Run(string(format), func(b *testing.B) {
			name, r := bigFile(format, 2000)
			data, err := io.ReadAll(r)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := Read(strings.NewReader(string(data)), &Options{File: name}, func(*Statement) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
