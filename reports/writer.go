package reports

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Format is an output format for tabular reports.
type Format string

// The formats a report can be written in.
const (
	// CSV is RFC 4180 CSV in UTF-8 with a header row: the default for files.
	CSV Format = "csv"
	// JSON is an array of objects keyed by column name, every value a string
	// (amounts included, so that no reader turns them into floats).
	JSON Format = "json"
	// Table is a plain-text table with aligned columns, for terminals.
	Table Format = "table"
)

// Formats lists every supported format.
var Formats = []Format{CSV, JSON, Table}

// ParseFormat returns the Format named s (case-insensitive).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Formats {
		if f == known {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w: unknown format %q (want csv, json or table)", ErrInvalidOptions, s)
}

// Writer receives a report as one header and then rows of cells, in order,
// and writes them out as they come so that memory stays flat however long the
// report is. Implementations do not keep the slices they are given.
type Writer interface {
	// WriteHeader writes the column names. It is called once, first.
	WriteHeader(columns []string) error
	// WriteRow writes one row with one cell per column.
	WriteRow(cells []string) error
	// Close flushes what is buffered and ends the output (JSON's closing
	// bracket). It does not close the underlying io.Writer.
	Close() error
}

// NewWriter returns a Writer of format f on w.
func NewWriter(w io.Writer, f Format) (Writer, error) {
	switch f {
	case CSV:
		return NewCSVWriter(w), nil
	case JSON:
		return NewJSONWriter(w), nil
	case Table:
		return NewTableWriter(w), nil
	}
	return nil, fmt.Errorf("%w: unknown format %q (want csv, json or table)", ErrInvalidOptions, f)
}

// csvWriter writes CSV with formula-injection guarded cells.
type csvWriter struct {
	w     *csv.Writer
	guard []string
}

// NewCSVWriter returns a Writer of CSV: a header row, then one record a row.
// Cells that a spreadsheet would run as a formula are neutralized (see
// Neutralize).
func NewCSVWriter(w io.Writer) Writer {
	return &csvWriter{w: csv.NewWriter(w)}
}

func (c *csvWriter) WriteHeader(columns []string) error { return c.WriteRow(columns) }

func (c *csvWriter) WriteRow(cells []string) error {
	c.guard = append(c.guard[:0], cells...)
	for i, s := range c.guard {
		c.guard[i] = Neutralize(s)
	}
	return c.w.Write(c.guard)
}

func (c *csvWriter) Close() error {
	c.w.Flush()
	return c.w.Error()
}

// jsonWriter writes an array of objects, one a row, as rows come.
type jsonWriter struct {
	w       *bufio.Writer
	keys    [][]byte // each column name, JSON-quoted, with its colon
	started bool
	rows    int
}

// NewJSONWriter returns a Writer of a JSON array of objects whose keys are the
// column names and whose values are the cells, as strings.
func NewJSONWriter(w io.Writer) Writer {
	return &jsonWriter{w: bufio.NewWriter(w)}
}

func (j *jsonWriter) WriteHeader(columns []string) error {
	j.keys = make([][]byte, len(columns))
	for i, c := range columns {
		k, err := json.Marshal(c)
		if err != nil {
			return err
		}
		j.keys[i] = append(k, ':')
	}
	j.started = true
	_, err := j.w.WriteString("[")
	return err
}

func (j *jsonWriter) WriteRow(cells []string) error {
	if !j.started {
		return fmt.Errorf("reports: JSON row written before its header")
	}
	if len(cells) != len(j.keys) {
		return fmt.Errorf("reports: row has %d cells for %d columns", len(cells), len(j.keys))
	}
	sep := ",\n"
	if j.rows == 0 {
		sep = "\n"
	}
	j.rows++
	j.w.WriteString(sep)
	j.w.WriteByte('{')
	for i, c := range cells {
		if i > 0 {
			j.w.WriteByte(',')
		}
		j.w.Write(j.keys[i])
		v, err := json.Marshal(c)
		if err != nil {
			return err
		}
		j.w.Write(v)
	}
	return j.w.WriteByte('}')
}

func (j *jsonWriter) Close() error {
	if !j.started {
		j.w.WriteString("[")
	}
	if j.rows > 0 {
		j.w.WriteString("\n")
	}
	j.w.WriteString("]\n")
	return j.w.Flush()
}

// tableBlock is how many rows the table writer aligns at once: columns line
// up within a block, and memory stays flat on long reports.
const tableBlock = 1000

// tableWriter aligns columns with text/tabwriter.
type tableWriter struct {
	tw   *tabwriter.Writer
	rows int
	line []byte
}

// NewTableWriter returns a Writer of a plain-text table for terminals: a
// header, a rule, and rows with columns separated by two spaces. Columns are
// aligned within blocks of 1,000 rows, so that a long report streams. Cells
// are guarded against formula injection as in CSV, since terminal output is
// often pasted into spreadsheets.
func NewTableWriter(w io.Writer) Writer {
	return &tableWriter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (t *tableWriter) WriteHeader(columns []string) error {
	if err := t.WriteRow(columns); err != nil {
		return err
	}
	rule := make([]string, len(columns))
	for i, c := range columns {
		rule[i] = strings.Repeat("-", len(c))
	}
	return t.write(rule, false)
}

func (t *tableWriter) WriteRow(cells []string) error { return t.write(cells, true) }

// write writes one line of cells, neutralized unless it is the header rule.
func (t *tableWriter) write(cells []string, guard bool) error {
	t.line = t.line[:0]
	for i, c := range cells {
		if i > 0 {
			t.line = append(t.line, '\t')
		}
		if guard {
			c = Neutralize(c)
		}
		t.line = appendTableCell(t.line, c)
	}
	t.line = append(t.line, '\n')
	if _, err := t.tw.Write(t.line); err != nil {
		return err
	}
	t.rows++
	if t.rows%tableBlock == 0 {
		return t.tw.Flush()
	}
	return nil
}

// appendTableCell appends a cell with the characters that would break the
// table's layout (tabs, line breaks) replaced by spaces.
func appendTableCell(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t', '\n', '\r', '\v', '\f':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return b
}

func (t *tableWriter) Close() error { return t.tw.Flush() }
