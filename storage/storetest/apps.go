package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var appTests = []subtest{
	{"CRUD", testAppCRUD},
	{"NameConflict", testAppNameConflict},
	{"InvalidApp", testAppInvalid},
	{"DeleteRevokesTokens", testAppDeleteRevokesTokens},
	{"FilterRoundTrip", testAppFilterRoundTrip},
}

func mustCreateApp(t *testing.T, s storage.Store, a storage.App) storage.App {
	t.Helper()
	got, err := s.CreateApp(ctx(t), a)
	if err != nil {
		t.Fatalf("CreateApp(%q): %v", a.Name, err)
	}
	return got
}

func testAppCRUD(t *testing.T, s storage.Store) {
	in := storage.App{
		Name: "CRM", Description: "Sales CRM",
		Scope:  storage.AppScope{Groups: []string{"GG-Sales"}, Sources: []string{"corp-ad"}, Owners: []string{"src1"}, IncludeInactive: true},
		Groups: storage.GroupsAll, FlattenGroups: true,
		Attributes: []string{"userName", "emails"}, LeaveGraceDays: 7,
	}
	created := mustCreateApp(t, s, in)
	if created.ID == "" || created.Version != 1 || created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("created = %+v, want an id, version 1 and equal times", created)
	}
	for _, key := range []string{created.ID, "CRM", "crm"} {
		got, err := s.GetApp(ctx(t), key)
		if err != nil {
			t.Fatalf("GetApp(%q): %v", key, err)
		}
		if got.ID != created.ID || got.Name != "CRM" || got.Description != "Sales CRM" || got.Groups != storage.GroupsAll ||
			!got.FlattenGroups || got.LeaveGraceDays != 7 || !slices.Equal(got.Attributes, in.Attributes) ||
			!slices.Equal(got.Scope.Groups, in.Scope.Groups) || !slices.Equal(got.Scope.Owners, in.Scope.Owners) ||
			!slices.Equal(got.Scope.Sources, in.Scope.Sources) || !got.Scope.IncludeInactive || got.Version != 1 ||
			!got.CreatedAt.Equal(created.CreatedAt) {
			t.Errorf("GetApp(%q) = %+v, want %+v", key, got, created)
		}
	}
	mustCreateApp(t, s, storage.App{Name: "billing"})
	updated, err := s.UpdateApp(ctx(t), "crm", func(a *storage.App) error {
		a.Description = "changed"
		a.ID = "ignored"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateApp: %v", err)
	}
	if updated.ID != created.ID || updated.Version != 2 || updated.Description != "changed" {
		t.Errorf("UpdateApp = %+v, want same id, version 2, new description", updated)
	}
	if got, _ := s.GetApp(ctx(t), created.ID); got.Version != 2 || got.Description != "changed" {
		t.Errorf("GetApp after update = version %d %q, want 2 %q", got.Version, got.Description, "changed")
	}
	_, err = s.UpdateApp(ctx(t), created.ID, func(a *storage.App) error { return errTest })
	wantErr(t, "UpdateApp returning an error", err, errTest)

	list, err := s.ListApps(ctx(t))
	if err != nil {
		t.Fatalf("ListApps: %v", err)
	}
	var names []string
	for _, a := range list {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"billing", "CRM"}) {
		t.Errorf("ListApps names = %v, want [billing CRM]", names)
	}
	if err := s.DeleteApp(ctx(t), "Billing"); err != nil {
		t.Fatalf("DeleteApp by name: %v", err)
	}
	_, err = s.GetApp(ctx(t), "billing")
	wantErr(t, "GetApp after delete", err, storage.ErrNotFound)
	wantErr(t, "DeleteApp again", s.DeleteApp(ctx(t), "billing"), storage.ErrNotFound)
	_, err = s.UpdateApp(ctx(t), "nope", func(*storage.App) error { return nil })
	wantErr(t, "UpdateApp unknown", err, storage.ErrNotFound)
	_, err = s.AppCounts(ctx(t), "nope")
	wantErr(t, "AppCounts unknown", err, storage.ErrNotFound)
	_, err = s.AppMembers(ctx(t), "nope", time.Time{})
	wantErr(t, "AppMembers unknown", err, storage.ErrNotFound)
}

func testAppNameConflict(t *testing.T, s storage.Store) {
	mustCreateApp(t, s, storage.App{Name: "crm"})
	other := mustCreateApp(t, s, storage.App{Name: "hr"})
	_, err := s.CreateApp(ctx(t), storage.App{Name: "CRM"})
	wantErr(t, "CreateApp with a taken name", err, storage.ErrConflict)
	_, err = s.UpdateApp(ctx(t), other.ID, func(a *storage.App) error { a.Name = "Crm"; return nil })
	wantErr(t, "UpdateApp to a taken name", err, storage.ErrConflict)
	if got, err := s.GetApp(ctx(t), other.ID); err != nil || got.Name != "hr" || got.Version != 1 {
		t.Errorf("after a failed rename: %+v, %v; want hr version 1", got, err)
	}
}

func testAppInvalid(t *testing.T, s storage.Store) {
	for _, a := range []storage.App{
		{Name: ""},
		{Name: "x", Groups: "some"},
		{Name: "x", LeaveGraceDays: -1},
		{Name: "x", Scope: storage.AppScope{FilterExpr: storage.Compare{Attr: "noSuchAttr", Op: storage.OpEq, Value: "v"}}},
	} {
		_, err := s.CreateApp(ctx(t), a)
		wantErr(t, "CreateApp invalid", err, storage.ErrInvalid)
	}
}

func testAppDeleteRevokesTokens(t *testing.T, s storage.Store) {
	app := mustCreateApp(t, s, storage.App{Name: "crm"})
	now := time.Now().UTC().Truncate(time.Millisecond)
	bound := storage.Token{ID: "t1", Name: "crm-prod", Role: storage.RoleReader, Hash: []byte("h1"), CreatedAt: now, App: app.ID}
	if _, err := s.CreateToken(ctx(t), bound); err != nil {
		t.Fatalf("CreateToken bound: %v", err)
	}
	if _, err := s.CreateToken(ctx(t), storage.Token{ID: "t2", Name: "free", Role: storage.RoleReader, Hash: []byte("h2"), CreatedAt: now}); err != nil {
		t.Fatalf("CreateToken unbound: %v", err)
	}
	_, err := s.CreateToken(ctx(t), storage.Token{ID: "t3", Name: "ghost", Role: storage.RoleReader, Hash: []byte("h3"), App: "no-such-app"})
	wantErr(t, "CreateToken for an unknown app", err, storage.ErrNotFound)
	got, err := s.GetToken(ctx(t), "t1")
	if err != nil || got.App != app.ID {
		t.Fatalf("GetToken bound = %+v, %v; want App %s", got, err, app.ID)
	}
	if got, err := s.GetToken(ctx(t), "t2"); err != nil || got.App != "" {
		t.Fatalf("GetToken unbound = %+v, %v; want no App", got, err)
	}
	if err := s.DeleteApp(ctx(t), app.ID); err != nil {
		t.Fatalf("DeleteApp: %v", err)
	}
	_, err = s.GetToken(ctx(t), "t1")
	wantErr(t, "bound token after DeleteApp", err, storage.ErrNotFound)
	if _, err := s.GetToken(ctx(t), "t2"); err != nil {
		t.Errorf("unbound token after DeleteApp: %v", err)
	}
}

func testAppFilterRoundTrip(t *testing.T, s storage.Store) {
	expr := storage.Or{
		Left: storage.And{
			Left:  storage.Compare{Attr: storage.AttrTitle, Op: storage.OpSw, Value: "Account"},
			Right: storage.Not{X: storage.Compare{Attr: storage.AttrActive, Op: storage.OpEq, Value: false}},
		},
		Right: storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGt, Value: storage.TimeValue("2024-01-02T03:04:05.5Z")},
	}
	app := mustCreateApp(t, s, storage.App{Name: "f", Scope: storage.AppScope{Filter: `title sw "Account" ...`, FilterExpr: expr}})
	got, err := s.GetApp(ctx(t), "f")
	if err != nil {
		t.Fatalf("GetApp: %v", err)
	}
	want, _ := storage.MarshalExpr(expr)
	have, err := storage.MarshalExpr(got.Scope.FilterExpr)
	if err != nil || string(have) != string(want) || got.Scope.Filter != app.Scope.Filter {
		t.Errorf("filter round trip: %s (%v), want %s", have, err, want)
	}
}
