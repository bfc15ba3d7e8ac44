package scim

import (
	"fmt"
	"strings"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/storage"
)

const (
	userSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// attrInfo describes how one SCIM attribute maps onto storage.Attr.
type attrInfo struct {
	attr  storage.Attr            // single-valued attribute, or the multi-valued parent
	multi bool                    // a multi-valued attribute queried through ValuePath
	subs  map[string]storage.Attr // lower-cased sub-attribute name -> Attr
	// time marks date-time attributes, whose string values are parsed.
	time bool
}

// attrTable resolves SCIM attribute paths of one resource type. Keys are
// lower-cased; the value "nil" entries are attributes that exist in the
// schema but cannot be queried, so the error can say so.
type attrTable struct {
	core      string
	coreAttrs map[string]*attrInfo
	extension string
	ext       map[string]*attrInfo
}

var multiSubs = map[string]storage.Attr{
	"value": storage.SubValue, "type": storage.SubType, "primary": storage.SubPrimary, "display": storage.SubDisplay,
}

func single(a storage.Attr) *attrInfo { return &attrInfo{attr: a} }

func multi(a storage.Attr, subs map[string]storage.Attr) *attrInfo {
	return &attrInfo{attr: a, multi: true, subs: subs}
}

var metaInfo = &attrInfo{subs: map[string]storage.Attr{
	"created": storage.AttrCreated, "lastmodified": storage.AttrLastModified,
}, time: true}

var userAttrs = attrTable{
	core: userSchema,
	coreAttrs: map[string]*attrInfo{
		"id":                single(storage.AttrID),
		"externalid":        single(storage.AttrExternalID),
		"username":          single(storage.AttrUserName),
		"displayname":       single(storage.AttrDisplayName),
		"nickname":          single(storage.AttrNickName),
		"title":             single(storage.AttrTitle),
		"usertype":          single(storage.AttrUserType),
		"preferredlanguage": single(storage.AttrPreferredLanguage),
		"locale":            single(storage.AttrLocale),
		"timezone":          single(storage.AttrTimezone),
		"profileurl":        single(storage.AttrProfileURL),
		"active":            single(storage.AttrActive),
		"name": {subs: map[string]storage.Attr{
			"formatted": storage.AttrNameFormatted, "familyname": storage.AttrNameFamilyName,
			"givenname": storage.AttrNameGivenName, "middlename": storage.AttrNameMiddleName,
			"honorificprefix": storage.AttrNamePrefix, "honorificsuffix": storage.AttrNameSuffix,
		}},
		"emails":           multi(storage.AttrEmails, multiSubs),
		"phonenumbers":     multi(storage.AttrPhoneNumbers, multiSubs),
		"ims":              multi(storage.AttrIMs, multiSubs),
		"photos":           multi(storage.AttrPhotos, multiSubs),
		"entitlements":     multi(storage.AttrEntitlements, multiSubs),
		"roles":            multi(storage.AttrRoles, multiSubs),
		"x509certificates": multi(storage.AttrX509Certificates, multiSubs),
		"meta":             metaInfo,
		"addresses":        nil,
		"groups":           nil,
		"password":         nil,
	},
	extension: storage.EnterpriseSchema,
	ext: map[string]*attrInfo{
		"employeenumber": single(storage.AttrEmployeeNumber),
		"costcenter":     single(storage.AttrCostCenter),
		"organization":   single(storage.AttrOrganization),
		"division":       single(storage.AttrDivision),
		"department":     single(storage.AttrDepartment),
		"manager":        {attr: storage.AttrManager, subs: map[string]storage.Attr{"value": storage.AttrManager}},
	},
}

var groupAttrs = attrTable{
	core: groupSchema,
	coreAttrs: map[string]*attrInfo{
		"id":          single(storage.AttrID),
		"externalid":  single(storage.AttrExternalID),
		"displayname": single(storage.AttrDisplayName),
		"members": multi(storage.AttrMembers, map[string]storage.Attr{
			"value": storage.SubValue, "type": storage.SubType,
		}),
		"meta": metaInfo,
	},
}

// resolved is an attribute path mapped onto storage.
type resolved struct {
	attr    storage.Attr // the single-valued attribute, or the multi parent
	sub     storage.Attr // for multi-valued: the sub-attribute ("" = value)
	multi   bool
	isTime  bool
	display string // the path as written, for messages
}

// resolve maps an attribute path (with optional schema URN prefix and
// sub-attribute) onto storage; unknown or unsupported paths are errors.
func (t *attrTable) resolve(p fp.AttributePath) (resolved, error) {
	display := p.String()
	table := t.coreAttrs
	if uri := p.URI(); uri != "" {
		switch {
		case strings.EqualFold(uri, t.core):
		case t.extension != "" && strings.EqualFold(uri, t.extension):
			table = t.ext
		default:
			return resolved{}, fmt.Errorf("unknown schema %q in attribute %q", uri, display)
		}
	}
	info, known := table[strings.ToLower(p.AttributeName)]
	if !known {
		return resolved{}, fmt.Errorf("unknown attribute %q", display)
	}
	if info == nil {
		return resolved{}, fmt.Errorf("filtering on %q is not supported", display)
	}
	sub := strings.ToLower(p.SubAttributeName())
	switch {
	case info.multi:
		r := resolved{attr: info.attr, multi: true, display: display}
		if sub != "" {
			a, ok := info.subs[sub]
			if !ok {
				return resolved{}, fmt.Errorf("unknown or unsupported attribute %q", display)
			}
			r.sub = a
		}
		return r, nil
	case info.subs != nil:
		if sub == "" {
			if info.attr != "" {
				return resolved{attr: info.attr, display: display}, nil
			}
			return resolved{}, fmt.Errorf("%q is a complex attribute: name one of its sub-attributes", display)
		}
		a, ok := info.subs[sub]
		if !ok {
			return resolved{}, fmt.Errorf("unknown or unsupported attribute %q", display)
		}
		return resolved{attr: a, isTime: info.time, display: display}, nil
	default:
		if sub != "" {
			return resolved{}, fmt.Errorf("%q has no sub-attributes", display)
		}
		return resolved{attr: info.attr, display: display}, nil
	}
}

// resolveSortBy maps a sortBy value onto a sortable single-valued attribute.
func (t *attrTable) resolveSortBy(path string) (storage.Attr, error) {
	p, err := fp.ParseAttrPath([]byte(path))
	if err != nil {
		return "", fmt.Errorf("sortBy %q is not an attribute path", path)
	}
	r, err := t.resolve(p)
	if err != nil {
		return "", err
	}
	if r.multi {
		return "", fmt.Errorf("sorting by the multi-valued %q is not supported", path)
	}
	return r.attr, nil
}
