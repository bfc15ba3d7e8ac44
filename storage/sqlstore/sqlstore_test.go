package sqlstore_test

import (
	"path/filepath"
	"testing"
	"time"

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

// TestConformanceClock runs the checks that move the store's clock, on
// SQLite and, when SCIMGATE_TEST_POSTGRES names a server, PostgreSQL.
func TestConformanceClock(t *testing.T) {
	open := func(t *testing.T, dsn string, now func() time.Time) storage.Store {
		s, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{Now: now})
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
	t.Run("SQLite", func(t *testing.T) {
		storetest.RunClockTests(t, func(t *testing.T, now func() time.Time) storage.Store {
			return open(t, filepath.Join(t.TempDir(), "test.db"), now)
		})
	})
	t.Run("Postgres", func(t *testing.T) {
		pgtest.DSN(t)
		storetest.RunClockTests(t, func(t *testing.T, now func() time.Time) storage.Store {
			return open(t, pgtest.FreshSchema(t), now)
		})
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

// TestConformancePush runs the outbound push's bookkeeping checks on
// SQLite and, when SCIMGATE_TEST_POSTGRES names a server, PostgreSQL.
func TestConformancePush(t *testing.T) {
	open := func(t *testing.T, dsn string, now func() time.Time) storage.Store {
		s, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{Now: now})
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
	t.Run("SQLite", func(t *testing.T) {
		storetest.RunPushTests(t, func(t *testing.T, now func() time.Time) storage.Store {
			return open(t, filepath.Join(t.TempDir(), "test.db"), now)
		})
	})
	t.Run("Postgres", func(t *testing.T) {
		pgtest.DSN(t)
		storetest.RunPushTests(t, func(t *testing.T, now func() time.Time) storage.Store {
			return open(t, pgtest.FreshSchema(t), now)
		})
	})
}
