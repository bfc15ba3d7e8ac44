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

// TestLinkedProvenanceAndUnlink: two csv sources linked on a shared key,
// set up and run through the API, make one user per person; provenance
// names both sources and each attribute's winner (precedence, and hr's
// authoritative title); unlink splits hr off, and the next runs keep the
// two apart. Every answer is checked against the OpenAPI document.
func TestLinkedProvenanceAndUnlink(t *testing.T) { forEachAPIStore(t, testLinkedProvenanceAndUnlink) }

func testLinkedProvenanceAndUnlink(t *testing.T, e *apiEnv) {
	o := loadOpenAPI(t, e)
	const dept = storage.EnterpriseSchema + ":department"
	adCSV := e.writeFile(t, "ad.csv", "externalId,userName,givenName,familyName,email,title,employeeNumber\n"+
		"a1,ann@example.com,Ann,Lee,ann@example.com,Engineer,E1\n"+
		"a2,bob@example.com,Bob,Ray,bob@example.com,Engineer,E2\n"+
		"a3,cy@example.com,Cy,Ng,cy@example.com,Engineer,E3\n")
	hrCSV := e.writeFile(t, "hr.csv", "externalId,userName,title,department,employeeNumber\n"+
		"h1,ann.lee@hr.example.com,Director,Research,e1\n"+
		"h2,bob.ray@hr.example.com,,Sales,E2\n"+
		"h3,cy@example.com,Analyst,Sales,E3\n")
	link := map[string]any{"employeeId": "{employeeNumber}"}
	ad := o.do(t, "POST", "/api/v1/sources", e.Admin, map[string]any{"name": "ad", "kind": "csv", "precedence": 10,
		"settings": map[string]any{"usersPath": adCSV}, "link": link}, validRequest).want(t, 201).str("id")
	hr := o.do(t, "POST", "/api/v1/sources", e.Admin, map[string]any{"name": "hr", "kind": "csv", "precedence": 30,
		"settings": map[string]any{"usersPath": hrCSV}, "link": link, "authoritative": []any{"title"}}, validRequest).want(t, 201).str("id")
	// runBoth runs ad, then hr, and returns hr's run.
	runBoth := func() *apiResp {
		t.Helper()
		var r *apiResp
		for _, id := range []string{ad, hr} {
			if r = o.sync(t, id); r.str("status") != "succeeded" {
				t.Fatalf("run of %s: %s", id, r.Raw)
			}
		}
		return r
	}
	hrRun := runBoth()
	if hrRun.num("counts", "linked") != 3 {
		t.Errorf("hr's run linked %v records, want 3: %s", hrRun.num("counts", "linked"), hrRun.Raw)
	}
	changes := o.do(t, "GET", "/api/v1/sources/"+hr+"/runs/"+hrRun.str("id")+"/changes?limit=50", e.Admin, nil, validRequest).want(t, 200)
	linked := 0
	for _, c := range changes.Body["changes"].([]any) {
		if c.(map[string]any)["action"] == "link" {
			linked++
		}
	}
	if linked != 3 {
		t.Errorf("hr's change log has %d link entries, want 3: %s", linked, changes.Raw)
	}
	users := e.scimUsers(t, "")
	if len(users) != 3 {
		t.Fatalf("after linking, users %v, want ann, bob and cy once each", keysOf(users))
	}
	ann := users["ann@example.com"]
	if ann["title"] != "Director" {
		t.Errorf("ann's title %v, want hr's Director (authoritative)", ann["title"])
	}
	if bob := users["bob@example.com"]; bob["title"] != "Engineer" {
		t.Errorf("bob's title %v, want ad's Engineer (hr has none)", bob["title"])
	}
	annID := ann["id"].(string)
	prov := o.do(t, "GET", "/api/v1/users/"+annID+"/provenance", e.Admin, nil, validRequest).want(t, 200)
	wantContrib := map[string]string{"ad/a1": "", "hr/h1": "employeeId"}
	gotContrib := map[string]string{}
	for _, c := range prov.Body["contributions"].([]any) {
		m := c.(map[string]any)
		if (m["source"] == ad) != (m["sourceName"] == "ad") {
			t.Errorf("contribution %v: id and name disagree", m)
		}
		linkedBy, _ := m["linkedBy"].(string)
		gotContrib[m["sourceName"].(string)+"/"+m["sourceKey"].(string)] = linkedBy
	}
	// The first contribution is whichever source ran first; the other
	// is joined by the key.
	if !reflect.DeepEqual(gotContrib, wantContrib) {
		t.Errorf("contributions %v, want %v", gotContrib, wantContrib)
	}
	attrs := prov.Body["attributes"].(map[string]any)
	for attr, want := range map[string]string{"userName": "ad", "emails": "ad", "name": "ad", "title": "hr", dept: "hr", "externalId": "ad"} {
		got, _ := attrs[attr].(map[string]any)
		if got["sourceName"] != want || (want == "hr") != (got["source"] == hr) {
			t.Errorf("attributes[%s] = %v, want from %s", attr, got, want)
		}
	}

	// Splitting off: errors first.
	for _, tc := range []struct {
		user, body string
		status     int
		code, says string
	}{
		{"nobody", `{"source": "hr"}`, 404, "not_found", "user nobody"},
		{annID, `{"source": "payroll"}`, 404, "not_found", "source payroll"},
		{annID, `{"source": ""}`, 400, "bad_request", "source"},
		{annID, `{"source": "hr", "force": true}`, 400, "bad_request", "force"},
		{annID, `[]`, 400, "bad_request", ""},
		{users["cy@example.com"]["id"].(string), `{"source": "hr"}`, 409, "conflict", "userName"},
	} {
		got := o.do(t, "POST", "/api/v1/users/"+tc.user+"/unlink", e.Admin, tc.body, invalidRequest).wantErr(t, tc.status, tc.code)
		if msg, _ := got["message"].(string); !strings.Contains(msg, tc.says) {
			t.Errorf("unlink %s %s: %q, want it to say %q", tc.user, tc.body, msg, tc.says)
		}
	}
	e.call(t, "POST", "/api/v1/users/"+annID+"/unlink", e.Reader, map[string]any{"source": "hr"}).wantErr(t, 403, "forbidden")

	split := o.do(t, "POST", "/api/v1/users/"+annID+"/unlink", e.Admin, map[string]any{"source": hr}, validRequest).want(t, 200)
	newID := split.str("id")
	if newID == "" || newID == annID || split.str("userName") != "ann.lee@hr.example.com" || split.str("sourceName") != "hr" || split.str("unlinkedFrom") != annID {
		t.Fatalf("unlink answered %s", split.Raw)
	}
	audit := e.call(t, "GET", "/api/v1/audit?target="+annID, e.Admin, nil).want(t, 200)
	if entries := audit.Body["entries"].([]any); len(entries) == 0 || entries[0].(map[string]any)["action"] != "user.unlink" {
		t.Errorf("audit of %s: %s", annID, audit.Raw)
	}
	checkApart := func(when string) {
		t.Helper()
		users := e.scimUsers(t, "")
		if len(users) != 4 || users["ann@example.com"]["id"] != annID || users["ann.lee@hr.example.com"]["id"] != newID {
			t.Fatalf("%s: users %v, want ann kept and hr's ann apart", when, keysOf(users))
		}
		if title := users["ann@example.com"]["title"]; title != "Engineer" {
			t.Errorf("%s: ann's title %v, want ad's own now", when, title)
		}
		for id, want := range map[string]string{annID: "ad", newID: "hr"} {
			p := o.do(t, "GET", "/api/v1/users/"+id+"/provenance", e.Admin, nil, validRequest).want(t, 200)
			cs := p.Body["contributions"].([]any)
			if len(cs) != 1 || cs[0].(map[string]any)["sourceName"] != want {
				t.Errorf("%s: provenance of %s %s, want only %s", when, id, p.Raw, want)
			}
		}
	}
	checkApart("after the unlink")
	o.do(t, "POST", "/api/v1/users/"+annID+"/unlink", e.Admin, map[string]any{"source": "ad"}, validRequest).wantErr(t, 409, "conflict")
	o.do(t, "POST", "/api/v1/users/"+newID+"/unlink", e.Admin, map[string]any{"source": "ad"}, validRequest).wantErr(t, 404, "not_found")
	runBoth()
	checkApart("after the next runs")
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestUnlinkedProvenance: a plain source's user, and one a push client
// wrote, each come whole from their owner, named as the owner is.
func TestUnlinkedProvenance(t *testing.T) { forEachAPIStore(t, testUnlinkedProvenance) }

func testUnlinkedProvenance(t *testing.T, e *apiEnv) {
	f := newDirectoryFixture(t, e)
	for _, tc := range []struct {
		id, sourceName, key string
	}{
		{f.user1, "hr", "1"},
		{f.pushed, "push", ""}, // the writer token's name
	} {
		p := e.call(t, "GET", "/api/v1/users/"+tc.id+"/provenance", e.Admin, nil).want(t, 200)
		cs, _ := p.Body["contributions"].([]any)
		if len(cs) != 1 {
			t.Fatalf("provenance of %s: %s", tc.id, p.Raw)
		}
		c := cs[0].(map[string]any)
		if c["sourceName"] != tc.sourceName || c["sourceKey"] != tc.key || c["linkedBy"] != nil {
			t.Errorf("contribution %v, want %s with key %q", c, tc.sourceName, tc.key)
		}
		for attr, origin := range p.Body["attributes"].(map[string]any) {
			if origin.(map[string]any)["sourceName"] != tc.sourceName {
				t.Errorf("%s of %s from %v, want %s", attr, tc.id, origin, tc.sourceName)
			}
		}
		if userName := p.Body["attributes"].(map[string]any)["userName"]; userName == nil {
			t.Errorf("provenance of %s names no userName: %s", tc.id, p.Raw)
		}
	}
}
