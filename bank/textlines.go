package bank

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// textLine is one line of a BAI2 or MT940 file, without its line break.
type textLine struct {
	text string
	num  int    // 1-based line number
	off  int64  // byte offset of text in the file
	eol  string // the line break after it: "\n", "\r\n", or "" at the end of the file
}

// maxLineLen bounds a line: no bank writes lines this long, and a binary
// file fed by mistake must not grow memory.
const maxLineLen = 64 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// lineScanner reads a text file a line at a time, keeping each line's
// number and offset for errors and audit.
type lineScanner struct {
	br   *bufio.Reader
	s    *session
	num  int
	off  int64
	done bool
}

func newLineScanner(br *bufio.Reader, s *session) *lineScanner {
	sc := &lineScanner{br: br, s: s}
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
		sc.off = int64(len(utf8BOM))
	}
	return sc
}

// next returns the next line, or false at the end of the input (or after a
// read error or an overlong line, which it reports to the session).
func (sc *lineScanner) next() (textLine, bool) {
	if sc.done {
		return textLine{}, false
	}
	var buf []byte
	for {
		chunk, err := sc.br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLineLen {
			sc.done = true
			sc.s.fail(sc.num+1, "", fmt.Errorf("%w: a line longer than %d KiB: not a statement file", ErrMalformed, maxLineLen>>10))
			return textLine{}, false
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			sc.done = true
			if len(buf) == 0 {
				return textLine{}, false
			}
			break
		}
		if err != nil {
			sc.done = true
			sc.s.readError(err)
			return textLine{}, false
		}
		break
	}
	sc.num++
	l := textLine{num: sc.num, off: sc.off}
	sc.off += int64(len(buf))
	switch {
	case bytes.HasSuffix(buf, []byte("\r\n")):
		l.text, l.eol = string(buf[:len(buf)-2]), "\r\n"
	case bytes.HasSuffix(buf, []byte("\n")):
		l.text, l.eol = string(buf[:len(buf)-1]), "\n"
	default:
		l.text = string(buf)
	}
	return l, true
}

// rawText gathers the lines of one record (a BAI2 record with its 88
// continuations, an MT940 :61: with its :86:) exactly as the file has them.
type rawText struct {
	off int64
	b   strings.Builder
	eol string // the break after the last line added, written only if another follows
}

func (r *rawText) reset(l textLine) {
	r.off = l.off
	r.b.Reset()
	r.b.WriteString(l.text)
	r.eol = l.eol
}

func (r *rawText) add(l textLine) {
	r.b.WriteString(r.eol)
	r.b.WriteString(l.text)
	r.eol = l.eol
}

func (r *rawText) String() string { return r.b.String() }
