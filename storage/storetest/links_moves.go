package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// memberIDs returns a group's member ids, sorted.
func memberIDs(t *testing.T, s storage.Store, groupID string) []string {
	t.Helper()
	var ids []string
	for _, m := range mustGetGroup(t, s, groupID, true).Members {
		ids = append(ids, m.Value)
	}
	slices.Sort(ids)
	return ids
}

func managerID(u storage.User) string {
	if u.Enterprise == nil || u.Enterprise.Manager == nil {
		return ""
	}
	return u.Enterprise.Manager.Value
}

// newPerson writes key as the first contribution of a new person and
// returns the person's id.
func newPerson(t *testing.T, s storage.Store, src storage.Source, key, emp string, u storage.User) string {
	t.Helper()
	id := storage.NewID()
	w := contribution(key, id, emp, u)
	w.LinkedBy = ""
	mustApplyContributions(t, s, src, upsert(w))
	return id
}

// testLinkMove: a contribution that moves off a person that stays takes
// along its own source's memberships and nothing else.
func testLinkMove(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	p := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Active: true})
	mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Title: "HR", Active: true})))
	gAD := mustCreateGroup(t, s, storage.Group{DisplayName: "ad staff", Owner: ad.Owner(), Members: []storage.Member{{Value: p}}})
	gHR := mustCreateGroup(t, s, storage.Group{DisplayName: "hr staff", Owner: hr.Owner(), Members: []storage.Member{{Value: p}}})
	hrBefore := mustGetGroup(t, s, gHR.ID, false)

	r := storage.NewID()
	w := contribution("h1", r, "E2", storage.User{UserName: "ann.hr", Title: "HR", Active: true})
	w.LinkedBy = ""
	res := mustApplyContributions(t, s, hr, upsert(w))
	if !res.Changed[p] || !res.Changed[r] || len(res.Deleted) != 0 {
		t.Errorf("break: result %+v; want %s and %s changed, nobody deleted", res, p, r)
	}
	wantUserCount(t, s, 2)
	if u := mustGetUser(t, s, p); u.UserName != "ann" || u.Title != "" {
		t.Errorf("the person left behind: userName %q title %q; want ann without hr's title", u.UserName, u.Title)
	}
	if u := mustGetUser(t, s, r); u.UserName != "ann.hr" || u.Title != "HR" || u.Owner != hr.Owner() {
		t.Errorf("the new person: %+v; want hr's ann.hr", u)
	}
	if got := memberIDs(t, s, gHR.ID); !slices.Equal(got, []string{r}) {
		t.Errorf("hr's group members %v, want [%s] (they follow hr's record)", got, r)
	}
	if got := mustGetGroup(t, s, gHR.ID, false); got.Meta.Version <= hrBefore.Meta.Version {
		t.Errorf("hr's group version %d, want above %d", got.Meta.Version, hrBefore.Meta.Version)
	}
	if got := memberIDs(t, s, gAD.ID); !slices.Equal(got, []string{p}) {
		t.Errorf("ad's group members %v, want [%s]", got, p)
	}
	refs, _ := s.ContributionsOf(ctx(t), []string{p, r})
	if len(refs[p]) != 1 || refs[p][0].Key != "a1" || len(refs[r]) != 1 || refs[r][0].Key != "h1" {
		t.Errorf("ContributionsOf after the break = %+v", refs)
	}
}

// testLinkEmptiedPersonJoins: two people become one when the only
// contribution of one links to the other; every reference follows.
func testLinkEmptiedPersonJoins(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	p1 := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Active: true})
	p2 := newPerson(t, s, hr, "h1", "X", storage.User{UserName: "ann.hr", Title: "HR", Active: true})
	p3 := newPerson(t, s, ad, "a2", "E3", storage.User{UserName: "bob", Active: true,
		Enterprise: &storage.EnterpriseExt{Manager: &storage.ManagerRef{Value: p2}}})
	plain := mustCreateUser(t, s, storage.User{UserName: "carl", Active: true,
		Enterprise: &storage.EnterpriseExt{Manager: &storage.ManagerRef{Value: p2}}})
	gHR := mustCreateGroup(t, s, storage.Group{DisplayName: "hr staff", Owner: hr.Owner(), Members: []storage.Member{{Value: p2}}})
	gBoth := mustCreateGroup(t, s, storage.Group{DisplayName: "everyone", Members: []storage.Member{{Value: p1}, {Value: p2}}})

	res := mustApplyContributions(t, s, hr, upsert(contribution("h1", p1, "E1", storage.User{UserName: "ann.hr", Title: "HR", Active: true})))
	if !slices.Equal(res.Deleted, []string{p2}) || !res.Changed[p1] {
		t.Errorf("join: result %+v; want %s deleted and %s changed", res, p2, p1)
	}
	_, err := s.GetUser(ctx(t), p2)
	wantErr(t, "GetUser(the emptied person)", err, storage.ErrNotFound)
	wantUserCount(t, s, 3)
	if u := mustGetUser(t, s, p1); u.Title != "HR" || u.UserName != "ann" {
		t.Errorf("the joined person: %+v; want ann with hr's title", u)
	}
	if got := memberIDs(t, s, gHR.ID); !slices.Equal(got, []string{p1}) {
		t.Errorf("hr's group members %v, want [%s]", got, p1)
	}
	if got := memberIDs(t, s, gBoth.ID); !slices.Equal(got, []string{p1}) {
		t.Errorf("a group that had both: members %v, want [%s] once", got, p1)
	}
	if got := managerID(mustGetUser(t, s, plain.ID)); got != p1 {
		t.Errorf("a plain user's manager %q, want %q", got, p1)
	}
	if got := managerID(mustGetUser(t, s, p3)); got != p1 {
		t.Errorf("a linked person's manager %q, want %q", got, p1)
	}
}

// testLinkJoinRewritesBatchManagers: a record of the same batch that
// names the emptied person as its manager ends up managed by the person
// it joined.
func testLinkJoinRewritesBatchManagers(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	p1 := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Active: true})
	p2 := newPerson(t, s, hr, "h1", "X", storage.User{UserName: "ann.hr", Active: true})
	p3 := storage.NewID()
	report := contribution("h2", p3, "E3", storage.User{UserName: "bob", Active: true,
		Enterprise: &storage.EnterpriseExt{Manager: &storage.ManagerRef{Value: p2}}})
	report.LinkedBy = ""
	res := mustApplyContributions(t, s, hr, upsert(
		contribution("h1", p1, "E1", storage.User{UserName: "ann.hr", Active: true}), report))
	if !slices.Equal(res.Deleted, []string{p2}) {
		t.Errorf("deleted %v, want [%s]", res.Deleted, p2)
	}
	if got := managerID(mustGetUser(t, s, p3)); got != p1 {
		t.Errorf("the new report's manager %q, want %q (the person its manager joined)", got, p1)
	}
}

// testLinkRemovals: a record that leaves goes from its person while
// another source contributes, whatever the policy; a last one deactivates
// or deletes the person.
func testLinkRemovals(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	a1 := contribution("a1", "", "E1", storage.User{UserName: "ann", Active: true})
	p := newPerson(t, s, ad, "a1", "E1", a1.User)
	a1.User.ID, a1.LinkedBy = p, ""

	for _, leave := range []struct {
		name  string
		batch storage.ContributionBatch
	}{
		{"deactivated", storage.ContributionBatch{Deactivate: []string{"h1", "unknown"}}},
		{"deleted", storage.ContributionBatch{Delete: []string{"h1", "unknown"}}},
	} {
		mustApplyContributions(t, s, hr, upsert(contribution("h1", p, "E1", storage.User{UserName: "ann.hr", Title: "HR", Active: true})))
		res := mustApplyContributions(t, s, hr, leave.batch)
		if len(res.Removed) != 1 || res.Removed["h1"] != storage.RemovalLeft || len(res.Deleted) != 0 || !res.Changed[p] {
			t.Errorf("hr's record %s while ad's stays: %+v; want h1 left, %s changed, nobody deleted", leave.name, res, p)
		}
		if u := mustGetUser(t, s, p); u.Title != "" || !u.Active {
			t.Errorf("after hr's record was %s: %+v; want ann, active, without hr's title", leave.name, u)
		}
		if n, _ := s.CountContributions(ctx(t), hr.ID); n != 0 {
			t.Errorf("after hr's record was %s: hr has %d contributions, want 0", leave.name, n)
		}
	}
	res := mustApplyContributions(t, s, ad, storage.ContributionBatch{Deactivate: []string{"a1"}})
	if res.Removed["a1"] != storage.RemovalDeactivated {
		t.Errorf("the last record deactivated: %+v", res)
	}
	if u := mustGetUser(t, s, p); u.Active {
		t.Error("the person of a deactivated last contribution is active")
	}
	synced, _ := s.SyncedContributions(ctx(t), ad.ID, []string{"a1"})
	refs, _ := s.ContributionsOf(ctx(t), []string{p})
	if synced["a1"].DeactivatedAt.IsZero() || len(refs[p]) != 1 || refs[p][0].Deactivated.IsZero() {
		t.Errorf("a deactivated contribution: synced %+v, refs %+v; want it kept, deactivated", synced, refs)
	}
	mustApplyContributions(t, s, ad, upsert(a1))
	if u := mustGetUser(t, s, p); !u.Active {
		t.Error("the record came back but its person stays inactive")
	}
	res = mustApplyContributions(t, s, ad, storage.ContributionBatch{Delete: []string{"a1"}})
	if res.Removed["a1"] != storage.RemovalDeleted || !slices.Equal(res.Deleted, []string{p}) {
		t.Errorf("the last record deleted: %+v; want a1 deleted with %s", res, p)
	}
	_, err := s.GetUser(ctx(t), p)
	wantErr(t, "GetUser(a person with nothing left)", err, storage.ErrNotFound)
	if n, err := s.CountContributions(ctx(t), ad.ID); err != nil || n != 0 {
		t.Errorf("CountContributions after the last left: %d, %v", n, err)
	}
	key := storage.LinkKey{Name: "employeeId", Value: "e1"}
	if hs, err := s.LinkHolders(ctx(t), []storage.LinkKey{key}); err != nil || len(hs) != 0 {
		t.Errorf("LinkHolders after every record left: %+v, %v", hs, err)
	}
}

// testLinkConflictRollsBack: a merged userName another user holds fails
// the whole batch.
func testLinkConflictRollsBack(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	mustCreateUser(t, s, user("taken"))
	fine := contribution("a1", storage.NewID(), "E1", storage.User{UserName: "fine", Active: true})
	clash := contribution("a2", storage.NewID(), "E2", storage.User{UserName: "TAKEN", Active: true})
	_, err := s.ApplyContributions(ctx(t), ad.ID, upsert(fine, clash))
	wantErr(t, "ApplyContributions with a taken userName", err, storage.ErrConflict)
	if err == nil || !strings.Contains(err.Error(), `"TAKEN"`) {
		t.Errorf("the conflict's message %q does not name the userName", err)
	}
	twin := contribution("a3", storage.NewID(), "E3", storage.User{UserName: "Fine", Active: true})
	_, err = s.ApplyContributions(ctx(t), ad.ID, upsert(fine, twin))
	wantErr(t, "two new people with one userName", err, storage.ErrConflict)
	if n, _ := s.CountContributions(ctx(t), ad.ID); n != 0 {
		t.Errorf("%d contributions after the failed batch, want 0", n)
	}
	wantUserCount(t, s, 1)
	_, err = s.ApplyContributions(ctx(t), ad.ID, upsert(fine, fine))
	wantErr(t, "one record twice in a batch", err, storage.ErrInvalid)
}

func testLinkManagers(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	p := newPerson(t, s, ad, "a1", "E1", storage.User{UserName: "ann", Active: true})
	q := newPerson(t, s, ad, "a2", "E2", storage.User{UserName: "bob", Active: true})
	before := mustGetUser(t, s, q)
	fix := map[string]storage.ManagerFix{q: {ManagerID: p, Hash: "with-manager"}}
	if err := s.SetContributionManagers(ctx(t), ad.ID, fix); err != nil {
		t.Fatalf("SetContributionManagers: %v", err)
	}
	after := mustGetUser(t, s, q)
	if managerID(after) != p || after.Meta.Version != before.Meta.Version+1 {
		t.Errorf("manager %q version %d; want %q, %d", managerID(after), after.Meta.Version, p, before.Meta.Version+1)
	}
	if synced, _ := s.SyncedContributions(ctx(t), ad.ID, []string{"a2"}); synced["a2"].Hash != "with-manager" {
		t.Errorf("hash after SetContributionManagers: %q", synced["a2"].Hash)
	}
	if err := s.SetContributionManagers(ctx(t), ad.ID, fix); err != nil {
		t.Fatalf("SetContributionManagers again: %v", err)
	}
	if again := mustGetUser(t, s, q); again.Meta.Version != after.Meta.Version {
		t.Errorf("the same manager again moved the version to %d", again.Meta.Version)
	}
}

func testLinkEachAndCount(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	hr := linkedSource(t, s, "hr", 20)
	for _, k := range []string{"c", "a", "b"} {
		newPerson(t, s, ad, k, "E-"+k, storage.User{UserName: "user-" + k, Active: true})
	}
	var keys []string
	if err := s.EachContribution(ctx(t), ad.ID, func(u storage.SyncedUser) error {
		keys = append(keys, u.Key)
		return nil
	}); err != nil {
		t.Fatalf("EachContribution: %v", err)
	}
	if !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Errorf("EachContribution keys %v, want a b c", keys)
	}
	err := s.EachContribution(ctx(t), ad.ID, func(storage.SyncedUser) error { return errTest })
	wantErr(t, "EachContribution's callback error", err, errTest)
	for src, want := range map[*storage.Source]int{&ad: 3, &hr: 0} {
		if n, err := s.CountContributions(ctx(t), src.ID); err != nil || n != want {
			t.Errorf("CountContributions(%s) = %d, %v; want %d", src.Name, n, err, want)
		}
	}
}

// testLinkProgress: a batch's run progress commits and rolls back with it.
func testLinkProgress(t *testing.T, s storage.Store) {
	ad := linkedSource(t, s, "ad", 10)
	run := mustCreateRun(t, s, storage.Run{SourceID: ad.ID, Status: storage.RunRunning, Trigger: "manual"})
	counts := func() storage.RunCounts {
		t.Helper()
		got, err := s.GetRun(ctx(t), ad.ID, run.ID)
		if err != nil {
			t.Fatalf("GetRun: %v", err)
		}
		return got.Counts
	}
	one := storage.RunCounts{Fetched: 1, Created: 1, Linked: 1}
	b := upsert(contribution("a1", storage.NewID(), "E1", storage.User{UserName: "ann", Active: true}))
	b.Progress = &storage.RunProgress{RunID: run.ID, Counts: one}
	mustApplyContributions(t, s, ad, b)
	if got := counts(); got != one {
		t.Errorf("after a committed batch: counts %+v, want %+v", got, one)
	}
	mustCreateUser(t, s, user("taken"))
	b = upsert(contribution("a2", storage.NewID(), "E2", storage.User{UserName: "taken", Active: true}))
	b.Progress = &storage.RunProgress{RunID: run.ID, Counts: storage.RunCounts{Fetched: 2, Created: 2}}
	_, err := s.ApplyContributions(ctx(t), ad.ID, b)
	wantErr(t, "ApplyContributions taking a held userName", err, storage.ErrConflict)
	if got := counts(); got != one {
		t.Errorf("after a rolled-back batch: counts %+v, want %+v still", got, one)
	}
	b = upsert(contribution("a3", storage.NewID(), "E3", storage.User{UserName: "carol", Active: true}))
	b.Progress = &storage.RunProgress{RunID: "no-such-run", Counts: one}
	_, err = s.ApplyContributions(ctx(t), ad.ID, b)
	wantErr(t, "ApplyContributions with the progress of an unknown run", err, storage.ErrNotFound)
	if n, _ := s.CountContributions(ctx(t), ad.ID); n != 1 {
		t.Errorf("%d contributions after the write with an unknown run's progress, want 1", n)
	}
}
