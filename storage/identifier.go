package storage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxUserNameChars bounds a userName (and a group's displayName), for SCIM
// clients and sources alike: longer than any directory's login or group
// name (Entra allows 113 characters for a userPrincipalName, AD 256 for a
// group name).
const MaxUserNameChars = 256

// FoldKey is the form in which case-insensitive values are compared and
// kept unique: NFC first, so composed and decomposed accents are one value
// (and the Kelvin sign is "K"), then lower-cased in Go, so every store and
// the sync engine agree whatever the database's own lower() or collation
// does (SQLite's NOCASE folds ASCII only; PostgreSQL's lower() follows the
// server's locale).
func FoldKey(s string) string { return strings.ToLower(norm.NFC.String(s)) }

// IdentifierProblem says what is wrong with identifier s, or "" when
// nothing is: invalid UTF-8, more than maxChars characters, a control
// character (C0, DEL, C1), a format character (zero-width space, joiners,
// direction marks, BOM, ...), a line or paragraph separator, or U+FFFD,
// which is what invalid UTF-8 in a JSON body decodes to. Each of these
// makes two names that look the same differ, or breaks the logs and
// terminals that print the name.
func IdentifierProblem(s string, maxChars int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > maxChars {
		return fmt.Sprintf("has %d characters; the limit is %d", n, maxChars)
	}
	for i, r := range s {
		if r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return fmt.Sprintf("holds the character %U at byte %d (control, format or invalid UTF-8 characters are not allowed)", r, i)
		}
	}
	return ""
}
