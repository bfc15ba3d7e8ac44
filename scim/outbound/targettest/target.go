// Package targettest is an in-memory SCIM 2.0 service provider for tests
// of outbound push: an httptest server speaking /Users, /Groups and
// /ServiceProviderConfig as RFC 7644 describes them, with the behaviours
// of real targets a push client has to get right switched on by Options
// and fault methods. Each one cites what it models:
//
//   - schemas required in POST and PUT bodies: RFC 7643 §3 (400
//     invalidSyntax, as scimgate's own server answers).
//   - userName unique case-insensitively, 409 scimType uniqueness: RFC 7643
//     §4.1.1 (userName caseExact false, uniqueness server) and RFC 7644
//     §3.3 (409 for a duplicate).
//   - eq filters on userName, externalId, displayName, id, members.value
//     with each attribute's case-exactness: RFC 7644 §3.4.2.2; filter.go.
//   - index paging (startIndex, count) and cursor paging (cursor,
//     nextCursor, as AWS IAM Identity Center's ListUsers documents it):
//     list.go.
//   - PATCH add/remove/replace, with or without a path, member filters
//     such as members[value eq "x"]: RFC 7644 §3.5.2; patch.go.
//   - AWS IAM Identity Center's documented limits (Options.AWS): aws.go.
//   - a target without PATCH (Options.NoPatch): RFC 7644 §4 (the SPC says
//     patch.supported false) and 501 for the method.
//   - bearer tokens (Options.Token): RFC 7644 §2, 401 otherwise.
//   - 429 with Retry-After, 5xx, slow answers, creates applied whose
//     answer is lost on the wire, and a target that goes down mid-run:
//     faults.go.
//
// The inspection methods (Users, Groups, Requests, Count) report what the
// target holds and what clients sent; it is safe for concurrent use.
package targettest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// BasePath is where the SCIM endpoints are mounted; URL includes it.
const BasePath = "/scim/v2"

// Options configures a target.
type Options struct {
	// Token, when set, is the bearer token every request must carry.
	Token string
	// AWS applies AWS IAM Identity Center's documented limits (aws.go).
	AWS bool
	// HideGroupMembers answers groups without their members, as AWS IAM
	// Identity Center's GetGroup and ListGroups do ("return an empty
	// member list"); PATCH still changes them and Groups() shows them.
	HideGroupMembers bool
	// NoPatch makes the target one without PATCH: the SPC says
	// patch.supported false and PATCH answers 501.
	NoPatch bool
	// MaxResults caps count on lists (default 100) and is advertised as
	// filter.maxResults.
	MaxResults int
	// Now stamps meta.created and meta.lastModified; default a fixed
	// time, so nothing depends on today's date.
	Now func() time.Time
}

// Resource is a user or a group as the target holds it.
type Resource map[string]any

// ID returns the resource's id.
func (r Resource) ID() string { s, _ := r["id"].(string); return s }

// Str returns a top-level string attribute ("" when absent).
func (r Resource) Str(attr string) string { s, _ := r[attr].(string); return s }

// MemberIDs returns a group's member values in order.
func (r Resource) MemberIDs() []string {
	var ids []string
	ms, _ := r["members"].([]any)
	for _, m := range ms {
		if mm, ok := m.(map[string]any); ok {
			if v, ok := mm["value"].(string); ok {
				ids = append(ids, v)
			}
		}
	}
	return ids
}

// Request is one request as the target saw it.
type Request struct {
	Method string
	Path   string // below BasePath, e.g. /Users/u-3
	Query  string // raw query
	Body   string
	Header http.Header // as sent (Authorization included: tests' tokens only)
	Status int         // 0 when the answer was lost on purpose
}

// Target is an emulated SCIM service provider.
type Target struct {
	srv  *httptest.Server
	opts Options
	done chan struct{} // closed when the test ends, to cut latency waits

	mu       sync.Mutex
	token    string
	seq      int
	version  int
	kinds    map[string]*collection // "Users", "Groups"
	requests []Request
	faults   faults
}

// collection holds one resource type in creation order.
type collection struct {
	byID  map[string]Resource
	order []string
}

func (c *collection) add(r Resource) {
	c.byID[r.ID()] = r
	c.order = append(c.order, r.ID())
}

func (c *collection) remove(id string) {
	delete(c.byID, id)
	for i, v := range c.order {
		if v == id {
			c.order = append(c.order[:i], c.order[i+1:]...)
			return
		}
	}
}

func (c *collection) list() []Resource {
	out := make([]Resource, 0, len(c.order))
	for _, id := range c.order {
		out = append(out, c.byID[id])
	}
	return out
}

// New starts a target on 127.0.0.1, closed when tb ends.
func New(tb testing.TB, opts Options) *Target {
	tb.Helper()
	if opts.MaxResults <= 0 {
		opts.MaxResults = 100
	}
	if opts.Now == nil {
		at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		opts.Now = func() time.Time { return at }
	}
	t := &Target{opts: opts, token: opts.Token, done: make(chan struct{}), kinds: map[string]*collection{
		"Users":  {byID: map[string]Resource{}},
		"Groups": {byID: map[string]Resource{}},
	}}
	t.srv = httptest.NewServer(http.HandlerFunc(t.serve))
	tb.Cleanup(func() {
		close(t.done) // Close waits for handlers; none may sit in a latency wait
		t.srv.Close()
	})
	return t
}

// URL is the SCIM base URL, e.g. http://127.0.0.1:41234/scim/v2.
func (t *Target) URL() string { return t.srv.URL + BasePath }

// Client returns an HTTP client for the target.
func (t *Target) Client() *http.Client { return t.srv.Client() }

// SetToken changes the bearer token the target accepts (a rotation).
func (t *Target) SetToken(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.token = token
}

// Users returns copies of the users in creation order.
func (t *Target) Users() []Resource { return t.snapshot("Users") }

// Groups returns copies of the groups in creation order, members included
// even when HideGroupMembers hides them from clients.
func (t *Target) Groups() []Resource { return t.snapshot("Groups") }

// UserByName returns the user whose userName matches case-insensitively.
func (t *Target) UserByName(userName string) (Resource, bool) {
	for _, u := range t.Users() {
		if strings.EqualFold(u.Str("userName"), userName) {
			return u, true
		}
	}
	return nil, false
}

// GroupByName returns the group with that displayName.
func (t *Target) GroupByName(displayName string) (Resource, bool) {
	for _, g := range t.Groups() {
		if strings.EqualFold(g.Str("displayName"), displayName) {
			return g, true
		}
	}
	return nil, false
}

func (t *Target) snapshot(kind string) []Resource {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Resource
	for _, r := range t.kinds[kind].list() {
		out = append(out, clone(r))
	}
	return out
}

// AddUser puts a user in the target directly (not logged as a request),
// for tests that start from a target that already holds users. It
// returns the id. Attributes are as a client would POST them.
func (t *Target) AddUser(tb testing.TB, attrs map[string]any) string {
	tb.Helper()
	return t.seed(tb, "Users", attrs)
}

// AddGroup puts a group in the target directly and returns its id.
func (t *Target) AddGroup(tb testing.TB, attrs map[string]any) string {
	tb.Helper()
	return t.seed(tb, "Groups", attrs)
}

func (t *Target) seed(tb testing.TB, kind string, attrs map[string]any) string {
	tb.Helper()
	b, err := json.Marshal(attrs)
	if err != nil {
		tb.Fatalf("targettest: seed %s: %v", kind, err)
	}
	var doc Resource
	if err := json.Unmarshal(b, &doc); err != nil {
		tb.Fatalf("targettest: seed %s: %v", kind, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	r, e := t.create(kind, doc)
	if e != nil {
		tb.Fatalf("targettest: seed %s: %s", kind, e.Detail)
	}
	return r.ID()
}

// Requests returns the request log in arrival order.
func (t *Target) Requests() []Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Request(nil), t.requests...)
}

// Count returns how many logged requests had the method and a path
// starting with prefix (e.g. "PATCH", "/Groups"); "" matches any.
func (t *Target) Count(method, prefix string) int {
	n := 0
	for _, r := range t.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// ResetLog forgets the request log.
func (t *Target) ResetLog() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests = nil
}

func (t *Target) nextID(kind string) string {
	t.seq++
	return fmt.Sprintf("%s-%d", strings.ToLower(kind[:1]), t.seq)
}

func (t *Target) stamp(r Resource, kind string, created bool) {
	t.version++
	now := t.opts.Now().UTC().Format(time.RFC3339)
	meta, _ := r["meta"].(map[string]any)
	if meta == nil || created {
		meta = map[string]any{"created": now}
	}
	meta["resourceType"] = strings.TrimSuffix(kind, "s")
	meta["lastModified"] = now
	meta["version"] = fmt.Sprintf(`W/"%d"`, t.version)
	meta["location"] = t.srv.URL + BasePath + "/" + kind + "/" + r.ID()
	r["meta"] = meta
}

// clone deep-copies a resource through JSON, so callers never share maps
// with the target.
func clone(r Resource) Resource {
	b, _ := json.Marshal(r)
	var out Resource
	_ = json.Unmarshal(b, &out)
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
