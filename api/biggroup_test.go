package api_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// bigGroupSize is the membership the large-group tests work with.
const bigGroupSize = 100_000

// seedUsers creates n users straight through the store (the bulk path a
// sync uses) and returns their ids in creation order.
func (e *env) seedBulkUsers(t testing.TB, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, 0, n)
	batch := make([]storage.User, 0, 5000)
	flush := func() {
		created, err := e.Store.CreateUsers(t.Context(), batch)
		if err != nil {
			t.Fatalf("CreateUsers: %v", err)
		}
		for _, u := range created {
			ids = append(ids, u.ID)
		}
		batch = batch[:0]
	}
	for i := 0; i < n; i++ {
		batch = append(batch, storage.User{UserName: fmt.Sprintf("%s%06d@example.com", prefix, i), Active: true, Owner: "scim:" + writerName})
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return ids
}

// bigGroupMember is a member as GET /Groups/{id} renders it.
type bigGroupMember struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref"`
	Type    string `json:"type"`
	Display string `json:"display"`
}

// getBigGroup GETs a group and decodes it into a typed value: a generic
// decode of 100,000 members would dominate the test's time.
func (e *env) getBigGroup(t *testing.T, id, query string) (members []bigGroupMember, version string, hasMembers bool) {
	t.Helper()
	r := e.do(t, "GET", "/Groups/"+id+query, e.Writer, nil)
	wantStatus(t, r, http.StatusOK)
	var g struct {
		Members *[]bigGroupMember `json:"members"`
		Meta    struct {
			Version string `json:"version"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(r.Raw, &g); err != nil {
		t.Fatalf("decode group: %v", err)
	}
	if g.Members == nil {
		return nil, g.Meta.Version, false
	}
	return *g.Members, g.Meta.Version, true
}

// TestBigGroup builds a group of 100,000 members and checks that reading
// it returns every member, that excludedAttributes=members returns none,
// and that adding and removing members (one, then a thousand in one PATCH)
// leaves exactly the expected membership.
func TestBigGroup(t *testing.T) {
	e := newEnv(t)
	ids := e.seedBulkUsers(t, "big", bigGroupSize)
	members := make([]storage.Member, len(ids))
	for i, id := range ids {
		members[i] = storage.Member{Value: id, Type: storage.MemberUser}
	}
	g, err := e.Store.CreateGroup(t.Context(), storage.Group{DisplayName: "Everyone", Owner: "scim:" + writerName, Members: members})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	want := map[string]string{} // member id -> display (the userName)
	for i, id := range ids {
		want[id] = fmt.Sprintf("big%06d@example.com", i)
	}
	checkMembers := func(what string) string {
		t.Helper()
		got, version, _ := e.getBigGroup(t, g.ID, "")
		if len(got) != len(want) {
			t.Fatalf("%s: %d members, want %d", what, len(got), len(want))
		}
		seen := make(map[string]bool, len(got))
		for _, m := range got {
			display, ok := want[m.Value]
			switch {
			case !ok || seen[m.Value]:
				t.Fatalf("%s: unexpected or repeated member %+v", what, m)
			case m.Type != "User" || m.Display != display || m.Ref != e.scimURL("/Users/"+m.Value):
				t.Fatalf("%s: member %+v, want type User, display %q, $ref to the user", what, m, display)
			}
			seen[m.Value] = true
		}
		return version
	}
	v1 := checkMembers("after create")

	if _, _, has := e.getBigGroup(t, g.ID, "?excludedAttributes=members"); has {
		t.Errorf("excludedAttributes=members returned members")
	}

	// Membership edits are checked one member at a time with a filter,
	// and in full once at the end: each full read is 100,000 members.
	isMember := func(id string) bool {
		t.Helper()
		r := e.do(t, "GET", "/Groups?excludedAttributes=members&filter="+
			url.QueryEscape(fmt.Sprintf(`id eq "%s" and members[value eq "%s"]`, g.ID, id)), e.Reader, nil)
		wantJSON(t, r, http.StatusOK)
		return r.num(t, "totalResults") == 1
	}
	patch := func(ops ...map[string]any) {
		t.Helper()
		r := e.do(t, "PATCH", "/Groups/"+g.ID, e.Writer, patchBody(ops...))
		wantStatus(t, r, http.StatusNoContent)
	}
	extra := e.seedBulkUsers(t, "extra", 1001)

	// One member in, one member out.
	patch(op("add", "members", []any{map[string]any{"value": extra[0]}}))
	want[extra[0]] = "extra000000@example.com"
	patch(op("remove", fmt.Sprintf(`members[value eq "%s"]`, ids[7]), nil))
	delete(want, ids[7])
	if !isMember(extra[0]) || isMember(ids[7]) || !isMember(ids[8]) {
		t.Errorf("after adding one and removing one: membership of %s, %s, %s = %v, %v, %v; want true, false, true",
			extra[0], ids[7], ids[8], isMember(extra[0]), isMember(ids[7]), isMember(ids[8]))
	}
	if _, v2, _ := e.getBigGroup(t, g.ID, "?excludedAttributes=members"); v2 != `W/"3"` || v1 != `W/"1"` {
		t.Errorf("versions %s then %s, want W/\"1\" then W/\"3\"", v1, v2)
	}

	// A thousand members in one request, well under the 1 MiB body limit.
	var add []any
	for i, id := range extra[1:] {
		add = append(add, map[string]any{"value": id, "type": "User"})
		want[id] = fmt.Sprintf("extra%06d@example.com", i+1)
	}
	body, _ := json.Marshal(patchBody(op("add", "members", add)))
	if len(body) >= 1<<20 {
		t.Fatalf("PATCH body is %d bytes, over the limit", len(body))
	}
	patch(op("add", "members", add))
	if !isMember(extra[1]) || !isMember(extra[1000]) {
		t.Errorf("after adding 1,000 in one PATCH: first and last are not members")
	}

	// And the Entra form of removing several at once.
	var remove []any
	for _, id := range ids[100:110] {
		remove = append(remove, map[string]any{"value": id})
		delete(want, id)
	}
	patch(op("remove", "members", remove))
	checkMembers("after all edits")
}

// TestExcludedMembersNeverLoaded proves that excludedAttributes=members (or
// attributes that leave members out) reads no membership row at all: it
// hides the membership table behind the server's back, after which those
// requests still succeed, while a request that shows members fails.
func TestExcludedMembersNeverLoaded(t *testing.T) {
	e := newEnv(t)
	u := e.createUser(t, e.Writer, "member@example.com", nil).str("id")
	gid := e.createGroup(t, e.Writer, "Team", u).str("id")

	db, err := sql.Open("sqlite3", "file:"+e.DBPath+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`ALTER TABLE group_members RENAME TO group_members_hidden`); err != nil {
		t.Fatalf("hide group_members: %v", err)
	}

	for _, path := range []string{
		"/Groups/" + gid + "?excludedAttributes=members",
		"/Groups/" + gid + "?attributes=displayName",
		"/Groups?excludedAttributes=members",
		"/Groups?attributes=displayName,externalId",
		"/Groups?excludedAttributes=members&cursor=&count=10",
	} {
		r := e.do(t, "GET", path, e.Reader, nil)
		wantJSON(t, r, http.StatusOK)
		if strings.Contains(string(r.Raw), `"members"`) || !strings.Contains(string(r.Raw), `"Team"`) {
			t.Errorf("%v\nwant the group without members", r)
		}
	}
	// The control: showing members needs the table, so these fail now.
	for _, path := range []string{"/Groups/" + gid, "/Groups?attributes=members"} {
		if r := e.do(t, "GET", path, e.Reader, nil); r.Status != http.StatusInternalServerError {
			t.Errorf("%v\nwith the membership table hidden, want 500", r)
		}
	}
	if _, err := db.Exec(`ALTER TABLE group_members_hidden RENAME TO group_members`); err != nil {
		t.Fatalf("restore group_members: %v", err)
	}
	got := e.getGroup(t, gid)
	if ids := memberIDs(got); !slices.Equal(ids, []string{u}) {
		t.Errorf("members after restoring the table = %v", ids)
	}
}
