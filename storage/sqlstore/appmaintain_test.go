package sqlstore

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// openClocked opens a fresh SQLite store on the given clock.
func openClocked(t *testing.T, path string, clock *sourcetest.Clock) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// memberRow is one user's membership of an app's view as the view holds
// it: its app_users row, or for a whole view without one, what the view
// reads in its place (viewRows).
type memberRow struct {
	Joined, Changed int64
	LeftAt          *int64
	Bumps           int64
}

func mustMemberRow(t *testing.T, s *Store, appID, userID string) memberRow {
	t.Helper()
	_, p, err := s.cachedApp(t.Context(), appID)
	if err != nil {
		t.Fatalf("app %s: %v", appID, err)
	}
	var q sqlText
	q.add("SELECT av.joined, av.changed, av.left_at, av.bumps FROM ")
	viewRows(&q, s.dialect, p)
	q.add(" WHERE av.app_id = ? AND av.user_id = ?", appID, userID)
	var r memberRow
	res := s.db.Raw(q.sb.String(), q.args...).Scan(&r)
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("membership (%s, %s): %v, %d rows", appID, userID, res.Error, res.RowsAffected)
	}
	return r
}

// storedRows counts app id's rows in app_users.
func storedRows(t *testing.T, s *Store, appID string) int64 {
	t.Helper()
	var n int64
	if err := s.db.Raw("SELECT COUNT(*) FROM app_users WHERE app_id = ?", appID).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAppMembershipTimesAndBumps follows one user through leaves and
// joins on an injected clock: each records its time and one bump.
func TestAppMembershipTimesAndBumps(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := sourcetest.NewClock(start)
	s := openClocked(t, filepath.Join(t.TempDir(), "t.db"), clock)
	ctx := t.Context()
	u, err := s.CreateUser(ctx, storage.User{UserName: "u", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	app, err := s.CreateApp(ctx, storage.App{Name: "a", LeaveGraceDays: 2})
	if err != nil {
		t.Fatal(err)
	}
	ms := func(d time.Duration) int64 { return start.Add(d).UnixMilli() }
	setActive := func(active bool) {
		t.Helper()
		if _, err := s.UpdateUser(ctx, u.ID, func(u *storage.User) error { u.Active = active; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		act     func()
		want    memberRow
		wantOut bool // no longer visible through AppMembers
	}{
		{"joined with the app", func() {}, memberRow{Joined: ms(0), Changed: ms(0), Bumps: 1}, false},
		{"deactivated", func() { clock.Advance(time.Hour); setActive(false) },
			memberRow{Joined: ms(0), Changed: ms(time.Hour), LeftAt: ptr(ms(time.Hour)), Bumps: 2}, false},
		{"an unrelated update leaves it as it was", func() {
			clock.Advance(time.Minute)
			if _, err := s.UpdateUser(ctx, u.ID, func(u *storage.User) error { u.Title = "x"; return nil }); err != nil {
				t.Fatal(err)
			}
		}, memberRow{Joined: ms(0), Changed: ms(time.Hour), LeftAt: ptr(ms(time.Hour)), Bumps: 2}, false},
		{"reactivated", func() { clock.Advance(time.Hour); setActive(true) },
			memberRow{Joined: ms(2*time.Hour + time.Minute), Changed: ms(2*time.Hour + time.Minute), Bumps: 3}, false},
		{"left again", func() { clock.Advance(time.Hour); setActive(false) },
			memberRow{Joined: ms(2*time.Hour + time.Minute), Changed: ms(3*time.Hour + time.Minute),
				LeftAt: ptr(ms(3*time.Hour + time.Minute)), Bumps: 4}, false},
		{"grace over", func() { clock.Advance(49 * time.Hour) },
			memberRow{Joined: ms(2*time.Hour + time.Minute), Changed: ms(3*time.Hour + time.Minute),
				LeftAt: ptr(ms(3*time.Hour + time.Minute)), Bumps: 4}, true},
	}
	for _, st := range steps {
		st.act()
		got := mustMemberRow(t, s, app.ID, u.ID)
		if got.Joined != st.want.Joined || got.Changed != st.want.Changed || got.Bumps != st.want.Bumps ||
			(got.LeftAt == nil) != (st.want.LeftAt == nil) || (got.LeftAt != nil && *got.LeftAt != *st.want.LeftAt) {
			t.Errorf("%s: row = %+v (left %v), want %+v (left %v)", st.name, got, deref(got.LeftAt), st.want, deref(st.want.LeftAt))
		}
		members, err := s.AppMembers(ctx, app.ID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if out := len(members) == 0; out != st.wantOut {
			t.Errorf("%s: AppMembers = %+v, want visible %v", st.name, members, !st.wantOut)
		}
		counts, err := s.AppCounts(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts := storage.AppCounts{Groups: 0}
		switch {
		case st.want.LeftAt == nil:
			wantCounts.Users = 1
		case !st.wantOut:
			wantCounts.Departed = 1
		}
		if counts != wantCounts {
			t.Errorf("%s: AppCounts = %+v, want %+v", st.name, counts, wantCounts)
		}
	}
	// The next recompute of the app forgets the rows whose grace is over.
	if _, err := s.UpdateApp(ctx, app.ID, func(a *storage.App) error { a.Scope.IncludeInactive = true; return nil }); err != nil {
		t.Fatal(err)
	}
	// The recompute revived the row (bumps 5); the view is whole again, its
	// epoch above every bump a row had.
	if r := mustMemberRow(t, s, app.ID, u.ID); r.LeftAt != nil || r.Bumps != 6 {
		t.Errorf("after includeInactive: row %+v, want in view with bumps 6", r)
	}
	if n := storedRows(t, s, app.ID); n != 0 {
		t.Errorf("after includeInactive: %d rows stored, want none (a whole view)", n)
	}
}

// TestAppShapeChangeBumps: changing what an app shows of its users moves
// every row in view, without a join or leave.
func TestAppShapeChangeBumps(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := sourcetest.NewClock(start)
	s := openClocked(t, filepath.Join(t.TempDir(), "t.db"), clock)
	ctx := t.Context()
	u, _ := s.CreateUser(ctx, storage.User{UserName: "u", Active: true})
	app, err := s.CreateApp(ctx, storage.App{Name: "a", Scope: storage.AppScope{IncludeInactive: true}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := s.UpdateApp(ctx, app.ID, func(a *storage.App) error { a.Attributes = []string{"userName"}; return nil }); err != nil {
		t.Fatal(err)
	}
	r := mustMemberRow(t, s, app.ID, u.ID)
	if r.Joined != start.UnixMilli() || r.Changed != start.Add(time.Minute).UnixMilli() || r.Bumps != 2 || r.LeftAt != nil {
		t.Errorf("after an attribute change: %+v, want joined at start, changed a minute later, bumps 2", r)
	}
}

// TestAppChangedByAnotherStore: a second store on the same database
// maintains an app the first one changed, as replicas do.
func TestAppChangedByAnotherStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	clock := sourcetest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	a, b := openClocked(t, path, clock), openClocked(t, path, clock)
	ctx := t.Context()
	eq := func(v string) storage.Expr {
		return storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: v}
	}
	app, err := a.CreateApp(ctx, storage.App{Name: "x", Scope: storage.AppScope{FilterExpr: eq("one"), IncludeInactive: true}})
	if err != nil {
		t.Fatal(err)
	}
	u1, _ := b.CreateUser(ctx, storage.User{UserName: "u1", Title: "one", Active: true})
	if _, err := a.UpdateApp(ctx, app.ID, func(x *storage.App) error { x.Scope.FilterExpr = eq("two"); return nil }); err != nil {
		t.Fatal(err)
	}
	u2, _ := b.CreateUser(ctx, storage.User{UserName: "u2", Title: "two", Active: true})
	u3, _ := b.CreateUser(ctx, storage.User{UserName: "u3", Title: "one", Active: true})
	members, err := a.AppMembers(ctx, app.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]bool{}
	for _, m := range members {
		state[m.UserID] = m.Left.IsZero()
	}
	if in, ok := state[u2.ID]; !ok || !in {
		t.Errorf("u2 (matches the new filter, written by the other store): %v %v, want in view", in, ok)
	}
	if _, ok := state[u3.ID]; ok {
		t.Errorf("u3 (matches only the old filter) is a member")
	}
	if in := state[u1.ID]; in {
		t.Errorf("u1 stayed in view after the filter changed")
	}
}

func ptr(v int64) *int64 { return &v }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
