package api_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

func fakeUsers(n int) []sources.UserRecord {
	var out []sources.UserRecord
	for i := range n {
		out = append(out, sourcetest.User(fmt.Sprint(i), fmt.Sprintf("fake%d@example.com", i)))
	}
	return out
}

func TestConfigAPIAuth(t *testing.T) {
	e := newAPIEnv(t)
	e.call(t, "GET", "/api/v1/sources", "", nil).wantErr(t, 401, "unauthorized")
	e.call(t, "GET", "/api/v1/sources", "sg_000000000000_nope", nil).wantErr(t, 401, "unauthorized")
	e.call(t, "GET", "/api/v1/sources", e.Reader, nil).wantErr(t, 403, "forbidden")
	e.call(t, "GET", "/api/v1/sources", e.Writer, nil).wantErr(t, 403, "forbidden")
	e.call(t, "GET", "/api/v1/sources", e.Admin, nil).want(t, 200)
	e.call(t, "GET", "/api/v1/sources", bootstrapToken, nil).want(t, 200)
	// Admin tokens are not SCIM writers (or readers).
	if r := e.call(t, "GET", "/scim/v2/Users", e.Admin, nil); r.Status != 403 {
		t.Errorf("admin on SCIM: %v", r)
	}
	kinds := e.call(t, "GET", "/api/v1/kinds", e.Admin, nil).want(t, 200)
	if !bytes.Contains(kinds.Raw, []byte(`"name":"csv"`)) || !bytes.Contains(kinds.Raw, []byte(`"userName":"{userName}"`)) {
		t.Errorf("kinds: %s", kinds.Raw)
	}
}

func TestTokensAPI(t *testing.T) {
	e := newAPIEnv(t)
	created := e.call(t, "POST", "/api/v1/tokens", bootstrapToken, map[string]any{"name": "hr-app", "role": "reader"}).want(t, 201)
	bearer := created.str("token")
	if bearer == "" || created.str("role") != "reader" {
		t.Fatalf("created: %s", created.Raw)
	}
	e.call(t, "GET", "/scim/v2/Users", bearer, nil).want(t, 200)
	list := e.call(t, "GET", "/api/v1/tokens", e.Admin, nil).want(t, 200)
	for _, tok := range list.Body["tokens"].([]any) {
		m := tok.(map[string]any)
		if used := m["lastUsed"] != nil; used != (m["name"] == "hr-app" || m["name"] == "ops") {
			t.Errorf("token %v: lastUsed %v", m["name"], m["lastUsed"])
		}
	}
	if bytes.Contains(list.Raw, []byte(bearer)) || !bytes.Contains(list.Raw, []byte(`"name":"hr-app"`)) {
		t.Errorf("list: %s", list.Raw)
	}
	if !bytes.Contains(list.Raw, []byte(`"lastUsed"`)) {
		t.Errorf("the admin token's use is not recorded: %s", list.Raw)
	}
	e.call(t, "POST", "/api/v1/tokens", e.Admin, map[string]any{"name": "hr-app", "role": "reader"}).wantErr(t, 409, "conflict")
	r := e.call(t, "POST", "/api/v1/tokens", e.Admin, map[string]any{"name": "", "role": "root"})
	fields, _ := r.wantErr(t, 422, "invalid")["fields"].(map[string]any)
	if fields["name"] == nil || fields["role"] == nil {
		t.Errorf("fields: %v", fields)
	}
	e.call(t, "DELETE", "/api/v1/tokens/hr-app", e.Admin, nil).want(t, 204)
	if r := e.call(t, "GET", "/scim/v2/Users", bearer, nil); r.Status != 401 {
		t.Errorf("revoked token: %v", r)
	}
	e.call(t, "DELETE", "/api/v1/tokens/hr-app", e.Admin, nil).wantErr(t, 404, "not_found")
	audit := e.call(t, "GET", "/api/v1/audit?limit=10", e.Admin, nil).want(t, 200)
	if !bytes.Contains(audit.Raw, []byte(`"action":"token.create","target":"hr-app"`)) && !bytes.Contains(audit.Raw, []byte(`"token.create"`)) {
		t.Errorf("audit: %s", audit.Raw)
	}
	if !bytes.Contains(audit.Raw, []byte(`"actor":"bootstrap"`)) || !bytes.Contains(audit.Raw, []byte(`"token.revoke"`)) {
		t.Errorf("audit lacks who did what: %s", audit.Raw)
	}
}
