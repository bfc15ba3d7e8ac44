package api_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestSourceLinkFieldErrors: link and authoritative problems come back
// as the config API's field errors, every one at once, for POST, PUT and
// PATCH; a body of the wrong shape is a 400.
func TestSourceLinkFieldErrors(t *testing.T) {
	e := newAPIEnv(t)
	users := e.writeFile(t, "users.csv", usersCSV(0, 2, engineer))
	base := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "hr", "kind": "csv", "settings": map[string]any{"usersPath": users}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	id := e.call(t, "POST", "/api/v1/sources", e.Admin, base(nil)).want(t, 201).str("id")
	for _, tc := range []struct {
		name string
		body map[string]any
		want map[string]string // field -> part of its message
	}{
		{"key name and templates", map[string]any{"link": map[string]any{"emp id": "{employeeNumber}", "anchor": "{objectGUID|hex}", "fixed": "hr"}},
			map[string]string{"link.emp id": "letters, digits", "link.anchor": "unknown filter", "link.fixed": "reads no attribute"}},
		{"authoritative", map[string]any{"authoritative": []any{"title", "shoeSize", "Title"}},
			map[string]string{"authoritative[1]": "not an attribute the merge decides", "authoritative[2]": "listed twice"}},
		{"with other fields", map[string]any{"schedule": "5s", "link": map[string]any{"k": "{a"}, "authoritative": []any{"manager", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}},
			map[string]string{"schedule": "", "link.k": "unclosed {", "authoritative[1]": "also authoritative[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, req := range []struct {
				method, path string
				body         map[string]any
			}{
				{"POST", "/api/v1/sources", base(mergeInto(tc.body, map[string]any{"name": "hr2"}))},
				{"PUT", "/api/v1/sources/" + id, base(tc.body)},
				{"PATCH", "/api/v1/sources/" + id, tc.body},
			} {
				errBody := e.call(t, req.method, req.path, e.Admin, req.body).wantErr(t, 422, "invalid_config")
				fields, _ := errBody["fields"].(map[string]any)
				if len(fields) != len(tc.want) {
					t.Errorf("%s: fields %v, want exactly %v", req.method, fields, tc.want)
				}
				for f, part := range tc.want {
					if msg, _ := fields[f].(string); msg == "" || !strings.Contains(msg, part) {
						t.Errorf("%s: %s = %q, want it to say %q", req.method, f, msg, part)
					}
				}
			}
		})
	}
	for _, body := range []string{`{"link": ["employeeId"]}`, `{"authoritative": "title"}`, `{"link": {"k": 3}}`} {
		e.call(t, "PATCH", "/api/v1/sources/"+id, e.Admin, body).wantErr(t, 400, "bad_request")
	}
}

func mergeInto(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range []map[string]any{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestSourceLinkRoundTrip: what POST, PATCH and PUT set is what GET and
// the list show (authoritative in the merge's spelling), a PATCH replaces
// each whole, null clears it, the audit log names the fields sent, and
// authoritative without link is warned about.
func TestSourceLinkRoundTrip(t *testing.T) { forEachAPIStore(t, testSourceLinkRoundTrip) }

func testSourceLinkRoundTrip(t *testing.T, e *apiEnv) {
	users := e.writeFile(t, "users.csv", usersCSV(0, 2, engineer))
	const mgr = storage.EnterpriseSchema + ":manager"
	created := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "hr", "kind": "csv", "settings": map[string]any{"usersPath": users},
		"link": map[string]any{"employeeId": "{externalId}"}, "authoritative": []any{"Title", "manager"},
	}).want(t, 201)
	id := created.str("id")
	const noLinkWarning = "authoritative is set but link is not"
	for _, step := range []struct {
		name, method string
		body         any
		link         map[string]any
		authz        []string
		warned       bool
	}{
		{"created", "", nil, map[string]any{"employeeId": "{externalId}"}, []string{"title", mgr}, false},
		{"patch without them keeps them", "PATCH", map[string]any{"schedule": "1h"}, map[string]any{"employeeId": "{externalId}"}, []string{"title", mgr}, false},
		{"patch replaces link whole", "PATCH", map[string]any{"link": map[string]any{"email": "{email|lower}"}}, map[string]any{"email": "{email|lower}"}, []string{"title", mgr}, false},
		{"patch null clears link: a warning", "PATCH", `{"link": null}`, map[string]any{}, []string{"title", mgr}, true},
		{"patch sets authoritative", "PATCH", map[string]any{"authoritative": []any{"emails"}, "link": map[string]any{"k": "{email}"}}, map[string]any{"k": "{email}"}, []string{"emails"}, false},
		{"put without them clears both", "PUT", map[string]any{"name": "hr", "kind": "csv", "settings": map[string]any{"usersPath": users}}, map[string]any{}, []string{}, false},
	} {
		if step.method != "" {
			e.call(t, step.method, "/api/v1/sources/"+id, e.Admin, step.body).want(t, 200)
		}
		got := e.call(t, "GET", "/api/v1/sources/"+id, e.Admin, nil).want(t, 200)
		list := e.call(t, "GET", "/api/v1/sources", e.Admin, nil).want(t, 200)
		listed := list.Body["sources"].([]any)[0].(map[string]any)
		for _, view := range []map[string]any{got.Body, listed} {
			if link, _ := view["link"].(map[string]any); !reflect.DeepEqual(link, step.link) {
				t.Errorf("%s: link %v, want %v", step.name, view["link"], step.link)
			}
			if a := strList(view["authoritative"]); !reflect.DeepEqual(a, step.authz) {
				t.Errorf("%s: authoritative %q, want %q", step.name, a, step.authz)
			}
			if warned := strings.Contains(strings.Join(strList(view["warnings"]), "\n"), noLinkWarning); warned != step.warned {
				t.Errorf("%s: warnings %v, want the no-link warning: %t", step.name, view["warnings"], step.warned)
			}
		}
	}
	audit := e.call(t, "GET", "/api/v1/audit?target="+id, e.Admin, nil).want(t, 200)
	var details []string
	for _, a := range audit.Body["entries"].([]any) {
		details = append(details, a.(map[string]any)["detail"].(string))
	}
	for _, want := range []string{"fields=link", "fields=authoritative,link"} {
		found := false
		for _, d := range details {
			found = found || d == want
		}
		if !found {
			t.Errorf("audit details %q, want one %q", details, want)
		}
	}
}
