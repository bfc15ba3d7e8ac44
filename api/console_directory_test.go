package api_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// resultLink is a row of a results or members table: its link's text.
var resultLink = regexp.MustCompile(`<th scope="row"><a href="/ui/directory/[^"]+">([^<]*)</a>`)

// resultNames are the userNames (or displayNames) a table's rows link to.
func resultNames(p uiPage) []string {
	var out []string
	for _, m := range resultLink.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestConsoleDirectorySearch(t *testing.T) {
	e := newAPIEnv(t)
	newDirectoryFixture(t, e)
	u := signedIn(t, e)

	for _, tc := range []struct {
		name, query string
		want        []string
		texts       []string
	}{
		{"plain text finds part of a userName", "?q=user3", []string{"user3@example.com"},
			[]string{"Given3 Family3", "Active", `Source <a href="/ui/sources/`, ">hr</a>", "1–1 of 1"}},
		{"plain text is case-insensitive and finds a push client's user", "?q=PUSHED", []string{"pushed@example.com"},
			[]string{"Push client <strong>push</strong>"}},
		{"a quote in the text is a literal, not syntax", "?q=" + url.QueryEscape(`a" or userName pr or "`), nil,
			[]string{"No users match this search"}},
		{"a raw filter", "?filter=" + url.QueryEscape(`title eq "Staff Engineer"`), []string{"user1@example.com"}, nil},
		{"search and filter both hold", "?q=user&filter=" + url.QueryEscape(`externalId eq "2"`), []string{"user2@example.com"}, nil},
		{"groups by displayName", "?type=groups&q=eng", []string{"Engineering"}, []string{"<th scope=\"col\">displayName</th>", ">hr</a>"}},
		{"no match", "?q=nobody-at-all", nil, []string{"No users match this search"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := u.get(t, "/ui/directory"+tc.query).want(t, 200, tc.texts...)
			if got := resultNames(p); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("results = %v, want %v", got, tc.want)
			}
		})
	}

	// Paging: 7 users, 25 a page, so start=5 shows the last three and a
	// link back.
	all := u.get(t, "/ui/directory").want(t, 200, "1–7 of 7", `id="dir-q"`, `<label for="dir-q">Search</label>`, `<label for="dir-filter">SCIM filter</label>`)
	if got := resultNames(all); len(got) != 7 || !slices.IsSorted(got) || got[0] != "pushed@example.com" {
		t.Errorf("all users = %v, want 7 by userName", got)
	}
	if strings.Contains(all.Body, ">Next</a>") || strings.Contains(all.Body, ">Previous</a>") {
		t.Errorf("one page of results has paging links")
	}
	tail := u.get(t, "/ui/directory?start=5").want(t, 200, "5–7 of 7", ">Previous</a>")
	if got := resultNames(tail); len(got) != 3 {
		t.Errorf("start=5: %v, want 3 users", got)
	}
}

func TestConsoleDirectoryBadFilter(t *testing.T) {
	e := newAPIEnv(t)
	newDirectoryFixture(t, e)
	u := signedIn(t, e)

	p := u.get(t, "/ui/directory?filter="+url.QueryEscape(`userName eq`)).want(t, 400,
		`id="dir-filter-error" class="field-error">invalidFilter: `, `aria-invalid="true"`, `aria-describedby="dir-filter-help dir-filter-error"`,
		`value="userName eq"`, "Correct the SCIM filter box and press Find.")
	if strings.Contains(p.Body, `id="dir-q-error"`) {
		t.Errorf("the error is shown next to the search box too")
	}
	u.get(t, "/ui/directory?filter="+url.QueryEscape(`shoeSize eq "9"`)).want(t, 400, `id="dir-filter-error"`)
}

func TestConsoleDirectoryUserPage(t *testing.T) {
	e := newAPIEnv(t)
	f := newDirectoryFixture(t, e)
	u := signedIn(t, e)

	p := u.get(t, "/ui/directory/users/"+f.user1).want(t, 200,
		"<h1>user1@example.com</h1>",
		`Source <a href="/ui/sources/`+f.sourceID+`">hr</a>`,
		`<a href="/ui/directory/groups/`+f.group+`">Engineering</a>`, ">Everyone</a>",
		`<a href="/ui/sources/`+f.sourceID+`/runs/`+f.secondRun+`">`, "<td>Updated</td>", "Changed: title",
		`<a href="/ui/sources/`+f.sourceID+`/runs/`+f.firstRun+`">`, "<td>Created</td>",
		"<dt>name.givenName</dt><dd>Given1</dd>", "<dt>title</dt><dd>Staff Engineer</dd>",
		"<dt>emails</dt><dd>user1@example.com", "<dt>enterprise.department</dt><dd>Eng</dd>", "<dt>enterprise.manager.value</dt><dd><a href=\"/ui/directory/users/"+f.user0+"\">"+f.user0+"</a>",
		"<summary>SCIM resource (JSON)</summary>", "<dt>meta.location</dt><dd>"+e.URL+"/scim/v2/Users/"+f.user1+"</dd>", "&#34;userName&#34;: &#34;user1@example.com&#34;")
	if strings.Index(p.Body, f.secondRun) > strings.Index(p.Body, f.firstRun) {
		t.Errorf("the older run's change is listed before the newer's")
	}
	// A push run that wrote the user to an app links to the app's run.
	app := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "crm"}).want(t, 201).str("id")
	run, err := e.Store.PushRuns().CreateRun(t.Context(), storage.Run{SourceID: app, Status: storage.RunFailed, Trigger: "manual", Queued: e.Store.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.PushRuns().AddChanges(t.Context(), run.ID, []storage.Change{{Seq: 1, Action: storage.ChangeError, Kind: "User", ResourceID: f.user1, Detail: "the target answered 409"}}); err != nil {
		t.Fatal(err)
	}
	u.get(t, "/ui/directory/users/"+f.user1).want(t, 200, `<a href="/ui/apps/`+app+`/runs/`+run.ID+`">Push of `, "(Failed)", "<td>Error</td>", "the target answered 409")

	u.get(t, "/ui/directory/users/"+f.pushed).want(t, 200, "Push client <strong>push</strong>", "Not a direct member of any group.", "No run has changed it yet.")
	u.get(t, "/ui/directory/users/no-such-user").want(t, 404, `There is no user with id &#34;no-such-user&#34;`)

	// What the page showed is what the API holds.
	api := e.call(t, "GET", "/api/v1/users/"+f.user1, e.Admin, nil).want(t, 200)
	if api.str("owner", "name") != "hr" || len(api.Body["recentChanges"].([]any)) != 3 {
		t.Errorf("API: %s", api.Raw)
	}
}

func TestConsoleDirectoryGroupPage(t *testing.T) {
	e := newAPIEnv(t)
	f := newDirectoryFixture(t, e)
	u := signedIn(t, e)

	p := u.get(t, "/ui/directory/groups/"+f.group).want(t, 200, "<h1>Engineering</h1>", `Source <a href="/ui/sources/`+f.sourceID+`">hr</a>`,
		"<dt>Members</dt><dd>3</dd>", "1–3 of 3", "<td>Created</td>", "<dt>externalId</dt><dd>g1</dd>")
	if got := resultNames(p); strings.Join(slices.Sorted(slices.Values(got)), ",") != "user1@example.com,user2@example.com,user3@example.com" {
		t.Errorf("members = %v", got)
	}
	past := u.get(t, "/ui/directory/groups/"+f.group+"?from=2").want(t, 200, "3–3 of 3", ">Previous</a>")
	if got := resultNames(past); len(got) != 1 {
		t.Errorf("from=2: members %v, want 1", got)
	}
	u.get(t, "/ui/directory/groups/nope").want(t, 404, "There is no group")
}
