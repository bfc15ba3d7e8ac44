package oktatest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Listings (Users API "List all users", Groups API "List all groups" and
// "List all member users"; cloud-apis 7 and 8):
//
//   - limit: users at most 200 (default 200); groups at most 10,000
//     (default 200 here); group members default 1000, at most 1000;
//   - paging by an opaque after cursor, handed out only in
//     Link: <...>; rel="next" (sent as its own header after rel="self");
//     the last page has no next link;
//   - /api/v1/users without filter leaves DEPROVISIONED users out; with a
//     filter they are in; group member lists show every status (that last
//     point is not verified against Okta).

const oktaTime = "2006-01-02T15:04:05.000Z"

func (s *Server) api(w http.ResponseWriter, r *http.Request, c caller) int {
	if r.Method != http.MethodGet {
		return writeError(w, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method")
	}
	if scope, ok := c.allowed(r.URL.Path); !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", scope="`+scope+`"`)
		return writeError(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[2:]
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(parts) == 1 && parts[0] == "users":
		return s.listUsersLocked(w, r)
	case len(parts) == 2 && parts[0] == "users":
		u, ok := s.org.userByID[parts[1]]
		if !ok {
			return writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[1]+" (User)")
		}
		writeJSON(w, http.StatusOK, s.userJSON(u))
		return http.StatusOK
	case len(parts) == 1 && parts[0] == "groups":
		return s.listGroupsLocked(w, r)
	case len(parts) == 2 && parts[0] == "groups":
		g, ok := s.org.groupByID[parts[1]]
		if !ok {
			return writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+parts[1]+" (UserGroup)")
		}
		writeJSON(w, http.StatusOK, s.groupJSON(g))
		return http.StatusOK
	case len(parts) == 3 && parts[0] == "groups" && parts[2] == "users":
		return s.listMembersLocked(w, r, parts[1])
	}
	return writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path)
}

// page is one listing request's paging parameters.
type page struct {
	limit int
	after string // last id of the previous page
}

func readPage(w http.ResponseWriter, r *http.Request, def, max int) (page, int) {
	p := page{limit: def}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: must be a positive number")
		}
		p.limit = min(n, max)
	}
	if a := q.Get("after"); a != "" {
		id, ok := decodeCursor(a)
		if !ok {
			return p, writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: after", "after: the cursor is not valid")
		}
		p.after = id
	}
	return p, 0
}

// The after cursor is opaque to clients: an encoded position, not an id.
func encodeCursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + lastID))
}

func decodeCursor(s string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(raw), "v1:") {
		return "", false
	}
	return strings.TrimPrefix(string(raw), "v1:"), true
}

// writePage sends a page with its Link headers: self, and next when the
// listing goes on.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, items []any, more bool, lastID string) int {
	self := s.URL + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	links := []string{"<" + self + `>; rel="self"`}
	if more {
		q := r.URL.Query()
		q.Set("after", encodeCursor(lastID))
		links = append(links, "<"+s.URL+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	}
	if s.combineLinks {
		w.Header().Set("Link", strings.Join(links, ", "))
	} else {
		for _, l := range links {
			w.Header().Add("Link", l)
		}
	}
	if items == nil {
		items = []any{}
	}
	writeJSON(w, http.StatusOK, items)
	return http.StatusOK
}

// scan walks ids after p.after, keeping those keep accepts, and returns
// one page of them and whether more may follow.
func scan(ids []string, p page, keep func(id string) bool) (out []string, more bool) {
	start := 0
	if p.after != "" {
		start = sort.Search(len(ids), func(i int) bool { return ids[i] > p.after })
	}
	for _, id := range ids[start:] {
		if !keep(id) {
			continue
		}
		if len(out) == p.limit {
			return out, true
		}
		out = append(out, id)
	}
	return out, false
}

func (s *Server) listUsersLocked(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	if q.Get("search") != "" || q.Get("q") != "" {
		return writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: search", "the emulator models filter, not search or q")
	}
	p, status := readPage(w, r, 200, 200)
	if status != 0 {
		return status
	}
	var f *filterNode
	if raw := q.Get("filter"); raw != "" {
		var err error
		if f, err = parseFilter(raw, userFilterRules); err != nil {
			return writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", err.Error())
		}
	}
	ids, more := scan(s.org.users, p, func(id string) bool {
		u := s.org.userByID[id]
		if f == nil {
			return u.Status != "DEPROVISIONED" // hidden from the plain list
		}
		return f.match(userValue(u))
	})
	items := make([]any, len(ids))
	for i, id := range ids {
		items[i] = s.userJSON(s.org.userByID[id])
	}
	return s.writePage(w, r, items, more, last(ids))
}

func userValue(u *User) valueOf {
	return func(attr string) (string, time.Time) {
		switch attr {
		case "status":
			return u.Status, time.Time{}
		case "id":
			return u.ID, time.Time{}
		case "lastUpdated":
			return "", u.LastUpdated
		}
		v, _ := u.Profile[strings.TrimPrefix(attr, "profile.")].(string)
		return v, time.Time{}
	}
}

func (s *Server) listGroupsLocked(w http.ResponseWriter, r *http.Request) int {
	p, status := readPage(w, r, 200, 10000)
	if status != 0 {
		return status
	}
	var f *filterNode
	if raw := r.URL.Query().Get("filter"); raw != "" {
		var err error
		if f, err = parseFilter(raw, groupFilterRules); err != nil {
			return writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", err.Error())
		}
	}
	ids, more := scan(s.org.groups, p, func(id string) bool {
		return f == nil || f.match(groupValue(s.org.groupByID[id]))
	})
	items := make([]any, len(ids))
	for i, id := range ids {
		items[i] = s.groupJSON(s.org.groupByID[id])
	}
	return s.writePage(w, r, items, more, last(ids))
}

func groupValue(g *Group) valueOf {
	return func(attr string) (string, time.Time) {
		switch attr {
		case "id":
			return g.ID, time.Time{}
		case "type":
			return g.Type, time.Time{}
		case "lastUpdated":
			return "", g.LastUpdated
		case "lastMembershipUpdated":
			return "", g.LastMembershipUpdated
		}
		return "", time.Time{}
	}
}

func (s *Server) listMembersLocked(w http.ResponseWriter, r *http.Request, groupID string) int {
	g, ok := s.org.groupByID[groupID]
	if !ok {
		return writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+groupID+" (UserGroup)")
	}
	p, status := readPage(w, r, 1000, 1000)
	if status != 0 {
		return status
	}
	ids, more := scan(g.members, p, func(string) bool { return true })
	items := make([]any, len(ids))
	for i, id := range ids {
		items[i] = s.userJSON(s.org.userByID[id])
	}
	return s.writePage(w, r, items, more, last(ids))
}

func last(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}

func stamp(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(oktaTime)
}

// userJSON renders Okta's User object.
func (s *Server) userJSON(u *User) map[string]any {
	id := u.ID
	if u.Garbled {
		id = ""
	}
	return map[string]any{
		"id": id, "status": u.Status, "created": stamp(u.Created), "activated": stamp(u.Activated),
		"statusChanged": stamp(u.StatusChanged), "lastLogin": nil, "lastUpdated": stamp(u.LastUpdated),
		"passwordChanged": stamp(u.Created), "type": map[string]string{"id": "oty1defaultusertype0"},
		"profile":     u.Profile,
		"credentials": map[string]any{"provider": map[string]string{"type": "OKTA", "name": "OKTA"}},
		"_links":      map[string]any{"self": map[string]string{"href": s.URL + "/api/v1/users/" + url.PathEscape(u.ID)}},
	}
}

// groupJSON renders Okta's Group object.
func (s *Server) groupJSON(g *Group) map[string]any {
	objectClass := "okta:user_group"
	if g.Type == "APP_GROUP" {
		objectClass = "okta:windows_security_principal"
	}
	return map[string]any{
		"id": g.ID, "created": stamp(g.Created), "lastUpdated": stamp(g.LastUpdated),
		"lastMembershipUpdated": stamp(g.LastMembershipUpdated), "objectClass": []string{objectClass},
		"type": g.Type, "profile": g.Profile,
		"_links": map[string]any{"users": map[string]string{"href": s.URL + "/api/v1/groups/" + g.ID + "/users"}},
	}
}
