package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// Filters at and beyond the documented limits (storage.MaxFilterLength,
// MaxFilterDepth, MaxFilterTerms): within them a filter answers 200 with
// the right resources, beyond them 400 invalidFilter naming the limit,
// and the server goes on answering. A filter of 100,000 parentheses used
// to kill the process with a fatal stack overflow in the filter parser.

// listFilter runs one list request with filter f, as GET or as POST
// /.search, on resource ("Users" or "Groups").
func (e *env) listFilter(t *testing.T, method, resource, f string) *resp {
	t.Helper()
	if method == "GET" {
		return e.do(t, "GET", "/"+resource+"?count=1&filter="+url.QueryEscape(f), e.Reader, nil)
	}
	return e.do(t, "POST", "/"+resource+"/.search", e.Reader, map[string]any{
		"schemas": []string{searchURN}, "filter": f, "count": 1,
	})
}

func TestFilterLimits(t *testing.T) {
	e := newEnv(t)
	const n = 1000
	var userIDs, groupIDs, userNames []string
	for i := range n + 5 {
		u, err := e.Store.CreateUser(t.Context(), storage.User{UserName: fmt.Sprintf("user%04d@example.com", i), Active: true, ExternalID: fmt.Sprintf("ext-%04d", i)})
		if err != nil {
			t.Fatal(err)
		}
		g, err := e.Store.CreateGroup(t.Context(), storage.Group{DisplayName: fmt.Sprintf("group %04d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if i < n {
			userIDs, groupIDs = append(userIDs, u.ID), append(groupIDs, g.ID)
			userNames = append(userNames, strings.ToUpper(u.UserName)) // userName compares case-insensitively
		}
	}
	orChain := func(attr string, values []string) string {
		terms := make([]string, len(values))
		for i, v := range values {
			terms[i] = fmt.Sprintf("%s eq %q", attr, v)
		}
		return strings.Join(terms, " or ")
	}
	deep := strings.Repeat("(", 100_000) + `userName eq "x"` + strings.Repeat(")", 100_000)
	deepNot := strings.Repeat("not (", 40) + `userName eq "x"` + strings.Repeat(")", 40)
	atDepth := map[string]string{
		"Users":  strings.Repeat("not (", storage.MaxFilterDepth) + `userName eq "user0001@example.com"` + strings.Repeat(")", storage.MaxFilterDepth),
		"Groups": strings.Repeat("not (", storage.MaxFilterDepth) + `displayName eq "group 0001"` + strings.Repeat(")", storage.MaxFilterDepth),
	}
	tooMany := orChain("userName", slices.Concat(userNames, []string{"ONE-TOO-MANY"}))
	tooLong := `userName eq "` + strings.Repeat("a", storage.MaxFilterLength) + `"`

	for _, method := range []string{"GET", "POST"} {
		for _, res := range []string{"Users", "Groups"} {
			t.Run(method+" "+res, func(t *testing.T) {
				ids := userIDs
				if res == "Groups" {
					ids = groupIDs
				}
				ok := []struct {
					name, filter string
					total        int
				}{
					{"1,000 ids", orChain("id", ids), n},
					{"1,000 ids, a third of them unknown", orChain("id", slices.Concat(ids[:667], fakeIDs(333))), 667},
					{"even nesting depth at the limit", atDepth[res], 1},
				}
				if res == "Users" {
					ok = append(ok,
						struct {
							name, filter string
							total        int
						}{"1,000 userNames in upper case", orChain("userName", userNames), n},
						struct {
							name, filter string
							total        int
						}{"999 externalIds and a title", orChain("externalId", extIDs(999)) + ` or title eq "none"`, 999})
				}
				for _, c := range ok {
					r := e.listFilter(t, method, res, c.filter)
					wantJSON(t, r, 200)
					if got := r.num(t, "totalResults"); got != c.total {
						t.Errorf("%s: totalResults = %d, want %d", c.name, got, c.total)
					}
				}
				bad := []struct{ name, filter, detail string }{
					{"100,000 parentheses", deep, fmt.Sprintf("nests 100000 levels deep; the limit is %d", storage.MaxFilterDepth)},
					{"40 nested not", deepNot, fmt.Sprintf("nests 40 levels deep; the limit is %d", storage.MaxFilterDepth)},
					{"1,001 terms", tooMany, fmt.Sprintf("has 1001 terms joined by and/or; the limit is %d", storage.MaxFilterTerms)},
					{"too long", tooLong, fmt.Sprintf("bytes long; the limit is %d", storage.MaxFilterLength)},
				}
				for _, c := range bad {
					r := e.listFilter(t, method, res, c.filter)
					wantError(t, r, 400, "invalidFilter")
					if !strings.Contains(r.str("detail"), c.detail) {
						t.Errorf("%s: detail = %q, want it to say %q", c.name, r.str("detail"), c.detail)
					}
				}
				// Still answering.
				wantJSON(t, e.do(t, "GET", "/"+res+"?count=0", e.Reader, nil), 200)
			})
		}
	}
	t.Run("other routes", func(t *testing.T) {
		// The library serves these itself; a deep filter must not reach it.
		for _, path := range []string{"/?filter=", "/Schemas?filter=", "/Users/" + userIDs[0] + "?filter="} {
			r := e.do(t, "GET", path+url.QueryEscape(deep), e.Reader, nil)
			wantError(t, r, 400, "invalidFilter")
		}
		r := e.do(t, "POST", "/.search", e.Reader, map[string]any{"schemas": []string{searchURN}, "filter": deep})
		if r.Status != 400 {
			t.Errorf("POST /.search with a deep filter: %v", r)
		}
		wantJSON(t, e.do(t, "GET", "/Users?count=0", e.Reader, nil), 200)
	})
}

// fakeIDs returns k well-formed ids that name no resource.
func fakeIDs(k int) []string {
	ids := make([]string, k)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-7000-8000-%012d", i)
	}
	return ids
}

func extIDs(k int) []string {
	ids := make([]string, k)
	for i := range ids {
		ids[i] = fmt.Sprintf("ext-%04d", i)
	}
	return ids
}

// TestSourceScopeLimits: a source's scope is a filter too; one nested
// 100,000 deep is refused as the scope's problem, and the API answers on.
func TestSourceScopeLimits(t *testing.T) {
	e := newAPIEnv(t)
	deep := strings.Repeat("(", 100_000) + `department eq "Sales"` + strings.Repeat(")", 100_000)
	src := map[string]any{"name": "deep", "kind": "csv", "settings": map[string]any{"usersPath": "/tmp/u.csv"}, "scope": deep}
	eobj := e.call(t, "POST", "/api/v1/sources", e.Admin, src).wantErr(t, 422, "invalid_config")
	fields, _ := eobj["fields"].(map[string]any)
	if want := fmt.Sprintf("nests 100000 levels deep; the limit is %d", storage.MaxFilterDepth); !strings.Contains(fmt.Sprint(fields["scope"]), want) {
		t.Errorf("scope problem = %v, want it to say %q", fields["scope"], want)
	}
	src["scope"] = `department eq "Sales"`
	id := e.call(t, "POST", "/api/v1/sources", e.Admin, src).want(t, 201).str("id")
	e.call(t, "PATCH", "/api/v1/sources/"+id, e.Admin, map[string]any{"scope": deep}).wantErr(t, 422, "invalid_config")
	if got := e.call(t, "GET", "/api/v1/sources/"+id, e.Admin, nil).want(t, 200).str("scope"); got != `department eq "Sales"` {
		t.Errorf("scope after a refused PATCH = %q", got)
	}
}
