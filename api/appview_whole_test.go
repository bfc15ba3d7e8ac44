package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// A whole view (a scope of sources and active users, no groups, no
// filter), which the store keeps without a row per user, answers as any
// view: lastModified is the later of the user's own and the view's start,
// departures (a deactivation with includeInactive false) show within the
// grace, a user who comes back is in view again with a new ETag, new
// users of the source join, other sources' users stay out, and a change
// of the app's scope starts the view again.
func TestAppViewWholeSource(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids := e.users(t, viewUser{userName: "ann"}, viewUser{userName: "bob"}, viewUser{userName: "cid"},
			viewUser{userName: "dan", owner: "hr"}, viewUser{userName: "eve", inactive: true})
		e.group(t, "Mixed", []string{ids["ann"], ids["dan"]})
		e.clock.Advance(time.Hour)
		began := e.clock.Now()
		app := e.app(t, storage.App{Name: "whole", LeaveGraceDays: 7, Groups: storage.GroupsAll,
			Scope:      storage.AppScope{Sources: []string{"corp-ad"}, Owners: []string{"corp-ad"}},
			Attributes: []string{"userName", "active", "title"}})
		token := e.appToken(t, app)
		setUser := func(name string, edit func(u *storage.User)) {
			t.Helper()
			if _, err := e.Store.UpdateUser(t.Context(), ids[name], func(u *storage.User) error { edit(u); return nil }); err != nil {
				t.Fatalf("UpdateUser(%s): %v", name, err)
			}
		}
		lastModified := func(r *resp) string { return r.str("meta", "lastModified") }

		r := e.list(t, token, "/Users")
		if got := userNames(r); !slices.Equal(got, []string{"ann", "bob", "cid"}) || r.num(t, "totalResults") != 3 {
			t.Fatalf("whole view = %v (total %v), want [ann bob cid]", got, r.get("totalResults"))
		}
		for _, res := range r.list("Resources") {
			if got := at(res, "meta", "lastModified"); got != began.Format(scimTime) {
				t.Errorf("%v: lastModified %v, want the view's start %s", at(res, "userName"), got, began.Format(scimTime))
			}
		}
		wantError(t, e.do(t, "GET", "/Users/"+ids["dan"], token, nil), http.StatusNotFound, "")
		wantError(t, e.do(t, "GET", "/Users/"+ids["eve"], token, nil), http.StatusNotFound, "")
		g := e.list(t, token, "/Groups")
		if n := len(g.list("Resources")); n != 1 || len(g.list("Resources", 0, "members")) != 1 ||
			at(g.get("Resources", 0), "members", 0, "value") != ids["ann"] {
			t.Errorf("groups of the view = %v, want Mixed with ann alone", g.JSON)
		}

		bobBefore := e.do(t, "GET", "/Users/"+ids["bob"], token, nil)
		wantJSON(t, bobBefore, http.StatusOK)
		e.clock.Advance(time.Hour)
		left := e.clock.Now()
		setUser("bob", func(u *storage.User) { u.Active = false })
		bob := e.do(t, "GET", "/Users/"+ids["bob"], token, nil)
		wantJSON(t, bob, http.StatusOK)
		if bob.get("active") != false || lastModified(bob) != left.Format(scimTime) || bob.Header.Get("ETag") == bobBefore.Header.Get("ETag") {
			t.Errorf("bob deactivated = %v (ETag %s, before %s), want inactive at %s", bob.JSON,
				bob.Header.Get("ETag"), bobBefore.Header.Get("ETag"), left.Format(scimTime))
		}
		since := url.QueryEscape(`meta.lastModified gt "` + began.Format(scimTime) + `"`)
		if got := userNames(e.list(t, token, "/Users?filter="+since)); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("changed since the start = %v, want [bob]", got)
		}
		if got := userNames(e.list(t, token, "/Users?filter="+url.QueryEscape("active eq false"))); !slices.Equal(got, []string{"bob"}) {
			t.Errorf("inactive in view = %v, want [bob]", got)
		}

		// An update the predicate does not read: the user's own time.
		e.clock.Advance(time.Minute)
		annBefore := e.do(t, "GET", "/Users/"+ids["ann"], token, nil)
		setUser("ann", func(u *storage.User) { u.Title = "Lead" })
		ann := e.do(t, "GET", "/Users/"+ids["ann"], token, nil)
		if ann.str("title") != "Lead" || lastModified(ann) != e.clock.Now().Format(scimTime) || ann.Header.Get("ETag") == annBefore.Header.Get("ETag") {
			t.Errorf("ann after an update = %v, want title Lead at %s with a new ETag", ann.JSON, e.clock.Now().Format(scimTime))
		}

		// Back in view: active, the return's time, an ETag seen before by
		// no one.
		e.clock.Advance(time.Hour)
		back := e.clock.Now()
		setUser("bob", func(u *storage.User) { u.Active = true })
		bob2 := e.do(t, "GET", "/Users/"+ids["bob"], token, nil)
		if bob2.get("active") != true || lastModified(bob2) != back.Format(scimTime) ||
			bob2.Header.Get("ETag") == bob.Header.Get("ETag") || bob2.Header.Get("ETag") == bobBefore.Header.Get("ETag") {
			t.Errorf("bob back = %v (ETag %s), want active at %s with a new ETag", bob2.JSON, bob2.Header.Get("ETag"), back.Format(scimTime))
		}

		// New users of the source join at their creation; other sources'
		// never do.
		e.clock.Advance(time.Minute)
		more := e.users(t, viewUser{userName: "fay"}, viewUser{userName: "gus", owner: "hr"})
		fay := e.do(t, "GET", "/Users/"+more["fay"], token, nil)
		wantJSON(t, fay, http.StatusOK)
		if lastModified(fay) != e.clock.Now().Format(scimTime) {
			t.Errorf("fay lastModified %s, want her creation %s", lastModified(fay), e.clock.Now().Format(scimTime))
		}
		wantError(t, e.do(t, "GET", "/Users/"+more["gus"], token, nil), http.StatusNotFound, "")

		// A departure's grace ends.
		setUser("cid", func(u *storage.User) { u.Active = false })
		e.clock.Advance(7*24*time.Hour + time.Minute)
		wantError(t, e.do(t, "GET", "/Users/"+ids["cid"], token, nil), http.StatusNotFound, "")
		r = e.list(t, token, "/Users?sortBy=userName&count=2")
		if got := resourceField(r, "userName"); !slices.Equal(got, []string{"ann", "bob"}) || r.num(t, "totalResults") != 3 {
			t.Errorf("after the grace, first page = %v (total %v), want [ann bob] of 3", got, r.get("totalResults"))
		}

		// A change of scope starts the view again: inactive users join.
		e.clock.Advance(time.Hour)
		again := e.clock.Now()
		if _, err := e.Store.UpdateApp(t.Context(), app.ID, func(a *storage.App) error {
			a.Scope.IncludeInactive = true
			return nil
		}); err != nil {
			t.Fatalf("UpdateApp: %v", err)
		}
		r = e.list(t, token, "/Users?filter="+url.QueryEscape(`meta.lastModified ge "`+again.Format(scimTime)+`"`))
		if got := userNames(r); !slices.Equal(got, []string{"ann", "bob", "cid", "eve", "fay"}) {
			t.Errorf("after includeInactive, changed since = %v, want every corp-ad user", got)
		}
		if got := e.do(t, "GET", "/Users/"+ids["eve"], token, nil); got.get("active") != false || lastModified(got) != again.Format(scimTime) {
			t.Errorf("eve after includeInactive = %v, want in view, inactive, at %s", got.JSON, again.Format(scimTime))
		}
	})
}
