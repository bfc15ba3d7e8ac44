package okta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

const testToken = "00test-api-token"

// newOrg starts an emulated org with an admin API token.
func newOrg(t testing.TB, opts oktatest.Options) *oktatest.Server {
	t.Helper()
	srv := oktatest.New(t, opts)
	srv.AddAPIToken(testToken, true)
	return srv
}

// orgEnv is what a source talking to srv is opened with: the org's clock
// and its client.
func orgEnv(srv *oktatest.Server) sources.Env {
	return sources.Env{Clock: srv.Clock(), HTTPClient: srv.Client()}
}

// envEdit changes the Env a test opens its source with.
type envEdit func(*sources.Env)

func withClock(c sources.Clock) envEdit               { return func(e *sources.Env) { e.Clock = c } }
func withHTTPClient(hc *http.Client) envEdit          { return func(e *sources.Env) { e.HTTPClient = hc } }
func withUpstream(o sources.UpstreamObserver) envEdit { return func(e *sources.Env) { e.Upstream = o } }

// open decodes settings as the registry would, validates and opens.
func open(t testing.TB, srv *oktatest.Server, settings map[string]any, edits ...envEdit) sources.Source {
	t.Helper()
	src, err := tryOpen(srv, settings, edits...)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func tryOpen(srv *oktatest.Server, settings map[string]any, edits ...envEdit) (sources.Source, error) {
	all := map[string]any{"orgURL": srv.URL, "apiToken": testToken}
	for k, v := range settings {
		if v == nil {
			delete(all, k)
		} else {
			all[k] = v
		}
	}
	raw, _ := json.Marshal(all)
	env := orgEnv(srv)
	for _, edit := range edits {
		edit(&env)
	}
	cfg := okta.Kind().New()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, err
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, errs.Err()
	}
	return cfg.Open(env)
}

// run syncs once and fails the test on error.
func run(t testing.TB, src sources.Source, req sources.Request) (*sourcetest.Recorder, sources.Result) {
	t.Helper()
	rec := &sourcetest.Recorder{}
	res, err := src.Sync(context.Background(), req, rec)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return rec, res
}

// cursorOf decodes a result's cursor for assertions.
func cursorOf(t testing.TB, res sources.Result) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(res.Cursor, &c); err != nil {
		t.Fatalf("cursor %q: %v", res.Cursor, err)
	}
	return c
}

// person is a user spec with the usual profile.
func person(i int, extra ...any) oktatest.UserSpec {
	p := map[string]any{"displayName": fmt.Sprintf("User %d", i), "title": "Engineer", "department": "R&D",
		"employeeNumber": fmt.Sprintf("E%05d", i), "mobilePhone": "+1 555 0100"}
	spec := oktatest.UserSpec{Login: fmt.Sprintf("user%d@example.com", i), Email: fmt.Sprintf("user%d@example.com", i),
		FirstName: fmt.Sprintf("Given%d", i), LastName: fmt.Sprintf("Family%d", i), Profile: p}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i] == "status" {
			spec.Status = extra[i+1].(string)
			continue
		}
		p[extra[i].(string)] = extra[i+1]
	}
	return spec
}

// queries lists the logged requests to path, as decoded query strings.
func queries(srv *oktatest.Server, path string) []string {
	var out []string
	for _, r := range srv.Stats().Log {
		if r.Path == path {
			q, _ := url.QueryUnescape(r.Query)
			out = append(out, q)
		}
	}
	return out
}

func hasNote(res sources.Result, fragment string) bool {
	return slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, fragment) })
}

// later moves the org's clock on, so later changes get later timestamps.
func later(srv *oktatest.Server, d time.Duration) { srv.Clock().Advance(d) }
