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
	// Alice's manager comes batches later, and joins AD's boss.
	e.ds["hr"].SetUsers(
		sourcetest.User("h2", "alice.hr", "emp", " E2 ", "title", "Senior Engineer", "manager", "h1"),
		sourcetest.User("f1", "f1.hr"), sourcetest.User("f2", "f2.hr"), sourcetest.User("f3", "f3.hr"),
		sourcetest.User("h1", "boss.hr", "emp", "e1"))
	e.run(t, "ad")
	r := e.run(t, "hr")
	wantCounts(t, r, storage.RunCounts{Fetched: 5, Created: 3, Linked: 2})
	people := e.people(t)
	if len(people) != 6 {
		t.Fatalf("people %v, want 6 (HR links by employee id, trimmed and case-folded)", people)
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
