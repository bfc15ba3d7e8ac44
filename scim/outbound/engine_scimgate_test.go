package outbound_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// TestPushIntoScimgate pushes a view into a second scimgate's SCIM
// service over loopback and reads that one's store back: scimgate is a
// complete SCIM server, so what it keeps is what was meant.
func TestPushIntoScimgate(t *testing.T) {
	f := newPushFixture(t, fixtureOptions{scoped: true})
	second, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "second.db"), sqlstore.Options{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	sp, err := scim.New(second, scim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	writer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sp.ServeHTTP(w, r.WithContext(scim.WithCaller(r.Context(), scim.Caller{Owner: "scim:push", CanWrite: true})))
	})
	srv := httptest.NewServer(writer) // scim.Server serves below scim.Prefix
	t.Cleanup(srv.Close)
	profile, _ := outbound.ProfileByName("generic")
	f.client, err = outbound.NewClient(outbound.ClientConfig{BaseURL: srv.URL + scim.Prefix, Profile: profile, HTTPClient: srv.Client(),
		Auth: outbound.ClientAuth{PushAuth: storage.PushAuth{Type: storage.PushAuthBearer}, Token: testToken}, Sleep: f.clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}

	us := f.users(4, "lee", func(u *storage.User) {
		u.Name = &storage.Name{GivenName: "Lee", FamilyName: u.UserName}
		u.Enterprise = &storage.EnterpriseExt{Department: "R&D"}
	})
	team := f.group("Team", us[0].ID, us[1].ID, us[2].ID)
	// Every group with a member in view, not just the scope group.
	if _, err := f.store.UpdateApp(t.Context(), f.app.ID, func(a *storage.App) error { a.Groups = storage.GroupsAll; return nil }); err != nil {
		t.Fatal(err)
	}

	// read is the second scimgate's user pushed from local user u.
	read := func(u storage.User) storage.User {
		t.Helper()
		page, err := second.ListUsers(t.Context(), storage.Query{Filter: storage.Compare{Attr: storage.AttrExternalID, Op: storage.OpEq, Value: u.ID}, Limit: 2})
		if err != nil || len(page.Users) != 1 {
			t.Fatalf("the second scimgate's users with externalId %s: %d, %v", u.ID, len(page.Users), err)
		}
		got, err := page.Users[0].Decode()
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	members := func() []string {
		t.Helper()
		page, err := second.ListGroups(t.Context(), storage.Query{Filter: storage.Compare{Attr: storage.AttrExternalID, Op: storage.OpEq, Value: team.ID}, Limit: 2}, true)
		if err != nil || len(page.Groups) != 1 {
			all, _ := second.ListGroups(t.Context(), storage.Query{Limit: 10}, false)
			t.Fatalf("the second scimgate's group Team: %v, %v; it has %+v", page.Groups, err, all.Groups)
		}
		var names []string
		for _, m := range page.Groups[0].Members {
			names = append(names, m.Display)
		}
		slices.Sort(names)
		return names
	}

	steps := []struct {
		name    string
		change  func()
		check   func(t *testing.T)
		members []string
	}{
		{name: "first push", change: func() {}, members: []string{"User lee000", "User lee001", "User lee002"},
			check: func(t *testing.T) {
				for _, u := range us {
					got := read(u)
					if got.UserName != u.UserName || !got.Active || got.Name == nil || got.Name.FamilyName != u.UserName ||
						got.Enterprise == nil || got.Enterprise.Department != "R&D" || len(got.Emails) != 1 || got.Emails[0].Value != u.Emails[0].Value {
						t.Errorf("%s in the second scimgate: %+v", u.UserName, got)
					}
				}
			}},
		{name: "edits", change: func() {
			f.editUser(us[3].ID, func(u *storage.User) { u.Enterprise.Department = "Sales"; u.Name.MiddleName = "M" })
			f.editUser(us[0].ID, func(u *storage.User) { u.Name.GivenName = "" })
		}, members: []string{"User lee000", "User lee001", "User lee002"},
			check: func(t *testing.T) {
				if got := read(us[3]); got.Enterprise.Department != "Sales" || got.Name.MiddleName != "M" {
					t.Errorf("edited user: %+v %+v", got.Enterprise, got.Name)
				}
				if got := read(us[0]); got.Name.GivenName != "" || got.Name.FamilyName != "lee000" {
					t.Errorf("user whose givenName was removed: %+v", got.Name)
				}
			}},
		{name: "membership", change: func() {
			f.removeMembers(team, us[0].ID)
			f.addMembers(team, us[3].ID)
		}, members: []string{"User lee001", "User lee002", "User lee003"}},
		{name: "leaver", change: func() { f.removeMembers(f.scope, us[2].ID) }, members: []string{"User lee001", "User lee003"},
			check: func(t *testing.T) {
				if read(us[2]).Active {
					t.Error("the leaver is active in the second scimgate")
				}
			}},
	}
	for _, st := range steps {
		st.change()
		out := f.mustRun(outbound.PushJob{})
		if out.Run.Counts.Errors != 0 {
			t.Fatalf("%s: %s; changes %+v", st.name, counts(out.Run.Counts), f.changes(out.Run))
		}
		if got := members(); !slices.Equal(got, st.members) {
			t.Errorf("%s: Team in the second scimgate has %v, want %v", st.name, got, st.members)
		}
		if st.check != nil {
			st.check(t)
		}
	}
}
