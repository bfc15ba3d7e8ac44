package api_test

import (
	"html"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestConsoleSourceFormLinks: the source form edits link keys (one a
// line, as mappings are) and authoritative attributes (a list), shows the
// API's problems with them next to their controls, and keeps them
// through an edit as loaded.
func TestConsoleSourceFormLinks(t *testing.T) {
	env := newAPIEnv(t)
	users := env.writeFile(t, "users.csv", usersCSV(0, 2, engineer))
	u := signedIn(t, env)
	p := u.get(t, "/ui/sources/new?kind=csv").want(t, http.StatusOK, "<legend>Identity linking</legend>",
		`<label for="f-link">Link keys</label>`, `<label for="f-authoritative">Authoritative attributes</label>`,
		"x509Certificates, employeeNumber") // the allowed attributes, from the merge's list
	for _, tc := range []struct {
		name, link, authz string
		want              []string
	}{
		{"a line without =", "employeeId {employeeNumber}", "", []string{
			`<p id="f-link-error" class="field-error">line 1: write one link key a line as name = template, for example employeeId = {employeeNumber}</p>`}},
		{"the API's problems", "emp id = {employeeNumber}\nk = {a", "title, shoeSize, Title", []string{
			`id="f-link-error" class="field-error">emp id: a link key&#39;s name is letters, digits`, "; k: unclosed {",
			`<p id="f-authoritative-error" class="field-error">item 2: &#34;shoeSize&#34; is not an attribute the merge decides`, "; item 3: title is listed twice",
			`aria-describedby="f-authoritative-help f-authoritative-error" aria-invalid="true"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := formOf(t, p, "/ui/sources/new")
			form.Set("name", "hr")
			form.Set("settings.usersPath", users)
			form.Set("link", tc.link)
			form.Set("authoritative", tc.authz)
			u.post(t, "/ui/sources/new", form).want(t, http.StatusUnprocessableEntity, append(tc.want, html.EscapeString(tc.link)+"</textarea>")...)
		})
	}

	form := formOf(t, p, "/ui/sources/new")
	form.Set("name", "hr")
	form.Set("settings.usersPath", users)
	form.Set("link", "employeeId = {employeeNumber}\n# the AD anchor\nanchor = {externalId|guid}")
	form.Set("authoritative", "title, manager")
	id := sourceIDIn(t, u.post(t, "/ui/sources/new", form))
	u.get(t, "/ui/sources/"+id).want(t, http.StatusOK, "<dt>Link keys</dt>", "<code>employeeId</code> = <code>{employeeNumber}</code>",
		"<dt>Authoritative for</dt>", "<code>"+storage.EnterpriseSchema+":manager</code>")
	wantStored := func(when string, link map[string]any, authz []string) {
		t.Helper()
		src := env.call(t, "GET", "/api/v1/sources/"+id, env.Admin, nil).want(t, 200)
		if got, _ := src.Body["link"].(map[string]any); !reflect.DeepEqual(got, link) {
			t.Errorf("%s: link %v, want %v", when, src.Body["link"], link)
		}
		if got := strList(src.Body["authoritative"]); !reflect.DeepEqual(got, authz) {
			t.Errorf("%s: authoritative %q, want %q", when, got, authz)
		}
	}
	link := map[string]any{"employeeId": "{employeeNumber}", "anchor": "{externalId|guid}"}
	authz := []string{"title", storage.EnterpriseSchema + ":manager"}
	wantStored("created", link, authz)
	edit := formOf(t, u.get(t, "/ui/sources/"+id+"/edit").want(t, http.StatusOK, "anchor = {externalId|guid}\nemployeeId = {employeeNumber}</textarea>",
		`value="title, `+storage.EnterpriseSchema+`:manager"`), "/ui/sources/"+id+"/edit")
	sourceIDIn(t, u.post(t, "/ui/sources/"+id+"/edit", edit))
	wantStored("edited as loaded", link, authz)
	edit.Set("link", "")
	edit.Set("authoritative", "")
	sourceIDIn(t, u.post(t, "/ui/sources/"+id+"/edit", edit))
	wantStored("cleared", map[string]any{}, []string{})
	u.get(t, "/ui/sources/"+id).want(t, http.StatusOK, "None: this source links no one")
}

// TestConsoleUserPageSources: a linked user's page lists its sources with
// their keys and the key that linked each, names each attribute's source,
// and splits a source off with its Unlink button; a plain source's user
// has one source and no button.
func TestConsoleUserPageSources(t *testing.T) {
	e := newAPIEnv(t)
	ad := e.writeFile(t, "ad.csv", "externalId,userName,title,employeeNumber\na1,ann@example.com,Engineer,E1\n")
	hr := e.writeFile(t, "hr.csv", "externalId,userName,title,department,employeeNumber\nh1,ann.lee@hr.example.com,Director,Research,E1\n")
	link := map[string]any{"employeeId": "{employeeNumber}"}
	var ids []string
	var lastRun string
	for _, src := range []map[string]any{
		{"name": "ad", "kind": "csv", "precedence": 10, "settings": map[string]any{"usersPath": ad}, "link": link},
		{"name": "hr", "kind": "csv", "precedence": 30, "settings": map[string]any{"usersPath": hr}, "link": link, "authoritative": []any{"title"}},
	} {
		id := e.call(t, "POST", "/api/v1/sources", e.Admin, src).want(t, 201).str("id")
		r := e.sync(t, id, "?mode=full")
		if r.str("status") != "succeeded" {
			t.Fatalf("run: %s", r.Raw)
		}
		ids, lastRun = append(ids, id), r.str("id")
	}
	adID, hrID := ids[0], ids[1]
	ann := scimID(t, e, "Users", `userName eq "ann@example.com"`)
	u := signedIn(t, e)
	// hr's run page names the link in words, and counts it.
	u.get(t, "/ui/sources/"+hrID+"/runs/"+lastRun).want(t, http.StatusOK, "<h3>Linked: User ", `<td data-count="linked">1</td>`)
	self := "/ui/directory/users/" + ann
	p := u.get(t, self).want(t, http.StatusOK, `<h2 id="user-sources-h">Sources</h2>`,
		`<a href="/ui/sources/`+adID+`">ad</a>`, "<code>a1</code>", "(the first)",
		`<a href="/ui/sources/`+hrID+`">hr</a>`, "<code>h1</code>", "<code>employeeId</code>",
		`<dt>userName</dt><dd>ann@example.com <span class="from">from <a href="/ui/sources/`+adID+`">ad</a></span></dd>`,
		`<dt>title</dt><dd>Director <span class="from">from <a href="/ui/sources/`+hrID+`">hr</a></span></dd>`,
		`<dt>enterprise.department</dt><dd>Research <span class="from">from <a href="/ui/sources/`+hrID+`">hr</a></span></dd>`,
		`data-confirm="Split hr off ann@example.com?`, `Unlink<span class="visually-hidden"> hr</span>`)
	if n := strings.Count(p.Body, `action="`+self+`/unlink"`); n != 2 {
		t.Errorf("%d unlink forms, want one per source", n)
	}
	// Without the page's CSRF value the form is refused, and nothing splits.
	u.post(t, self+"/unlink", map[string][]string{"source": {hrID}, "csrf": {"forged"}}).want(t, http.StatusForbidden)
	u.get(t, self)
	done := u.post(t, self+"/unlink", map[string][]string{"source": {hrID}})
	if done.Status != http.StatusSeeOther || done.Location != self {
		t.Fatalf("unlink: %d to %q: %s", done.Status, done.Location, done.Body)
	}
	split := scimID(t, e, "Users", `userName eq "ann.lee@hr.example.com"`)
	after := u.get(t, self).want(t, http.StatusOK, "Split hr off: its record is now the user ann.lee@hr.example.com ("+split+")",
		`<dt>title</dt><dd>Engineer</dd>`)
	if strings.Contains(after.Body, `action="`+self+`/unlink"`) || strings.Contains(after.Body, `<a href="/ui/sources/`+hrID+`">hr</a>`) {
		t.Errorf("after the unlink the page still offers or lists hr:\n%s", after.Body)
	}
	// The API's refusal is the page's message.
	u.post(t, self+"/unlink", map[string][]string{"source": {adID}}).want(t, http.StatusConflict, "source ad is the only source of user "+ann)
	u.post(t, self+"/unlink", nil).want(t, http.StatusBadRequest, "No source was named")

	// One source: its key, no Linked by column and no Unlink button.
	plain := u.get(t, "/ui/directory/users/"+split).want(t, http.StatusOK, `<a href="/ui/sources/`+hrID+`">hr</a>`, "<code>h1</code>")
	if strings.Contains(plain.Body, "Linked by") || strings.Contains(plain.Body, "/unlink") {
		t.Errorf("a one-source user's page offers linking controls:\n%s", plain.Body)
	}
	// A push client's user: the client, named, and no key.
	pushed := e.call(t, "POST", "/scim/v2/Users", e.Writer, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "pushed@example.com",
	}).want(t, 201).str("id")
	u.get(t, "/ui/directory/users/"+pushed).want(t, http.StatusOK, "Push client <strong>push</strong></th>", "<td>(none)</td>")
}
