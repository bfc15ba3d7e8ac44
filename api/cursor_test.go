package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Cursor pagination (RFC 9865): cursor and count on GET and POST /.search,
// nextCursor and previousCursor in the ListResponse.

// cursorPage is one page of a cursor walk.
type cursorPage struct {
	r          *resp
	next, prev string
}

// getCursorPage GETs path (a list URL with its query) with cursor set and
// checks the envelope: no startIndex, itemsPerPage = the resources
// returned, and the cursors, when present, are non-empty strings made of
// RFC 3986 unreserved characters.
func (e *env) getCursorPage(t *testing.T, path, cursor string) cursorPage {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r := e.do(t, "GET", path+sep+"cursor="+url.QueryEscape(cursor), e.Reader, nil)
	wantJSON(t, r, http.StatusOK)
	if s := r.list("schemas"); len(s) != 1 || s[0] != listURN {
		t.Errorf("%v\nschemas = %v", r, r.get("schemas"))
	}
	if r.has("startIndex") {
		t.Errorf("%v\na cursor page has startIndex", r)
	}
	if got, want := r.num(t, "itemsPerPage"), len(r.list("Resources")); got != want {
		t.Errorf("%v\nitemsPerPage = %d, want %d", r, got, want)
	}
	p := cursorPage{r: r}
	for key, dst := range map[string]*string{"nextCursor": &p.next, "previousCursor": &p.prev} {
		if !r.has(key) {
			continue
		}
		*dst = r.str(key)
		if *dst == "" || strings.Trim(*dst, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
			t.Errorf("%v\n%s = %q, want a non-empty string of unreserved characters", r, key, *dst)
		}
	}
	return p
}

// walkForward follows nextCursor from the first page and returns the
// values of field in the order seen, and the pages.
func (e *env) walkForward(t *testing.T, path, field string) ([]string, []cursorPage) {
	t.Helper()
	var got []string
	var pages []cursorPage
	cursor := ""
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatalf("%s: more than 1000 pages; the walk does not end", path)
		}
		p := e.getCursorPage(t, path, cursor)
		pages = append(pages, p)
		got = append(got, resourceField(p.r, field)...)
		if p.next == "" {
			return got, pages
		}
		cursor = p.next
	}
}

func TestCursorWalk(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	engineers := url.QueryEscape(`title eq "Engineer"`)
	cases := []string{
		"count=3",
		"count=1",
		"count=8",
		"count=100",
		"count=3&sortBy=userName",
		"count=3&sortBy=userName&sortOrder=descending",
		"count=2&sortBy=title",                       // erin has no title: last both ways
		"count=2&sortBy=title&sortOrder=descending",  //
		"count=3&sortBy=name.familyName",             //
		"count=3&sortBy=active&sortOrder=descending", // a boolean
		"count=3&sortBy=meta.created",                // a date-time
		"count=2&filter=" + engineers,                // three matches
		"count=2&filter=" + engineers + "&sortBy=userName&sortOrder=descending",
	}
	for _, query := range cases {
		t.Run(query, func(t *testing.T) {
			// The same query with index paging is the reference order.
			ref := e.do(t, "GET", "/Users?"+strings.Replace(query, "count=", "ignored=", 1)+"&count=1000", e.Reader, nil)
			wantJSON(t, ref, http.StatusOK)
			want := s.keysOf(t, ref)
			total := ref.num(t, "totalResults")

			names, pages := e.walkForward(t, "/Users?"+query, "userName")
			got := make([]string, len(names))
			for i, n := range names {
				got[i] = s.names[n]
			}
			if !slices.Equal(got, want) {
				t.Fatalf("cursor walk = %v, want %v", got, want)
			}
			for i, p := range pages {
				if n := p.r.num(t, "totalResults"); n != total {
					t.Errorf("page %d: totalResults = %d, want %d", i, n, total)
				}
				if (p.prev != "") != (i > 0) {
					t.Errorf("page %d: previousCursor %q, want one on every page but the first", i, p.prev)
				}
			}
			// Walking back from the last page with previousCursor sees the
			// same pages in reverse.
			var back []string
			for i := len(pages) - 1; i > 0; {
				prev := e.getCursorPage(t, "/Users?"+query, pages[i].prev)
				i--
				page := resourceField(prev.r, "userName")
				if want := resourceField(pages[i].r, "userName"); !slices.Equal(page, want) {
					t.Fatalf("previousCursor of page %d gave %v, want page %d: %v", i+1, page, i, want)
				}
				if (prev.prev != "") != (i > 0) || prev.next == "" {
					t.Errorf("backward page %d: previousCursor %q nextCursor %q", i, prev.prev, prev.next)
				}
				back = append(page, back...)
			}
			if len(pages) > 1 && !slices.Equal(back, names[:len(names)-len(resourceField(pages[len(pages)-1].r, "userName"))]) {
				t.Errorf("backward walk = %v", back)
			}
		})
	}
}

func TestCursorEmptyAndLastPage(t *testing.T) {
	e := newEnv(t)
	p := e.getCursorPage(t, "/Users?count=10", "")
	if p.r.num(t, "totalResults") != 0 || len(p.r.list("Resources")) != 0 || p.next != "" || p.prev != "" {
		t.Errorf("empty directory: %v", p.r)
	}
	for i := 0; i < 4; i++ {
		e.createUser(t, e.Writer, fmt.Sprintf("u%d", i), nil)
	}
	// Exactly two full pages: the second has no nextCursor.
	first := e.getCursorPage(t, "/Users?count=2", "")
	second := e.getCursorPage(t, "/Users?count=2", first.next)
	if len(second.r.list("Resources")) != 2 || second.next != "" {
		t.Errorf("last full page: %v", second.r)
	}
}

func TestCursorSearch(t *testing.T) {
	e := newEnv(t)
	s := e.seed(t)
	var got []string
	body := map[string]any{"schemas": []string{searchURN}, "filter": `active eq true`, "sortBy": "userName", "count": 2, "cursor": ""}
	for i := 0; i < 10; i++ {
		r := e.do(t, "POST", "/Users/.search", e.Reader, body)
		wantJSON(t, r, http.StatusOK)
		if r.has("startIndex") {
			t.Errorf("%v\na cursor page has startIndex", r)
		}
		got = append(got, s.keysOf(t, r)...)
		if !r.has("nextCursor") {
			break
		}
		body["cursor"] = r.str("nextCursor")
	}
	want := []string{"alice", "bob", "dave", "frank", "obrien", "zoe"}
	if !slices.Equal(got, want) {
		t.Errorf("search walk = %v, want %v", got, want)
	}
}

func TestCursorGroups(t *testing.T) {
	e := newEnv(t)
	u := e.createUser(t, e.Writer, "member", nil).str("id")
	var want []string
	for i := 0; i < 7; i++ {
		name := fmt.Sprintf("group-%d", i)
		e.createGroup(t, e.Writer, name, u)
		want = append(want, name)
	}
	got, pages := e.walkForward(t, "/Groups?count=3&excludedAttributes=members", "displayName")
	if !slices.Equal(got, want) || len(pages) != 3 {
		t.Errorf("group walk = %v in %d pages, want %v in 3", got, len(pages), want)
	}
	for _, p := range pages {
		for _, g := range p.r.list("Resources") {
			if _, ok := g.(map[string]any)["members"]; ok {
				t.Errorf("excludedAttributes=members: %v", g)
			}
		}
	}
	slices.Reverse(want)
	got, _ = e.walkForward(t, "/Groups?count=2&sortBy=displayName&sortOrder=descending", "displayName")
	if !slices.Equal(got, want) {
		t.Errorf("descending group walk = %v, want %v", got, want)
	}
}

// TestCursorStableUnderChanges walks the directory while another client
// inserts and deletes users between pages, before and after the walk's
// position. Every user that exists for the whole walk must be returned
// exactly once, and no user twice; offset paging fails this when rows
// before the offset are deleted.
func TestCursorStableUnderChanges(t *testing.T) {
	for _, order := range []string{"", "&sortBy=userName", "&sortBy=userName&sortOrder=descending", "&sortBy=title"} {
		t.Run("order"+order, func(t *testing.T) {
			e := newEnv(t)
			ids := map[string]string{} // userName -> id
			create := func(name string, attrs map[string]any) {
				ids[name] = e.createUser(t, e.Writer, name, attrs).str("id")
			}
			for i := 0; i < 40; i++ {
				var attrs map[string]any
				if i%3 != 0 {
					attrs = map[string]any{"title": fmt.Sprintf("t%02d", i%7)}
				}
				create(fmt.Sprintf("m%02d", i), attrs)
			}
			stable := map[string]bool{} // users that exist throughout
			for name := range ids {
				stable[name] = true
			}
			remove := func(name string) {
				wantStatus(t, e.do(t, "DELETE", "/Users/"+ids[name], e.Writer, nil), http.StatusNoContent)
				delete(stable, name)
				delete(ids, name)
			}
			seen := map[string]int{}
			cursor := ""
			for page := 0; ; page++ {
				p := e.getCursorPage(t, "/Users?count=4"+order, cursor)
				for _, name := range resourceField(p.r, "userName") {
					seen[name]++
				}
				if p.next == "" {
					break
				}
				cursor = p.next
				// Between pages: delete two users already seen and one not
				// yet seen, and insert users that sort before and after.
				var gone []string
				for name := range ids {
					if seen[name] > 0 && len(gone) < 2 {
						gone = append(gone, name)
					}
				}
				for name := range ids {
					if seen[name] == 0 && stable[name] && len(gone) < 3 {
						gone = append(gone, name)
					}
				}
				for _, name := range gone {
					remove(name)
				}
				create(fmt.Sprintf("a-new-%02d", page), map[string]any{"title": "t00"})
				create(fmt.Sprintf("z-new-%02d", page), nil)
			}
			for name, n := range seen {
				if n > 1 {
					t.Errorf("%s returned %d times", name, n)
				}
			}
			for name := range stable {
				if seen[name] != 1 {
					t.Errorf("%s, which existed throughout, returned %d times", name, seen[name])
				}
			}
		})
	}
}

func TestCursorErrors(t *testing.T) {
	e := newEnv(t)
	e.seed(t)
	first := e.getCursorPage(t, "/Users?count=2&sortBy=userName", "")
	if first.next == "" {
		t.Fatalf("no nextCursor: %v", first.r)
	}
	unsorted := e.getCursorPage(t, "/Users?count=2", "")
	flipped := []byte(first.next)
	flipped[len(flipped)/2] ^= 1 // still base64url, different bytes
	if flipped[len(flipped)/2] == '-' || flipped[len(flipped)/2] == '_' {
		flipped[len(flipped)/2] = 'A'
	}
	cases := []struct {
		name, path string
		status     int
		scimType   string
	}{
		{"tampered", "/Users?count=2&sortBy=userName&cursor=" + string(flipped), 400, "invalidCursor"},
		{"truncated", "/Users?count=2&sortBy=userName&cursor=" + first.next[:len(first.next)-3], 400, "invalidCursor"},
		{"garbage", "/Users?count=2&cursor=" + url.QueryEscape("not a cursor!"), 400, "invalidCursor"},
		{"other filter", "/Users?count=2&sortBy=userName&filter=" + url.QueryEscape(`active eq true`) + "&cursor=" + first.next, 400, "invalidCursor"},
		{"other sort", "/Users?count=2&sortBy=title&cursor=" + first.next, 400, "invalidCursor"},
		{"other order", "/Users?count=2&sortBy=userName&sortOrder=descending&cursor=" + first.next, 400, "invalidCursor"},
		{"other resource type", "/Groups?count=2&cursor=" + unsorted.next, 400, "invalidCursor"},
		{"with startIndex", "/Users?count=2&startIndex=3&cursor=", 400, "invalidValue"},
		{"count 0", "/Users?count=0&cursor=", 400, "invalidCount"},
		{"negative count", "/Users?count=-5&cursor=", 400, "invalidCount"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(t, "GET", tc.path, e.Reader, nil), tc.status, tc.scimType)
		})
	}
	t.Run("search with a tampered cursor", func(t *testing.T) {
		body := map[string]any{"schemas": []string{searchURN}, "sortBy": "userName", "count": 2, "cursor": string(flipped)}
		wantError(t, e.do(t, "POST", "/Users/.search", e.Reader, body), 400, "invalidCursor")
	})
	t.Run("count and attributes may change between pages", func(t *testing.T) {
		p := e.getCursorPage(t, "/Users?count=5&sortBy=userName&attributes=userName", first.next)
		if got := len(p.r.list("Resources")); got != 5 {
			t.Errorf("%d resources, want 5", got)
		}
	})
	t.Run("count above the maximum is capped", func(t *testing.T) {
		p := e.getCursorPage(t, "/Users?count=100000", "")
		if got := len(p.r.list("Resources")); got != len(seedUsers) {
			t.Errorf("%d resources, want %d", got, len(seedUsers))
		}
	})
}

func TestCursorServiceProviderConfig(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "GET", "/ServiceProviderConfig", e.Reader, nil)
	wantJSON(t, r, http.StatusOK)
	want := map[string]string{
		"cursor": "true", "index": "true", "defaultPaginationMethod": "index",
		"defaultPageSize": "100", "maxPageSize": "1000", "cursorTimeout": "3600",
	}
	for k, v := range want {
		if got := fmt.Sprint(r.get("pagination", k)); got != v {
			t.Errorf("pagination.%s = %s, want %s", k, got, v)
		}
	}
}
