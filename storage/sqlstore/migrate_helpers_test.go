package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// migrationDatabases are where the migration tests make an old database:
// a SQLite file, and a fresh PostgreSQL schema when SCIMGATE_TEST_POSTGRES
// is set (pgtest skips otherwise).
var migrationDatabases = []struct {
	name string
	dsn  func(testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "old.db") }},
	{"postgres", pgtest.FreshSchema},
}
