package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// testFilterLastModified creates x, y and z, waits, notes a time between,
// waits and updates y; time comparisons must then split y from x and z.
func testFilterLastModified(t *testing.T, s storage.Store) {
	x := mustCreateUser(t, s, user("x"))
	time.Sleep(3 * time.Millisecond)
	y := mustCreateUser(t, s, user("y"))
	time.Sleep(3 * time.Millisecond)
	z := mustCreateUser(t, s, user("z"))
	time.Sleep(20 * time.Millisecond)
	mid := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	y, err := s.UpdateUser(ctx(t), y.ID, func(u *storage.User) error { u.Title = "touched"; return nil })
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if !y.Meta.LastModified.After(mid) || !z.Meta.LastModified.Before(mid) {
		t.Fatalf("clock: z.lastModified=%v mid=%v y.lastModified=%v, want z < mid < y", z.Meta.LastModified, mid, y.Meta.LastModified)
	}
	lm := storage.AttrLastModified
	cases := []struct {
		name   string
		filter storage.Expr
		want   []string
	}{
		{"gt mid", cmp(lm, storage.OpGt, mid), []string{"y"}},
		{"ge mid", cmp(lm, storage.OpGe, mid), []string{"y"}},
		{"lt mid", cmp(lm, storage.OpLt, mid), []string{"x", "z"}},
		{"le mid", cmp(lm, storage.OpLe, mid), []string{"x", "z"}},
		// The same instant written in another zone compares the same.
		{"gt mid in +02:00", cmp(lm, storage.OpGt, mid.In(time.FixedZone("UTC+2", 2*3600))), []string{"y"}},
		{"lt mid in -05:00", cmp(lm, storage.OpLt, mid.In(time.FixedZone("UTC-5", -5*3600))), []string{"x", "z"}},
		// The exact stored value compares equal to itself.
		{"ge y's lastModified", cmp(lm, storage.OpGe, y.Meta.LastModified), []string{"y"}},
		{"gt y's lastModified", cmp(lm, storage.OpGt, y.Meta.LastModified), nil},
		{"le x's lastModified", cmp(lm, storage.OpLe, x.Meta.LastModified), []string{"x"}},
		{"lt z's lastModified", cmp(lm, storage.OpLt, z.Meta.LastModified), []string{"x"}},
		{"gt mid and title pr", and(cmp(lm, storage.OpGt, mid), pr(storage.AttrTitle)), []string{"y"}},
		{"not gt mid", not(cmp(lm, storage.OpGt, mid)), []string{"x", "z"}},
		{"created lt mid", cmp(storage.AttrCreated, storage.OpLt, mid), []string{"x", "y", "z"}},
		{"created gt mid", cmp(storage.AttrCreated, storage.OpGt, mid), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, total := listUserNames(t, s, storage.Query{Filter: c.filter, Limit: 10})
			if !sameSet(got, c.want) || total != len(c.want) {
				t.Errorf("filter %s\n got %v (total %d)\nwant %v", describeExpr(c.filter), got, total, c.want)
			}
		})
	}
}

// testFilterGroups filters groups: Engineers {alice, bob}, Sales {bob},
// Empty {}, Leads {Engineers, carol}.
func testFilterGroups(t *testing.T, s storage.Store) {
	alice := mustCreateUser(t, s, user("alice"))
	bob := mustCreateUser(t, s, user("bob"))
	carol := mustCreateUser(t, s, user("carol"))
	eng := mustCreateGroup(t, s, storage.Group{DisplayName: "Engineers", ExternalID: "G-ENG",
		Members: []storage.Member{um(alice.ID), um(bob.ID)}})
	sales := mustCreateGroup(t, s, storage.Group{DisplayName: "Sales", ExternalID: "g-sales",
		Members: []storage.Member{um(bob.ID)}})
	mustCreateGroup(t, s, storage.Group{DisplayName: "Empty"})
	mustCreateGroup(t, s, storage.Group{DisplayName: "Leads",
		Members: []storage.Member{gm(eng.ID), um(carol.ID)}})

	dn, ext := storage.AttrDisplayName, storage.AttrExternalID
	cases := map[string]struct {
		filter storage.Expr
		want   []string
	}{
		"displayName eq case-insensitive": {cmp(dn, storage.OpEq, "engineers"), []string{"Engineers"}},
		"displayName sw":                  {cmp(dn, storage.OpSw, "e"), []string{"Engineers", "Empty"}},
		"displayName co":                  {cmp(dn, storage.OpCo, "EA"), []string{"Leads"}},
		"displayName ne":                  {cmp(dn, storage.OpNe, "SALES"), []string{"Engineers", "Empty", "Leads"}},
		"externalId eq":                   {cmp(ext, storage.OpEq, "G-ENG"), []string{"Engineers"}},
		"externalId eq other case":        {cmp(ext, storage.OpEq, "g-eng"), nil},
		"externalId eq lower":             {cmp(ext, storage.OpEq, "g-sales"), []string{"Sales"}},
		"externalId pr":                   {pr(ext), []string{"Engineers", "Sales"}},
		"id eq":                           {cmp(storage.AttrID, storage.OpEq, sales.ID), []string{"Sales"}},
		"members.value eq user":           {members(value(storage.OpEq, bob.ID)), []string{"Engineers", "Sales"}},
		"members.value eq group":          {members(value(storage.OpEq, eng.ID)), []string{"Leads"}},
		"members.type eq Group":           {members(cmp(storage.SubType, storage.OpEq, storage.MemberGroup)), []string{"Leads"}},
		"members.value pr":                {members(pr(storage.SubValue)), []string{"Engineers", "Sales", "Leads"}},
		"not members.value pr":            {not(members(pr(storage.SubValue))), []string{"Empty"}},
		"members has alice and bob": {and(members(value(storage.OpEq, alice.ID)), members(value(storage.OpEq, bob.ID))),
			[]string{"Engineers"}},
		"displayName or externalId": {or(cmp(dn, storage.OpEq, "sales"), cmp(ext, storage.OpEq, "G-ENG")),
			[]string{"Engineers", "Sales"}},
	}
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			for _, withMembers := range []bool{false, true} {
				page := mustListGroups(t, s, storage.Query{Filter: c.filter, Limit: 10}, withMembers)
				if got := groupNames(page.Groups); !sameSet(got, c.want) || page.Total != len(c.want) {
					t.Errorf("filter %s (withMembers=%v)\n got %v (total %d)\nwant %v",
						describeExpr(c.filter), withMembers, got, page.Total, c.want)
				}
			}
		})
	}
}

// testFilterInvalid: a filter the store cannot run is ErrInvalid, wherever
// the unknown attribute or operator sits in the tree.
func testFilterInvalid(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, filterUsers['A'])
	mustCreateGroup(t, s, storage.Group{DisplayName: "g"})
	nosuch := storage.Attr("nosuch")
	ok := cmp(storage.AttrUserName, storage.OpPr, nil)
	userCases := map[string]storage.Expr{
		"top level":          cmp(nosuch, storage.OpEq, "x"),
		"pr":                 pr(nosuch),
		"right of and":       and(ok, cmp(nosuch, storage.OpEq, "x")),
		"under or and not":   or(ok, not(cmp(nosuch, storage.OpEq, "x"))),
		"valuePath sub-attr": emails(cmp(nosuch, storage.OpEq, "x")),
		"valuePath attr":     storage.ValuePath{Attr: nosuch, Filter: value(storage.OpEq, "x")},
		"unknown operator":   cmp(storage.AttrUserName, storage.Op("regex"), "x"),
	}
	for _, name := range slices.Sorted(maps.Keys(userCases)) {
		f := userCases[name]
		_, err := s.ListUsers(ctx(t), storage.Query{Filter: f, Limit: 10})
		wantErr(t, "ListUsers filter "+name+": "+describeExpr(f), err, storage.ErrInvalid)
		_, err = s.ListUsers(ctx(t), storage.Query{Filter: f})
		wantErr(t, "ListUsers (Limit 0) filter "+name+": "+describeExpr(f), err, storage.ErrInvalid)
	}
	for _, f := range []storage.Expr{
		cmp(nosuch, storage.OpEq, "x"),
		members(cmp(nosuch, storage.OpEq, "x")),
		or(cmp(storage.AttrDisplayName, storage.OpEq, "g"), cmp(nosuch, storage.OpEq, "x")),
	} {
		_, err := s.ListGroups(ctx(t), storage.Query{Filter: f, Limit: 10}, true)
		wantErr(t, "ListGroups filter "+describeExpr(f), err, storage.ErrInvalid)
	}
}
