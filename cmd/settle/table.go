package main

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// printTable writes an aligned table: text columns left-aligned, the columns
// marked in right (amounts) right-aligned.
func printTable(w io.Writer, header []string, rows [][]string, right map[int]bool) error {
	return printTableOf(w, header, right, "", func(row func([]string) error) error {
		for _, r := range rows {
			if err := row(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// printTableOf writes an aligned table as printTable does, of the rows each
// gives, which it asks for twice, once to measure the columns and once to
// write them, so that a table of a million rows need not be held: each
// must give the same rows both times. With no rows, a non-empty ifEmpty is
// written instead of the table.
func printTableOf(w io.Writer, header []string, right map[int]bool, ifEmpty string,
	each func(row func([]string) error) error) error {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	rows := 0
	err := each(func(r []string) error {
		rows++
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rows == 0 && ifEmpty != "" {
		_, err := io.WriteString(w, ifEmpty+"\n")
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	line := func(cells []string) error {
		for i, c := range cells {
			// (never negative, should a row come wider the second time)
			pad := strings.Repeat(" ", max(widths[i]-utf8.RuneCountInString(c), 0))
			if i > 0 {
				bw.WriteString("  ")
			}
			if right[i] {
				bw.WriteString(pad + c)
			} else if i < len(cells)-1 {
				bw.WriteString(c + pad)
			} else {
				bw.WriteString(c)
			}
		}
		return bw.WriteByte('\n')
	}
	if err := line(header); err != nil {
		return err
	}
	if err := each(line); err != nil {
		return err
	}
	return bw.Flush()
}
