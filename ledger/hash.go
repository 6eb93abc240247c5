package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sort"
)

// entryHash is a canonical hash of an entry request, for idempotency. It is
// written field by field rather than through JSON because bulk loads hash
// every entry.
func entryHash(in *EntryInput) string {
	h := sha256.New()
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	num := func(v int64) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	str("entry/v1")
	str(in.Key)
	if in.OccurredAt.IsZero() {
		num(0)
	} else {
		num(in.OccurredAt.UnixNano())
	}
	str(in.Description)
	writeMap(h, str, in.Metadata)
	str(in.Source.Provider)
	str(in.Source.Type)
	str(in.Source.ID)
	str(in.Source.Ref)
	if in.Pending {
		num(1)
	} else {
		num(0)
	}
	if in.ExpiresAt.IsZero() {
		num(0)
	} else {
		num(in.ExpiresAt.UnixNano())
	}
	num(int64(len(in.Postings)))
	for _, p := range in.Postings {
		str(p.Account)
		str(p.Currency)
		str(p.Amount.String())
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeMap(h hash.Hash, str func(string), m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	str(string(rune(len(keys))))
	for _, k := range keys {
		str(k)
		str(m[k])
	}
}
