package sqlite

import (
	"fmt"
	"testing"
)

// A "-- when empty: TABLE" line right after a migration's marker makes the
// migration conditional on that table; anywhere else it is a comment; a
// name that is not a plain table name is refused with its line.
func TestParseMigrationsWhenEmpty(t *testing.T) {
	migs, err := parseMigrations("-- migration: 1\nCREATE TABLE a (x);\n-- migration: 2\n-- when empty: a\nDROP TABLE a;\n-- when empty: b\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) != 2 || migs[0].WhenEmpty != "" || migs[1].WhenEmpty != "a" {
		t.Errorf("parsed %+v, want migration 2 alone conditional on a", migs)
	}
	for _, bad := range []string{"a; DROP TABLE b", "", `"a"`} {
		_, err := parseMigrations("-- migration: 1\n-- when empty: " + bad + "\nSELECT 1;\n")
		if want := fmt.Sprintf("schema.sql:2: bad table name %q", bad); err == nil || err.Error() != want {
			t.Errorf("when empty %q: %v", bad, err)
		}
	}
	// The schema's own: migration 19 only.
	migs, err = Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migs {
		if want := map[int]string{19: "entries"}[m.Version]; m.WhenEmpty != want {
			t.Errorf("migration %d: when empty %q, want %q", m.Version, m.WhenEmpty, want)
		}
	}
}
