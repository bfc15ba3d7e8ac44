package graphtest

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// serveRead answers the plain reads: GET /users, /users/{id},
// /users/{id}/manager, /groups, /groups/{id}, /groups/{id}/members.
func (s *Server) serveRead(w http.ResponseWriter, r *http.Request, reqID string, parts []string) {
	q := r.URL.Query()
	coll := parts[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(parts) == 1:
		s.serveList(w, r, reqID, coll, q)
	case len(parts) == 2:
		s.serveOne(w, reqID, coll, parts[1], q)
	case len(parts) == 3 && coll == "users" && parts[2] == "manager":
		u := s.dir.users[parts[1]]
		if u == nil || u.state != live {
			notFound(w, reqID, parts[1])
			return
		}
		m := s.dir.users[u.manager]
		if m == nil || m.state != live {
			// GET /users/{id}/manager is 404 when there is none (user-list-manager).
			notFound(w, reqID, "manager")
			return
		}
		sel, _ := parseSelect("", "users", false)
		b := s.appendListUser(nil, m, sel, true)
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	case len(parts) == 3 && coll == "groups" && parts[2] == "members":
		s.serveMembers(w, r, reqID, parts[1], q)
	default:
		graphError(w, reqID, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", parts[len(parts)-1]))
	}
}

func notFound(w http.ResponseWriter, reqID, id string) {
	graphError(w, reqID, http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

// pageSize reads $top: 100 by default, 1–999 accepted; anything else is
// refused with the message Graph gives for $top=1000 [obs/MS Q&A]. With
// $expand the page holds at most 100 [obs: known issue].
func pageSize(q url.Values, expand bool) (int, *queryError) {
	n := 100
	if raw := q.Get("$top"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 || v > 999 {
			return 0, &queryError{status: http.StatusBadRequest, code: "Request_UnsupportedQuery",
				message: fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", raw)}
		}
		n = v
	}
	if expand && n > 100 {
		n = 100
	}
	return n, nil
}

// serveList pages a collection in id order. nextLinks are absolute, on
// this host, repeat the query and add an opaque $skiptoken; there is no
// $skip (user-list: "does not support $skip"; paging).
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, reqID, coll string, q url.Values) {
	if q.Has("$skip") {
		graphError(w, reqID, http.StatusBadRequest, "Request_BadRequest", "'$skip' is not supported by the service.")
		return
	}
	expand := coll == "users" && strings.HasPrefix(strings.ToLower(q.Get("$expand")), "manager")
	top, qe := pageSize(q, expand)
	if qe == nil {
		_, qe = parseSelect(q.Get("$select"), coll, false)
	}
	if qe != nil {
		writeQueryError(w, reqID, qe)
		return
	}
	sel, _ := parseSelect(q.Get("$select"), coll, false)
	after := ""
	if tok := q.Get("$skiptoken"); tok != "" {
		st, err := s.decodeToken(tok)
		if err != nil || st.C != "list" {
			graphError(w, reqID, http.StatusBadRequest, "Request_BadRequest", "The $skiptoken is not valid.")
			return
		}
		after = st.P
	}
	ids := s.dir.sortedUsers()
	if coll == "groups" {
		ids = s.dir.sortedGroups()
	}
	i := sort.SearchStrings(ids, after)
	if i < len(ids) && ids[i] == after {
		i++
	}
	var b []byte
	n := 0
	last := ""
	for ; i < len(ids) && n < top; i++ {
		if coll == "users" {
			u := s.dir.users[ids[i]]
			if u.state != live {
				continue
			}
			b = s.appendListUser(comma(b, n), u, sel, false)
			if expand {
				b = s.appendManager(b[:len(b)-1], u)
			}
		} else {
			g := s.dir.groups[ids[i]]
			if g.state != live {
				continue
			}
			b = appendListGroup(comma(b, n), g, sel)
		}
		n++
		last = ids[i]
	}
	next := ""
	if i < len(ids) {
		nq := url.Values{}
		for k, v := range q {
			if k != "$skiptoken" {
				nq[k] = v
			}
		}
		nq.Set("$skiptoken", s.encodeToken(stateToken{C: "list", P: last}))
		next = s.URL() + r.URL.Path + "?" + nq.Encode()
	}
	writeCollection(w, s.URL()+"/v1.0/$metadata#"+coll, b, next)
}

func comma(b []byte, n int) []byte {
	if n > 0 {
		return append(b, ',')
	}
	return b
}

func writeCollection(w http.ResponseWriter, context string, items []byte, next string) {
	out := append([]byte(`{"@odata.context":`), appendString(nil, context)...)
	if next != "" {
		out = append(out, `,"@odata.nextLink":`...)
		out = appendString(out, next)
	}
	out = append(out, `,"value":[`...)
	out = append(out, items...)
	out = append(out, "]}"...)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Write(out)
}

// appendManager adds the expanded manager (and closes the object).
func (s *Server) appendManager(b []byte, u *user) []byte {
	if m := s.dir.users[u.manager]; m != nil && m.state == live {
		b = append(b, `,"manager":{"@odata.type":"#microsoft.graph.user","id":`...)
		b = appendString(b, m.id)
		b = appendField(b, "displayName", kString, m.vals[userPropIdx["displayname"]])
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendListUser renders a user as a read returns it: the selected
// properties, null when unset.
func (s *Server) appendListUser(b []byte, u *user, sel selection, typed bool) []byte {
	b = append(b, '{')
	if typed {
		b = append(b, `"@odata.type":"#microsoft.graph.user",`...)
	}
	b = append(b, `"id":`...)
	b = appendString(b, u.id)
	for i, p := range userProps {
		if sel.mask&(1<<i) != 0 {
			b = appendField(b, p.name, p.kind, u.vals[i])
		}
	}
	return append(b, '}')
}

func appendListGroup(b []byte, g *group, sel selection) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, g.id)
	for i, p := range groupProps {
		if sel.mask&(1<<i) != 0 {
			b = appendField(b, p.name, p.kind, g.vals[i])
		}
	}
	return append(b, '}')
}

func (s *Server) serveOne(w http.ResponseWriter, reqID, coll, id string, q url.Values) {
	sel, qe := parseSelect(q.Get("$select"), coll, false)
	if qe != nil && qe.status != http.StatusNotImplemented { // single reads may select anything
		writeQueryError(w, reqID, qe)
		return
	}
	var b []byte
	if coll == "users" {
		u := s.dir.users[id]
		if u == nil || u.state != live {
			notFound(w, reqID, id)
			return
		}
		b = s.appendListUser(nil, u, sel, false)
	} else {
		g := s.dir.groups[id]
		if g == nil || g.state != live {
			notFound(w, reqID, id)
			return
		}
		b = appendListGroup(nil, g, sel)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// serveMembers is GET /groups/{id}/members: direct members as
// directoryObjects with @odata.type, paged like users (group-list-members).
func (s *Server) serveMembers(w http.ResponseWriter, r *http.Request, reqID, id string, q url.Values) {
	g := s.dir.groups[id]
	if g == nil || g.state != live {
		notFound(w, reqID, id)
		return
	}
	top, qe := pageSize(q, false)
	if qe != nil {
		writeQueryError(w, reqID, qe)
		return
	}
	from := 0
	if tok := q.Get("$skiptoken"); tok != "" {
		st, err := s.decodeToken(tok)
		if err != nil || st.C != "list" {
			graphError(w, reqID, http.StatusBadRequest, "Request_BadRequest", "The $skiptoken is not valid.")
			return
		}
		from = st.O
	}
	var b []byte
	n, k := 0, from
	for ; k < len(g.order) && n < top; k++ {
		mid := g.order[k]
		if !g.members[mid].present {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendLink(b, mid, g.members[mid].isGroup, false)
		n++
	}
	next := ""
	if k < len(g.order) {
		nq := url.Values{}
		for key, v := range q {
			if key != "$skiptoken" {
				nq[key] = v
			}
		}
		nq.Set("$skiptoken", s.encodeToken(stateToken{C: "list", O: k}))
		next = s.URL() + r.URL.Path + "?" + nq.Encode()
	}
	writeCollection(w, s.URL()+"/v1.0/$metadata#directoryObjects", b, next)
}
