package bank

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/settlehq/settle/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// formatDirs maps each format to its folder of samples under testdata.
var formatDirs = map[Format]string{BAI2: "bai2", Camt053: "camt053", MT940: "mt940"}

// sample is one statement file of our own under testdata/<format>/.
type sample struct {
	format Format
	path   string
}

func samples(t testing.TB) []sample {
	t.Helper()
	var out []sample
	for _, format := range Formats() {
		dir := filepath.Join("testdata", formatDirs[format])
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("samples for %s: %v", format, err)
		}
		n := 0
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), ".golden.json") {
				continue
			}
			out = append(out, sample{format: format, path: filepath.Join(dir, e.Name())})
			n++
		}
		if n < 2 {
			t.Fatalf("%s has %d samples; want at least 2", dir, n)
		}
	}
	return out
}

// readSample reads a sample through detection, as a user's import would.
func readSample(t testing.TB, s sample) ([]byte, []*Statement) {
	t.Helper()
	data, err := os.ReadFile(s.path)
	if err != nil {
		t.Fatal(err)
	}
	format, err := Detect(s.path, data)
	if err != nil || format != s.format {
		t.Fatalf("Detect = %q, %v; want %q", format, err, s.format)
	}
	sts, err := ReadAll(bytes.NewReader(data), &Options{File: filepath.ToSlash(strings.TrimPrefix(s.path, "testdata/"))})
	if err != nil {
		t.Fatalf("sample is refused:\n%v", err)
	}
	return data, sts
}

type goldenFile struct {
	Format     Format       `json:"format"`
	Statements []*Statement `json:"statements"`
}

func TestGolden(t *testing.T) {
	for _, s := range samples(t) {
		t.Run(s.path, func(t *testing.T) {
			_, sts := readSample(t, s)
			got, err := json.MarshalIndent(goldenFile{Format: s.format, Statements: sts}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden.Check(t, strings.TrimSuffix(s.path, filepath.Ext(s.path))+".golden.json", got, *update, "./bank")
		})
	}
}

// TestSamplesCover checks that the samples show what the readers must
// handle: several statements in a file, both signs, and lines whose text
// runs over several lines of the file.
func TestSamplesCover(t *testing.T) {
	for _, format := range Formats() {
		var files, multi, credits, debits, multiline int
		for _, s := range samples(t) {
			if s.format != format {
				continue
			}
			files++
			_, sts := readSample(t, s)
			if len(sts) > 1 {
				multi++
			}
			for _, st := range sts {
				for _, l := range st.Lines {
					switch {
					case l.Amount > 0:
						credits++
					case l.Amount < 0:
						debits++
					}
					if strings.Contains(l.Remittance, "\n") {
						multiline++
					}
				}
			}
		}
		if multi == 0 || credits == 0 || debits == 0 || multiline == 0 {
			t.Errorf("%s samples: %d multi-statement files, %d credits, %d debits, %d multi-line texts; want each > 0", format, multi, credits, debits, multiline)
		}
	}
}

// TestRawAndLines checks that every statement and line points back at its
// source: Raw is the file's bytes at Offset, and Line is the line where
// they begin.
func TestRawAndLines(t *testing.T) {
	for _, s := range samples(t) {
		data, sts := readSample(t, s)
		lines := strings.SplitAfter(string(data), "\n")
		lineStart := make([]int64, len(lines)+1)
		for i, l := range lines {
			lineStart[i+1] = lineStart[i] + int64(len(l))
		}
		for _, st := range sts {
			if st.Line < 1 || st.Line > len(lines) || st.File == "" {
				t.Errorf("%s: statement %s: line %d, file %q", s.path, st.ID, st.Line, st.File)
			}
			for _, l := range st.Lines {
				end := l.Offset + int64(len(l.Raw))
				if l.Raw == "" || l.Offset < 0 || end > int64(len(data)) || string(data[l.Offset:end]) != l.Raw {
					t.Errorf("%s: line %d: Raw %q is not the file's bytes at offset %d", s.path, l.Line, l.Raw, l.Offset)
					continue
				}
				if l.Line < 1 || l.Line > len(lines) || l.Offset < lineStart[l.Line-1] || l.Offset >= lineStart[l.Line] {
					t.Errorf("%s: Raw at offset %d is not on line %d", s.path, l.Offset, l.Line)
				}
			}
		}
	}
}
