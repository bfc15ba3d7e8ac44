package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestStrictBodies sends every SCIM route that reads a body a body that
// is JSON with something wrong with it, and expects 400 invalidSyntax
// (invalidValue for bytes that are not UTF-8) and
// no write; the same bodies, made right, succeed.
func TestStrictBodies(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser(t, e.Writer, "strict@example.com", nil).str("id")
	gid := e.createGroup(t, e.Writer, "Strict").str("id")
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	user := `{"schemas":["` + userURN + `"],"userName":"new@example.com"}`
	group := `{"schemas":["` + groupURN + `"],"displayName":"New"}`
	patch := `{"schemas":["` + patchURN + `"],"Operations":[{"op":"replace","path":"displayName","value":"x"}]}`
	search := `{"schemas":["` + searchURN + `"],"filter":"userName eq \"strict@example.com\""}`
	routes := []struct {
		method, path, good string
	}{
		{"POST", "/Users", user},
		{"PUT", "/Users/" + uid, `{"schemas":["` + userURN + `"],"userName":"strict@example.com"}`},
		{"PATCH", "/Users/" + uid, patch},
		{"POST", "/Groups", group},
		{"PUT", "/Groups/" + gid, `{"schemas":["` + groupURN + `"],"displayName":"Strict"}`},
		{"PATCH", "/Groups/" + gid, patch},
		{"POST", "/Users/.search", search},
		{"POST", "/Groups/.search", `{"schemas":["` + searchURN + `"]}`},
	}
	spoil := []struct {
		name string
		bad  func(good string) string
	}{
		{"trailing garbage", func(g string) string { return g + "garbage" }},
		{"a second value", func(g string) string { return g + ` {}` }},
		{"duplicate top-level key", func(g string) string { return `{"schemas":[],` + g[1:] }},
		{"duplicate key, other case", func(g string) string { return `{"SCHEMAS":[],` + g[1:] }},
		{"duplicate nested key", func(g string) string {
			return strings.Replace(g, `{"schemas"`, `{"meta":{"x":1,"X":2},"schemas"`, 1)
		}},
		{"too deep", func(g string) string { return strings.Replace(g, `{"schemas"`, `{"deep":`+deep+`,"schemas"`, 1) }},
		{"invalid UTF-8", func(g string) string { return strings.Replace(g, `"schemas"`, "\"z\":\"\xff\",\"schemas\"", 1) }},
	}
	for _, rt := range routes {
		for _, sp := range spoil {
			t.Run(rt.method+" "+rt.path+" "+sp.name, func(t *testing.T) {
				r := e.do(t, rt.method, rt.path, e.Writer, sp.bad(rt.good))
				want := "invalidSyntax"
				if sp.name == "invalid UTF-8" {
					want = "invalidValue" // the bytes are a value's fault (see scim/body.go)
				}
				wantError(t, r, http.StatusBadRequest, want)
				if sp.name == "too deep" && !strings.Contains(r.str("detail"), "32") {
					t.Errorf("%v\nwant the detail to name the limit, 32", r)
				}
			})
		}
	}
	// Nothing was written: the user and the group are as created, and no
	// other user or group exists.
	if r := e.do(t, "GET", "/Users", e.Reader, nil); r.num(t, "totalResults") != 1 {
		t.Errorf("%v\nwant the one user", r)
	}
	if g := e.getGroup(t, gid); g.str("displayName") != "Strict" {
		t.Errorf("%v\nthe group changed", g)
	}
	if r := e.do(t, "GET", "/Groups", e.Reader, nil); r.num(t, "totalResults") != 1 {
		t.Errorf("%v\nwant the one group", r)
	}
	// The good bodies still work.
	for _, rt := range routes {
		r := e.do(t, rt.method, rt.path, e.Writer, rt.good)
		if r.Status >= 300 {
			t.Errorf("%v\nthe good body failed", r)
		}
	}
}

// TestConfigAPIStrictBodies: the config API refuses the same bodies with
// its own error shape.
func TestConfigAPIStrictBodies(t *testing.T) {
	e := newAPIEnv(t)
	for _, tt := range []struct{ name, body string }{
		{"trailing garbage", `{"name":"strict-crm","role":"reader"}garbage`},
		{"duplicate key", `{"name":"strict-crm","role":"reader","role":"admin"}`},
		{"duplicate key, other case", `{"name":"strict-crm","role":"reader","ROLE":"admin"}`},
		{"too deep", `{"name":"strict-crm","role":"reader","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.call(t, "POST", "/api/v1/tokens", e.Admin, tt.body).wantErr(t, http.StatusBadRequest, "bad_request")
		})
	}
	r := e.call(t, "GET", "/api/v1/tokens", e.Admin, nil).want(t, http.StatusOK)
	if strings.Contains(string(r.Raw), `"strict-crm"`) {
		t.Errorf("%v\na refused body created a token", r)
	}
	e.call(t, "POST", "/api/v1/tokens", e.Admin, `{"name":"strict-crm","role":"reader"}`).want(t, http.StatusCreated)
}

// TestPatchLimits: the operation cap (exactly the cap passes, one more is
// 400 tooMany), advertised in /ServiceProviderConfig, and the bounds on
// paths.
func TestPatchLimits(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser(t, e.Writer, "ops@example.com", nil).str("id")
	gid := e.createGroup(t, e.Writer, "Ops").str("id")

	spc := e.do(t, "GET", "/ServiceProviderConfig", e.Reader, nil)
	wantJSON(t, spc, http.StatusOK)
	const limit = 1000
	if got := spc.num(t, "patch", "maxOperations"); got != limit || spc.get("patch", "supported") != true {
		t.Fatalf("%v\nwant patch {supported: true, maxOperations: %d}", spc, limit)
	}
	ops := func(n int) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = op("replace", "title", fmt.Sprintf("t%d", i))
		}
		return out
	}
	r := e.do(t, "PATCH", "/Users/"+uid, e.Writer, patchBody(ops(limit)...))
	wantJSON(t, r, http.StatusOK)
	if r.str("title") != fmt.Sprintf("t%d", limit-1) {
		t.Errorf("%v\nwant the last operation's title", r)
	}
	r = e.do(t, "PATCH", "/Users/"+uid, e.Writer, patchBody(append(ops(limit), op("replace", "title", "over"))...))
	wantError(t, r, http.StatusBadRequest, "tooMany")
	if !strings.Contains(r.str("detail"), "1000") {
		t.Errorf("%v\nwant the detail to name the cap", r)
	}
	groupOps := make([]map[string]any, limit+1)
	for i := range groupOps {
		groupOps[i] = op("replace", "displayName", fmt.Sprintf("g%d", i))
	}
	wantError(t, e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(groupOps...)), http.StatusBadRequest, "tooMany")
	wantStatus(t, e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(groupOps[:limit]...)), http.StatusNoContent)
	if g := e.getGroup(t, gid); g.str("displayName") != fmt.Sprintf("g%d", limit-1) {
		t.Errorf("%v\nwant the last displayName", g)
	}
	if u := e.do(t, "GET", "/Users/"+uid, e.Reader, nil); u.str("title") != fmt.Sprintf("t%d", limit-1) {
		t.Errorf("%v\nthe refused PATCH changed the user", u)
	}

	nested := func(n int) string {
		// The brackets count as one level; each "not (" as another.
		return "members[" + strings.Repeat("not (", n) + `value eq "x"` + strings.Repeat(")", n) + "]"
	}
	for _, tt := range []struct {
		name, path string
		value      any
		status     int
		scimType   string
	}{
		// The value filter grammar takes one "not (" only; the bound is
		// there to stop a long text before the parser sees it.
		{"a nesting the parser takes", nested(1), nil, http.StatusNoContent, ""},
		{"nesting past the bound", nested(8), nil, http.StatusBadRequest, "invalidPath"},
		{"very deep parentheses", "members[" + strings.Repeat("(", 100_000) + "]", nil, http.StatusBadRequest, "invalidPath"},
		{"parentheses inside a string do not count", `members[value eq "` + strings.Repeat("(", 50) + `"]`, nil, http.StatusNoContent, ""},
		{"long path", `members[value eq "` + strings.Repeat("x", 5000) + `"]`, nil, http.StatusBadRequest, "invalidPath"},
		{"long key of a path-less value", "", map[string]any{strings.Repeat("a", 5000): "x"}, http.StatusBadRequest, "invalidPath"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := op("remove", tt.path, nil)
			if tt.value != nil {
				o = op("replace", "", tt.value)
			}
			r := e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(o))
			if tt.scimType == "" {
				wantStatus(t, r, tt.status)
				return
			}
			wantError(t, r, tt.status, tt.scimType)
			if !strings.Contains(r.str("detail"), "at most") {
				t.Errorf("%v\nwant the detail to name the limit", r)
			}
		})
	}
}

// TestPatchAddTenThousandMembers: one operation may carry any number of
// values; an add of 10,000 members (about 600 KB) is one operation and
// leaves exactly those members.
func TestPatchAddTenThousandMembers(t *testing.T) {
	e := newEnv(t)
	ids := e.seedBulkUsers(t, "ten", 10_000)
	gid := e.createGroup(t, e.Writer, "Ten thousand").str("id")
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = map[string]any{"value": id, "type": "User"}
	}
	r := e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(op("add", "members", members)))
	wantStatus(t, r, http.StatusNoContent)
	got, _, _ := e.getBigGroup(t, gid, "")
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.Value] = true
	}
	if len(got) != len(ids) || len(seen) != len(ids) {
		t.Fatalf("%d members (%d distinct), want %d", len(got), len(seen), len(ids))
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("member %s missing", id)
		}
	}
}
