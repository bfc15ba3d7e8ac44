package storetest

import (
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// identityTests check that case-insensitive values (userName, emails, a
// group's displayName) are one value whatever their Unicode form and case,
// the same on every database: uniqueness and eq, co, sw, ew filters compare
// the NFC form, lower-cased beyond ASCII.
var identityTests = []subtest{
	{"UserNameUnicodeForms", testUserNameUnicodeForms},
	{"UserNameFilterFolding", testUserNameFilterFolding},
	{"GroupNameUnicodeForms", testGroupNameUnicodeForms},
}

const (
	decomposedJose = "jose\u0301@example.com" // e + combining acute
	composedJose   = "JOS\u00c9@EXAMPLE.COM"  // É as one code point
)

func testUserNameUnicodeForms(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, user(decomposedJose))
	for _, name := range []string{composedJose, "jos\u00e9@example.com", "JOSE\u0301@example.com"} {
		_, err := s.CreateUser(ctx(t), user(name))
		wantErr(t, "CreateUser("+name+") with "+decomposedJose+" taken", err, storage.ErrConflict)
	}
	// Non-ASCII upper and lower case are one name too (SQLite's NOCASE
	// folds only ASCII).
	mustCreateUser(t, s, user("\u00c5SA@example.com"))
	_, err := s.CreateUser(ctx(t), user("\u00e5sa@example.com"))
	wantErr(t, "CreateUser(åsa) with ÅSA taken", err, storage.ErrConflict)
}

func testUserNameFilterFolding(t *testing.T, s storage.Store) {
	mustCreateUser(t, s, user(decomposedJose))
	mustCreateUser(t, s, user("k@example.com"))
	mustCreateUser(t, s, user("\u00c5SA@example.com"))
	mustCreateUser(t, s, user("other@example.com"))
	cases := []struct {
		op    storage.Op
		value string
		want  []string
	}{
		{storage.OpEq, composedJose, []string{decomposedJose}},
		{storage.OpEq, "jos\u00e9@example.com", []string{decomposedJose}},
		{storage.OpSw, "JOS\u00c9", []string{decomposedJose}},
		{storage.OpCo, "\u00e9@", []string{decomposedJose}},
		{storage.OpEw, "\u00c9@example.com", []string{decomposedJose}},
		{storage.OpEq, "\u212a@EXAMPLE.COM", []string{"k@example.com"}}, // Kelvin sign is canonically K
		{storage.OpEq, "K@EXAMPLE.COM", []string{"k@example.com"}},
		{storage.OpEq, "\u00e5sa@example.com", []string{"\u00c5SA@example.com"}},
		{storage.OpSw, "\u00e5s", []string{"\u00c5SA@example.com"}},
	}
	// A chain of eq terms (which a store may run as one IN) folds as one
	// eq does.
	eq := func(v string) storage.Expr {
		return storage.Compare{Attr: storage.AttrUserName, Op: storage.OpEq, Value: v}
	}
	chain := storage.Or{Left: storage.Or{Left: eq("JOSE\u0301@EXAMPLE.COM"), Right: eq("\u212a@example.com")}, Right: eq("nobody@example.com")}
	got, total := listUserNames(t, s, storage.Query{Filter: chain, Limit: 10})
	if want := []string{decomposedJose, "k@example.com"}; total != 2 || !sameSet(got, want) {
		t.Errorf("userName eq chain: got %q (total %d), want %q", got, total, want)
	}
	for _, c := range cases {
		q := storage.Query{Filter: storage.Compare{Attr: storage.AttrUserName, Op: c.op, Value: c.value}, Limit: 10}
		got, total := listUserNames(t, s, q)
		if total != len(c.want) || !sameSet(got, c.want) {
			t.Errorf("userName %s %q: got %q (total %d), want %q", c.op, c.value, got, total, c.want)
		}
	}
}

func testGroupNameUnicodeForms(t *testing.T, s storage.Store) {
	mustCreateGroup(t, s, storage.Group{Owner: "scim:hr", DisplayName: "Caf\u0065\u0301"})
	_, err := s.CreateGroup(ctx(t), storage.Group{Owner: "scim:hr", DisplayName: "CAF\u00c9"})
	wantErr(t, "CreateGroup(CAFÉ) with Café taken", err, storage.ErrConflict)
	page := mustListGroups(t, s, storage.Query{Filter: storage.Compare{Attr: storage.AttrDisplayName, Op: storage.OpEq, Value: "caf\u00e9"}}, false)
	if page.Total != 1 {
		t.Errorf("displayName eq café: total %d, want 1", page.Total)
	}
}
