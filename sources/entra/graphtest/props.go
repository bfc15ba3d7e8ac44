package graphtest

import "strings"

// propKind says how a property is stored and rendered.
type propKind uint8

const (
	kString propKind = iota
	kBool
	kStrings // a collection of strings, e.g. businessPhones
	kExtAttrs
)

// prop is one property of the Graph user or group resource.
type prop struct {
	name string
	kind propKind
	// byDefault: returned when the request has no $select. Users: the
	// documented default set (user-list: "businessPhones, displayName,
	// givenName, id, jobTitle, mail, mobilePhone, officeLocation,
	// preferredLanguage, surname, userPrincipalName"); everything else is
	// returned "only with $select".
	byDefault bool
}

// userProps are the user properties the emulator knows, from the user
// resource type (learn.microsoft.com/graph/api/resources/user).
var userProps = []prop{
	{"businessPhones", kStrings, true},
	{"displayName", kString, true},
	{"givenName", kString, true},
	{"jobTitle", kString, true},
	{"mail", kString, true},
	{"mobilePhone", kString, true},
	{"officeLocation", kString, true},
	{"preferredLanguage", kString, true},
	{"surname", kString, true},
	{"userPrincipalName", kString, true},
	{"accountEnabled", kBool, false},
	{"department", kString, false},
	{"employeeId", kString, false},
	{"employeeType", kString, false},
	{"companyName", kString, false},
	{"onPremisesImmutableId", kString, false},
	{"onPremisesSamAccountName", kString, false},
	{"onPremisesExtensionAttributes", kExtAttrs, false},
	{"mailNickname", kString, false},
	{"city", kString, false},
	{"country", kString, false},
	{"state", kString, false},
	{"streetAddress", kString, false},
	{"postalCode", kString, false},
	{"usageLocation", kString, false},
	{"userType", kString, false},
	{"createdDateTime", kString, false},
}

// userOnlySingle are properties that exist but cannot be read on a
// collection: "Selecting them on /users gives 501 Not Implemented" (user-list,
// delta-query-overview "Properties stored outside of the main data store").
var userOnlySingle = map[string]bool{"aboutMe": true, "birthday": true, "hireDate": true, "skills": true,
	"interests": true, "mySite": true, "pastProjects": true, "responsibilities": true, "schools": true}

// groupProps are the group properties the emulator knows (resources/group).
var groupProps = []prop{
	{"displayName", kString, true},
	{"description", kString, true},
	{"mail", kString, true},
	{"mailEnabled", kBool, true},
	{"mailNickname", kString, true},
	{"securityEnabled", kBool, true},
	{"groupTypes", kStrings, true},
	{"visibility", kString, true},
	{"createdDateTime", kString, true},
	{"onPremisesSecurityIdentifier", kString, true},
}

// extAttrCount is the number of onPremisesExtensionAttributes slots.
const extAttrCount = 15

func propIndex(props []prop) map[string]int {
	m := make(map[string]int, len(props))
	for i, p := range props {
		m[strings.ToLower(p.name)] = i
	}
	return m
}

var (
	userPropIdx  = propIndex(userProps)
	groupPropIdx = propIndex(groupProps)
)

// sep joins the elements of collection values in storage.
const sep = "\x1f"

// encodeValue turns a value given to the mutation API into storage form;
// "" means unset (Graph omits never-set properties).
func encodeValue(kind propKind, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []string:
		if kind == kExtAttrs {
			slots := make([]string, extAttrCount)
			copy(slots, x)
			return strings.Join(slots, sep)
		}
		return strings.Join(x, sep)
	case map[string]string: // extensionAttributeN -> value
		slots := make([]string, extAttrCount)
		for k, val := range x {
			var n int
			for _, c := range strings.TrimPrefix(k, "extensionAttribute") {
				n = n*10 + int(c-'0')
			}
			if n >= 1 && n <= extAttrCount {
				slots[n-1] = val
			}
		}
		if strings.Join(slots, "") == "" {
			return ""
		}
		return strings.Join(slots, sep)
	}
	panic("graphtest: unsupported property value type")
}
