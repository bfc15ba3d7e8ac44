package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

const scimTime = "2006-01-02T15:04:05.000Z07:00"

func TestAppViewLeaveGrace(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids := e.users(t, viewUser{userName: "erin"}, viewUser{userName: "frank"}, viewUser{userName: "gina"})
		team := e.group(t, "Team", []string{ids["erin"], ids["frank"]})
		app := e.app(t, storage.App{Name: "grace", LeaveGraceDays: 7,
			Scope:      storage.AppScope{Groups: []string{"Team"}, IncludeInactive: true},
			Attributes: []string{"userName", "active"}})
		token := e.appToken(t, app)

		before := e.do(t, "GET", "/Users/"+ids["frank"], token, nil)
		wantJSON(t, before, http.StatusOK)
		etag := before.Header.Get("ETag")
		if before.get("active") != true || etag == "" {
			t.Fatalf("frank before = %v (ETag %q)", before, etag)
		}
		// The ETag answers If-None-Match with 304 while nothing changes.
		wantStatus(t, e.do(t, "GET", "/Users/"+ids["frank"], token, nil, "If-None-Match", etag), http.StatusNotModified)

		e.clock.Advance(time.Hour)
		left := e.clock.Now()
		e.members(t, team, storage.MemberChange{Remove: []string{ids["frank"]}})

		// Within the grace: listed, inactive, lastModified the leave time.
		after := e.do(t, "GET", "/Users/"+ids["frank"], token, nil)
		wantJSON(t, after, http.StatusOK)
		if after.get("active") != false {
			t.Errorf("frank after leaving: active = %v", after.get("active"))
		}
		if got := after.str("meta", "lastModified"); got != left.Format(scimTime) {
			t.Errorf("frank lastModified = %s, want the leave time %s", got, left.Format(scimTime))
		}
		if after.Header.Get("ETag") == etag {
			t.Errorf("ETag unchanged on leaving: %s", etag)
		}
		wantStatus(t, e.do(t, "GET", "/Users/"+ids["frank"], token, nil, "If-None-Match", etag), http.StatusOK)
		// The unscoped view still has frank active.
		if u := e.do(t, "GET", "/Users/"+ids["frank"], e.Reader, nil); u.get("active") != true {
			t.Errorf("unscoped frank active = %v", u.get("active"))
		}

		// An incremental puller learns of the departure.
		since := left.Add(-time.Minute).Format(scimTime)
		r := e.list(t, token, "/Users?filter="+url.QueryEscape(`meta.lastModified gt "`+since+`"`))
		if got := userNames(r); !slices.Equal(got, []string{"frank"}) {
			t.Errorf("changed since %s = %v, want [frank]", since, got)
		}
		r = e.list(t, token, "/Users?filter="+url.QueryEscape(`active eq false`))
		if got := userNames(r); !slices.Equal(got, []string{"frank"}) {
			t.Errorf("inactive in view = %v, want [frank]", got)
		}

		// Joining moves lastModified and the ETag too.
		e.clock.Advance(time.Hour)
		joined := e.clock.Now()
		gBefore := e.do(t, "GET", "/Users/"+ids["gina"], e.Reader, nil)
		e.members(t, team, storage.MemberChange{Add: []storage.Member{{Value: ids["gina"], Type: storage.MemberUser}}})
		g := e.do(t, "GET", "/Users/"+ids["gina"], token, nil)
		wantJSON(t, g, http.StatusOK)
		if got := g.str("meta", "lastModified"); got != joined.Format(scimTime) {
			t.Errorf("gina lastModified = %s, want the join time %s", got, joined.Format(scimTime))
		}
		if g.Header.Get("ETag") == gBefore.Header.Get("ETag") {
			t.Errorf("gina's ETag in view equals the unscoped one before joining: %s", g.Header.Get("ETag"))
		}
		r = e.list(t, token, "/Users?filter="+url.QueryEscape(`meta.lastModified gt "`+left.Format(scimTime)+`"`))
		if got := userNames(r); !slices.Equal(got, []string{"gina"}) {
			t.Errorf("changed since the leave = %v, want [gina]", got)
		}

		// After the grace: gone.
		e.clock.Advance(7*24*time.Hour + time.Minute)
		wantError(t, e.do(t, "GET", "/Users/"+ids["frank"], token, nil), http.StatusNotFound, "")
		r = e.list(t, token, "/Users")
		if got := userNames(r); !slices.Equal(got, []string{"erin", "gina"}) || r.num(t, "totalResults") != 2 {
			t.Errorf("after the grace = %v (total %v), want [erin gina]", got, r.get("totalResults"))
		}
	})
}

// A departed user is inactive even when the app's allow-list leaves
// active out: an app that pulls incrementally must learn of every
// departure. Filtering on active stays refused to it.
func TestAppViewDepartedWithoutActive(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids := e.users(t, viewUser{userName: "hal"})
		team := e.group(t, "Crew", []string{ids["hal"]})
		app := e.app(t, storage.App{Name: "no-active", LeaveGraceDays: 1,
			Scope: storage.AppScope{Groups: []string{"Crew"}, IncludeInactive: true}, Attributes: []string{"userName"}})
		token := e.appToken(t, app)
		e.members(t, team, storage.MemberChange{RemoveAll: true})
		r := e.do(t, "GET", "/Users/"+ids["hal"], token, nil)
		wantJSON(t, r, http.StatusOK)
		if got := keys(r.JSON); !slices.Equal(got, []string{"active", "id", "meta", "schemas", "userName"}) || r.get("active") != false {
			t.Errorf("departed hal = %v (keys %v), want active false among them", r.JSON, got)
		}
		wantError(t, e.do(t, "GET", "/Users?filter="+url.QueryEscape(`active eq false`), token, nil), http.StatusBadRequest, "invalidFilter")
	})
}
