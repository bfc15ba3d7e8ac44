package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// httpJSON sends a JSON request with a bearer token and decodes the
// answer, failing the test unless the status is want.
func httpJSON(t *testing.T, method, url, token string, body any, want int) map[string]any {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != want {
		t.Fatalf("%s %s -> %d %v, want %d", method, url, res.StatusCode, out, want)
	}
	return out
}

// TestAppPushIntoAnotherScimgate: one scimgate pushes an app's view into
// a second one over loopback (scimgate is a complete SCIM server), driven
// by the app verbs: test, a full sync, a leaver deactivated by the next
// sync, the runs listed; the token is never shown.
func TestAppPushIntoAnotherScimgate(t *testing.T) {
	t.Parallel()
	target := startServer(t)
	writer := httpJSON(t, "POST", target.URL+"/api/v1/tokens", target.Admin, map[string]any{"name": "from-scimgate", "role": "writer"}, 201)
	token, _ := writer["token"].(string)
	if token == "" {
		t.Fatalf("writer token: %v", writer)
	}

	s := startServer(t)
	users := s.writeFile(t, "users.csv", usersFile(5))
	if _, errOut, err := s.cli(t, "source", "add", "--name", "hr", "--kind", "csv", "--setting", "usersPath="+users); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if out, errOut, err := s.cli(t, "source", "sync", "hr", "--wait"); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	def := s.writeFile(t, "slack.json", `{"name": "slack", "push": {"url": "`+target.URL+`/scim/v2",
		"auth": {"type": "bearer", "token": "`+token+`"}, "onLeave": "deactivate"}}`)
	if _, errOut, err := s.cli(t, "app", "create", "--file", def); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	out, _, err := s.cli(t, "app", "show", "slack")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "show", out, `"token": "set"`)
	if strings.Contains(out, token) {
		t.Fatalf("show prints the token:\n%s", out)
	}
	out, errOut, err := s.cli(t, "app", "test", "slack")
	if err != nil {
		t.Fatalf("test: %v\n%s%s", err, out, errOut)
	}
	mustContain(t, "test", out, "ok   reach", "ok   auth")

	out, errOut, err = s.cli(t, "app", "sync", "slack", "--full", "--wait")
	if err != nil {
		t.Fatalf("first push: %v\n%s%s", err, out, errOut)
	}
	mustContain(t, "first push", out, " succeeded (full): ", "created 5")
	list := httpJSON(t, "GET", target.URL+"/scim/v2/Users?count=100", token, nil, 200)
	if list["totalResults"] != 5.0 {
		t.Fatalf("target users after the first push: %v", list)
	}

	// user04 leaves the source, which deactivates it; the view keeps
	// inactive users (the default), so the next push updates it to
	// active false.
	s.writeFile(t, "users.csv", usersFile(4))
	if out, errOut, err := s.cli(t, "source", "sync", "hr", "--wait"); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	out, errOut, err = s.cli(t, "app", "sync", "slack", "--wait")
	if err != nil {
		t.Fatalf("second push: %v\n%s%s", err, out, errOut)
	}
	mustContain(t, "second push", out, " succeeded ", "updated 1, unchanged 4")
	gone := httpJSON(t, "GET", target.URL+`/scim/v2/Users?filter=userName%20eq%20%22user04@example.com%22`, token, nil, 200)
	res, _ := gone["Resources"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["active"] != false {
		t.Errorf("the leaver in the target: %v", gone)
	}
	out, _, err = s.cli(t, "app", "list")
	if err != nil || !regexp.MustCompile(`(?m)^slack\s.*\sok$`).MatchString(out) {
		t.Errorf("list = %q, %v", out, err)
	}
	out, _, err = s.cli(t, "app", "runs", "slack")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, " succeeded "); n != 2 {
		t.Errorf("runs list has %d succeeded runs:\n%s", n, out)
	}

	// The server's push metrics come from the client's and the runner's
	// hooks as serve wired them.
	metrics := scrapeText(t, s.URL)
	mustContain(t, "metrics", metrics, `scimgate_push_objects_total{action="created",app="slack"} 5`,
		`scimgate_push_runs_total{app="slack",status="succeeded"} 2`, `scimgate_push_unhealthy{app="slack"} 0`)
	if !regexp.MustCompile(`scimgate_push_requests_total\{app="slack",outcome="ok"\} [1-9]`).MatchString(metrics) {
		t.Errorf("no ok push requests counted:\n%s", metrics)
	}

	// With afterChangeSeconds, serve's scheduler pushes a change by itself.
	patch := s.writeFile(t, "debounce.json", `{"push": {"afterChangeSeconds": 1}}`)
	if _, errOut, err := s.cli(t, "app", "update", "slack", "--file", patch); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	s.writeFile(t, "users.csv", usersFile(3))
	if out, errOut, err := s.cli(t, "source", "sync", "hr", "--wait"); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		u := httpJSON(t, "GET", target.URL+`/scim/v2/Users?filter=userName%20eq%20%22user03@example.com%22`, token, nil, 200)
		if res, _ := u["Resources"].([]any); len(res) == 1 && res[0].(map[string]any)["active"] == false {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change was not pushed by the scheduler: %v\nruns:\n%s", u, mustCLI(t, s, "app", "runs", "slack"))
		}
	}
}

// scrapeText GETs /metrics as text.
func scrapeText(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustCLI(t *testing.T, s *testServer, args ...string) string {
	t.Helper()
	out, errOut, err := s.cli(t, args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errOut)
	}
	return out
}
