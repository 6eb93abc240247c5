// Package importers reads the exports of payment providers into normalized
// provider records. Each reader streams: it holds one record at a time, so
// memory does not grow with the size of the file.
package importers

import (
	"fmt"
)

// ParseError is a problem at a place in an input file, in the manner of
// encoding/csv's ParseError.
type ParseError struct {
	File   string
	Line   int    // 1-based; 0 if unknown
	Column string // the CSV column or JSON field, if known
	Err    error
}

func (e *ParseError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Column != "" {
		loc = fmt.Sprintf("%s:%s", loc, e.Column)
	}
	return fmt.Sprintf("%s: %v", loc, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }
