// Package settle is a double-entry ledger and reconciliation engine for
// payments. The domain lives in package ledger; provider records in
// provider; export readers in importers and bank statements in bank;
// matching in reconcile; the application layer (import, reconcile, resolve,
// the nightly job) in app; storage at the edge in store/sqlite and
// store/postgres; report writers in reports; cmd/settle is the CLI.
// docs/architecture.md draws the whole picture.
//
// This root package holds the demo dataset that `settle demo` records.
package settle

import "embed"

// DemoFS holds the demo dataset that `settle demo` records: testdata/demo.
//
//go:embed testdata/demo
var DemoFS embed.FS
