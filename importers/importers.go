package importers

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
)

// Provider names, as they appear in Record.Provider.
const (
	ProviderStripe     = "stripe"
	ProviderJustiFi    = "justifi"
	ProviderWhop       = "whop"
	ProviderPaymentsV3 = "paymentsv3"
	ProviderCardPay    = "cardpay"
)

// Format names, as accepted by NewReader and returned by Detect.
const (
	FormatStripeBalanceJSON   = "stripe-balance-json"
	FormatStripeItemizedCSV   = "stripe-itemized-csv"
	FormatStripeObjectsJSON   = "stripe-objects-json"
	FormatJustiFiPaymentsJSON = "justifi-payments-json"
	FormatJustiFiBalanceJSON  = "justifi-balance-json"
	FormatJustiFiPayoutCSV    = "justifi-payout-csv"
	FormatWhopPaymentsJSON    = "whop-payments-json"
	FormatPaymentsV3JSON      = "paymentsv3-json"
	FormatCardPayJSON         = "cardpay-json"
	FormatGenericCSV          = "generic-csv"
)

// Options configure a reader. A nil *Options is the defaults.
type Options struct {
	// Currencies resolves currency codes; nil knows ISO 4217 only, so a
	// code such as Whop's "eth" is refused until registered here.
	Currencies *ledger.Currencies
	// Mapping describes the columns of a generic-csv file. Open uses
	// generic-csv whenever it is set.
	Mapping *Mapping
	// Encoding is the character encoding of the file: "utf-8", the
	// default, or one of the single-byte encodings "latin1" (ISO 8859-1,
	// also "iso-8859-1") and "windows-1252" ("cp1252"); see Encodings.
	// UTF-8 is checked: a row or record with bytes that are not UTF-8 is
	// refused (ErrEncoding) at its line and column, never carried into
	// reports. Another encoding is converted to UTF-8 cell by cell, and a
	// file in it that starts with a UTF-8 byte order mark is refused; a
	// record's Raw and Offset stay the file's own bytes.
	Encoding string
	// ReuseRecord has Read return the same *provider.Record every time,
	// overwritten by the next Read, as encoding/csv's Reader.ReuseRecord
	// does for its rows: a caller that keeps a record past the next Read
	// must copy it. It spares an allocation of some 400 bytes a record;
	// the import of 107,000 itemized rows ran 7–11% faster with it
	// (BENCHMARKS.md, twenty-eighth round).
	ReuseRecord bool
}

// Reader reads normalized records from one provider export.
//
// Read returns the next record, or io.EOF after the last one. A bad record
// gives a *ParseError naming its file, line and column or field, and the next
// Read goes on with the following record, so a caller can list every problem
// in a file. A structural problem (broken or truncated JSON, a missing
// required column, a row longer than MaxRowSize) also gives a *ParseError,
// wrapping ErrMalformed, ErrMissingColumn or ErrTooLong; every Read after it
// returns io.EOF.
type Reader interface {
	Read() (*provider.Record, error)
}

// formatSpec describes one format: JSON formats convert one object at a
// time, CSV formats one row at a time.
type formatSpec struct {
	name     string
	provider string
	json     func(cc *currencyCache) jsonConv
	csv      func(cc *currencyCache, opts *Options) (csvFormat, rune, error)
}

func formatTable() []formatSpec {
	return []formatSpec{
		{name: FormatStripeBalanceJSON, provider: ProviderStripe, json: stripeBalanceConv},
		{name: FormatStripeItemizedCSV, provider: ProviderStripe, csv: newStripeItemized},
		{name: FormatStripeObjectsJSON, provider: ProviderStripe, json: stripeObjectsConv},
		{name: FormatJustiFiPaymentsJSON, provider: ProviderJustiFi, json: justifiPaymentsConv},
		{name: FormatJustiFiBalanceJSON, provider: ProviderJustiFi, json: justifiBalanceConv},
		{name: FormatJustiFiPayoutCSV, provider: ProviderJustiFi, csv: newJustiFiPayout},
		{name: FormatWhopPaymentsJSON, provider: ProviderWhop, json: whopPaymentsConv},
		{name: FormatPaymentsV3JSON, provider: ProviderPaymentsV3, json: paymentsV3Conv},
		{name: FormatCardPayJSON, provider: ProviderCardPay, json: cardPayConv},
		{name: FormatGenericCSV, csv: newGenericCSV},
	}
}

func lookupFormat(name string) (formatSpec, bool) {
	for _, f := range formatTable() {
		if f.name == name {
			return f, true
		}
	}
	return formatSpec{}, false
}

// Formats returns the names of the supported formats.
func Formats() []string {
	var names []string
	for _, f := range formatTable() {
		names = append(names, f.name)
	}
	return names
}

// MaxRowSize is the most bytes one CSV row (with its line break and any
// blank lines before it) or one JSON record may take: 16 MiB, as the event
// feed's lines. Provider exports have rows of a few hundred bytes; a row of
// megabytes comes from a runaway quote or a hostile file, and reading it
// whole would hold it in memory several times over (a 100 MB cell took
// 1.28 GB). A reader stops after MaxRowSize+1 bytes of such a row with a
// *ParseError wrapping ErrTooLong, naming the file and the row's first line,
// and reads nothing after it: past a runaway quote there is no telling where
// the next row begins.
const MaxRowSize = 16 << 20

// headSize is how much of a file Open and the JSON readers look at before
// reading: enough for a CSV header or a JSON envelope and its first record.
const headSize = 64 << 10

// NewReader returns a reader of format for the contents r of the file name
// (used in errors and records only). opts may be nil.
func NewReader(format, name string, r io.Reader, opts *Options) (Reader, error) {
	if opts == nil {
		opts = &Options{}
	}
	spec, ok := lookupFormat(format)
	if !ok {
		return nil, fmt.Errorf("%w %q: the formats are %s", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
	}
	enc, err := lookupEncoding(opts.Encoding)
	if err != nil {
		return nil, err
	}
	cc := &currencyCache{cs: opts.Currencies}
	if spec.csv != nil {
		conv, comma, err := spec.csv(cc, opts)
		if err != nil {
			return nil, err
		}
		provider := spec.provider
		if provider == "" && opts.Mapping != nil {
			provider = opts.Mapping.Provider
		}
		cr := newCSVReader(name, spec.name, provider, r, comma, enc, conv)
		cr.reuse = opts.ReuseRecord
		return cr, nil
	}
	br := bufio.NewReaderSize(r, headSize)
	head, err := br.Peek(headSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	h, err := scanHead(trimBOM(head))
	if err == nil && h.shape == shapeObject && h.first == nil {
		err = fmt.Errorf("%w: no records found in the first %d KiB", ErrMalformed, headSize>>10)
	}
	if err != nil {
		return &errReader{err: &ParseError{File: name, Line: 1, Err: err}}, nil
	}
	s := newJSONStream(name, br, h.shape)
	if len(head) >= len(utf8BOM) && string(head[:3]) == string(utf8BOM) {
		if enc.cm != nil {
			return &errReader{err: bomConflict(name, enc)}, nil
		}
		br.Discard(len(utf8BOM))
		s.origin = int64(len(utf8BOM))
	}
	return &jsonReader{
		s:        s,
		format:   spec.name,
		provider: spec.provider,
		enc:      enc,
		reuse:    opts.ReuseRecord,
		conv:     spec.json(cc),
	}, nil
}

// Open detects the format of a file from its first bytes (or uses
// generic-csv when opts.Mapping is set) and returns a reader for it with the
// format's name.
func Open(name string, r io.Reader, opts *Options) (Reader, string, error) {
	br := bufio.NewReaderSize(r, headSize)
	format := FormatGenericCSV
	if opts == nil || opts.Mapping == nil {
		head, err := br.Peek(headSize)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, "", fmt.Errorf("%s: %w", name, err)
		}
		if format, err = Detect(name, head); err != nil {
			return nil, "", err
		}
	}
	rd, err := NewReader(format, name, br, opts)
	return rd, format, err
}

// ReadAll reads rd to the end, returning every record and every problem.
// Each record returned is a copy of its own, also from a reader that
// reuses one record (Options.ReuseRecord).
func ReadAll(rd Reader) ([]*provider.Record, []error) {
	var recs []*provider.Record
	var errs []error
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			return recs, errs
		}
		if err != nil {
			errs = append(errs, err)
			var pe *ParseError
			if !errors.As(err, &pe) {
				return recs, errs // not about a record: nothing more to read
			}
			continue
		}
		own := *rec
		recs = append(recs, &own)
	}
}

// errReader reports one structural error, then io.EOF.
type errReader struct{ err error }

func (r *errReader) Read() (*provider.Record, error) {
	err := r.err
	r.err = nil
	if err == nil {
		return nil, io.EOF
	}
	return nil, err
}

// bomConflict is the error for a file declared in a single-byte encoding
// that starts with a UTF-8 byte order mark: one of the two is wrong, and
// converting would garble every accented letter.
func bomConflict(name string, enc *textEncoding) error {
	return &ParseError{File: name, Line: 1, Err: fmt.Errorf("%w: the file starts with a UTF-8 byte order mark, so it is UTF-8, not %s as declared", ErrEncoding, enc.name)}
}

func trimBOM(b []byte) []byte {
	if len(b) >= len(utf8BOM) && string(b[:3]) == string(utf8BOM) {
		return b[3:]
	}
	return b
}
