package postgres

import (
	"testing"

	"github.com/settlehq/settle/app"
	"github.com/settlehq/settle/store/storetest"
)

var _ app.Store = (*Store)(nil)

// The PostgreSQL store passes the conformance suite every store must pass,
// each test in a schema of its own that is dropped after it.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) app.Store { return openTest(t, nil) })
}
