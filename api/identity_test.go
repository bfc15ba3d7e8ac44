package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// A userName is one identity whatever its Unicode form: composed and
// decomposed accents, and the Kelvin sign (canonically "K"), name the same
// user, stored in NFC, and filters compare in the same folded form.
func TestUserNameIdentity(t *testing.T) {
	const (
		composed   = "jos\u00e9@example.com"  // é as one code point
		decomposed = "jose\u0301@example.com" // e + combining acute
		kelvin     = "\u212a@example.com"     // KELVIN SIGN
	)
	cases := []struct {
		name, first, second, stored string
		filters                     []string // each finds the user
	}{
		{"composed then decomposed", composed, decomposed, composed,
			[]string{`userName eq "` + decomposed + `"`, `userName eq "JOS\u00c9@EXAMPLE.COM"`, `userName sw "JOSE` + "\u0301" + `"`, `userName co "e\u0301@"`}},
		{"decomposed then composed", decomposed, composed, composed,
			[]string{`userName eq "` + composed + `"`, "userName ew \"\u00e9@example.com\""}},
		{"Kelvin sign then k", kelvin, "k@example.com", "K@example.com",
			[]string{`userName eq "K@EXAMPLE.COM"`, `userName eq "` + kelvin + `"`, `userName sw "k@"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			first := e.do(t, "POST", "/Users", e.Writer, map[string]any{"schemas": []string{userURN}, "userName": c.first})
			if first.Status != http.StatusCreated || first.Body["userName"] != c.stored {
				t.Fatalf("%v\nwant 201 with userName %q", first, c.stored)
			}
			second := e.do(t, "POST", "/Users", e.Writer, map[string]any{"schemas": []string{userURN}, "userName": c.second})
			if second.Status != http.StatusConflict || second.Body["scimType"] != "uniqueness" {
				t.Fatalf("%v\nwant 409 uniqueness", second)
			}
			for _, f := range c.filters {
				r := e.do(t, "GET", "/Users?filter="+url.QueryEscape(f), e.Reader, nil)
				if fmt.Sprint(at(r.JSON, "totalResults")) != "1" || at(r.JSON, "Resources", 0, "id") != first.Body["id"] {
					t.Fatalf("filter %s: %v\nwant the one user", f, r)
				}
			}
		})
	}
}

// Identifiers that cannot be told apart from another, or that break logs,
// are refused with 400 invalidValue naming the attribute; nothing is stored.
func TestIdentifierCharacters(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, body, detail string
	}{
		{"invalid UTF-8", "{\"schemas\":[\"" + userURN + "\"],\"userName\":\"a\xffb@example.com\"}", "not valid UTF-8"},
		{"zero-width space", `{"schemas":["` + userURN + `"],"userName":"a\u200bb@example.com"}`, "userName holds the character U+200B"},
		{"byte-order mark", `{"schemas":["` + userURN + `"],"userName":"\ufeffab@example.com"}`, "U+FEFF"},
		{"NUL", `{"schemas":["` + userURN + `"],"userName":"ab\u0000@example.com"}`, "U+0000"},
		{"newline", `{"schemas":["` + userURN + `"],"userName":"ab\n@example.com"}`, "U+000A"},
		{"C1 control", `{"schemas":["` + userURN + `"],"userName":"ab\u0085@example.com"}`, "U+0085"},
		{"DEL", `{"schemas":["` + userURN + `"],"userName":"ab\u007f@example.com"}`, "U+007F"},
		{"line separator", `{"schemas":["` + userURN + `"],"userName":"ab\u2028@example.com"}`, "U+2028"},
		{"right-to-left mark", `{"schemas":["` + userURN + `"],"userName":"ab\u200f@example.com"}`, "U+200F"},
		{"externalId control", `{"schemas":["` + userURN + `"],"userName":"ok@example.com","externalId":"x\u0007"}`, "externalId holds the character U+0007"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantInvalidValue(t, e.do(t, "POST", "/Users", e.Writer, c.body), c.detail)
		})
	}
	if r := e.do(t, "GET", "/Users", e.Reader, nil); fmt.Sprint(at(r.JSON, "totalResults")) != "0" {
		t.Fatalf("a refused user was stored: %v", r)
	}
	created := e.do(t, "POST", "/Users", e.Writer, map[string]any{"schemas": []string{userURN}, "userName": "ok@example.com"})
	if created.Status != http.StatusCreated {
		t.Fatalf("plain user: %v", created)
	}
	r := e.do(t, "PATCH", "/Users/"+created.Body["id"].(string), e.Writer, map[string]any{"schemas": []string{patchURN},
		"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": "ok\u200d@example.com"}}})
	wantInvalidValue(t, r, "userName holds the character U+200D")
}
