package storetest

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// testLinkAdoptOwned: a plain source's users become its contributions,
// keeping their ids, documents and versions.
func testLinkAdoptOwned(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	ann := storage.User{ID: storage.NewID(), UserName: "ann", Title: "Engineer", Active: true}
	bob := storage.User{ID: storage.NewID(), UserName: "bob", Active: true,
		Enterprise: &storage.EnterpriseExt{Manager: &storage.ManagerRef{Value: ann.ID}}}
	if err := s.ApplyUsers(ctx(t), ad.Owner(), storage.UserBatch{Create: []storage.UserWrite{
		{User: ann, Key: "k-ann", Hash: "h1"}, {User: bob, Key: "k-bob", Hash: "h2"}}}); err != nil {
		t.Fatalf("ApplyUsers: %v", err)
	}
	before := mustGetUser(t, s, bob.ID)
	n, err := s.AdoptOwned(ctx(t), ad.ID)
	if err != nil || n != 2 {
		t.Fatalf("AdoptOwned = %d, %v; want 2", n, err)
	}
	if synced, _ := s.SyncedUsers(ctx(t), ad.Owner(), []string{"k-ann", "k-bob"}); len(synced) != 0 {
		t.Errorf("SyncedUsers after adoption: %+v; want none (they are contributions now)", synced)
	}
	synced, err := s.SyncedContributions(ctx(t), ad.ID, []string{"k-ann", "k-bob"})
	if err != nil || synced["k-ann"].ID != ann.ID || synced["k-bob"].ID != bob.ID || synced["k-bob"].Hash != "h2" ||
		synced["k-ann"].UserName != "ann" {
		t.Errorf("SyncedContributions after adoption: %+v, %v", synced, err)
	}
	if again, err := s.AdoptOwned(ctx(t), ad.ID); err != nil || again != 0 {
		t.Errorf("AdoptOwned again = %d, %v; want 0", again, err)
	}
	if u := mustGetUser(t, s, bob.ID); u.Meta.Version != before.Meta.Version || managerID(u) != ann.ID {
		t.Errorf("after adoption: version %d manager %q; want %d, %s", u.Meta.Version, managerID(u), before.Meta.Version, ann.ID)
	}
	// The record written again, now with its link keys, is the same person.
	res := mustApplyContributions(t, s, ad, upsert(contribution("k-bob", bob.ID, "E2", bob)))
	if u := mustGetUser(t, s, bob.ID); res.Changed[bob.ID] || u.Meta.Version != before.Meta.Version {
		t.Errorf("the adopted record rewritten unchanged: changed %v, version %d; want %d", res.Changed, u.Meta.Version, before.Meta.Version)
	}
}

func testLinkProvenance(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20, "title")
	p := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Title: "AD", Active: true})
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Title: "HR",
		DisplayName: "Ann", Active: true})))
	got, err := s.Provenance(ctx(t), p)
	if err != nil {
		t.Fatalf("Provenance: %v", err)
	}
	wantContribs := []storage.ContributionInfo{{Source: ad.ID, Key: "a1"}, {Source: hr.ID, Key: "h1", LinkedBy: "employeeId"}}
	slices.SortFunc(wantContribs, func(a, b storage.ContributionInfo) int { return strings.Compare(a.Source, b.Source) })
	if got.UserID != p || !slices.Equal(got.Contributions, wantContribs) {
		t.Errorf("Provenance contributions %+v, want %+v", got.Contributions, wantContribs)
	}
	want := map[string]string{"userName": ad.ID, "active": ad.ID, "title": hr.ID, "displayName": hr.ID}
	if !maps.Equal(got.Attributes, want) {
		t.Errorf("Provenance attributes %v, want %v", got.Attributes, want)
	}
	plain := mustCreateUser(t, s, storage.User{UserName: "carl", Title: "x", Owner: "token-1", Active: true})
	got, err = s.Provenance(ctx(t), plain.ID)
	want = map[string]string{"userName": "token-1", "active": "token-1", "title": "token-1"}
	if err != nil || len(got.Contributions) != 1 || got.Contributions[0].Source != "token-1" || !maps.Equal(got.Attributes, want) {
		t.Errorf("Provenance of a plain user: %+v, %v; want one entry, token-1, and every attribute from it", got, err)
	}
	_, err = s.Provenance(ctx(t), storage.NewID())
	wantErr(t, "Provenance(unknown)", err, storage.ErrNotFound)
}

func testLinkUnlink(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	p := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Active: true})
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Title: "HR", Active: true})))
	gHR := mustCreateGroup(t, s, storage.Group{DisplayName: "hr staff", Owner: hr.Owner(), Members: []storage.Member{{Value: p}}})
	gAD := mustCreateGroup(t, s, storage.Group{DisplayName: "ad staff", Owner: ad.Owner(), Members: []storage.Member{{Value: p}}})

	r, err := s.Unlink(ctx(t), p, hr.ID)
	if err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	if r.ID == "" || r.ID == p || r.UserName != "ann.hr" || r.Title != "HR" || r.Owner != hr.Owner() {
		t.Errorf("Unlink returned %+v; want a new person, hr's ann.hr", r)
	}
	wantUserCount(t, s, 2)
	if u := mustGetUser(t, s, p); u.UserName != "ann" || u.Title != "" {
		t.Errorf("the person left: %+v; want ad's ann without hr's title", u)
	}
	holders, _ := s.LinkHolders(ctx(t), []storage.LinkKey{{Name: "employeeId", Value: "e1"}})
	apart := map[string][]string{}
	for _, h := range holders[storage.LinkKey{Name: "employeeId", Value: "e1"}] {
		apart[h.Source+"/"+h.UserID] = h.ApartFrom
	}
	if len(apart) != 2 || !slices.Equal(apart[hr.ID+"/"+r.ID], []string{p}) || len(apart[ad.ID+"/"+p]) != 0 {
		t.Errorf("LinkHolders after Unlink: %+v; want hr's on %s apart from %s", holders, r.ID, p)
	}
	if got := memberIDs(t, s, gHR.ID); !slices.Equal(got, []string{r.ID}) {
		t.Errorf("hr's group after Unlink: %v, want [%s]", got, r.ID)
	}
	if got := memberIDs(t, s, gAD.ID); !slices.Equal(got, []string{p}) {
		t.Errorf("ad's group after Unlink: %v, want [%s]", got, p)
	}
	// The split holds when the record is written again.
	mustApplyContributions(t, s, hr, upsert(contribution("h1", r.ID, "E1", storage.User{UserName: "ann.hr", Title: "HR", Active: true})))
	if refs, _ := s.ContributionsOf(ctx(t), []string{r.ID}); len(refs[r.ID]) != 1 || !slices.Equal(refs[r.ID][0].ApartFrom, []string{p}) {
		t.Errorf("after hr's next write: %+v; want it still apart from %s", refs, p)
	}
	_, err = s.Unlink(ctx(t), p, hr.ID)
	wantErr(t, "Unlink of a source that no longer contributes", err, storage.ErrNotFound)
	_, err = s.Unlink(ctx(t), p, ad.ID)
	wantErr(t, "Unlink of the only contribution", err, storage.ErrConflict)
	_, err = s.Unlink(ctx(t), storage.NewID(), ad.ID)
	wantErr(t, "Unlink of an unknown user", err, storage.ErrNotFound)
}

// testLinkUnlinkSameUserName: a split that would leave two users with one
// userName changes nothing.
func testLinkUnlinkSameUserName(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	p := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Active: true})
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "Ann", Active: true})))
	_, err := s.Unlink(ctx(t), p, hr.ID)
	wantErr(t, "Unlink leaving two users named ann", err, storage.ErrConflict)
	wantUserCount(t, s, 1)
	if refs, _ := s.ContributionsOf(ctx(t), []string{p}); len(refs[p]) != 2 {
		t.Errorf("after the failed Unlink: %+v; want both contributions on %s", refs, p)
	}
}

// testLinkDeleteUserDropsContributions: a person deleted by hand takes its
// contributions along, so the sources' next runs make it anew.
func testLinkDeleteUserDropsContributions(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	p := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Active: true})
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Active: true})))
	other := newPerson(t, s, ad, "a2", "E2", storage.User{UserName: "bob", Active: true})
	if err := s.DeleteUser(ctx(t), p, nil); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, src := range []storage.Source{ad, hr} {
		if got, err := s.SyncedContributions(ctx(t), src.ID, []string{"a1", "h1"}); err != nil || len(got) != 0 {
			t.Errorf("%s's contributions of the deleted person: %+v, %v; want none", src.Name, got, err)
		}
	}
	if hs, _ := s.LinkHolders(ctx(t), []storage.LinkKey{{Name: "employeeId", Value: "e1"}}); len(hs) != 0 {
		t.Errorf("LinkHolders of the deleted person's key: %+v; want none", hs)
	}
	if refs, _ := s.ContributionsOf(ctx(t), []string{other}); len(refs[other]) != 1 {
		t.Errorf("another person's contributions: %+v; want its one", refs)
	}
}
