package storage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

func TestCheckFilterText(t *testing.T) {
	terms := func(n int) string { return strings.Repeat(`title eq "x" or `, n-1) + `title eq "x"` }
	cases := []struct {
		name, filter string
		problem      string // "" for a filter within the limits
	}{
		{"plain", `userName eq "a"`, ""},
		{"parentheses inside a string", `title eq "` + strings.Repeat("(", 100) + `"`, ""},
		{"escaped quote inside a string", `title eq "\"((((` + strings.Repeat("(", 100) + `"`, ""},
		{"and/or inside names and strings", `color eq "a or b and c" and urn:ietf:params:scim:schemas:core:2.0:User:order pr`, ""},
		{"depth at the limit", strings.Repeat("(", storage.MaxFilterDepth) + "a pr" + strings.Repeat(")", storage.MaxFilterDepth), ""},
		{"depth past the limit", strings.Repeat("(", storage.MaxFilterDepth+1) + "a pr" + strings.Repeat(")", storage.MaxFilterDepth+1), "nests 33 levels deep; the limit is 32"},
		{"brackets count", strings.Repeat("not (", storage.MaxFilterDepth) + "emails[value pr]" + strings.Repeat(")", storage.MaxFilterDepth), "nests 33 levels deep"},
		{"terms at the limit", terms(storage.MaxFilterTerms), ""},
		{"terms past the limit", terms(storage.MaxFilterTerms + 1), "has 1001 terms joined by and/or; the limit is 1000"},
		{"OR in upper case", strings.Repeat("a pr OR ", storage.MaxFilterTerms) + "a pr", "has 1001 terms"},
		{"too long", `title eq "` + strings.Repeat("x", storage.MaxFilterLength) + `"`, "bytes long; the limit is 65536"},
		{"unterminated string", `title eq "((((`, ""},
	}
	for _, c := range cases {
		err := storage.CheckFilterText(c.filter)
		switch {
		case c.problem == "" && err != nil:
			t.Errorf("%s: %v, want no problem", c.name, err)
		case c.problem != "" && (!errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), c.problem)):
			t.Errorf("%s: err = %v, want ErrInvalid saying %q", c.name, err, c.problem)
		}
	}
}
