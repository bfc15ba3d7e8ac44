package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/storetest"
)

// TestConformance runs the storage conformance suite against SQLite, each
// subtest on its own fresh database file.
func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) storage.Store {
		s, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "test.db"), sqlstore.Options{})
		if err != nil {
			t.Fatalf("sqlstore.Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}
