package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/ledger/sqlite"
)

// ErrRejected marks a file that was not imported because of bad rows; the
// problems come with it.
var ErrRejected = errors.New("file rejected")

// ImportOptions configure ImportFile.
type ImportOptions struct {
	Format      string // "" detects it
	Provider    string // refuse files of another provider
	SkipInvalid bool   // quarantine bad rows instead of rejecting the file
	Readers     *importers.Options
	// Wrap, if set, wraps the file's reader (for a progress bar).
	Wrap func(r io.Reader, size int64) io.Reader
}

// ImportFile streams one provider export into the store in one
// transaction. Without SkipInvalid a file with any bad row stores nothing and
// ErrRejected is returned with every problem; with it the bad rows are
// quarantined. A file whose content was imported before adds nothing.
func ImportFile(ctx context.Context, st *sqlite.Store, path string, opts ImportOptions) (sqlite.ImportStats, []error, error) {
	sum, size, err := fileDigest(path)
	if err != nil {
		return sqlite.ImportStats{}, nil, err
	}
	var problems []error
	stats, err := st.Import(ctx, sqlite.ImportFile{File: path, SHA256: sum, Format: opts.Format}, func(sink sqlite.RecordSink) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		// The store keeps the file's bytes as they are read, once; the
		// records then point into them rather than carry their raw rows.
		r := io.TeeReader(f, sink)
		if opts.Wrap != nil {
			r = opts.Wrap(r, size)
		}
		var rd importers.Reader
		format := opts.Format
		if format != "" {
			rd, err = importers.NewReader(format, path, r, opts.Readers)
		} else {
			rd, format, err = importers.Open(path, r, opts.Readers)
		}
		if err != nil {
			return err
		}
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				break
			}
			var pe *importers.ParseError
			if errors.As(err, &pe) {
				problems = append(problems, err)
				if opts.SkipInvalid && pe.Line > 0 {
					if err := sink.Quarantine(sqlite.Quarantined{Line: pe.Line, Problem: err.Error()}); err != nil {
						return err
					}
				}
				continue
			}
			if err != nil {
				return err
			}
			if opts.Provider != "" && rec.Provider != opts.Provider {
				return fmt.Errorf("%w: %s is a %s export (%s), not %s", ledger.ErrInvalidRequest, path, rec.Provider, format, opts.Provider)
			}
			if len(problems) == 0 || opts.SkipInvalid {
				if err := sink.Add(rec); err != nil {
					return err
				}
			}
		}
		if len(problems) > 0 && !opts.SkipInvalid {
			return ErrRejected
		}
		return nil
	})
	return stats, problems, err
}

// fileDigest returns a file's SHA-256 and size.
func fileDigest(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Ingested is what happened to one inbox file.
type Ingested struct {
	File   string // its name in the inbox
	Moved  string // where it went: processed/… or rejected/…
	Stats  sqlite.ImportStats
	Reason string // why it was rejected
}

// Ingest imports every file in inbox (sorted by name; hidden files and
// folders skipped) and moves each to inbox/processed or, with a
// NAME.reason.txt beside it, to inbox/rejected.
func Ingest(ctx context.Context, st *sqlite.Store, inbox string, readers *importers.Options) ([]Ingested, error) {
	entries, err := os.ReadDir(inbox)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []Ingested
	for _, name := range names {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		path := filepath.Join(inbox, name)
		stats, problems, err := ImportFile(ctx, st, path, ImportOptions{Readers: readers})
		got := Ingested{File: name, Stats: stats}
		if err != nil {
			var lines []string
			for _, p := range problems {
				lines = append(lines, p.Error())
			}
			if !errors.Is(err, ErrRejected) {
				lines = append(lines, err.Error())
			}
			got.Reason = strings.Join(lines, "\n")
			if got.Moved, err = moveTo(inbox, "rejected", name); err != nil {
				return out, err
			}
			if err := os.WriteFile(filepath.Join(inbox, "rejected", name+".reason.txt"), []byte(got.Reason+"\n"), 0o644); err != nil {
				return out, err
			}
		} else if got.Moved, err = moveTo(inbox, "processed", name); err != nil {
			return out, err
		}
		out = append(out, got)
	}
	return out, nil
}

// moveTo moves inbox/name into inbox/sub, not overwriting an earlier file
// of the same name.
func moveTo(inbox, sub, name string) (string, error) {
	dir := filepath.Join(inbox, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dest := filepath.Join(dir, name)
	for i := 1; ; i++ {
		if _, err := os.Stat(dest); errors.Is(err, os.ErrNotExist) {
			break
		}
		dest = filepath.Join(dir, fmt.Sprintf("%s.%d", name, i))
	}
	return dest, os.Rename(filepath.Join(inbox, name), dest)
}
