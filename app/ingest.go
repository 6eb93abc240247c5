package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/settlehq/settle/bank"
	"github.com/settlehq/settle/importers"
	"github.com/settlehq/settle/ledger"
	"github.com/settlehq/settle/provider"
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

// ImportFile imports a provider export from a file (see Import); it opens
// the file once.
func ImportFile(ctx context.Context, st provider.Store, path string, opts ImportOptions) (provider.ImportStats, []error, error) {
	f, err := os.Open(path)
	if err != nil {
		return provider.ImportStats{}, nil, err
	}
	defer f.Close()
	return Import(ctx, st, path, f, opts)
}

// Import streams one provider export, named name in errors and in the
// store, into the store in one transaction. Without SkipInvalid a file with
// any bad row stores nothing and ErrRejected is returned with every
// problem; with it the bad rows are quarantined. A file whose content was
// imported before adds nothing. r is read twice: once for its SHA-256 (the
// store skips a file it has), then, from the start again, to import it.
func Import(ctx context.Context, st provider.Store, name string, r io.ReadSeeker, opts ImportOptions) (provider.ImportStats, []error, error) {
	h := sha256.New()
	size, err := io.Copy(h, r)
	if err != nil {
		return provider.ImportStats{}, nil, fmt.Errorf("reading %s: %w", name, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	var problems []error
	stats, err := st.Import(ctx, provider.ImportFile{File: name, SHA256: sum, Format: opts.Format}, func(sink provider.Sink) error {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return err
		}
		// The store keeps the file's bytes as they are read, once; the
		// records then point into them rather than carry their raw rows.
		in := io.TeeReader(r, sink)
		if opts.Wrap != nil {
			in = opts.Wrap(in, size)
		}
		// One record is filled row after row: the sink keeps what it
		// needs of each as it is added (provider.Sink).
		var ropts importers.Options
		if opts.Readers != nil {
			ropts = *opts.Readers
		}
		ropts.ReuseRecord = true
		var rd importers.Reader
		var err error
		format := opts.Format
		if format != "" {
			rd, err = importers.NewReader(format, name, in, &ropts)
		} else {
			rd, format, err = importers.Open(name, in, &ropts)
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
					if err := sink.Quarantine(provider.Quarantined{Line: pe.Line, Problem: err.Error()}); err != nil {
						return err
					}
				}
				continue
			}
			if err != nil {
				return err
			}
			if opts.Provider != "" && rec.Provider != opts.Provider {
				return fmt.Errorf("%w: %s is a %s export (%s), not %s", ledger.ErrInvalidRequest, name, rec.Provider, format, opts.Provider)
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

// Ingested is what happened to one inbox file.
type Ingested struct {
	File  string // its name in the inbox
	Moved string // where it went: processed/… or rejected/…; "" if it stayed
	Stats provider.ImportStats
	// Bank is what a bank statement's import stored (Stats is then zero).
	Bank bank.ImportStats
	// Reason is why it was rejected, or why it stayed in the inbox.
	Reason string
	// Took is how long the file took, from reading it to moving it.
	Took time.Duration
}

// Ingest imports every regular file in inbox (sorted by name; hidden files
// and folders are left alone) and moves each to inbox/processed or, with
// NAME.reason.txt beside it, to inbox/rejected. Symbolic links and other
// special files are rejected unread: Ingest never follows a link out of the
// inbox. Names are kept unique (NAME.1, NAME.1.reason.txt) and short enough
// for the file system, and a file that cannot be moved stays in the inbox
// with its reason: one file never stops the others.
//
// Ingest fails only when it cannot work at all: the inbox cannot be read,
// processed/ or rejected/ is not a folder inside the inbox (a symbolic link
// would send files elsewhere), the database stayed locked past its lock
// timeout, or ctx ended; the file being imported then stays in the inbox.
func Ingest(ctx context.Context, st Store, inbox string, readers *importers.Options) ([]Ingested, error) {
	for _, sub := range []string{processedDir, rejectedDir} {
		if err := checkSubdir(inbox, sub); err != nil {
			return nil, err
		}
	}
	entries, err := os.ReadDir(inbox)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	mode := fileMode(st)
	var out []Ingested
	for _, name := range names {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		path := filepath.Join(inbox, name)
		got := Ingested{File: name}
		start := time.Now()
		fi, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // taken away meanwhile
		case err != nil:
			got.Reason = err.Error()
		case !fi.Mode().IsRegular():
			got.Reason = fmt.Sprintf("%s: not a regular file (%s); settle imports only files placed in the inbox and never follows links out of it",
				path, kindOf(fi.Mode()))
		default:
			var problems []error
			var stmt bool
			if stmt, err = ingestStatement(ctx, st, path, &got); !stmt && err == nil {
				got.Stats, problems, err = ImportFile(ctx, st, path, ImportOptions{Readers: readers})
			}
			if errors.Is(err, ledger.ErrLockTimeout) || err != nil && ctx.Err() != nil {
				return out, err
			}
			if err != nil {
				var lines []string
				for _, p := range problems {
					lines = append(lines, p.Error())
				}
				if !errors.Is(err, ErrRejected) {
					lines = append(lines, err.Error())
				}
				got.Reason = strings.Join(lines, "\n")
			}
		}
		if got.Reason == "" {
			if got.Moved, err = moveTo(inbox, processedDir, name, mode); err != nil {
				got.Reason = fmt.Sprintf("imported, but left in the inbox: %v", err)
			}
		} else {
			got.Moved, err = reject(inbox, name, got.Reason, mode)
			if err != nil {
				got.Reason += fmt.Sprintf("\n(left in the inbox: %v)", err)
			}
		}
		got.Took = time.Since(start)
		out = append(out, got)
	}
	return out, nil
}

// The inbox's subfolders.
const (
	processedDir = "processed"
	rejectedDir  = "rejected"
)

// nameMax is the longest file name, in bytes, of the usual file systems.
const nameMax = 255

// checkSubdir refuses an inbox subfolder that is not a folder of its own,
// such as a symbolic link to a folder elsewhere.
func checkSubdir(inbox, sub string) error {
	fi, err := os.Lstat(filepath.Join(inbox, sub))
	if errors.Is(err, fs.ErrNotExist) || err == nil && fi.IsDir() {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%s is %s, not a folder: settle moves inbox files only into folders inside the inbox; replace it with a folder",
		filepath.Join(inbox, sub), kindOf(fi.Mode()))
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a folder"
	case m.IsRegular():
		return "a file"
	}
	return "a special file"
}

// DirMode is the permission of folders holding files of mode m: the same
// readers, who may also list them.
func DirMode(m fs.FileMode) fs.FileMode { return m | (m&0o444)>>2 }

// fitName returns name+suffix, shortening name (keeping its start and
// adding a hash of it) when the result would be too long for a file name.
func fitName(name, suffix string) string {
	if len(name)+len(suffix) <= nameMax {
		return name + suffix
	}
	sum := sha256.Sum256([]byte(name))
	tag := "~" + hex.EncodeToString(sum[:4])
	cut := max(nameMax-len(suffix)-len(tag), 0)
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + tag + suffix
}

// freeName returns the first of NAME, NAME.1, NAME.2, … (each fitted to the
// file system) for which neither dir/NAME nor, if withReason, its
// NAME.reason.txt exists.
func freeName(dir, name string, withReason bool) (string, error) {
	for i := 0; ; i++ {
		cand := fitName(name, "")
		if i > 0 {
			cand = fitName(name, "."+strconv.Itoa(i))
		}
		free, err := absent(filepath.Join(dir, cand))
		if err == nil && free && withReason {
			free, err = absent(filepath.Join(dir, fitName(cand, reasonSuffix)))
		}
		if err != nil || free {
			return cand, err
		}
	}
}

const reasonSuffix = ".reason.txt"

func absent(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return false, err
}

// moveTo moves inbox/name into inbox/sub under a name no earlier file has,
// and returns where it went.
func moveTo(inbox, sub, name string, mode fs.FileMode) (string, error) {
	dir := filepath.Join(inbox, sub)
	if err := mkdirIn(dir, mode); err != nil {
		return "", err
	}
	dest, err := freeName(dir, name, false)
	if err != nil {
		return "", err
	}
	dest = filepath.Join(dir, dest)
	return dest, os.Rename(filepath.Join(inbox, name), dest)
}

// reject moves inbox/name into inbox/rejected and writes reason beside it
// (NAME.reason.txt, both names unique and fitted to the file system).
func reject(inbox, name, reason string, mode fs.FileMode) (string, error) {
	dir := filepath.Join(inbox, rejectedDir)
	if err := mkdirIn(dir, mode); err != nil {
		return "", err
	}
	base, err := freeName(dir, name, true)
	if err != nil {
		return "", err
	}
	if base != name {
		reason = fmt.Sprintf("(%s in the inbox)\n%s", name, reason)
	}
	f, err := os.OpenFile(filepath.Join(dir, fitName(base, reasonSuffix)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return "", err
	}
	_, err = io.WriteString(f, reason+"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	dest := filepath.Join(dir, base)
	return dest, os.Rename(filepath.Join(inbox, name), dest)
}

// mkdirIn makes dir unless it exists; checkSubdir has made sure it is no
// link.
func mkdirIn(dir string, mode fs.FileMode) error {
	err := os.Mkdir(dir, DirMode(mode))
	if errors.Is(err, fs.ErrExist) {
		return checkSubdir(filepath.Dir(dir), filepath.Base(dir))
	}
	return err
}

// newRunDir makes a new folder in parent for one run's files, named name,
// or name-2, name-3, … if a run already wrote name, so that two runs never
// write into one folder.
func newRunDir(parent, name string, mode fs.FileMode) (string, error) {
	if err := os.MkdirAll(parent, DirMode(mode)); err != nil {
		return "", err
	}
	for i := 1; ; i++ {
		dir := filepath.Join(parent, name)
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", dir, i)
		}
		err := os.Mkdir(dir, DirMode(mode))
		if !errors.Is(err, fs.ErrExist) {
			return dir, err
		}
	}
}
