package ldap

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// attrSpelling maps lower-cased attribute names to the spelling the
// mapping uses, since servers answer in their own case.
func attrSpelling(requested []string) map[string]string {
	m := make(map[string]string, len(requested))
	for _, a := range requested {
		m[strings.ToLower(a)] = a
	}
	return m
}

// entryDN is the plain DN of an entry read with the extended-DN control.
func entryDN(e *goldap.Entry) string {
	ext, _ := parseExtendedDN(e.DN)
	return ext.DN
}

// entryGUID reads and decodes objectGUID; the error is the problem.
func entryGUID(e *goldap.Entry) (string, *sources.Problem) {
	raw := e.GetEqualFoldRawAttributeValues("objectGUID")
	if len(raw) == 0 {
		return "", &sources.Problem{Where: entryDN(e), Message: "the entry has no objectGUID (is the bind account allowed to read it?)"}
	}
	guid, err := decodeGUID(raw[0])
	if err != nil {
		return "", &sources.Problem{Where: entryDN(e), Message: err.Error()}
	}
	return guid, nil
}

// commonAttrs converts an entry's attributes to mapping inputs: the first
// value of each, binary and time values in readable form. Attributes with
// options (member;range=...) are left to their own readers.
func commonAttrs(e *goldap.Entry, spelling map[string]string) map[string]string {
	attrs := make(map[string]string, len(e.Attributes)+4)
	for _, a := range e.Attributes {
		if a == nil || strings.Contains(a.Name, ";") || len(a.ByteValues) == 0 {
			continue
		}
		lower := strings.ToLower(a.Name)
		name, ok := spelling[lower]
		if !ok {
			name = a.Name
		}
		raw := a.ByteValues[0]
		switch lower {
		case "objectguid":
			if g, err := decodeGUID(raw); err == nil {
				attrs[name] = g
			}
		case "objectsid":
			if sid, err := decodeSID(raw); err == nil {
				attrs[name] = sid
			}
		case "manager":
			if ext, ok := parseExtendedDN(string(raw)); ok {
				attrs[name] = ext.GUID
				attrs["managerDN"] = ext.DN
			} else {
				attrs["managerDN"] = string(raw)
			}
		case "accountexpires", "pwdlastset", "lastlogontimestamp", "lastlogon", "badpasswordtime", "lockouttime":
			if t, never, err := parseFileTime(string(raw)); err == nil && !never {
				attrs[name] = t.Format(time.RFC3339)
			}
		case "whenchanged", "whencreated":
			if t, err := parseGeneralizedTime(string(raw)); err == nil {
				attrs[name] = t.Format(time.RFC3339)
			}
		default:
			if utf8.Valid(raw) {
				attrs[name] = string(raw)
			} else {
				attrs[name] = base64.StdEncoding.EncodeToString(raw)
			}
		}
	}
	attrs["dn"] = entryDN(e)
	return attrs
}

// userRecord builds a user record, or the problem that stops it.
func userRecord(e *goldap.Entry, spelling map[string]string, userNameAttr string, now time.Time) (sources.UserRecord, *sources.Problem) {
	guid, problem := entryGUID(e)
	if problem != nil {
		return sources.UserRecord{}, problem
	}
	attrs := commonAttrs(e, spelling)
	off, err := disabled(e.GetEqualFoldAttributeValue("userAccountControl"))
	if err != nil {
		return sources.UserRecord{}, &sources.Problem{Where: attrs["dn"], Message: err.Error()}
	}
	gone, err := expired(e.GetEqualFoldAttributeValue("accountExpires"), now)
	if err != nil {
		return sources.UserRecord{}, &sources.Problem{Where: attrs["dn"], Message: "accountExpires: " + err.Error()}
	}
	attrs["active"] = "true"
	if off || gone {
		attrs["active"] = "false"
	}
	// Accounts made by old tools may lack a UPN: fall back to the other.
	other := "sAMAccountName"
	if userNameAttr == other {
		other = "userPrincipalName"
	}
	attrs["userName"] = e.GetEqualFoldAttributeValue(userNameAttr)
	if attrs["userName"] == "" {
		attrs["userName"] = e.GetEqualFoldAttributeValue(other)
	}
	attrs["employeeIDOrNumber"] = e.GetEqualFoldAttributeValue("employeeID")
	if attrs["employeeIDOrNumber"] == "" {
		attrs["employeeIDOrNumber"] = e.GetEqualFoldAttributeValue("employeeNumber")
	}
	return sources.UserRecord{Key: guid, Attrs: attrs}, nil
}
