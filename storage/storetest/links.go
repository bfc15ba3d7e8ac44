package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// linkTests check the LinkStore: contributions of linked sources merged
// into people (storage/link.go).
var linkTests = []subtest{
	{"Link", testLinkTwoSources},
	{"MergeWinners", testLinkMergeWinners},
	{"VersionOnlyOnChange", testLinkVersionOnlyOnChange},
	{"Move", testLinkMove},
	{"EmptiedPersonJoins", testLinkEmptiedPersonJoins},
	{"JoinRewritesBatchManagers", testLinkJoinRewritesBatchManagers},
	{"Removals", testLinkRemovals},
	{"Progress", testLinkProgress},
	{"ConflictRollsBack", testLinkConflictRollsBack},
	{"Managers", testLinkManagers},
	{"EachAndCount", testLinkEachAndCount},
	{"DeletedSourceLoses", testLinkDeletedSourceLoses},
	{"AppView", testLinkAppView},
	{"AppViewBySource", testLinkAppViewBySource},
	{"AdoptOwned", testLinkAdoptOwned},
	{"Provenance", testLinkProvenance},
	{"Unlink", testLinkUnlink},
	{"UnlinkSameUserName", testLinkUnlinkSameUserName},
	{"DeleteUserDropsContributions", testLinkDeleteUserDropsContributions},
}

// linkedSource creates a linked source with precedence prec.
func linkedSource(t *testing.T, s storage.Store, name string, prec int, authoritative ...string) storage.Source {
	t.Helper()
	return mustCreateSource(t, s, storage.Source{Name: name, Kind: "csv", Precedence: prec,
		Link: map[string]string{"employeeId": "{id}"}, Authoritative: authoritative})
}

// contribution is a record of key for person (a new one when person is
// ""), carrying the link key employeeId=emp.
func contribution(key, person, emp string, u storage.User) storage.ContributionWrite {
	u.ID = person
	w := storage.ContributionWrite{UserWrite: storage.UserWrite{User: u, Key: key, Hash: "h-" + key + "-" + u.Title}}
	if emp != "" {
		w.LinkKeys = []storage.LinkKey{{Name: "employeeId", Value: emp}}
	}
	if person != "" {
		w.LinkedBy = "employeeId"
	}
	return w
}

func mustApplyContributions(t *testing.T, s storage.Store, src storage.Source, b storage.ContributionBatch) storage.ContributionResult {
	t.Helper()
	res, err := s.ApplyContributions(ctx(t), src.ID, b)
	if err != nil {
		t.Fatalf("ApplyContributions(%s): %v", src.Name, err)
	}
	return res
}

func upsert(ws ...storage.ContributionWrite) storage.ContributionBatch {
	return storage.ContributionBatch{Upsert: ws}
}

// personOf returns the person source's record key belongs to.
func personOf(t *testing.T, s storage.Store, src storage.Source, key string) string {
	t.Helper()
	got, err := s.SyncedContributions(ctx(t), src.ID, []string{key})
	if err != nil {
		t.Fatalf("SyncedContributions(%s, %s): %v", src.Name, key, err)
	}
	return got[key].ID
}

func wantUserCount(t *testing.T, s storage.Store, want int) {
	t.Helper()
	if page := mustListUsers(t, s, storage.Query{Limit: 0}); page.Total != want {
		t.Errorf("users in the directory: %d, want %d", page.Total, want)
	}
}

func testLinkTwoSources(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	// The engine names a new person by a new id.
	p := storage.NewID()
	first := contribution("a1", p, "E1", storage.User{UserName: "Ann@Example.com", DisplayName: "Ann", Active: true})
	first.LinkedBy = ""
	res := mustApplyContributions(t, s, ad, upsert(first))
	if got := personOf(t, s, ad, "a1"); got != p || !res.Changed[p] {
		t.Fatalf("the first contribution is on %q (changed: %v), want a new person %s", got, res.Changed, p)
	}
	res = mustApplyContributions(t, s, hr, upsert(contribution("h1", p, " e1 ",
		storage.User{UserName: "ann.hr", Title: "Engineer", Active: true})))
	if !res.Changed[p] || len(res.Deleted) != 0 {
		t.Errorf("linking: result %+v, want %s changed, nobody deleted", res, p)
	}
	wantUserCount(t, s, 1)
	u := mustGetUser(t, s, p)
	if u.UserName != "Ann@Example.com" || u.Title != "Engineer" || u.DisplayName != "Ann" || !u.Active {
		t.Errorf("merged person: %+v; want userName and displayName from ad, title from hr", u)
	}
	if u.Owner != ad.Owner() {
		t.Errorf("owner %q, want %q (the source of the userName)", u.Owner, ad.Owner())
	}
	if got := personOf(t, s, hr, "h1"); got != p {
		t.Errorf("hr's record is on %q, want %q", got, p)
	}
	synced, _ := s.SyncedContributions(ctx(t), hr.ID, []string{"h1", "nope"})
	if c := synced["h1"]; len(synced) != 1 || c.UserName != "ann.hr" || c.Hash != "h-h1-Engineer" || !c.Active || c.Owner != hr.Owner() {
		t.Errorf("SyncedContributions(hr) = %+v; want h1 alone, with the record's userName and hash", synced)
	}
	key := storage.LinkKey{Name: "employeeId", Value: storage.FoldLinkValue("E1")}
	holders, err := s.LinkHolders(ctx(t), []storage.LinkKey{key, {Name: "employeeId", Value: "nobody"}})
	if err != nil {
		t.Fatalf("LinkHolders: %v", err)
	}
	if hs := holders[key]; len(holders) != 1 || len(hs) != 2 || hs[0].UserID != p || hs[1].UserID != p ||
		!sameSet([]string{hs[0].Source + "/" + hs[0].Key, hs[1].Source + "/" + hs[1].Key}, []string{ad.ID + "/a1", hr.ID + "/h1"}) {
		t.Errorf("LinkHolders = %+v; want a1 and h1, both on %s", holders, p)
	}
	refs, err := s.ContributionsOf(ctx(t), []string{p})
	if err != nil {
		t.Fatalf("ContributionsOf: %v", err)
	}
	byKey := map[string]storage.ContributionRef{}
	for _, r := range refs[p] {
		byKey[r.Key] = r
	}
	if len(refs[p]) != 2 || byKey["a1"].LinkedBy != "" || byKey["h1"].LinkedBy != "employeeId" ||
		!slices.Equal(byKey["h1"].LinkKeys, []storage.LinkKey{key}) || byKey["h1"].Source != hr.ID {
		t.Errorf("ContributionsOf = %+v; want a1 (first) and h1 (linked by employeeId)", refs)
	}
}

func testLinkMergeWinners(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 30, "title", "manager")
	entra := linkedSource(t, s, "entra", 20)
	mustApplyContributions(t, s, ad, upsert(contribution("a1", "", "E1", storage.User{UserName: "ann", Title: "AD title",
		Active: true, Emails: nil, Enterprise: &storage.EnterpriseExt{Department: "R&D"}})))
	p := personOf(t, s, ad, "a1")
	mustApplyContributions(t, s, entra, upsert(contribution("x1", p, "E1", storage.User{UserName: "ann@entra", Title: "Entra title",
		DisplayName: "Ann E", Active: true, Emails: []storage.MultiValue{{Value: "ann@example.com", Primary: true}}})))
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann@hr", Title: "HR title",
		DisplayName: "Ann H", Active: true, Enterprise: &storage.EnterpriseExt{Department: "HR dept"}})))
	u := mustGetUser(t, s, p)
	want := map[string]string{
		"userName":    "ann",             // ad: lowest precedence
		"title":       "HR title",        // hr is authoritative
		"displayName": "Ann E",           // entra: ad has none
		"email":       "ann@example.com", // entra, whole
		"department":  "R&D",             // ad
	}
	got := map[string]string{"userName": u.UserName, "title": u.Title, "displayName": u.DisplayName}
	if len(u.Emails) == 1 {
		got["email"] = u.Emails[0].Value
	}
	if u.Enterprise != nil {
		got["department"] = u.Enterprise.Department
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("merged %s = %q, want %q", k, got[k], v)
		}
	}
	// A source's precedence is read as it is now.
	if _, err := s.UpdateSource(ctx(t), entra.ID, func(src *storage.Source) error { src.Precedence = 5; return nil }); err != nil {
		t.Fatalf("UpdateSource: %v", err)
	}
	mustApplyContributions(t, s, ad, upsert(contribution("a1", p, "E1", storage.User{UserName: "ann", Title: "AD title 2",
		Active: true, Enterprise: &storage.EnterpriseExt{Department: "R&D"}})))
	if u := mustGetUser(t, s, p); u.UserName != "ann@entra" || u.Owner != entra.Owner() || u.Title != "HR title" {
		t.Errorf("after entra took precedence 5: userName %q owner %q title %q; want ann@entra, %s, HR title",
			u.UserName, u.Owner, u.Title, entra.Owner())
	}
}

func testLinkVersionOnlyOnChange(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	a1 := contribution("a1", "", "E1", storage.User{UserName: "ann", Active: true})
	mustApplyContributions(t, s, ad, upsert(a1))
	p := personOf(t, s, ad, "a1")
	a1.User.ID = p
	before := mustGetUser(t, s, p)
	// hr gives only what ad already decides: the merged person is the same.
	res := mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Active: true})))
	after := mustGetUser(t, s, p)
	if res.Changed[p] || after.Meta.Version != before.Meta.Version || !after.Meta.LastModified.Equal(before.Meta.LastModified) {
		t.Errorf("a link that changes nothing: changed %v, version %d -> %d, lastModified %v -> %v; want unchanged",
			res.Changed[p], before.Meta.Version, after.Meta.Version, before.Meta.LastModified, after.Meta.LastModified)
	}
	res = mustApplyContributions(t, s, ad, upsert(a1))
	if again := mustGetUser(t, s, p); res.Changed[p] || again.Meta.Version != before.Meta.Version {
		t.Errorf("the same record again: changed %v, version %d; want %d", res.Changed[p], again.Meta.Version, before.Meta.Version)
	}
	res = mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Title: "Boss", Active: true})))
	if changed := mustGetUser(t, s, p); !res.Changed[p] || changed.Meta.Version != before.Meta.Version+1 || changed.Title != "Boss" {
		t.Errorf("a new title: changed %v, version %d, title %q; want changed, %d, Boss",
			res.Changed[p], changed.Meta.Version, changed.Title, before.Meta.Version+1)
	}
}

// testLinkDeletedSourceLoses: a contribution whose source is gone comes
// after every other in the merge.
func testLinkDeletedSourceLoses(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	p := storage.NewID()
	first := contribution("a1", p, "E1", storage.User{UserName: "ann", Title: "AD", Active: true})
	first.LinkedBy = ""
	mustApplyContributions(t, s, ad, upsert(first))
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Title: "HR", Active: true})))
	if err := s.DeleteSource(ctx(t), ad.ID); err != nil {
		t.Fatalf("DeleteSource: %v", err)
	}
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Title: "HR 2", Active: true})))
	if u := mustGetUser(t, s, p); u.UserName != "ann.hr" || u.Title != "HR 2" || u.Owner != hr.Owner() {
		t.Errorf("after ad was deleted: userName %q title %q owner %q; want hr's", u.UserName, u.Title, u.Owner)
	}
}

// testLinkAppView: a linked person is in an application's view like any
// user, and goes from it with its row when deleted, as any user does.
func testLinkAppView(t *testing.T, s storage.Store) {
	app, err := s.CreateApp(ctx(t), storage.App{Name: "crm"})
	if err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	ad := linkedSource(t, s, "ad", 10)
	p := storage.NewID()
	first := contribution("a1", p, "E1", storage.User{UserName: "ann", Active: true})
	first.LinkedBy = ""
	mustApplyContributions(t, s, ad, upsert(first))
	ms, err := s.AppMembers(ctx(t), app.ID, time.Time{})
	if err != nil || len(ms) != 1 || ms[0].UserID != p || !ms[0].Left.IsZero() {
		t.Fatalf("AppMembers after a new person: %+v, %v; want %s in view", ms, err, p)
	}
	mustApplyContributions(t, s, ad, storage.ContributionBatch{Delete: []string{"a1"}})
	ms, err = s.AppMembers(ctx(t), app.ID, time.Time{})
	if err != nil || len(ms) != 0 {
		t.Errorf("AppMembers after the person went: %+v, %v; want none", ms, err)
	}
}

// testLinkAppViewBySource: an application scoped by sources holds a
// linked person while any of them contributes, whichever owns it, even
// when the link changes nothing in the merged person; when the last of
// them leaves, so does the person, within the app's grace.
func testLinkAppViewBySource(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	app, err := s.CreateApp(ctx(t), storage.App{Name: "payroll", LeaveGraceDays: week,
		Scope: storage.AppScope{Sources: []string{hr.ID}, Owners: []string{hr.Owner()}}})
	if err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	inView := func(what, want string) {
		t.Helper()
		ms, err := s.AppMembers(ctx(t), app.ID, time.Time{})
		if err != nil {
			t.Fatalf("AppMembers: %v", err)
		}
		got := "out"
		switch {
		case len(ms) == 1 && ms[0].Left.IsZero():
			got = "in"
		case len(ms) == 1:
			got = "departed"
		}
		if got != want {
			t.Errorf("%s: in hr's view %s (%+v), want %s", what, got, ms, want)
		}
	}
	p := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Active: true})
	inView("ad's person", "out")
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Active: true})))
	if u := mustGetUser(t, s, p); u.Owner != ad.Owner() {
		t.Fatalf("owner %q, want ad's", u.Owner)
	}
	inView("linked to hr", "in")
	mustApplyContributions(t, s, hr, storage.ContributionBatch{Delete: []string{"h1"}})
	inView("after hr's record left", "departed")
}
