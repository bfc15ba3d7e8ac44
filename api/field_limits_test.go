package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Every write is checked against the attribute limits (README, "Limits"):
// a resource past one answers 400 invalidValue naming the attribute and
// the limit, and nothing is stored.
func TestSCIMFieldLimits(t *testing.T) {
	e := newEnv(t)
	emails := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"value": fmt.Sprintf("u%d@example.com", i)}
		}
		return out
	}
	user := func(extra map[string]any) map[string]any {
		u := map[string]any{"schemas": []string{userURN}, "userName": "limits@example.com"}
		for k, v := range extra {
			u[k] = v
		}
		return u
	}
	big := strings.Repeat("a", 900_000)
	cases := []struct {
		name   string
		body   map[string]any
		detail string // in the error detail
	}{
		{"900 KB userName", user(map[string]any{"userName": big}), "userName has 900000 characters; the limit is 256"},
		{"257-character userName", user(map[string]any{"userName": strings.Repeat("é", 257)}), "the limit is 256"},
		{"900 KB title", user(map[string]any{"title": big}), "title has 900000 characters; the limit is 4096"},
		{"long externalId", user(map[string]any{"externalId": strings.Repeat("x", 1025)}), "externalId has 1025 characters; the limit is 1024"},
		{"10,000 emails", user(map[string]any{"emails": emails(10_000)}), "emails has 10000 values; the limit is 100"},
		{"long email value", user(map[string]any{"emails": []any{map[string]any{"value": big}}}), "emails[0].value has 900000 characters"},
		{"long enterprise department", user(map[string]any{"schemas": []string{userURN, entURN},
			entURN: map[string]any{"department": big}}), entURN + ".department has 900000 characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, "POST", "/Users", e.Writer, c.body)
			wantInvalidValue(t, r, c.detail)
		})
	}
	if r := e.do(t, "GET", "/Users", e.Reader, nil); fmt.Sprint(at(r.JSON, "totalResults")) != "0" {
		t.Fatalf("a refused user was stored: %v", r)
	}

	// At the limits, a user is accepted.
	ok := user(map[string]any{"userName": strings.Repeat("é", 256), "emails": emails(100), "title": strings.Repeat("t", 4096)})
	created := e.do(t, "POST", "/Users", e.Writer, ok)
	if created.Status != http.StatusCreated {
		t.Fatalf("user at the limits: %v", created)
	}
	id := created.Body["id"].(string)

	// PUT and PATCH are checked on the result: a PATCH adding one email
	// to 100 grows the user past the limit.
	t.Run("PUT", func(t *testing.T) {
		r := e.do(t, "PUT", "/Users/"+id, e.Writer, user(map[string]any{"userName": strings.Repeat("é", 256), "title": big}))
		wantInvalidValue(t, r, "title has 900000 characters")
	})
	t.Run("PATCH past the value limit", func(t *testing.T) {
		r := e.do(t, "PATCH", "/Users/"+id, e.Writer, map[string]any{"schemas": []string{patchURN},
			"Operations": []any{map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": "one-more@example.com"}}}}})
		wantInvalidValue(t, r, "emails has 101 values; the limit is 100")
	})
	t.Run("PATCH past the string limit", func(t *testing.T) {
		r := e.do(t, "PATCH", "/Users/"+id, e.Writer, map[string]any{"schemas": []string{patchURN},
			"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": big}}})
		wantInvalidValue(t, r, "userName has 900000 characters")
	})
	got := e.do(t, "GET", "/Users/"+id, e.Reader, nil)
	if n := len(at(got.JSON, "emails").([]any)); n != 100 || at(got.JSON, "title") != strings.Repeat("t", 4096) {
		t.Fatalf("a refused write changed the user: %d emails, %v", n, got)
	}

	t.Run("group displayName", func(t *testing.T) {
		r := e.do(t, "POST", "/Groups", e.Writer, map[string]any{"schemas": []string{groupURN}, "displayName": big})
		wantInvalidValue(t, r, "displayName has 900000 characters; the limit is 256")
		g := e.do(t, "POST", "/Groups", e.Writer, map[string]any{"schemas": []string{groupURN}, "displayName": "ops"})
		if g.Status != http.StatusCreated {
			t.Fatalf("group: %v", g)
		}
		r = e.do(t, "PATCH", "/Groups/"+g.Body["id"].(string), e.Writer, map[string]any{"schemas": []string{patchURN},
			"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "ops\u200b"}}})
		wantInvalidValue(t, r, "displayName holds the character U+200B")
	})
}

// Token and source names are bounded and refuse control characters.
func TestConfigNameLimits(t *testing.T) {
	e := newAPIEnv(t)
	long := strings.Repeat("n", 900_000)
	for _, c := range []struct{ name, value, message string }{
		{"newline", "crm\nadmin", "U+000A"},
		{"NUL", "crm\x00", "U+0000"},
		{"zero-width space", "crm\u200b", "U+200B"},
		{"900 KB", long, "the limit is 128"},
		{"129 characters", strings.Repeat("n", 129), "has 129 characters; the limit is 128"},
	} {
		t.Run("token "+c.name, func(t *testing.T) {
			r := e.call(t, "POST", "/api/v1/tokens", e.Admin, map[string]any{"name": c.value, "role": "reader"})
			wantNameError(t, r, c.message)
		})
		t.Run("source "+c.name, func(t *testing.T) {
			r := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
				"name": c.value, "kind": "fake", "settings": map[string]any{"region": "eu"}})
			wantNameError(t, r, c.message)
		})
	}
	e.call(t, "POST", "/api/v1/tokens", e.Admin, map[string]any{"name": strings.Repeat("n", 128), "role": "reader"}).want(t, 201)
	src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": strings.Repeat("n", 128), "kind": "fake", "settings": map[string]any{"region": "eu"}}).want(t, 201)
	r := e.call(t, "PATCH", "/api/v1/sources/"+src.str("id"), e.Admin, map[string]any{"name": "hr\x00"})
	wantNameError(t, r, "U+0000")
}

func wantNameError(t *testing.T, r *apiResp, message string) {
	t.Helper()
	eobj := r.wantErr(t, http.StatusUnprocessableEntity, errorCodeOf(r))
	fields, _ := eobj["fields"].(map[string]any)
	if got, _ := fields["name"].(string); !strings.Contains(got, message) {
		t.Fatalf("%v\nwant fields.name to say %q", r, message)
	}
}

func errorCodeOf(r *apiResp) string {
	eobj, _ := r.Body["error"].(map[string]any)
	code, _ := eobj["code"].(string)
	return code
}

func wantInvalidValue(t *testing.T, r *resp, detail string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.Body["scimType"] != "invalidValue" {
		t.Fatalf("%v\nwant 400 invalidValue", r)
	}
	if d, _ := r.Body["detail"].(string); !strings.Contains(d, detail) {
		t.Fatalf("%v\nwant the detail to say %q", r, detail)
	}
}
