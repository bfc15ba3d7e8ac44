package api_test

import (
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// An app's list pages are cached too, but never past what the app may
// see: a departed user drops out of a cached page when the leave grace
// ends (the store's clock moves, no write marks it), and a change of the
// app's scope shows at once.
func TestAppPageCacheFollowsGraceAndScope(t *testing.T) {
	forEachViewStore(t, func(t *testing.T, e *viewEnv) {
		ids := e.users(t, viewUser{userName: "ivy"}, viewUser{userName: "jon"})
		team := e.group(t, "Ops", []string{ids["ivy"], ids["jon"]})
		app := e.app(t, storage.App{Name: "cached", LeaveGraceDays: 1,
			Scope: storage.AppScope{Groups: []string{"Ops"}, IncludeInactive: true}})
		token := e.appToken(t, app)
		e.members(t, team, storage.MemberChange{Remove: []string{ids["jon"]}})

		for range 2 { // the second answer comes from the cache
			if got := userNames(e.list(t, token, "/Users")); !slices.Equal(got, []string{"ivy", "jon"}) {
				t.Fatalf("within the grace = %v, want [ivy jon]", got)
			}
		}
		e.clock.Advance(24*time.Hour + time.Minute)
		if got := userNames(e.list(t, token, "/Users")); !slices.Equal(got, []string{"ivy"}) {
			t.Errorf("after the grace = %v, want [ivy]", got)
		}

		if _, err := e.Store.UpdateApp(t.Context(), app.ID, func(a *storage.App) error {
			a.Scope.Groups = nil // every user
			return nil
		}); err != nil {
			t.Fatalf("UpdateApp: %v", err)
		}
		if got := userNames(e.list(t, token, "/Users")); !slices.Equal(got, []string{"ivy", "jon"}) {
			t.Errorf("after widening the scope = %v, want [ivy jon]", got)
		}
	})
}
