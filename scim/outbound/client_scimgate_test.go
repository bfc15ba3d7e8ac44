package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// scimgateTarget is scimgate's own SCIM service provider over a real
// SQLite store, behind a bearer check that makes the caller a writer, as
// the api package's auth does: the client against the real server.
func scimgateTarget(t *testing.T) string {
	t.Helper()
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "target.db"), sqlstore.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv, err := scim.New(store, scim.Options{MaxResults: 7, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		srv.ServeHTTP(w, r.WithContext(scim.WithCaller(r.Context(), scim.Caller{Owner: "push:test", CanWrite: true})))
	}))
	t.Cleanup(hs.Close)
	return hs.URL + scim.Prefix
}

func TestClientAgainstScimgate(t *testing.T) {
	ctx := context.Background()
	p, _ := outbound.ProfileByName("generic")
	c, err := outbound.NewClient(outbound.ClientConfig{BaseURL: scimgateTarget(t), Profile: p,
		Auth: outbound.ClientAuth{PushAuth: storage.PushAuth{Type: storage.PushAuthBearer}, Token: testToken}})
	if err != nil {
		t.Fatal(err)
	}
	caps, err := c.Capabilities(ctx)
	if err != nil || !caps.Patch || !caps.Filter || caps.PageSize != 7 {
		t.Fatalf("capabilities = %+v, %v", caps, err)
	}
	var ids []string
	for i := range 16 {
		u, err := c.Create(ctx, outbound.KindUsers, userBody(fmt.Sprintf("user%02d@example.com", i), fmt.Sprintf("ext-%d", i)))
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
		ids = append(ids, u.ID)
	}
	_, err = c.Create(ctx, outbound.KindUsers, userBody("USER00@example.com", ""))
	var te *outbound.TargetError
	if !errors.As(err, &te) || te.Status != http.StatusConflict || te.SCIMType != "uniqueness" {
		t.Fatalf("duplicate userName = %v, want 409 uniqueness", err)
	}

	var pages []int
	var listed []string
	if err := c.List(ctx, outbound.KindUsers, func(rs []outbound.Remote) error {
		pages = append(pages, len(rs))
		for _, r := range rs {
			listed = append(listed, r.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(listed)
	sorted := slices.Sorted(slices.Values(ids))
	if !slices.Equal(pages, []int{7, 7, 2}) || !slices.Equal(listed, sorted) {
		t.Fatalf("pages %v, listed %d of %d users", pages, len(listed), len(ids))
	}

	found, err := c.Find(ctx, outbound.KindUsers, "userName", "USER03@EXAMPLE.COM")
	if err != nil || len(found) != 1 || found[0].ID != ids[3] {
		t.Fatalf("find = %+v, %v", found, err)
	}

	g, err := c.Create(ctx, outbound.KindGroups, json.RawMessage(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Team","members":[{"value":"`+ids[0]+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ops := []outbound.PatchOp{
		{Op: "add", Path: "members", Value: []map[string]string{{"value": ids[1]}, {"value": ids[2]}}},
		{Op: "remove", Path: `members[value eq "` + ids[0] + `"]`},
	}
	if err := c.Patch(ctx, outbound.KindGroups, g.ID, ops); err != nil {
		t.Fatalf("patch members: %v", err)
	}
	got, err := c.Get(ctx, outbound.KindGroups, g.ID)
	if members := slices.Sorted(slices.Values(got.Members)); err != nil || !slices.Equal(members, slices.Sorted(slices.Values(ids[1:3]))) {
		t.Fatalf("group = %+v, %v", got, err)
	}

	if err := c.Patch(ctx, outbound.KindUsers, ids[4], []outbound.PatchOp{{Op: "replace", Path: "active", Value: false}}); err != nil {
		t.Fatal(err)
	}
	if u, err := c.Get(ctx, outbound.KindUsers, ids[4]); err != nil || u.Active == nil || *u.Active {
		t.Fatalf("deactivated user = %+v, %v", u, err)
	}
	if err := c.Delete(ctx, outbound.KindUsers, ids[5]); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, outbound.KindUsers, ids[5]); err != nil {
		t.Fatalf("second delete = %v, want nil (gone is done)", err)
	}
}
