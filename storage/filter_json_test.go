package storage_test

import (
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

func TestExprJSONRoundTrip(t *testing.T) {
	at := storage.TimeValue("2024-05-06T07:08:09.123456789Z")
	tests := []struct {
		name string
		expr storage.Expr
	}{
		{"nil", nil},
		{"string", storage.Compare{Attr: storage.AttrTitle, Op: storage.OpSw, Value: "Account"}},
		{"bool", storage.Compare{Attr: storage.AttrActive, Op: storage.OpEq, Value: false}},
		{"number", storage.Compare{Attr: "x", Op: storage.OpGt, Value: 1.5}},
		{"time", storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGe, Value: at}},
		{"present", storage.Compare{Attr: storage.AttrTitle, Op: storage.OpPr}},
		{"logic", storage.Or{
			Left:  storage.And{Left: storage.Compare{Attr: "a", Op: storage.OpEq, Value: "1"}, Right: storage.Not{X: storage.Compare{Attr: "b", Op: storage.OpEq, Value: "2"}}},
			Right: storage.ValuePath{Attr: "emails", Filter: storage.Compare{Attr: "type", Op: storage.OpEq, Value: "work"}},
		}},
		{"simplified forms", storage.AllOf{Xs: []storage.Expr{
			storage.In{Attr: "userName", Values: []string{"a", "b"}},
			storage.AnyOf{Xs: []storage.Expr{storage.Compare{Attr: "c", Op: storage.OpCo, Value: "x"}}},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := storage.MarshalExpr(tc.expr)
			if err != nil {
				t.Fatalf("MarshalExpr: %v", err)
			}
			got, err := storage.UnmarshalExpr(data)
			if err != nil {
				t.Fatalf("UnmarshalExpr(%s): %v", data, err)
			}
			if !reflect.DeepEqual(got, tc.expr) {
				t.Errorf("round trip of %s = %#v, want %#v", data, got, tc.expr)
			}
		})
	}
}

func TestUnmarshalExprRejectsBadInput(t *testing.T) {
	for _, in := range []string{
		`{`,
		`{"k":"nope"}`,
		`{"k":"and","xs":[{"k":"cmp","a":"a","op":"eq","v":{"t":"s","r":"\"x\""}}]}`,
		`{"k":"cmp","a":"a","op":"eq","v":{"t":"t","r":"\"not a time\""}}`,
		`{"k":"cmp","a":"a","op":"eq","v":{"t":"q","r":"1"}}`,
		`{"k":"not","xs":[null]}`,
	} {
		if _, err := storage.UnmarshalExpr([]byte(in)); err == nil {
			t.Errorf("UnmarshalExpr(%s) succeeded, want an error", in)
		}
	}
	if _, err := storage.MarshalExpr(storage.Compare{Attr: "a", Op: storage.OpEq, Value: 3}); err == nil {
		t.Errorf("MarshalExpr of an int value: %v, want an error", err)
	}
}
