package importers

import (
	"errors"
	"fmt"
	"strings"
)

// Errors a caller can test with errors.Is. Problems with amounts and
// currencies wrap ledger.ErrInvalidAmount and ledger.ErrUnknownCurrency.
var (
	// ErrUnknownFormat: the format name is not one of Formats(), or the
	// input's shape matches none of them.
	ErrUnknownFormat = errors.New("unknown format")
	// ErrAmbiguousFormat: the input's shape fits more than one format.
	ErrAmbiguousFormat = errors.New("ambiguous format")
	// ErrMalformed: the file cannot be read further (broken or truncated
	// JSON, a JSON shape that is not a list of objects, an empty CSV). The
	// reader returns io.EOF after it.
	ErrMalformed = errors.New("malformed file")
	// ErrTooLong: a CSV row or JSON record is longer than MaxRowSize. The
	// reader returns io.EOF after it.
	ErrTooLong = fmt.Errorf("longer than %d MiB", MaxRowSize>>20)
	// ErrMissingColumn: a required CSV column is absent from the header. The
	// reader returns io.EOF after it.
	ErrMissingColumn = errors.New("missing required column")
	// ErrMissingField: a required field or cell is absent, null or empty.
	ErrMissingField = errors.New("missing required value")
	// ErrBadValue: a field has the wrong JSON type or a cell cannot be read.
	ErrBadValue = errors.New("invalid value")
	// ErrBadTime: a date or time cannot be parsed or is out of range.
	ErrBadTime = errors.New("invalid time")
	// ErrNetMismatch: a balance-grain record whose net is not amount − fee.
	ErrNetMismatch = errors.New("net is not amount minus fee")
	// ErrEncoding: bytes that are not text in the file's encoding (UTF-8
	// unless Options.Encoding declares another).
	ErrEncoding = errors.New("invalid text encoding")
	// ErrUnknownEncoding: Options.Encoding is not one of Encodings().
	ErrUnknownEncoding = errors.New("unknown encoding")
	// ErrBadMapping: a generic-csv mapping file is wrong.
	ErrBadMapping = errors.New("invalid mapping")
)

// errRowTooLong is what the readers under encoding/csv and encoding/json
// return once a row has run past MaxRowSize, so that they stop reading it.
var errRowTooLong = errors.New("row too long")

func errUnexpectedObject(got string, want ...string) error {
	return fmt.Errorf("%w: object %q is not %s", ErrBadValue, got, strings.Join(want, " or "))
}
