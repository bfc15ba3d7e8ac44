package api_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

// formOf reads the form that posts to action from a page as a browser
// would submit it (without pressing a named button): text, hidden,
// number and password inputs, checked boxes, textareas and the selected
// options.
func formOf(t *testing.T, p uiPage, action string) url.Values {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(p.Body))
	if err != nil {
		t.Fatal(err)
	}
	attr := func(n *xhtml.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var form *xhtml.Node
	var find func(*xhtml.Node)
	find = func(n *xhtml.Node) {
		if a, _ := attr(n, "action"); n.Type == xhtml.ElementNode && n.Data == "form" && a == action {
			form = n
		}
		for c := n.FirstChild; c != nil && form == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if form == nil {
		t.Fatalf("no form posting to %s:\n%s", action, p.Body)
	}
	v := url.Values{}
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		name, named := attr(n, "name")
		if n.Type == xhtml.ElementNode && named {
			switch n.Data {
			case "input":
				typ, _ := attr(n, "type")
				val, _ := attr(n, "value")
				_, checked := attr(n, "checked")
				switch typ {
				case "submit", "button":
				case "checkbox":
					if checked {
						v.Add(name, val)
					}
				default:
					v.Add(name, val)
				}
			case "textarea":
				text := ""
				if n.FirstChild != nil {
					text = n.FirstChild.Data
				}
				v.Add(name, text)
			case "select":
				first, chosen := "", ""
				for o := n.FirstChild; o != nil; o = o.NextSibling {
					if o.Type != xhtml.ElementNode || o.Data != "option" {
						continue
					}
					val, _ := attr(o, "value")
					if first == "" {
						first = val
					}
					if _, sel := attr(o, "selected"); sel {
						chosen = val
					}
				}
				if chosen == "" {
					chosen = first
				}
				v.Add(name, chosen)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return v
}

// sourceID is the id in a redirect to a source's page.
func sourceIDIn(t *testing.T, p uiPage) string {
	t.Helper()
	id, ok := strings.CutPrefix(p.Location, "/ui/sources/")
	if p.Status != http.StatusSeeOther || !ok || id == "" || strings.Contains(id, "/") {
		t.Fatalf("want a redirect to a source's page, got %d to %q: %s", p.Status, p.Location, p.Body)
	}
	return id
}

func TestConsoleSourceList(t *testing.T) {
	env := newAPIEnv(t)
	users := env.writeFile(t, "users.csv", usersCSV(0, 3, engineer))
	for _, s := range []map[string]any{
		{"name": "hr-export", "kind": "csv", "schedule": "1h", "settings": map[string]any{"usersPath": users}},
		{"name": "paused", "kind": "csv", "enabled": false, "settings": map[string]any{"usersPath": users}},
		{"name": "fresh", "kind": "csv", "schedule": "1h", "settings": map[string]any{"usersPath": users}},
	} {
		env.call(t, "POST", "/api/v1/sources", env.Admin, s).want(t, 201)
	}
	list := env.call(t, "GET", "/api/v1/sources", env.Admin, nil).want(t, 200)
	var got struct {
		Sources []struct {
			ID, Name string
			NextRuns []string `json:"nextRuns"`
		}
	}
	if err := json.Unmarshal(list.Raw, &got); err != nil || len(got.Sources) != 3 {
		t.Fatalf("sources: %s", list.Raw)
	}
	var hr struct {
		ID, Name string
		NextRuns []string `json:"nextRuns"`
	}
	for _, s := range got.Sources {
		if s.Name == "hr-export" {
			hr = s
		}
	}
	env.sync(t, hr.ID, "")
	u := signedIn(t, env)
	u.get(t, "/ui/sources").want(t, http.StatusOK,
		`<a class="button" href="/ui/sources/new">Add source</a>`,
		`<a href="/ui/sources/`+hr.ID+`">hr-export</a>`, "<code>1h</code>", ">Succeeded</a>",
		">paused</a>", "<td>No</td>", "Disabled",
		">fresh</a>", "<td>Due now</td>", // never ran: the scheduler runs it at once
	)
	// The first of the next runs, in UTC to the minute.
	p := u.get(t, "/ui/sources/"+hr.ID).want(t, http.StatusOK, "Healthy", "Succeeded", "Run now", "Test connection", "Dry run", "Edit")
	if len(hr.NextRuns) == 0 {
		t.Fatal("no next runs")
	}
	after := env.call(t, "GET", "/api/v1/sources/"+hr.ID, env.Admin, nil).want(t, 200)
	next := runTimes(t, after, "nextRuns")
	p.want(t, http.StatusOK, next[0].UTC().Format("2006-01-02 15:04 UTC"), next[2].UTC().Format("2006-01-02 15:04 UTC"))
}

func TestConsoleCreatesACSVSourceThroughTheForm(t *testing.T) {
	env := newAPIEnv(t)
	users := env.writeFile(t, "users.csv", usersCSV(0, 3, engineer))
	u := signedIn(t, env)
	u.get(t, "/ui/sources/new").want(t, http.StatusOK, `href="/ui/sources/new?kind=csv"`, `href="/ui/sources/new?kind=ldap"`)
	p := u.get(t, "/ui/sources/new?kind=csv").want(t, http.StatusOK,
		`<label for="f-settings-usersPath">usersPath <span class="req" aria-hidden="true">(required)</span></label>`,
		`<label for="f-settings-groupsPath">groupsPath</label>`, `<label for="f-name">Name`, `<label for="f-schedule">Schedule</label>`,
		`<label for="f-deletion-policy">Deletion policy</label>`, `<label for="f-mapping-user">User mapping overrides</label>`,
		"<code>{userName}</code>", // the kind's default mapping
	)
	form := formOf(t, p, "/ui/sources/new")
	form.Set("name", "hr-export")
	form.Set("settings.usersPath", users)
	form.Set("schedule", "30m")
	form.Set("precedence", "5")
	form.Set("scope", `title eq "Engineer"`)
	form.Set("deletion.maxPercent", "10")
	form.Set("deletion.maxCount", "25")
	form.Set("mapping.user", "title = {title|upper}\n\n# a comment\ndisplayName =")
	id := sourceIDIn(t, u.post(t, "/ui/sources/new", form))
	u.get(t, "/ui/sources/"+id).want(t, http.StatusOK, "Created source hr-export.", "<code>{title|upper}</code>", "this source")

	src := env.call(t, "GET", "/api/v1/sources/"+id, env.Admin, nil).want(t, 200)
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"name", src.str("name"), "hr-export"},
		{"kind", src.str("kind"), "csv"},
		{"enabled", src.Body["enabled"], true},
		{"schedule", src.str("schedule"), "30m"},
		{"precedence", src.num("precedence"), 5.0},
		{"scope", src.str("scope"), `title eq "Engineer"`},
		{"usersPath", src.str("settings", "usersPath"), users},
		{"groupsPath", src.Body["settings"].(map[string]any)["groupsPath"], nil},
		{"policy", src.str("deletion", "policy"), "deactivate"},
		{"maxPercent", src.num("deletion", "maxPercent"), 10.0},
		{"maxCount", src.num("deletion", "maxCount"), 25.0},
		{"title override", src.str("mapping", "user", "title"), "{title|upper}"},
		{"displayName removed", src.Body["mapping"].(map[string]any)["user"].(map[string]any)["displayName"], ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// Editing with the form as it is loaded changes nothing but what is edited.
	edit := formOf(t, u.get(t, "/ui/sources/"+id+"/edit").want(t, http.StatusOK, `value="hr-export"`, users), "/ui/sources/"+id+"/edit")
	edit.Del("enabled")
	edit.Set("schedule", "")
	if got := sourceIDIn(t, u.post(t, "/ui/sources/"+id+"/edit", edit)); got != id {
		t.Fatalf("edit went to %s", got)
	}
	after := env.call(t, "GET", "/api/v1/sources/"+id, env.Admin, nil).want(t, 200)
	if after.Body["enabled"] != false || after.str("schedule") != "" || after.str("settings", "usersPath") != users ||
		after.num("deletion", "maxCount") != 25 || after.str("mapping", "user", "title") != "{title|upper}" || after.str("scope") != `title eq "Engineer"` {
		t.Errorf("after the edit: %s", after.Raw)
	}
}

func TestConsoleSourceFormShowsTheAPIsFieldErrors(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	// What the API says about the same mistakes, to find in the page.
	api := env.call(t, "POST", "/api/v1/sources", env.Admin, map[string]any{
		"name": "x", "kind": "csv", "settings": map[string]any{}, "mapping": map[string]any{"user": map[string]any{"shoeSize": "{x}"}},
	})
	fields, _ := api.wantErr(t, 422, "invalid_config")["fields"].(map[string]any)
	missing, _ := fields["settings.usersPath"].(string)
	badTarget, _ := fields["mapping.user.shoeSize"].(string)
	if missing == "" || badTarget == "" {
		t.Fatalf("the API's fields: %v", fields)
	}
	tests := []struct {
		name   string
		set    map[string]string
		status int
		want   []string
	}{
		{"missing required setting", map[string]string{"name": "x"}, http.StatusUnprocessableEntity, []string{
			`id="f-settings-usersPath" name="settings.usersPath" value="" spellcheck="false" autocomplete="off" aria-describedby="f-settings-usersPath-help f-settings-usersPath-error" aria-invalid="true"`,
			`<p id="f-settings-usersPath-error" class="field-error">` + html.EscapeString(missing) + `</p>`,
			`<strong>settings.usersPath</strong>: ` + html.EscapeString(missing),
		}},
		{"unknown mapping target", map[string]string{"name": "x", "settings.usersPath": "/tmp/u.csv", "mapping.user": "shoeSize = {x}"}, http.StatusUnprocessableEntity, []string{
			`<p id="f-mapping-user-error" class="field-error">shoeSize: ` + html.EscapeString(badTarget) + `</p>`,
		}},
		{"a mapping line without =", map[string]string{"name": "x", "settings.usersPath": "/tmp/u.csv", "mapping.user": "title {title}"}, http.StatusUnprocessableEntity, []string{
			`<p id="f-mapping-user-error" class="field-error">line 1: write one mapping a line as target = template`,
		}},
		{"a word in a number field", map[string]string{"name": "x", "settings.usersPath": "/tmp/u.csv", "deletion.maxCount": "many"}, http.StatusUnprocessableEntity, []string{
			`<p id="f-deletion-maxCount-error" class="field-error">enter a whole number`,
		}},
		{"a bad schedule", map[string]string{"name": "x", "settings.usersPath": "/tmp/u.csv", "schedule": "every tuesday"}, http.StatusUnprocessableEntity, []string{
			`<p id="f-schedule-error" class="field-error">`, "neither an interval",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := formOf(t, u.get(t, "/ui/sources/new?kind=csv"), "/ui/sources/new")
			for k, v := range tc.set {
				form.Set(k, v)
			}
			p := u.post(t, "/ui/sources/new", form).want(t, tc.status, tc.want...)
			// The form keeps what was typed.
			if v := tc.set["mapping.user"]; v != "" {
				p.want(t, tc.status, html.EscapeString(v)+"</textarea>")
			}
		})
	}
	if n := len(env.call(t, "GET", "/api/v1/sources", env.Admin, nil).want(t, 200).Body["sources"].([]any)); n != 0 {
		t.Errorf("%d sources were stored from invalid forms", n)
	}
	u.get(t, "/ui/sources/new?kind=ftp").want(t, http.StatusNotFound, "There is no source kind")

	// A taken name is the API's 409, shown next to the name.
	env.call(t, "POST", "/api/v1/sources", env.Admin, map[string]any{"name": "taken", "kind": "csv", "settings": map[string]any{"usersPath": "/tmp/u.csv"}}).want(t, 201)
	form := formOf(t, u.get(t, "/ui/sources/new?kind=csv"), "/ui/sources/new")
	form.Set("name", "taken")
	form.Set("settings.usersPath", "/tmp/u.csv")
	u.post(t, "/ui/sources/new", form).want(t, http.StatusConflict, `<p id="f-name-error" class="field-error">already taken</p>`, "a source named taken already exists")
}

// TestConsoleNeverShowsASecret: an ldap source's bindPassword is not in
// its pages; the edit form's empty "Replace bindPassword" keeps it, a
// typed one replaces it.
func TestConsoleNeverShowsASecret(t *testing.T) {
	env := newAPIEnv(t)
	const secret = "hunter2-DO-NOT-SHOW"
	id := env.call(t, "POST", "/api/v1/sources", env.Admin, map[string]any{
		"name": "corp-ad", "kind": "ldap", "settings": map[string]any{
			"url": "ldaps://127.0.0.1:1", "bindDN": "CN=scimgate,DC=example,DC=com", "bindPassword": secret, "baseDN": "DC=example,DC=com",
		}}).want(t, 201).str("id")
	u := signedIn(t, env)
	pages := []uiPage{
		u.get(t, "/ui/sources/"+id).want(t, http.StatusOK, "bindPassword", "set (write-only)"),
		u.get(t, "/ui/sources/"+id+"/edit").want(t, http.StatusOK,
			`<label for="f-settings-bindPassword">Replace bindPassword</label>`, "A value is <strong>set</strong>",
			`type="password" id="f-settings-bindPassword" name="settings.bindPassword" value=""`),
	}
	form := formOf(t, pages[1], "/ui/sources/"+id+"/edit")
	form.Set("settings.userBaseDN", "OU=Staff,DC=example,DC=com")
	sourceIDIn(t, u.post(t, "/ui/sources/"+id+"/edit", form))
	kept := env.call(t, "GET", "/api/v1/sources/"+id, env.Admin, nil).want(t, 200)
	if got, _ := json.Marshal(kept.Body["secretsSet"]); string(got) != `["bindPassword"]` || kept.str("settings", "userBaseDN") != "OU=Staff,DC=example,DC=com" {
		t.Fatalf("after an edit with the secret left empty: %s", kept.Raw)
	}
	// Kept means the same value: the sealed bytes did not change.
	before, err := env.Store.GetSource(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	form.Set("settings.bindPassword", "a-new-password")
	sourceIDIn(t, u.post(t, "/ui/sources/"+id+"/edit", form))
	after, err := env.Store.GetSource(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if string(after.Secrets["bindPassword"]) == string(before.Secrets["bindPassword"]) {
		t.Error("a typed replacement did not change the secret")
	}
	pages = append(pages, u.get(t, "/ui/sources/"+id), u.get(t, "/ui/sources/"+id+"/edit"), u.get(t, "/ui/sources"))
	for _, p := range pages {
		if strings.Contains(p.Body, secret) || strings.Contains(p.Body, "a-new-password") {
			t.Fatalf("a page shows the secret:\n%s", p.Body)
		}
	}
}

func TestConsoleSchedulePreview(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	form := formOf(t, u.get(t, "/ui/sources/new?kind=csv").want(t, http.StatusOK, `<button type="submit" name="action" value="preview"`), "/ui/sources/new")
	form.Set("name", "cron")
	form.Set("action", "preview")
	tests := []struct {
		schedule string
		want     []string
	}{
		// A new source runs at once when saved, then on its schedule.
		{"0 6 * * *", []string{"Next runs for <code>0 6 * * *</code>", "<li>At once (", "06:00 UTC", `value="cron"`}},
		{"every tuesday", []string{`<p class="field-error">Preview: `, "neither an interval"}},
		{"", []string{"No scheduled runs"}},
	}
	for _, tc := range tests {
		t.Run(tc.schedule, func(t *testing.T) {
			form.Set("schedule", tc.schedule)
			p := u.post(t, "/ui/sources/new", form).want(t, http.StatusOK, tc.want...)
			if tc.schedule == "0 6 * * *" && strings.Count(p.Body, "06:00 UTC (in ") != 2 {
				t.Errorf("want two runs at 06:00 after the first:\n%s", p.Body)
			}
		})
	}
	if n := len(env.call(t, "GET", "/api/v1/sources", env.Admin, nil).want(t, 200).Body["sources"].([]any)); n != 0 {
		t.Errorf("a preview stored %d sources", n)
	}
	// The script's route: JSON, and 401 JSON without a session.
	for _, tc := range []struct {
		user   *consoleUser
		status int
		want   string
	}{{u, http.StatusOK, `"next":["`}, {newConsoleUser(t, env), http.StatusUnauthorized, `"error"`}} {
		req, err := http.NewRequest(http.MethodGet, env.URL+"/ui/schedules/preview?schedule=15m", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Console-Fetch", "1")
		tc.user.do(t, req).want(t, tc.status, tc.want)
	}
}

func TestConsoleTestConnection(t *testing.T) {
	env := newAPIEnv(t)
	good := env.writeFile(t, "users.csv", usersCSV(0, 3, engineer))
	missing := env.Dir + "/nobody-wrote-this.csv"
	u := signedIn(t, env)
	tests := []struct {
		name, usersPath, want string
	}{
		{"missing file", missing, "Connection failed:"},
		{"good file", good, "Connection works:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := env.call(t, "POST", "/api/v1/sources", env.Admin, map[string]any{
				"name": strings.ReplaceAll(tc.name, " ", "-"), "kind": "csv", "settings": map[string]any{"usersPath": tc.usersPath}}).want(t, 201).str("id")
			msg := env.call(t, "POST", "/api/v1/sources/"+id+"/test", env.Admin, nil).want(t, 200).str("message")
			u.get(t, "/ui/sources/"+id)
			u.post(t, "/ui/sources/"+id+"/test", nil).want(t, http.StatusOK, tc.want, html.EscapeString(msg))
		})
	}
}

func TestConsoleRunNowAndDryRun(t *testing.T) {
	env := newAPIEnv(t)
	users := env.writeFile(t, "users.csv", usersCSV(0, 3, engineer))
	id := env.call(t, "POST", "/api/v1/sources", env.Admin, map[string]any{
		"name": "hr", "kind": "csv", "settings": map[string]any{"usersPath": users}}).want(t, 201).str("id")
	u := signedIn(t, env)
	tests := []struct {
		name    string
		form    url.Values
		created float64
		dryRun  bool
	}{
		{"dry run", url.Values{"dryRun": {"true"}}, 3, true},
		{"run now", nil, 3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u.get(t, "/ui/sources/"+id)
			p := u.post(t, "/ui/sources/"+id+"/sync", tc.form)
			runID, ok := strings.CutPrefix(p.Location, "/ui/sources/"+id+"/runs/")
			if p.Status != http.StatusSeeOther || !ok || runID == "" {
				t.Fatalf("want a redirect to the run's page, got %d to %q", p.Status, p.Location)
			}
			run := env.waitRun(t, id, runID)
			if run.str("status") != "succeeded" || run.str("mode") != "full" || run.Body["dryRun"] != tc.dryRun || run.num("counts", "created") != tc.created {
				t.Errorf("run: %s", run.Raw)
			}
		})
	}
	// A held run waits for a decision: "Run now" goes to it and says so.
	env.writeFile(t, "users.csv", usersCSV(0, 1, engineer))
	held := env.sync(t, id, "")
	if held.str("status") != "held" {
		t.Fatalf("want a held run: %s", held.Raw)
	}
	u.get(t, "/ui/sources/"+id)
	if p := u.post(t, "/ui/sources/"+id+"/sync", nil); p.Status != http.StatusSeeOther || p.Location != "/ui/sources/"+id+"/runs/"+held.str("id") {
		t.Fatalf("Run now with a held run: %d to %q, want the held run", p.Status, p.Location)
	}
	page := u.get(t, "/ui/sources/"+id).want(t, http.StatusOK, "Recent runs", "full, dry run", "Held for approval")
	if strings.Count(page.Body, `href="/ui/sources/`+id+`/runs/`) < 2 {
		t.Errorf("the runs are not linked:\n%s", page.Body)
	}
	u.post(t, "/ui/sources/"+id+"/delete", nil).want(t, http.StatusSeeOther)
	u.get(t, "/ui/sources").want(t, http.StatusOK, "Deleted source hr.")
	env.call(t, "GET", "/api/v1/sources/"+id, env.Admin, nil).wantErr(t, 404, "not_found")
}

// TestConsoleClearsAnOptionalSecret: "Clear <name>" removes a stored
// secret that is not required; a required one has no such box.
func TestConsoleClearsAnOptionalSecret(t *testing.T) {
	env := newAPIEnv(t)
	id := env.call(t, "POST", "/api/v1/sources", env.Admin, map[string]any{
		"name": "fake", "kind": "fake", "settings": map[string]any{"region": "eu", "apiToken": "tok-123"}}).want(t, 201).str("id")
	u := signedIn(t, env)
	page := u.get(t, "/ui/sources/"+id+"/edit").want(t, http.StatusOK, `<label for="f-clear-settings-apiToken">Clear apiToken</label>`)
	form := formOf(t, page, "/ui/sources/"+id+"/edit")
	form.Set("clear.settings.apiToken", "true")
	sourceIDIn(t, u.post(t, "/ui/sources/"+id+"/edit", form))
	after := env.call(t, "GET", "/api/v1/sources/"+id, env.Admin, nil).want(t, 200)
	if got, _ := json.Marshal(after.Body["secretsSet"]); string(got) != `[]` || after.str("settings", "region") != "eu" {
		t.Fatalf("after clearing: %s", after.Raw)
	}
	ldapID := env.call(t, "POST", "/api/v1/sources", env.Admin, map[string]any{
		"name": "corp-ad", "kind": "ldap", "settings": map[string]any{
			"url": "ldaps://127.0.0.1:1", "bindDN": "CN=x", "bindPassword": "pw", "baseDN": "DC=example,DC=com"}}).want(t, 201).str("id")
	if p := u.get(t, "/ui/sources/"+ldapID+"/edit"); strings.Contains(p.Body, "Clear bindPassword") {
		t.Error("a required secret offers to be cleared")
	}
}
