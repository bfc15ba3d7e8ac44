package sqlstore_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// ReadStamp must change with every committed write, whoever made it (this
// store, or a second one on the same database: the token CLI on SQLite,
// another replica on PostgreSQL), and stay put while only reads happen,
// or the caches built on it would serve stale pages or none at all.
func TestReadStamp(t *testing.T) {
	dbs := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return filepath.Join(t.TempDir(), "stamp.db") },
	}
	if os.Getenv(pgtest.EnvDSN) != "" {
		dbs["postgres"] = func(t *testing.T) string { return pgtest.FreshSchema(t) }
	}
	steps := []struct {
		name    string
		act     func(t *testing.T, self, other *sqlstore.Store)
		changes bool
	}{
		{"reads only", func(t *testing.T, self, other *sqlstore.Store) {
			if _, err := self.ListUsers(t.Context(), storage.Query{Limit: 10}); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a write through this store", func(t *testing.T, self, other *sqlstore.Store) {
			if _, err := self.CreateUser(t.Context(), storage.User{UserName: "ada", Active: true, Owner: "test"}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a write through the other store", func(t *testing.T, self, other *sqlstore.Store) {
			if _, err := other.CreateUser(t.Context(), storage.User{UserName: "grace", Active: true, Owner: "test"}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a token revoked through the other store", func(t *testing.T, self, other *sqlstore.Store) {
			if _, err := other.CreateToken(t.Context(), storage.Token{ID: "t1", Name: "cli", Role: storage.RoleReader, Hash: []byte("h")}); err != nil {
				t.Fatal(err)
			}
			before := changedStamp(t, self, "")
			if err := other.DeleteToken(t.Context(), "cli"); err != nil {
				t.Fatal(err)
			}
			if changedStamp(t, self, before) == before {
				t.Error("the revocation did not move the stamp")
			}
		}, true},
	}
	for name, db := range dbs {
		t.Run(name, func(t *testing.T) {
			dsn := db(t)
			self, other := openForTest(t, dsn), openForTest(t, dsn)
			for _, st := range steps {
				before := stamp(t, self)
				st.act(t, self, other)
				after := stamp(t, self)
				if st.changes {
					after = changedStamp(t, self, before)
				}
				if (after != before) != st.changes {
					t.Errorf("%s: stamp %q -> %q, want changed=%v", st.name, before, after, st.changes)
				}
			}
		})
	}
}

// changedStamp returns s's stamp once it differs from before, or before
// after ten seconds. A write by another replica of a PostgreSQL database
// reaches the stamp when its notification arrives, a little after its
// commit; everywhere else the first read already differs.
func changedStamp(t *testing.T, s *sqlstore.Store, before string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := stamp(t, s)
		if v != before || time.Now().After(deadline) {
			return v
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func stamp(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	v, ok, err := s.ReadStamp(t.Context())
	if err != nil || !ok {
		t.Fatalf("ReadStamp = %q, %v, %v", v, ok, err)
	}
	return v
}
