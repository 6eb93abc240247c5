package bank

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// Detect names the format of a statement file from its first bytes (head;
// 64 KiB is plenty) and, failing that, its name's extension.
//
// The content decides when it can: a BAI2 file begins with its 01 record,
// a camt.053 file declares the camt.053 namespace, an MT940 file begins
// with a SWIFT block ({1: or {4:) or a :20: field. Files are often renamed
// (.txt and .dat are common for all three), so the bytes are trusted over
// the name. When the content matches none of these the extension decides
// (.bai, .bai2; .xml; .sta, .mt940, .940), and the reader of that format
// then says on which line the file goes wrong.
func Detect(name string, head []byte) (Format, error) {
	b := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if f, ok := sniff(b); ok {
		return f, nil
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".bai", ".bai2":
		return BAI2, nil
	case ".sta", ".mt940", ".940":
		return MT940, nil
	case ".xml":
		if bytes.Contains(b, []byte("urn:iso:std:iso:20022:tech:xsd:")) {
			return "", fmt.Errorf("%s: %w: an ISO 20022 message other than camt.053 (bank-to-customer statement)", name, ErrUnknownFormat)
		}
		return Camt053, nil
	}
	if len(b) == 0 {
		return "", fmt.Errorf("%s: %w: the file is empty", name, ErrUnknownFormat)
	}
	return "", fmt.Errorf("%s: %w: neither BAI2 (begins with 01,), camt.053 (XML in the camt.053 namespace) nor MT940 (begins with :20: or {1:)", name, ErrUnknownFormat)
}

// sniff recognizes a format from the start of the file.
func sniff(b []byte) (Format, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("01,")):
		return BAI2, true
	case bytes.HasPrefix(b, []byte("<")):
		if bytes.Contains(b, []byte(camtNamespace)) {
			return Camt053, true
		}
	case bytes.HasPrefix(b, []byte("{1:")), bytes.HasPrefix(b, []byte("{4:")),
		bytes.HasPrefix(b, []byte(":20:")), bytes.HasPrefix(b, []byte(":940:")):
		return MT940, true
	}
	return "", false
}
