package storetest

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

var filterTests = []subtest{
	{"Users", testFilterUsers},
	{"LastModified", testFilterLastModified},
	{"Groups", testFilterGroups},
	{"UnknownAttr", testFilterInvalid},
	{"LongOrChains", testLongOrChains},
	{"LongMixedChains", testLongMixedChains},
	{"DeepNot", testDeepNot},
	{"TooManyTerms", testTooManyTerms},
}

// filterUsers is the dataset of the user filter table, keyed by a letter.
// Expected results are written as strings of these letters.
//
//	A alice@example.com  active   Engineer          work+home emails, R&D
//	B Bob@Example.com    inactive Senior Engineer   work email, Sales
//	C carol              active   Manager           home email, r&d
//	D dave               active   (nothing else set)
//	E erin@example.com   inactive engineer          other+work emails, Support
//	F frank              active   Director          work email, a phone number
var filterUsers = map[byte]storage.User{
	'A': {
		UserName: "alice@example.com", ExternalID: "EXT-A", DisplayName: "Alice Anders", NickName: "Al",
		Name: &storage.Name{GivenName: "Alice", FamilyName: "Anders"}, Title: "Engineer", Active: true,
		Emails: []storage.MultiValue{
			{Value: "alice@example.com", Type: "work", Primary: true},
			{Value: "alice@home.org", Type: "home"},
		},
		Enterprise: &storage.EnterpriseExt{
			EmployeeNumber: "1001", Department: "R&D", CostCenter: "CC-1",
			Manager: &storage.ManagerRef{Value: "mgr-1"},
		},
	},
	'B': {
		UserName: "Bob@Example.com", ExternalID: "ext-b", DisplayName: "Bob Brown",
		Name: &storage.Name{GivenName: "Bob", FamilyName: "Brown"}, Title: "Senior Engineer", Active: false,
		Emails: []storage.MultiValue{{Value: "bob@example.com", Type: "work"}},
		Enterprise: &storage.EnterpriseExt{
			EmployeeNumber: "1002", Department: "Sales", Manager: &storage.ManagerRef{Value: "mgr-1"},
		},
	},
	'C': {
		UserName: "carol", DisplayName: "Carol Clark",
		Name: &storage.Name{GivenName: "Carol", FamilyName: "Clark"}, Title: "Manager", Active: true,
		Emails:     []storage.MultiValue{{Value: "carol@example.org", Type: "home"}},
		Enterprise: &storage.EnterpriseExt{EmployeeNumber: "2001", Department: "r&d"},
	},
	'D': {UserName: "dave", Active: true},
	'E': {
		UserName: "erin@example.com", DisplayName: "Erin", Title: "engineer", Active: false,
		Emails: []storage.MultiValue{
			{Value: "ERIN@EXAMPLE.COM", Type: "other"},
			{Value: "erin@work.net", Type: "work"},
		},
		Enterprise: &storage.EnterpriseExt{Department: "Support", Manager: &storage.ManagerRef{Value: "mgr-2"}},
	},
	'F': {
		UserName: "frank", ExternalID: "EXT-F",
		Name: &storage.Name{GivenName: "Frank", FamilyName: "anders"}, Title: "Director", Active: true,
		Emails:       []storage.MultiValue{{Value: "frank@example.com", Type: "work", Primary: true}},
		PhoneNumbers: []storage.MultiValue{{Value: "+1 555 0100", Type: "work"}},
	},
}

// wantUserNames turns a string of dataset letters into userNames.
func wantUserNames(keys string) []string {
	names := make([]string, 0, len(keys))
	for i := range len(keys) {
		names = append(names, filterUsers[keys[i]].UserName)
	}
	return names
}

// Shorthands for building filter trees.
func cmp(a storage.Attr, op storage.Op, v any) storage.Expr {
	return storage.Compare{Attr: a, Op: op, Value: v}
}
func pr(a storage.Attr) storage.Expr     { return storage.Compare{Attr: a, Op: storage.OpPr} }
func and(l, r storage.Expr) storage.Expr { return storage.And{Left: l, Right: r} }
func or(l, r storage.Expr) storage.Expr  { return storage.Or{Left: l, Right: r} }
func not(x storage.Expr) storage.Expr    { return storage.Not{X: x} }
func emails(f storage.Expr) storage.Expr {
	return storage.ValuePath{Attr: storage.AttrEmails, Filter: f}
}
func members(f storage.Expr) storage.Expr {
	return storage.ValuePath{Attr: storage.AttrMembers, Filter: f}
}
func value(op storage.Op, v any) storage.Expr { return cmp(storage.SubValue, op, v) }

type filterCase struct {
	filter storage.Expr
	want   string // dataset letters
}

// Semantics pinned here, beyond RFC 7644's operator list:
//   - userName, displayName, name.*, nickName, title, emails.value and the
//     enterprise string attributes compare case-insensitively, for ordering
//     operators (gt, ge, lt, le) too; id and externalId are case-exact.
//   - An absent attribute never satisfies eq, co, sw, ew, gt, ge, lt, le or
//     pr. It does satisfy ne: "title ne x" matches users whose title is
//     absent or different. Likewise not(title eq x) matches users with no
//     title, so not(e) is always the complement of e (no SQL NULL leaks).
//   - A ValuePath requires one element to satisfy its whole filter, so
//     emails[type eq work and value co x] differs from
//     emails[type eq work] and emails[value co x].
func userFilterCases(ids map[byte]string) map[string]filterCase {
	cases := map[string]filterCase{
		// userName: case-insensitive, every operator.
		"userName eq":              {cmp(storage.AttrUserName, storage.OpEq, "ALICE@example.com"), "A"},
		"userName eq stored mixed": {cmp(storage.AttrUserName, storage.OpEq, "bob@example.com"), "B"},
		"userName ne":              {cmp(storage.AttrUserName, storage.OpNe, "CAROL"), "ABDEF"},
		"userName co":              {cmp(storage.AttrUserName, storage.OpCo, "EXAMPLE"), "ABE"},
		"userName sw":              {cmp(storage.AttrUserName, storage.OpSw, "b"), "B"},
		"userName ew":              {cmp(storage.AttrUserName, storage.OpEw, ".COM"), "ABE"},
		"userName pr":              {pr(storage.AttrUserName), "ABCDEF"},
		"userName gt":              {cmp(storage.AttrUserName, storage.OpGt, "B"), "BCDEF"},
		"userName ge":              {cmp(storage.AttrUserName, storage.OpGe, "DAVE"), "DEF"},
		"userName lt":              {cmp(storage.AttrUserName, storage.OpLt, "C"), "AB"},
		"userName le":              {cmp(storage.AttrUserName, storage.OpLe, "CAROL"), "ABC"},

		"displayName eq": {cmp(storage.AttrDisplayName, storage.OpEq, "alice anders"), "A"},
		"displayName co": {cmp(storage.AttrDisplayName, storage.OpCo, "AR"), "C"},
		"displayName sw": {cmp(storage.AttrDisplayName, storage.OpSw, "b"), "B"},
		"displayName pr": {pr(storage.AttrDisplayName), "ABCE"},
		"displayName ne": {cmp(storage.AttrDisplayName, storage.OpNe, "erin"), "ABCDF"},
		"nickName eq":    {cmp(storage.AttrNickName, storage.OpEq, "AL"), "A"},

		"name.givenName eq":  {cmp(storage.AttrNameGivenName, storage.OpEq, "BOB"), "B"},
		"name.givenName sw":  {cmp(storage.AttrNameGivenName, storage.OpSw, "c"), "C"},
		"name.familyName eq": {cmp(storage.AttrNameFamilyName, storage.OpEq, "anders"), "AF"},
		"name.familyName pr": {pr(storage.AttrNameFamilyName), "ABCF"},

		"title eq": {cmp(storage.AttrTitle, storage.OpEq, "engineer"), "AE"},
		"title co": {cmp(storage.AttrTitle, storage.OpCo, "ENGINEER"), "ABE"},
		"title ew": {cmp(storage.AttrTitle, storage.OpEw, "ER"), "ABCE"},
		"title pr": {pr(storage.AttrTitle), "ABCEF"},
		// ne matches users whose title is absent (D) or different.
		"title ne absent or different": {cmp(storage.AttrTitle, storage.OpNe, "engineer"), "BCDF"},
		"title gt":                     {cmp(storage.AttrTitle, storage.OpGt, "Engineer"), "BC"},
		"title le":                     {cmp(storage.AttrTitle, storage.OpLe, "ENGINEER"), "AEF"},

		// externalId and id: case-exact.
		"externalId eq":            {cmp(storage.AttrExternalID, storage.OpEq, "EXT-A"), "A"},
		"externalId eq other case": {cmp(storage.AttrExternalID, storage.OpEq, "ext-a"), ""},
		"externalId eq lower":      {cmp(storage.AttrExternalID, storage.OpEq, "ext-b"), "B"},
		"externalId eq upper":      {cmp(storage.AttrExternalID, storage.OpEq, "EXT-B"), ""},
		"externalId sw":            {cmp(storage.AttrExternalID, storage.OpSw, "EXT"), "AF"},
		"externalId co":            {cmp(storage.AttrExternalID, storage.OpCo, "xt-"), "B"},
		"externalId pr":            {pr(storage.AttrExternalID), "ABF"},
		"id eq":                    {cmp(storage.AttrID, storage.OpEq, ids['A']), "A"},
		"id ne":                    {cmp(storage.AttrID, storage.OpNe, ids['A']), "BCDEF"},

		"active eq true":  {cmp(storage.AttrActive, storage.OpEq, true), "ACDF"},
		"active eq false": {cmp(storage.AttrActive, storage.OpEq, false), "BE"},
		"active ne true":  {cmp(storage.AttrActive, storage.OpNe, true), "BE"},

		// Logical operators and nesting.
		"and":       {and(cmp(storage.AttrTitle, storage.OpCo, "engineer"), cmp(storage.AttrActive, storage.OpEq, true)), "A"},
		"or":        {or(cmp(storage.AttrUserName, storage.OpEq, "carol"), cmp(storage.AttrUserName, storage.OpEq, "DAVE")), "CD"},
		"not or":    {not(or(cmp(storage.AttrUserName, storage.OpEq, "carol"), cmp(storage.AttrUserName, storage.OpEq, "DAVE"))), "ABEF"},
		"or of and": {or(and(cmp(storage.AttrActive, storage.OpEq, false), cmp(storage.AttrTitle, storage.OpCo, "senior")), cmp(storage.AttrExternalID, storage.OpEq, "EXT-F")), "BF"},
		"and of or and not": {and(
			or(cmp(storage.AttrDepartment, storage.OpEq, "r&d"), cmp(storage.AttrDepartment, storage.OpEq, "sales")),
			not(cmp(storage.AttrActive, storage.OpEq, false))), "AC"},
		"not eq includes absent": {not(cmp(storage.AttrTitle, storage.OpEq, "engineer")), "BCDF"},
		"not pr":                 {not(pr(storage.AttrTitle)), "D"},
		"not gt includes absent": {not(cmp(storage.AttrTitle, storage.OpGt, "engineer")), "ADEF"},
		"not not":                {not(not(cmp(storage.AttrActive, storage.OpEq, false))), "BE"},

		// Multi-valued attributes through ValuePath.
		"emails.value eq":              {emails(value(storage.OpEq, "ALICE@EXAMPLE.COM")), "A"},
		"emails.value eq stored upper": {emails(value(storage.OpEq, "erin@example.com")), "E"},
		"emails.value ew":              {emails(value(storage.OpEw, ".ORG")), "AC"},
		"emails[type eq work and value co]": {emails(and(
			cmp(storage.SubType, storage.OpEq, "work"), value(storage.OpCo, "@example.com"))), "ABF"},
		"emails[type eq work] and emails[value co]": {and(
			emails(cmp(storage.SubType, storage.OpEq, "work")), emails(value(storage.OpCo, "@example.com"))), "ABEF"},
		"emails[type eq home or type eq other]": {emails(or(
			cmp(storage.SubType, storage.OpEq, "home"), cmp(storage.SubType, storage.OpEq, "other"))), "ACE"},
		"emails[not type eq work]": {emails(not(cmp(storage.SubType, storage.OpEq, "work"))), "ACE"},
		"emails.value pr":          {emails(pr(storage.SubValue)), "ABCEF"},
		"not emails.value pr":      {not(emails(pr(storage.SubValue))), "D"},
		"emails.primary eq true":   {emails(cmp(storage.SubPrimary, storage.OpEq, true)), "AF"},
		"phoneNumbers.value sw": {storage.ValuePath{Attr: storage.AttrPhoneNumbers,
			Filter: value(storage.OpSw, "+1")}, "F"},

		// Enterprise extension.
		"department eq":            {cmp(storage.AttrDepartment, storage.OpEq, "R&D"), "AC"},
		"department eq 2":          {cmp(storage.AttrDepartment, storage.OpEq, "sales"), "B"},
		"department ne":            {cmp(storage.AttrDepartment, storage.OpNe, "r&d"), "BDEF"},
		"not department eq":        {not(cmp(storage.AttrDepartment, storage.OpEq, "r&d")), "BDEF"},
		"costCenter eq":            {cmp(storage.AttrCostCenter, storage.OpEq, "cc-1"), "A"},
		"employeeNumber eq":        {cmp(storage.AttrEmployeeNumber, storage.OpEq, "1001"), "A"},
		"employeeNumber sw":        {cmp(storage.AttrEmployeeNumber, storage.OpSw, "1"), "AB"},
		"employeeNumber gt":        {cmp(storage.AttrEmployeeNumber, storage.OpGt, "1001"), "BC"},
		"employeeNumber pr":        {pr(storage.AttrEmployeeNumber), "ABC"},
		"manager.value eq":         {cmp(storage.AttrManager, storage.OpEq, "mgr-1"), "AB"},
		"manager.value pr":         {pr(storage.AttrManager), "ABE"},
		"manager.value pr and not": {and(pr(storage.AttrManager), not(cmp(storage.AttrManager, storage.OpEq, "mgr-1"))), "E"},
	}
	// id is case-exact: a case variant of A's id matches nobody, unless the
	// id has no letters to vary.
	if v := strings.ToUpper(ids['A']); v != ids['A'] {
		cases["id eq other case"] = filterCase{cmp(storage.AttrID, storage.OpEq, v), ""}
	} else if v := strings.ToLower(ids['A']); v != ids['A'] {
		cases["id eq other case"] = filterCase{cmp(storage.AttrID, storage.OpEq, v), ""}
	}
	return cases
}

func testFilterUsers(t *testing.T, s storage.Store) {
	ids := map[byte]string{}
	for _, k := range []byte("ABCDEF") {
		ids[k] = mustCreateUser(t, s, filterUsers[k]).ID
	}
	cases := userFilterCases(ids)
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		c := cases[name]
		t.Run(name, func(t *testing.T) {
			q := storage.Query{Filter: c.filter, Limit: 100}
			want := wantUserNames(c.want)
			got, total := listUserNames(t, s, q)
			if !sameSet(got, want) || total != len(want) {
				t.Errorf("filter %s\n got %v (total %d)\nwant %v", describeExpr(c.filter), got, total, want)
			}
		})
	}
}
