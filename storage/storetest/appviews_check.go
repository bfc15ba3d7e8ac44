package storetest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// check compares every app's view with the naive one.
func (m *viewModel) check(step string) {
	m.t.Helper()
	for _, a := range m.apps {
		m.checkUsers(step, a)
		m.checkGroups(step, a)
	}
}

// visible returns the history of a user the app sees now (in view or
// within grace), or nil.
func (m *viewModel) visible(a storage.App, userID string) *viewHistory {
	r := m.hist[a.ID][userID]
	cutoff := m.clock.Now().Add(-time.Duration(a.LeaveGraceDays) * 24 * time.Hour)
	if r == nil || (!r.in && !r.leftAt.After(cutoff)) {
		return nil
	}
	return r
}

func (m *viewModel) inView(a storage.App, userID string) bool {
	r := m.hist[a.ID][userID]
	return r != nil && r.in
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (m *viewModel) checkUsers(step string, a storage.App) {
	t := m.t
	t.Helper()
	want := map[string]string{}
	active := 0
	users := slices.Clone(m.users)
	for _, u := range m.gone {
		users = append(users, u)
	}
	for _, u := range users {
		r := m.visible(a, u.ID)
		switch {
		case r == nil:
		case r.in:
			want[u.ID] = fmt.Sprintf("%s in lastModified=%s version=%d", u.UserName,
				laterOf(u.Meta.LastModified, r.changed).Format(time.RFC3339Nano), u.Meta.Version+r.bumps)
			if u.Active {
				active++
			}
		default:
			want[u.ID] = fmt.Sprintf("%s departed lastModified=%s version=%d", u.UserName,
				r.leftAt.Format(time.RFC3339Nano), u.Meta.Version+r.bumps)
		}
	}
	page := mustListUsers(t, m.s, storage.Query{View: a.ID, Limit: 10000})
	got := map[string]string{}
	for _, d := range page.Users {
		u, err := d.Decode()
		if err != nil {
			t.Fatal(err)
		}
		state := "in"
		if d.Departed {
			state = "departed"
		}
		got[d.ID] = fmt.Sprintf("%s %s lastModified=%s version=%d", u.UserName, state,
			d.Meta.LastModified.Format(time.RFC3339Nano), d.Meta.Version)
	}
	if diff := mapDiff(got, want); diff != "" || page.Total != len(want) {
		t.Errorf("%s: users of %s (total %d, want %d):\n%s", step, describeApp(a), page.Total, len(want), diff)
	}
	if n := viewTotal(t, m.s, storage.Query{View: a.ID, Filter: eq(storage.AttrActive, true)}); n != active {
		t.Errorf("%s: active users of %s: %d, want %d", step, describeApp(a), n, active)
	}
}

// wantGroups are the ids of the groups in the app's view.
func (m *viewModel) wantGroups(a storage.App) map[string]bool {
	out := map[string]bool{}
	switch {
	case a.Groups == storage.GroupsNone:
	case a.Groups == storage.GroupsAll:
		for _, g := range m.groups {
			_, users := m.below([]string{g.ID})
			for id := range users {
				if m.inView(a, id) {
					out[g.ID] = true
				}
			}
		}
	case len(a.Scope.Groups) == 0:
		for _, g := range m.groups {
			out[g.ID] = true
		}
	default:
		out, _ = m.below(m.scopeRoots(a))
	}
	return out
}

func (m *viewModel) checkGroups(step string, a storage.App) {
	t := m.t
	t.Helper()
	inView := m.wantGroups(a)
	want := map[string]string{}
	for _, g := range m.groups {
		if !inView[g.ID] {
			continue
		}
		var members, metaUsers []string
		if a.FlattenGroups {
			_, users := m.below([]string{g.ID})
			for id := range users {
				metaUsers = append(metaUsers, id)
				if m.inView(a, id) {
					members = append(members, "user "+id)
				}
			}
		} else {
			for _, mem := range g.Members {
				switch {
				case mem.Type == storage.MemberUser:
					metaUsers = append(metaUsers, mem.Value)
					if m.inView(a, mem.Value) {
						members = append(members, "user "+mem.Value)
					}
				case inView[mem.Value]:
					members = append(members, "group "+mem.Value)
				}
			}
		}
		lm, version := g.Meta.LastModified, g.Meta.Version
		for _, id := range metaUsers {
			if r := m.visible(a, id); r != nil {
				lm, version = laterOf(lm, r.changed), version+r.bumps+1
			}
		}
		want[g.ID] = describeViewGroup(g.DisplayName, lm, version, members)
	}
	page := mustListGroups(t, m.s, storage.Query{View: a.ID, Limit: 10000}, true)
	got := map[string]string{}
	for _, g := range page.Groups {
		var members []string
		for _, mem := range g.Members {
			members = append(members, strings.ToLower(mem.Type)+" "+mem.Value)
		}
		got[g.ID] = describeViewGroup(g.DisplayName, g.Meta.LastModified, g.Meta.Version, members)
	}
	if diff := mapDiff(got, want); diff != "" || page.Total != len(want) {
		t.Errorf("%s: groups of %s (total %d, want %d):\n%s", step, describeApp(a), page.Total, len(want), diff)
	}
}

func describeViewGroup(name string, lm time.Time, version int64, members []string) string {
	slices.Sort(members)
	return fmt.Sprintf("%s lastModified=%s version=%d members=%v", name, lm.Format(time.RFC3339Nano), version, members)
}

func describeApp(a storage.App) string {
	return fmt.Sprintf("app %s{groups=%v filter=%q owners=%v inactive=%v mode=%s flatten=%v grace=%d}",
		a.Name, a.Scope.Groups, a.Scope.Filter, a.Scope.Owners, a.Scope.IncludeInactive, a.Groups, a.FlattenGroups, a.LeaveGraceDays)
}

// mapDiff lists the entries on which got and want differ.
func mapDiff(got, want map[string]string) string {
	var lines []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			lines = append(lines, "  missing: "+w)
		} else if g != w {
			lines = append(lines, "  got:     "+g+"\n  want:    "+w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, "  extra:   "+g)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
