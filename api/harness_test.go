package api_test

// The end-to-end harness: every test talks HTTP over loopback to a real
// server (api.New(...).Handler() behind httptest.NewServer) backed by a
// real SQLite file in t.TempDir(), authenticating with tokens made by
// api.NewToken and stored with store.CreateToken.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

const (
	errorURN  = "urn:ietf:params:scim:api:messages:2.0:Error"
	listURN   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchURN  = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	searchURN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	userURN   = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN  = "urn:ietf:params:scim:schemas:core:2.0:Group"
	entURN    = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	scimCT    = "application/scim+json"
)

// Token names; the owner tag of what a writer creates is "scim:<name>".
const (
	readerName  = "auditor"
	writerName  = "okta-writer"
	writer2Name = "entra-writer"
	adminName   = "ops-admin"
)

// env is one running server over its own database.
type env struct {
	URL    string // http://127.0.0.1:port
	Store  *sqlstore.Store
	DBPath string
	client *http.Client

	Reader, Writer, Writer2, Admin string // bearer tokens
}

func newEnv(t *testing.T) *env { return newEnvWith(t, api.Config{}) }

// newEnvWith starts a server with cfg (Store is filled in).
func newEnvWith(t *testing.T, cfg api.Config) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scimgate.db")
	st, err := sqlstore.Open(t.Context(), path, sqlstore.Options{})
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() }) // runs after the server is closed
	cfg.Store = st
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &env{URL: ts.URL, Store: st, DBPath: path, client: ts.Client()}
	e.Reader = e.newToken(t, readerName, storage.RoleReader)
	e.Writer = e.newToken(t, writerName, storage.RoleWriter)
	e.Writer2 = e.newToken(t, writer2Name, storage.RoleWriter)
	e.Admin = e.newToken(t, adminName, storage.RoleAdmin)
	return e
}

func (e *env) newToken(t *testing.T, name string, role storage.Role) string {
	t.Helper()
	bearer, tok, err := api.NewToken(name, role, time.Now())
	if err != nil {
		t.Fatalf("api.NewToken(%s): %v", name, err)
	}
	if _, err := e.Store.CreateToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateToken(%s): %v", name, err)
	}
	return bearer
}

// scimURL is the absolute URL of a path under /scim/v2.
func (e *env) scimURL(path string) string { return e.URL + "/scim/v2" + path }

// resp is a decoded HTTP response.
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   any            // the decoded body (numbers as json.Number), nil if empty or not JSON
	Body   map[string]any // JSON when it is an object
	desc   string         // "METHOD path" for messages
}

// do sends one request. path is taken as is when it starts with /scim,
// /healthz or /readyz, else it is relative to /scim/v2. token "" sends no
// Authorization header. body: nil (none), string or []byte (raw), an
// io.Reader (streamed with unknown length), anything else JSON-encoded.
// headers are key, value pairs.
func (e *env) do(t *testing.T, method, path, token string, body any, headers ...string) *resp {
	t.Helper()
	url := e.URL + path
	if !strings.HasPrefix(path, "/scim") && !strings.HasPrefix(path, "/api/") && path != "/healthz" && path != "/readyz" && path != "/metrics" {
		url = e.scimURL(path)
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", scimCT)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	r := &resp{Status: res.StatusCode, Header: res.Header, Raw: raw, desc: method + " " + path}
	if len(bytes.TrimSpace(raw)) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if d.Decode(&v) == nil {
			r.JSON = v
			r.Body, _ = v.(map[string]any)
		}
	}
	return r
}

func (r *resp) String() string {
	return fmt.Sprintf("%s -> %d %s", r.desc, r.Status, truncate(string(r.Raw), 600))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// at walks decoded JSON by object keys (string) and array indexes (int).
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func (r *resp) get(path ...any) any { return at(r.JSON, path...) }

// str returns the string at path, or "" when absent or not a string.
func (r *resp) str(path ...any) string { s, _ := r.get(path...).(string); return s }

// num returns the JSON integer at path, failing when it is absent, not a
// number or not an integer literal.
func (r *resp) num(t *testing.T, path ...any) int {
	t.Helper()
	n, ok := r.get(path...).(json.Number)
	if !ok {
		t.Fatalf("%v: %v is %T (%v), want a JSON integer", r, path, r.get(path...), r.get(path...))
	}
	i, err := strconv.Atoi(n.String())
	if err != nil {
		t.Fatalf("%v: %v = %s is not a JSON integer", r, path, n)
	}
	return i
}

func (r *resp) list(path ...any) []any { l, _ := r.get(path...).([]any); return l }

// has reports whether the object at path has key.
func (r *resp) has(key string, path ...any) bool {
	m, _ := r.get(path...).(map[string]any)
	_, ok := m[key]
	return ok
}

// keys returns the sorted keys of the object at path.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wantStatus(t *testing.T, r *resp, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v\nstatus = %d, want %d", r, r.Status, status)
	}
}

// wantJSON checks status and that the body is SCIM JSON.
func wantJSON(t *testing.T, r *resp, status int) {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, scimCT) {
		t.Errorf("%v\nContent-Type = %q, want %s", r, ct, scimCT)
	}
	if r.Body == nil {
		t.Fatalf("%v\nbody is not a JSON object", r)
	}
}

// wantError checks an RFC 7644 §3.12 error: the status, the Error schema,
// status repeated as a JSON string, and scimType (absent when "").
func wantError(t *testing.T, r *resp, status int, scimType string) {
	t.Helper()
	wantJSON(t, r, status)
	if s := r.list("schemas"); len(s) != 1 || s[0] != errorURN {
		t.Errorf("%v\nschemas = %v, want [%s]", r, r.get("schemas"), errorURN)
	}
	if s, ok := r.get("status").(string); !ok || s != strconv.Itoa(status) {
		t.Errorf("%v\nstatus field = %#v, want the string %q", r, r.get("status"), strconv.Itoa(status))
	}
	if got := r.str("scimType"); got != scimType {
		t.Errorf("%v\nscimType = %q, want %q", r, got, scimType)
	}
}

// ---- resources ----

func userBody(userName string, attrs map[string]any) map[string]any {
	b := map[string]any{"schemas": []string{userURN}, "userName": userName}
	for k, v := range attrs {
		b[k] = v
	}
	if _, ok := b[entURN]; ok {
		b["schemas"] = []string{userURN, entURN}
	}
	return b
}

func groupBody(displayName string, memberIDs ...string) map[string]any {
	ms := []any{}
	for _, id := range memberIDs {
		ms = append(ms, map[string]any{"value": id})
	}
	return map[string]any{"schemas": []string{groupURN}, "displayName": displayName, "members": ms}
}

func patchBody(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{patchURN}, "Operations": ops}
}

func op(o, path string, value any) map[string]any {
	m := map[string]any{"op": o}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

// createUser POSTs a user with token and returns the 201 response.
func (e *env) createUser(t *testing.T, token, userName string, attrs map[string]any) *resp {
	t.Helper()
	r := e.do(t, "POST", "/Users", token, userBody(userName, attrs))
	wantJSON(t, r, http.StatusCreated)
	if r.str("id") == "" {
		t.Fatalf("%v\nno id", r)
	}
	return r
}

func (e *env) createGroup(t *testing.T, token, displayName string, memberIDs ...string) *resp {
	t.Helper()
	r := e.do(t, "POST", "/Groups", token, groupBody(displayName, memberIDs...))
	wantJSON(t, r, http.StatusCreated)
	if r.str("id") == "" {
		t.Fatalf("%v\nno id", r)
	}
	return r
}

// snapshot renders everything the server holds: every user and every group
// with members, meta included, so that a comparison of two snapshots
// catches any change, version and lastModified included.
func (e *env) snapshot(t *testing.T) string {
	t.Helper()
	u := e.do(t, "GET", "/Users?count=1000", e.Writer, nil)
	wantJSON(t, u, http.StatusOK)
	g := e.do(t, "GET", "/Groups?count=1000", e.Writer, nil)
	wantJSON(t, g, http.StatusOK)
	return string(u.Raw) + "\n" + string(g.Raw)
}

func wantUnchanged(t *testing.T, before, after string) {
	t.Helper()
	if before != after {
		t.Errorf("a rejected request changed the store\nbefore: %s\nafter:  %s", truncate(before, 1500), truncate(after, 1500))
	}
}

// resourceField extracts field (a string) from each element of Resources.
func resourceField(r *resp, field string) []string {
	var out []string
	for _, res := range r.list("Resources") {
		s, _ := at(res, field).(string)
		out = append(out, s)
	}
	return out
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	sort.Strings(c)
	return c
}

// ---- seed data for lists and filters ----

// seedUser is one user of the shared fixture; key is its short name.
type seedUser struct {
	key, userName, given, family, title, dept, externalID string
	active                                                bool
	emails                                                []map[string]any
}

var seedUsers = []seedUser{
	{key: "alice", userName: "alice@example.com", given: "Alice", family: "Young", title: "Engineer", dept: "R&D", externalID: "EXT-Alice", active: true,
		emails: []map[string]any{{"value": "alice@example.com", "type": "work", "primary": true}, {"value": "alice@home.org", "type": "home"}}},
	{key: "bob", userName: "bob@example.com", given: "Bob", family: "Adams", title: "Manager", dept: "Sales", externalID: "ext-bob", active: true,
		emails: []map[string]any{{"value": "bob@example.com", "type": "work"}}},
	{key: "carol", userName: "carol@example.org", given: "Carol", family: "Moore", title: "Engineer", dept: "R&D", active: false,
		emails: []map[string]any{{"value": "carol@example.org", "type": "work"}}},
	{key: "dave", userName: "dave@example.com", given: "Dave", family: "Baker", title: "Director", dept: "Sales", active: true,
		emails: []map[string]any{{"value": "dave@personal.net", "type": "home"}}},
	{key: "erin", userName: "erin@example.com", given: "Erin", family: "Xu", active: false,
		emails: []map[string]any{{"value": "erin@example.com", "type": "work"}}},
	{key: "frank", userName: "frank@example.net", given: "Frank", family: "Lee", title: "Engineer", dept: "Support", active: true,
		emails: []map[string]any{{"value": "frank@example.net", "type": "work"}}},
	{key: "obrien", userName: `o"brien`, given: "Olivia", family: "O'Brien", title: "Manager", dept: "Support", active: true,
		emails: []map[string]any{{"value": "obrien@example.com", "type": "work"}}},
	{key: "zoe", userName: "zoe@example.com", given: "Zoe", family: "Chen", title: "Intern", dept: "R&D", active: true,
		emails: []map[string]any{{"value": "zoe@other.com", "type": "work"}, {"value": "zoe@example.com", "type": "home"}}},
}

// seeded maps a seed key to the user's id and created representation.
type seeded struct {
	ids   map[string]string
	reprs map[string]*resp
	names map[string]string // userName -> key
}

// seed creates seedUsers in order with the writer token.
func (e *env) seed(t *testing.T) seeded {
	t.Helper()
	s := seeded{ids: map[string]string{}, reprs: map[string]*resp{}, names: map[string]string{}}
	for _, u := range seedUsers {
		attrs := map[string]any{
			"name":   map[string]any{"givenName": u.given, "familyName": u.family},
			"active": u.active,
			"emails": u.emails,
		}
		if u.title != "" {
			attrs["title"] = u.title
		}
		if u.externalID != "" {
			attrs["externalId"] = u.externalID
		}
		if u.dept != "" {
			attrs[entURN] = map[string]any{"department": u.dept}
		}
		r := e.createUser(t, e.Writer, u.userName, attrs)
		s.ids[u.key] = r.str("id")
		s.reprs[u.key] = r
		s.names[u.userName] = u.key
	}
	return s
}

// keysOf maps the userNames of a list response back to seed keys.
func (s seeded) keysOf(t *testing.T, r *resp) []string {
	t.Helper()
	var out []string
	for _, n := range resourceField(r, "userName") {
		k, ok := s.names[n]
		if !ok {
			t.Fatalf("%v\nunexpected userName %q", r, n)
		}
		out = append(out, k)
	}
	return out
}

// seedKeys returns the seed keys in creation order, minus except.
func seedKeys(except ...string) []string {
	var out []string
	for _, u := range seedUsers {
		if !slices.Contains(except, u.key) {
			out = append(out, u.key)
		}
	}
	return out
}
