package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// viewModelTests are the property test of views, one subtest (and one
// fresh store) per seed: random small directories (titles, owners, active
// flags, nesting with cycles), random apps and random writes; after every
// write each app's view, read through ListUsers and ListGroups, equals the
// one computed here naively from the app's definition, the directory as
// read back unscoped, and the history of who was in view when.
func viewModelTests() []clockTest {
	var out []clockTest
	for seed := uint64(1); seed <= 6; seed++ {
		out = append(out, clockTest{fmt.Sprint("MatchesDefinition/seed", seed), func(t *testing.T, s storage.Store, clock *testClock) {
			m := &viewModel{t: t, s: s, clock: clock, rnd: rand.New(rand.NewPCG(seed, 15)), prefix: "m-"}
			m.run()
		}})
	}
	return out
}

// viewModel holds one random scenario and, per app, the membership history
// the naive definition needs: who is in view, since when, who left when.
type viewModel struct {
	t      *testing.T
	s      storage.Store
	clock  *testClock
	rnd    *rand.Rand
	prefix string // keeps each seed's names apart in the shared store
	users  []storage.User
	groups []storage.Group // with members
	apps   []storage.App
	hist   map[string]map[string]*viewHistory // app id -> user id -> history
	// gone are the users deleted outright, as they were then: they leave
	// the views as any departure does.
	gone map[string]storage.User
}

type viewHistory struct {
	in              bool
	changed, leftAt time.Time
	bumps           int64
}

var modelTitles = []string{"a", "b", ""}

func (m *viewModel) run() {
	t, s := m.t, m.s
	for i := range 7 {
		m.newUser(i)
	}
	for i := range 4 {
		mustCreateGroup(t, s, storage.Group{DisplayName: m.groupName(i), Members: m.randomMembers(nil)})
	}
	m.reload()
	m.hist = map[string]map[string]*viewHistory{}
	for i := range 4 {
		m.clock.advance(time.Minute)
		m.apps = append(m.apps, mustCreateApp(t, s, m.randomApp(i)))
		m.hist[m.apps[i].ID] = map[string]*viewHistory{}
		m.reload()
		m.record()
	}
	m.check("after the apps were created")
	for step := range 30 {
		m.clock.advance(time.Minute)
		what := m.randomWrite()
		m.reload()
		m.record()
		m.check(fmt.Sprintf("step %d (%s)", step, what))
	}
}

func (m *viewModel) groupName(i int) string { return m.prefix + "g" + fmt.Sprint(i) }

func (m *viewModel) newUser(i int) {
	u := user(fmt.Sprintf("%su%d", m.prefix, i))
	u.Title = modelTitles[m.rnd.IntN(len(modelTitles))]
	u.Owner = []string{"src-a", "src-b"}[m.rnd.IntN(2)]
	u.Active = m.rnd.IntN(4) != 0
	mustCreateUser(m.t, m.s, u)
}

// randomMembers picks a few users and groups of the model (not self).
func (m *viewModel) randomMembers(self *storage.Group) []storage.Member {
	var out []storage.Member
	for _, u := range m.users {
		if m.rnd.IntN(3) == 0 {
			out = append(out, um(u.ID))
		}
	}
	for _, g := range m.groups {
		if (self == nil || g.ID != self.ID) && m.rnd.IntN(3) == 0 {
			out = append(out, gm(g.ID))
		}
	}
	return out
}

func (m *viewModel) randomApp(i int) storage.App {
	a := storage.App{Name: fmt.Sprintf("%sapp%d", m.prefix, i), LeaveGraceDays: m.rnd.IntN(3)}
	a.Groups = []storage.GroupMode{storage.GroupsScope, storage.GroupsAll, storage.GroupsNone}[m.rnd.IntN(3)]
	a.FlattenGroups = m.rnd.IntN(2) == 0
	a.Scope.IncludeInactive = m.rnd.IntN(2) == 0
	// Scope groups by id, by displayName in another case, or one that a
	// later step creates.
	for _, g := range m.groups {
		switch m.rnd.IntN(4) {
		case 0:
			a.Scope.Groups = append(a.Scope.Groups, g.ID)
		case 1:
			a.Scope.Groups = append(a.Scope.Groups, strings.ToUpper(g.DisplayName))
		}
	}
	if m.rnd.IntN(4) == 0 {
		a.Scope.Groups = append(a.Scope.Groups, m.groupName(9))
	}
	if m.rnd.IntN(2) == 0 {
		a.Scope.FilterExpr = eq(storage.AttrTitle, "a")
		a.Scope.Filter = `title eq "a"`
	}
	if m.rnd.IntN(3) == 0 {
		a.Scope.Owners = []string{"src-a"}
	}
	return a
}

// randomWrite makes one write and says what it was.
func (m *viewModel) randomWrite() string {
	t, s := m.t, m.s
	u := m.users[m.rnd.IntN(len(m.users))]
	g := m.groups[m.rnd.IntN(len(m.groups))]
	var err error
	var what string
	switch m.rnd.IntN(8) {
	case 0, 1:
		title := modelTitles[m.rnd.IntN(len(modelTitles))]
		what = "title of " + u.UserName + " = " + title
		_, err = s.UpdateUser(ctx(t), u.ID, func(u *storage.User) error { u.Title = title; return nil })
	case 2:
		what = "toggle active of " + u.UserName
		_, err = s.UpdateUser(ctx(t), u.ID, func(u *storage.User) error { u.Active = !u.Active; return nil })
	case 3:
		add := m.randomMembers(&g)
		what = fmt.Sprintf("add %d members to %s", len(add), g.DisplayName)
		_, err = s.UpdateGroup(ctx(t), g.ID, false, func(*storage.Group) (storage.MemberChange, error) {
			return storage.MemberChange{Add: add}, nil
		})
	case 4:
		var remove []string
		for _, mem := range g.Members {
			if m.rnd.IntN(2) == 0 {
				remove = append(remove, mem.Value)
			}
		}
		what = fmt.Sprintf("remove %d members of %s", len(remove), g.DisplayName)
		_, err = s.UpdateGroup(ctx(t), g.ID, false, func(*storage.Group) (storage.MemberChange, error) {
			return storage.MemberChange{Remove: remove}, nil
		})
	case 5:
		d := time.Duration(m.rnd.IntN(3*24)) * time.Hour
		m.clock.advance(d)
		return fmt.Sprint("clock +", d)
	case 6:
		if m.rnd.IntN(2) == 0 {
			what = "new user"
			m.newUser(len(m.users) + 10)
			return what
		}
		name := m.groupName(len(m.groups) + 5) // g9 is a scope group some apps name
		what = "new group " + name
		_, err = s.CreateGroup(ctx(t), storage.Group{DisplayName: name, Members: m.randomMembers(nil)})
		if err != nil && strings.Contains(err.Error(), "conflict") {
			return what + " (exists)"
		}
	case 7:
		what = "delete " + u.UserName
		err = s.DeleteUser(ctx(t), u.ID, nil)
		if m.gone == nil {
			m.gone = map[string]storage.User{}
		}
		m.gone[u.ID] = u
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return what
}

// reload reads this seed's directory back, unscoped.
func (m *viewModel) reload() {
	t := m.t
	users := mustListUsers(t, m.s, storage.Query{Limit: 10000, Filter: storage.Compare{Attr: storage.AttrUserName, Op: storage.OpSw, Value: m.prefix}})
	m.users = m.users[:0]
	for _, d := range users.Users {
		u, err := d.Decode()
		if err != nil {
			t.Fatal(err)
		}
		m.users = append(m.users, u)
	}
	groups := mustListGroups(t, m.s, storage.Query{Limit: 10000, Filter: storage.Compare{Attr: storage.AttrDisplayName, Op: storage.OpSw, Value: m.prefix}}, true)
	m.groups = groups.Groups
}

// below returns the ids of the groups reachable from roots through
// nesting (roots included) and of the users that are members of them.
func (m *viewModel) below(roots []string) (groups, users map[string]bool) {
	groups, users = map[string]bool{}, map[string]bool{}
	byID := map[string]storage.Group{}
	for _, g := range m.groups {
		byID[g.ID] = g
	}
	queue := slices.Clone(roots)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		g, ok := byID[id]
		if !ok || groups[id] {
			continue
		}
		groups[id] = true
		for _, mem := range g.Members {
			if mem.Type == storage.MemberGroup {
				queue = append(queue, mem.Value)
			} else {
				users[mem.Value] = true
			}
		}
	}
	return groups, users
}

// scopeRoots are the groups an app's scope names, resolved now.
func (m *viewModel) scopeRoots(a storage.App) []string {
	var out []string
	for _, g := range m.groups {
		for _, name := range a.Scope.Groups {
			if name == g.ID || strings.EqualFold(name, g.DisplayName) {
				out = append(out, g.ID)
			}
		}
	}
	return out
}

// pred is the app's definition of a user in view.
func (m *viewModel) pred(a storage.App, u storage.User) bool {
	if len(a.Scope.Groups) > 0 {
		if _, users := m.below(m.scopeRoots(a)); !users[u.ID] {
			return false
		}
	}
	if a.Scope.FilterExpr != nil && u.Title != "a" {
		return false
	}
	if len(a.Scope.Owners) > 0 && !slices.Contains(a.Scope.Owners, u.Owner) {
		return false
	}
	return a.Scope.IncludeInactive || u.Active
}

// record moves every app's history to the directory as it is now.
func (m *viewModel) record() {
	now := m.clock.Now()
	for _, a := range m.apps {
		h := m.hist[a.ID]
		present := map[string]bool{}
		for _, u := range m.users {
			present[u.ID] = true
			in := m.pred(a, u)
			r := h[u.ID]
			switch {
			case r == nil && in:
				h[u.ID] = &viewHistory{in: true, changed: now, bumps: 1}
			case r != nil && r.in != in:
				r.in, r.changed, r.bumps = in, now, r.bumps+1
				if !in {
					r.leftAt = now
				}
			}
		}
		for id, r := range h {
			switch {
			case present[id]:
			case a.LeaveGraceDays == 0: // a deletion with no grace to show it in
				delete(h, id)
			case r.in: // deleted outright: a departure like any other
				r.in, r.changed, r.leftAt, r.bumps = false, now, now, r.bumps+1
			}
		}
	}
}
