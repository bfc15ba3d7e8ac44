package engine_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// linkStep is one step of a linking scenario: replace the datasets it
// names, do what else it says, run one source fully, and check the run
// and the directory.
type linkStep struct {
	users  map[string][]sources.UserRecord // by source
	do     func(t *testing.T, e *linkEnv)
	run    string
	dryRun bool
	status storage.RunStatus // succeeded unless set
	counts storage.RunCounts
	// shape, when set, is the directory as sets of records (linkEnv.shape).
	shape []string
	// logs are parts of the details the change log has for an action.
	logs map[string][]string
	// check looks at anything else; ids are the people's ids by userName
	// as they were before the step.
	check func(t *testing.T, e *linkEnv, ids map[string]string)
}

func users(recs ...sources.UserRecord) []sources.UserRecord { return recs }

func u(key, userName string, attrs ...string) sources.UserRecord {
	return sourcetest.User(key, userName, attrs...)
}

// setSource changes a stored source's settings.
func setSource(name string, change func(*storage.Source)) func(t *testing.T, e *linkEnv) {
	return func(t *testing.T, e *linkEnv) {
		t.Helper()
		src, err := e.store.UpdateSource(context.Background(), e.src[name].ID, func(s *storage.Source) error {
			change(s)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.src[name] = src
	}
}

func TestLinkRules(t *testing.T) {
	byEmp := map[string]string{"employeeId": "{emp}"}
	twoSources := []linkSource{
		{name: "ad", precedence: 10, link: byEmp},
		{name: "hr", precedence: 30, link: byEmp},
	}
	adABCD := users(u("a", "alice@ad", "emp", "7"), u("b", "bob@ad", "emp", "8"), u("c", "carol@ad", "emp", "9"), u("d", "dan@ad", "emp", "10"))
	tests := []struct {
		name    string
		sources []linkSource
		steps   []linkStep
	}{
		{name: "conflicts: a record matching two people, two records of one source on a key",
			sources: []linkSource{
				{name: "ad", precedence: 10, link: map[string]string{"anchor": "{anchor}"}},
				{name: "hr", precedence: 30, link: byEmp},
				{name: "okta", precedence: 20, link: map[string]string{"anchor": "{anchor}", "employeeId": "{emp}"}},
			},
			steps: []linkStep{
				{users: map[string][]sources.UserRecord{"ad": users(u("a1", "a1@ad", "anchor", "X"))}, run: "ad", counts: storage.RunCounts{Fetched: 1, Created: 1}},
				{users: map[string][]sources.UserRecord{"hr": users(u("h1", "h1@hr", "emp", "E"))}, run: "hr", counts: storage.RunCounts{Fetched: 1, Created: 1}},
				{users: map[string][]sources.UserRecord{"okta": users(
					u("o1", "o1@okta", "anchor", "x", "emp", "e"), u("o2", "o2@okta", "anchor", "Y"), u("o3", "o3@okta", "anchor", "y"))},
					run: "okta", counts: storage.RunCounts{Fetched: 3, Created: 3, Conflicts: 2},
					shape: []string{"ad/a1", "hr/h1", "okta/o1", "okta/o2", "okta/o3"},
					logs:  map[string][]string{storage.ChangeConflict: {"2 people", `record "o2" of this source has the same anchor`}},
					check: func(t *testing.T, e *linkEnv, ids map[string]string) {
						all := strings.Join(details(e.changesOf(t, lastRun(t, e, "okta"), storage.ChangeConflict)), "\n")
						if !strings.Contains(all, ids["a1@ad"]) || !strings.Contains(all, ids["h1@hr"]) {
							t.Errorf("conflicts %s: want both people named, %s and %s", all, ids["a1@ad"], ids["h1@hr"])
						}
					}},
				// The conflict stays one: the two records of okta on Y conflict on every run.
				{run: "okta", counts: storage.RunCounts{Fetched: 3, Unchanged: 3, Conflicts: 3},
					shape: []string{"ad/a1", "hr/h1", "okta/o1", "okta/o2", "okta/o3"}},
			}},
		{name: "a userName held by another person is a conflict, never a takeover",
			sources: []linkSource{{name: "ad", precedence: 10, link: byEmp}, {name: "hr", precedence: 5, link: byEmp}},
			steps: []linkStep{
				{users: map[string][]sources.UserRecord{"ad": users(u("a", "alice@corp", "emp", "7"))}, run: "ad"},
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "ALICE@corp", "emp", "8"))}, run: "hr",
					counts: storage.RunCounts{Fetched: 1, Conflicts: 1}, shape: []string{"ad/a"},
					logs: map[string][]string{storage.ChangeConflict: {"userName is held by another person"}}},
				// Once linked, the record's userName wins the person (precedence 5).
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "ALICE@corp", "emp", "7"))}, run: "hr",
					counts: storage.RunCounts{Fetched: 1, Linked: 1}, shape: []string{"ad/a+hr/h"},
					check: func(t *testing.T, e *linkEnv, ids map[string]string) {
						if p := e.people(t)["ALICE@corp"].user; p.ID != ids["alice@corp"] {
							t.Errorf("person %s (%s), want %s under HR's userName", p.ID, p.UserName, ids["alice@corp"])
						}
					}},
			}},
		{name: "a key that stops matching breaks the link",
			sources: twoSources,
			steps: []linkStep{
				{users: map[string][]sources.UserRecord{"ad": adABCD[:2]}, run: "ad", counts: storage.RunCounts{Fetched: 2, Created: 2}},
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "emp", "7", "title", "Analyst"))}, run: "hr",
					counts: storage.RunCounts{Fetched: 1, Linked: 1}, shape: []string{"ad/a+hr/h", "ad/b"},
					logs: map[string][]string{storage.ChangeLink: {"linked by employeeId"}}},
				// Bob's employee id now: it leaves alice for bob, and takes its title along.
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "emp", "8", "title", "Analyst"))}, run: "hr",
					counts: storage.RunCounts{Fetched: 1, Unlinked: 1}, shape: []string{"ad/a", "ad/b+hr/h"},
					logs: map[string][]string{storage.ChangeUnlink: {"link key employeeId no longer matches"}},
					check: func(t *testing.T, e *linkEnv, ids map[string]string) {
						un := e.changesOf(t, lastRun(t, e, "hr"), storage.ChangeUnlink)
						if len(un) != 1 || !strings.Contains(un[0].Detail, ids["alice@ad"]) {
							t.Errorf("unlink %+v: want it to name alice %s", un, ids["alice@ad"])
						}
						if p := e.people(t); p["alice@ad"].user.Title != "" || p["bob@ad"].user.Title != "Analyst" {
							t.Errorf("titles alice %q bob %q: HR's title goes with its record", p["alice@ad"].user.Title, p["bob@ad"].user.Title)
						}
					}},
				// No employee id at all: a person of its own.
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "title", "Analyst"))}, run: "hr",
					counts: storage.RunCounts{Fetched: 1, Unlinked: 1}, shape: []string{"ad/a", "ad/b", "hr/h"},
					logs: map[string][]string{storage.ChangeUnlink: {"a person of its own"}}},
			}},
		{name: "two people that later share a key are one, the older id kept, its group memberships moved",
			sources: twoSources,
			steps: []linkStep{
				{users: map[string][]sources.UserRecord{"ad": adABCD[:1]}, run: "ad"},
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "title", "Analyst"))},
					do:  func(t *testing.T, e *linkEnv) { e.ds["hr"].SetGroups(sourcetest.Group("g", "Analysts", "h")) },
					run: "hr", counts: storage.RunCounts{Fetched: 2, Created: 2}, shape: []string{"ad/a", "hr/h"}},
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "emp", "7", "title", "Analyst"))}, run: "hr",
					counts: storage.RunCounts{Fetched: 2, Linked: 1, Unchanged: 1}, shape: []string{"ad/a+hr/h"},
					check: func(t *testing.T, e *linkEnv, ids map[string]string) {
						older, newer := ids["alice@ad"], ids["alice@hr"]
						if p := e.people(t)["alice@ad"].user; p.ID != older || p.Title != "Analyst" {
							t.Errorf("person %s title %q, want %s with HR's title", p.ID, p.Title, older)
						}
						if _, err := e.store.GetUser(context.Background(), newer); err == nil {
							t.Errorf("the newer person %s is still there", newer)
						}
						if g := groupByName(t, e, "Analysts"); len(g.Members) != 1 || g.Members[0].Value != older {
							t.Errorf("group members %+v, want the person %s", g.Members, older)
						}
					}},
			}},
		{name: "an unlink by hand holds on later runs",
			sources: twoSources,
			steps: []linkStep{
				{users: map[string][]sources.UserRecord{"ad": adABCD[:1]}, run: "ad"},
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "emp", "7"))}, run: "hr", shape: []string{"ad/a+hr/h"},
					counts: storage.RunCounts{Fetched: 1, Linked: 1}},
				{do: func(t *testing.T, e *linkEnv) {
					if _, err := e.store.Unlink(context.Background(), e.people(t)["alice@ad"].user.ID, e.src["hr"].ID); err != nil {
						t.Fatal(err)
					}
				}, run: "hr", counts: storage.RunCounts{Fetched: 1, Unchanged: 1}, shape: []string{"ad/a", "hr/h"}},
				{run: "ad", counts: storage.RunCounts{Fetched: 1, Unchanged: 1}, shape: []string{"ad/a", "hr/h"}},
				{run: "hr", counts: storage.RunCounts{Fetched: 1, Unchanged: 1}, shape: []string{"ad/a", "hr/h"},
					check: func(t *testing.T, e *linkEnv, ids map[string]string) {
						if p := e.people(t); p["alice@ad"].user.ID != ids["alice@ad"] || p["alice@hr"].user.ID != ids["alice@hr"] {
							t.Errorf("ids changed: %v, were %v", p, ids)
						}
					}},
			}},
		{name: "a dry run shows the links it would make and break, and the leaves, writing nothing",
			sources: twoSources,
			steps: []linkStep{
				{users: map[string][]sources.UserRecord{"ad": adABCD}, run: "ad"},
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "emp", "7"), u("h2", "bob@hr", "emp", "8"))}, run: "hr",
					shape: []string{"ad/a+hr/h", "ad/b+hr/h2", "ad/c", "ad/d"}},
				// h moves from alice to carol, h2 leaves bob, h3 joins dan.
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "emp", "9"), u("h3", "dan@hr", "emp", "10"))}, run: "hr", dryRun: true,
					counts: storage.RunCounts{Fetched: 2, Linked: 1, Unlinked: 1, Left: 1},
					shape:  []string{"ad/a+hr/h", "ad/b+hr/h2", "ad/c", "ad/d"},
					logs: map[string][]string{storage.ChangeLink: {"linked by employeeId"}, storage.ChangeUnlink: {"no longer matches"},
						storage.ChangeLeave: {""}}},
				{run: "hr", counts: storage.RunCounts{Fetched: 2, Linked: 1, Unlinked: 1, Left: 1},
					shape: []string{"ad/a", "ad/b", "ad/c+hr/h", "ad/d+hr/h3"}},
			}},
		{name: "a plain source that starts linking keeps its users; a changed link setting rewrites its records",
			sources: []linkSource{{name: "ad", precedence: 10, link: byEmp}, {name: "hr", precedence: 30}},
			steps: []linkStep{
				{users: map[string][]sources.UserRecord{"ad": adABCD[:2]}, run: "ad"},
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "emp", "7", "badge", "8"))}, run: "hr",
					counts: storage.RunCounts{Fetched: 1, Created: 1}},
				{do: setSource("hr", func(s *storage.Source) { s.Link = byEmp }), run: "hr",
					counts: storage.RunCounts{Fetched: 1, Linked: 1}, shape: []string{"ad/a+hr/h", "ad/b"},
					check: func(t *testing.T, e *linkEnv, ids map[string]string) {
						if p := e.people(t)["alice@ad"].user.ID; p != ids["alice@ad"] {
							t.Errorf("alice is %s, was %s", p, ids["alice@ad"])
						}
					}},
				{do: setSource("hr", func(s *storage.Source) { s.Link = map[string]string{"employeeId": "{badge}"} }), run: "hr",
					counts: storage.RunCounts{Fetched: 1, Unlinked: 1}, shape: []string{"ad/a", "ad/b+hr/h"}},
			}},
		{name: "a changed authoritative list takes effect on the next full run",
			sources: twoSources,
			steps: []linkStep{
				{users: map[string][]sources.UserRecord{"ad": users(u("a", "alice@ad", "emp", "7", "title", "Engineer"))}, run: "ad"},
				{users: map[string][]sources.UserRecord{"hr": users(u("h", "alice@hr", "emp", "7", "title", "Senior Engineer"))}, run: "hr",
					check: wantTitle("alice@ad", "Engineer")},
				{do: setSource("hr", func(s *storage.Source) { s.Authoritative = []string{"title"} }), run: "hr",
					counts: storage.RunCounts{Fetched: 1, Updated: 1}, check: wantTitle("alice@ad", "Senior Engineer")},
				{run: "hr", counts: storage.RunCounts{Fetched: 1, Unchanged: 1}},
			}},
	}
	for _, backend := range linkBackends {
		for _, tt := range tests {
			t.Run(backend.name+"/"+tt.name, func(t *testing.T) {
				runLinkSteps(t, newLinkEnvOn(t, backend.dsn(t), tt.sources...), tt.steps)
			})
		}
	}
}

// runLinkSteps runs a scenario's steps and checks each.
func runLinkSteps(t *testing.T, e *linkEnv, steps []linkStep) {
	t.Helper()
	for i, st := range steps {
		ids := map[string]string{}
		for name, p := range e.people(t) {
			ids[name] = p.user.ID
		}
		for name, recs := range st.users {
			e.ds[name].SetUsers(recs...)
		}
		if st.do != nil {
			st.do(t, e)
		}
		r := e.env(st.run).run(t, engine.Trigger{Full: true, DryRun: st.dryRun})
		want := st.status
		if want == "" {
			want = storage.RunSucceeded
		}
		wantStatus(t, r, want)
		if st.counts != (storage.RunCounts{}) {
			wantCounts(t, r, st.counts)
		}
		if got := e.shape(t); st.shape != nil && !reflect.DeepEqual(got, st.shape) {
			t.Errorf("step %d (%s): people %v, want %v", i, st.run, got, st.shape)
		}
		for action, parts := range st.logs {
			all := strings.Join(details(e.changesOf(t, r, action)), "\n")
			for _, part := range parts {
				if len(e.changesOf(t, r, action)) == 0 || !strings.Contains(all, part) {
					t.Errorf("step %d (%s): %s entries %q, want one saying %q", i, st.run, action, all, part)
				}
			}
		}
		if st.check != nil {
			st.check(t, e, ids)
		}
	}
}

func details(cs []storage.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Key + ": " + c.Detail
	}
	return out
}

// lastRun is the latest run of a source.
func lastRun(t *testing.T, e *linkEnv, name string) storage.Run {
	t.Helper()
	runs, err := e.store.ListRuns(context.Background(), e.src[name].ID, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs of %s: %v %v", name, runs, err)
	}
	return runs[0]
}

func wantTitle(userName, title string) func(t *testing.T, e *linkEnv, ids map[string]string) {
	return func(t *testing.T, e *linkEnv, _ map[string]string) {
		t.Helper()
		if got := e.people(t)[userName].user.Title; got != title {
			t.Errorf("%s's title %q, want %q", userName, got, title)
		}
	}
}
