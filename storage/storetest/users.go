package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var userTests = []subtest{
	{"CreateRoundTrip", testCreateUserRoundTrip},
	{"CreateAssignsUniqueIDs", testCreateUserUniqueIDs},
	{"CreateIgnoresCallerMeta", testCreateUserIgnoresCallerMeta},
	{"GetNotFound", testGetUserNotFound},
	{"CreateUserNameConflict", testCreateUserNameConflict},
	{"Update", testUpdateUser},
	{"UpdateClosureError", testUpdateUserClosureError},
	{"UpdateKeepsIDOwnerCreated", testUpdateUserImmutable},
	{"UpdateUserNameConflict", testUpdateUserNameConflict},
	{"UpdateNotFound", testUpdateUserNotFound},
	{"Delete", testDeleteUser},
	{"DeleteRemovesMemberships", testDeleteUserMemberships},
	{"DeleteCheck", testDeleteUserCheck},
	{"DeleteNotFound", testDeleteUserNotFound},
}

// fullUser sets every attribute of User, so that a round trip shows which
// the store loses.
func fullUser(userName string, active bool) storage.User {
	return storage.User{
		Owner:      "scim:hr",
		ExternalID: "Ext-" + userName,
		UserName:   userName,
		Name: &storage.Name{
			Formatted:       "Ms. Barbara J Jensen, III",
			FamilyName:      "Jensen",
			GivenName:       "Barbara",
			MiddleName:      "Jane",
			HonorificPrefix: "Ms.",
			HonorificSuffix: "III",
		},
		DisplayName:       "Babs Jensen",
		NickName:          "Babs",
		ProfileURL:        "https://login.example.com/bjensen",
		Title:             "Tour Guide",
		UserType:          "Employee",
		PreferredLanguage: "en-US",
		Locale:            "en-US",
		Timezone:          "America/Los_Angeles",
		Active:            active,
		Emails: []storage.MultiValue{
			{Value: "bjensen@example.com", Type: "work", Primary: true},
			{Value: "babs@jensen.org", Type: "home", Display: "Babs at home"},
		},
		PhoneNumbers: []storage.MultiValue{
			{Value: "555-555-5555", Type: "work"},
			{Value: "555-555-4444", Type: "mobile"},
		},
		IMs:    []storage.MultiValue{{Value: "someaimhandle", Type: "aim"}},
		Photos: []storage.MultiValue{{Value: "https://photos.example.com/profilephoto/72930000000Ccne/F", Type: "photo"}},
		Addresses: []storage.Address{
			{
				Type: "work", StreetAddress: "100 Universal City Plaza", Locality: "Hollywood",
				Region: "CA", PostalCode: "91608", Country: "USA", Primary: true,
				Formatted: "100 Universal City Plaza\nHollywood, CA 91608 USA",
			},
			{Type: "home", StreetAddress: "456 Hollywood Blvd", Locality: "Hollywood", Country: "USA"},
		},
		Entitlements:     []storage.MultiValue{{Value: "tour-booking"}},
		Roles:            []storage.MultiValue{{Value: "guide", Primary: true}},
		X509Certificates: []storage.MultiValue{{Value: "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}},
		Enterprise: &storage.EnterpriseExt{
			EmployeeNumber: "701984",
			CostCenter:     "4130",
			Organization:   "Universal Studios",
			Division:       "Theme Park",
			Department:     "Tour Operations",
			Manager:        &storage.ManagerRef{Value: "26118915-6090-4610-87e4-49d8ca9f808d", DisplayName: "John Smith"},
		},
	}
}

// checkSameDoc compares the resource attributes of two users, ignoring ID,
// Owner and Meta, which have their own checks.
func checkSameDoc(t *testing.T, what string, got, want storage.User) {
	t.Helper()
	got.ID, got.Owner, got.Meta = "", "", storage.Meta{}
	want.ID, want.Owner, want.Meta = "", "", storage.Meta{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: document differs\n got: %+v\nwant: %+v", what, got, want)
	}
}

func testCreateUserRoundTrip(t *testing.T, s storage.Store) {
	for _, active := range []bool{true, false} {
		in := fullUser("bjensen-"+map[bool]string{true: "active", false: "inactive"}[active], active)
		before := time.Now()
		created := mustCreateUser(t, s, in)
		after := time.Now()

		if created.ID == "" {
			t.Fatalf("CreateUser returned an empty ID")
		}
		if created.Owner != in.Owner {
			t.Errorf("CreateUser: Owner = %q, want %q", created.Owner, in.Owner)
		}
		checkFreshMeta(t, "CreateUser", created.Meta, before, after)
		checkSameDoc(t, "CreateUser result", created, in)
		if created.Active != active {
			t.Errorf("CreateUser: Active = %v, want %v", created.Active, active)
		}

		got := mustGetUser(t, s, created.ID)
		if got.ID != created.ID || got.Owner != in.Owner {
			t.Errorf("GetUser: ID, Owner = %q, %q, want %q, %q", got.ID, got.Owner, created.ID, in.Owner)
		}
		sameMeta(t, "GetUser", got.Meta, created.Meta)
		checkSameDoc(t, "GetUser", got, in)
		if got.Active != active {
			t.Errorf("GetUser: Active = %v, want %v", got.Active, active)
		}
	}

	// A minimal user round-trips without growing empty attributes.
	minimal := mustCreateUser(t, s, storage.User{UserName: "minimal"})
	got := mustGetUser(t, s, minimal.ID)
	checkSameDoc(t, "GetUser(minimal)", got, storage.User{UserName: "minimal"})
}

func testCreateUserUniqueIDs(t *testing.T, s storage.Store) {
	seen := map[string]string{}
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		u := mustCreateUser(t, s, user(name))
		if u.ID == "" {
			t.Fatalf("CreateUser(%q): empty ID", name)
		}
		if prev, dup := seen[u.ID]; dup {
			t.Fatalf("CreateUser(%q): ID %q already given to %q", name, u.ID, prev)
		}
		seen[u.ID] = name
		if got := mustGetUser(t, s, u.ID); got.UserName != name {
			t.Errorf("GetUser(%q).UserName = %q, want %q", u.ID, got.UserName, name)
		}
	}
}

func testCreateUserIgnoresCallerMeta(t *testing.T, s storage.Store) {
	in := user("meta")
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	in.Meta = storage.Meta{Created: old, LastModified: old, Version: 42}
	before := time.Now()
	u := mustCreateUser(t, s, in)
	checkFreshMeta(t, "CreateUser with caller meta", u.Meta, before, time.Now())
	sameMeta(t, "GetUser", mustGetUser(t, s, u.ID).Meta, u.Meta)
}

func testGetUserNotFound(t *testing.T, s storage.Store) {
	_, err := s.GetUser(ctx(t), "no-such-id")
	wantErr(t, "GetUser(unknown) on empty store", err, storage.ErrNotFound)
	mustCreateUser(t, s, user("someone"))
	_, err = s.GetUser(ctx(t), "no-such-id")
	wantErr(t, "GetUser(unknown)", err, storage.ErrNotFound)
}

func testCreateUserNameConflict(t *testing.T, s storage.Store) {
	first := mustCreateUser(t, s, user("alice@x.com"))
	for _, name := range []string{"alice@x.com", "Alice@X.com", "ALICE@X.COM"} {
		_, err := s.CreateUser(ctx(t), user(name))
		wantErr(t, "CreateUser("+name+") with alice@x.com taken", err, storage.ErrConflict)
	}
	if _, total := listUserNames(t, s, storage.Query{}); total != 1 {
		t.Errorf("after conflicting creates: total = %d, want 1", total)
	}
	got := mustGetUser(t, s, first.ID)
	if got.UserName != "alice@x.com" || got.Meta.Version != 1 {
		t.Errorf("existing user changed: userName=%q version=%d", got.UserName, got.Meta.Version)
	}
}

func testUpdateUser(t *testing.T, s storage.Store) {
	created := mustCreateUser(t, s, fullUser("upd", true))
	time.Sleep(5 * time.Millisecond)

	calls := 0
	updated, err := s.UpdateUser(ctx(t), created.ID, func(u *storage.User) error {
		calls++
		// The closure sees the current user: id, owner, meta and document.
		if u.ID != created.ID || u.Owner != created.Owner {
			t.Errorf("closure saw ID, Owner = %q, %q, want %q, %q", u.ID, u.Owner, created.ID, created.Owner)
		}
		sameMeta(t, "closure's user", u.Meta, created.Meta)
		checkSameDoc(t, "closure's user", *u, fullUser("upd", true))
		if u.Enterprise == nil {
			return errTest
		}
		u.DisplayName = "Barbara J."
		u.Active = false
		u.Emails = []storage.MultiValue{{Value: "new@example.com", Type: "work"}}
		u.Enterprise.Department = "Finance"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if calls < 1 {
		t.Fatalf("UpdateUser did not call update")
	}
	want := fullUser("upd", true)
	want.DisplayName = "Barbara J."
	want.Active = false
	want.Emails = []storage.MultiValue{{Value: "new@example.com", Type: "work"}}
	want.Enterprise.Department = "Finance"

	if updated.ID != created.ID {
		t.Errorf("UpdateUser: ID = %q, want %q", updated.ID, created.ID)
	}
	if updated.Meta.Version != created.Meta.Version+1 {
		t.Errorf("UpdateUser: Version = %d, want %d", updated.Meta.Version, created.Meta.Version+1)
	}
	if !updated.Meta.Created.Equal(created.Meta.Created) {
		t.Errorf("UpdateUser: Created = %v, want unchanged %v", updated.Meta.Created, created.Meta.Created)
	}
	if updated.Meta.LastModified.Before(created.Meta.LastModified) {
		t.Errorf("UpdateUser: LastModified = %v, before previous %v", updated.Meta.LastModified, created.Meta.LastModified)
	}
	if updated.Meta.LastModified.Location() != time.UTC {
		t.Errorf("UpdateUser: LastModified location = %v, want UTC", updated.Meta.LastModified.Location())
	}
	checkSameDoc(t, "UpdateUser result", updated, want)

	got := mustGetUser(t, s, created.ID)
	sameMeta(t, "GetUser after update", got.Meta, updated.Meta)
	checkSameDoc(t, "GetUser after update", got, want)

	// A second update bumps the version again; renaming to a case variant
	// of the user's own name is not a conflict.
	again, err := s.UpdateUser(ctx(t), created.ID, func(u *storage.User) error {
		if u.Meta.Version != 2 {
			t.Errorf("second closure saw Version %d, want 2", u.Meta.Version)
		}
		u.UserName = "UPD"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser(rename to own case variant): %v", err)
	}
	if again.Meta.Version != 3 || again.UserName != "UPD" {
		t.Errorf("second update: Version=%d UserName=%q, want 3, UPD", again.Meta.Version, again.UserName)
	}
}

func testUpdateUserClosureError(t *testing.T, s storage.Store) {
	created := mustCreateUser(t, s, fullUser("closure-err", true))
	_, err := s.UpdateUser(ctx(t), created.ID, func(u *storage.User) error {
		u.DisplayName = "must not be stored"
		u.UserName = "renamed"
		u.Emails = nil
		return errTest
	})
	wantErr(t, "UpdateUser with failing closure", err, errTest)
	got := mustGetUser(t, s, created.ID)
	sameMeta(t, "GetUser after failed update", got.Meta, created.Meta)
	checkSameDoc(t, "GetUser after failed update", got, fullUser("closure-err", true))
}

func testUpdateUserImmutable(t *testing.T, s storage.Store) {
	in := user("immutable")
	in.Owner = "scim:orig"
	created := mustCreateUser(t, s, in)
	updated, err := s.UpdateUser(ctx(t), created.ID, func(u *storage.User) error {
		u.ID = "hijacked-id"
		u.Owner = "scim:thief"
		u.Meta.Created = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
		u.Title = "changed"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	for what, u := range map[string]storage.User{"UpdateUser result": updated, "GetUser": mustGetUser(t, s, created.ID)} {
		if u.ID != created.ID || u.Owner != "scim:orig" || !u.Meta.Created.Equal(created.Meta.Created) {
			t.Errorf("%s: ID=%q Owner=%q Created=%v, want %q %q %v",
				what, u.ID, u.Owner, u.Meta.Created, created.ID, "scim:orig", created.Meta.Created)
		}
		if u.Title != "changed" {
			t.Errorf("%s: Title = %q, want changed", what, u.Title)
		}
	}
	_, err = s.GetUser(ctx(t), "hijacked-id")
	wantErr(t, "GetUser(id the closure tried to set)", err, storage.ErrNotFound)
}

func testUpdateUserNameConflict(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, user("alice@x.com"))
	bob := mustCreateUser(t, s, user("bob@x.com"))
	for _, name := range []string{"alice@x.com", "Alice@X.com"} {
		_, err := s.UpdateUser(ctx(t), bob.ID, func(u *storage.User) error {
			u.UserName = name
			u.Title = "must not be stored"
			return nil
		})
		wantErr(t, "UpdateUser renaming bob to "+name, err, storage.ErrConflict)
	}
	got := mustGetUser(t, s, bob.ID)
	if got.UserName != "bob@x.com" || got.Title != "" {
		t.Errorf("after failed rename: userName=%q title=%q, want bob@x.com and no title", got.UserName, got.Title)
	}
	sameMeta(t, "after failed rename", got.Meta, bob.Meta)
	names, total := listUserNames(t, s, storage.Query{Limit: 10})
	if total != 2 || !sameSet(names, []string{"alice@x.com", "bob@x.com"}) {
		t.Errorf("after failed rename: users = %v (total %d), want alice@x.com, bob@x.com", names, total)
	}
}

func testUpdateUserNotFound(t *testing.T, s storage.Store) {
	called := false
	_, err := s.UpdateUser(ctx(t), "no-such-id", func(u *storage.User) error { called = true; return nil })
	wantErr(t, "UpdateUser(unknown)", err, storage.ErrNotFound)
	if called {
		t.Errorf("UpdateUser(unknown) called update")
	}
}

func testDeleteUser(t *testing.T, s storage.Store) {
	keep := mustCreateUser(t, s, user("keep"))
	gone := mustCreateUser(t, s, user("gone"))
	if err := s.DeleteUser(ctx(t), gone.ID, nil); err != nil {
		t.Fatalf("DeleteUser(nil check): %v", err)
	}
	_, err := s.GetUser(ctx(t), gone.ID)
	wantErr(t, "GetUser after delete", err, storage.ErrNotFound)
	names, total := listUserNames(t, s, storage.Query{Limit: 10})
	if total != 1 || !sameSet(names, []string{"keep"}) {
		t.Errorf("after delete: users = %v (total %d), want [keep]", names, total)
	}
	mustGetUser(t, s, keep.ID)
	// The name is free again.
	mustCreateUser(t, s, user("GONE"))
}

func testDeleteUserMemberships(t *testing.T, s storage.Store) {
	alice := mustCreateUser(t, s, user("alice"))
	bob := mustCreateUser(t, s, user("bob"))
	g1 := mustCreateGroup(t, s, storage.Group{DisplayName: "g1", Members: []storage.Member{
		{Value: alice.ID, Type: storage.MemberUser}, {Value: bob.ID, Type: storage.MemberUser},
	}})
	g2 := mustCreateGroup(t, s, storage.Group{DisplayName: "g2", Members: []storage.Member{
		{Value: alice.ID, Type: storage.MemberUser},
	}})
	if err := s.DeleteUser(ctx(t), alice.ID, nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	checkMembers(t, "g1 after deleting alice", mustGetGroup(t, s, g1.ID, true).Members,
		[]storage.Member{{Value: bob.ID, Type: storage.MemberUser, Display: "bob"}})
	checkMembers(t, "g2 after deleting alice", mustGetGroup(t, s, g2.ID, true).Members, nil)
	page := mustListGroups(t, s, storage.Query{
		Filter: storage.ValuePath{Attr: storage.AttrMembers, Filter: storage.Compare{Attr: storage.SubValue, Op: storage.OpEq, Value: alice.ID}},
		Limit:  10,
	}, false)
	if page.Total != 0 {
		t.Errorf("groups with deleted alice as member: %v (total %d), want none", groupNames(page.Groups), page.Total)
	}
}

func testDeleteUserCheck(t *testing.T, s storage.Store) {
	in := user("checked")
	in.Owner = "scim:owner"
	u := mustCreateUser(t, s, in)
	var gotOwner string
	var gotMeta storage.Meta
	err := s.DeleteUser(ctx(t), u.ID, func(owner string, meta storage.Meta) error {
		gotOwner, gotMeta = owner, meta
		return errTest
	})
	wantErr(t, "DeleteUser with failing check", err, errTest)
	if gotOwner != "scim:owner" {
		t.Errorf("check saw owner %q, want scim:owner", gotOwner)
	}
	sameMeta(t, "check's meta", gotMeta, u.Meta)
	got := mustGetUser(t, s, u.ID)
	sameMeta(t, "user after aborted delete", got.Meta, u.Meta)

	// A passing check lets the delete through.
	if err := s.DeleteUser(ctx(t), u.ID, func(string, storage.Meta) error { return nil }); err != nil {
		t.Fatalf("DeleteUser with passing check: %v", err)
	}
	_, err = s.GetUser(ctx(t), u.ID)
	wantErr(t, "GetUser after delete", err, storage.ErrNotFound)
}

func testDeleteUserNotFound(t *testing.T, s storage.Store) {
	err := s.DeleteUser(ctx(t), "no-such-id", nil)
	wantErr(t, "DeleteUser(unknown)", err, storage.ErrNotFound)
	u := mustCreateUser(t, s, user("twice"))
	if err := s.DeleteUser(ctx(t), u.ID, nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	err = s.DeleteUser(ctx(t), u.ID, nil)
	wantErr(t, "DeleteUser twice", err, storage.ErrNotFound)
}
