package provider

import (
	"context"
	"time"
)

// Store keeps provider records: each import (one export file) in one
// transaction, records numbered by their repeats within a file, and the raw
// rows they were read from.
type Store interface {
	// Import stores the records that fn feeds to the sink, in one
	// transaction: if fn returns an error nothing is stored. A file whose
	// SHA-256 was imported before is skipped (ImportStats.AlreadyLoaded)
	// without calling fn.
	Import(ctx context.Context, f ImportFile, fn func(Sink) error) (ImportStats, error)
	// EachRecord streams stored records ordered by created, then id.
	EachRecord(ctx context.Context, f RecordFilter, fn func(*Record) error) error
	// Record returns the first stored occurrence of a record, or an error
	// that wraps ledger.ErrNotFound.
	Record(ctx context.Context, provider string, grain Grain, id string) (*Record, error)
	// RecordGrains lists the (provider, grain) pairs that have records.
	RecordGrains(ctx context.Context) ([][2]string, error)
	// RecordsSince describes the records of a provider and grain stored
	// after the record with store id afterID (ids grow with every import).
	RecordsSince(ctx context.Context, provider string, grain Grain, afterID int64) (RecordsAfter, error)
	// RecordSpan returns the earliest and the latest created of the
	// records of a provider and grain, both zero when it has none: a seek
	// at each end of the time index, however many records there are.
	RecordSpan(ctx context.Context, provider string, grain Grain) (first, last time.Time, err error)
}

// ImportFile describes one provider export being imported.
type ImportFile struct {
	File   string
	SHA256 string
	Format string // "" takes the format of the first record
}

// ImportStats says what an import did.
type ImportStats struct {
	ImportID      int64
	Records       int // records read, good and quarantined
	Added         int // new records stored
	Updated       int // records seen before whose fields changed (a newer export)
	Quarantined   int // bad rows kept aside (skip-invalid)
	AlreadyLoaded bool
}

// Quarantined is a bad row kept aside by an import with skip-invalid.
type Quarantined struct {
	Line    int
	Problem string
	Raw     string
}

// Sink receives the records of one import.
//
// Its Write takes the file's bytes, which the caller passes on in order
// from the first byte (io.TeeReader does it), so the store can keep the
// file once. A record whose Raw is the file's bytes at its Offset then
// keeps only where they are; any other keeps its Raw itself, so a caller
// that does not pass the file on loses nothing.
//
// Add must not keep r once it returns: the caller fills the same record
// again for the next one (importers.Options.ReuseRecord). Its fields'
// values may be kept.
type Sink interface {
	Add(r *Record) error
	Quarantine(q Quarantined) error
	Write(p []byte) (int, error)
}

// RecordFilter selects provider records. Zero fields do not filter.
type RecordFilter struct {
	ImportID int64
	RecordID string
	Provider string
	Grain    Grain
	From, To time.Time // created in [From, To)
	NoRaw    bool      // leave Raw empty (reconciliation does not need it)
}

// RecordsAfter describes the records of a provider and grain stored after
// a given record: how many, the range of their created times, and the
// newest store id.
type RecordsAfter struct {
	Count                  int
	MinCreated, MaxCreated time.Time
	MaxID                  int64
}
