package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// The directory area: search users and groups (a plain search the console
// turns into a SCIM filter, and a raw SCIM filter), and a page per user
// and per group. Resources are read over SCIM (read-only, the whole
// directory); owners, a user's groups and recent changes come from the
// config API (/api/v1/users, /groups).

func (u *Console) routesDirectory(g *echo.Group) {
	g.GET("/directory", u.handle(u.directorySearch))
	g.GET("/directory/users/:id", u.handle(u.directoryUser))
	g.POST("/directory/users/:id/unlink", u.handle(u.unlinkUser))
	g.GET("/directory/groups/:id", u.handle(u.directoryGroup))
}

// directoryPageSize is how many results one page of a search shows.
const directoryPageSize = 25

// directoryKind is one side of the Users/Groups switch.
type directoryKind struct {
	Key      string // the ?type= value
	Label    string // "Users"
	Resource string // the SCIM resource path ("Users")
	// Plain are the attributes a plain search looks in ("co" the text).
	Plain []string
	// SortBy orders the results (an indexed attribute).
	SortBy string
	// Exclude are attributes the results table does not need, left out
	// of the SCIM answer (a big group's members).
	Exclude string
}

// directoryKinds are the switch's sides; the first is the default.
var directoryKinds = []directoryKind{
	{Key: "users", Label: "Users", Resource: "Users", SortBy: "userName", Plain: []string{"userName", "displayName", "emails.value", "externalId"}},
	{Key: "groups", Label: "Groups", Resource: "Groups", SortBy: "displayName", Plain: []string{"displayName"}, Exclude: "members"},
}

func directoryKindOf(key string) directoryKind {
	for _, k := range directoryKinds {
		if k.Key == key {
			return k
		}
	}
	return directoryKinds[0]
}

// directoryQuery is a search as the page's form and links carry it.
type directoryQuery struct {
	Kind   directoryKind
	Text   string // the plain search
	Filter string // the raw SCIM filter
	Start  int    // SCIM startIndex, from 1
}

func directoryQueryOf(c echo.Context) directoryQuery {
	q := directoryQuery{
		Kind: directoryKindOf(c.QueryParam("type")),
		Text: strings.TrimSpace(c.QueryParam("q")), Filter: strings.TrimSpace(c.QueryParam("filter")), Start: 1,
	}
	if n, err := strconv.Atoi(c.QueryParam("start")); err == nil && n > 1 {
		q.Start = n
	}
	return q
}

// scimFilter is the filter the server runs: the plain search and the raw
// filter, both holding when both are given.
func (q directoryQuery) scimFilter() string {
	var parts []string
	if q.Text != "" {
		lit := scimString(q.Text)
		terms := make([]string, len(q.Kind.Plain))
		for i, attr := range q.Kind.Plain {
			terms[i] = attr + " co " + lit
		}
		parts = append(parts, strings.Join(terms, " or "))
	}
	if q.Filter != "" {
		parts = append(parts, q.Filter)
	}
	if len(parts) == 2 {
		return "(" + parts[0] + ") and (" + parts[1] + ")"
	}
	return strings.Join(parts, "")
}

// scimString quotes text as a SCIM filter's string literal, which is a
// JSON string (RFC 7644 section 3.4.2.2): quotes and backslashes escaped.
func scimString(text string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(text) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// href is the console link to this search from start.
func (q directoryQuery) href(start int) string {
	v := url.Values{"type": {q.Kind.Key}}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	if start > 1 {
		v.Set("start", strconv.Itoa(start))
	}
	return Prefix + "/directory?" + v.Encode()
}

// scimPath is the SCIM list request of this search.
func (q directoryQuery) scimPath() string {
	v := url.Values{"count": {strconv.Itoa(directoryPageSize)}, "startIndex": {strconv.Itoa(q.Start)}, "sortBy": {q.Kind.SortBy}}
	if f := q.scimFilter(); f != "" {
		v.Set("filter", f)
	}
	if q.Kind.Exclude != "" {
		v.Set("excludedAttributes", q.Kind.Exclude)
	}
	return "/scim/v2/" + q.Kind.Resource + "?" + v.Encode()
}

// dirPager links the pages before and after one of a list
// (template "dir-pager").
type dirPager struct {
	Prev, Next string
	Label      string // the navigation's accessible name
}

// directoryResult is one row of the results table.
type directoryResult struct {
	ID, Name, PersonName, Extra string
	Active                      bool
	Href                        string
	Owner                       *ownerView
}

type directorySearchPage struct {
	Query   directoryQuery
	Kinds   []directoryKind
	Results []directoryResult
	Total   int
	From    int
	To      int
	Pager   dirPager
	// Problem is the SCIM service's answer to a filter it refused; it is
	// shown next to the box the filter came from (FilterField).
	Problem     *APIError
	FieldError  *APIError // SCIM's own answer, next to the box
	FilterField string
}

func (u *Console) directorySearch(c echo.Context) error {
	q := directoryQueryOf(c)
	p := directorySearchPage{Query: q, Kinds: directoryKinds}
	res, err := u.call(c, http.MethodGet, q.scimPath(), nil)
	if err != nil {
		return err
	}
	if res.Status == http.StatusBadRequest {
		// The filter is the admin's; say what SCIM said, next to it.
		p.FieldError, p.FilterField = res.Err(), "filter"
		box := "SCIM filter"
		if q.Filter == "" {
			p.FilterField, box = "q", "Search"
		}
		p.Problem = &APIError{Status: res.Status, Code: p.FieldError.Code,
			Message: "The SCIM service refused the search: " + p.FieldError.Message + ". Correct the " + box + " box and press Find."}
		return u.render(c, http.StatusBadRequest, "directory_search.html", page{Title: "Directory", Nav: "directory", Data: p})
	}
	if q.Kind.Key == "users" {
		var list scimList[scimUser]
		if err := res.Decode(&list); err != nil {
			return err
		}
		p.Total = list.TotalResults
		for _, r := range list.Resources {
			p.Results = append(p.Results, directoryResult{ID: r.ID, Name: r.UserName, PersonName: r.PersonName(), Active: r.Active,
				Href: Prefix + "/directory/users/" + url.PathEscape(r.ID)})
		}
	} else {
		var list scimList[scimGroup]
		if err := res.Decode(&list); err != nil {
			return err
		}
		p.Total = list.TotalResults
		for _, r := range list.Resources {
			p.Results = append(p.Results, directoryResult{ID: r.ID, Name: r.DisplayName, Extra: r.ExternalID,
				Href: Prefix + "/directory/groups/" + url.PathEscape(r.ID)})
		}
	}
	if err := u.fillOwners(c, q.Kind, p.Results); err != nil {
		return err
	}
	if len(p.Results) > 0 {
		p.From, p.To = q.Start, q.Start+len(p.Results)-1
	}
	p.Pager.Label = "Pages of " + strings.ToLower(q.Kind.Label)
	if q.Start > 1 {
		p.Pager.Prev = q.href(max(1, q.Start-directoryPageSize))
	}
	if p.To < p.Total && len(p.Results) > 0 {
		p.Pager.Next = q.href(p.To + 1)
	}
	return u.render(c, http.StatusOK, "directory_search.html", page{Title: "Directory", Nav: "directory", Data: p})
}

// fillOwners asks the config API who owns each result, in one request.
func (u *Console) fillOwners(c echo.Context, kind directoryKind, rows []directoryResult) error {
	if len(rows) == 0 {
		return nil
	}
	v := url.Values{}
	for _, r := range rows {
		v.Add("id", r.ID)
	}
	var owned map[string][]ownedView
	if err := u.get(c, "/"+kind.Key+"?"+v.Encode(), &owned); err != nil {
		return err
	}
	byID := map[string]ownerView{}
	for _, o := range owned[kind.Key] {
		byID[o.ID] = o.Owner
	}
	for i := range rows {
		if o, ok := byID[rows[i].ID]; ok {
			rows[i].Owner = &o
		}
	}
	return nil
}
