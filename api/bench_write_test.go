package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// The SCIM write path through the whole HTTP stack (auth, body limit,
// strict JSON, quirks, validation, store transaction on SQLite, response),
// on a store of 1,000 users: what Entra and Okta do on every provisioning
// cycle.
//
//	go test -run '^$' -bench 'BenchmarkUser(Create|Replace|Patch)' -benchmem ./api/

// benchWriter is a server with 1,000 users owned by its writer token, one
// of which (userID) the benchmarks change.
func benchWriter(b *testing.B) (h http.Handler, token, userID string) {
	b.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	bearer, tok, err := api.NewToken("bench-writer", storage.RoleWriter, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.CreateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	users := make([]storage.User, 1000)
	for i := range users {
		users[i] = storage.User{UserName: fmt.Sprintf("seed%04d@example.com", i), Active: true, Owner: tok.Owner(),
			Emails: []storage.MultiValue{{Value: fmt.Sprintf("seed%04d@example.com", i), Type: "work", Primary: true}}}
	}
	created, err := store.CreateUsers(ctx, users)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.Config{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler(), bearer, created[0].ID
}

// benchWrite sends b.N requests built by body and fails on any answer but
// want.
func benchWrite(b *testing.B, h http.Handler, token, method, path string, want int, body func(i int) any) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		raw, _ := json.Marshal(body(i))
		req := httptest.NewRequest(method, path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s: status %d: %.300s", method, path, rec.Code, rec.Body)
		}
	}
	reportCPU(b, cpu)
}

// benchUser is a user body as Entra sends it on create.
func benchUser(userName string, title string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"userName": userName, "active": true, "displayName": "Bench User", "title": title, "externalId": userName,
		"name":   map[string]any{"givenName": "Bench", "familyName": "User"},
		"emails": []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Engineering", "employeeNumber": "42"},
	}
}

func BenchmarkUserCreate(b *testing.B) {
	h, token, _ := benchWriter(b)
	benchWrite(b, h, token, http.MethodPost, "/scim/v2/Users", http.StatusCreated, func(i int) any {
		return benchUser(fmt.Sprintf("new%08d@example.com", i), "Engineer")
	})
}

func BenchmarkUserReplace(b *testing.B) {
	h, token, id := benchWriter(b)
	benchWrite(b, h, token, http.MethodPut, "/scim/v2/Users/"+id, http.StatusOK, func(i int) any {
		return benchUser("seed0000@example.com", fmt.Sprintf("Engineer %d", i))
	})
}

// BenchmarkUserPatch: Entra's attribute update, a path-less replace and a
// filtered sub-attribute in one PATCH.
func BenchmarkUserPatch(b *testing.B) {
	h, token, id := benchWriter(b)
	benchWrite(b, h, token, http.MethodPatch, "/scim/v2/Users/"+id, http.StatusOK, func(i int) any {
		return map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{
				map[string]any{"op": "Replace", "value": map[string]any{"title": fmt.Sprintf("Engineer %d", i), "active": "True"}},
				map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": fmt.Sprintf("seed0000+%d@example.com", i%10)},
			},
		}
	})
}
