package storage

import (
	"cmp"
	"slices"
	"strings"
)

// MergeInput is one contribution as the merge sees it.
type MergeInput struct {
	Source     string // the contributing source's id
	Precedence int    // the source's precedence: lower wins
	// Authoritative are the attribute paths (MergeAttributes' own
	// spelling: see CanonicalMergeAttribute) the source wins whenever it
	// has a value, whatever its precedence.
	Authoritative []string
	Record        *User
	// Deactivated contributions count only when every contribution is.
	Deactivated bool
}

// mergePart is one attribute as a unit of the merge: a source gives it
// whole or not at all (a multi-valued attribute comes whole from one
// source; so does name, whose parts belong together).
type mergePart struct {
	path string
	has  func(u *User) bool
	copy func(dst, src *User)
}

func stringPart(path string, f func(u *User) *string) mergePart {
	return mergePart{path: path,
		has:  func(u *User) bool { return *f(u) != "" },
		copy: func(dst, src *User) { *f(dst) = *f(src) }}
}

func slicePart[T any](path string, f func(u *User) *[]T) mergePart {
	return mergePart{path: path,
		has:  func(u *User) bool { return len(*f(u)) > 0 },
		copy: func(dst, src *User) { *f(dst) = slices.Clone(*f(src)) }}
}

// enterprisePart merges one attribute of the enterprise extension.
func enterprisePart(name string, has func(e *EnterpriseExt) bool, copy func(dst, src *EnterpriseExt)) mergePart {
	return mergePart{path: EnterpriseSchema + ":" + name,
		has: func(u *User) bool { return u.Enterprise != nil && has(u.Enterprise) },
		copy: func(dst, src *User) {
			if dst.Enterprise == nil {
				dst.Enterprise = &EnterpriseExt{}
			}
			copy(dst.Enterprise, src.Enterprise)
		}}
}

func enterpriseString(name string, f func(e *EnterpriseExt) *string) mergePart {
	return enterprisePart(name, func(e *EnterpriseExt) bool { return *f(e) != "" },
		func(dst, src *EnterpriseExt) { *f(dst) = *f(src) })
}

// mergeParts is the one list of what the merge decides attribute by
// attribute; MergeAttributes is derived from it.
var mergeParts = []mergePart{
	stringPart("externalId", func(u *User) *string { return &u.ExternalID }),
	stringPart("userName", func(u *User) *string { return &u.UserName }),
	{path: "name",
		has: func(u *User) bool { return u.Name != nil && *u.Name != (Name{}) },
		copy: func(dst, src *User) {
			n := *src.Name
			dst.Name = &n
		}},
	stringPart("displayName", func(u *User) *string { return &u.DisplayName }),
	stringPart("nickName", func(u *User) *string { return &u.NickName }),
	stringPart("profileUrl", func(u *User) *string { return &u.ProfileURL }),
	stringPart("title", func(u *User) *string { return &u.Title }),
	stringPart("userType", func(u *User) *string { return &u.UserType }),
	stringPart("preferredLanguage", func(u *User) *string { return &u.PreferredLanguage }),
	stringPart("locale", func(u *User) *string { return &u.Locale }),
	stringPart("timezone", func(u *User) *string { return &u.Timezone }),
	// Every record says whether its person is active.
	{path: "active", has: func(*User) bool { return true },
		copy: func(dst, src *User) { dst.Active = src.Active }},
	slicePart("emails", func(u *User) *[]MultiValue { return &u.Emails }),
	slicePart("phoneNumbers", func(u *User) *[]MultiValue { return &u.PhoneNumbers }),
	slicePart("ims", func(u *User) *[]MultiValue { return &u.IMs }),
	slicePart("photos", func(u *User) *[]MultiValue { return &u.Photos }),
	slicePart("addresses", func(u *User) *[]Address { return &u.Addresses }),
	slicePart("entitlements", func(u *User) *[]MultiValue { return &u.Entitlements }),
	slicePart("roles", func(u *User) *[]MultiValue { return &u.Roles }),
	slicePart("x509Certificates", func(u *User) *[]MultiValue { return &u.X509Certificates }),
	enterpriseString("employeeNumber", func(e *EnterpriseExt) *string { return &e.EmployeeNumber }),
	enterpriseString("costCenter", func(e *EnterpriseExt) *string { return &e.CostCenter }),
	enterpriseString("organization", func(e *EnterpriseExt) *string { return &e.Organization }),
	enterpriseString("division", func(e *EnterpriseExt) *string { return &e.Division }),
	enterpriseString("department", func(e *EnterpriseExt) *string { return &e.Department }),
	enterprisePart("manager",
		func(e *EnterpriseExt) bool { return e.Manager != nil && e.Manager.Value != "" },
		func(dst, src *EnterpriseExt) {
			m := *src.Manager
			dst.Manager = &m
		}),
}

// MergeAttributes returns the attribute paths the merge decides one by one
// (what a source's authoritative list may name, and what Provenance
// reports), in SCIM's order.
func MergeAttributes() []string {
	out := make([]string, len(mergeParts))
	for i, p := range mergeParts {
		out[i] = p.path
	}
	return out
}

// CanonicalMergeAttribute returns the MergeAttributes path that path names
// (case-insensitively; an enterprise attribute also by its bare name,
// "manager"), or "" if it names none.
func CanonicalMergeAttribute(path string) string {
	path = strings.TrimSpace(path)
	for _, p := range mergeParts {
		if strings.EqualFold(p.path, path) {
			return p.path
		}
		if bare, ok := strings.CutPrefix(p.path, EnterpriseSchema+":"); ok && strings.EqualFold(bare, path) {
			return p.path
		}
	}
	return ""
}

// MergeUser is a person as its contributions make it: each attribute from
// the contribution whose source lists it as authoritative and has a value
// (the lowest precedence among several such), otherwise from the lowest
// precedence that has a value; ties go to the smaller source id, so the
// result never depends on the order of in. Deactivated contributions
// count only when all are, and then the person is inactive. It returns the
// merged user (no ID, Owner or Meta: the store's) and, for each attribute
// it has, the source it came from. in must not be empty.
func MergeUser(in []MergeInput) (User, map[string]string) {
	live := make([]MergeInput, 0, len(in))
	for _, c := range in {
		if !c.Deactivated {
			live = append(live, c)
		}
	}
	gone := len(live) == 0
	if gone {
		live = append(live, in...)
	}
	slices.SortFunc(live, func(a, b MergeInput) int {
		return cmp.Or(cmp.Compare(a.Precedence, b.Precedence), strings.Compare(a.Source, b.Source))
	})
	var out User
	from := make(map[string]string, len(mergeParts))
	for _, part := range mergeParts {
		winner := -1
		for i, c := range live {
			if !part.has(c.Record) {
				continue
			}
			if slices.Contains(c.Authoritative, part.path) {
				winner = i
				break
			}
			if winner < 0 {
				winner = i
			}
		}
		if winner >= 0 {
			part.copy(&out, live[winner].Record)
			from[part.path] = live[winner].Source
		}
	}
	if gone {
		out.Active = false
	}
	return out, from
}
