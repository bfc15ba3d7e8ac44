package api_test

import (
	"bytes"
	"context"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// goodPush is a valid push with a bearer token, which tests change field
// by field.
func goodPush() map[string]any {
	return map[string]any{
		"url":  "http://127.0.0.1:9/scim/v2",
		"auth": map[string]any{"type": "bearer", "token": "target-token-1"},
	}
}

func with(base map[string]any, kv ...any) map[string]any {
	out := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestAppPushInputProblems: every bad push field is a 400 that names the
// field by its path, and all of a request's problems come at once.
func TestAppPushInputProblems(t *testing.T) {
	e := newAPIEnv(t)
	bearer := func(kv ...any) map[string]any { return with(map[string]any{"type": "bearer", "token": "t"}, kv...) }
	oauth := func(kv ...any) map[string]any {
		return with(map[string]any{"type": "oauth2", "tokenURL": "https://login.example.com/token", "clientId": "c", "clientSecret": "s"}, kv...)
	}
	tests := []struct {
		name   string
		push   map[string]any
		fields []string
	}{
		{"no url", with(goodPush(), "url", nil), []string{"push.url"}},
		{"empty url", with(goodPush(), "url", " "), []string{"push.url"}},
		{"not http", with(goodPush(), "url", "ftp://example.com/scim"), []string{"push.url"}},
		{"relative url", with(goodPush(), "url", "/scim/v2"), []string{"push.url"}},
		{"plain http to another host", with(goodPush(), "url", "http://api.example.com/scim/v2"), []string{"push.url"}},
		{"credentials in the url", with(goodPush(), "url", "https://u:p@api.example.com/scim/v2"), []string{"push.url"}},
		{"a query", with(goodPush(), "url", "https://api.example.com/scim/v2?x=1"), []string{"push.url"}},
		{"no auth", with(goodPush(), "auth", nil), []string{"push.auth.type"}},
		{"unknown auth type", with(goodPush(), "auth", map[string]any{"type": "basic"}), []string{"push.auth.type"}},
		{"bearer without a token", with(goodPush(), "auth", map[string]any{"type": "bearer"}), []string{"push.auth.token"}},
		{"bearer with oauth2 settings", with(goodPush(), "auth", bearer("clientId", "c", "clientSecret", "s")),
			[]string{"push.auth.clientId", "push.auth.clientSecret"}},
		{"oauth2 without its settings", with(goodPush(), "auth", map[string]any{"type": "oauth2"}),
			[]string{"push.auth.tokenURL", "push.auth.clientId", "push.auth.clientSecret"}},
		{"oauth2 token URL in clear text", with(goodPush(), "auth", oauth("tokenURL", "http://login.example.com/token")), []string{"push.auth.tokenURL"}},
		{"oauth2 with a bearer token", with(goodPush(), "auth", oauth("token", "t")), []string{"push.auth.token"}},
		{"a kept secret that is not stored", with(goodPush(), "auth", bearer("token", "set")), []string{"push.auth.token"}},
		{"bad schedule", with(goodPush(), "schedule", "every tuesday"), []string{"push.schedule"}},
		{"schedule too short", with(goodPush(), "schedule", "10s"), []string{"push.schedule"}},
		{"negative afterChangeSeconds", with(goodPush(), "afterChangeSeconds", -1), []string{"push.afterChangeSeconds"}},
		{"afterChangeSeconds too long", with(goodPush(), "afterChangeSeconds", 86401), []string{"push.afterChangeSeconds"}},
		{"unknown profile", with(goodPush(), "profile", "okta"), []string{"push.profile"}},
		{"match on email", with(goodPush(), "match", []string{"userName", "email"}), []string{"push.match"}},
		{"match twice", with(goodPush(), "match", []string{"userName", "userName"}), []string{"push.match"}},
		{"match nothing", with(goodPush(), "match", []string{}), []string{"push.match"}},
		{"unknown onLeave", with(goodPush(), "onLeave", "suspend"), []string{"push.onLeave"}},
		{"deletion out of bounds", with(goodPush(), "deletion", map[string]any{"maxPercent": 150, "maxCount": -1}),
			[]string{"push.deletion.maxPercent", "push.deletion.maxCount"}},
		{"mapping to an unknown attribute", with(goodPush(), "mapping", map[string]any{"user": map[string]any{"shoeSize": "{x}"}}),
			[]string{"push.mapping.user.shoeSize"}},
		{"mapping that does not compile", with(goodPush(), "mapping", map[string]any{"user": map[string]any{"title": "{title"}}),
			[]string{"push.mapping.user.title"}},
		{"everything at once", map[string]any{"url": "http://api.example.com", "auth": map[string]any{"type": "oauth2"},
			"profile": "x", "onLeave": "x", "schedule": "x"},
			[]string{"push.url", "push.profile", "push.onLeave", "push.schedule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "crm", "push": tt.push})
			eobj := r.wantErr(t, 400, "bad_request")
			fields, _ := eobj["fields"].(map[string]any)
			for _, f := range tt.fields {
				if s, _ := fields[f].(string); s == "" {
					t.Errorf("no problem named %s in %s", f, r.Raw)
				}
			}
			if bytes.Contains(r.Raw, []byte("target-token-1")) {
				t.Errorf("the answer repeats the secret: %s", r.Raw)
			}
		})
	}
	// The push's problems come with the app's own.
	r := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "", "groups": "some", "push": with(goodPush(), "profile", "x")})
	fields, _ := r.wantErr(t, 400, "bad_request")["fields"].(map[string]any)
	for _, f := range []string{"name", "groups", "push.profile"} {
		if fields[f] == nil {
			t.Errorf("no problem named %s in %s", f, r.Raw)
		}
	}
	// The wrong JSON type is named by its path, in the request's terms.
	for body, want := range map[string]string{
		`{"name": "crm", "push": 5}`:                        "push must be an object or null, not number",
		`{"name": "crm", "push": {"auth": {"type": true}}}`: "push.auth.type must be a string, not bool",
		`{"name": "crm", "push": {"match": "userName"}}`:    "push.match must be a list, not string",
	} {
		r := e.call(t, "POST", "/api/v1/apps", e.Admin, body)
		if msg, _ := r.wantErr(t, 400, "bad_request")["message"].(string); !strings.Contains(msg, want) {
			t.Errorf("%s: message %q lacks %q", body, msg, want)
		}
	}
	// An unknown member of push is a typo, not ignored.
	r = e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "crm", "push": with(goodPush(), "urll", "x")})
	if msg := r.wantErr(t, 400, "bad_request")["message"].(string); !strings.Contains(msg, "urll") {
		t.Errorf("message does not name the unknown field: %s", r.Raw)
	}
	if list := e.call(t, "GET", "/api/v1/apps", e.Admin, nil).want(t, 200); len(list.Body["apps"].([]any)) != 0 {
		t.Errorf("a refused app was stored: %s", list.Raw)
	}
	// A PATCH that gives an app its first push must say where and how.
	e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "bare"}).want(t, 201)
	r = e.call(t, "PATCH", "/api/v1/apps/bare", e.Admin, map[string]any{"push": map[string]any{"schedule": "15m"}})
	if f, _ := r.wantErr(t, 400, "bad_request")["fields"].(map[string]any); f["push.url"] == nil || f["push.auth.type"] == nil {
		t.Errorf("first push by PATCH without url and auth: %s", r.Raw)
	}
}

// TestAppPushWithoutSecretKey: a server without a secret key refuses a
// push secret by name instead of storing it in the clear.
func TestAppPushWithoutSecretKey(t *testing.T) {
	st, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "scimgate.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := api.New(api.Config{Store: st, BootstrapAdminToken: bootstrapToken})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &apiEnv{URL: ts.URL, Store: st, client: ts.Client()}
	r := e.call(t, "POST", "/api/v1/apps", bootstrapToken, map[string]any{"name": "crm", "push": goodPush()})
	f, _ := r.wantErr(t, 400, "bad_request")["fields"].(map[string]any)
	if msg, _ := f["push.auth.token"].(string); !strings.Contains(msg, "no secret key") {
		t.Errorf("push without a secret key: %s", r.Raw)
	}
}

// pushOf reads an app's stored push.
func pushOf(t *testing.T, e *apiEnv, id string) *storage.PushConfig {
	t.Helper()
	a, err := e.Store.GetApp(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Push
}

// openSecret opens a stored push secret with the server's key, for the
// app it was sealed for.
func openSecret(t *testing.T, e *apiEnv, appID string, p *storage.PushConfig, name string) string {
	t.Helper()
	if p == nil || p.Secrets[name] == nil {
		t.Fatalf("no %s stored: %+v", name, p)
	}
	v, err := e.Sealer.Open(appID, name, p.Secrets[name])
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	return v
}

// TestAppPushSecrets: secrets are sealed for the app, shown only as
// "set", kept by a PATCH or PUT that does not resend them, replaced by
// one that does, dropped with the auth type they belong to; push: null
// removes the push. No answer ever carries a secret.
func TestAppPushSecrets(t *testing.T) { forEachAPIStore(t, testAppPushSecrets) }

func testAppPushSecrets(t *testing.T, e *apiEnv) {
	push := with(goodPush(), "schedule", "15m", "afterChangeSeconds", 30, "profile", "aws", "match", []string{"userName", "externalId"},
		"onLeave", "delete", "deletion", map[string]any{"maxPercent": 10, "maxCount": 50},
		"mapping", map[string]any{"user": map[string]any{"userName": "{emails.work}"}})
	created := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "crm", "push": push}).want(t, 201)
	id := created.str("id")
	p := created.Body["push"].(map[string]any)
	if p["url"] != "http://127.0.0.1:9/scim/v2" || p["schedule"] != "15m" || p["afterChangeSeconds"] != 30.0 || p["profile"] != "aws" ||
		p["onLeave"] != "delete" || p["enabled"] != true || !slices.Equal(strList(p["match"]), []string{"userName", "externalId"}) ||
		p["deletion"].(map[string]any)["maxCount"] != 50.0 || created.str("push", "auth", "token") != "set" || created.str("push", "auth", "type") != "bearer" {
		t.Fatalf("created push: %s", created.Raw)
	}
	if got := openSecret(t, e, id, pushOf(t, e, id), storage.PushSecretToken); got != "target-token-1" {
		t.Fatalf("sealed token opens to %q", got)
	}
	if _, err := e.Sealer.Open("another-app", storage.PushSecretToken, pushOf(t, e, id).Secrets[storage.PushSecretToken]); err == nil {
		t.Error("the token opens for another id: it is not bound to the app")
	}
	if g := e.call(t, "GET", "/api/v1/apps/crm", e.Admin, nil).want(t, 200); g.str("push", "auth", "token") != "set" {
		t.Errorf("GET: %s", g.Raw)
	}

	sealed := pushOf(t, e, id).Secrets[storage.PushSecretToken]
	steps := []struct {
		name       string
		method     string
		body       map[string]any
		wantToken  string // "" : no token stored
		wantSecret string // the oauth2 client secret, "" : none
		check      func(t *testing.T, r *apiResp, p *storage.PushConfig)
	}{
		{"PATCH without secrets keeps the token", "PATCH", map[string]any{"push": map[string]any{"schedule": "30m"}}, "target-token-1", "",
			func(t *testing.T, r *apiResp, p *storage.PushConfig) {
				if !bytes.Equal(p.Secrets[storage.PushSecretToken], sealed) || p.Schedule != "30m" || p.Profile != "aws" || p.AfterChangeSeconds != 30 {
					t.Errorf("PATCH changed more than the schedule: %+v", p)
				}
			}},
		{"PATCH of the app alone keeps the push", "PATCH", map[string]any{"description": "x"}, "target-token-1", "",
			func(t *testing.T, r *apiResp, p *storage.PushConfig) {
				if p.Schedule != "30m" {
					t.Errorf("push after an app-only PATCH: %+v", p)
				}
			}},
		{"PUT without the token keeps it, defaults the rest", "PUT", map[string]any{"name": "crm", "push": goodPush()}, "target-token-1", "",
			func(t *testing.T, r *apiResp, p *storage.PushConfig) {
				if p.Schedule != "" || p.Profile != "generic" || p.OnLeave != "deactivate" || !slices.Equal(p.Match, []string{"userName"}) ||
					p.Deletion.MaxPercent != 20 || !p.Enabled {
					t.Errorf("PUT defaults: %+v", p)
				}
			}},
		{"PUT back what GET shows keeps the token", "PUT", map[string]any{"name": "crm", "push": map[string]any{
			"url": "http://127.0.0.1:9/scim/v2", "auth": map[string]any{"type": "bearer", "token": "set"}}}, "target-token-1", "", nil},
		{"PATCH a new token", "PATCH", map[string]any{"push": map[string]any{"auth": map[string]any{"token": "target-token-2"}}}, "target-token-2", "", nil},
		{"PATCH to oauth2 drops the bearer token", "PATCH", map[string]any{"push": map[string]any{"auth": map[string]any{
			"type": "oauth2", "tokenURL": "https://login.example.com/token", "clientId": "scimgate", "clientSecret": "client-secret-1", "scope": "scim"}}},
			"", "client-secret-1", func(t *testing.T, r *apiResp, p *storage.PushConfig) {
				if r.str("push", "auth", "clientSecret") != "set" || r.str("push", "auth", "token") != "" || r.str("push", "auth", "clientId") != "scimgate" {
					t.Errorf("oauth2 view: %s", r.Raw)
				}
			}},
		{"disable", "PATCH", map[string]any{"push": map[string]any{"enabled": false}}, "", "client-secret-1",
			func(t *testing.T, r *apiResp, p *storage.PushConfig) {
				if p.Enabled || p.Auth.ClientID != "scimgate" {
					t.Errorf("disabled push: %+v", p)
				}
			}},
	}
	for _, st := range steps {
		r := e.call(t, st.method, "/api/v1/apps/"+id, e.Admin, map[string]any(st.body)).want(t, 200)
		p := pushOf(t, e, id)
		if st.wantToken == "" && p.Secrets[storage.PushSecretToken] != nil {
			t.Errorf("%s: a token is still stored", st.name)
		}
		if st.wantToken != "" && openSecret(t, e, id, p, storage.PushSecretToken) != st.wantToken {
			t.Errorf("%s: token is not %q", st.name, st.wantToken)
		}
		if st.wantSecret != "" && openSecret(t, e, id, p, storage.PushSecretClientSecret) != st.wantSecret {
			t.Errorf("%s: client secret is not %q", st.name, st.wantSecret)
		}
		if st.check != nil {
			st.check(t, r, p)
		}
	}
	// A PATCH that leaves bearer needs the token again.
	r := e.call(t, "PATCH", "/api/v1/apps/"+id, e.Admin, map[string]any{"push": map[string]any{"auth": map[string]any{"type": "bearer"}}})
	if f, _ := r.wantErr(t, 400, "bad_request")["fields"].(map[string]any); f["push.auth.token"] == nil || f["push.auth.tokenURL"] == nil {
		t.Errorf("switch back to bearer: %s", r.Raw)
	}
	// push: null removes it; PUT without push too.
	if r := e.call(t, "PATCH", "/api/v1/apps/"+id, e.Admin, `{"push": null}`).want(t, 200); r.Body["push"] != nil || pushOf(t, e, id) != nil {
		t.Errorf("push: null: %s", r.Raw)
	}
	e.call(t, "PATCH", "/api/v1/apps/"+id, e.Admin, map[string]any{"push": goodPush()}).want(t, 200)
	if r := e.call(t, "PUT", "/api/v1/apps/"+id, e.Admin, map[string]any{"name": "crm"}).want(t, 200); r.Body["push"] != nil {
		t.Errorf("PUT without push: %s", r.Raw)
	}
	for _, raw := range e.seenRaw {
		for _, secret := range []string{"target-token-1", "target-token-2", "client-secret-1"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("an answer carries a secret: %s", raw)
			}
		}
	}
	// The audit log names the fields, never their values.
	audit := e.call(t, "GET", "/api/v1/audit?limit=50", e.Admin, nil).want(t, 200)
	if !bytes.Contains(audit.Raw, []byte("push.auth.token")) || bytes.Contains(audit.Raw, []byte("target-token")) {
		t.Errorf("audit: %s", audit.Raw)
	}
}
