package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The hostile-input suite: the real scimgate binary, a table of inputs an
// attacker or a careless client sends per route, the status each must get,
// and after every one the proof that the server still answers. At the end
// the child's peak RSS must stay under hostilePeakRSS.

// hostilePeakRSS bounds the child's VmHWM over the whole table. The
// baseline on main, every row run, is 68 MB; a deep filter
// parsed recursively reached 1.1 GB, so the bound catches that class with
// room for the allocator's slack.
const hostilePeakRSS = 300 << 20

// hostileCase is one input. pendingFix names the part of issue 13 that
// makes the row hold; such rows are skipped (logged) until that fix is
// merged, when the mark is removed. SCIMGATE_HOSTILE_PENDING=1 runs them
// anyway (on main each fails; the 100k-paren rows kill the server).
type hostileCase struct {
	name    string
	method  string
	path    string // under the server's base URL; may hold a query
	body    func() []byte
	admin   bool  // config API (admin token) instead of the writer token
	want    []int // any of these statuses
	scim    string
	pending string
}

// scimgateChild is a running scimgate serve process.
type scimgateChild struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
	done   chan error
}

// buildScimgate compiles this command once into dir.
func buildScimgate(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "scimgate")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startScimgate runs `scimgate serve` on a free loopback port in a fresh
// working directory and waits for its "scimgate serving" log line.
func startScimgate(t *testing.T, bin, adminToken string) *scimgateChild {
	t.Helper()
	work := t.TempDir()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "SCIMGATE_ADMIN_TOKEN="+adminToken, "SCIMGATE_LOG_FORMAT=json")
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &scimgateChild{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); pw.Close() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Text()
			c.stderr.Write([]byte(line + "\n"))
			var rec struct{ Msg, Listen string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "scimgate serving" {
				addr <- rec.Listen
			}
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
		}
	})
	select {
	case a := <-addr:
		c.base = "http://" + a
	case err := <-c.done:
		t.Fatalf("scimgate ended before listening: %v\n%s", err, c.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("scimgate did not start:\n%s", c.stderr.String())
	}
	return c
}

// peakRSS is the child's VmHWM in bytes.
func (c *scimgateChild) peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc status for the child (%v); RSS bound not checked", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// call sends one request and returns the status and body.
func (c *scimgateChild) call(t *testing.T, client *http.Client, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
		if strings.HasPrefix(path, "/api/") {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, raw
}

// alive fails the test with the child's log when /healthz does not answer.
func (c *scimgateChild) alive(t *testing.T, client *http.Client, after string) {
	t.Helper()
	status, body := c.call(t, client, http.MethodGet, "/healthz", "", nil)
	if status != http.StatusOK {
		select {
		case err := <-c.done:
			t.Fatalf("after %s the server is gone (%v); its log ends:\n%s", after, err, tail(c.stderr.String(), 4000))
		default:
		}
		t.Fatalf("after %s GET /healthz = %d %.200s", after, status, body)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the scimgate binary")
	}
	const admin = "hostile-admin-token-0123456789abcdef"
	bin := buildScimgate(t, t.TempDir())
	srv := startScimgate(t, bin, admin)
	client := &http.Client{Timeout: 60 * time.Second}

	// A writer token for /scim/v2, and one user for the PATCH rows.
	status, body := srv.call(t, client, http.MethodPost, "/api/v1/tokens", admin, []byte(`{"name":"hostile-writer","role":"writer"}`))
	if status != http.StatusCreated {
		t.Fatalf("create writer token = %d %s", status, body)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	writer := tok.Token
	status, body = srv.call(t, client, http.MethodPost, "/scim/v2/Users", writer,
		[]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"target@example.com"}`))
	if status != http.StatusCreated {
		t.Fatalf("create target user = %d %s", status, body)
	}
	var target struct{ ID string }
	json.Unmarshal(body, &target)
	userPath := "/scim/v2/Users/" + target.ID

	for _, tc := range hostileCases(userPath, srv.patchCap(t, client, writer)) {
		ok := t.Run(tc.name, func(t *testing.T) {
			if tc.pending != "" && os.Getenv("SCIMGATE_HOSTILE_PENDING") == "" {
				t.Skipf("pendingFix %q: expected %v %s once that part of issue 13 is merged", tc.pending, tc.want, tc.scim)
			}
			token := writer
			if tc.admin {
				token = admin
			}
			var in []byte
			if tc.body != nil {
				in = tc.body()
			}
			status, out := srv.call(t, client, tc.method, tc.path, token, in)
			if !slices.Contains(tc.want, status) {
				t.Errorf("%s = %d %.300s; want %v", tc.name, status, out, tc.want)
			}
			if tc.scim != "" {
				var e struct{ ScimType string }
				json.Unmarshal(out, &e)
				if e.ScimType != tc.scim {
					t.Errorf("%s: scimType %q, want %q (body %.300s)", tc.name, e.ScimType, tc.scim, out)
				}
			}
			srv.alive(t, client, tc.name)
		})
		if !ok && srv.cmd.ProcessState != nil {
			t.Fatal("the server died; the remaining rows cannot run")
		}
	}

	if peak := srv.peakRSS(t); peak > hostilePeakRSS {
		t.Errorf("server peak RSS (VmHWM) %d MB, want under %d MB", peak>>20, hostilePeakRSS>>20)
	} else {
		t.Logf("server peak RSS (VmHWM) %d MB (bound %d MB)", peak>>20, hostilePeakRSS>>20)
	}
}

// patchCap is the PATCH operation cap /ServiceProviderConfig advertises,
// or 0 when it advertises none (before the patch fix).
func (c *scimgateChild) patchCap(t *testing.T, client *http.Client, token string) int {
	t.Helper()
	status, body := c.call(t, client, http.MethodGet, "/scim/v2/ServiceProviderConfig", token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /ServiceProviderConfig = %d %s", status, body)
	}
	var spc struct {
		Patch struct {
			MaxOperations int `json:"maxOperations"`
		} `json:"patch"`
	}
	json.Unmarshal(body, &spc)
	return spc.Patch.MaxOperations
}

// hostileCases is the table. userPath is an existing user; patchCap the
// advertised PATCH operation cap (0 when none is advertised yet).
func hostileCases(userPath string, patchCap int) []hostileCase {
	const users = "/scim/v2/Users"
	filter := func(f string) string { return users + "?filter=" + url.QueryEscape(f) }
	bytesOf := func(s string) func() []byte { return func() []byte { return []byte(s) } }
	user := func(extra string) func() []byte {
		return bytesOf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],` + extra + `}`)
	}
	patch := func(n int, op string) func() []byte {
		return func() []byte {
			var b strings.Builder
			b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`)
			for i := range n {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(op)
			}
			b.WriteString("]}")
			return []byte(b.String())
		}
	}
	chain := func(n int, join string) string {
		terms := make([]string, n)
		for i := range terms {
			terms[i] = fmt.Sprintf(`userName eq "u%d@example.com"`, i)
		}
		return strings.Join(terms, " "+join+" ")
	}
	opsPastCap, opsPending := patchCap+1, ""
	if patchCap == 0 {
		opsPastCap, opsPending = 1001, "patch"
	}
	nested := func(depth int) func() []byte {
		return func() []byte {
			return []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"deep@example.com","x":` +
				strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
		}
	}
	tokenNamed := func(name string) func() []byte {
		return func() []byte { b, _ := json.Marshal(map[string]string{"name": name, "role": "reader"}); return b }
	}
	source := func(name, kind string, settings map[string]any) func() []byte {
		return func() []byte {
			b, _ := json.Marshal(map[string]any{"name": name, "kind": kind, "settings": settings})
			return b
		}
	}
	csvAt := func(path string) map[string]any { return map[string]any{"usersPath": path} }
	huge := strings.Repeat("n", 900<<10)
	badRequest, invalidConfig := []int{http.StatusBadRequest}, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}
	ok := []int{http.StatusOK}

	return []hostileCase{
		// Filters.
		{name: "filter/100k parens", method: "GET", path: filter(strings.Repeat("(", 50000) + `userName eq "x"` + strings.Repeat(")", 50000)),
			want: badRequest, scim: "invalidFilter"},
		{name: "filter/100k parens in .search", method: "POST", path: users + "/.search",
			body: func() []byte {
				b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
					"filter": strings.Repeat("(", 50000) + `userName eq "x"` + strings.Repeat(")", 50000)})
				return b
			}, want: badRequest, scim: "invalidFilter"},
		{name: "filter/100k parens on Groups", method: "GET", path: "/scim/v2/Groups?filter=" + url.QueryEscape(strings.Repeat("(", 50000)+`displayName eq "x"`+strings.Repeat(")", 50000)),
			want: badRequest, scim: "invalidFilter"},
		{name: "filter/1000-term or", method: "GET", path: filter(chain(1000, "or")), want: ok},
		{name: "filter/91-term and", method: "GET", path: filter(chain(91, "and")), want: ok},
		{name: "filter/19 nested not", method: "GET", path: filter(strings.Repeat("not (", 19) + `userName eq "x"` + strings.Repeat(")", 19)),
			want: ok},
		{name: "filter/1000-term or in .search", method: "POST", path: users + "/.search",
			body: func() []byte {
				b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": chain(1000, "or")})
				return b
			}, want: ok},
		{name: "filter/unterminated", method: "GET", path: filter(`userName eq "x`), want: badRequest, scim: "invalidFilter"},
		{name: "filter/unknown operator", method: "GET", path: filter(`userName zz "x"`), want: badRequest, scim: "invalidFilter"},

		// PATCH.
		{name: "patch/17000 ops", method: "PATCH", path: userPath, body: patch(17000, `{"op":"replace","path":"title","value":"x"}`),
			want: badRequest, scim: "tooMany"},
		{name: "patch/ops cap+1", method: "PATCH", path: userPath, body: patch(opsPastCap, `{"op":"replace","path":"title","value":"x"}`),
			want: badRequest, scim: "tooMany", pending: opsPending},
		{name: "patch/deep value filter in path", method: "PATCH", path: userPath,
			body: patch(1, `{"op":"remove","path":"emails[`+strings.Repeat("(", 20000)+`value eq \"x\"`+strings.Repeat(")", 20000)+`]"}`),
			want: badRequest},
		{name: "patch/10000-segment path", method: "PATCH", path: userPath,
			body: patch(1, `{"op":"replace","path":"`+strings.Repeat("name.", 10000)+`givenName","value":"x"}`),
			want: badRequest, scim: "invalidPath"},
		{name: "patch/no operations", method: "PATCH", path: userPath, body: patch(0, ""), want: badRequest},

		// Bodies.
		{name: "body/trailing garbage", method: "POST", path: users, body: user(`"userName":"garbage@example.com"}garbage`),
			want: badRequest, scim: "invalidSyntax"},
		{name: "body/duplicate keys", method: "POST", path: users, body: user(`"userName":"dup1@example.com","userName":"dup2@example.com"`),
			want: badRequest, scim: "invalidSyntax"},
		{name: "body/1 MiB + 1", method: "POST", path: users, body: func() []byte {
			b := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big@example.com","title":"`)
			b = append(b, bytes.Repeat([]byte("x"), 1<<20+1-len(b)-2)...)
			return append(b, `"}`...)
		}, want: []int{http.StatusRequestEntityTooLarge}},
		{name: "body/10000-deep nesting", method: "POST", path: users, body: nested(10000), want: badRequest, scim: "invalidSyntax"},
		{name: "body/invalid UTF-8 userName", method: "POST", path: users, body: user("\"userName\":\"bad\xff\xfe@example.com\""),
			want: badRequest, scim: "invalidValue"},
		{name: "body/900 KB userName", method: "POST", path: users, body: user(`"userName":"` + huge + `"`),
			want: badRequest, scim: "invalidValue"},
		{name: "body/not JSON", method: "POST", path: users, body: bytesOf("userName=x"), want: badRequest, scim: "invalidSyntax"},

		// Query parameters.
		{name: "query/count past int64", method: "GET", path: users + "?count=99999999999999999999", want: badRequest, scim: "invalidValue"},
		{name: "query/huge count", method: "GET", path: users + "?count=2147483647", want: ok},
		{name: "query/huge startIndex", method: "GET", path: users + "?startIndex=9223372036854775807", want: ok},
		{name: "query/negative count", method: "GET", path: users + "?count=-5", want: ok},
		{name: "query/negative startIndex", method: "GET", path: users + "?startIndex=-5", want: ok},
		{name: "query/100k attribute names", method: "GET", path: users + "?attributes=" + strings.Repeat("title,", 100000) + "userName", want: ok},
		{name: "query/100k excludedAttributes", method: "GET", path: users + "?excludedAttributes=" + strings.Repeat("title,", 100000) + "emails", want: ok},
		{name: "query/sortBy junk", method: "GET", path: users + "?sortBy=" + url.QueryEscape(`))"junk[`), want: badRequest, scim: "invalidValue"},
		{name: "query/sortOrder junk", method: "GET", path: users + "?sortBy=userName&sortOrder=sideways", want: []int{http.StatusOK, http.StatusBadRequest}},

		// Config API fields.
		{name: "api/900 KB token name", method: "POST", path: "/api/v1/tokens", admin: true, body: tokenNamed(huge), want: invalidConfig},
		{name: "api/newline in token name", method: "POST", path: "/api/v1/tokens", admin: true, body: tokenNamed("two\nlines"), want: invalidConfig},
		{name: "api/900 KB source name", method: "POST", path: "/api/v1/sources", admin: true,
			body: source(huge, "csv", csvAt("/nonexistent/users.csv")), want: invalidConfig},
		{name: "api/NUL in source name", method: "POST", path: "/api/v1/sources", admin: true,
			body: source("nul\x00name", "csv", csvAt("/nonexistent/users.csv")), want: invalidConfig},
		{name: "api/csv /etc/shadow", method: "POST", path: "/api/v1/sources", admin: true,
			body: source("shadow", "csv", csvAt("/etc/shadow")), want: invalidConfig},
		{name: "api/csv /dev/zero", method: "POST", path: "/api/v1/sources", admin: true,
			body: source("zero", "csv", csvAt("/dev/zero")), want: invalidConfig},
		{name: "api/ldap plaintext bind", method: "POST", path: "/api/v1/sources", admin: true,
			body: source("plain", "ldap", map[string]any{"url": "ldap://dc.example.com", "bindDN": "cn=x", "bindPassword": "pw", "baseDN": "dc=example,dc=com"}),
			want: invalidConfig},
		{name: "api/okta link-local", method: "POST", path: "/api/v1/sources", admin: true,
			body: source("metadata", "okta", map[string]any{"orgURL": "https://169.254.169.254", "apiToken": "x"}), want: invalidConfig},
		{name: "api/okta http link-local", method: "POST", path: "/api/v1/sources", admin: true,
			body: source("metadata-http", "okta", map[string]any{"orgURL": "http://169.254.169.254/", "apiToken": "x"}), want: invalidConfig},
		{name: "api/source scope 100k parens", method: "POST", path: "/api/v1/sources", admin: true,
			body: func() []byte {
				b, _ := json.Marshal(map[string]any{"name": "deep-scope", "kind": "csv", "settings": csvAt("/nonexistent/users.csv"),
					"scope": strings.Repeat("(", 50000) + `userName eq "x"` + strings.Repeat(")", 50000)})
				return b
			}, want: invalidConfig},
		{name: "api/unknown field", method: "POST", path: "/api/v1/tokens", admin: true, body: bytesOf(`{"name":"x","role":"reader","extra":1}`), want: badRequest},
		{name: "api/trailing garbage", method: "POST", path: "/api/v1/tokens", admin: true, body: bytesOf(`{"name":"tg","role":"reader"}garbage`),
			want: badRequest},
	}
}
