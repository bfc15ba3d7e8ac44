package scim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/scimgate/scimgate/storage"
)

// Limits on what one resource may hold (README, "Limits"). They bound the
// size of a row and of every response that carries it, and are checked on
// the resource a write would store: after a PATCH is applied, so that no
// sequence of PATCHes grows a resource past what a POST may create.
const (
	// MaxIdentifierChars bounds userName and a group's displayName.
	MaxIdentifierChars = storage.MaxUserNameChars
	// MaxExternalIDChars bounds externalId, which may hold a DN.
	MaxExternalIDChars = storage.MaxExternalIDChars
	// MaxStringChars bounds every other string value.
	MaxStringChars = storage.MaxStringChars
	// MaxCertificateChars bounds x509Certificates values (base64 DER).
	MaxCertificateChars = storage.MaxCertificateChars
	// MaxValues bounds each multi-valued attribute; see storage.MaxValues.
	MaxValues = storage.MaxValues
	// MaxNameChars bounds the names of tokens and sources in the config API.
	MaxNameChars = storage.MaxNameChars
)

// IdentifierProblem says what is wrong with identifier s, or "" when
// nothing is (see storage.IdentifierProblem).
func IdentifierProblem(s string, maxChars int) string { return storage.IdentifierProblem(s, maxChars) }

// normalizeIdentifier returns s in Unicode NFC, so that a composed and a
// decomposed "é" (or the Kelvin sign and "K") are one name, after checking
// it. attr names the attribute in the error.
func normalizeIdentifier(attr, s string, maxChars int) (string, error) {
	if s == "" {
		return s, nil
	}
	if p := IdentifierProblem(s, maxChars); p != "" {
		return "", invalidValue("%s %s", attr, p)
	}
	return norm.NFC.String(s), nil
}

// checkResourceLimits walks a resource document (attribute names as the
// client wrote them) and refuses any string or multi-valued attribute past
// its limit. limits gives top-level attributes their own string limit
// (keys lower-case); skipAttr marks one bounded elsewhere (a group's
// members, by the group size).
func checkResourceLimits(doc map[string]any, limits map[string]int) error {
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		limit, ok := limits[strings.ToLower(k)]
		switch {
		case !ok && strings.HasPrefix(strings.ToLower(k), "x509certificates"):
			limit = MaxCertificateChars
		case !ok:
			limit = MaxStringChars
		case limit == skipAttr:
			continue
		}
		if err := checkValueLimits(k, doc[k], limit, 0); err != nil {
			return err
		}
	}
	return nil
}

const skipAttr = -1

var (
	userLimits  = map[string]int{"username": MaxIdentifierChars, "externalid": MaxExternalIDChars}
	groupLimits = map[string]int{"displayname": MaxIdentifierChars, "externalid": MaxExternalIDChars, "members": skipAttr}
)

// checkValueLimits checks v, the value at path, against limit characters
// per string. A SCIM resource nests at most three levels (extension,
// multi-valued complex attribute, value), so deeper documents are refused
// rather than walked.
func checkValueLimits(path string, v any, limit, depth int) error {
	if depth > maxDocDepth {
		return invalidValue("%s nests deeper than a SCIM resource can", path)
	}
	switch x := v.(type) {
	case string:
		if len(x) > limit { // bytes >= characters: count only when it may matter
			if n := utf8.RuneCountInString(x); n > limit {
				return invalidValue("%s has %d characters; the limit is %d", path, n, limit)
			}
		}
	case []any:
		if len(x) > MaxValues {
			return invalidValue("%s has %d values; the limit is %d", path, len(x), MaxValues)
		}
		for i, e := range x {
			if err := checkValueLimits(fmt.Sprintf("%s[%d]", path, i), e, limit, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := checkValueLimits(path+"."+k, x[k], limit, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

const maxDocDepth = 4

// normalizeUser checks u's identifiers and brings them to NFC.
func normalizeUser(u *storage.User) error {
	var err error
	if u.UserName, err = normalizeIdentifier("userName", u.UserName, MaxIdentifierChars); err != nil {
		return err
	}
	u.ExternalID, err = normalizeIdentifier("externalId", u.ExternalID, MaxExternalIDChars)
	return err
}

// normalizeGroup checks g's identifiers and brings them to NFC.
func normalizeGroup(g *storage.Group) error {
	var err error
	if g.DisplayName, err = normalizeIdentifier("displayName", g.DisplayName, MaxIdentifierChars); err != nil {
		return err
	}
	g.ExternalID, err = normalizeIdentifier("externalId", g.ExternalID, MaxExternalIDChars)
	return err
}
