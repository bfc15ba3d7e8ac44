package scim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// routeServer is a service provider over a fresh SQLite store holding one
// user and one group owned by the writer "scim:w".
func routeServer(t *testing.T) (srv *scim.Server, userID, groupID string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "routes.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	u, err := store.CreateUser(ctx, storage.User{UserName: "route@example.com", Active: true, Owner: "scim:w"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := store.CreateGroup(ctx, storage.Group{DisplayName: "Route", Owner: "scim:w"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err = scim.New(store, scim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return srv, u.ID, g.ID
}

// TestRoutes: every route of the one router, with the status, scimType and
// content type it answers, for a writer and a reader.
func TestRoutes(t *testing.T) {
	srv, uid, gid := routeServer(t)
	const (
		userBody  = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new@example.com"}`
		groupBody = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"New"}`
		patchBody = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"X"}]}`
		search    = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}`
	)
	tests := []struct {
		method, path, body string
		reader             bool
		status             int
		scimType           string
		header             string // a header the answer must carry
	}{
		{method: "GET", path: "/ServiceProviderConfig", status: 200},
		{method: "POST", path: "/ServiceProviderConfig", status: 200},
		{method: "GET", path: "/Schemas", status: 200},
		{method: "GET", path: "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", status: 200},
		{method: "GET", path: "/Schemas/nope", status: 404},
		{method: "GET", path: "/ResourceTypes", status: 200},
		{method: "GET", path: "/ResourceTypes/Group", status: 200},
		{method: "GET", path: "/ResourceTypes/Nope", status: 404},
		{method: "GET", path: "/", status: 400, scimType: "tooMany"},
		{method: "POST", path: "/.search", body: search, reader: true, status: 400, scimType: "tooMany"},
		{method: "GET", path: "/.search", status: 405},
		{method: "GET", path: "/Me", status: 501},
		{method: "POST", path: "/Bulk", body: `{}`, status: 404},
		{method: "GET", path: "/Nope", status: 404},
		{method: "GET", path: "/Users", status: 200},
		{method: "GET", path: "/Users/", status: 200},
		{method: "HEAD", path: "/Users", status: 404},
		{method: "DELETE", path: "/Users", status: 404},
		{method: "GET", path: "/Users/" + uid, status: 200, header: "ETag"},
		{method: "GET", path: "/Users/missing", status: 404},
		{method: "GET", path: "/Users/a/b", status: 404},
		{method: "POST", path: "/Users/.search", body: search, reader: true, status: 200},
		{method: "PUT", path: "/Users/.search", body: userBody, status: 405},
		{method: "POST", path: "/Users", body: userBody, status: 201, header: "Location"},
		{method: "POST", path: "/Users", body: userBody, status: 409, scimType: "uniqueness"},
		{method: "POST", path: "/Users", body: userBody, reader: true, status: 403},
		{method: "POST", path: "/Users", body: `{"userName":"x"}`, status: 400, scimType: "invalidSyntax"},
		{method: "POST", path: "/Users/" + uid, body: userBody, status: 404},
		{method: "PUT", path: "/Users/" + uid, body: strings.Replace(userBody, "new@", "put@", 1), status: 200, header: "ETag"},
		{method: "PUT", path: "/Users/missing", body: strings.Replace(userBody, "new@", "gone@", 1), status: 404},
		{method: "PATCH", path: "/Users/" + uid, body: strings.Replace(patchBody, "displayName", "nosuch", 1), status: 400, scimType: "invalidPath"},
		{method: "PATCH", path: "/Users/" + uid, body: patchBody, status: 200, header: "ETag"},
		{method: "PATCH", path: "/Users/" + uid, body: patchBody, reader: true, status: 403},
		{method: "GET", path: "/Groups", status: 200},
		{method: "GET", path: "/Groups/" + gid, status: 200, header: "ETag"},
		{method: "POST", path: "/Groups/.search", body: search, reader: true, status: 200},
		{method: "POST", path: "/Groups", body: groupBody, status: 201, header: "Location"},
		{method: "PUT", path: "/Groups/" + gid, body: strings.Replace(groupBody, "New", "Put", 1), status: 200},
		{method: "PATCH", path: "/Groups/" + gid, body: patchBody, status: 204, header: "ETag"},
		{method: "DELETE", path: "/Groups/" + gid, status: 204},
		{method: "DELETE", path: "/Groups/" + gid, status: 404},
		{method: "DELETE", path: "/Users/" + uid, reader: true, status: 403},
		{method: "DELETE", path: "/Users/" + uid, status: 204},
	}
	for _, tt := range tests {
		caller := scim.Caller{Owner: "scim:w", CanWrite: !tt.reader}
		var body io.Reader
		if tt.body != "" {
			body = strings.NewReader(tt.body)
		}
		req := httptest.NewRequestWithContext(scim.WithCaller(context.Background(), caller), tt.method, scim.Prefix+tt.path, body)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		name := tt.method + " " + tt.path
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d: %.300s", name, rec.Code, tt.status, rec.Body)
			continue
		}
		if rec.Body.Len() > 0 && rec.Header().Get("Content-Type") != "application/scim+json" {
			t.Errorf("%s: Content-Type %q", name, rec.Header().Get("Content-Type"))
		}
		if tt.header != "" && rec.Header().Get(tt.header) == "" {
			t.Errorf("%s: no %s header", name, tt.header)
		}
		if rec.Code >= 400 {
			var e struct{ ScimType, Status string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ScimType != tt.scimType {
				t.Errorf("%s: scimType %q, want %q (%v): %s", name, e.ScimType, tt.scimType, err, rec.Body)
			}
		}
	}
}

// onceBody is a request body that fails the test when it is read again
// after it reported its end.
type onceBody struct {
	t    *testing.T
	r    io.Reader
	done bool
}

func (b *onceBody) Read(p []byte) (int, error) {
	if b.done {
		b.t.Errorf("the body was read again after its end")
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.done = true
	}
	return n, err
}

func (b *onceBody) Close() error { return nil }

// TestBodyReadOnce: a write's body is read once, however many steps
// (strict JSON, quirks, validation, the handler) look at it.
func TestBodyReadOnce(t *testing.T) {
	srv, uid, _ := routeServer(t)
	writer := scim.WithCaller(context.Background(), scim.Caller{Owner: "scim:w", CanWrite: true})
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"once@example.com","active":"True"}`},
		{"PUT", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"route@example.com","title":"T"}`},
		{"PATCH", "/Users/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`},
		{"POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"emails[type eq \"work\"].value eq \"x\""}`},
	} {
		req := httptest.NewRequestWithContext(writer, c.method, scim.Prefix+c.path, nil)
		req.Body = &onceBody{t: t, r: strings.NewReader(c.body)}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			t.Errorf("%s %s: %d %s", c.method, c.path, rec.Code, rec.Body)
		}
	}
}
