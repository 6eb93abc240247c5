package bank

import (
	"errors"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		name, head string
		want       Format
		err        error
	}{
		{"x.txt", "01,BANK,SETTLE,240305,0800,F1,,,2/\n", BAI2, nil},
		{"x.dat", "\ufeff\r\n01,BANK,SETTLE/", BAI2, nil},
		{"x.txt", `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">`, Camt053, nil},
		{"x.txt", ":20:S1\n:25:NL91\n", MT940, nil},
		{"x.txt", "{1:F01BANKDEFFAXXX0000000000}{2:O940}{4:\n:20:S1\n", MT940, nil},
		{"x.txt", ":940:\n:20:S1\n", MT940, nil},
		// The content wins over a misleading name.
		{"x.xml", "01,BANK,SETTLE/", BAI2, nil},
		{"x.bai", ":20:S1\n", MT940, nil},
		// The name decides when the content does not: the reader then says
		// what is wrong on which line.
		{"x.BAI2", "garbage", BAI2, nil},
		{"x.sta", "garbage", MT940, nil},
		{"x.940", "", MT940, nil},
		{"x.mt940", "garbage", MT940, nil},
		{"x.xml", "<Document/>", Camt053, nil},
		{"x.xml", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02">`, "", ErrUnknownFormat},
		{"x.txt", "garbage", "", ErrUnknownFormat},
		{"x.txt", "", "", ErrUnknownFormat},
		{"", "   \n", "", ErrUnknownFormat},
	}
	for _, c := range cases {
		got, err := Detect(c.name, []byte(c.head))
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("Detect(%q, %q) = %q, %v; want %q, %v", c.name, c.head, got, err, c.want, c.err)
		}
	}
}

// TestReadFormatOption checks that a format given in Options skips
// detection and that an unknown one is refused.
func TestReadFormatOption(t *testing.T) {
	if _, err := ReadAll(strings.NewReader(goodMT940), &Options{File: "x.bai", Format: MT940}); err != nil {
		t.Errorf("MT940 named .bai with Format set: %v", err)
	}
	if _, err := ReadAll(strings.NewReader(goodMT940), &Options{Format: "qif"}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("format qif: %v", err)
	}
	if _, err := ReadAll(strings.NewReader(goodMT940), nil); err != nil {
		t.Errorf("nil options: %v", err)
	}
}

// TestReadCallback checks the streaming contract: statements arrive one at
// a time while the file is clean, never after a problem, and an error
// from the callback stops reading and is returned as it is.
func TestReadCallback(t *testing.T) {
	second := strings.Replace(goodMT940, ":20:S1", ":20:S2", 1)
	bad := strings.Replace(goodMT940, ":20:S1", ":20:S3", 1)
	bad = strings.Replace(bad, "C12,30N", "C12,3xN", 1)

	var ids []string
	collect := func(st *Statement) error { ids = append(ids, st.ID); return nil }
	err := Read(strings.NewReader(goodMT940+bad+second), &Options{File: "s.sta"}, collect)
	if err == nil || strings.Join(ids, ",") != "S1" {
		t.Errorf("bad middle statement: got %v, %v; want S1 only and an error", ids, err)
	}

	stop := errors.New("stop")
	calls := 0
	err = Read(strings.NewReader(goodMT940+second), &Options{File: "s.sta"}, func(*Statement) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("callback error: got %v after %d calls; want stop after 1", err, calls)
	}
}

// TestTooManyProblems checks that a hopeless file stops being read.
func TestTooManyProblems(t *testing.T) {
	in := strings.Repeat("garbage\n", 10*maxProblems)
	_, err := ReadAll(strings.NewReader(in), &Options{File: "x.sta"})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != maxProblems+1 || !errors.Is(list[maxProblems], ErrMalformed) {
		t.Fatalf("got %d problems", len(list))
	}
}
