package scim_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func TestAppAttributes(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{name: "empty allows all", in: nil, want: nil},
		{name: "canonical spelling", in: []string{"USERNAME", "Name.GivenName", "emails"},
			want: []string{"userName", "name.givenName", "emails"}},
		{name: "enterprise attribute", in: []string{strings.ToUpper(enterpriseURN) + ":DEPARTMENT"},
			want: []string{enterpriseURN + ":department"}},
		{name: "enterprise sub-attribute", in: []string{enterpriseURN + ":manager.value"},
			want: []string{enterpriseURN + ":manager.value"}},
		{name: "whole extension", in: []string{enterpriseURN}, want: []string{enterpriseURN}},
		{name: "core urn prefix", in: []string{"urn:ietf:params:scim:schemas:core:2.0:User:title"}, want: []string{"title"}},
		{name: "duplicates dropped", in: []string{"title", "TITLE", "userName"}, want: []string{"title", "userName"}},
		{name: "implied attributes kept", in: []string{"id", "meta"}, want: []string{"id", "meta"}},
		{name: "unknown attribute", in: []string{"userName", "shoeSize"}, wantErr: `"shoeSize"`},
		{name: "unknown sub-attribute", in: []string{"name.nickname"}, wantErr: `"name.nickname"`},
		{name: "sub-attribute of a simple attribute", in: []string{"title.x"}, wantErr: `"title.x"`},
		{name: "unknown schema", in: []string{"urn:example:foo:bar"}, wantErr: "unknown schema"},
		{name: "enterprise attribute without urn", in: []string{"department"}, wantErr: `"department"`},
		{name: "password", in: []string{"password"}, wantErr: "never returned"},
		{name: "blank", in: []string{" "}, wantErr: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scim.AppAttributes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompileUserFilter(t *testing.T) {
	tests := []struct {
		filter  string
		want    storage.Expr
		wantErr string
	}{
		{filter: `title sw "Account"`, want: storage.Compare{Attr: storage.AttrTitle, Op: storage.OpSw, Value: "Account"}},
		{filter: enterpriseURN + `:department eq "Sales"`, want: storage.Compare{Attr: storage.AttrDepartment, Op: storage.OpEq, Value: "Sales"}},
		{filter: `title sw`, wantErr: "not valid SCIM filter syntax"},
		{filter: `shoeSize eq "9"`, wantErr: "shoeSize"},
		{filter: ``, wantErr: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			got, err := scim.CompileUserFilter(tc.filter)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}
