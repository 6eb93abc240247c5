package importers

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encodings returns the names Options.Encoding accepts.
func Encodings() []string {
	return []string{"utf-8", "latin1", "iso-8859-1", "windows-1252", "cp1252"}
}

// textEncoding is the character encoding of an export. UTF-8 is checked and
// never converted; a single-byte encoding is converted to UTF-8 one cell or
// record at a time, so that Raw and Offset stay the file's own bytes.
type textEncoding struct {
	name string           // utf-8, iso-8859-1 or windows-1252
	cm   *charmap.Charmap // nil for UTF-8
}

var utf8Encoding = &textEncoding{name: "utf-8"}

// lookupEncoding resolves an Options.Encoding name. latin1 is ISO 8859-1,
// as in Python and PostgreSQL, not windows-1252 as in web browsers: the two
// differ only in bytes 0x80 to 0x9F, which ISO 8859-1 gives to control
// characters, and decode refuses those, so naming the wrong one of the
// two is an error rather than a silent change.
func lookupEncoding(name string) (*textEncoding, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "utf-8", "utf8":
		return utf8Encoding, nil
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
		return &textEncoding{name: "iso-8859-1", cm: charmap.ISO8859_1}, nil
	case "windows-1252", "cp1252":
		return &textEncoding{name: "windows-1252", cm: charmap.Windows1252}, nil
	}
	return nil, fmt.Errorf("%w %q: the encodings are %s", ErrUnknownEncoding, name, strings.Join(Encodings(), ", "))
}

// CheckEncoding reports whether name is one of Encodings(), for a caller
// that wants to refuse a bad name before opening any file.
func CheckEncoding(name string) error {
	_, err := lookupEncoding(name)
	return err
}

// plain reports whether b needs no work: valid UTF-8, or for a single-byte
// encoding nothing but ASCII. Rows nearly always are, and are ASCII.
func (e *textEncoding) plain(b []byte) bool {
	return isASCII(b) || e.cm == nil && utf8.Valid(b)
}

// isASCII reports whether b is all ASCII, looking at 32 bytes at a time:
// every row is checked, and this takes a third of utf8.Valid's
// instructions on one.
func isASCII(b []byte) bool {
	const high = 0x8080808080808080
	for len(b) >= 32 {
		le := binary.LittleEndian
		if (le.Uint64(b)|le.Uint64(b[8:])|le.Uint64(b[16:])|le.Uint64(b[24:]))&high != 0 {
			return false
		}
		b = b[32:]
	}
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&high != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// decode returns s as UTF-8: for UTF-8 s itself, once checked, otherwise s
// converted byte by byte. At a byte that is not text it returns the byte's
// index in s and why; else the index is -1.
func (e *textEncoding) decode(s string) (string, int, error) {
	if e.cm == nil {
		if utf8.ValidString(s) {
			return s, -1, nil
		}
		i := 0
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return "", i, fmt.Errorf("%w: byte %#x is not UTF-8; if the file is in another encoding, declare it (such as windows-1252) to have it converted", ErrEncoding, s[i])
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s, -1, nil
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			b.WriteByte(c)
			continue
		}
		r := e.cm.DecodeByte(c)
		switch {
		case r == utf8.RuneError:
			return "", i, fmt.Errorf("%w: byte %#x is not a character in %s", ErrEncoding, c, e.name)
		case r >= 0x80 && r <= 0x9f:
			return "", i, fmt.Errorf("%w: byte %#x is a control character in %s, not text; the file is probably windows-1252", ErrEncoding, c, e.name)
		}
		b.WriteRune(r)
	}
	return b.String(), -1, nil
}
