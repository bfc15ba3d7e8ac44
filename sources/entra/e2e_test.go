package entra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api/apitest"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// app is scimgate in miniature: a SQLite store in a temp dir, a runner
// that knows the entra kind, and the API (config API and /scim/v2) over
// HTTP.
type app struct {
	URL    string
	Store  *sqlstore.Store
	Runner *engine.Runner
	Kinds  sources.Registry
	Sealer *engine.Sealer
	Admin  string
	Reader string
	http   *http.Client
}

// newApp starts the app; kind is the entra kind, possibly with a test
// clock in its configs.
func newApp(t testing.TB, kind sources.Kind) *app {
	t.Helper()
	return newAppWith(t, kind, apitest.Options{})
}

// newAppWith is newApp with options for the app (the runner's batch size).
func newAppWith(t testing.TB, kind sources.Kind, opts apitest.Options) *app {
	t.Helper()
	base := apitest.New(t, sources.Registry{"entra": kind}, opts)
	return &app{URL: base.URL, Store: base.Store, Runner: base.Runner, Kinds: base.Kinds, Sealer: base.Sealer,
		Admin: base.Admin, Reader: base.Reader, http: base.Client}
}

// call sends a JSON request and decodes the JSON answer.
func (a *app) call(t testing.TB, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	json.Unmarshal(raw, &out)
	if res.StatusCode >= 300 {
		out["_raw"] = string(raw)
	}
	return res.StatusCode, out
}

// createSource registers an entra source through the config API.
// endpoint is where a source connects: the emulator in this process or in
// another one.
type endpoint interface {
	URL() string
	TenantID() string
	ClientID() string
	ClientSecret() string
}

func (a *app) createSource(t testing.TB, tn endpoint, extra map[string]any) string {
	t.Helper()
	settings := map[string]any{"tenantId": tn.TenantID(), "clientId": tn.ClientID(), "clientSecret": tn.ClientSecret(),
		"loginURL": tn.URL(), "graphURL": tn.URL()}
	maps.Copy(settings, extra)
	status, body := a.call(t, "POST", "/api/v1/sources", a.Admin, map[string]any{"name": "entra", "kind": "entra", "settings": settings})
	if status != http.StatusCreated {
		t.Fatalf("create source: %d %v", status, body)
	}
	if secrets, _ := body["secretsSet"].([]any); len(secrets) != 1 || secrets[0] != "clientSecret" {
		t.Errorf("secretsSet = %v", body["secretsSet"])
	}
	if s, _ := body["settings"].(map[string]any); s["clientSecret"] != nil {
		t.Errorf("the secret came back: %v", s)
	}
	return body["id"].(string)
}

// runWith starts a run with r and waits for it to end.
func (a *app) runWith(t testing.TB, r *engine.Runner, srcID string) storage.Run {
	t.Helper()
	run, err := r.Start(context.Background(), srcID, engine.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	return a.wait(t, r, srcID, run.ID)
}

func (a *app) wait(t testing.TB, r *engine.Runner, srcID, runID string) storage.Run {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		got, err := a.Store.GetRun(context.Background(), srcID, runID)
		if err != nil {
			t.Fatal(err)
		}
		if _, busy := r.Running(srcID); !busy && (got.Status.Finished() || got.Status == storage.RunHeld) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", runID)
	return storage.Run{}
}

func (a *app) run(t testing.TB, srcID string) storage.Run { return a.runWith(t, a.Runner, srcID) }

// changes lists a run's change log as "action kind key" entries.
func (a *app) changes(t testing.TB, runID string) map[string]string {
	t.Helper()
	list, _, err := a.Store.ListChanges(context.Background(), runID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range list {
		out[c.Key] = c.Action + " " + c.Kind
	}
	return out
}

// scimOne reads the one resource a SCIM filter matches.
func (a *app) scimOne(t testing.TB, kind, filter string) map[string]any {
	t.Helper()
	status, body := a.call(t, "GET", "/scim/v2/"+kind+"?filter="+url.QueryEscape(filter), a.Reader, nil)
	list, _ := body["Resources"].([]any)
	if status != 200 || len(list) != 1 {
		t.Fatalf("GET %s %s: %d, %d resources: %v", kind, filter, status, len(list), body)
	}
	return list[0].(map[string]any)
}

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func TestEndToEndThroughTheConfigAPI(t *testing.T) {
	tn := graphtest.New(graphtest.Options{})
	t.Cleanup(tn.Close)
	boss := tn.AddUser(graphtest.User{UserPrincipalName: "boss@contoso.example", DisplayName: "Boss", Mail: "boss@contoso.example"})
	ann := tn.AddUser(graphtest.User{UserPrincipalName: "ann@contoso.example", DisplayName: "Ann Lee", GivenName: "Ann", Surname: "Lee",
		Mail: "ann@contoso.example", JobTitle: "Engineer", Department: "R&D", EmployeeID: "E7", Manager: boss, MobilePhone: "+1 555 0100"})
	tn.AddGroup(graphtest.Group{DisplayName: "Engineering", Members: []string{ann, boss}})
	a := newApp(t, entra.Kind())
	id := a.createSource(t, tn, nil)

	if status, body := a.call(t, "POST", "/api/v1/sources/"+id+"/test", a.Admin, nil); status != 200 {
		t.Fatalf("test connection: %d %v", status, body)
	}
	status, body := a.call(t, "POST", "/api/v1/sources/"+id+"/sync", a.Admin, nil)
	if status != http.StatusAccepted {
		t.Fatalf("sync: %d %v", status, body)
	}
	run := a.wait(t, a.Runner, id, body["id"].(string))
	if run.Status != storage.RunSucceeded || run.Mode != "full" || run.Counts.Created != 3 {
		t.Fatalf("run = %+v", run)
	}

	u := a.scimOne(t, "Users", `userName eq "ann@contoso.example"`)
	bossRes := a.scimOne(t, "Users", `userName eq "boss@contoso.example"`)
	ext, _ := u[enterprise].(map[string]any)
	mgr, _ := ext["manager"].(map[string]any)
	emails, _ := u["emails"].([]any)
	if u["externalId"] != ann || u["active"] != true || u["title"] != "Engineer" || ext["department"] != "R&D" ||
		ext["employeeNumber"] != "E7" || mgr["value"] != bossRes["id"] || len(emails) != 1 {
		t.Errorf("user = %v", u)
	}
	g := a.scimOne(t, "Groups", `displayName eq "Engineering"`)
	if members, _ := g["members"].([]any); len(members) != 2 || g["externalId"] == "" {
		t.Errorf("group = %v", g)
	}

	// Later runs are incremental.
	tn.DisableUser(ann)
	status, body = a.call(t, "POST", "/api/v1/sources/"+id+"/sync", a.Admin, nil)
	if status != http.StatusAccepted {
		t.Fatalf("sync: %d %v", status, body)
	}
	run = a.wait(t, a.Runner, id, body["id"].(string))
	if run.Status != storage.RunSucceeded || run.Mode != "incremental" || run.Counts.Updated != 1 {
		t.Fatalf("second run = %+v", run)
	}
	if u := a.scimOne(t, "Users", `userName eq "ann@contoso.example"`); u["active"] != false {
		t.Errorf("ann is still active: %v", u)
	}
}
