// Package storetest is the conformance suite every storage.Store must pass.
//
// A store's own tests call RunTests with a constructor that returns a fresh,
// empty store (and registers its cleanup with t.Cleanup):
//
//	func TestStore(t *testing.T) {
//		storetest.RunTests(t, func(t *testing.T) storage.Store { ... })
//	}
//
// Each named subtest gets its own store, so subtests never see each other's
// data. The suite uses only the standard library.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// subtest is one named conformance check run against a fresh store.
type subtest struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// RunTests runs the whole suite. newStore must return a new empty store
// each time it is called; it should close the store with t.Cleanup.
func RunTests(t *testing.T, newStore func(t *testing.T) storage.Store) {
	suites := []struct {
		name  string
		tests []subtest
	}{
		{"Users", userTests},
		{"Groups", groupTests},
		{"List", listTests},
		{"Filters", filterTests},
		{"Tokens", tokenTests},
		{"Concurrency", concurrencyTests},
		{"Cursor", cursorTests},
		{"Sources", sourceTests},
		{"Runs", runTests},
		{"Sync", syncTests},
		{"SyncGroups", syncGroupTests},
		{"Audit", auditTests},
		{"Leases", leaseTests},
		{"Identity", identityTests},
		{"Apps", appTests},
		{"AppMembers", appMemberTests},
		{"ConsoleSessions", consoleSessionTests},
		{"Links", linkTests},
	}
	for _, suite := range suites {
		t.Run(suite.name, func(t *testing.T) {
			for _, st := range suite.tests {
				t.Run(st.name, func(t *testing.T) {
					st.run(t, newStore(t))
				})
			}
		})
	}
}

// clockTest is a conformance check that moves the store's clock.
type clockTest struct {
	name string
	run  func(t *testing.T, s storage.Store, clock *testClock)
}

// RunClockTests runs the checks that need the store's clock in hand
// (applications' views: leave grace, meta as an app sees it). newStore
// must return a new empty store whose clock is now; it should close the
// store with t.Cleanup.
func RunClockTests(t *testing.T, newStore func(t *testing.T, now func() time.Time) storage.Store) {
	t.Run("AppViews", func(t *testing.T) {
		for _, ct := range appViewTests {
			t.Run(ct.name, func(t *testing.T) {
				clock := &testClock{now: viewEpoch}
				ct.run(t, newStore(t, clock.Now), clock)
			})
		}
	})
}

// ---- helpers shared by the suite ----

func ctx(t *testing.T) context.Context { return t.Context() }

// errTest is a sentinel the suite's closures and checks return, to see that
// a store hands the caller's error back.
var errTest = errors.New("storetest: injected error")

func mustCreateUser(t *testing.T, s storage.Store, u storage.User) storage.User {
	t.Helper()
	got, err := s.CreateUser(ctx(t), u)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", u.UserName, err)
	}
	return got
}

func mustGetUser(t *testing.T, s storage.Store, id string) storage.User {
	t.Helper()
	got, err := s.GetUser(ctx(t), id)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", id, err)
	}
	return got
}

func mustCreateGroup(t *testing.T, s storage.Store, g storage.Group) storage.Group {
	t.Helper()
	got, err := s.CreateGroup(ctx(t), g)
	if err != nil {
		t.Fatalf("CreateGroup(%q): %v", g.DisplayName, err)
	}
	return got
}

func mustGetGroup(t *testing.T, s storage.Store, id string, withMembers bool) storage.Group {
	t.Helper()
	got, err := s.GetGroup(ctx(t), id, withMembers)
	if err != nil {
		t.Fatalf("GetGroup(%q, %v): %v", id, withMembers, err)
	}
	return got
}

// user returns a minimal active user.
func user(userName string) storage.User {
	return storage.User{UserName: userName, Active: true}
}

// mustListUsers runs q and returns the page.
func mustListUsers(t *testing.T, s storage.Store, q storage.Query) storage.UserPage {
	t.Helper()
	page, err := s.ListUsers(ctx(t), q)
	if err != nil {
		t.Fatalf("ListUsers(%s): %v", describeQuery(q), err)
	}
	return page
}

// docUserNames decodes a page's documents and returns their userNames in
// page order. It also checks that each document carries its id and meta.
func docUserNames(t *testing.T, page storage.UserPage) []string {
	t.Helper()
	names := make([]string, 0, len(page.Users))
	for _, d := range page.Users {
		u, err := d.Decode()
		if err != nil {
			t.Fatalf("UserDoc.Decode: %v", err)
		}
		if d.ID == "" || d.Meta.Version < 1 || d.Meta.Created.IsZero() {
			t.Errorf("UserDoc for %q lacks id or meta: id=%q meta=%+v", u.UserName, d.ID, d.Meta)
		}
		names = append(names, u.UserName)
	}
	return names
}

// listUserNames returns the userNames of the page q selects and its total.
func listUserNames(t *testing.T, s storage.Store, q storage.Query) ([]string, int) {
	t.Helper()
	page := mustListUsers(t, s, q)
	return docUserNames(t, page), page.Total
}

func mustListGroups(t *testing.T, s storage.Store, q storage.Query, withMembers bool) storage.GroupPage {
	t.Helper()
	page, err := s.ListGroups(ctx(t), q, withMembers)
	if err != nil {
		t.Fatalf("ListGroups(%s): %v", describeQuery(q), err)
	}
	return page
}

func groupNames(gs []storage.Group) []string {
	names := make([]string, 0, len(gs))
	for _, g := range gs {
		names = append(names, g.DisplayName)
	}
	return names
}

// sameSet reports whether a and b hold the same strings, ignoring order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// sortedMembers returns ms ordered by Value, for order-free comparison.
func sortedMembers(ms []storage.Member) []storage.Member {
	ms = slices.Clone(ms)
	slices.SortFunc(ms, func(a, b storage.Member) int { return strings.Compare(a.Value, b.Value) })
	return ms
}

func memberValues(ms []storage.Member) []string {
	vs := make([]string, 0, len(ms))
	for _, m := range ms {
		vs = append(vs, m.Value)
	}
	return vs
}

// checkMembers compares members ignoring order.
func checkMembers(t *testing.T, what string, got, want []storage.Member) {
	t.Helper()
	g, w := sortedMembers(got), sortedMembers(want)
	if !slices.Equal(g, w) {
		t.Errorf("%s: members = %+v, want %+v", what, g, w)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want errors.Is(err, %v)", what, err, target)
	}
}

// checkFreshMeta checks the meta of a just-created resource.
func checkFreshMeta(t *testing.T, what string, m storage.Meta, before, after time.Time) {
	t.Helper()
	if m.Version != 1 {
		t.Errorf("%s: Meta.Version = %d, want 1", what, m.Version)
	}
	if m.Created.IsZero() {
		t.Errorf("%s: Meta.Created is zero", what)
	}
	if !m.Created.Equal(m.LastModified) {
		t.Errorf("%s: Meta.Created = %v, LastModified = %v, want equal", what, m.Created, m.LastModified)
	}
	if m.Created.Location() != time.UTC {
		t.Errorf("%s: Meta.Created location = %v, want UTC", what, m.Created.Location())
	}
	// Allow a second either side for stores that truncate timestamps.
	if m.Created.Before(before.Add(-time.Second)) || m.Created.After(after.Add(time.Second)) {
		t.Errorf("%s: Meta.Created = %v, want between %v and %v", what, m.Created, before, after)
	}
}

// sameMeta fails unless a and b are the same instant-for-instant.
func sameMeta(t *testing.T, what string, got, want storage.Meta) {
	t.Helper()
	if got.Version != want.Version || !got.Created.Equal(want.Created) || !got.LastModified.Equal(want.LastModified) {
		t.Errorf("%s: meta = %+v, want %+v", what, got, want)
	}
}

// describeQuery renders a query for failure messages.
func describeQuery(q storage.Query) string {
	return fmt.Sprintf("filter=%s sortBy=%q desc=%v offset=%d limit=%d",
		describeExpr(q.Filter), q.SortBy, q.Descending, q.Offset, q.Limit)
}

// describeExpr renders a filter tree in SCIM-like syntax.
func describeExpr(e storage.Expr) string {
	switch e := e.(type) {
	case nil:
		return "<nil>"
	case storage.Compare:
		if e.Op == storage.OpPr {
			return fmt.Sprintf("%s pr", e.Attr)
		}
		if tv, ok := e.Value.(time.Time); ok {
			return fmt.Sprintf("%s %s %q", e.Attr, e.Op, tv.Format(time.RFC3339Nano))
		}
		return fmt.Sprintf("%s %s %#v", e.Attr, e.Op, e.Value)
	case storage.And:
		return "(" + describeExpr(e.Left) + " and " + describeExpr(e.Right) + ")"
	case storage.Or:
		return "(" + describeExpr(e.Left) + " or " + describeExpr(e.Right) + ")"
	case storage.Not:
		return "not (" + describeExpr(e.X) + ")"
	case storage.ValuePath:
		return fmt.Sprintf("%s[%s]", e.Attr, describeExpr(e.Filter))
	default:
		return fmt.Sprintf("%#v", e)
	}
}
