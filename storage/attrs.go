package storage

import "time"

// This file is the one table of the SCIM attributes that filters, sorts
// and source mappings may use. The SCIM layer resolves attribute paths
// with it, the SQL store compiles filters and writes rows with it, and
// mappings take their targets from it. Making another attribute
// filterable is one entry here (with its Attr constant) and a migration
// that adds its column or index; nothing else.

// Attr names one attribute a filter or a sort may use. The set is closed:
// the SCIM layer maps SCIM attribute paths onto these names (rejecting any
// it does not know) and stores compile them to columns or child tables.
type Attr string

// Single-valued attributes of users and groups.
const (
	AttrID                Attr = "id"
	AttrExternalID        Attr = "externalId"
	AttrUserName          Attr = "userName"
	AttrDisplayName       Attr = "displayName"
	AttrNickName          Attr = "nickName"
	AttrTitle             Attr = "title"
	AttrUserType          Attr = "userType"
	AttrPreferredLanguage Attr = "preferredLanguage"
	AttrLocale            Attr = "locale"
	AttrTimezone          Attr = "timezone"
	AttrProfileURL        Attr = "profileUrl"
	AttrActive            Attr = "active"
	AttrNameFormatted     Attr = "name.formatted"
	AttrNameFamilyName    Attr = "name.familyName"
	AttrNameGivenName     Attr = "name.givenName"
	AttrNameMiddleName    Attr = "name.middleName"
	AttrNamePrefix        Attr = "name.honorificPrefix"
	AttrNameSuffix        Attr = "name.honorificSuffix"
	AttrEmployeeNumber    Attr = "enterprise.employeeNumber"
	AttrCostCenter        Attr = "enterprise.costCenter"
	AttrOrganization      Attr = "enterprise.organization"
	AttrDivision          Attr = "enterprise.division"
	AttrDepartment        Attr = "enterprise.department"
	AttrManager           Attr = "enterprise.manager.value"
	AttrCreated           Attr = "meta.created"
	AttrLastModified      Attr = "meta.lastModified"
)

// Multi-valued attributes, used as ValuePath.Attr.
const (
	AttrEmails           Attr = "emails"
	AttrPhoneNumbers     Attr = "phoneNumbers"
	AttrIMs              Attr = "ims"
	AttrPhotos           Attr = "photos"
	AttrEntitlements     Attr = "entitlements"
	AttrRoles            Attr = "roles"
	AttrX509Certificates Attr = "x509Certificates"
	AttrMembers          Attr = "members"
)

// Sub-attributes of multi-valued attributes, used inside ValuePath.Filter.
// Each is named as SCIM names it.
const (
	SubValue   Attr = "value"
	SubType    Attr = "type"
	SubPrimary Attr = "primary"
	SubDisplay Attr = "display"
)

// AttrType is the SCIM type of an attribute's values, which decides how
// they are stored and compared.
type AttrType int

// The attribute types filters know.
const (
	TypeString   AttrType = iota
	TypeBoolean           // compared with eq and ne only
	TypeDateTime          // stored as whole milliseconds
	TypeMulti             // multi-valued: its elements are rows of a ChildTable
)

// Resource is a resource type that has an attribute table.
type Resource interface{ User | Group }

// AttrSpec describes one attribute of resource type R.
type AttrSpec[R Resource] struct {
	Attr Attr
	// Schema is the URN of the extension schema that defines the
	// attribute; "" for the resource's core schema.
	Schema string
	// Path is the attribute's SCIM path within its schema: "userName",
	// "name.givenName", "manager.value", "meta.created", "emails". A
	// filter or sortBy may name a complex parent alone ("manager") when
	// the parent has a "value" sub-attribute in the table.
	Path string
	Type AttrType
	// CaseExact is SCIM's caseExact: values compare as written; otherwise
	// they are stored and compared in FoldKey form.
	CaseExact bool
	// Column is the column of the resource's table holding the value;
	// "" for multi-valued attributes.
	Column string
	// Required says every resource has a value (the column is NOT NULL),
	// so "pr" is always true.
	Required bool
	// Indexed says an index on Column serves equality, prefix (sw) and
	// sort; other attributes are filtered by scanning.
	Indexed bool
	// Sortable says sortBy may name the attribute.
	Sortable bool
	// Values is where a multi-valued attribute's elements live.
	Values *ChildTable
	// Map says whether and how a source's attribute mapping writes it.
	Map MapRule

	// One of these reaches the value in a resource, by Type. text's alloc
	// creates a missing complex parent (name, the enterprise extension);
	// without alloc a missing parent gives nil.
	text    func(r *R, alloc bool) *string
	flag    func(r *R) *bool
	instant func(r *R) *time.Time
	list    func(r *R) *[]MultiValue
}

// ChildTable is the table of a multi-valued attribute's elements and the
// sub-attributes a value filter may name.
type ChildTable struct {
	// Name is the table: "user_values" (one row per element of every
	// multi-valued user attribute, the attribute in its attr column) or
	// "group_members".
	Name string
	Subs []SubAttr
}

// SubAttr is a sub-attribute of a multi-valued attribute, as a column of
// its child table.
type SubAttr struct {
	Attr      Attr // SubValue, ...
	Type      AttrType
	CaseExact bool
	Column    string
	Required  bool
}

// MapRule says how a source's attribute mapping may write an attribute.
type MapRule struct {
	// Target is the mapping's name for the attribute ("name.givenName",
	// "enterprise.department"); "" when mappings cannot write it.
	Target string
	// Types, for a multi-valued attribute, are the element types a mapping
	// may set, each as its own target Target+"."+type ("emails.work").
	Types []string
	// SourceKey says the mapped value is the source key of another user
	// (the manager), which the sync engine resolves to that user's id.
	SourceKey bool
}

// String is a string attribute's value in r; "" when r lacks it.
func (a AttrSpec[R]) String(r *R) string {
	if a.text == nil {
		return ""
	}
	if p := a.text(r, false); p != nil {
		return *p
	}
	return ""
}

// SetString sets a string attribute of r, creating its complex parent if
// needed. It does nothing for attributes of other types.
func (a AttrSpec[R]) SetString(r *R, v string) {
	if a.text != nil {
		*a.text(r, true) = v
	}
}

// Bool is a boolean attribute's value in r.
func (a AttrSpec[R]) Bool(r *R) bool { return a.flag != nil && *a.flag(r) }

// SetBool sets a boolean attribute of r.
func (a AttrSpec[R]) SetBool(r *R, v bool) {
	if a.flag != nil {
		*a.flag(r) = v
	}
}

// Time is a date-time attribute's value in r.
func (a AttrSpec[R]) Time(r *R) time.Time {
	if a.instant == nil {
		return time.Time{}
	}
	return *a.instant(r)
}

// SetTime sets a date-time attribute of r.
func (a AttrSpec[R]) SetTime(r *R, t time.Time) {
	if a.instant != nil {
		*a.instant(r) = t
	}
}

// Elements are a multi-valued attribute's elements in r.
func (a AttrSpec[R]) Elements(r *R) []MultiValue {
	if a.list == nil {
		return nil
	}
	return *a.list(r)
}

// AddElement appends an element to a multi-valued attribute of r.
func (a AttrSpec[R]) AddElement(r *R, v MultiValue) {
	if a.list != nil {
		l := a.list(r)
		*l = append(*l, v)
	}
}

// UserAttrs is the attribute table of users.
func UserAttrs() []AttrSpec[User] { return append([]AttrSpec[User](nil), userAttrs...) }

// GroupAttrs is the attribute table of groups.
func GroupAttrs() []AttrSpec[Group] { return append([]AttrSpec[Group](nil), groupAttrs...) }

// userValues holds the elements of every multi-valued user attribute.
var userValues = &ChildTable{Name: "user_values", Subs: []SubAttr{
	{Attr: SubValue, Type: TypeString, Column: "value"},
	{Attr: SubType, Type: TypeString, Column: "type"},
	{Attr: SubDisplay, Type: TypeString, Column: "display"},
	{Attr: SubPrimary, Type: TypeBoolean, Column: "is_primary", Required: true},
}}

var userAttrs = []AttrSpec[User]{
	{Attr: AttrID, Path: "id", CaseExact: true, Column: "id", Required: true, Indexed: true, Sortable: true,
		text: userField(func(u *User) *string { return &u.ID })},
	{Attr: AttrExternalID, Path: "externalId", CaseExact: true, Column: "external_id", Indexed: true, Sortable: true,
		Map: MapRule{Target: "externalId"}, text: userField(func(u *User) *string { return &u.ExternalID })},
	{Attr: AttrUserName, Path: "userName", Column: "user_name", Required: true, Indexed: true, Sortable: true,
		Map: MapRule{Target: "userName"}, text: userField(func(u *User) *string { return &u.UserName })},
	{Attr: AttrDisplayName, Path: "displayName", Column: "display_name", Indexed: true, Sortable: true,
		Map: MapRule{Target: "displayName"}, text: userField(func(u *User) *string { return &u.DisplayName })},
	{Attr: AttrNickName, Path: "nickName", Column: "nick_name", Sortable: true,
		Map: MapRule{Target: "nickName"}, text: userField(func(u *User) *string { return &u.NickName })},
	{Attr: AttrTitle, Path: "title", Column: "title", Sortable: true,
		Map: MapRule{Target: "title"}, text: userField(func(u *User) *string { return &u.Title })},
	{Attr: AttrUserType, Path: "userType", Column: "user_type", Sortable: true,
		Map: MapRule{Target: "userType"}, text: userField(func(u *User) *string { return &u.UserType })},
	{Attr: AttrPreferredLanguage, Path: "preferredLanguage", Column: "preferred_language", Sortable: true,
		Map: MapRule{Target: "preferredLanguage"}, text: userField(func(u *User) *string { return &u.PreferredLanguage })},
	{Attr: AttrLocale, Path: "locale", Column: "locale", Sortable: true,
		Map: MapRule{Target: "locale"}, text: userField(func(u *User) *string { return &u.Locale })},
	{Attr: AttrTimezone, Path: "timezone", Column: "timezone", Sortable: true,
		Map: MapRule{Target: "timezone"}, text: userField(func(u *User) *string { return &u.Timezone })},
	{Attr: AttrProfileURL, Path: "profileUrl", Column: "profile_url", Sortable: true,
		Map: MapRule{Target: "profileUrl"}, text: userField(func(u *User) *string { return &u.ProfileURL })},
	{Attr: AttrActive, Path: "active", Type: TypeBoolean, Column: "active", Required: true, Sortable: true,
		Map: MapRule{Target: "active"}, flag: func(u *User) *bool { return &u.Active }},
	{Attr: AttrNameFormatted, Path: "name.formatted", Column: "name_formatted", Sortable: true,
		Map: MapRule{Target: "name.formatted"}, text: nameField(func(n *Name) *string { return &n.Formatted })},
	{Attr: AttrNameFamilyName, Path: "name.familyName", Column: "name_family", Indexed: true, Sortable: true,
		Map: MapRule{Target: "name.familyName"}, text: nameField(func(n *Name) *string { return &n.FamilyName })},
	{Attr: AttrNameGivenName, Path: "name.givenName", Column: "name_given", Sortable: true,
		Map: MapRule{Target: "name.givenName"}, text: nameField(func(n *Name) *string { return &n.GivenName })},
	{Attr: AttrNameMiddleName, Path: "name.middleName", Column: "name_middle", Sortable: true,
		Map: MapRule{Target: "name.middleName"}, text: nameField(func(n *Name) *string { return &n.MiddleName })},
	{Attr: AttrNamePrefix, Path: "name.honorificPrefix", Column: "name_prefix", Sortable: true,
		Map: MapRule{Target: "name.honorificPrefix"}, text: nameField(func(n *Name) *string { return &n.HonorificPrefix })},
	{Attr: AttrNameSuffix, Path: "name.honorificSuffix", Column: "name_suffix", Sortable: true,
		Map: MapRule{Target: "name.honorificSuffix"}, text: nameField(func(n *Name) *string { return &n.HonorificSuffix })},
	{Attr: AttrEmails, Path: "emails", Type: TypeMulti, Values: userValues,
		Map: MapRule{Target: "emails", Types: []string{"work", "home", "other"}}, list: func(u *User) *[]MultiValue { return &u.Emails }},
	{Attr: AttrPhoneNumbers, Path: "phoneNumbers", Type: TypeMulti, Values: userValues,
		Map: MapRule{Target: "phoneNumbers", Types: []string{"work", "mobile", "home"}}, list: func(u *User) *[]MultiValue { return &u.PhoneNumbers }},
	{Attr: AttrIMs, Path: "ims", Type: TypeMulti, Values: userValues,
		list: func(u *User) *[]MultiValue { return &u.IMs }},
	{Attr: AttrPhotos, Path: "photos", Type: TypeMulti, Values: userValues,
		list: func(u *User) *[]MultiValue { return &u.Photos }},
	{Attr: AttrEntitlements, Path: "entitlements", Type: TypeMulti, Values: userValues,
		list: func(u *User) *[]MultiValue { return &u.Entitlements }},
	{Attr: AttrRoles, Path: "roles", Type: TypeMulti, Values: userValues,
		list: func(u *User) *[]MultiValue { return &u.Roles }},
	{Attr: AttrX509Certificates, Path: "x509Certificates", Type: TypeMulti, Values: userValues,
		list: func(u *User) *[]MultiValue { return &u.X509Certificates }},
	{Attr: AttrEmployeeNumber, Schema: EnterpriseSchema, Path: "employeeNumber", Column: "employee_number", Indexed: true, Sortable: true,
		Map: MapRule{Target: "enterprise.employeeNumber"}, text: enterpriseField(func(e *EnterpriseExt) *string { return &e.EmployeeNumber })},
	{Attr: AttrCostCenter, Schema: EnterpriseSchema, Path: "costCenter", Column: "cost_center", Sortable: true,
		Map: MapRule{Target: "enterprise.costCenter"}, text: enterpriseField(func(e *EnterpriseExt) *string { return &e.CostCenter })},
	{Attr: AttrOrganization, Schema: EnterpriseSchema, Path: "organization", Column: "organization", Sortable: true,
		Map: MapRule{Target: "enterprise.organization"}, text: enterpriseField(func(e *EnterpriseExt) *string { return &e.Organization })},
	{Attr: AttrDivision, Schema: EnterpriseSchema, Path: "division", Column: "division", Sortable: true,
		Map: MapRule{Target: "enterprise.division"}, text: enterpriseField(func(e *EnterpriseExt) *string { return &e.Division })},
	{Attr: AttrDepartment, Schema: EnterpriseSchema, Path: "department", Column: "department", Indexed: true, Sortable: true,
		Map: MapRule{Target: "enterprise.department"}, text: enterpriseField(func(e *EnterpriseExt) *string { return &e.Department })},
	{Attr: AttrManager, Schema: EnterpriseSchema, Path: "manager.value", CaseExact: true, Column: "manager_id", Indexed: true, Sortable: true,
		Map: MapRule{Target: "enterprise.manager", SourceKey: true}, text: managerField},
	{Attr: AttrCreated, Path: "meta.created", Type: TypeDateTime, Column: "created", Required: true, Sortable: true,
		instant: func(u *User) *time.Time { return &u.Meta.Created }},
	{Attr: AttrLastModified, Path: "meta.lastModified", Type: TypeDateTime, Column: "last_modified", Required: true, Indexed: true, Sortable: true,
		instant: func(u *User) *time.Time { return &u.Meta.LastModified }},
}

var groupAttrs = []AttrSpec[Group]{
	{Attr: AttrID, Path: "id", CaseExact: true, Column: "id", Required: true, Indexed: true, Sortable: true,
		text: groupField(func(g *Group) *string { return &g.ID })},
	{Attr: AttrExternalID, Path: "externalId", CaseExact: true, Column: "external_id", Indexed: true, Sortable: true,
		Map: MapRule{Target: "externalId"}, text: groupField(func(g *Group) *string { return &g.ExternalID })},
	{Attr: AttrDisplayName, Path: "displayName", Column: "display_name", Required: true, Indexed: true, Sortable: true,
		Map: MapRule{Target: "displayName"}, text: groupField(func(g *Group) *string { return &g.DisplayName })},
	{Attr: AttrMembers, Path: "members", Type: TypeMulti, Values: &ChildTable{Name: "group_members", Subs: []SubAttr{
		{Attr: SubValue, Type: TypeString, CaseExact: true, Column: "member_id", Required: true},
		{Attr: SubType, Type: TypeString, Column: "member_type", Required: true},
	}}},
	{Attr: AttrCreated, Path: "meta.created", Type: TypeDateTime, Column: "created", Required: true, Sortable: true,
		instant: func(g *Group) *time.Time { return &g.Meta.Created }},
	{Attr: AttrLastModified, Path: "meta.lastModified", Type: TypeDateTime, Column: "last_modified", Required: true, Indexed: true, Sortable: true,
		instant: func(g *Group) *time.Time { return &g.Meta.LastModified }},
}

func userField(f func(*User) *string) func(*User, bool) *string {
	return func(u *User, _ bool) *string { return f(u) }
}

func groupField(f func(*Group) *string) func(*Group, bool) *string {
	return func(g *Group, _ bool) *string { return f(g) }
}

func nameField(f func(*Name) *string) func(*User, bool) *string {
	return func(u *User, alloc bool) *string {
		if u.Name == nil {
			if !alloc {
				return nil
			}
			u.Name = &Name{}
		}
		return f(u.Name)
	}
}

func enterpriseField(f func(*EnterpriseExt) *string) func(*User, bool) *string {
	return func(u *User, alloc bool) *string {
		if u.Enterprise == nil {
			if !alloc {
				return nil
			}
			u.Enterprise = &EnterpriseExt{}
		}
		return f(u.Enterprise)
	}
}

func managerField(u *User, alloc bool) *string {
	if u.Enterprise == nil || u.Enterprise.Manager == nil {
		if !alloc {
			return nil
		}
		if u.Enterprise == nil {
			u.Enterprise = &EnterpriseExt{}
		}
		if u.Enterprise.Manager == nil {
			u.Enterprise.Manager = &ManagerRef{}
		}
	}
	return &u.Enterprise.Manager.Value
}
