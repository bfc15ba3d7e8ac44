package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// BenchmarkPatch sends one PATCH of n operations through the SCIM server
// (strict JSON check, quirk normalisation, the library's validation, our
// application, the store's transaction on SQLite) and reports the time per
// operation, which must not grow with n. The operation cap is raised for
// the benchmark only. The user's emails cycle through ten addresses: the
// attribute limits bound a user's emails, and a list that grew with n
// would measure the list, not the operations.
//
//	go test -run '^$' -bench BenchmarkPatch -benchtime 3x ./scim/
func BenchmarkPatch(b *testing.B) {
	for _, n := range []int{100, 1000, 10_000} {
		// Adds first, then removes of the same members (Okta's one
		// operation per member): the removes walked the list of adds.
		b.Run(fmt.Sprintf("group-add-then-remove/n=%d", n), func(b *testing.B) {
			benchPatch(b, n, "/Groups/", func(i int) map[string]any {
				if i >= n/2 {
					return map[string]any{"op": "remove", "path": fmt.Sprintf(`members[value eq "m%d"]`, i-n/2)}
				}
				return map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": fmt.Sprintf("m%d", i)}}}
			})
		})
		b.Run(fmt.Sprintf("user-ops/n=%d", n), func(b *testing.B) {
			benchPatch(b, n, "/Users/", func(i int) map[string]any {
				switch i % 3 {
				case 0:
					return map[string]any{"op": "replace", "path": "title", "value": fmt.Sprintf("t%d", i)}
				case 1:
					return map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": fmt.Sprintf("e%d@example.com", i%10), "type": "work"}}}
				}
				return map[string]any{"op": "replace", "path": "name.givenName", "value": fmt.Sprintf("g%d", i)}
			})
		})
		b.Run(fmt.Sprintf("group-member-ops/n=%d", n), func(b *testing.B) {
			benchPatch(b, n, "/Groups/", func(i int) map[string]any {
				if i%2 == 1 {
					return map[string]any{"op": "remove", "path": fmt.Sprintf(`members[value eq "m%d"]`, i-1)}
				}
				return map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": fmt.Sprintf("m%d", i)}}}
			})
		})
	}
}

// BenchmarkPatchAddMembers: one PATCH add of 10,000 existing users to an
// empty group, the shape of a first push of a large group.
//
//	go test -run '^$' -bench BenchmarkPatchAddMembers -benchtime 3x ./scim/
func BenchmarkPatchAddMembers(b *testing.B) {
	const n = 10_000
	var ids []string
	benchPatchSeeded(b, 1, "/Groups/", func(ctx context.Context, store *sqlstore.Store) {
		users := make([]storage.User, n)
		for i := range users {
			users[i] = storage.User{UserName: fmt.Sprintf("m%05d@example.com", i), Active: true, Owner: "scim:bench"}
		}
		created, err := store.CreateUsers(ctx, users)
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range created {
			ids = append(ids, u.ID)
		}
	}, func(int) map[string]any {
		members := make([]any, len(ids))
		for i, id := range ids {
			members[i] = map[string]any{"value": id, "type": "User"}
		}
		return map[string]any{"op": "add", "path": "members", "value": members}
	})
}

func benchPatch(b *testing.B, n int, kind string, op func(i int) map[string]any) {
	benchPatchSeeded(b, n, kind, nil, op)
}

func benchPatchSeeded(b *testing.B, n int, kind string, seed func(context.Context, *sqlstore.Store), op func(i int) map[string]any) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	srv, err := scim.New(store, scim.Options{MaxPatchOperations: n})
	if err != nil {
		b.Fatal(err)
	}
	if seed != nil {
		seed(ctx, store)
	}
	var id string
	if kind == "/Users/" {
		u, err := store.CreateUser(ctx, storage.User{UserName: "bench@example.com", Active: true, Owner: "scim:bench"})
		if err != nil {
			b.Fatal(err)
		}
		id = u.ID
	} else {
		g, err := store.CreateGroup(ctx, storage.Group{DisplayName: "Bench", Owner: "scim:bench"})
		if err != nil {
			b.Fatal(err)
		}
		id = g.ID
	}
	ops := make([]map[string]any, n)
	for i := range ops {
		ops[i] = op(i)
	}
	body, err := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops})
	if err != nil {
		b.Fatal(err)
	}
	caller := scim.WithCaller(ctx, scim.Caller{Owner: "scim:bench", CanWrite: true})
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequestWithContext(caller, http.MethodPatch, scim.Prefix+kind+id, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			b.Fatalf("PATCH: %d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/patch-op")
}
