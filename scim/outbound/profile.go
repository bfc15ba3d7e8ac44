package outbound

import (
	"slices"
	"sort"
)

// PatchPolicy says whether updates go as PATCH or PUT.
type PatchPolicy string

const (
	PatchFromSPC PatchPolicy = "spc"    // as /ServiceProviderConfig says
	PatchAlways  PatchPolicy = "always" // the target has PATCH
	PatchNever   PatchPolicy = "never"  // PUT only
)

// Paging is how a target's lists are paged.
type Paging string

const (
	PagingIndex  Paging = "index"  // startIndex and count (RFC 7644 §3.4.2.4)
	PagingCursor Paging = "cursor" // cursor and nextCursor (the SCIM cursor-paging extension; AWS IAM Identity Center)
)

// Profile is a target's dialect and limits, as data: adding a target
// profile is an entry in Profiles and its test.
type Profile struct {
	Name string
	// Description says, for an admin choosing one, which targets it fits.
	Description string
	// ReadSPC reads /ServiceProviderConfig for patch and filter support
	// and filter.maxResults; the profile's fields below bound what it
	// says.
	ReadSPC bool
	Patch   PatchPolicy
	// MaxMembersPerPatch bounds the member values of one group PATCH
	// (0: no bound).
	MaxMembersPerPatch int
	// FilterAttrs are, by kind (KindUsers, KindGroups), the only
	// attributes the target filters on with eq; nil: any attribute.
	FilterAttrs map[string][]string
	// PathlessReplace: a PATCH replace without a path may set several
	// attributes at once.
	PathlessReplace bool
	PageSize        int // count asked for when listing
	Paging          Paging
	// GroupMembersHidden: the target answers groups without members, so
	// what it holds cannot be read back (AWS IAM Identity Center).
	GroupMembersHidden bool
	// SingleValues: the target keeps one value of each multi-valued user
	// attribute (the primary one is sent, or else the first) and no
	// display sub-attribute on them.
	SingleValues bool
	// UnsupportedUserAttrs are user attributes the target does not have;
	// they are never sent.
	UnsupportedUserAttrs []string
}

// Profiles are the known target profiles by name.
var Profiles = map[string]Profile{
	// generic is RFC 7644 as it stands: capabilities from the target's
	// /ServiceProviderConfig (RFC 7643 §5). RFC 7644 sets no bound on the
	// values of one PATCH operation; 1000 keeps a request well below the
	// body limits targets commonly apply (scimgate's own cap is 1000
	// operations).
	"generic": {
		Description:        "Any SCIM 2.0 target (RFC 7644): what it supports is read from its /ServiceProviderConfig.",
		Name:               "generic",
		ReadSPC:            true,
		Patch:              PatchFromSPC,
		MaxMembersPerPatch: 1000,
		PathlessReplace:    true,
		PageSize:           100,
		Paging:             PagingIndex,
	},
	// aws is AWS IAM Identity Center, from its SCIM Implementation
	// Developer Guide:
	//   - PatchGroup "A maximum of 100 membership changes are allowed in a
	//     single request"; CreateGroup "A maximum of 100 members can be
	//     added in a single request".
	//   - "Only eq with and is supported"; ListUsers filters on userName
	//     and externalId, ListGroups on displayName and externalId (and
	//     id, members.value, which push does not use).
	//   - ListUsers/ListGroups: startIndex is not supported; count is at
	//     most 100; pages with ?cursor and nextCursor.
	//   - GetGroup and ListGroups "return an empty member list".
	//   - PatchUser and PatchGroup are supported, so no SPC read is
	//     needed; a path-less replace of several attributes is refused
	//     (the reading of the PatchUser constraints).
	"aws": {
		Description:        "AWS IAM Identity Center: 100 members per group change, eq filters on a few attributes, cursor paging, group members not readable back, one value per multi-valued attribute.",
		Name:               "aws",
		Patch:              PatchAlways,
		MaxMembersPerPatch: 100,
		FilterAttrs: map[string][]string{
			KindUsers:  {"userName", "externalId"},
			KindGroups: {"displayName", "externalId"},
		},
		PathlessReplace:    false,
		PageSize:           100,
		Paging:             PagingCursor,
		GroupMembersHidden: true,
		// "Limitations from SCIM specification": no multi-valued user
		// attributes in general; the supported attributes exclude these
		// and the display sub-attribute of multi-valued ones.
		SingleValues:         true,
		UnsupportedUserAttrs: []string{"password", "ims", "photos", "entitlements", "x509Certificates"},
	},
}

// DefaultProfile is the profile of a push that names none.
const DefaultProfile = "generic"

// ProfileByName returns the named profile ("" is the default).
func ProfileByName(name string) (Profile, bool) {
	if name == "" {
		name = DefaultProfile
	}
	p, ok := Profiles[name]
	return p, ok
}

// ProfileNames lists the known profiles, sorted, for error messages.
func ProfileNames() []string {
	names := make([]string, 0, len(Profiles))
	for n := range Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// canFilter reports whether the profile lets kind be filtered on attr.
func (p Profile) canFilter(kind, attr string) bool {
	if p.FilterAttrs == nil {
		return true
	}
	return slices.Contains(p.FilterAttrs[kind], attr)
}

// filterAttrUnion is every attribute the profile filters on, for
// Capabilities.FilterAttrs (nil: any).
func (p Profile) filterAttrUnion() []string {
	if p.FilterAttrs == nil {
		return nil
	}
	var out []string
	for _, attrs := range p.FilterAttrs {
		for _, a := range attrs {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}
