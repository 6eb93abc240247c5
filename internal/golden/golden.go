// Package golden compares a test's output with a golden file kept under
// testdata, or rewrites the file when the test runs with -update. Each
// test package declares its own -update flag and passes its value.
package golden

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Check compares got with the golden file at path. With update it writes
// got there instead (creating the folder), for the change to be reviewed in
// the diff. pkg names the package in the hint to run it again, as in
// "go test ./reports -update".
func Check(t testing.TB, path string, got []byte, update bool, pkg string) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test %s -update to create it)", err, pkg)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test %s -update and review the diff)\n--- got:\n%s\n--- want:\n%s", path, pkg, got, want)
	}
}
