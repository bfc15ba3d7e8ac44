package ldap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api/apitest"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
)

// apiEnv is scimgate as an admin and a SCIM client see it: the config API
// and /scim/v2 over a SQLite file, with the ldap kind registered.
type apiEnv struct {
	url           string
	client        *http.Client
	admin, reader string
	runner        *engine.Runner
}

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	base := apitest.New(t, sources.Registry{"ldap": Kind()}, apitest.Options{})
	return &apiEnv{url: base.URL, client: base.Client, admin: base.Admin, reader: base.Reader, runner: base.Runner}
}

// call sends JSON and decodes the JSON answer, failing on another status.
func (e *apiEnv) call(t *testing.T, method, path, token string, body any, status int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("%s %s -> %d, want %d: %s", method, path, res.StatusCode, status, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// createSource registers an ldap source and returns its id.
func (e *apiEnv) createSource(t *testing.T, name string, settings map[string]any, deletion map[string]any) string {
	t.Helper()
	if deletion == nil {
		deletion = map[string]any{"policy": "deactivate", "maxPercent": 50}
	}
	src := e.call(t, "POST", "/api/v1/sources", e.admin, map[string]any{
		"name": name, "kind": "ldap", "settings": settings, "deletion": deletion,
	}, http.StatusCreated)
	return src["id"].(string)
}

// sync runs the source (mode "", "full" or "incremental") and waits for
// the run to end.
func (e *apiEnv) sync(t *testing.T, id, mode string) map[string]any {
	t.Helper()
	q := ""
	if mode != "" {
		q = "?mode=" + mode
	}
	run := e.call(t, "POST", "/api/v1/sources/"+id+"/sync"+q, e.admin, nil, http.StatusAccepted)
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		r := e.call(t, "GET", "/api/v1/sources/"+id+"/runs/"+run["id"].(string), e.admin, nil, http.StatusOK)
		switch r["status"] {
		case "succeeded", "failed", "held", "rejected":
			if _, busy := e.runner.Running(id); !busy {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", run["id"])
	return nil
}

// counts reads a run's counts as integers.
func counts(run map[string]any) map[string]int {
	out := map[string]int{}
	c, _ := run["counts"].(map[string]any)
	for k, v := range c {
		if f, ok := v.(float64); ok {
			out[k] = int(f)
		}
	}
	return out
}

// scimList returns the resources matching filter (all pages) and the total.
func (e *apiEnv) scimList(t *testing.T, resource, filter string) ([]map[string]any, int) {
	t.Helper()
	var out []map[string]any
	total := 0
	for start := 1; ; start += 1000 {
		q := fmt.Sprintf("/scim/v2/%s?count=1000&startIndex=%d", resource, start)
		if filter != "" {
			q += "&filter=" + url.QueryEscape(filter)
		}
		r := e.call(t, "GET", q, e.reader, nil, http.StatusOK)
		list, _ := r["Resources"].([]any)
		for _, x := range list {
			out = append(out, x.(map[string]any))
		}
		total = int(r["totalResults"].(float64))
		if len(list) == 0 || len(out) >= total {
			return out, total
		}
	}
}

// scimOne returns the single resource matching filter.
func (e *apiEnv) scimOne(t *testing.T, resource, filter string) map[string]any {
	t.Helper()
	list, total := e.scimList(t, resource, filter)
	if total != 1 {
		t.Fatalf("%s %s: %d matches, want 1", resource, filter, total)
	}
	if resource == "Groups" {
		// Lists may leave members out; the resource itself has them all.
		return e.call(t, "GET", "/scim/v2/Groups/"+list[0]["id"].(string), e.reader, nil, http.StatusOK)
	}
	return list[0]
}

// path reads a nested value such as name.givenName or emails.0.value.
func path(m map[string]any, keys ...any) any {
	var v any = m
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			mm, _ := v.(map[string]any)
			v = mm[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
