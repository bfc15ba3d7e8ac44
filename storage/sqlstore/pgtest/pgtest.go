// Package pgtest gives tests a fresh, empty PostgreSQL schema on the
// server named by SCIMGATE_TEST_POSTGRES (a DSN), and skips them when it
// is unset. `make test` sets it when it can start a throwaway server (see
// scripts/postgres.sh).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvDSN names the environment variable with the test server's DSN.
const EnvDSN = "SCIMGATE_TEST_POSTGRES"

// DSN returns the test server's DSN, or skips t when there is none.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		t.Skip(EnvDSN + " is not set: PostgreSQL tests skipped (make test starts a throwaway server when it can)")
	}
	return dsn
}

// FreshSchema creates a new schema on the test server and returns a DSN
// whose connections use it (search_path), so every caller starts from an
// empty database; the schema is dropped when t ends.
func FreshSchema(t testing.TB) string {
	t.Helper()
	base := DSN(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", EnvDSN, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(t, base, schema)
}

// WithSearchPath returns dsn with its connections' search_path set to
// schema (pgx passes unknown URL parameters on as run-time settings).
func WithSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
