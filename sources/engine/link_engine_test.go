package engine_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

const managerPath = storage.EnterpriseSchema + ":manager"

// The hybrid tenant of issue 18: AD, Entra tied to it by the anchor, an
// HR file tied by the employee id and authoritative for titles and
// managers.
func hybrid(t *testing.T) *linkEnv {
	return newLinkEnv(t,
		linkSource{name: "ad", precedence: 10, link: map[string]string{"anchor": "{guid|guid}", "employeeId": "{emp}"}},
		linkSource{name: "entra", precedence: 20, link: map[string]string{"anchor": "{immutable|guid}"}},
		linkSource{name: "hr", precedence: 30, link: map[string]string{"employeeId": "{emp}"},
			authoritative: []string{"title", managerPath}},
	)
}

// The AD objectGUIDs and their base64 form, as Entra's
// onPremisesImmutableId carries them.
const (
	guidAlice = "0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7"
	guidBob   = "11223344-5566-7788-99aa-bbccddeeff00"
)

func immutableID(t *testing.T, guid string) string {
	t.Helper()
	// The guid filter reads Microsoft's byte order: the first three
	// groups little-endian.
	b, err := hex.DecodeString(strings.ReplaceAll(guid, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("bad guid %q", guid)
	}
	for _, r := range [][2]int{{0, 3}, {1, 2}, {4, 5}, {6, 7}} {
		b[r[0]], b[r[1]] = b[r[1]], b[r[0]]
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestLinkAnchorJoinsTwoSources(t *testing.T) {
	e := hybrid(t)
	e.ds["ad"].SetUsers(
		sourcetest.User("ad-1", "alice@corp.example", "guid", guidAlice, "displayName", "Alice A."),
		sourcetest.User("ad-2", "bob@corp.example", "guid", guidBob))
	e.ds["entra"].SetUsers(
		sourcetest.User("en-1", "alice@corp.onmicrosoft.com", "immutable", immutableID(t, guidAlice), "title", "Engineer", "displayName", "Alice Entra"),
		sourcetest.User("en-9", "cloud@corp.onmicrosoft.com")) // cloud only
	wantCounts(t, e.run(t, "ad"), storage.RunCounts{Fetched: 2, Created: 2})
	r := e.run(t, "entra")
	wantCounts(t, r, storage.RunCounts{Fetched: 2, Created: 1, Linked: 1})
	people := e.people(t)
	if len(people) != 3 {
		t.Fatalf("people %v, want alice, bob and the cloud-only user", people)
	}
	alice := people["alice@corp.example"]
	if want := []string{"ad/ad-1", "entra/en-1"}; !reflect.DeepEqual(alice.records, want) {
		t.Errorf("alice's records %v, want %v", alice.records, want)
	}
	// AD wins what it has (precedence 10); Entra gives what AD lacks.
	if alice.user.DisplayName != "Alice A." || alice.user.Title != "Engineer" {
		t.Errorf("alice displayName %q title %q, want AD's name and Entra's title", alice.user.DisplayName, alice.user.Title)
	}
	links := e.changesOf(t, r, storage.ChangeLink)
	if len(links) != 1 || links[0].Key != "en-1" || links[0].ResourceID != alice.user.ID || !strings.Contains(links[0].Detail, "anchor") {
		t.Errorf("link entries %+v, want en-1 linked by anchor to %s", links, alice.user.ID)
	}
	// Run again: nothing changes, the person keeps its id, version and
	// lastModified.
	wantCounts(t, e.run(t, "ad"), storage.RunCounts{Fetched: 2, Unchanged: 2})
	wantCounts(t, e.run(t, "entra"), storage.RunCounts{Fetched: 2, Unchanged: 2})
	again := e.people(t)["alice@corp.example"].user
	if again.ID != alice.user.ID || again.Meta.Version != alice.user.Meta.Version || !again.Meta.LastModified.Equal(alice.user.Meta.LastModified) {
		t.Errorf("after runs that change nothing: %s v%v %v, was %s v%v %v", again.ID, again.Meta.Version, again.Meta.LastModified,
			alice.user.ID, alice.user.Meta.Version, alice.user.Meta.LastModified)
	}
}

func TestLinkHRAuthoritativeForTitleAndManager(t *testing.T) {
	e := hybrid(t)
	e.ds["ad"].SetUsers(
		sourcetest.User("ad-boss", "boss@corp.example", "emp", "E1", "title", "Director"),
		sourcetest.User("ad-other", "other@corp.example", "emp", "E3"),
		sourcetest.User("ad-alice", "alice@corp.example", "emp", "E2", "title", "Engineer", "manager", "ad-other"))
	e.ds["hr"].SetUsers(
		sourcetest.User("h1", "boss.hr", "emp", "e1"),
		sourcetest.User("h2", "alice.hr", "emp", " E2 ", "title", "Senior Engineer", "manager", "h1"))
	e.run(t, "ad")
	r := e.run(t, "hr")
	wantCounts(t, r, storage.RunCounts{Fetched: 2, Linked: 2})
	people := e.people(t)
	if len(people) != 3 {
		t.Fatalf("people %v, want 3 (HR links by employee id, trimmed and case-folded)", people)
	}
	alice, boss := people["alice@corp.example"].user, people["boss@corp.example"].user
	if alice.Title != "Senior Engineer" {
		t.Errorf("alice's title %q, want HR's (authoritative)", alice.Title)
	}
	if alice.Enterprise == nil || alice.Enterprise.Manager == nil || alice.Enterprise.Manager.Value != boss.ID {
		t.Errorf("alice's manager %+v, want HR's: the boss %s", alice.Enterprise, boss.ID)
	}
	if boss.Title != "Director" {
		t.Errorf("boss's title %q, want AD's (HR has none)", boss.Title)
	}
	prov, err := e.store.Provenance(context.Background(), alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if prov.Attributes["title"] != e.src["hr"].ID || prov.Attributes["userName"] != e.src["ad"].ID {
		t.Errorf("provenance %v: want title from hr, userName from ad", prov.Attributes)
	}
}

func TestLinkPersonLeavesSourcesOneByOne(t *testing.T) {
	for _, pol := range []string{storage.PolicyDeactivate, storage.PolicyDelete} {
		t.Run(pol, func(t *testing.T) {
			del := storage.DeletionPolicy{Policy: pol}
			e := newLinkEnv(t,
				linkSource{name: "ad", precedence: 10, link: map[string]string{"employeeId": "{emp}"}, deletion: del},
				linkSource{name: "entra", precedence: 20, link: map[string]string{"employeeId": "{emp}"}, deletion: del},
				linkSource{name: "hr", precedence: 30, link: map[string]string{"employeeId": "{emp}"}, deletion: del})
			e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "emp", "7", "title", "AD title"))
			e.ds["entra"].SetUsers(sourcetest.User("n", "alice@entra", "emp", "7", "title", "Entra title", "department", "Cloud"))
			e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "7", "department", "HR dept"))
			for _, s := range []string{"hr", "entra", "ad"} {
				e.run(t, s)
			}
			p := e.people(t)["alice@ad"]
			if len(p.records) != 3 || p.user.Title != "AD title" || p.user.Enterprise.Department != "Cloud" {
				t.Fatalf("person %+v (%v), want the three records merged", p.user, p.records)
			}
			id := p.user.ID
			type step struct {
				source   string
				counts   storage.RunCounts
				userName string // "" when the person is gone
				active   bool
				title    string
			}
			// The last one out follows the policy.
			last := step{"hr", storage.RunCounts{Deactivated: 1}, "alice@hr", false, ""}
			if pol == storage.PolicyDelete {
				last = step{"hr", storage.RunCounts{Deleted: 1}, "", false, ""}
			}
			steps := []step{
				{"ad", storage.RunCounts{Left: 1}, "alice@entra", true, "Entra title"},
				{"entra", storage.RunCounts{Left: 1}, "alice@hr", true, ""},
				last,
			}
			for _, st := range steps {
				e.ds[st.source].SetUsers()
				r := e.run(t, st.source)
				wantCounts(t, r, st.counts)
				u, err := e.store.GetUser(context.Background(), id)
				if st.userName == "" {
					if err == nil {
						t.Errorf("after %s left: the person is still there: %+v", st.source, u)
					}
					continue
				}
				if err != nil {
					t.Fatalf("after %s left: %v", st.source, err)
				}
				if u.UserName != st.userName || u.Active != st.active || u.Title != st.title {
					t.Errorf("after %s left: %s active=%v title %q, want %s active=%v title %q",
						st.source, u.UserName, u.Active, u.Title, st.userName, st.active, st.title)
				}
				if st.counts.Left == 1 && len(e.changesOf(t, r, storage.ChangeLeave)) != 1 {
					t.Errorf("after %s left: change log %+v, want one leave", st.source, e.changes(t, r))
				}
			}
		})
	}
}

func TestLinkConflicts(t *testing.T) {
	e := newLinkEnv(t,
		linkSource{name: "ad", precedence: 10, link: map[string]string{"anchor": "{anchor}"}},
		linkSource{name: "hr", precedence: 30, link: map[string]string{"employeeId": "{emp}"}},
		linkSource{name: "okta", precedence: 20, link: map[string]string{"anchor": "{anchor}", "employeeId": "{emp}"}})
	e.ds["ad"].SetUsers(sourcetest.User("a1", "a1@ad", "anchor", "X"))
	e.ds["hr"].SetUsers(sourcetest.User("h1", "h1@hr", "emp", "E"))
	// o1 points at two people; o2 and o3 are two records of one source on
	// one key.
	e.ds["okta"].SetUsers(
		sourcetest.User("o1", "o1@okta", "anchor", "x", "emp", "e"),
		sourcetest.User("o2", "o2@okta", "anchor", "Y"),
		sourcetest.User("o3", "o3@okta", "anchor", "y"))
	e.run(t, "ad")
	e.run(t, "hr")
	r := e.run(t, "okta")
	wantCounts(t, r, storage.RunCounts{Fetched: 3, Created: 3, Conflicts: 2})
	people := e.people(t)
	ad, hr := people["a1@ad"].user.ID, people["h1@hr"].user.ID
	var details []string
	for _, c := range e.changesOf(t, r, storage.ChangeConflict) {
		details = append(details, c.Key+": "+c.Detail)
	}
	joined := strings.Join(details, "\n")
	if !strings.Contains(joined, ad) || !strings.Contains(joined, hr) || !strings.Contains(joined, `"o2"`) {
		t.Errorf("conflicts:\n%s\nwant o1's naming %s and %s, and o3's naming o2", joined, ad, hr)
	}
	want := []string{"ad/a1", "hr/h1", "okta/o1", "okta/o2", "okta/o3"}
	if got := e.shape(t); !reflect.DeepEqual(got, want) {
		t.Errorf("people %v, want %v: nothing merged", got, want)
	}
}

func TestLinkBreaksWhenKeyStopsMatching(t *testing.T) {
	e := hybrid(t)
	e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "emp", "7"), sourcetest.User("b", "bob@ad", "emp", "8"))
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "7", "title", "Analyst"))
	e.run(t, "ad")
	e.run(t, "hr")
	if got, want := e.shape(t), []string{"ad/a+hr/h", "ad/b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("people %v, want %v", got, want)
	}
	alice := e.people(t)["alice@ad"].user.ID
	// HR's record now carries bob's employee id: it leaves alice for bob.
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "8", "title", "Analyst"))
	r := e.run(t, "hr")
	wantCounts(t, r, storage.RunCounts{Fetched: 1, Unlinked: 1})
	if got, want := e.shape(t), []string{"ad/a", "ad/b+hr/h"}; !reflect.DeepEqual(got, want) {
		t.Errorf("people %v, want %v", got, want)
	}
	un := e.changesOf(t, r, storage.ChangeUnlink)
	if len(un) != 1 || !strings.Contains(un[0].Detail, "employeeId") || !strings.Contains(un[0].Detail, alice) {
		t.Errorf("unlink entries %+v, want one saying employeeId no longer matches %s", un, alice)
	}
	if a := e.people(t)["alice@ad"].user; a.Title != "" {
		t.Errorf("alice's title %q: HR's title left with its record", a.Title)
	}
	// No employee id at all: a person of its own.
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "title", "Analyst"))
	wantCounts(t, e.run(t, "hr"), storage.RunCounts{Fetched: 1, Unlinked: 1})
	if got, want := e.shape(t), []string{"ad/a", "ad/b", "hr/h"}; !reflect.DeepEqual(got, want) {
		t.Errorf("people %v, want %v", got, want)
	}
}

func TestLinkTwoPeopleLaterShareAKey(t *testing.T) {
	e := hybrid(t)
	e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "emp", "7"))
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "title", "Analyst")) // no employee id yet
	e.ds["hr"].SetGroups(sourcetest.Group("g", "Analysts", "h"))
	e.run(t, "ad")
	e.now = e.now.Add(1)
	e.run(t, "hr")
	people := e.people(t)
	older, newer := people["alice@ad"].user.ID, people["alice@hr"].user.ID
	// HR learns the employee id: its person joins AD's, the older one.
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "7", "title", "Analyst"))
	wantCounts(t, e.run(t, "hr"), storage.RunCounts{Fetched: 2, Linked: 1, Unchanged: 1})
	people = e.people(t)
	if len(people) != 1 || people["alice@ad"].user.ID != older || people["alice@ad"].user.Title != "Analyst" {
		t.Fatalf("people %+v, want one: %s with HR's title", people, older)
	}
	if _, err := e.store.GetUser(context.Background(), newer); err == nil {
		t.Errorf("the newer person %s is still there", newer)
	}
	g := groupByName(t, e, "Analysts")
	if len(g.Members) != 1 || g.Members[0].Value != older {
		t.Errorf("group members %+v, want the person %s", g.Members, older)
	}
}

func TestLinkUnlinkHolds(t *testing.T) {
	e := hybrid(t)
	e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "emp", "7"))
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "7"))
	e.run(t, "ad")
	e.run(t, "hr")
	p := e.people(t)["alice@ad"].user.ID
	split, err := e.store.Unlink(context.Background(), p, e.src["hr"].ID)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for _, s := range []string{"hr", "ad"} {
			r := e.run(t, s)
			if r.Counts.Linked+r.Counts.Unlinked != 0 {
				t.Errorf("run of %s after the unlink: %+v, want no links made or broken", s, r.Counts)
			}
		}
	}
	people := e.people(t)
	if got, want := e.shape(t), []string{"ad/a", "hr/h"}; !reflect.DeepEqual(got, want) {
		t.Errorf("people %v, want %v: the split holds", got, want)
	}
	if people["alice@hr"].user.ID != split.ID || people["alice@ad"].user.ID != p {
		t.Errorf("ids %s, %s; want %s (kept) and %s (split)", people["alice@ad"].user.ID, people["alice@hr"].user.ID, p, split.ID)
	}
}

func TestLinkGuardCountsPeople(t *testing.T) {
	guard := storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 20}
	tests := []struct {
		name   string
		keep   int // HR records kept of the 10 that link to AD's people
		extra  int // HR-only people, all removed
		status storage.RunStatus
		counts storage.RunCounts
	}{
		{"leaves do not count", 0, 1, storage.RunSucceeded, storage.RunCounts{Fetched: 0, Left: 10, Deactivated: 1}},
		{"people removed count", 10, 3, storage.RunHeld, storage.RunCounts{Fetched: 10, Unchanged: 10, Pending: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLinkEnv(t,
				linkSource{name: "ad", precedence: 10, link: map[string]string{"employeeId": "{emp}"}},
				linkSource{name: "hr", precedence: 30, link: map[string]string{"employeeId": "{emp}"}, deletion: guard})
			var ad, hr []sources.UserRecord
			for i := range 10 {
				ad = append(ad, sourcetest.User(fmt.Sprintf("a%d", i), fmt.Sprintf("u%d@ad", i), "emp", fmt.Sprint(i)))
				hr = append(hr, sourcetest.User(fmt.Sprintf("h%d", i), fmt.Sprintf("u%d@hr", i), "emp", fmt.Sprint(i)))
			}
			for i := range tt.extra {
				hr = append(hr, sourcetest.User(fmt.Sprintf("x%d", i), fmt.Sprintf("x%d@hr", i)))
			}
			e.ds["ad"].SetUsers(ad...)
			e.ds["hr"].SetUsers(hr...)
			e.run(t, "ad")
			e.run(t, "hr")
			e.ds["hr"].SetUsers(hr[:tt.keep]...)
			r := e.env("hr").run(t, engine.Trigger{Full: true})
			wantStatus(t, r, tt.status)
			wantCounts(t, r, tt.counts)
			if r.Status != storage.RunHeld {
				return
			}
			approved, err := e.runner.Approve(context.Background(), e.src["hr"].ID, r.ID, "admin")
			if err != nil {
				t.Fatal(err)
			}
			if approved.Counts.Deactivated != tt.extra {
				t.Errorf("approved run %+v, want the %d HR-only people deactivated", approved.Counts, tt.extra)
			}
			for name, p := range e.people(t) {
				if p.user.Active != !strings.HasPrefix(name, "x") {
					t.Errorf("%s active=%v after the approval", name, p.user.Active)
				}
			}
		})
	}
}

func TestLinkDryRun(t *testing.T) {
	e := hybrid(t)
	e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "emp", "7"), sourcetest.User("b", "bob@ad", "emp", "8"),
		sourcetest.User("c", "carol@ad", "emp", "9"), sourcetest.User("d", "dan@ad", "emp", "10"))
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "7"), sourcetest.User("h2", "bob@hr", "emp", "8"))
	e.run(t, "ad")
	e.run(t, "hr")
	before := e.shape(t)
	// HR: h moves from alice to carol, h2 leaves bob, h3 joins dan.
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "9"), sourcetest.User("h3", "dan@hr", "emp", "10"))
	r := e.env("hr").run(t, engine.Trigger{Full: true, DryRun: true})
	wantStatus(t, r, storage.RunSucceeded)
	wantCounts(t, r, storage.RunCounts{Fetched: 2, Linked: 1, Unlinked: 1, Left: 1})
	for _, action := range []string{storage.ChangeLink, storage.ChangeUnlink, storage.ChangeLeave} {
		if len(e.changesOf(t, r, action)) != 1 {
			t.Errorf("dry run change log %+v: want one %s", e.changes(t, r), action)
		}
	}
	if got := e.shape(t); !reflect.DeepEqual(got, before) {
		t.Errorf("a dry run changed the directory: %v, was %v", got, before)
	}
}

func TestLinkGroupMembersArePeople(t *testing.T) {
	e := hybrid(t)
	e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "guid", guidAlice))
	e.ds["entra"].SetUsers(sourcetest.User("n", "alice@entra", "immutable", immutableID(t, guidAlice)), sourcetest.User("m", "mo@entra"))
	e.ds["entra"].SetGroups(sourcetest.Group("g", "Cloud team", "n", "m"))
	e.ds["ad"].SetGroups(sourcetest.Group("g", "AD team", "a"))
	e.run(t, "ad")
	e.run(t, "entra")
	people := e.people(t)
	alice, mo := people["alice@ad"].user.ID, people["mo@entra"].user.ID
	for name, want := range map[string][]string{"Cloud team": {alice, mo}, "AD team": {alice}} {
		g := groupByName(t, e, name)
		var got []string
		for _, m := range g.Members {
			got = append(got, m.Value)
		}
		if !sameSet(got, want) {
			t.Errorf("%s members %v, want %v", name, got, want)
		}
	}
}

func groupByName(t *testing.T, e *linkEnv, name string) storage.Group {
	t.Helper()
	page, err := e.store.ListGroups(context.Background(), storage.Query{Limit: 100}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range page.Groups {
		if d.DisplayName == name {
			return d
		}
	}
	t.Fatalf("no group %q", name)
	return storage.Group{}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// A plain source that starts linking keeps its users' ids (AdoptOwned);
// a changed link setting rewrites every record on the next full run.
func TestLinkSettingChanges(t *testing.T) {
	e := newLinkEnv(t,
		linkSource{name: "ad", precedence: 10, link: map[string]string{"employeeId": "{emp}"}},
		linkSource{name: "hr", precedence: 30})
	e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "emp", "7"), sourcetest.User("b", "bob@ad", "emp", "8"))
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "7", "badge", "8"))
	e.run(t, "ad")
	e.run(t, "hr") // plain: a user of its own
	plain := e.people(t)["alice@hr"].user.ID
	setLink := func(link map[string]string) {
		t.Helper()
		src, err := e.store.UpdateSource(context.Background(), e.src["hr"].ID, func(s *storage.Source) error {
			s.Link = link
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.src["hr"] = src
	}
	setLink(map[string]string{"employeeId": "{emp}"})
	r := e.run(t, "hr")
	wantCounts(t, r, storage.RunCounts{Fetched: 1, Linked: 1})
	people := e.people(t)
	if got, want := e.shape(t), []string{"ad/a+hr/h", "ad/b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("people %v, want %v", got, want)
	}
	if _, err := e.store.GetUser(context.Background(), plain); err == nil {
		t.Errorf("the adopted user %s should have joined alice %s", plain, people["alice@ad"].user.ID)
	}
	// The key now reads another attribute: the record moves to bob.
	setLink(map[string]string{"employeeId": "{badge}"})
	wantCounts(t, e.run(t, "hr"), storage.RunCounts{Fetched: 1, Unlinked: 1})
	if got, want := e.shape(t), []string{"ad/a", "ad/b+hr/h"}; !reflect.DeepEqual(got, want) {
		t.Errorf("people %v, want %v", got, want)
	}
}

// A delta's explicit deletions leave a person the way absences do.
func TestLinkDeltaDeletionLeaves(t *testing.T) {
	e := hybrid(t)
	e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "emp", "7"))
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "7", "title", "Analyst"), sourcetest.User("x", "x@hr"))
	e.run(t, "ad")
	e.run(t, "hr")
	e.ds["hr"].SetUsers()
	e.ds["hr"].SetDelta(true, sources.Deletion{Kind: sources.KindUser, Key: "h"}, sources.Deletion{Kind: sources.KindUser, Key: "x"})
	r := e.env("hr").run(t, engine.Trigger{})
	wantStatus(t, r, storage.RunSucceeded)
	wantCounts(t, r, storage.RunCounts{Left: 1, Deactivated: 1})
	people := e.people(t)
	if a := people["alice@ad"]; len(a.records) != 1 || !a.user.Active || a.user.Title != "" {
		t.Errorf("alice %+v %v, want AD's record alone, active, without HR's title", a.user, a.records)
	}
	if x := people["x@hr"]; x.user.Active {
		t.Errorf("x is still active: HR was its only source")
	}
}

// A changed authoritative list takes effect on the source's next full
// run: its records are rewritten and their people recomputed.
func TestLinkAuthoritativeChangeTakesEffect(t *testing.T) {
	e := newLinkEnv(t,
		linkSource{name: "ad", precedence: 10, link: map[string]string{"employeeId": "{emp}"}},
		linkSource{name: "hr", precedence: 30, link: map[string]string{"employeeId": "{emp}"}})
	e.ds["ad"].SetUsers(sourcetest.User("a", "alice@ad", "emp", "7", "title", "Engineer"))
	e.ds["hr"].SetUsers(sourcetest.User("h", "alice@hr", "emp", "7", "title", "Senior Engineer"))
	e.run(t, "ad")
	e.run(t, "hr")
	if got := e.people(t)["alice@ad"].user.Title; got != "Engineer" {
		t.Fatalf("title %q, want AD's by precedence", got)
	}
	src, err := e.store.UpdateSource(context.Background(), e.src["hr"].ID, func(s *storage.Source) error {
		s.Authoritative = []string{"title"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.src["hr"] = src
	wantCounts(t, e.run(t, "hr"), storage.RunCounts{Fetched: 1, Updated: 1})
	if got := e.people(t)["alice@ad"].user.Title; got != "Senior Engineer" {
		t.Errorf("title %q, want HR's now that it is authoritative", got)
	}
	wantCounts(t, e.run(t, "hr"), storage.RunCounts{Fetched: 1, Unchanged: 1})
}
