package sqlite

import (
	"context"
	"strings"
)

// The entries' key index while a transaction writes into an empty table.
//
// Every entry's key goes into the index that keeps the keys unique
// (entries_key, migration 19). A provider's keys are random (evt_1Nx…), so
// each insert lands at a random place of an index that, at a month of a
// million payments (2.26 million entries), no longer fits SQLite's page
// cache: the index took half of the time SQLite spent writing the entries,
// about 8 s of the writer's 35, where building it from the finished table
// takes 1.8 s (BENCHMARKS.md, thirty-eighth and thirty-ninth rounds).
//
// A write transaction that finds the entries table empty (a new database,
// a first month) knows every key stored is one it wrote itself (fresh.go),
// and so knows an entry's key to be new without the index. It drops the
// index when it first inserts an entry whose key it knows new, inserts
// those without an ON CONFLICT clause, and builds the index again, sorted,
// before any statement that may need it (one that names the entries and
// their key: a lookup by key, an insert that skips a stored key) and before
// it commits, as dropindex.go does for any index so dropped.
//
// A database whose entries table predates migration 19 and was not empty
// then keeps the keys unique by the column's own constraint, whose index
// SQLite cannot drop; its table is never empty again, so nothing is lost.

// entryKeyIndex is the index that keeps the entries' keys unique.
const entryKeyIndex = "entries_key"

// dropEntryKey drops the entries' key index, once a transaction, if the
// transaction found the entries table empty. The caller is about to insert
// an entry whose key it knows new.
func (t *tx) dropEntryKey(ctx context.Context) error {
	if !t.freshEntries.checked || !t.freshEntries.empty {
		return nil
	}
	return t.dropIndexFor(ctx, &t.entryKey, entryKeyIndex)
}

// knownNewEntriesSQL is insert, an insert of entries whose keys are known
// new, as it runs now: without onKeyConflict, which needs the key's index,
// while that is dropped.
func (t *tx) knownNewEntriesSQL(insert string) string {
	if t.entryKey.gone {
		return trimKeyConflict(insert)
	}
	return insert
}

// trimKeyConflict is an insert of entries without onKeyConflict.
func trimKeyConflict(insert string) string { return strings.TrimSuffix(insert, onKeyConflict) }

// knownNewEntryRows is InsertEntry's statement for an entry whose key is
// known new, as knownNewEntriesSQL has it now.
func (t *tx) knownNewEntryRows() *rowStmt {
	if t.entryKey.gone {
		return entryRowsNoKey
	}
	return entryRows
}

// entryKeyNeeded reports whether query must wait for the entries' key
// index to be built again: the index is dropped and the statement needs it
// (needsEntryKey). The answer is remembered for each statement, up to
// maxKeyNeeds of them: a feed hands over a few dozen statements a million
// times over, and reading each again took 0.7 s of booking's time at a
// million payments (BENCHMARKS.md, fortieth round's review).
func (t *tx) entryKeyNeeded(query string) bool {
	if !t.entryKey.gone {
		return false
	}
	need, known := t.entryKeyNeeds[query]
	if !known {
		need = needsEntryKey(query)
		if t.entryKeyNeeds == nil {
			t.entryKeyNeeds = map[string]bool{}
		}
		if len(t.entryKeyNeeds) < maxKeyNeeds {
			t.entryKeyNeeds[query] = need
		}
	}
	return need
}

// maxKeyNeeds is how many statements entryKeyNeeded remembers.
const maxKeyNeeds = 256

// needsEntryKey reports whether query needs the entries' key index: it
// names the entries table, and either inserts with ON CONFLICT (key), which
// SQLite refuses without a unique index on the key, or compares an entry's
// key (key = ?, e.key IN (…)), which without the index reads every entry.
// A statement that only reads the key column (an entry read by its id)
// does not: building the index then would end the drop early for
// nothing. Missing a comparison costs a slow read, not a wrong answer.
func needsEntryKey(query string) bool {
	if !namesEntries(query) {
		return false
	}
	return strings.Contains(query, onKeyConflict) || comparesKey(query)
}

// comparesKey reports whether query has the word key followed by a
// comparison: =, <, >, !, or IN, LIKE, GLOB, BETWEEN, IS.
func comparesKey(query string) bool {
	for i := 0; ; {
		j := strings.Index(query[i:], "key")
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len("key")
		i = end
		if start > 0 && wordByte(query[start-1]) || end < len(query) && wordByte(query[end]) {
			continue
		}
		rest := strings.TrimLeft(query[end:], " \t\n")
		if rest != "" && strings.ContainsRune("=<>!", rune(rest[0])) {
			return true
		}
		for _, op := range []string{"IN", "LIKE", "GLOB", "BETWEEN", "IS"} {
			if strings.HasPrefix(rest, op) && (len(rest) == len(op) || !wordByte(rest[len(op)])) {
				return true
			}
		}
	}
}

// namesEntries reports whether query has the word entries, as a name of
// its own (not request_entries, not an index's name such as
// entries_occurred_at).
func namesEntries(query string) bool { return namesTable(query, "entries") }

// namesTable reports whether query has the word name, as a name of its own.
func namesTable(query, name string) bool {
	for i := 0; ; {
		j := strings.Index(query[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || !wordByte(query[start-1])) && (end == len(query) || !wordByte(query[end])) {
			return true
		}
		i = end
	}
}

// wordByte reports whether c can be part of an SQL name.
func wordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
