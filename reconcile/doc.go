// Package reconcile matches what payment providers report against what the
// ledger recorded, keeps the differences as durable exceptions, and runs the
// work on a schedule.
//
// The matching engine is pure and in memory: MatchBalances compares provider
// balance records with ledger balance transactions, MatchPayments compares
// provider payment records with ledger payments. MatchSides is MatchBalances
// on compact sides (ProviderSide, LedgerSide) that a caller fills as rows
// stream from a store, keeping about a third of each record and transaction.
// Both grains match in passes — remembered links, then the provider's source
// reference and canonical kind, then a heuristic on currency, amount and
// date — using hash joins, never nested scans, so a million records on each
// side take seconds. Results are deterministic: the same inputs in any order
// give the same Result.
//
// Exceptions are computed from outcomes by PlanExceptions, again without
// storage; package ledger/sqlite persists runs, exceptions and links. The
// Scheduler runs a Job on a cron schedule, catching up windows missed while
// the process was down.
package reconcile
