package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// oasClient talks to a test server and checks every request it sends and
// every response it gets against the OpenAPI document the server serves.
type oasClient struct {
	env    *apiEnv
	doc    *openapi3.T
	router routers.Router
	called map[string]bool // operationIds exercised
}

// loadOpenAPI fetches the document without a token (it is public) and
// validates it as OpenAPI 3.
func loadOpenAPI(t *testing.T, e *apiEnv) *oasClient {
	t.Helper()
	r := e.call(t, "GET", api.OpenAPIPath, "", nil).want(t, 200)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(r.Raw)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &oasClient{env: e, doc: doc, router: router, called: map[string]bool{}}
}

// briefErrors keeps the whole schema out of failure messages; the body is
// printed beside them anyway.
var briefErrors = []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()}

// checkRequest says whether the request itself must match the document;
// requests that are wrong on purpose (to get a 400 or 422) skip it.
type checkRequest bool

const (
	validRequest   checkRequest = true
	invalidRequest checkRequest = false
)

// do sends a request and fails the test unless the response's status is
// documented for the operation and its headers and body match the schema.
func (o *oasClient) do(t *testing.T, method, path, token string, body any, check checkRequest) *apiResp {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	newReq := func() *http.Request {
		req, err := http.NewRequest(method, o.env.URL+path, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req
	}
	req := newReq()
	route, params, err := o.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in the OpenAPI document: %v", method, path, err)
	}
	o.called[route.Operation.OperationID] = true
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true, SchemaValidationOptions: briefErrors}}
	if check == validRequest {
		if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil {
			t.Errorf("%s %s: the request does not match the document: %v", method, path, err)
		}
	}
	res, err := o.env.client.Do(newReq())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: briefErrors}}
	out.SetBodyBytes(got)
	if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
		t.Errorf("%s %s -> %d %s\ndoes not match the document: %v", method, path, res.StatusCode, got, err)
	}
	r := &apiResp{Status: res.StatusCode, Raw: got, desc: method + " " + path}
	_ = json.Unmarshal(got, &r.Body)
	return r
}

// waitRun polls a run (each poll checked too) until it has ended or is
// held and the runner has let go of the source.
func (o *oasClient) waitRun(t *testing.T, sourceID, runID string) *apiResp {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r := o.do(t, "GET", "/api/v1/sources/"+sourceID+"/runs/"+runID, o.env.Admin, nil, validRequest).want(t, 200)
		if _, busy := o.env.Runner.Running(sourceID); !busy && r.str("status") != "queued" && r.str("status") != "running" {
			return r
		}
	}
	t.Fatalf("run %s did not end", runID)
	return nil
}

func (o *oasClient) sync(t *testing.T, sourceID string) *apiResp {
	t.Helper()
	r := o.do(t, "POST", "/api/v1/sources/"+sourceID+"/sync?mode=full", o.env.Admin, nil, validRequest).want(t, 202)
	return o.waitRun(t, sourceID, r.str("id"))
}

// TestOpenAPIDescribesRealResponses drives every operation through a
// running server, success and error answers alike, and validates each
// exchange against the document.
func TestOpenAPIDescribesRealResponses(t *testing.T) {
	e := newAPIEnv(t)
	o := loadOpenAPI(t, e)
	o.do(t, "GET", api.OpenAPIPath, "", nil, validRequest).want(t, 200)
	admin := e.Admin
	users := e.writeFile(t, "users.csv", usersCSV(0, 10, engineer))
	groups := e.writeFile(t, "groups.csv", "externalId,displayName,members\ng1,Engineering,1;2;3\n")
	settings := map[string]any{"usersPath": users, "groupsPath": groups}

	if k := o.do(t, "GET", "/api/v1/kinds", admin, nil, validRequest).want(t, 200); !bytes.Contains(k.Raw, []byte(`"name":"csv"`)) {
		t.Errorf("kinds: %s", k.Raw)
	}
	src := o.do(t, "POST", "/api/v1/sources", admin, map[string]any{
		"name": "hr", "kind": "csv", "schedule": "1h", "settings": settings,
		"deletion": map[string]any{"policy": "deactivate", "maxPercent": 20},
	}, validRequest).want(t, 201)
	id := src.str("id")
	base := "/api/v1/sources/" + id

	// Errors, each with its documented status and the error shape.
	o.do(t, "POST", "/api/v1/sources", admin, map[string]any{"name": "hr", "kind": "csv", "settings": settings}, validRequest).wantErr(t, 409, "conflict")
	bad := o.do(t, "POST", "/api/v1/sources", admin, map[string]any{
		"name": "x", "kind": "csv", "schedule": "every tuesday", "settings": map[string]any{"usersPath": "relative.csv"},
	}, validRequest).wantErr(t, 422, "invalid_config")
	if fields, _ := bad["fields"].(map[string]any); fields["schedule"] == nil || fields["settings.usersPath"] == nil {
		t.Errorf("422 fields: %v", bad)
	}
	o.do(t, "POST", "/api/v1/sources", admin, `{"name": `, invalidRequest).wantErr(t, 400, "bad_request")
	o.do(t, "GET", "/api/v1/sources/nope", admin, nil, validRequest).wantErr(t, 404, "not_found")
	o.do(t, "GET", "/api/v1/sources", "", nil, validRequest).wantErr(t, 401, "unauthorized")
	o.do(t, "GET", "/api/v1/sources", e.Reader, nil, validRequest).wantErr(t, 403, "forbidden")
	o.do(t, "GET", base+"/runs?limit=-1", admin, nil, invalidRequest).wantErr(t, 400, "bad_request")

	if r := o.do(t, "POST", base+"/test", admin, nil, validRequest).want(t, 200); r.Body["ok"] != true {
		t.Errorf("test: %s", r.Raw)
	}
	run := o.sync(t, id)
	if run.str("status") != "succeeded" || run.num("counts", "created") != 11 {
		t.Fatalf("first run: %s", run.Raw)
	}
	if c := o.do(t, "GET", base+"/runs/"+run.str("id")+"/changes?offset=0&limit=5", admin, nil, validRequest).want(t, 200); c.num("total") != 11 {
		t.Errorf("changes: %s", c.Raw)
	}
	o.do(t, "PATCH", base, admin, map[string]any{"schedule": "30m", "settings": map[string]any{"groupsPath": nil}}, validRequest).want(t, 200)
	o.do(t, "PUT", base, admin, map[string]any{"name": "hr", "kind": "csv", "schedule": "1h", "settings": settings,
		"mapping": map[string]any{"user": map[string]any{"title": "{title|upper}"}}}, validRequest).want(t, 200)

	// Removing 3 of 11 users is held; the pending page shows them.
	e.writeFile(t, "users.csv", usersCSV(0, 7, engineer))
	held := o.sync(t, id)
	if held.str("status") != "held" {
		t.Fatalf("want a held run: %s", held.Raw)
	}
	o.do(t, "GET", base+"/runs/"+held.str("id")+"/pending", admin, nil, validRequest).want(t, 200)
	o.do(t, "POST", base+"/sync", admin, nil, validRequest).wantErr(t, 409, "run_held")
	o.do(t, "POST", base+"/runs/"+held.str("id")+"/approve", admin, nil, validRequest).want(t, 200)
	e.writeFile(t, "users.csv", usersCSV(0, 4, engineer))
	held = o.sync(t, id)
	o.do(t, "POST", base+"/runs/"+held.str("id")+"/reject", admin, nil, validRequest).want(t, 200)
	o.do(t, "POST", base+"/runs/"+held.str("id")+"/reject", admin, nil, validRequest).wantErr(t, 409, "not_held")
	if runs := o.do(t, "GET", base+"/runs?limit=10", admin, nil, validRequest).want(t, 200); len(runs.Body["runs"].([]any)) != 3 {
		t.Errorf("runs: %s", runs.Raw)
	}
	o.do(t, "GET", base, admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/sources", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/schedules/preview?schedule=15m&source="+id, admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/schedules/preview?schedule=every+tuesday", admin, nil, validRequest).wantErr(t, 422, "invalid_config")

	created := o.do(t, "POST", "/api/v1/tokens", admin, map[string]any{"name": "crm-2", "role": "reader"}, validRequest).want(t, 201)
	if created.str("token") == "" {
		t.Errorf("token create: %s", created.Raw)
	}
	o.do(t, "GET", "/api/v1/tokens", admin, nil, validRequest).want(t, 200)
	o.do(t, "POST", "/api/v1/tokens", admin, map[string]any{"name": "", "role": "root"}, invalidRequest).wantErr(t, 422, "invalid")
	o.do(t, "DELETE", "/api/v1/tokens/crm-2", admin, nil, validRequest).want(t, 204)
	o.do(t, "DELETE", "/api/v1/tokens/crm-2", admin, nil, validRequest).wantErr(t, 404, "not_found")
	exerciseApps(t, o, admin)
	exercisePush(t, o, admin)
	exerciseDirectory(t, o, admin)
	o.do(t, "GET", "/api/v1/audit?limit=50", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/audit?actor=bootstrap&target=x&since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/audit?since=soon", admin, nil, invalidRequest).wantErr(t, 400, "bad_request")
	o.do(t, "DELETE", base, admin, nil, validRequest).want(t, 204)

	// Every documented operation was exercised, so none is unchecked.
	for _, item := range o.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !o.called[op.OperationID] {
				t.Errorf("operation %s (%s) is documented but this test never calls it", op.OperationID, method)
			}
		}
	}
}

// exerciseApps drives the applications API, with a source named hr and
// the users of the first sync in place.
func exerciseApps(t *testing.T, o *oasClient, admin string) {
	t.Helper()
	crm := o.do(t, "POST", "/api/v1/apps", admin, map[string]any{
		"name": "crm", "description": "Sales CRM",
		"scope":  map[string]any{"groups": []string{"Engineering", "GG-Later"}, "filter": `title sw "Eng"`, "sources": []string{"hr"}, "includeInactive": true},
		"groups": "scope", "flattenGroups": false, "attributes": []string{"userName", "name", "active"}, "leaveGraceDays": 7,
	}, validRequest).want(t, 201)
	if crm.num("counts", "users") != 3 || len(crm.Body["warnings"].([]any)) != 1 {
		t.Errorf("created app: %s", crm.Raw)
	}
	app := "/api/v1/apps/" + crm.str("id")
	o.do(t, "POST", "/api/v1/apps", admin, map[string]any{"name": "CRM"}, validRequest).wantErr(t, 409, "conflict")
	o.do(t, "POST", "/api/v1/apps", admin, map[string]any{"name": "x", "scope": map[string]any{"filter": "title sw"}}, validRequest).wantErr(t, 400, "bad_request")
	o.do(t, "POST", "/api/v1/apps", admin, map[string]any{"name": "x", "groups": "some"}, invalidRequest).wantErr(t, 400, "bad_request")
	o.do(t, "GET", "/api/v1/apps", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/app-attributes", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/push-profiles", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/apps/crm", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", "/api/v1/apps/nope", admin, nil, validRequest).wantErr(t, 404, "not_found")
	o.do(t, "PATCH", app, admin, map[string]any{"scope": map[string]any{"filter": ""}, "groups": "all"}, validRequest).want(t, 200)
	o.do(t, "PUT", app, admin, map[string]any{"name": "crm", "scope": map[string]any{"groups": []string{"Engineering"}}}, validRequest).want(t, 200)
	o.do(t, "PUT", app, admin, map[string]any{"description": "no name"}, invalidRequest).wantErr(t, 400, "bad_request")
	if p := o.do(t, "GET", app+"/preview", admin, nil, validRequest).want(t, 200); p.num("users") != 3 || p.num("groups") != 1 {
		t.Errorf("preview: %s", p.Raw)
	}
	if tok := o.do(t, "POST", app+"/tokens", admin, map[string]any{"name": "crm-prod"}, validRequest).want(t, 201); tok.str("token") == "" || tok.str("app") == "" {
		t.Errorf("app token: %s", tok.Raw)
	}
	o.do(t, "POST", app+"/tokens", admin, map[string]any{"name": "crm-prod"}, validRequest).wantErr(t, 409, "conflict")
	o.do(t, "POST", "/api/v1/tokens", admin, map[string]any{"name": "crm-test", "role": "reader", "app": "crm"}, validRequest).want(t, 201)
	o.do(t, "POST", "/api/v1/tokens", admin, map[string]any{"name": "crm-w", "role": "writer", "app": "crm"}, validRequest).wantErr(t, 400, "bad_request")
	if list := o.do(t, "GET", app+"/tokens", admin, nil, validRequest).want(t, 200); len(list.Body["tokens"].([]any)) != 2 {
		t.Errorf("app tokens: %s", list.Raw)
	}
	o.do(t, "GET", "/api/v1/tokens", admin, nil, validRequest).want(t, 200)
	o.do(t, "DELETE", app, admin, nil, validRequest).want(t, 204)
	o.do(t, "DELETE", app, admin, nil, validRequest).wantErr(t, 404, "not_found")
}

// exercisePush drives an app's push routes (with the fake push runner
// over the real store) and a push on the app itself.
func exercisePush(t *testing.T, o *oasClient, admin string) {
	t.Helper()
	if o.env.Pushes == nil {
		t.Fatal("the store keeps no push bookkeeping (storage.PushStore)")
	}
	push := map[string]any{"url": "http://127.0.0.1:9/scim/v2", "auth": map[string]any{"type": "bearer", "token": "t0ken"},
		"schedule": "15m", "afterChangeSeconds": 30, "profile": "aws", "match": []string{"userName", "externalId"}, "onLeave": "deactivate",
		"deletion": map[string]any{"maxPercent": 20, "maxCount": 500}, "mapping": map[string]any{"user": map[string]any{"userName": "{userName}"}}, "enabled": true}
	app := o.do(t, "POST", "/api/v1/apps", admin, map[string]any{"name": "slack", "push": push}, validRequest).want(t, 201)
	if app.str("push", "auth", "token") != "set" {
		t.Errorf("created app with push: %s", app.Raw)
	}
	o.do(t, "POST", "/api/v1/apps", admin, map[string]any{"name": "x", "push": map[string]any{"url": "http://example.com"}}, validRequest).wantErr(t, 400, "bad_request")
	o.do(t, "POST", "/api/v1/apps", admin, map[string]any{"name": "x", "push": map[string]any{"profile": "okta"}}, invalidRequest).wantErr(t, 400, "bad_request")
	base := "/api/v1/apps/" + app.str("id")
	o.do(t, "PATCH", base, admin, map[string]any{"push": map[string]any{"auth": map[string]any{"type": "oauth2", "tokenURL": "https://login.example.com/token",
		"clientId": "scimgate", "clientSecret": "s3cret", "scope": "scim"}}}, validRequest).want(t, 200)
	o.do(t, "GET", base, admin, nil, validRequest).want(t, 200)
	if r := o.do(t, "POST", base+"/test", admin, nil, validRequest).want(t, 200); r.Body["ok"] != false {
		t.Errorf("test: %s", r.Raw)
	}
	run := o.do(t, "POST", base+"/sync?mode=full&dryRun=true", admin, nil, validRequest).want(t, 202)
	o.do(t, "POST", base+"/sync?mode=fast", admin, nil, invalidRequest).wantErr(t, 400, "bad_request")
	o.do(t, "GET", base+"/runs?limit=5", admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", base+"/runs/"+run.str("id"), admin, nil, validRequest).want(t, 200)
	o.do(t, "GET", base+"/runs/nope", admin, nil, validRequest).wantErr(t, 404, "not_found")
	o.do(t, "GET", base+"/runs/"+run.str("id")+"/changes?offset=0&limit=5", admin, nil, validRequest).want(t, 200)
	id := app.str("id")
	held, err := o.env.Pushes.holdRun(t.Context(), id, []storage.PendingDeletion{{Kind: "User", ID: "u1", Name: "ann", Action: "deactivate"}})
	if err != nil {
		t.Fatal(err)
	}
	o.do(t, "POST", base+"/sync", admin, nil, validRequest).wantErr(t, 409, "run_held")
	o.do(t, "GET", base+"/runs/"+held.ID+"/pending", admin, nil, validRequest).want(t, 200)
	o.do(t, "POST", base+"/runs/"+held.ID+"/approve", admin, nil, validRequest).want(t, 200)
	o.do(t, "POST", base+"/runs/"+held.ID+"/approve", admin, nil, validRequest).wantErr(t, 409, "not_held")
	if held, err = o.env.Pushes.holdRun(t.Context(), id, nil); err != nil {
		t.Fatal(err)
	}
	o.do(t, "POST", base+"/runs/"+held.ID+"/reject", admin, nil, validRequest).want(t, 200)
	o.do(t, "PATCH", base, admin, map[string]any{"push": nil}, validRequest).want(t, 200)
	o.do(t, "POST", base+"/sync", admin, nil, validRequest).wantErr(t, 400, "no_push")
	o.do(t, "POST", base+"/test", admin, nil, validRequest).wantErr(t, 400, "no_push")
	o.do(t, "DELETE", base, admin, nil, validRequest).want(t, 204)
}

// echoParam matches Echo's :name path parameters.
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestOpenAPIListsEveryRoute keeps the document from drifting: every
// route Echo has under /api/v1 is documented, and nothing else is.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlstore.Open(t.Context(), filepath.Join(dir, "scimgate.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kinds := sources.Registry{"csv": csv.Kind()}
	runner := engine.NewRunner(st, kinds, nil, engine.RunnerOptions{})
	t.Cleanup(func() { runner.Shutdown(context.Background()) })
	var pushes outbound.Pushes
	if f := newFakePushes(st); f != nil {
		pushes = f
	}
	srv, err := api.New(api.Config{Store: st, Sync: runner, Kinds: kinds, Pushes: pushes})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := srv.Handler().(*echo.Echo)
	if !ok {
		t.Fatalf("Server.Handler is a %T, not *echo.Echo; update this test", srv.Handler())
	}
	var registered []string
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound || !strings.HasPrefix(r.Path, api.APIPrefix+"/") {
			continue
		}
		registered = append(registered, r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(servedDocument(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(registered)
	slices.Sort(documented)
	if !slices.Contains(registered, "GET /api/v1/sources/{id}") {
		t.Fatalf("the source routes are not mounted; found only %v", registered)
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in api/openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("api/openapi.json documents %s, which the server does not have", d)
		}
	}
}

// servedDocument reads the document through the handler, as a client
// would, without a token.
func servedDocument(t *testing.T, srv *api.Server) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", api.OpenAPIPath, nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s -> %d %s", api.OpenAPIPath, rec.Code, rec.Header().Get("Content-Type"))
	}
	return rec.Body.Bytes()
}
