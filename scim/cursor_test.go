package scim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// TestCursorTimeout drives the service provider with a clock it controls:
// a cursor is accepted up to CursorTimeout after it was issued and then
// answered with 400 expiredCursor.
func TestCursorTimeout(t *testing.T) {
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "scim.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for i := 0; i < 3; i++ {
		if _, err := store.CreateUser(t.Context(), storage.User{UserName: fmt.Sprintf("u%d", i), Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	srv, err := scim.New(store, scim.Options{CursorTimeout: 10 * time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	get := func(cursor string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodGet, scim.Prefix+"/Users?count=1&cursor="+cursor, nil)
		req = req.WithContext(scim.WithCaller(req.Context(), scim.Caller{Owner: "scim:reader"}))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
		return rec.Code, body
	}
	_, first := get("")
	next, _ := first["nextCursor"].(string)
	if next == "" {
		t.Fatalf("no nextCursor: %v", first)
	}
	cases := []struct {
		after    time.Duration
		status   int
		scimType string
	}{
		{0, 200, ""},
		{10 * time.Minute, 200, ""},
		{10*time.Minute + time.Second, 400, "expiredCursor"},
		{48 * time.Hour, 400, "expiredCursor"},
	}
	issued := now
	for _, c := range cases {
		now = issued.Add(c.after)
		status, body := get(next)
		if status != c.status || (c.scimType != "" && body["scimType"] != c.scimType) {
			t.Errorf("%s after issue: %d %v, want %d %s", c.after, status, body, c.status, c.scimType)
		}
	}
}
