package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAuthRejectsBadCredentials: every way of not presenting a valid token
// is a 401 in the SCIM error shape, with a WWW-Authenticate challenge.
func TestAuthRejectsBadCredentials(t *testing.T) {
	e := newEnv(t)
	id := strings.Split(e.Writer, "_")[1] // sg_<id>_<secret>
	cases := []struct {
		name   string
		header string // the whole Authorization header; "" sends none
	}{
		{"no Authorization header", ""},
		{"empty bearer", "Bearer "},
		{"not a bearer scheme", "Basic " + e.Writer},
		{"bearer without space", "Bearer" + e.Writer},
		{"garbage token", "Bearer not-a-token"},
		{"missing prefix", "Bearer " + strings.TrimPrefix(e.Writer, "sg_")},
		{"short id", "Bearer sg_abc_secret"},
		{"id without secret", "Bearer sg_" + id + "_"},
		{"unknown id", "Bearer sg_000000000000_" + strings.SplitN(e.Writer, "_", 3)[2]},
		{"wrong secret for a real id", "Bearer sg_" + id + "_wrongsecretwrongsecretwrongsecret"},
		{"secret with one character changed", "Bearer " + e.Writer[:len(e.Writer)-1] + flip(e.Writer[len(e.Writer)-1])},
	}
	for _, tc := range cases {
		for _, req := range []struct{ method, path string }{{"GET", "/Users"}, {"POST", "/Users"}, {"GET", "/ServiceProviderConfig"}} {
			t.Run(tc.name+"/"+req.method+" "+req.path, func(t *testing.T) {
				var hdr []string
				if tc.header != "" {
					hdr = []string{"Authorization", tc.header}
				}
				var body any
				if req.method == "POST" {
					body = userBody("intruder@example.com", nil)
				}
				r := e.do(t, req.method, req.path, "", body, hdr...)
				wantError(t, r, http.StatusUnauthorized, "")
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", r.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	// Nothing got in.
	r := e.do(t, "GET", "/Users?count=0", e.Reader, nil)
	wantJSON(t, r, http.StatusOK)
	if n := r.num(t, "totalResults"); n != 0 {
		t.Errorf("totalResults = %d after rejected POSTs, want 0", n)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// TestAuthSchemeIsCaseInsensitive: RFC 7235 auth schemes are
// case-insensitive.
func TestAuthSchemeIsCaseInsensitive(t *testing.T) {
	e := newEnv(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		r := e.do(t, "GET", "/Users", "", nil, "Authorization", scheme+" "+e.Reader)
		wantJSON(t, r, http.StatusOK)
	}
}

// TestAuthRevokedToken: a deleted token fails on the very next request.
func TestAuthRevokedToken(t *testing.T) {
	e := newEnv(t)
	wantJSON(t, e.do(t, "GET", "/Users", e.Writer2, nil), http.StatusOK)
	if err := e.Store.DeleteToken(t.Context(), writer2Name); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	wantError(t, e.do(t, "GET", "/Users", e.Writer2, nil), http.StatusUnauthorized, "")
	wantError(t, e.do(t, "POST", "/Users", e.Writer2, userBody("late@example.com", nil)), http.StatusUnauthorized, "")
	// The other tokens still work.
	wantJSON(t, e.do(t, "GET", "/Users", e.Writer, nil), http.StatusOK)
	wantJSON(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusOK)
}

// TestAuthRoles: readers read (and search), writers write, admin tokens
// are not for SCIM.
func TestAuthRoles(t *testing.T) {
	e := newEnv(t)
	u := e.createUser(t, e.Writer, "target@example.com", map[string]any{"title": "Target"})
	uid := u.str("id")
	g := e.createGroup(t, e.Writer, "Targets", uid)
	gid := g.str("id")
	search := map[string]any{"schemas": []string{searchURN}, "filter": `userName eq "target@example.com"`}
	gsearch := map[string]any{"schemas": []string{searchURN}, "filter": `displayName eq "Targets"`}
	put := userBody("target@example.com", map[string]any{"title": "Changed"})
	patch := patchBody(op("replace", "title", "Changed"))

	cases := []struct {
		name, token, method, path string
		body                      any
		status                    int
	}{
		{"reader GET user", e.Reader, "GET", "/Users/" + uid, nil, 200},
		{"reader GET users", e.Reader, "GET", "/Users", nil, 200},
		{"reader GET group", e.Reader, "GET", "/Groups/" + gid, nil, 200},
		{"reader GET groups", e.Reader, "GET", "/Groups", nil, 200},
		{"reader search users", e.Reader, "POST", "/Users/.search", search, 200},
		{"reader search groups", e.Reader, "POST", "/Groups/.search", gsearch, 200},
		{"reader GET ServiceProviderConfig", e.Reader, "GET", "/ServiceProviderConfig", nil, 200},
		{"reader GET Schemas", e.Reader, "GET", "/Schemas", nil, 200},
		{"reader GET ResourceTypes", e.Reader, "GET", "/ResourceTypes", nil, 200},
		{"reader POST user", e.Reader, "POST", "/Users", userBody("new@example.com", nil), 403},
		{"reader PUT user", e.Reader, "PUT", "/Users/" + uid, put, 403},
		{"reader PATCH user", e.Reader, "PATCH", "/Users/" + uid, patch, 403},
		{"reader DELETE user", e.Reader, "DELETE", "/Users/" + uid, nil, 403},
		{"reader POST group", e.Reader, "POST", "/Groups", groupBody("New"), 403},
		{"reader PUT group", e.Reader, "PUT", "/Groups/" + gid, groupBody("Renamed"), 403},
		{"reader PATCH group", e.Reader, "PATCH", "/Groups/" + gid, patchBody(op("replace", "displayName", "Renamed")), 403},
		{"reader DELETE group", e.Reader, "DELETE", "/Groups/" + gid, nil, 403},
		{"admin GET users", e.Admin, "GET", "/Users", nil, 403},
		{"admin GET user", e.Admin, "GET", "/Users/" + uid, nil, 403},
		{"admin POST user", e.Admin, "POST", "/Users", userBody("new@example.com", nil), 403},
		{"admin DELETE user", e.Admin, "DELETE", "/Users/" + uid, nil, 403},
		{"admin ServiceProviderConfig", e.Admin, "GET", "/ServiceProviderConfig", nil, 403},
		{"writer GET user", e.Writer, "GET", "/Users/" + uid, nil, 200},
		{"other writer GET user", e.Writer2, "GET", "/Users/" + uid, nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot(t)
			r := e.do(t, tc.method, tc.path, tc.token, tc.body)
			if tc.status == 403 {
				wantError(t, r, 403, "")
			} else {
				wantJSON(t, r, tc.status)
			}
			wantUnchanged(t, before, e.snapshot(t))
		})
	}
	// A reader's search finds what the writer created.
	r := e.do(t, "POST", "/Users/.search", e.Reader, search)
	wantJSON(t, r, 200)
	if got := resourceField(r, "id"); len(got) != 1 || got[0] != uid {
		t.Errorf("reader search ids = %v, want [%s]", got, uid)
	}
}

// TestHealthEndpointsNeedNoToken: /healthz and /readyz answer without a
// token (and ignore a bad one).
func TestHealthEndpointsNeedNoToken(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		for _, tok := range []string{"", "garbage"} {
			r := e.do(t, "GET", path, tok, nil)
			wantStatus(t, r, http.StatusOK)
			if r.Body == nil || r.str("status") == "" {
				t.Errorf("%v: want a JSON status body", r)
			}
		}
	}
}

// TestReadyzFailsWithoutDatabase: readiness follows the database.
func TestReadyzFailsWithoutDatabase(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, e.do(t, "GET", "/readyz", "", nil), http.StatusOK)
	e.Store.Close()
	wantStatus(t, e.do(t, "GET", "/readyz", "", nil), http.StatusServiceUnavailable)
	wantStatus(t, e.do(t, "GET", "/healthz", "", nil), http.StatusOK)
}

// TestTokenRotationKeepsOwnership: ownership follows the token's name, so
// a token re-issued under the same name may change what the old one made.
func TestTokenRotationKeepsOwnership(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "rotated@example.com", nil).str("id")
	if err := e.Store.DeleteToken(t.Context(), writerName); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("replace", "title", "old"))), http.StatusUnauthorized, "")
	fresh := e.newToken(t, writerName, "writer")
	r := e.do(t, "PATCH", "/Users/"+id, fresh, patchBody(op("replace", "title", "new")))
	wantJSON(t, r, http.StatusOK)
	if r.str("title") != "new" {
		t.Errorf("title = %q", r.str("title"))
	}
	wantError(t, e.do(t, "DELETE", "/Users/"+id, e.Writer2, nil), http.StatusForbidden, "")
}
