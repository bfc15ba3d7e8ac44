package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/api"
)

// rejected is a request the server must refuse without changing anything.
type rejected struct {
	name                string
	token               string // "" = the writer
	method, path        string
	body                any
	headers             []string
	status              int
	scimType            string
	detailContains      string
	detailShouldNotHave string
}

// runRejected sends each request and checks the error and that the
// server's whole state (every user and group, meta included) is the same
// bytes before and after.
func runRejected(t *testing.T, e *env, cases []rejected) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token
			if tok == "" {
				tok = e.Writer
			}
			before := e.snapshot(t)
			r := e.do(t, tc.method, tc.path, tok, tc.body, tc.headers...)
			if alt := strings.Split(tc.scimType, "|"); len(alt) > 1 {
				// Either keyword is defensible (RFC 7644 §3.12 overlaps).
				got := r.str("scimType")
				if !slices.Contains(alt, got) {
					t.Errorf("%v\nscimType = %q, want one of %v", r, got, alt)
				}
				wantError(t, r, tc.status, got)
			} else {
				wantError(t, r, tc.status, tc.scimType)
			}
			detail := r.str("detail")
			if tc.detailContains != "" && !strings.Contains(detail, tc.detailContains) {
				t.Errorf("detail = %q, want it to mention %q", detail, tc.detailContains)
			}
			if tc.detailShouldNotHave != "" && strings.Contains(detail, tc.detailShouldNotHave) {
				t.Errorf("detail = %q, must not mention %q", detail, tc.detailShouldNotHave)
			}
			wantUnchanged(t, before, e.snapshot(t))
		})
	}
}

func TestUniqueness(t *testing.T) {
	e := newEnv(t)
	alice := e.createUser(t, e.Writer, "alice@example.com", nil).str("id")
	bob := e.createUser(t, e.Writer, "bob@example.com", nil).str("id")
	eng := e.createGroup(t, e.Writer, "Engineering", alice).str("id")
	ops := e.createGroup(t, e.Writer, "Ops").str("id")
	runRejected(t, e, []rejected{
		{name: "POST same userName", method: "POST", path: "/Users", body: userBody("alice@example.com", nil), status: 409, scimType: "uniqueness"},
		{name: "POST userName differing in case", method: "POST", path: "/Users", body: userBody("Alice@Example.com", nil), status: 409, scimType: "uniqueness"},
		{name: "POST by another writer", token: e.Writer2, method: "POST", path: "/Users", body: userBody("ALICE@EXAMPLE.COM", nil), status: 409, scimType: "uniqueness"},
		{name: "PUT onto a taken userName", method: "PUT", path: "/Users/" + bob, body: userBody("ALICE@example.com", map[string]any{"title": "x"}), status: 409, scimType: "uniqueness"},
		{name: "PATCH onto a taken userName", method: "PATCH", path: "/Users/" + bob, body: patchBody(op("replace", "title", "x"), op("replace", "userName", "alice@EXAMPLE.com")), status: 409, scimType: "uniqueness"},
		{name: "POST same group displayName", method: "POST", path: "/Groups", body: groupBody("Engineering"), status: 409, scimType: "uniqueness"},
		{name: "POST group displayName differing in case", method: "POST", path: "/Groups", body: groupBody("engineering", bob), status: 409, scimType: "uniqueness"},
		{name: "PUT group onto a taken displayName", method: "PUT", path: "/Groups/" + ops, body: groupBody("ENGINEERING", bob), status: 409, scimType: "uniqueness"},
		{name: "PATCH group onto a taken displayName", method: "PATCH", path: "/Groups/" + ops, body: patchBody(op("add", "members", []any{map[string]any{"value": bob}}), op("replace", "displayName", "EngineeRing")), status: 409, scimType: "uniqueness"},
	})
	_ = eng
	// Renaming to its own name in another case is not a conflict.
	r := e.do(t, "PUT", "/Users/"+alice, e.Writer, userBody("ALICE@example.com", nil))
	wantJSON(t, r, http.StatusOK)
}

func TestOwnership(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser(t, e.Writer, "owned@example.com", map[string]any{"title": "Mine"}).str("id")
	gid := e.createGroup(t, e.Writer, "Owned", uid).str("id")
	other := e.createUser(t, e.Writer2, "other@example.com", nil).str("id")
	runRejected(t, e, []rejected{
		{name: "PUT user", token: e.Writer2, method: "PUT", path: "/Users/" + uid, body: userBody("owned@example.com", map[string]any{"title": "Theirs"}), status: 403, detailContains: writerName, detailShouldNotHave: writer2Name},
		{name: "PATCH user", token: e.Writer2, method: "PATCH", path: "/Users/" + uid, body: patchBody(op("replace", "title", "Theirs")), status: 403, detailContains: writerName, detailShouldNotHave: writer2Name},
		{name: "DELETE user", token: e.Writer2, method: "DELETE", path: "/Users/" + uid, status: 403, detailContains: writerName, detailShouldNotHave: writer2Name},
		{name: "PUT group", token: e.Writer2, method: "PUT", path: "/Groups/" + gid, body: groupBody("Owned"), status: 403, detailContains: writerName},
		{name: "PATCH group", token: e.Writer2, method: "PATCH", path: "/Groups/" + gid, body: patchBody(op("add", "members", []any{map[string]any{"value": other}})), status: 403, detailContains: writerName},
		{name: "DELETE group", token: e.Writer2, method: "DELETE", path: "/Groups/" + gid, status: 403, detailContains: writerName},
		{name: "first writer cannot PATCH the second's user", method: "PATCH", path: "/Users/" + other, body: patchBody(op("replace", "title", "x")), status: 403, detailContains: writer2Name},
	})
	// The owner can.
	r := e.do(t, "PUT", "/Users/"+uid, e.Writer, userBody("owned@example.com", map[string]any{"title": "Still mine"}))
	wantJSON(t, r, 200)
	r = e.do(t, "PATCH", "/Users/"+uid, e.Writer, patchBody(op("replace", "title", "Really mine")))
	wantJSON(t, r, 200)
	if r.str("title") != "Really mine" {
		t.Errorf("title = %v", r.get("title"))
	}
	wantStatus(t, e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(op("replace", "displayName", "Owned2"))), 204)
	wantStatus(t, e.do(t, "DELETE", "/Groups/"+gid, e.Writer, nil), 204)
	wantStatus(t, e.do(t, "DELETE", "/Users/"+uid, e.Writer, nil), 204)
	wantStatus(t, e.do(t, "DELETE", "/Users/"+other, e.Writer2, nil), 204)
}

func TestETags(t *testing.T) {
	e := newEnv(t)
	c := e.createUser(t, e.Writer, "etag@example.com", map[string]any{"title": "v1"})
	id := c.str("id")
	g := e.do(t, "GET", "/Users/"+id, e.Writer, nil)
	wantJSON(t, g, 200)
	if g.Header.Get("ETag") != `W/"1"` {
		t.Fatalf("ETag = %q, want W/\"1\"", g.Header.Get("ETag"))
	}
	for _, inm := range []string{`W/"1"`, `"1"`, `W/"7", W/"1"`, `*`} {
		r := e.do(t, "GET", "/Users/"+id, e.Writer, nil, "If-None-Match", inm)
		wantStatus(t, r, http.StatusNotModified)
		if len(r.Raw) != 0 || r.Header.Get("ETag") != `W/"1"` {
			t.Errorf("If-None-Match %s: 304 with body %q, ETag %q", inm, r.Raw, r.Header.Get("ETag"))
		}
	}
	wantJSON(t, e.do(t, "GET", "/Users/"+id, e.Writer, nil, "If-None-Match", `W/"2"`), 200)

	stale := []string{"If-Match", `W/"2"`}
	runRejected(t, e, []rejected{
		{name: "PUT stale", method: "PUT", path: "/Users/" + id, body: userBody("etag@example.com", map[string]any{"title": "v2"}), headers: stale, status: 412},
		{name: "PATCH stale", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "title", "v2")), headers: stale, status: 412},
		{name: "DELETE stale", method: "DELETE", path: "/Users/" + id, headers: stale, status: 412},
		{name: "PATCH list of stale tags", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "title", "v2")), headers: []string{"If-Match", `W/"0", W/"3"`}, status: 412},
	})

	r := e.do(t, "PUT", "/Users/"+id, e.Writer, userBody("etag@example.com", map[string]any{"title": "v2"}), "If-Match", `W/"1"`)
	wantJSON(t, r, 200)
	if r.Header.Get("ETag") != `W/"2"` || r.str("title") != "v2" {
		t.Errorf("PUT with matching If-Match: ETag %q title %q", r.Header.Get("ETag"), r.str("title"))
	}
	// The old tag no longer matches; the new one does.
	wantJSON(t, e.do(t, "GET", "/Users/"+id, e.Writer, nil, "If-None-Match", `W/"1"`), 200)
	wantStatus(t, e.do(t, "GET", "/Users/"+id, e.Writer, nil, "If-None-Match", `W/"2"`), 304)
	runRejected(t, e, []rejected{
		{name: "PATCH with the pre-PUT tag", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "title", "v3")), headers: []string{"If-Match", `W/"1"`}, status: 412},
	})
	r = e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("replace", "title", "v3")), "If-Match", `W/"2"`)
	wantJSON(t, r, 200)
	if r.Header.Get("ETag") != `W/"3"` {
		t.Errorf("PATCH ETag = %q, want W/\"3\"", r.Header.Get("ETag"))
	}
	wantStatus(t, e.do(t, "DELETE", "/Users/"+id, e.Writer, nil, "If-Match", `W/"3"`), 204)
	wantError(t, e.do(t, "GET", "/Users/"+id, e.Writer, nil), 404, "")

	// Groups too.
	gid := e.createGroup(t, e.Writer, "Tagged").str("id")
	gg := e.do(t, "GET", "/Groups/"+gid, e.Writer, nil)
	if gg.Header.Get("ETag") != `W/"1"` {
		t.Errorf("group ETag = %q", gg.Header.Get("ETag"))
	}
	wantStatus(t, e.do(t, "GET", "/Groups/"+gid, e.Writer, nil, "If-None-Match", `W/"1"`), 304)
	runRejected(t, e, []rejected{
		{name: "group PATCH stale", method: "PATCH", path: "/Groups/" + gid, body: patchBody(op("replace", "displayName", "X")), headers: stale, status: 412},
		{name: "group PUT stale", method: "PUT", path: "/Groups/" + gid, body: groupBody("X"), headers: stale, status: 412},
		{name: "group DELETE stale", method: "DELETE", path: "/Groups/" + gid, headers: stale, status: 412},
	})
	p := e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(op("replace", "displayName", "X")), "If-Match", `W/"1"`)
	wantStatus(t, p, 204)
	if p.Header.Get("ETag") != `W/"2"` {
		t.Errorf("group PATCH ETag = %q, want W/\"2\"", p.Header.Get("ETag"))
	}
}

func TestRequestErrors(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "victim@example.com", map[string]any{
		"title": "Keep", "emails": []any{map[string]any{"value": "victim@example.com", "type": "work"}},
	}).str("id")
	gid := e.createGroup(t, e.Writer, "Victims", id).str("id")
	const nope = "00000000-0000-0000-0000-000000000000"
	u := func(extra string) string { return `{"schemas":["` + userURN + `"]` + extra + `}` }
	runRejected(t, e, []rejected{
		// bodies
		{name: "POST malformed JSON", method: "POST", path: "/Users", body: `{"userName": "x"`, status: 400, scimType: "invalidSyntax"},
		{name: "POST not an object", method: "POST", path: "/Users", body: `["userName"]`, status: 400, scimType: "invalidSyntax"},
		{name: "POST empty body", method: "POST", path: "/Users", body: ``, status: 400, scimType: "invalidSyntax"},
		{name: "POST active is a string", method: "POST", path: "/Users", body: u(`,"userName":"new@example.com","active":"yes"`), status: 400, scimType: "invalidValue"},
		{name: "POST userName is a number", method: "POST", path: "/Users", body: u(`,"userName":5`), status: 400, scimType: "invalidValue"},
		{name: "POST emails is a string", method: "POST", path: "/Users", body: u(`,"userName":"new@example.com","emails":"a@b.c"`), status: 400, scimType: "invalidValue|invalidSyntax"},
		{name: "POST name is a string", method: "POST", path: "/Users", body: u(`,"userName":"new@example.com","name":"New"`), status: 400, scimType: "invalidValue|invalidSyntax"},
		{name: "POST missing userName", method: "POST", path: "/Users", body: u(`,"displayName":"No Name"`), status: 400, scimType: "invalidValue"},
		{name: "POST blank userName", method: "POST", path: "/Users", body: u(`,"userName":"   "`), status: 400, scimType: "invalidValue"},
		{name: "PUT malformed JSON", method: "PUT", path: "/Users/" + id, body: `{"userName":`, status: 400, scimType: "invalidSyntax"},
		{name: "PUT active is a string", method: "PUT", path: "/Users/" + id, body: u(`,"userName":"victim@example.com","active":"yes"`), status: 400, scimType: "invalidValue"},
		{name: "PUT missing userName", method: "PUT", path: "/Users/" + id, body: u(`,"title":"Changed"`), status: 400, scimType: "invalidValue"},
		{name: "POST group malformed", method: "POST", path: "/Groups", body: `{"displayName"`, status: 400, scimType: "invalidSyntax"},
		{name: "POST group missing displayName", method: "POST", path: "/Groups", body: `{"schemas":["` + groupURN + `"]}`, status: 400, scimType: "invalidValue"},
		// PATCH
		{name: "PATCH malformed JSON", method: "PATCH", path: "/Users/" + id, body: `{"Operations":[`, status: 400, scimType: "invalidSyntax"},
		{name: "PATCH unknown attribute path", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "nosuch", "x")), status: 400, scimType: "invalidPath"},
		{name: "PATCH unknown sub-attribute path", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "name.nosuch", "x")), status: 400, scimType: "invalidPath"},
		{name: "PATCH unparsable path", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", `emails[type eq`, "x")), status: 400, scimType: "invalidPath"},
		{name: "PATCH second op has a bad path", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "title", "Changed"), op("replace", "nosuch", "x")), status: 400, scimType: "invalidPath"},
		{name: "PATCH remove without path", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "title", "Changed"), op("remove", "", nil)), status: 400, scimType: "noTarget"},
		{name: "PATCH active is a string", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "active", "yes")), status: 400, scimType: "invalidValue"},
		{name: "PATCH remove userName", method: "PATCH", path: "/Users/" + id, body: patchBody(op("remove", "userName", nil)), status: 400, scimType: "invalidValue"},
		{name: "PATCH filter matches nothing", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", `emails[value co "zzz"].type`, "home")), status: 400, scimType: "noTarget"},
		{name: "PATCH group remove without path", method: "PATCH", path: "/Groups/" + gid, body: patchBody(op("remove", "", nil)), status: 400, scimType: "noTarget"},
		{name: "PATCH group unknown path", method: "PATCH", path: "/Groups/" + gid, body: patchBody(op("replace", "nosuch", "x")), status: 400, scimType: "invalidPath"},
		// unknown ids
		{name: "GET unknown user", method: "GET", path: "/Users/" + nope, status: 404},
		{name: "PUT unknown user", method: "PUT", path: "/Users/" + nope, body: userBody("ghost@example.com", nil), status: 404},
		{name: "PATCH unknown user", method: "PATCH", path: "/Users/" + nope, body: patchBody(op("replace", "title", "x")), status: 404},
		{name: "DELETE unknown user", method: "DELETE", path: "/Users/" + nope, status: 404},
		{name: "GET unknown group", method: "GET", path: "/Groups/" + nope, status: 404},
		{name: "PATCH unknown group", method: "PATCH", path: "/Groups/" + nope, body: patchBody(op("replace", "displayName", "x")), status: 404},
		{name: "DELETE unknown group", method: "DELETE", path: "/Groups/" + nope, status: 404},
		{name: "unknown endpoint", method: "GET", path: "/Widgets", status: 404},
		// list parameters
		{name: "count not a number", method: "GET", path: "/Users?count=abc", status: 400, scimType: "invalidValue"},
		{name: "startIndex not a number", method: "GET", path: "/Users?startIndex=x1", status: 400, scimType: "invalidValue"},
		{name: "group count not a number", method: "GET", path: "/Groups?count=1.5", status: 400, scimType: "invalidValue"},
	})
}

// TestBodyLimit: bodies over MaxBodyBytes are refused with 413 whether or
// not the client declared their length.
func TestBodyLimit(t *testing.T) {
	e := newEnvWith(t, api.Config{MaxBodyBytes: 4096})
	id := e.createUser(t, e.Writer, "small@example.com", nil).str("id")
	big := func(n int) map[string]any {
		return userBody("big@example.com", map[string]any{"displayName": strings.Repeat("x", n)})
	}
	runRejected(t, e, []rejected{
		{name: "POST over the limit", method: "POST", path: "/Users", body: big(5000), status: 413},
		{name: "POST over the limit, chunked", method: "POST", path: "/Users", body: io.MultiReader(strings.NewReader(mustJSON(t, big(5000)))), status: 413},
		{name: "PUT over the limit", method: "PUT", path: "/Users/" + id, body: big(4100), status: 413},
		{name: "PATCH over the limit", method: "PATCH", path: "/Users/" + id, body: patchBody(op("replace", "displayName", strings.Repeat("y", 5000))), status: 413},
		{name: "search over the limit", method: "POST", path: "/Users/.search", body: map[string]any{"schemas": []string{searchURN}, "filter": `userName eq "` + strings.Repeat("z", 5000) + `"`}, status: 413},
	})
	// Just under the limit is fine, chunked or not.
	e.createUser(t, e.Writer, "under@example.com", map[string]any{"displayName": strings.Repeat("u", 3900)})
	r := e.do(t, "POST", "/Users", e.Writer, io.MultiReader(strings.NewReader(mustJSON(t, userBody("under2@example.com", map[string]any{"displayName": strings.Repeat("v", 3900)})))))
	wantJSON(t, r, 201)

	// The default limit is 1 MiB.
	d := newEnv(t)
	runRejected(t, d, []rejected{
		{name: "POST over 1 MiB", method: "POST", path: "/Users", body: big(1<<20 + 10), status: 413},
	})
	// Half of it, in values each within the attribute limits (README, "Limits").
	half := make([]any, 100)
	for i := range half {
		half[i] = map[string]any{"value": strings.Repeat("h", 4000), "display": strings.Repeat("d", 1300)}
	}
	d.createUser(t, d.Writer, "half@example.com", map[string]any{"emails": half})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
