-- settle schema. Each "-- migration: N" section is applied once, in order,
-- and recorded in schema_migrations. Never edit an applied section: append a
-- new one. Amounts are integer minor units; times are Unix nanoseconds UTC.

-- migration: 1
CREATE TABLE accounts (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    type     TEXT NOT NULL CHECK (type IN ('asset', 'liability', 'equity', 'income', 'expense')),
    metadata TEXT
);

CREATE TABLE entries (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    hash            TEXT NOT NULL DEFAULT '',
    phase           TEXT NOT NULL CHECK (phase IN ('posted', 'pending')),
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    metadata        TEXT,
    source_provider TEXT NOT NULL DEFAULT '',
    source_type     TEXT NOT NULL DEFAULT '',
    source_id       TEXT NOT NULL DEFAULT '',
    source_ref      TEXT NOT NULL DEFAULT '',
    reverses        INTEGER REFERENCES entries (id),
    pending_of      INTEGER REFERENCES entries (id),
    expires_at      INTEGER,
    resolution      TEXT NOT NULL DEFAULT '',
    resolved_by     INTEGER
);
CREATE INDEX entries_occurred_at ON entries (occurred_at);
CREATE INDEX entries_unresolved ON entries (phase, resolution) WHERE phase = 'pending' AND resolution = '';
CREATE INDEX entries_reverses ON entries (reverses) WHERE reverses IS NOT NULL;

CREATE TABLE postings (
    entry_id   INTEGER NOT NULL REFERENCES entries (id),
    seq        INTEGER NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    currency   TEXT NOT NULL,
    amount     INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount <> 0),
    PRIMARY KEY (entry_id, seq)
) WITHOUT ROWID;
CREATE INDEX postings_account ON postings (account_id, currency);

-- Maintained in the same transaction as the postings. The typeof checks
-- turn SQLite's silent integer-to-real overflow into an error.
CREATE TABLE balances (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    currency   TEXT NOT NULL,
    posted     INTEGER NOT NULL DEFAULT 0 CHECK (typeof(posted) = 'integer'),
    pending    INTEGER NOT NULL DEFAULT 0 CHECK (typeof(pending) = 'integer'),
    PRIMARY KEY (account_id, currency)
) WITHOUT ROWID;

CREATE TABLE payments (
    id               TEXT PRIMARY KEY,
    provider         TEXT NOT NULL,
    provider_ref     TEXT NOT NULL DEFAULT '',
    currency         TEXT NOT NULL,
    customer         TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    metadata         TEXT,
    capture_method   TEXT NOT NULL,
    status           TEXT NOT NULL,
    authorized       INTEGER NOT NULL,
    captured         INTEGER NOT NULL DEFAULT 0,
    refunded         INTEGER NOT NULL DEFAULT 0,
    disputed         INTEGER NOT NULL DEFAULT 0,
    fees             INTEGER NOT NULL DEFAULT 0,
    pending_entry_id INTEGER REFERENCES entries (id),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX payments_provider_ref ON payments (provider, provider_ref);

CREATE TABLE refunds (
    id           TEXT PRIMARY KEY,
    payment_id   TEXT NOT NULL REFERENCES payments (id),
    provider_ref TEXT NOT NULL DEFAULT '',
    amount       INTEGER NOT NULL,
    fee_refund   INTEGER NOT NULL DEFAULT 0,
    currency     TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    entry_id     INTEGER NOT NULL REFERENCES entries (id),
    created_at   INTEGER NOT NULL
);
CREATE INDEX refunds_payment ON refunds (payment_id);

CREATE TABLE disputes (
    id           TEXT PRIMARY KEY,
    payment_id   TEXT NOT NULL REFERENCES payments (id),
    provider     TEXT NOT NULL,
    provider_ref TEXT NOT NULL DEFAULT '',
    amount       INTEGER NOT NULL,
    fee          INTEGER NOT NULL DEFAULT 0,
    fee_refund   INTEGER NOT NULL DEFAULT 0,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE payouts (
    id           TEXT PRIMARY KEY,
    provider     TEXT NOT NULL,
    provider_ref TEXT NOT NULL DEFAULT '',
    amount       INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL,
    arrival_date INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE balance_transactions (
    id                 TEXT PRIMARY KEY,
    provider           TEXT NOT NULL,
    entry_id           INTEGER NOT NULL REFERENCES entries (id),
    type               TEXT NOT NULL,
    reporting_category TEXT NOT NULL,
    source_type        TEXT NOT NULL DEFAULT '',
    source_id          TEXT NOT NULL DEFAULT '',
    source_ref         TEXT NOT NULL DEFAULT '',
    payment_id         TEXT NOT NULL DEFAULT '',
    amount             INTEGER NOT NULL,
    fee                INTEGER NOT NULL,
    net                INTEGER NOT NULL,
    fee_details        TEXT,
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    created            INTEGER NOT NULL,
    available_on       INTEGER NOT NULL,
    payout_id          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bt_provider_created ON balance_transactions (provider, created);
CREATE INDEX bt_pending ON balance_transactions (status, available_on) WHERE status = 'pending';
CREATE INDEX bt_payout ON balance_transactions (payout_id) WHERE payout_id <> '';
CREATE INDEX bt_corrections ON balance_transactions (provider, source_id) WHERE source_type = 'correction';

CREATE TABLE requests (
    key        TEXT PRIMARY KEY,
    operation  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    result     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- migration: 2
-- Provider records: normalized rows of provider exports. occurrence counts
-- repeats of one record id within one file, so a duplicated export row is
-- kept (and reported by reconciliation) while the same record in another,
-- overlapping export updates the first.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    file        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    format      TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    records     INTEGER NOT NULL DEFAULT 0,
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX imports_sha256 ON imports (sha256);

CREATE TABLE provider_records (
    id                 INTEGER PRIMARY KEY,
    provider           TEXT NOT NULL,
    grain              TEXT NOT NULL,
    record_id          TEXT NOT NULL,
    occurrence         INTEGER NOT NULL,
    format             TEXT NOT NULL,
    type               TEXT NOT NULL DEFAULT '',
    reporting_category TEXT NOT NULL DEFAULT '',
    source_ref         TEXT NOT NULL DEFAULT '',
    payment_ref        TEXT NOT NULL DEFAULT '',
    currency           TEXT NOT NULL,
    amount             INTEGER NOT NULL,
    fee                INTEGER NOT NULL DEFAULT 0,
    net                INTEGER NOT NULL DEFAULT 0,
    captured           INTEGER NOT NULL DEFAULT 0,
    refunded           INTEGER NOT NULL DEFAULT 0,
    disputed           INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL DEFAULT '',
    created            INTEGER NOT NULL,
    available_on       INTEGER NOT NULL DEFAULT 0,
    payout_id          TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    import_id          INTEGER NOT NULL REFERENCES imports (id),
    file               TEXT NOT NULL,
    line               INTEGER NOT NULL,
    raw                TEXT NOT NULL DEFAULT '',
    booked_entry_id    INTEGER REFERENCES entries (id),
    UNIQUE (provider, grain, record_id, occurrence)
);
CREATE INDEX provider_records_created ON provider_records (provider, grain, created);

CREATE TABLE quarantine (
    id        INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports (id),
    file      TEXT NOT NULL,
    line      INTEGER NOT NULL,
    problem   TEXT NOT NULL,
    raw       TEXT NOT NULL DEFAULT ''
);

-- migration: 3
-- Reconciliation: runs with their window, inputs and counts; durable
-- exceptions keyed by the outcome's fingerprint (so a re-run refreshes
-- rather than duplicates them; reconcile.PlanExceptions decides); links
-- that the next run matches first.
CREATE TABLE recon_runs (
    id                  INTEGER PRIMARY KEY,
    provider            TEXT NOT NULL,
    grain               TEXT NOT NULL,
    window_from         INTEGER NOT NULL,
    window_to           INTEGER NOT NULL,
    started_at          INTEGER NOT NULL,
    finished_at         INTEGER NOT NULL,
    provider_records    INTEGER NOT NULL,
    ledger_records      INTEGER NOT NULL,
    inputs_digest       TEXT NOT NULL,
    matched             INTEGER NOT NULL,
    mismatched          INTEGER NOT NULL,
    missing_in_ledger   INTEGER NOT NULL,
    missing_at_provider INTEGER NOT NULL,
    duplicates          INTEGER NOT NULL,
    heuristic           INTEGER NOT NULL,
    payout_mismatches   INTEGER NOT NULL,
    opened              INTEGER NOT NULL,
    closed              INTEGER NOT NULL
);

CREATE TABLE recon_exceptions (
    id                  INTEGER PRIMARY KEY,
    fingerprint         TEXT NOT NULL,
    provider            TEXT NOT NULL,
    grain               TEXT NOT NULL,
    kind                TEXT NOT NULL,
    subject             TEXT NOT NULL DEFAULT '',
    provider_id         TEXT NOT NULL DEFAULT '',
    ledger_id           TEXT NOT NULL DEFAULT '',
    ref                 TEXT NOT NULL DEFAULT '',
    currency            TEXT NOT NULL DEFAULT '',
    amount              INTEGER NOT NULL DEFAULT 0,
    occurred_at         INTEGER NOT NULL DEFAULT 0,
    heuristic           INTEGER NOT NULL DEFAULT 0,
    details             TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'ignored')),
    note                TEXT NOT NULL DEFAULT '',
    resolution_entry_id INTEGER REFERENCES entries (id),
    first_run           INTEGER NOT NULL REFERENCES recon_runs (id),
    last_run            INTEGER NOT NULL REFERENCES recon_runs (id),
    updated_at          INTEGER NOT NULL
);
CREATE INDEX recon_exceptions_scope ON recon_exceptions (provider, grain, status);
-- At most one unresolved exception per fingerprint; a resolved one that
-- recurs opens a new one.
CREATE UNIQUE INDEX recon_exceptions_unresolved ON recon_exceptions (fingerprint) WHERE status <> 'resolved';

CREATE TABLE recon_links (
    provider    TEXT NOT NULL,
    grain       TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    ledger_id   TEXT NOT NULL,
    heuristic   INTEGER NOT NULL DEFAULT 0,
    run_id      INTEGER NOT NULL REFERENCES recon_runs (id),
    PRIMARY KEY (provider, grain, provider_id)
) WITHOUT ROWID;

-- migration: 4
-- Postings move into their entry's row: entries.postings is a JSON array of
-- [account_id, currency, amount] triples in posting order. One row per entry
-- instead of one per posting plus a by-account index entry per posting is
-- what makes batched posting fast (BENCHMARKS.md); the view keeps postings
-- queryable with SQL as before. Maintained balances serve per-account totals.
ALTER TABLE entries ADD COLUMN postings TEXT NOT NULL DEFAULT '[]';
UPDATE entries SET postings = (
    SELECT json_group_array(json_array(p.account_id, p.currency, p.amount) ORDER BY p.seq)
    FROM postings p WHERE p.entry_id = entries.id);
DROP INDEX postings_account;
DROP TABLE postings;
CREATE VIEW postings AS
    SELECT e.id AS entry_id, CAST(j.key AS INTEGER) AS seq, j.value ->> 0 AS account_id,
        j.value ->> 1 AS currency, j.value ->> 2 AS amount
    FROM entries e, json_each(e.postings) AS j;

-- migration: 5
-- Leaner provider records, for imports of millions of rows. An import keeps
-- the bytes of its file once, in import_content: in chunks of size bytes
-- from file offset start, each compressed with DEFLATE (RFC 1951). A record
-- keeps where its raw row is in the file (raw_offset) and, when these bytes
-- are in import_content, their length (raw_size) instead of the row itself;
-- otherwise raw holds it (records stored before this migration, or whose
-- importer did not pass the file on). The file name and format are kept
-- once, on imports: a record's file and format are set only where they
-- differ from its import's. The foreign keys are checked when the
-- transaction commits rather than after each statement, which spares SQLite
-- a statement journal for every multi-row INSERT of an import (the import is
-- one transaction, committed whole or not at all).
CREATE TABLE import_content (
    import_id INTEGER NOT NULL REFERENCES imports (id),
    start     INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (import_id, start)
);

-- Imports whose format was detected were recorded with an empty one.
UPDATE imports SET format = COALESCE(
    (SELECT r.format FROM provider_records r WHERE r.import_id = imports.id ORDER BY r.id LIMIT 1), '')
WHERE format = '';

CREATE TABLE provider_records_5 (
    id                 INTEGER PRIMARY KEY,
    provider           TEXT NOT NULL,
    grain              TEXT NOT NULL,
    record_id          TEXT NOT NULL,
    occurrence         INTEGER NOT NULL,
    type               TEXT NOT NULL DEFAULT '',
    reporting_category TEXT NOT NULL DEFAULT '',
    source_ref         TEXT NOT NULL DEFAULT '',
    payment_ref        TEXT NOT NULL DEFAULT '',
    currency           TEXT NOT NULL,
    amount             INTEGER NOT NULL,
    fee                INTEGER NOT NULL DEFAULT 0,
    net                INTEGER NOT NULL DEFAULT 0,
    captured           INTEGER NOT NULL DEFAULT 0,
    refunded           INTEGER NOT NULL DEFAULT 0,
    disputed           INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL DEFAULT '',
    created            INTEGER NOT NULL,
    available_on       INTEGER NOT NULL DEFAULT 0,
    payout_id          TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    import_id          INTEGER NOT NULL REFERENCES imports (id) DEFERRABLE INITIALLY DEFERRED,
    line               INTEGER NOT NULL,
    raw_offset         INTEGER,
    raw_size           INTEGER,
    raw                TEXT,
    file               TEXT,
    format             TEXT,
    booked_entry_id    INTEGER REFERENCES entries (id) DEFERRABLE INITIALLY DEFERRED,
    CHECK ((raw_size IS NULL) <> (raw IS NULL))
);

INSERT INTO provider_records_5 (id, provider, grain, record_id, occurrence, type, reporting_category, source_ref,
    payment_ref, currency, amount, fee, net, captured, refunded, disputed, status, created, available_on, payout_id,
    description, import_id, line, raw, file, format, booked_entry_id)
SELECT r.id, r.provider, r.grain, r.record_id, r.occurrence, r.type, r.reporting_category, r.source_ref,
    r.payment_ref, r.currency, r.amount, r.fee, r.net, r.captured, r.refunded, r.disputed, r.status, r.created,
    r.available_on, r.payout_id, r.description, r.import_id, r.line, r.raw, NULLIF(r.file, i.file),
    NULLIF(r.format, i.format), r.booked_entry_id
FROM provider_records r LEFT JOIN imports i ON i.id = r.import_id;

DROP TABLE provider_records;
ALTER TABLE provider_records_5 RENAME TO provider_records;
-- The key as an index built after the copy, which is faster than filling it
-- row by row.
CREATE UNIQUE INDEX provider_records_key ON provider_records (provider, grain, record_id, occurrence);
CREATE INDEX provider_records_created ON provider_records (provider, grain, created);

-- migration: 6
-- Settlement facts versus estimates. A balance transaction says whether its
-- available_on was estimated by the ledger (a provider's differing date is
-- then adopted) and whether its payout is derived from the ledger's
-- automatic payouts (kept up to date on every write) or told by a provider.
-- Payouts say whether they are automatic; a manual payout claims no
-- composition. Payouts recorded before this migration become manual, so
-- their sweeps (which depended on the order events were recorded in) are
-- cleared.
ALTER TABLE balance_transactions ADD COLUMN available_on_estimated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE balance_transactions ADD COLUMN payout_derived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payouts ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;
UPDATE balance_transactions SET payout_id = '' WHERE payout_id IN (SELECT id FROM payouts);
CREATE INDEX payouts_automatic ON payouts (provider, currency, created_at, id) WHERE automatic = 1;
CREATE INDEX bt_derived_payout ON balance_transactions (provider, currency, available_on) WHERE payout_derived = 1;

-- Reconciliation: one exception per difference for life. A resolved
-- exception that a later run finds again is reopened (its fingerprint is
-- looked up among all exceptions), and every change of an exception is kept
-- in its history. Runs record how many estimates they replaced with the
-- provider's facts and the newest provider record they covered, so the next
-- nightly run covers every record imported since, whatever its date.
CREATE INDEX recon_exceptions_fingerprint ON recon_exceptions (provider, grain, fingerprint);
CREATE TABLE recon_exception_events (
    id           INTEGER PRIMARY KEY,
    exception_id INTEGER NOT NULL REFERENCES recon_exceptions (id),
    at           INTEGER NOT NULL,
    run_id       INTEGER REFERENCES recon_runs (id),
    action       TEXT NOT NULL,
    status       TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    entry_id     INTEGER REFERENCES entries (id)
);
CREATE INDEX recon_exception_events_exception ON recon_exception_events (exception_id, id);
ALTER TABLE recon_runs ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recon_runs ADD COLUMN records_through INTEGER NOT NULL DEFAULT 0;

-- migration: 7
-- A provider record read from a test-mode object (Stripe livemode false,
-- a card API's live false) says so; reconciliation leaves such records out
-- of a live ledger's comparison instead of calling them missing.
ALTER TABLE provider_records ADD COLUMN test INTEGER NOT NULL DEFAULT 0;

-- migration: 8
-- Money across currencies (ledger/fx.go). A balance transaction keeps its
-- presentment side beside its settlement side (amount, fee and net in
-- currency): presentment_amount, signed as amount, in presentment_currency
-- ('' when not converted), and the exchange rate as an exact decimal string.
-- settlement_estimated marks a conversion at the payment's booking rate that
-- the provider's settlement replaces. A converted payment keeps its booking
-- conversion: the settlement currency and amount of its capture, and the
-- presentment units since taken back across it. Provider records keep the
-- presentment side and rate that exports report.
ALTER TABLE balance_transactions ADD COLUMN presentment_amount INTEGER NOT NULL DEFAULT 0;
ALTER TABLE balance_transactions ADD COLUMN presentment_currency TEXT NOT NULL DEFAULT '';
ALTER TABLE balance_transactions ADD COLUMN exchange_rate TEXT NOT NULL DEFAULT '';
ALTER TABLE balance_transactions ADD COLUMN settlement_estimated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN settlement_currency TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN settled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN unwound INTEGER NOT NULL DEFAULT 0;
ALTER TABLE provider_records ADD COLUMN presentment_amount INTEGER NOT NULL DEFAULT 0;
ALTER TABLE provider_records ADD COLUMN presentment_currency TEXT NOT NULL DEFAULT '';
ALTER TABLE provider_records ADD COLUMN exchange_rate TEXT NOT NULL DEFAULT '';

-- migration: 9
-- Bank statements (package bank): the files they came from, keyed by their
-- SHA-256 so the same file twice adds nothing; the bank accounts they are
-- of, one per account and currency, each mapped to the ledger account that
-- mirrors it; the statements, keyed by account, id, sequence and dates so a
-- statement repeated in another file is stored once; and their lines,
-- signed (credit +, debit −) in minor units. A line's date is its booking
-- date, else its value date.
CREATE TABLE bank_files (
    id          INTEGER PRIMARY KEY,
    file        TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    format      TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    statements  INTEGER NOT NULL DEFAULT 0,
    added       INTEGER NOT NULL DEFAULT 0,
    lines       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE bank_accounts (
    id             INTEGER PRIMARY KEY,
    account        TEXT NOT NULL,
    currency       TEXT NOT NULL,
    ledger_account TEXT NOT NULL,
    UNIQUE (account, currency)
);
CREATE TABLE bank_statements (
    id              INTEGER PRIMARY KEY,
    bank_account_id INTEGER NOT NULL REFERENCES bank_accounts (id),
    file_id         INTEGER NOT NULL REFERENCES bank_files (id),
    format          TEXT NOT NULL,
    statement_id    TEXT NOT NULL,
    sequence        TEXT NOT NULL,
    opening_balance INTEGER NOT NULL CHECK (typeof(opening_balance) = 'integer'),
    closing_balance INTEGER NOT NULL CHECK (typeof(closing_balance) = 'integer'),
    opening_date    INTEGER NOT NULL,
    closing_date    INTEGER NOT NULL,
    info            TEXT NOT NULL DEFAULT '',
    line            INTEGER NOT NULL DEFAULT 0,
    UNIQUE (bank_account_id, statement_id, sequence, opening_date, closing_date)
);
CREATE TABLE bank_lines (
    id            INTEGER PRIMARY KEY,
    statement_id  INTEGER NOT NULL REFERENCES bank_statements (id),
    date          INTEGER NOT NULL,
    amount        INTEGER NOT NULL CHECK (typeof(amount) = 'integer'),
    booking_date  INTEGER NOT NULL,
    value_date    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    reversal      INTEGER NOT NULL DEFAULT 0,
    bank_ref      TEXT NOT NULL DEFAULT '',
    customer_ref  TEXT NOT NULL DEFAULT '',
    message_ref   TEXT NOT NULL DEFAULT '',
    type_code     TEXT NOT NULL DEFAULT '',
    remittance    TEXT NOT NULL DEFAULT '',
    info          TEXT NOT NULL DEFAULT '',
    line          INTEGER NOT NULL DEFAULT 0,
    byte_offset   INTEGER NOT NULL DEFAULT 0,
    raw           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bank_lines_statement ON bank_lines (statement_id);
CREATE INDEX bank_lines_date ON bank_lines (date, id);

-- migration: 10
-- A provider's balance transactions in (created, id) order straight from
-- the index, as reconciliation reads a million of them: with (provider,
-- created) alone SQLite sorted every run of equal times, about a second a
-- million rows.
DROP INDEX bt_provider_created;
CREATE INDEX bt_provider_created ON balance_transactions (provider, created, id);

-- migration: 11
-- A payout sweeps the pending balance transactions of its own provider and
-- currency: with those in the index the sweep reads no row of another
-- currency (a day of three currencies was read three times).
DROP INDEX bt_pending;
CREATE INDEX bt_pending ON balance_transactions (status, provider, currency, available_on) WHERE status = 'pending';

-- migration: 12
-- Keys led by what tells their rows apart. A provider record's key starts
-- with its id, not with its provider and grain (the same for every record
-- of an import), so that each comparison on the way down the index is one
-- comparison of ids: an import puts a million ids into it at random places.
-- A lookup by provider, grain and id finds it as well; reads by provider
-- and grain alone go through provider_records_created.
--
-- payments_provider_ref is dropped: no query reads payments by provider
-- reference (reconciliation matches on it in memory), and recording a
-- month of a million payments put every one into it at a random place.
DROP INDEX provider_records_key;
CREATE UNIQUE INDEX provider_records_key ON provider_records (record_id, occurrence, provider, grain);
DROP INDEX payments_provider_ref;

-- migration: 13
-- A balance transaction's settlement in a narrow table of its own. What
-- settles (status, available_on and whether it was estimated, the payout,
-- the currency) is rewritten after booking: a first reconciliation adopts
-- the provider's date for a quarter of a month's transactions, a payout's
-- sweep makes a day of them available. In the one wide table each such
-- change rewrote a whole row and its page, and those pages went through
-- the write-ahead log; here the row is a few dozen bytes and the pages a
-- change touches fewer. Provider, currency and payout_derived are kept here
-- for the indexes that select settlements (currency moves with a converted
-- payment's settlement; provider and payout_derived never change). The
-- table is keyed by the transaction's id, without a row id: VACUUM may
-- renumber the row ids of a table keyed by text. bt_core keeps the rest,
-- as booked. balance_transactions, the view, joins them back into the
-- columns the table had, in its order, for every read.
--
-- The payout index holds told payouts only. A derived payout follows from
-- the transaction's available_on (the first automatic payout of its
-- provider and currency at or after it), so the transactions a derived
-- payout swept are a range of bt_derived_payout, between that payout and
-- the automatic payout before it; an adopted date that moved a
-- transaction to another payout used to move it in both indexes. The
-- index before this one was never read: SQLite uses a partial index only
-- for a query that repeats its WHERE, and none did, so a payout's
-- transactions were found by reading them all.
CREATE TABLE bt_settlements (
    id                     TEXT PRIMARY KEY,
    provider               TEXT NOT NULL,
    currency               TEXT NOT NULL,
    status                 TEXT NOT NULL,
    available_on           INTEGER NOT NULL,
    available_on_estimated INTEGER NOT NULL DEFAULT 0,
    payout_id              TEXT NOT NULL DEFAULT '',
    payout_derived         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO bt_settlements (id, provider, currency, status, available_on, available_on_estimated, payout_id, payout_derived)
    SELECT id, provider, currency, status, available_on, available_on_estimated, payout_id, payout_derived
    FROM balance_transactions ORDER BY id;
CREATE TABLE bt_core (
    id                   TEXT PRIMARY KEY,
    provider             TEXT NOT NULL,
    entry_id             INTEGER NOT NULL REFERENCES entries (id),
    type                 TEXT NOT NULL,
    reporting_category   TEXT NOT NULL,
    source_type          TEXT NOT NULL DEFAULT '',
    source_id            TEXT NOT NULL DEFAULT '',
    source_ref           TEXT NOT NULL DEFAULT '',
    payment_id           TEXT NOT NULL DEFAULT '',
    amount               INTEGER NOT NULL,
    fee                  INTEGER NOT NULL,
    net                  INTEGER NOT NULL,
    fee_details          TEXT,
    description          TEXT NOT NULL DEFAULT '',
    created              INTEGER NOT NULL,
    presentment_amount   INTEGER NOT NULL DEFAULT 0,
    presentment_currency TEXT NOT NULL DEFAULT '',
    exchange_rate        TEXT NOT NULL DEFAULT '',
    settlement_estimated INTEGER NOT NULL DEFAULT 0
);
INSERT INTO bt_core (id, provider, entry_id, type, reporting_category, source_type, source_id, source_ref, payment_id,
        amount, fee, net, fee_details, description, created, presentment_amount, presentment_currency, exchange_rate,
        settlement_estimated)
    SELECT id, provider, entry_id, type, reporting_category, source_type, source_id, source_ref, payment_id,
        amount, fee, net, fee_details, description, created, presentment_amount, presentment_currency, exchange_rate,
        settlement_estimated
    FROM balance_transactions ORDER BY rowid;
DROP TABLE balance_transactions;
CREATE INDEX bt_provider_created ON bt_core (provider, created, id);
CREATE INDEX bt_corrections ON bt_core (provider, source_id) WHERE source_type = 'correction';
CREATE INDEX bt_pending ON bt_settlements (status, provider, currency, available_on) WHERE status = 'pending';
CREATE INDEX bt_told_payout ON bt_settlements (payout_id) WHERE payout_derived = 0 AND payout_id <> '';
CREATE INDEX bt_derived_payout ON bt_settlements (provider, currency, available_on) WHERE payout_derived = 1;
CREATE VIEW balance_transactions AS
    SELECT b.id, b.provider, b.entry_id, b.type, b.reporting_category, b.source_type, b.source_id, b.source_ref,
        b.payment_id, b.amount, b.fee, b.net, b.fee_details, s.currency, s.status, b.description, b.created,
        s.available_on, s.payout_id, s.available_on_estimated, s.payout_derived, b.presentment_amount,
        b.presentment_currency, b.exchange_rate, b.settlement_estimated
    FROM bt_core AS b JOIN bt_settlements AS s ON s.id = b.id;

-- migration: 14
-- The chunks of an imported file are stored in Snappy's block format
-- (snappy.Encode, as any Snappy library reads it) rather than DEFLATE:
-- compressing took a sixth of an import's processor time on its two cores,
-- and Snappy takes a fifth of DEFLATE's time for about 30% more bytes
-- (BENCHMARKS.md, twenty-first round). codec names each chunk's format;
-- chunks stored before stay DEFLATE (RFC 1951).
ALTER TABLE import_content ADD COLUMN codec TEXT NOT NULL DEFAULT 'deflate' CHECK (codec IN ('deflate', 'snappy'));

-- migration: 15
-- No query reads exceptions by fingerprint: a run loads its scope's
-- exceptions through recon_exceptions_scope and pairs fingerprints in
-- memory. Each exception went into this index at a random place, which
-- made a run that opens a million exceptions spend half its time here
-- (BENCHMARKS.md, thirtieth round). The unique index on open fingerprints
-- stays: it is what keeps one open exception a difference.
DROP INDEX recon_exceptions_fingerprint;

-- migration: 16
-- The records of one import, for `settle import --book` and the API's
-- import with book: without it each such import read every record stored
-- (1.6 s at a million, every night). A new import's records take the
-- largest import id, so their keys go at the end of the index; a first
-- import keeps it in place (appendedIndexes).
CREATE INDEX provider_records_import ON provider_records (import_id);

-- migration: 17
-- Entries that post to a ledger account mirroring a bank account (a
-- bank_accounts.ledger_account or one of its subaccounts) are marked and
-- indexed by time: bank reconciliation reads them every night over all of
-- time, and a month of a million payments holds two million entries of
-- which a few hundred reach the bank. The store marks each entry it writes
-- and, when a statement import maps a ledger account not mapped before,
-- the entries stored before (bankentries.go); this marks those of the
-- mappings made before the migration.
ALTER TABLE entries ADD COLUMN bank INTEGER NOT NULL DEFAULT 0;
CREATE TEMP TABLE bank_patterns AS SELECT DISTINCT '[' || a.id || ',' AS pattern
    FROM accounts a JOIN bank_accounts b ON a.name = b.ledger_account
        OR substr(a.name, 1, length(b.ledger_account) + 1) = b.ledger_account || ':';
UPDATE entries SET bank = 1 WHERE (SELECT COUNT(*) FROM temp.bank_patterns) > 0
    AND EXISTS (SELECT 1 FROM temp.bank_patterns WHERE instr(entries.postings, pattern) > 0);
DROP TABLE temp.bank_patterns;
CREATE INDEX entries_bank ON entries (occurred_at, id) WHERE bank = 1;

-- migration: 18
-- A request that booked an entry under its own key is stored by that
-- entry's id: its key is the entry's, found through the entries' key
-- index, so it needs no index of its own (BENCHMARKS.md, thirty-third
-- round). Requests stored before, and those that booked no entry under
-- their key, stay in requests.
CREATE TABLE request_entries (
    entry_id   INTEGER PRIMARY KEY,
    operation  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    result     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- migration: 19
-- when empty: entries
-- The entries' keys are kept unique by an index of their own, entries_key,
-- rather than by the column's constraint, whose index SQLite cannot drop:
-- a transaction that writes into an empty entries table (a new database, a
-- first month) drops it while it writes and builds it again, sorted, before
-- it needs it or commits (entrykey.go). Only an empty table is made anew
-- (the line above: the migration runs when the table has no rows); one that
-- holds entries keeps its constraint, and is never empty again.
DROP TABLE entries;
CREATE TABLE entries (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL,
    hash            TEXT NOT NULL DEFAULT '',
    phase           TEXT NOT NULL CHECK (phase IN ('posted', 'pending')),
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    metadata        TEXT,
    source_provider TEXT NOT NULL DEFAULT '',
    source_type     TEXT NOT NULL DEFAULT '',
    source_id       TEXT NOT NULL DEFAULT '',
    source_ref      TEXT NOT NULL DEFAULT '',
    reverses        INTEGER REFERENCES entries (id),
    pending_of      INTEGER REFERENCES entries (id),
    expires_at      INTEGER,
    resolution      TEXT NOT NULL DEFAULT '',
    resolved_by     INTEGER,
    postings        TEXT NOT NULL DEFAULT '[]',
    bank            INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX entries_key ON entries (key);
CREATE INDEX entries_occurred_at ON entries (occurred_at);
CREATE INDEX entries_unresolved ON entries (phase, resolution) WHERE phase = 'pending' AND resolution = '';
CREATE INDEX entries_reverses ON entries (reverses) WHERE reverses IS NOT NULL;
CREATE INDEX entries_bank ON entries (occurred_at, id) WHERE bank = 1;
