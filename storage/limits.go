package storage

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Limits on what one resource may hold (README, "Limits"), the same for
// SCIM clients and sources: they bound the size of a row and of every
// response that carries it.
const (
	// MaxExternalIDChars bounds externalId, which may hold a DN.
	MaxExternalIDChars = 1024
	// MaxStringChars bounds every other string value.
	MaxStringChars = 4096
	// MaxCertificateChars bounds x509Certificates values (base64 DER).
	MaxCertificateChars = 16384
	// MaxValues bounds each multi-valued attribute (emails, phoneNumbers,
	// addresses, roles, ...). A group's members are bounded by the group
	// size instead.
	MaxValues = 100
)

// StringLimit is the character limit of the string attribute at the
// top-level attribute attr (any case): userName and displayName are
// identifiers, externalId may hold a DN, certificates are long, the rest
// share MaxStringChars.
func StringLimit(attr string) int {
	switch strings.ToLower(attr) {
	case "username":
		return MaxUserNameChars
	case "externalid":
		return MaxExternalIDChars
	case "x509certificates":
		return MaxCertificateChars
	}
	return MaxStringChars
}

// UserLimitProblem says which attribute of u is past its limit, or "".
// The sync engine checks every mapped source record with it, so a source
// cannot store what a SCIM client may not.
func UserLimitProblem(u *User) string {
	return limitProblem(reflect.ValueOf(u).Elem(), "", MaxStringChars)
}

// GroupLimitProblem is UserLimitProblem for a group (its members are
// bounded by the group size, not here).
func GroupLimitProblem(g *Group) string {
	if p := IdentifierProblem(g.DisplayName, MaxUserNameChars); p != "" {
		return "displayName " + p
	}
	if n := utf8.RuneCountInString(g.ExternalID); n > MaxExternalIDChars {
		return fmt.Sprintf("externalId has %d characters; the limit is %d", n, MaxExternalIDChars)
	}
	return ""
}

// limitProblem walks the exported, JSON-named fields of v; the top-level
// field's name picks the string limit of everything under it.
func limitProblem(v reflect.Value, path string, limit int) string {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); len(s) > limit { // bytes >= characters
			if n := utf8.RuneCountInString(s); n > limit {
				return fmt.Sprintf("%s has %d characters; the limit is %d", path, n, limit)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return limitProblem(v.Elem(), path, limit)
		}
	case reflect.Slice:
		if v.Len() > MaxValues {
			return fmt.Sprintf("%s has %d values; the limit is %d", path, v.Len(), MaxValues)
		}
		for i := range v.Len() {
			if p := limitProblem(v.Index(i), fmt.Sprintf("%s[%d]", path, i), limit); p != "" {
				return p
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" || !t.Field(i).IsExported() {
				continue
			}
			sub, l := name, limit
			if path == "" {
				l = StringLimit(name)
			} else {
				sub = path + "." + name
			}
			if p := limitProblem(v.Field(i), sub, l); p != "" {
				return p
			}
		}
	}
	return ""
}
