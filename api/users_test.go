package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

const secretPassword = "Tr0ub4dor&3-never-stored"

// checkUserMeta checks id, meta and the ETag of a user representation.
func checkUserMeta(t *testing.T, e *env, r *resp, version int) {
	t.Helper()
	id := r.str("id")
	wantTag := fmt.Sprintf(`W/"%d"`, version)
	if got := r.Header.Get("ETag"); got != wantTag {
		t.Errorf("%v\nETag = %q, want %q", r, got, wantTag)
	}
	checks := map[string]string{
		"resourceType": "User",
		"location":     e.scimURL("/Users/" + id),
		"version":      wantTag,
	}
	for k, want := range checks {
		if got := r.str("meta", k); got != want {
			t.Errorf("%v\nmeta.%s = %q, want %q", r, k, got, want)
		}
	}
	created, err1 := time.Parse(time.RFC3339Nano, r.str("meta", "created"))
	modified, err2 := time.Parse(time.RFC3339Nano, r.str("meta", "lastModified"))
	if err1 != nil || err2 != nil {
		t.Fatalf("%v\nmeta.created / lastModified are not RFC 3339: %v %v", r, err1, err2)
	}
	if version == 1 && !created.Equal(modified) {
		t.Errorf("on create, created %v != lastModified %v", created, modified)
	}
	if modified.Before(created) {
		t.Errorf("lastModified %v before created %v", modified, created)
	}
	if d := time.Since(created); d < -time.Minute || d > time.Hour {
		t.Errorf("meta.created %v is not now", created)
	}
}

func TestUserCreate(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "POST", "/Users", e.Writer, userBody("alice@example.com", map[string]any{
		"externalId":  "okta-123",
		"name":        map[string]any{"givenName": "Alice", "familyName": "Anderson"},
		"displayName": "Alice Anderson",
		"emails":      []any{map[string]any{"value": "alice@example.com", "type": "work", "primary": true}},
		"password":    secretPassword,
	}))
	wantJSON(t, r, http.StatusCreated)
	id := r.str("id")
	if id == "" {
		t.Fatalf("%v\nno id", r)
	}
	if loc := r.Header.Get("Location"); loc != e.URL+"/scim/v2/Users/"+id {
		t.Errorf("Location = %q, want %q", loc, e.URL+"/scim/v2/Users/"+id)
	}
	checkUserMeta(t, e, r, 1)
	if got := r.list("schemas"); !reflect.DeepEqual(got, []any{userURN}) {
		t.Errorf("schemas = %v, want only the core schema (no enterprise attributes sent)", got)
	}
	for path, want := range map[string]any{
		"userName": "alice@example.com", "externalId": "okta-123", "displayName": "Alice Anderson",
		"active": true, "name.givenName": "Alice", "name.familyName": "Anderson",
		"emails.0.value": "alice@example.com", "emails.0.type": "work", "emails.0.primary": true,
	} {
		if got := r.get(splitPath(path)...); got != want {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	if bytes.Contains(bytes.ToLower(r.Raw), []byte("password")) || bytes.Contains(r.Raw, []byte(secretPassword)) {
		t.Errorf("the POST response carries the password: %s", r.Raw)
	}

	g := e.do(t, "GET", "/Users/"+id, e.Reader, nil)
	wantJSON(t, g, http.StatusOK)
	checkUserMeta(t, e, g, 1)
	if !reflect.DeepEqual(g.JSON, r.JSON) {
		t.Errorf("GET differs from the POST response\nGET:  %s\nPOST: %s", g.Raw, r.Raw)
	}
	if bytes.Contains(bytes.ToLower(g.Raw), []byte("password")) {
		t.Errorf("GET returns the password: %s", g.Raw)
	}

	// Not stored: not in the store's user, not in its document, not in
	// the database files at all.
	u, err := e.Store.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if b, _ := json.Marshal(u); bytes.Contains(b, []byte(secretPassword)) {
		t.Errorf("the stored user holds the password: %s", b)
	}
	page, err := e.Store.ListUsers(t.Context(), storage.Query{Limit: 10})
	if err != nil || len(page.Users) != 1 {
		t.Fatalf("ListUsers: %v %v", page, err)
	}
	if doc := page.Users[0].JSON; bytes.Contains(doc, []byte(secretPassword)) || bytes.Contains(bytes.ToLower(doc), []byte("password")) {
		t.Errorf("the stored document holds the password: %s", doc)
	}
	for _, f := range []string{e.DBPath, e.DBPath + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secretPassword)) {
			t.Errorf("the database file %s contains the password", f)
		}
	}
}

func splitPath(p string) []any {
	var out []any
	for _, part := range bytes.Split([]byte(p), []byte(".")) {
		var i int
		if _, err := fmt.Sscanf(string(part), "%d", &i); err == nil && fmt.Sprint(i) == string(part) {
			out = append(out, i)
		} else {
			out = append(out, string(part))
		}
	}
	return out
}

func TestUserCreateSchemasAndActive(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name       string
		attrs      map[string]any
		wantExt    bool
		wantActive bool
	}{
		{"no enterprise, active absent", nil, false, true},
		{"active false", map[string]any{"active": false}, false, false},
		{"active true", map[string]any{"active": true}, false, true},
		{"enterprise department", map[string]any{entURN: map[string]any{"department": "R&D"}}, true, true},
		{"enterprise employeeNumber and manager", map[string]any{entURN: map[string]any{"employeeNumber": "42", "manager": map[string]any{"value": "boss"}}}, true, true},
		{"empty enterprise object", map[string]any{entURN: map[string]any{}}, false, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.createUser(t, e.Writer, fmt.Sprintf("user%d@example.com", i), tc.attrs)
			for _, rr := range []*resp{r, e.do(t, "GET", "/Users/"+r.str("id"), e.Writer, nil)} {
				want := []any{userURN}
				if tc.wantExt {
					want = append(want, entURN)
				}
				if got := rr.list("schemas"); !reflect.DeepEqual(got, want) {
					t.Errorf("%v\nschemas = %v, want %v", rr, got, want)
				}
				if got := rr.get("active"); got != tc.wantActive {
					t.Errorf("%v\nactive = %v, want %v", rr, got, tc.wantActive)
				}
				if !tc.wantExt && rr.has(entURN) {
					t.Errorf("%v\nan enterprise object is rendered without enterprise attributes", rr)
				}
			}
		})
	}
}

func TestUserPut(t *testing.T) {
	e := newEnv(t)
	c := e.createUser(t, e.Writer, "bob@example.com", map[string]any{
		"title": "Engineer", "active": false, "nickName": "bobby",
		"name":   map[string]any{"givenName": "Bob", "familyName": "Brown"},
		"emails": []any{map[string]any{"value": "bob@example.com", "type": "work"}},
		entURN:   map[string]any{"department": "Sales"},
	})
	id := c.str("id")
	r := e.do(t, "PUT", "/Users/"+id, e.Writer, userBody("robert@example.com", map[string]any{"displayName": "Robert"}))
	wantJSON(t, r, http.StatusOK)
	checkUserMeta(t, e, r, 2)
	if r.str("id") != id {
		t.Errorf("id changed: %q", r.str("id"))
	}
	if r.str("userName") != "robert@example.com" || r.str("displayName") != "Robert" {
		t.Errorf("%v\nPUT did not set userName/displayName", r)
	}
	for _, gone := range []string{"title", "nickName", "name", "emails", entURN} {
		if r.has(gone) {
			t.Errorf("%v\n%s was not sent but survived the PUT", r, gone)
		}
	}
	if got := r.list("schemas"); !reflect.DeepEqual(got, []any{userURN}) {
		t.Errorf("schemas = %v after the enterprise attributes were replaced away", got)
	}
	if r.get("active") != false {
		t.Errorf("active = %v; a PUT without active must keep false", r.get("active"))
	}
	if r.str("meta", "created") != c.str("meta", "created") {
		t.Errorf("meta.created changed: %s -> %s", c.str("meta", "created"), r.str("meta", "created"))
	}
	g := e.do(t, "GET", "/Users/"+id, e.Writer, nil)
	if !reflect.DeepEqual(g.JSON, r.JSON) {
		t.Errorf("GET differs from the PUT response\nGET: %s\nPUT: %s", g.Raw, r.Raw)
	}

	// active sent is applied; active not sent keeps true as well.
	r = e.do(t, "PUT", "/Users/"+id, e.Writer, userBody("robert@example.com", map[string]any{"active": true}))
	wantJSON(t, r, http.StatusOK)
	checkUserMeta(t, e, r, 3)
	if r.get("active") != true || r.has("displayName") {
		t.Errorf("%v\nwant active true and displayName cleared", r)
	}
	r = e.do(t, "PUT", "/Users/"+id, e.Writer, userBody("robert@example.com", nil))
	wantJSON(t, r, http.StatusOK)
	if r.get("active") != true {
		t.Errorf("active = %v; a PUT without active must keep true", r.get("active"))
	}
}

func TestUserPatch(t *testing.T) {
	e := newEnv(t)
	attrs := map[string]any{
		"title": "Engineer", "active": true,
		"name":   map[string]any{"givenName": "Carol", "familyName": "Clark"},
		"emails": []any{map[string]any{"value": "carol@example.com", "type": "work"}},
	}
	cases := []struct {
		name  string
		ops   []map[string]any
		check func(t *testing.T, r *resp)
	}{
		{"replace name.givenName", []map[string]any{op("replace", "name.givenName", "Caroline")}, func(t *testing.T, r *resp) {
			if r.str("name", "givenName") != "Caroline" || r.str("name", "familyName") != "Clark" {
				t.Errorf("name = %v", r.get("name"))
			}
		}},
		{"add emails", []map[string]any{op("add", "emails", []any{map[string]any{"value": "carol@home.org", "type": "home"}})}, func(t *testing.T, r *resp) {
			got := resourceValues(r.list("emails"), "value")
			if !reflect.DeepEqual(got, []string{"carol@example.com", "carol@home.org"}) {
				t.Errorf("emails = %v", r.get("emails"))
			}
		}},
		{"remove title", []map[string]any{op("remove", "title", nil)}, func(t *testing.T, r *resp) {
			if r.has("title") {
				t.Errorf("title = %v, want removed", r.get("title"))
			}
			if r.str("name", "givenName") != "Carol" {
				t.Errorf("remove title touched name: %v", r.get("name"))
			}
		}},
		{"path-less replace active", []map[string]any{op("replace", "", map[string]any{"active": false})}, func(t *testing.T, r *resp) {
			if r.get("active") != false || r.str("title") != "Engineer" {
				t.Errorf("active = %v, title = %v", r.get("active"), r.get("title"))
			}
		}},
		{"add enterprise department", []map[string]any{op("add", entURN+":department", "Ops")}, func(t *testing.T, r *resp) {
			if r.str(entURN, "department") != "Ops" {
				t.Errorf("department = %v", r.get(entURN))
			}
			if s := r.list("schemas"); len(s) != 2 || s[1] != entURN {
				t.Errorf("schemas = %v, want the enterprise URN once an enterprise attribute is set", s)
			}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := e.createUser(t, e.Writer, fmt.Sprintf("carol%d@example.com", i), attrs).str("id")
			r := e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(tc.ops...))
			wantJSON(t, r, http.StatusOK)
			checkUserMeta(t, e, r, 2)
			tc.check(t, r)
			g := e.do(t, "GET", "/Users/"+id, e.Writer, nil)
			if !reflect.DeepEqual(g.JSON, r.JSON) {
				t.Errorf("GET differs from the PATCH response\nGET:   %s\nPATCH: %s", g.Raw, r.Raw)
			}
		})
	}
	t.Run("versions grow by one", func(t *testing.T) {
		id := e.createUser(t, e.Writer, "versions@example.com", attrs).str("id")
		for v := 2; v <= 5; v++ {
			r := e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("replace", "title", fmt.Sprint("T", v))))
			wantJSON(t, r, http.StatusOK)
			checkUserMeta(t, e, r, v)
			if r.str("title") != fmt.Sprint("T", v) {
				t.Errorf("title = %v", r.get("title"))
			}
		}
	})
}

func resourceValues(list []any, field string) []string {
	var out []string
	for _, el := range list {
		s, _ := at(el, field).(string)
		out = append(out, s)
	}
	return out
}

func TestUserDelete(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "dave@example.com", nil).str("id")
	keep := e.createUser(t, e.Writer, "keep@example.com", nil).str("id")
	r := e.do(t, "DELETE", "/Users/"+id, e.Writer, nil)
	wantStatus(t, r, http.StatusNoContent)
	if len(r.Raw) != 0 {
		t.Errorf("204 with a body: %s", r.Raw)
	}
	wantError(t, e.do(t, "GET", "/Users/"+id, e.Writer, nil), http.StatusNotFound, "")
	wantError(t, e.do(t, "DELETE", "/Users/"+id, e.Writer, nil), http.StatusNotFound, "")
	wantJSON(t, e.do(t, "GET", "/Users/"+keep, e.Writer, nil), http.StatusOK)
	l := e.do(t, "GET", "/Users", e.Writer, nil)
	if ids := resourceField(l, "id"); !reflect.DeepEqual(ids, []string{keep}) {
		t.Errorf("list after delete = %v, want [%s]", ids, keep)
	}
	// The userName is free again.
	e.createUser(t, e.Writer, "dave@example.com", nil)
}

// TestContentType: every SCIM response with a body is application/scim+json.
func TestContentType(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "ct@example.com", nil).str("id")
	reqs := []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/Users/" + id, nil, 200},
		{"GET", "/Users", nil, 200},
		{"POST", "/Users/.search", map[string]any{"schemas": []string{searchURN}}, 200},
		{"POST", "/Users", userBody("ct2@example.com", nil), 201},
		{"PUT", "/Users/" + id, userBody("ct@example.com", map[string]any{"title": "x"}), 200},
		{"PATCH", "/Users/" + id, patchBody(op("replace", "title", "y")), 200},
		{"GET", "/Users/nope", nil, 404},
		{"POST", "/Users", "{", 400},
		{"GET", "/ServiceProviderConfig", nil, 200},
		{"GET", "/Schemas", nil, 200},
		{"GET", "/ResourceTypes", nil, 200},
		{"GET", "/Groups", nil, 200},
	}
	for _, rq := range reqs {
		r := e.do(t, rq.method, rq.path, e.Writer, rq.body)
		wantJSON(t, r, rq.status)
	}
}

// TestConcurrentCreates: 16 clients × 10 POSTs at once all succeed.
func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t)
	const workers, each = 16, 10
	type result struct {
		status int
		id     string
		body   string
	}
	results := make(chan result, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				body, _ := json.Marshal(userBody(fmt.Sprintf("c-%02d-%02d@example.com", w, i), map[string]any{
					"emails": []any{map[string]any{"value": fmt.Sprintf("c%d.%d@example.com", w, i), "type": "work"}},
				}))
				req, _ := http.NewRequest("POST", e.scimURL("/Users"), bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e.Writer)
				req.Header.Set("Content-Type", scimCT)
				res, err := e.client.Do(req)
				if err != nil {
					results <- result{status: -1, body: err.Error()}
					continue
				}
				var out struct{ ID string }
				raw := new(bytes.Buffer)
				raw.ReadFrom(res.Body)
				res.Body.Close()
				json.Unmarshal(raw.Bytes(), &out)
				results <- result{status: res.StatusCode, id: out.ID, body: raw.String()}
			}
		})
	}
	wg.Wait()
	close(results)
	ids := map[string]bool{}
	statuses := map[int]int{}
	for r := range results {
		statuses[r.status]++
		if r.status != http.StatusCreated {
			t.Errorf("status %d: %s", r.status, truncate(r.body, 300))
			continue
		}
		ids[r.id] = true
	}
	if statuses[http.StatusCreated] != workers*each || len(ids) != workers*each {
		t.Errorf("statuses = %v, distinct ids = %d; want %d × 201", statuses, len(ids), workers*each)
	}
	r := e.do(t, "GET", "/Users?count=0", e.Reader, nil)
	wantJSON(t, r, 200)
	if n := r.num(t, "totalResults"); n != workers*each {
		t.Errorf("totalResults = %d, want %d", n, workers*each)
	}
}

// TestPasswordNeverStored: a password sent by PUT or PATCH is accepted
// and dropped like one sent by POST.
func TestPasswordNeverStored(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "pw@example.com", map[string]any{"password": secretPassword + "-post"}).str("id")
	put := e.do(t, "PUT", "/Users/"+id, e.Writer, userBody("pw@example.com", map[string]any{"password": secretPassword + "-put", "title": "t"}))
	wantJSON(t, put, 200)
	patch := e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("replace", "password", secretPassword+"-patch")))
	wantJSON(t, patch, 200)
	patch2 := e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("replace", "", map[string]any{"password": secretPassword + "-root", "nickName": "n"})))
	wantJSON(t, patch2, 200)
	if patch2.str("nickName") != "n" {
		t.Errorf("nickName = %q", patch2.str("nickName"))
	}
	lists := e.do(t, "GET", "/Users?attributes=password,userName", e.Reader, nil)
	for _, r := range []*resp{put, patch, patch2, e.do(t, "GET", "/Users/"+id, e.Reader, nil), lists} {
		if bytes.Contains(r.Raw, []byte(secretPassword)) || bytes.Contains(bytes.ToLower(r.Raw), []byte(`"password"`)) {
			t.Errorf("%v\nthe response carries the password", r)
		}
	}
	for _, f := range []string{e.DBPath, e.DBPath + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secretPassword)) {
			t.Errorf("the database file %s contains a password", f)
		}
	}
}
