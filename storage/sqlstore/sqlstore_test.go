package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
	"github.com/scimgate/scimgate/storage/storetest"
)

// TestConformance runs the storage conformance suite against SQLite, each
// subtest on its own fresh database file.
func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) storage.Store {
		return openForTest(t, filepath.Join(t.TempDir(), "test.db"))
	})
}

// TestConformancePostgres runs the suite against PostgreSQL, each subtest
// in its own fresh schema, when SCIMGATE_TEST_POSTGRES names a server.
func TestConformancePostgres(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunTests(t, func(t *testing.T) storage.Store {
		return openForTest(t, pgtest.FreshSchema(t))
	})
}

func openForTest(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	{
		s, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{})
		if err != nil {
			t.Fatalf("sqlstore.Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
}
