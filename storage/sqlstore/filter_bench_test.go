package sqlstore_test

import (
	"os"
	"testing"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// BenchmarkLongFilter lists 1,000 of 10,000 users by a filter of 1,000
// id eq terms joined by or, as clients send it, against two baselines in
// the same run: one id eq query, and the same 1,000 users fetched by
// 1,000 single id eq queries. On PostgreSQL too when SCIMGATE_TEST_POSTGRES
// is set (scripts/postgres.sh run ...).
//
//	go test -run '^$' -bench LongFilter -benchtime 20x ./storage/sqlstore
func BenchmarkLongFilter(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkLongFilter(b, openBenchStore(b)) })
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(pgtest.EnvDSN) == "" {
			b.Skip("SCIMGATE_TEST_POSTGRES is not set")
		}
		s, err := sqlstore.Open(b.Context(), pgtest.FreshSchema(b), sqlstore.Options{})
		if err != nil {
			b.Fatalf("Open: %v", err)
		}
		b.Cleanup(func() { s.Close() })
		benchmarkLongFilter(b, s)
	})
}

func benchmarkLongFilter(b *testing.B, s *sqlstore.Store) {
	const users, picked = 10_000, 1000
	ids := seedSyncedUsers(b, s, users)
	byID := func(id string) storage.Expr {
		return storage.Compare{Attr: storage.AttrID, Op: storage.OpEq, Value: id}
	}
	// Every tenth user, chained left to right as the SCIM parser builds it.
	var chain storage.Expr
	var want []string
	for i := 0; i < users && len(want) < picked; i += users / picked {
		want = append(want, ids[i])
		if chain == nil {
			chain = byID(ids[i])
		} else {
			chain = storage.Or{Left: chain, Right: byID(ids[i])}
		}
	}
	list := func(b *testing.B, f storage.Expr, limit, wantTotal int) {
		page, err := s.ListUsers(b.Context(), storage.Query{Filter: f, Limit: limit})
		if err != nil {
			b.Fatalf("ListUsers: %v", err)
		}
		if page.Total != wantTotal || len(page.Users) != wantTotal {
			b.Fatalf("total %d, %d users; want %d", page.Total, len(page.Users), wantTotal)
		}
	}
	b.Run("1-id", func(b *testing.B) {
		for b.Loop() {
			list(b, byID(want[picked/2]), 1, 1)
		}
	})
	b.Run("1000-ids-one-filter", func(b *testing.B) {
		for b.Loop() {
			list(b, chain, picked, picked)
		}
	})
	b.Run("1000-single-id-queries", func(b *testing.B) {
		for b.Loop() {
			for _, id := range want {
				list(b, byID(id), 1, 1)
			}
		}
	})
}
