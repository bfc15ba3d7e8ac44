// Package storage holds scimgate's domain types, the store interfaces the
// rest of the program depends on, the filter tree that queries are written
// in, and the sentinel errors every store returns. It imports nothing of ours.
package storage

import "time"

// EnterpriseSchema is the URN of the SCIM enterprise user extension; the
// JSON form of User nests the enterprise attributes under it, as SCIM does.
const EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// User is a person in the directory. Its JSON encoding is the SCIM
// representation of the resource's own attributes (no id, schemas or meta),
// which is what the store keeps as the resource document, so that reads can
// be served without re-encoding.
type User struct {
	ID    string `json:"-"`
	Owner string `json:"-"` // owning source: a pull source id or a push token id
	Meta  Meta   `json:"-"`

	ExternalID        string         `json:"externalId,omitempty"`
	UserName          string         `json:"userName"`
	Name              *Name          `json:"name,omitempty"`
	DisplayName       string         `json:"displayName,omitempty"`
	NickName          string         `json:"nickName,omitempty"`
	ProfileURL        string         `json:"profileUrl,omitempty"`
	Title             string         `json:"title,omitempty"`
	UserType          string         `json:"userType,omitempty"`
	PreferredLanguage string         `json:"preferredLanguage,omitempty"`
	Locale            string         `json:"locale,omitempty"`
	Timezone          string         `json:"timezone,omitempty"`
	Active            bool           `json:"active"`
	Emails            []MultiValue   `json:"emails,omitempty"`
	PhoneNumbers      []MultiValue   `json:"phoneNumbers,omitempty"`
	IMs               []MultiValue   `json:"ims,omitempty"`
	Photos            []MultiValue   `json:"photos,omitempty"`
	Addresses         []Address      `json:"addresses,omitempty"`
	Entitlements      []MultiValue   `json:"entitlements,omitempty"`
	Roles             []MultiValue   `json:"roles,omitempty"`
	X509Certificates  []MultiValue   `json:"x509Certificates,omitempty"`
	Enterprise        *EnterpriseExt `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
}

// Name is the SCIM name complex attribute.
type Name struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

// MultiValue is one element of a multi-valued attribute such as emails.
type MultiValue struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Address is one element of the addresses attribute.
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
}

// EnterpriseExt holds the enterprise extension attributes.
type EnterpriseExt struct {
	EmployeeNumber string      `json:"employeeNumber,omitempty"`
	CostCenter     string      `json:"costCenter,omitempty"`
	Organization   string      `json:"organization,omitempty"`
	Division       string      `json:"division,omitempty"`
	Department     string      `json:"department,omitempty"`
	Manager        *ManagerRef `json:"manager,omitempty"`
}

// ManagerRef points at another user by id.
type ManagerRef struct {
	Value       string `json:"value,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// Meta is the bookkeeping every resource carries. Version grows by one on
// every write and is what the ETag is made from.
type Meta struct {
	Created      time.Time
	LastModified time.Time
	Version      int64
}
