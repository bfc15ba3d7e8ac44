package storage_test

import (
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

func TestSimplify(t *testing.T) {
	eq := func(a storage.Attr, v any) storage.Expr { return storage.Compare{Attr: a, Op: storage.OpEq, Value: v} }
	or := func(l, r storage.Expr) storage.Expr { return storage.Or{Left: l, Right: r} }
	and := func(l, r storage.Expr) storage.Expr { return storage.And{Left: l, Right: r} }
	not := func(x storage.Expr) storage.Expr { return storage.Not{X: x} }
	emails := func(f storage.Expr) storage.Expr { return storage.ValuePath{Attr: storage.AttrEmails, Filter: f} }
	id, un, title := storage.AttrID, storage.AttrUserName, storage.AttrTitle
	cases := []struct {
		name     string
		in, want storage.Expr
	}{
		{"eq chain becomes In", or(or(eq(id, "a"), eq(id, "b")), eq(id, "c")), storage.In{Attr: id, Values: []string{"a", "b", "c"}}},
		{"two attributes, order of first appearance", or(or(eq(un, "a"), eq(id, "1")), or(eq(un, "b"), eq(id, "2"))),
			storage.AnyOf{Xs: []storage.Expr{storage.In{Attr: un, Values: []string{"a", "b"}}, storage.In{Attr: id, Values: []string{"1", "2"}}}}},
		{"a lone eq stays a Compare", or(eq(id, "a"), eq(title, "t")), storage.AnyOf{Xs: []storage.Expr{eq(id, "a"), eq(title, "t")}}},
		{"non-string and invalid UTF-8 values stay Compares", or(eq(storage.AttrActive, true), or(eq(un, "\xff"), eq(un, "\xfe"))),
			storage.AnyOf{Xs: []storage.Expr{eq(storage.AttrActive, true), eq(un, "\xff"), eq(un, "\xfe")}}},
		{"and chain flattens", and(and(eq(un, "a"), eq(title, "t")), eq(id, "1")), storage.AllOf{Xs: []storage.Expr{eq(un, "a"), eq(title, "t"), eq(id, "1")}}},
		{"and inside or is kept", or(and(eq(un, "a"), eq(title, "t")), eq(un, "b")),
			storage.AnyOf{Xs: []storage.Expr{storage.AllOf{Xs: []storage.Expr{eq(un, "a"), eq(title, "t")}}, eq(un, "b")}}},
		{"double negation folds", not(not(eq(un, "a"))), eq(un, "a")},
		{"triple negation leaves one", not(not(not(eq(un, "a")))), not(eq(un, "a"))},
		{"a folded negation joins the chain", or(not(not(or(eq(id, "a"), eq(id, "b")))), eq(id, "c")), storage.In{Attr: id, Values: []string{"a", "b", "c"}}},
		{"value paths of one attribute merge under or", or(emails(eq(storage.SubValue, "x")), emails(eq(storage.SubValue, "y"))),
			emails(storage.In{Attr: storage.SubValue, Values: []string{"x", "y"}})},
		{"value paths under and do not merge", and(emails(eq(storage.SubValue, "x")), emails(eq(storage.SubValue, "y"))),
			storage.AllOf{Xs: []storage.Expr{emails(eq(storage.SubValue, "x")), emails(eq(storage.SubValue, "y"))}}},
	}
	for _, c := range cases {
		got, err := storage.Simplify(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v (%v)\nwant %#v", c.name, got, err, c.want)
		}
	}
}
