package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// Long and deep filters: real clients send id eq "..." or id eq "..." with
// hundreds of terms, which a store must answer however long the chain is
// (up to storage.MaxFilterTerms), and refuse with ErrInvalid beyond it.
// The tests are listed in filterTests.

// longUsers creates n users u0000.. with externalId X0000.., title T<i%7>
// and an email u0000@long.example, and returns them in creation order.
func longUsers(t *testing.T, s storage.Store, n int) []storage.User {
	t.Helper()
	us := make([]storage.User, n)
	for i := range us {
		u := user(fmt.Sprintf("u%04d", i))
		u.ExternalID = fmt.Sprintf("X%04d", i)
		u.Title = fmt.Sprintf("T%d", i%7)
		u.Emails = []storage.MultiValue{{Value: fmt.Sprintf("u%04d@long.example", i), Type: "work"}}
		us[i] = mustCreateUser(t, s, u)
	}
	return us
}

// chain joins xs left to right with join, as a parser builds a chain.
func chain(join func(l, r storage.Expr) storage.Expr, xs []storage.Expr) storage.Expr {
	e := xs[0]
	for _, x := range xs[1:] {
		e = join(e, x)
	}
	return e
}

func checkUserNames(t *testing.T, s storage.Store, what string, f storage.Expr, want []string) {
	t.Helper()
	got, total := listUserNames(t, s, storage.Query{Filter: f, Limit: len(want) + 10})
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if total != len(want) || !slices.Equal(got, want) {
		t.Errorf("%s: got %d rows (total %d), want %d; first got %v", what, len(got), total, len(want), got[:min(5, len(got))])
	}
}

func testLongOrChains(t *testing.T, s storage.Store) {
	us := longUsers(t, s, 1020)
	picked := us[10:1010] // 1,000 users; ten on either side stay out
	var names []string
	for _, u := range picked {
		names = append(names, u.UserName)
	}
	terms := func(attr storage.Attr, v func(storage.User) string) storage.Expr {
		xs := make([]storage.Expr, len(picked))
		for i, u := range picked {
			xs[i] = cmp(attr, storage.OpEq, v(u))
		}
		return chain(or, xs)
	}
	// Each chain in the order a parser builds it and also right-nested.
	cases := []struct {
		name string
		f    storage.Expr
		want []string
	}{
		{"id", terms(storage.AttrID, func(u storage.User) string { return u.ID }), names},
		{"userName", terms(storage.AttrUserName, func(u storage.User) string { return u.UserName }), names},
		// userName is case-insensitive in a long chain as in a single eq.
		{"userName other case", terms(storage.AttrUserName, func(u storage.User) string { return strings.ToUpper(u.UserName) }), names},
		{"externalId", terms(storage.AttrExternalID, func(u storage.User) string { return u.ExternalID }), names},
		// externalId is case-exact: x0010 is not X0010.
		{"externalId other case", terms(storage.AttrExternalID, func(u storage.User) string { return strings.ToLower(u.ExternalID) }), nil},
		{"emails", terms(storage.AttrEmails, func(u storage.User) string { return u.Emails[0].Value }), names},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkUserNames(t, s, c.name, c.f, c.want) })
	}
	t.Run("right-nested ids", func(t *testing.T) {
		var f storage.Expr
		for i := len(picked) - 1; i >= 0; i-- {
			x := cmp(storage.AttrID, storage.OpEq, picked[i].ID)
			if f == nil {
				f = x
			} else {
				f = or(x, f)
			}
		}
		checkUserNames(t, s, "right-nested", f, names)
	})
}

func testLongMixedChains(t *testing.T, s storage.Store) {
	us := longUsers(t, s, 120)
	name := func(i int) string { return us[i].UserName }
	// 200 terms: (userName eq u_i and title eq T_(i%7)) or ... for i < 100;
	// every pair matches its user.
	var pairs []storage.Expr
	var want []string
	for i := range 100 {
		pairs = append(pairs, and(cmp(storage.AttrUserName, storage.OpEq, name(i)), cmp(storage.AttrTitle, storage.OpEq, us[i].Title)))
		want = append(want, name(i))
	}
	checkUserNames(t, s, "100 and-pairs joined by or", chain(or, pairs), want)

	// 200 terms alternating attributes, so no IN can take them all.
	var mixed []storage.Expr
	want = nil
	for i := range 200 {
		k := i % 120
		switch i % 4 {
		case 0:
			mixed = append(mixed, cmp(storage.AttrID, storage.OpEq, us[k].ID))
		case 1:
			mixed = append(mixed, cmp(storage.AttrUserName, storage.OpSw, name(k)))
		case 2:
			mixed = append(mixed, emails(value(storage.OpEq, us[k].Emails[0].Value)))
		case 3:
			mixed = append(mixed, and(cmp(storage.AttrExternalID, storage.OpEq, us[k].ExternalID), pr(storage.AttrTitle)))
		}
		if !slices.Contains(want, name(k)) {
			want = append(want, name(k))
		}
	}
	checkUserNames(t, s, "200 mixed terms joined by or", chain(or, mixed), want)

	// 200 terms joined by and: every user but the 100 named.
	var nes []storage.Expr
	want = nil
	for i := range 200 {
		nes = append(nes, cmp(storage.AttrUserName, storage.OpNe, name(i%100)))
	}
	for i := 100; i < 120; i++ {
		want = append(want, name(i))
	}
	checkUserNames(t, s, "200 ne terms joined by and", chain(and, nes), want)
}

func testDeepNot(t *testing.T, s storage.Store) {
	us := longUsers(t, s, 40)
	var all []string
	for _, u := range us {
		all = append(all, u.UserName)
	}
	x := cmp(storage.AttrUserName, storage.OpEq, us[0].UserName)
	nots := func(n int) storage.Expr {
		e := x
		for range n {
			e = not(e)
		}
		return e
	}
	checkUserNames(t, s, "30 nested not", nots(30), all[:1])
	checkUserNames(t, s, "31 nested not", nots(31), all[1:])

	// not(not(f) and userName ne u_k) is f or userName eq u_k: nested 30
	// times, 60 negations that do not cancel, it selects u0..u30.
	f := x
	for k := 1; k <= 30; k++ {
		f = not(and(not(f), cmp(storage.AttrUserName, storage.OpNe, us[k].UserName)))
	}
	checkUserNames(t, s, "30 levels of not(not(f) and ...)", f, all[:31])
}

func testTooManyTerms(t *testing.T, s storage.Store) {
	xs := make([]storage.Expr, storage.MaxFilterTerms+1)
	for i := range xs {
		xs[i] = cmp(storage.AttrUserName, storage.OpEq, fmt.Sprintf("nobody%d", i))
	}
	_, err := s.ListUsers(ctx(t), storage.Query{Filter: chain(or, xs), Limit: 10})
	if !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("ListUsers with %d terms: err = %v, want ErrInvalid", len(xs), err)
	}
	// A tree too deep to walk safely is refused, not walked.
	e := cmp(storage.AttrUserName, storage.OpEq, "x")
	for range 100_000 {
		e = not(e)
	}
	if _, err := s.ListUsers(ctx(t), storage.Query{Filter: e, Limit: 10}); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("ListUsers with 100,000 nested not: err = %v, want ErrInvalid", err)
	}
	for i := range xs {
		xs[i] = cmp(storage.AttrDisplayName, storage.OpEq, fmt.Sprintf("nobody%d", i))
	}
	if _, err := s.ListGroups(ctx(t), storage.Query{Filter: chain(or, xs), Limit: 10}, false); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("ListGroups with %d terms: err = %v, want ErrInvalid", len(xs), err)
	}
}
