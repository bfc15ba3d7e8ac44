package storage_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

func TestMergeUser(t *testing.T) {
	const mgr = storage.EnterpriseSchema + ":manager"
	ad := storage.User{UserName: "alice@corp", Title: "Engineer", Active: true,
		Emails:     []storage.MultiValue{{Value: "alice@corp", Primary: true}},
		Enterprise: &storage.EnterpriseExt{Department: "R&D"}}
	entra := storage.User{UserName: "alice@tenant", DisplayName: "Alice A", Active: false,
		Emails: []storage.MultiValue{{Value: "a@tenant"}, {Value: "alice@tenant"}}}
	hr := storage.User{UserName: "E100", Title: "Staff Engineer", Active: true,
		Enterprise: &storage.EnterpriseExt{EmployeeNumber: "100", Manager: &storage.ManagerRef{Value: "boss"}}}
	tests := []struct {
		name       string
		in         []storage.MergeInput
		wantUser   string
		wantTitle  string
		wantActive bool
		wantFrom   map[string]string
	}{
		{name: "lowest precedence with a value wins each attribute",
			in: []storage.MergeInput{
				{Source: "entra", Precedence: 20, Record: &entra},
				{Source: "ad", Precedence: 10, Record: &ad},
			},
			wantUser: "alice@corp", wantTitle: "Engineer", wantActive: true,
			wantFrom: map[string]string{"userName": "ad", "displayName": "entra", "title": "ad", "active": "ad",
				"emails": "ad", storage.EnterpriseSchema + ":department": "ad"}},
		{name: "authoritative wins whatever its precedence",
			in: []storage.MergeInput{
				{Source: "ad", Precedence: 10, Record: &ad},
				{Source: "hr", Precedence: 30, Record: &hr, Authoritative: []string{"title", mgr}},
			},
			wantUser: "alice@corp", wantTitle: "Staff Engineer", wantActive: true,
			wantFrom: map[string]string{"userName": "ad", "title": "hr", "active": "ad", "emails": "ad",
				storage.EnterpriseSchema + ":department":     "ad",
				storage.EnterpriseSchema + ":employeeNumber": "hr", mgr: "hr"}},
		{name: "a deactivated contribution does not count while another is live",
			in: []storage.MergeInput{
				{Source: "ad", Precedence: 10, Record: &ad, Deactivated: true},
				{Source: "hr", Precedence: 30, Record: &hr},
			},
			wantUser: "E100", wantTitle: "Staff Engineer", wantActive: true,
			wantFrom: map[string]string{"userName": "hr", "title": "hr", "active": "hr",
				storage.EnterpriseSchema + ":employeeNumber": "hr", mgr: "hr"}},
		{name: "all deactivated: merged over them, inactive",
			in: []storage.MergeInput{
				{Source: "ad", Precedence: 10, Record: &ad, Deactivated: true},
			},
			wantUser: "alice@corp", wantTitle: "Engineer", wantActive: false,
			wantFrom: map[string]string{"userName": "ad", "title": "ad", "active": "ad", "emails": "ad",
				storage.EnterpriseSchema + ":department": "ad"}},
		{name: "equal precedence: the smaller source id, in any order",
			in: []storage.MergeInput{
				{Source: "b", Precedence: 10, Record: &hr},
				{Source: "a", Precedence: 10, Record: &entra},
			},
			wantUser: "alice@tenant", wantTitle: "Staff Engineer", wantActive: false,
			wantFrom: map[string]string{"userName": "a", "displayName": "a", "title": "b", "active": "a", "emails": "a",
				storage.EnterpriseSchema + ":employeeNumber": "b", mgr: "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, in := range [][]storage.MergeInput{tt.in, reversed(tt.in)} {
				u, from := storage.MergeUser(in)
				if u.UserName != tt.wantUser || u.Title != tt.wantTitle || u.Active != tt.wantActive {
					t.Errorf("merged userName %q title %q active %v, want %q %q %v", u.UserName, u.Title, u.Active, tt.wantUser, tt.wantTitle, tt.wantActive)
				}
				if !maps.Equal(from, tt.wantFrom) {
					t.Errorf("provenance %v, want %v", from, tt.wantFrom)
				}
			}
		})
	}
}

func TestMergeUserCopiesValues(t *testing.T) {
	ad := storage.User{UserName: "a", Emails: []storage.MultiValue{{Value: "a@x"}}, Name: &storage.Name{GivenName: "A"}}
	u, _ := storage.MergeUser([]storage.MergeInput{{Source: "ad", Record: &ad}})
	u.Emails[0].Value = "changed"
	u.Name.GivenName = "changed"
	if ad.Emails[0].Value != "a@x" || ad.Name.GivenName != "A" {
		t.Fatalf("the merge shares memory with its input: %+v", ad)
	}
}

func TestCanonicalMergeAttribute(t *testing.T) {
	for in, want := range map[string]string{
		"title": "title", " Title ": "title", "EMAILS": "emails",
		"manager":                                storage.EnterpriseSchema + ":manager",
		storage.EnterpriseSchema + ":Department": storage.EnterpriseSchema + ":department",
		"name.givenName":                         "", "members": "", "": "",
	} {
		if got := storage.CanonicalMergeAttribute(in); got != want {
			t.Errorf("CanonicalMergeAttribute(%q) = %q, want %q", in, got, want)
		}
	}
	if attrs := storage.MergeAttributes(); !slices.Contains(attrs, "userName") || len(attrs) != 26 {
		t.Errorf("MergeAttributes() = %v", attrs)
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
