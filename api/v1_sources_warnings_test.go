package api_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/api/apitest"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/ldap"
)

// TestSourceViewShowsTheKindsWarnings: the warnings of a source come from
// its kind (the ldap config's Warnings), for what was created and what a
// PATCH changed, and go once the setting is off.
func TestSourceViewShowsTheKindsWarnings(t *testing.T) {
	app := apitest.New(t, sources.Registry{"ldap": ldap.Kind()}, apitest.Options{})
	e := &apiEnv{URL: app.URL, Admin: app.Admin, client: app.Client}
	base := map[string]any{"bindDN": "CN=svc,DC=example,DC=com", "bindPassword": "pw", "baseDN": "DC=example,DC=com"}
	settings := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	const (
		plaintext = "allowPlaintextBind is on"
		insecure  = "insecureSkipVerify is on"
	)
	for i, tc := range []struct {
		name     string
		settings map[string]any
		want     []string // prefixes of the warnings, in order
	}{
		{"ldaps with checks", map[string]any{"url": "ldaps://dc1.example.com"}, nil},
		{"plaintext bind", map[string]any{"url": "ldap://dc1.example.com", "allowPlaintextBind": true}, []string{plaintext}},
		{"certificate checks off", map[string]any{"url": "ldaps://dc1.example.com", "insecureSkipVerify": true}, []string{insecure}},
		{"both", map[string]any{"url": "ldap://dc1.example.com", "allowPlaintextBind": true, "insecureSkipVerify": true}, []string{insecure, plaintext}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
				"name": fmt.Sprint("ad-", i), "kind": "ldap", "settings": settings(tc.settings),
			}).want(t, 201)
			if got := warningPrefixes(src, tc.want); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("created source's warnings %v, want %q", src.Body["warnings"], tc.want)
			}
			got := e.call(t, "GET", "/api/v1/sources/"+src.str("id"), e.Admin, nil).want(t, 200)
			if w := warningPrefixes(got, tc.want); !reflect.DeepEqual(w, tc.want) {
				t.Errorf("read source's warnings %v, want %q", got.Body["warnings"], tc.want)
			}
		})
	}

	// A PATCH that turns the plaintext bind on shows its warning; one
	// that turns it off again removes it.
	src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "ad-patched", "kind": "ldap", "settings": settings(map[string]any{"url": "ldap://dc1.example.com", "startTLS": true}),
	}).want(t, 201)
	if src.Body["warnings"] != nil {
		t.Fatalf("startTLS source warns: %s", src.Raw)
	}
	path := "/api/v1/sources/" + src.str("id")
	on := e.call(t, "PATCH", path, e.Admin, map[string]any{"settings": map[string]any{"startTLS": false, "allowPlaintextBind": true}}).want(t, 200)
	if w := warningPrefixes(on, []string{plaintext}); !reflect.DeepEqual(w, []string{plaintext}) {
		t.Errorf("after PATCH on: warnings %v", on.Body["warnings"])
	}
	off := e.call(t, "PATCH", path, e.Admin, map[string]any{"settings": map[string]any{"startTLS": true, "allowPlaintextBind": nil}}).want(t, 200)
	if off.Body["warnings"] != nil {
		t.Errorf("after PATCH off: warnings %v", off.Body["warnings"])
	}
}

// warningPrefixes returns, for each warning in r, the prefix of want it
// starts with (or the whole warning when none does).
func warningPrefixes(r *apiResp, want []string) []string {
	list, _ := r.Body["warnings"].([]any)
	var out []string
	for _, w := range list {
		s, _ := w.(string)
		got := s
		for _, p := range want {
			if strings.HasPrefix(s, p) {
				got = p
			}
		}
		out = append(out, got)
	}
	return out
}
