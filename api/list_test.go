package api_test

import (
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// wantPage checks the ListResponse envelope: schemas, and totalResults,
// startIndex and itemsPerPage as JSON integers, itemsPerPage being the
// number of resources returned.
func wantPage(t *testing.T, r *resp, total, startIndex, items int) {
	t.Helper()
	wantJSON(t, r, 200)
	if s := r.list("schemas"); len(s) != 1 || s[0] != listURN {
		t.Errorf("%v\nschemas = %v", r, r.get("schemas"))
	}
	if got := r.num(t, "totalResults"); got != total {
		t.Errorf("%v\ntotalResults = %d, want %d", r, got, total)
	}
	if got := len(r.list("Resources")); got != items {
		t.Errorf("%v\n%d Resources, want %d", r, got, items)
	}
	if items > 0 || r.has("startIndex") {
		if got := r.num(t, "startIndex"); got != startIndex {
			t.Errorf("%v\nstartIndex = %d, want %d", r, got, startIndex)
		}
	}
	if items > 0 || r.has("itemsPerPage") {
		if got := r.num(t, "itemsPerPage"); got != items {
			t.Errorf("%v\nitemsPerPage = %d, want %d (the number returned)", r, got, items)
		}
	}
	if items > 0 && r.list("Resources") == nil {
		t.Errorf("%v\nResources missing", r)
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	all := seedKeys()
	byName := []string{"alice", "bob", "carol", "dave", "erin", "frank", "obrien", "zoe"}
	cases := []struct {
		query       string
		start       int
		want        []string
		wantItemsOK bool
	}{
		{"", 1, all, true},
		{"startIndex=1&count=3", 1, all[0:3], true},
		{"startIndex=4&count=3", 4, all[3:6], true},
		{"startIndex=7&count=3", 7, all[6:8], true},
		{"startIndex=8&count=5", 8, all[7:8], true},
		{"startIndex=9&count=3", 9, nil, true},
		{"startIndex=100", 100, nil, true},
		{"startIndex=0&count=2", 1, all[0:2], true}, // below 1 means 1
		{"startIndex=-4&count=2", 1, all[0:2], true},
		{"count=-1", 1, nil, true}, // below 0 means 0
		{"count=5000", 1, all, true},
		{"sortBy=userName&startIndex=3&count=2", 3, byName[2:4], true},
		{"sortBy=userName&sortOrder=descending&startIndex=2&count=3", 2, []string{"obrien", "frank", "erin"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			r := e.do(t, "GET", "/Users?"+tc.query, e.Reader, nil)
			wantPage(t, r, len(all), tc.start, len(tc.want))
			if got := s.keysOf(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("page = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("pages cover everything once", func(t *testing.T) {
		var got []string
		for start := 1; start <= len(all); start += 3 {
			r := e.do(t, "GET", "/Users?sortBy=name.familyName&count=3&startIndex="+strconv.Itoa(start), e.Reader, nil)
			got = append(got, s.keysOf(t, r)...)
		}
		want := []string{"bob", "dave", "zoe", "frank", "carol", "obrien", "erin", "alice"}
		if !slices.Equal(got, want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
	})
}

func TestListCountZero(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	for _, q := range []string{"count=0", `count=0&filter=active eq true`} {
		r := e.do(t, "GET", "/Users?"+strings.ReplaceAll(q, " ", "%20"), e.Reader, nil)
		want := 8
		if strings.Contains(q, "active") {
			want = 6
		}
		wantPage(t, r, want, 1, 0)
	}
}

func TestListSorting(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	cases := []struct {
		query string
		want  []string
	}{
		{"sortBy=userName", []string{"alice", "bob", "carol", "dave", "erin", "frank", "obrien", "zoe"}},
		{"sortBy=userName&sortOrder=ascending", []string{"alice", "bob", "carol", "dave", "erin", "frank", "obrien", "zoe"}},
		{"sortBy=userName&sortOrder=descending", []string{"zoe", "obrien", "frank", "erin", "dave", "carol", "bob", "alice"}},
		{"sortBy=name.familyName", []string{"bob", "dave", "zoe", "frank", "carol", "obrien", "erin", "alice"}},
		{"sortBy=name.familyName&sortOrder=descending", []string{"alice", "erin", "obrien", "carol", "frank", "zoe", "dave", "bob"}},
		{"sortBy=" + url.QueryEscape("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName") + "&sortOrder=descending", []string{"zoe", "obrien", "frank", "erin", "dave", "carol", "bob", "alice"}},
		{"sortBy=userName&sortOrder=descending&filter=" + url.QueryEscape(`title eq "Engineer"`), []string{"frank", "carol", "alice"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			r := e.do(t, "GET", "/Users?"+tc.query, e.Reader, nil)
			wantPage(t, r, len(tc.want), 1, len(tc.want))
			if got := s.keysOf(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("order = %v, want %v", got, tc.want)
			}
		})
	}
	for _, q := range []string{"sortBy=nosuch", "sortBy=emails", "sortBy=userName&sortOrder=sideways"} {
		r := e.do(t, "GET", "/Users?"+q, e.Reader, nil)
		wantStatus(t, r, 400)
	}
}

func TestListProjection(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	cases := []struct {
		name, query string
		check       func(t *testing.T, key string, res map[string]any)
	}{
		{"attributes=userName", "attributes=userName", func(t *testing.T, key string, res map[string]any) {
			if got := keys(res); !slices.Equal(got, []string{"id", "schemas", "userName"}) {
				t.Errorf("%s: keys = %v, want [id schemas userName]", key, got)
			}
		}},
		{"attributes=name.familyName,emails.value", "attributes=name.familyName,emails.value", func(t *testing.T, key string, res map[string]any) {
			if got := keys(res); !slices.Equal(got, []string{"emails", "id", "name", "schemas"}) {
				t.Errorf("%s: keys = %v", key, got)
			}
			if got := keys(res["name"]); !slices.Equal(got, []string{"familyName"}) {
				t.Errorf("%s: name keys = %v", key, got)
			}
			for _, em := range res["emails"].([]any) {
				if got := keys(em); !slices.Equal(got, []string{"value"}) {
					t.Errorf("%s: email keys = %v", key, got)
				}
			}
		}},
		{"excludedAttributes=emails", "excludedAttributes=emails", func(t *testing.T, key string, res map[string]any) {
			if _, ok := res["emails"]; ok {
				t.Errorf("%s: emails present", key)
			}
			for _, k := range []string{"id", "schemas", "userName", "name", "active", "meta"} {
				if _, ok := res[k]; !ok {
					t.Errorf("%s: %s missing", key, k)
				}
			}
		}},
		{"excludedAttributes=emails,meta,name", "excludedAttributes=emails,meta,name", func(t *testing.T, key string, res map[string]any) {
			for _, k := range []string{"emails", "meta", "name"} {
				if _, ok := res[k]; ok {
					t.Errorf("%s: %s present", key, k)
				}
			}
		}},
		{"excludedAttributes=id,schemas keeps them", "excludedAttributes=id,schemas", func(t *testing.T, key string, res map[string]any) {
			if res["id"] != s.ids[key] || res["schemas"] == nil {
				t.Errorf("%s: id/schemas dropped: %v", key, keys(res))
			}
		}},
		{"enterprise department by URN", "attributes=" + url.QueryEscape(entURN+":department"), func(t *testing.T, key string, res map[string]any) {
			want := []string{"id", "schemas", entURN}
			if key == "erin" { // no enterprise attributes
				want = []string{"id", "schemas"}
			}
			if got := keys(res); !slices.Equal(got, want) {
				t.Errorf("%s: keys = %v, want %v", key, got, want)
			}
			if key != "erin" {
				if got := keys(res[entURN]); !slices.Equal(got, []string{"department"}) {
					t.Errorf("%s: enterprise keys = %v", key, got)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "GET", "/Users?"+tc.query, e.Reader, nil)
			wantPage(t, r, 8, 1, 8)
			for _, res := range r.list("Resources") {
				m := res.(map[string]any)
				un, _ := m["userName"].(string)
				key := s.names[un]
				if key == "" {
					// projected away: find it by id
					for k, id := range s.ids {
						if id == m["id"] {
							key = k
						}
					}
				}
				tc.check(t, key, m)
			}
			// The same on a single resource.
			one := e.do(t, "GET", "/Users/"+s.ids["alice"]+"?"+tc.query, e.Reader, nil)
			wantJSON(t, one, 200)
			tc.check(t, "alice", one.Body)
		})
	}
	// department values are right.
	r := e.do(t, "GET", "/Users?sortBy=userName&attributes="+url.QueryEscape(entURN+":department"), e.Reader, nil)
	var got []string
	for _, res := range r.list("Resources") {
		d, _ := at(res, entURN, "department").(string)
		got = append(got, d)
	}
	if want := []string{"R&D", "Sales", "R&D", "Sales", "", "Support", "Support", "R&D"}; !slices.Equal(got, want) {
		t.Errorf("departments = %v, want %v", got, want)
	}
}

// TestSearchMatchesGet: POST /Users/.search with parameters in the body
// answers exactly what GET /Users with them in the query does.
func TestSearchMatchesGet(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	cases := []map[string]any{
		{},
		{"startIndex": 2, "count": 3},
		{"count": 0},
		{"sortBy": "userName", "sortOrder": "descending"},
		{"sortBy": "name.familyName", "startIndex": 3, "count": 4},
		{"attributes": []string{"userName"}},
		{"excludedAttributes": []string{"emails"}},
		{"attributes": []string{entURN + ":department"}, "sortBy": "userName"},
		{"filter": `emails[type eq "work" and value co "@example.com"]`, "sortBy": "userName"},
		{"filter": `title eq "nobody"`},
	}
	for _, params := range cases {
		q := url.Values{}
		body := map[string]any{"schemas": []string{searchURN}}
		for k, v := range params {
			body[k] = v
			switch v := v.(type) {
			case []string:
				q.Set(k, strings.Join(v, ","))
			case string:
				q.Set(k, v)
			case int:
				q.Set(k, strconv.Itoa(v))
			}
		}
		t.Run(q.Encode(), func(t *testing.T) {
			g := e.do(t, "GET", "/Users?"+q.Encode(), e.Reader, nil)
			wantJSON(t, g, 200)
			p := e.do(t, "POST", "/Users/.search", e.Reader, body)
			wantJSON(t, p, 200)
			if !reflect.DeepEqual(g.JSON, p.JSON) {
				t.Errorf("GET and .search differ\nGET:    %s\nsearch: %s", truncate(string(g.Raw), 800), truncate(string(p.Raw), 800))
			}
		})
	}
	// A search body that is not a SearchRequest is rejected.
	wantError(t, e.do(t, "POST", "/Users/.search", e.Reader, map[string]any{"filter": "userName pr"}), 400, "invalidValue")
	wantError(t, e.do(t, "POST", "/Users/.search", e.Reader, `{"schemas":`), 400, "invalidSyntax")
}

func TestListNoMatch(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	for _, f := range []string{`userName eq "nobody@example.com"`, `title eq "Astronaut"`, `emails[type eq "fax"]`} {
		r := e.do(t, "GET", "/Users?filter="+url.QueryEscape(f), e.Reader, nil)
		wantPage(t, r, 0, 1, 0)
		if r.has("Resources") && r.list("Resources") == nil {
			t.Errorf("%v: Resources is not an array", r)
		}
	}
	// And on an empty database.
	d := newEnv(t)
	wantPage(t, d.do(t, "GET", "/Users", d.Reader, nil), 0, 1, 0)
	wantPage(t, d.do(t, "GET", "/Groups", d.Reader, nil), 0, 1, 0)
}
