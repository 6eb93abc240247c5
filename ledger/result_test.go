package ledger_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/settlehq/settle/ledger"
)

// Stored results are read with the dictionary they were compressed with:
// changing it would make every stored result unreadable.
func TestResultDictionaryIsFrozen(t *testing.T) {
	b, err := os.ReadFile("result_dict_v1.txt")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != "314e0282454d9f2f025ebfe8059e4f465d5a5ab1bbbf84845e22225a5c6ed4eb" {
		t.Fatalf("result_dict_v1.txt changed (sha256 %s): add a new dictionary under a new id instead", got)
	}
}

// A result is stored in the binary form, far smaller than its JSON; a
// replay returns it whole; and results stored in the earlier forms, plain
// JSON and JSON compressed with zstd against the version 1 dictionary,
// still replay.
func TestStoredResultsReplayInEveryForm(t *testing.T) {
	e := newEnv(t, nil)
	req := ledger.CaptureRequest{Key: "cap-1", PaymentID: "pay_1", Provider: "stripe", ProviderRef: "ch_1", Currency: "usd",
		Amount: dec("78.97"), Fees: []ledger.Fee{{Type: "stripe_fee", Amount: dec("2.59")}}, At: t0,
		Description: "Order 1", Metadata: map[string]string{"order": "1"}}
	first := must(e.l.Capture(e.ctx, req)).ok(t)
	db, err := sql.Open("sqlite3", "file:"+e.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored []byte
	// The SQLite store keeps a request that booked an entry under its own
	// key by that entry's id (request_entries), any other by its key.
	if err := db.QueryRow(`SELECT result FROM requests WHERE key = 'cap-1' UNION ALL
		SELECT q.result FROM request_entries q JOIN entries e ON e.id = q.entry_id WHERE e.key = 'cap-1'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) == 0 || stored[0] != 2 || len(stored)*3 > len(js) {
		t.Errorf("stored %d bytes (first byte %q) for %d bytes of JSON: not the binary form", len(stored), stored[:1], len(js))
	}
	again := must(e.l.Capture(e.ctx, req)).ok(t)
	if !again.Replayed {
		t.Fatal("not a replay")
	}
	again.Replayed = false
	if !reflect.DeepEqual(again, first) {
		t.Errorf("replay\n%+v\nwant\n%+v", again, first)
	}

	// As databases written before hold it: plain JSON, then JSON
	// compressed against the version 1 dictionary.
	dict, err := os.ReadFile("result_dict_v1.txt")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDictRaw(1, dict))
	if err != nil {
		t.Fatal(err)
	}
	v1 := enc.EncodeAll(js, nil)
	rw, err := sql.Open("sqlite3", "file:"+e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	for _, c := range []struct {
		form   string
		stored []byte
	}{{"plain JSON", js}, {"version 1 (zstd)", v1}} {
		res, err := rw.Exec(`UPDATE request_entries SET result = ? WHERE entry_id = (SELECT id FROM entries WHERE key = 'cap-1')`, c.stored)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("the stored result rewritten in %d rows (%v), want 1", n, err)
		}
		old := must(e.l.Capture(e.ctx, req)).ok(t)
		old.Replayed = false
		if !reflect.DeepEqual(old, first) {
			t.Errorf("replay of a result stored as %s\n%+v\nwant\n%+v", c.form, old, first)
		}
	}
}
