package okta_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

func TestFullRunReadsUsersGroupsAndMembers(t *testing.T) {
	for _, combine := range []bool{false, true} {
		t.Run(fmt.Sprintf("combinedLinkHeader=%v", combine), func(t *testing.T) {
			srv := newOrg(t, oktatest.Options{CombineLinks: combine})
			var ids []string
			for i := range 450 { // three pages of 200
				ids = append(ids, srv.AddUser(person(i)))
			}
			gone := srv.AddUser(person(999, "status", "DEPROVISIONED"))
			eng := srv.AddGroup(oktatest.GroupSpec{Name: "Engineering", Description: "builders"})
			app := srv.AddGroup(oktatest.GroupSpec{Name: "AD Sales", Type: "APP_GROUP"})
			everyone := srv.AddGroup(oktatest.GroupSpec{Name: "Everyone", Type: "BUILT_IN"})
			for _, u := range ids[:250] { // two pages of members
				srv.AddMember(eng, u)
			}
			srv.AddMember(eng, gone)
			srv.AddMember(everyone, ids[0])

			rec, res := run(t, open(t, srv, nil), sources.Request{})

			if !res.Complete || !hasNote(res, "first run") {
				t.Fatalf("result = %+v", res)
			}
			if len(rec.Got.Users) != 451 {
				t.Fatalf("got %d users, want 451 (DEPROVISIONED included)", len(rec.Got.Users))
			}
			u, _ := rec.User(ids[7])
			want := map[string]string{"id": ids[7], "login": "user7@example.com", "email": "user7@example.com", "firstName": "Given7",
				"lastName": "Family7", "displayName": "User 7", "title": "Engineer", "department": "R&D", "employeeNumber": "E00007",
				"mobilePhone": "+1 555 0100", "status": "ACTIVE", "active": "true", "lastUpdated": "2026-01-05T09:00:00.000Z"}
			for k, v := range want {
				if u.Attrs[k] != v {
					t.Errorf("attr %s = %q, want %q", k, u.Attrs[k], v)
				}
			}
			if d, _ := rec.User(gone); d.Attrs["active"] != "false" || d.Attrs["status"] != "DEPROVISIONED" {
				t.Errorf("deprovisioned user = %v", d.Attrs)
			}
			if len(rec.Got.Groups) != 2 || len(rec.Got.Deletions) != 0 {
				t.Fatalf("groups = %d (BUILT_IN excluded), deletions = %v", len(rec.Got.Groups), rec.Got.Deletions)
			}
			g, _ := rec.Group(eng)
			if !g.MembersComplete || len(g.Members) != 251 || g.Attrs["name"] != "Engineering" || g.Attrs["type"] != "OKTA_GROUP" ||
				g.Attrs["description"] != "builders" || !slices.Contains(g.Members, gone) {
				t.Errorf("engineering = %d members, attrs %v", len(g.Members), g.Attrs)
			}
			if a, _ := rec.Group(app); !a.MembersComplete || len(a.Members) != 0 || a.Members == nil {
				t.Errorf("empty group = %+v", a)
			}
			userQueries := queries(srv, "/api/v1/users")
			if len(userQueries) != 3 || !strings.Contains(userQueries[0], `filter=lastUpdated gt "1970-01-01T00:00:00.000Z"`) ||
				!strings.Contains(userQueries[0], "limit=200") || !strings.Contains(userQueries[1], "after=") {
				t.Errorf("user listing requests = %q", userQueries)
			}
			if m := queries(srv, "/api/v1/groups/"+eng+"/users"); len(m) != 2 {
				t.Errorf("member requests = %q, want two pages", m)
			}
			c := cursorOf(t, res)
			if c["v"] != float64(1) || c["org"] != srv.URL || c["usersSince"] != "2026-01-05T09:00:00Z" || c["lastFull"] != "2026-01-05T09:00:00Z" {
				t.Errorf("cursor = %v", c)
			}
		})
	}
}

func TestStatusMapsToActive(t *testing.T) {
	cases := []struct{ status, active string }{
		{"STAGED", "false"}, {"PROVISIONED", "true"}, {"ACTIVE", "true"}, {"RECOVERY", "true"},
		{"PASSWORD_EXPIRED", "true"}, {"LOCKED_OUT", "true"}, {"SUSPENDED", "false"}, {"DEPROVISIONED", "false"},
		{"ACTIVATING", "false"},
	}
	srv := newOrg(t, oktatest.Options{})
	ids := map[string]string{}
	for i, c := range cases {
		ids[c.status] = srv.AddUser(person(i, "status", c.status))
	}
	rec, res := run(t, open(t, srv, nil), sources.Request{})
	for _, c := range cases {
		u, ok := rec.User(ids[c.status])
		if !ok || u.Attrs["active"] != c.active {
			t.Errorf("%s: active = %q, want %q", c.status, u.Attrs["active"], c.active)
		}
	}
	if !hasNote(res, `1 with status "ACTIVATING"`) {
		t.Errorf("notes = %q, want the unknown status counted", res.Notes)
	}
}

func TestIncrementalRunReadsOnlyChanges(t *testing.T) {
	srv := newOrg(t, oktatest.Options{})
	var ids []string
	for i := range 20 {
		ids = append(ids, srv.AddUser(person(i)))
	}
	sales := srv.AddGroup(oktatest.GroupSpec{Name: "Sales"})
	ops := srv.AddGroup(oktatest.GroupSpec{Name: "Ops"})
	srv.AddMember(sales, ids[0])
	srv.AddMember(ops, ids[1])
	later(srv, time.Hour) // the org was set up well before the first run
	src := open(t, srv, nil)
	_, first := run(t, src, sources.Request{})

	later(srv, 10*time.Minute)
	srv.UpdateUser(ids[3], map[string]any{"title": "Staff Engineer"})
	srv.SetStatus(ids[4], "SUSPENDED")
	srv.AddMember(sales, ids[5]) // a membership change: ids[5] itself is untouched
	srv.ResetStats()

	rec, res := run(t, src, sources.Request{Cursor: first.Cursor})

	if res.Complete {
		t.Fatal("a delta must not be complete")
	}
	if got := rec.UserKeys(); !slices.Equal(got, []string{ids[3], ids[4]}) {
		t.Errorf("changed users = %v, want %v", got, []string{ids[3], ids[4]})
	}
	if u, _ := rec.User(ids[3]); u.Attrs["title"] != "Staff Engineer" || u.Attrs["login"] != "user3@example.com" {
		t.Errorf("a changed user comes whole: %v", u.Attrs)
	}
	if u, _ := rec.User(ids[4]); u.Attrs["active"] != "false" {
		t.Errorf("suspended user active = %q", u.Attrs["active"])
	}
	if len(rec.Got.Groups) != 1 || rec.Got.Groups[0].Key != sales || !rec.Got.Groups[0].MembersComplete ||
		!slices.Equal(rec.Got.Groups[0].Members, []string{ids[0], ids[5]}) {
		t.Errorf("changed groups = %+v, want Sales re-read whole", rec.Got.Groups)
	}
	if u, _ := srv.User(ids[5]); !u.LastUpdated.Equal(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("membership change moved the user's lastUpdated to %v", u.LastUpdated)
	}
	// The watermark of the first run (10:00) less the two-minute overlap.
	if q := queries(srv, "/api/v1/users"); len(q) != 1 || !strings.Contains(q[0], `filter=lastUpdated gt "2026-01-05T09:58:00.000Z"`) {
		t.Errorf("user queries = %q", q)
	}
	wantGroups := `filter=lastUpdated gt "2026-01-05T09:58:00.000Z" or lastMembershipUpdated gt "2026-01-05T09:58:00.000Z"`
	if q := queries(srv, "/api/v1/groups"); len(q) != 1 || !strings.Contains(q[0], wantGroups) {
		t.Errorf("group queries = %q", q)
	}
	if n := len(queries(srv, "/api/v1/groups/"+ops+"/users")); n != 0 {
		t.Errorf("an unchanged group's members were read %d times", n)
	}
	c := cursorOf(t, res)
	if c["usersSince"] != "2026-01-05T10:10:00Z" || c["lastFull"] != "2026-01-05T10:00:00Z" {
		t.Errorf("cursor = %v: want the new watermark and the old full time", c)
	}
}

func TestDeprovisionedThenHardDeletedUser(t *testing.T) {
	srv := newOrg(t, oktatest.Options{})
	keep := srv.AddUser(person(1))
	leaver := srv.AddUser(person(2))
	team := srv.AddGroup(oktatest.GroupSpec{Name: "Team"})
	srv.AddMember(team, keep)
	srv.AddMember(team, leaver)
	later(srv, time.Hour)
	src := open(t, srv, nil)
	_, res := run(t, src, sources.Request{})

	// First DELETE: deactivated. A delta carries the user, inactive; no deletion.
	later(srv, time.Hour)
	if gone, _ := srv.DeleteUser(leaver); gone {
		t.Fatal("the first delete must only deactivate")
	}
	rec, res := run(t, src, sources.Request{Cursor: res.Cursor})
	if u, ok := rec.User(leaver); !ok || u.Attrs["active"] != "false" || u.Attrs["status"] != "DEPROVISIONED" || len(rec.Got.Deletions) != 0 {
		t.Fatalf("after deactivation: user %v, deletions %v", u.Attrs, rec.Got.Deletions)
	}

	// Second DELETE: gone for good. The delta cannot see it; only the
	// group whose membership it left changes.
	later(srv, time.Hour)
	if gone, _ := srv.DeleteUser(leaver); !gone {
		t.Fatal("the second delete must remove the user")
	}
	rec, res = run(t, src, sources.Request{Cursor: res.Cursor})
	if len(rec.Got.Users) != 0 || res.Complete || len(rec.Got.Groups) != 1 || !slices.Equal(rec.Got.Groups[0].Members, []string{keep}) {
		t.Fatalf("delta after hard delete: users %v, groups %+v, complete %v", rec.UserKeys(), rec.Got.Groups, res.Complete)
	}

	// A day after the first run the source reconciles in full: the
	// result is complete and the user is absent, so the engine deletes it.
	later(srv, 22*time.Hour) // 24h after the first run
	rec, res = run(t, src, sources.Request{Cursor: res.Cursor})
	if !res.Complete || !hasNote(res, "fullReconcileInterval 24h") {
		t.Fatalf("want a full reconcile, got %+v", res)
	}
	if !slices.Equal(rec.UserKeys(), []string{keep}) {
		t.Errorf("users = %v, want only %s", rec.UserKeys(), keep)
	}
}

func TestFullReconcileIsDecidedByTheSource(t *testing.T) {
	cases := []struct {
		name     string
		interval any // fullReconcileInterval setting; nil for the default
		after    time.Duration
		full     bool
	}{
		{"default, a day minus a minute", nil, 24*time.Hour - time.Minute, false},
		{"default, a day", nil, 24 * time.Hour, true},
		{"6h, five hours", "6h", 5 * time.Hour, false},
		{"6h, six hours", "6h", 6 * time.Hour, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newOrg(t, oktatest.Options{})
			srv.AddUser(person(1))
			src := open(t, srv, map[string]any{"fullReconcileInterval": c.interval})
			_, res := run(t, src, sources.Request{})
			later(srv, c.after)
			_, res = run(t, src, sources.Request{Cursor: res.Cursor})
			if res.Complete != c.full {
				t.Errorf("complete = %v, want %v (notes %q)", res.Complete, c.full, res.Notes)
			}
		})
	}
}

func TestCursorThatCannotBeUsedForcesFullRun(t *testing.T) {
	srv := newOrg(t, oktatest.Options{})
	srv.AddUser(person(1))
	_, good := run(t, open(t, srv, nil), sources.Request{})
	cases := []struct {
		name     string
		cursor   []byte
		settings map[string]any
		full     sources.Request
		note     string
	}{
		{"garbage", []byte("not json"), nil, sources.Request{}, "could not be used"},
		{"other version", []byte(`{"v":2}`), nil, sources.Request{}, "version 2"},
		{"group scoping changed", good.Cursor, map[string]any{"groupNamePrefix": "app-"}, sources.Request{}, "group scoping changed"},
		{"full asked for", nil, nil, sources.Request{Full: true}, "requested"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.full
			if c.cursor != nil {
				req.Cursor = c.cursor
			}
			_, res := run(t, open(t, srv, c.settings), req)
			if !res.Complete || !hasNote(res, c.note) {
				t.Errorf("result = complete %v, notes %q; want full with %q", res.Complete, res.Notes, c.note)
			}
		})
	}
}

func TestGroupScoping(t *testing.T) {
	srv := newOrg(t, oktatest.Options{})
	u := srv.AddUser(person(1))
	appA := srv.AddGroup(oktatest.GroupSpec{Name: "app-crm"})
	appB := srv.AddGroup(oktatest.GroupSpec{Name: "APP-wiki", Type: "APP_GROUP"})
	other := srv.AddGroup(oktatest.GroupSpec{Name: "Finance"})
	everyone := srv.AddGroup(oktatest.GroupSpec{Name: "Everyone", Type: "BUILT_IN"})
	cases := []struct {
		settings map[string]any
		want     []string
	}{
		{nil, []string{appA, appB, other}},
		{map[string]any{"groupNamePrefix": "app-"}, []string{appA, appB}},
		{map[string]any{"groupIds": []string{other, everyone}}, []string{other}},
		{map[string]any{"groupTypes": []string{"BUILT_IN"}}, []string{everyone}},
		{map[string]any{"groupNamePrefix": "app-", "groupTypes": []string{"OKTA_GROUP"}}, []string{appA}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.settings), func(t *testing.T) {
			rec, _ := run(t, open(t, srv, c.settings), sources.Request{})
			var got []string
			for _, g := range rec.Got.Groups {
				got = append(got, g.Key)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("groups = %v, want %v", got, c.want)
			}
		})
	}

	t.Run("renamed out of scope in a delta", func(t *testing.T) {
		later(srv, time.Hour)
		src := open(t, srv, map[string]any{"groupNamePrefix": "app-"})
		_, res := run(t, src, sources.Request{})
		later(srv, time.Minute)
		srv.RenameGroup(appA, "legacy-crm")
		srv.AddMember(appB, u)
		rec, _ := run(t, src, sources.Request{Cursor: res.Cursor})
		if len(rec.Got.Deletions) != 1 || rec.Got.Deletions[0] != (sources.Deletion{Kind: sources.KindGroup, Key: appA}) {
			t.Errorf("deletions = %v, want %s", rec.Got.Deletions, appA)
		}
		if len(rec.Got.Groups) != 1 || rec.Got.Groups[0].Key != appB || !slices.Equal(rec.Got.Groups[0].Members, []string{u}) {
			t.Errorf("groups = %+v", rec.Got.Groups)
		}
	})
}

func TestDeltaRequestsFollowTheChanges(t *testing.T) {
	srv := newOrg(t, oktatest.Options{})
	users, groups := srv.Seed(1000, 30, func(i int) oktatest.UserSpec { return person(i) }, func(i int) []int { return []int{i % 30} })
	later(srv, time.Hour)
	src := open(t, srv, nil)
	_, res := run(t, src, sources.Request{})
	cases := []struct {
		users, groups int
		requests      int // user pages (at least one) + one groups page + one member list per changed group
	}{
		{0, 0, 2},
		{1, 0, 2},
		{450, 0, 4},
		{0, 5, 7},
		{450, 5, 9},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d users, %d groups", c.users, c.groups), func(t *testing.T) {
			for i := range c.users {
				srv.UpdateUser(users[i], map[string]any{"title": fmt.Sprint("T", srv.Clock().Now().Unix())})
			}
			for i := range c.groups {
				srv.RenameGroup(groups[i], fmt.Sprint("G", i, srv.Clock().Now().Unix()))
			}
			// The run starts past the two-minute overlap, so the next case
			// does not read these changes again.
			later(srv, 3*time.Minute)
			srv.ResetStats()
			var rec *sourcetest.Recorder
			rec, res = run(t, src, sources.Request{Cursor: res.Cursor})
			if st := srv.Stats(); len(rec.Got.Users) != c.users || len(rec.Got.Groups) != c.groups || st.Requests != c.requests {
				t.Errorf("%d users, %d groups in %d requests; want %d, %d in %d", len(rec.Got.Users), len(rec.Got.Groups), st.Requests, c.users, c.groups, c.requests)
			}
		})
	}
}

// panickingTransport panics on group member lists, as a bug on the way to
// Okta would; everything else goes to the emulator.
type panickingTransport struct{ next http.RoundTripper }

func (p panickingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/api/v1/groups/") && strings.HasSuffix(r.URL.Path, "/users") {
		panic("bug in a member list")
	}
	return p.next.RoundTrip(r)
}

// TestPanicReadingMembersIsReturned: member lists are read by worker
// goroutines of the source's own; a panic there must come back from Sync
// as an error the engine fails the run with, not end the process.
func TestPanicReadingMembersIsReturned(t *testing.T) {
	srv := newOrg(t, oktatest.Options{})
	srv.AddUser(person(1))
	srv.AddGroup(oktatest.GroupSpec{Name: "Engineering"})
	hc := *srv.Client()
	hc.Transport = panickingTransport{next: srv.Client().Transport}
	src := open(t, srv, nil, withHTTPClient(&hc))
	_, err := src.Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{})
	var pe *sources.PanicError
	if !errors.As(err, &pe) || pe.Value != "bug in a member list" {
		t.Fatalf("Sync: err = %v, want the panic as a *sources.PanicError", err)
	}
}
