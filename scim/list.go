package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

// listParams are the query parameters of RFC 7644 §3.4.2 and RFC 9865,
// from a GET query string or a POST /.search body.
type listParams struct {
	filter             string
	startIndex, count  int
	sortBy, sortOrder  string
	attributes         []string
	excludedAttributes []string

	// cursorMode is set by a cursor parameter, even an empty one (the
	// first page); index paging is the default.
	cursorMode    bool
	cursor        string
	startIndexSet bool
}

func badParam(format string, args ...any) error {
	return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidValue, fmt.Sprintf(format, args...))
}

// queryParams reads list parameters from the URL.
func (s *Server) queryParams(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	p := listParams{
		filter: q.Get("filter"), sortBy: q.Get("sortBy"), sortOrder: q.Get("sortOrder"),
		attributes: splitList(q.Get("attributes")), excludedAttributes: splitList(q.Get("excludedAttributes")),
		startIndex: 1, count: s.opts.DefaultCount,
	}
	if vs, ok := q["cursor"]; ok {
		p.cursorMode, p.cursor = true, vs[0]
	}
	for name, dst := range map[string]*int{"startIndex": &p.startIndex, "count": &p.count} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return p, badParam("%s must be an integer, not %q", name, v)
			}
			*dst = n
			p.startIndexSet = p.startIndexSet || name == "startIndex"
		}
	}
	return s.normalise(p)
}

// normalise applies RFC 7644 §3.4.2.4: startIndex below 1 means 1, count
// below 0 means 0, and count is capped at the advertised maximum. A cursor
// page needs a positive count (RFC 9865) and no startIndex.
func (s *Server) normalise(p listParams) (listParams, error) {
	if p.cursorMode {
		if p.startIndexSet {
			return p, badParam("use either startIndex (index paging) or cursor (cursor paging), not both")
		}
		if p.count < 1 {
			return p, Error(http.StatusBadRequest, scimTypeInvalidCount,
				fmt.Sprintf("count must be between 1 and %d with cursor paging, not %d", s.opts.MaxResults, p.count))
		}
	}
	p.startIndex = max(p.startIndex, 1)
	p.count = min(max(p.count, 0), s.opts.MaxResults)
	return p, nil
}

// search runs the list a POST /.search body describes.
func (s *Server) search(w http.ResponseWriter, r *http.Request, body []byte, list func(http.ResponseWriter, *http.Request, *listParams)) {
	var req struct {
		Schemas            []string `json:"schemas"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
		Cursor             *string  `json:"cursor"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		WriteError(w, Error(http.StatusBadRequest, scimerr.ScimTypeInvalidSyntax, "the body is not a valid SearchRequest: "+err.Error()))
		return
	}
	if len(req.Schemas) != 1 || req.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:SearchRequest" {
		WriteError(w, badParam(`schemas must be ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]`).(scimerr.ScimError))
		return
	}
	p := listParams{
		filter: req.Filter, sortBy: req.SortBy, sortOrder: req.SortOrder,
		attributes: req.Attributes, excludedAttributes: req.ExcludedAttributes,
		startIndex: 1, count: s.opts.DefaultCount,
	}
	if req.StartIndex != nil {
		p.startIndex, p.startIndexSet = *req.StartIndex, true
	}
	if req.Count != nil {
		p.count = *req.Count
	}
	if req.Cursor != nil {
		p.cursorMode, p.cursor = true, *req.Cursor
	}
	p, err := s.normalise(p)
	if err != nil {
		WriteError(w, toScimError(s.log, err, "search"))
		return
	}
	list(w, r, &p)
}

// query turns list parameters into a storage query. In cursor mode it
// also returns the decoded cursor (zero for the first page).
func (s *Server) query(p listParams, fc *filterCompiler, resource string) (storage.Query, cursor, error) {
	q := storage.Query{Offset: p.startIndex - 1, Limit: p.count}
	var from cursor
	f, err := fc.compile(p.filter)
	if err != nil {
		return q, from, Error(http.StatusBadRequest, scimerr.ScimTypeInvalidFilter, err.Error())
	}
	q.Filter = f
	if p.sortBy != "" {
		a, err := fc.attrs.resolveSortBy(p.sortBy)
		if err != nil {
			return q, from, badParam("%v", err)
		}
		q.SortBy = a
	}
	switch strings.ToLower(p.sortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, from, badParam("sortOrder must be ascending or descending, not %q", p.sortOrder)
	}
	if p.cursorMode {
		q.Offset = 0
		if p.cursor != "" {
			if from, err = decodeCursor(p.cursor, fingerprint(resource, p), s.now(), s.opts.CursorTimeout); err != nil {
				return q, from, err
			}
		}
		if from.Backward {
			q.Before = from.Pos
		} else {
			q.After = from.Pos
		}
	}
	return q, from, nil
}

// storeQueryError maps a store's ErrInvalid on a filter to invalidFilter.
func storeQueryError(err error) error {
	var inv *storage.InvalidError
	if ok := asInvalid(err, &inv); ok {
		return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidFilter, inv.Msg)
	}
	return err
}

// listHead is the ListResponse envelope around the resources.
type listHead struct {
	total, startIndex, items int // total < 0 is left out; startIndex only for index paging
	cursorMode               bool
	next, prev               string // cursors; "" is left out
}

func (h listHead) write(b *bytes.Buffer) {
	b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"]`)
	if h.total >= 0 {
		b.WriteString(`,"totalResults":`)
		b.WriteString(strconv.Itoa(h.total))
	}
	if !h.cursorMode {
		b.WriteString(`,"startIndex":`)
		b.WriteString(strconv.Itoa(h.startIndex))
	}
	b.WriteString(`,"itemsPerPage":`)
	b.WriteString(strconv.Itoa(h.items))
	if h.next != "" {
		b.WriteString(`,"nextCursor":`)
		appendString(b, h.next)
	}
	if h.prev != "" {
		b.WriteString(`,"previousCursor":`)
		appendString(b, h.prev)
	}
	b.WriteString(`,"Resources":[`)
}

// head builds the envelope of a page; in cursor mode it issues the next
// and previous cursors.
func (s *Server) head(p *listParams, resource string, from cursor, total, n int, bounds storage.PageBounds) (listHead, error) {
	h := listHead{total: total, startIndex: p.startIndex, items: n, cursorMode: p.cursorMode}
	if !p.cursorMode {
		return h, nil
	}
	next, prev, hasNext, hasPrev := pageCursors(from, bounds, n, s.now())
	fp := fingerprint(resource, *p)
	var err error
	if hasNext {
		if h.next, err = next.encode(fp); err != nil {
			return h, err
		}
	}
	if hasPrev {
		if h.prev, err = prev.encode(fp); err != nil {
			return h, err
		}
	}
	return h, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, p *listParams) {
	if p == nil {
		qp, err := s.queryParams(r)
		if err != nil {
			s.fail(w, err, "users")
			return
		}
		p = &qp
	}
	cache := s.lookupPage(w, r, "User", p)
	if cache.hit {
		return
	}
	if v, divert := s.divertToView(w, r); divert {
		if v != nil {
			s.viewPage(w, cache, func(w http.ResponseWriter) { s.listViewUsers(w, r, p, v) })
		}
		return
	}
	s.writeUserList(w, r, p, directoryUsers, func(body []byte) {
		s.storePage(cache, body)
		writeBody(w, http.StatusOK, body)
	})
}

// userList is what differs between a list of the directory's users and
// a list of an app's view: the resource type the cursors are bound to,
// the check of the query against the view, and how one user renders.
type userList struct {
	resource string
	check    func(*storage.Query) error // nil: none
	// render appends one user; scratch is a buffer it may use.
	render func(b, scratch *bytes.Buffer, d storage.UserDoc, base string) error
}

// directoryUsers lists the directory as it is, for unscoped readers.
var directoryUsers = userList{resource: "User",
	render: func(b, _ *bytes.Buffer, d storage.UserDoc, base string) error {
		appendUserDoc(b, d, base)
		return nil
	}}

// writeUserList runs p as a list of l and hands the rendered ListResponse
// to emit, while its buffer is still live.
func (s *Server) writeUserList(w http.ResponseWriter, r *http.Request, p *listParams, l userList, emit func([]byte)) {
	q, from, err := s.query(*p, s.users, l.resource)
	if err == nil && l.check != nil {
		err = l.check(&q)
	}
	if err != nil {
		s.fail(w, err, "users")
		return
	}
	proj, err := parseProjection(p.attributes, p.excludedAttributes, userSchema, []string{storage.EnterpriseSchema})
	if err != nil {
		s.fail(w, badParam("%v", err), "users")
		return
	}
	page, err := s.store.ListUsers(r.Context(), q)
	if err != nil {
		s.fail(w, storeQueryError(err), "users")
		return
	}
	head, err := s.head(p, l.resource, from, page.Total, len(page.Users), page.Bounds)
	if err != nil {
		s.fail(w, err, "users")
		return
	}
	base := s.baseURL(r)
	b, one, scratch := getBuffer(), getBuffer(), getBuffer()
	defer putBuffer(b)
	defer putBuffer(one)
	defer putBuffer(scratch)
	b.Grow(256 + len(page.Users)*1024)
	head.write(b)
	for i, d := range page.Users {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := renderProjected(b, one, proj, func(into *bytes.Buffer) error { return l.render(into, scratch, d, base) }); err != nil {
			s.fail(w, err, "users")
			return
		}
	}
	b.WriteString("]}")
	emit(b.Bytes())
}

// renderProjected appends what render writes to b, through proj unless
// it is empty (one is the buffer for the unprojected form).
func renderProjected(b, one *bytes.Buffer, proj projection, render func(*bytes.Buffer) error) error {
	if proj.empty() {
		return render(b)
	}
	one.Reset()
	if err := render(one); err != nil {
		return err
	}
	out, err := proj.apply(one.Bytes())
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, p *listParams) {
	if p == nil {
		qp, err := s.queryParams(r)
		if err != nil {
			s.fail(w, err, "groups")
			return
		}
		p = &qp
	}
	cache := s.lookupPage(w, r, "Group", p)
	if cache.hit {
		return
	}
	if v, divert := s.divertToView(w, r); divert {
		if v != nil {
			s.viewPage(w, cache, func(w http.ResponseWriter) { s.listViewGroups(w, r, p, v) })
		}
		return
	}
	s.writeGroupList(w, r, p, directoryGroups, func(body []byte) {
		s.storePage(cache, body)
		writeBody(w, http.StatusOK, body)
	})
}

// groupList is userList for groups.
type groupList struct {
	resource string
	check    func(*storage.Query) error // nil: none
	render   func(b *bytes.Buffer, g storage.Group, base string, withMembers bool)
}

// directoryGroups lists the directory's groups as they are.
var directoryGroups = groupList{resource: "Group", render: appendGroup}

// writeGroupList is writeUserList for groups: members are read only when
// the projection keeps them.
func (s *Server) writeGroupList(w http.ResponseWriter, r *http.Request, p *listParams, l groupList, emit func([]byte)) {
	q, from, err := s.query(*p, s.groups, l.resource)
	if err == nil && l.check != nil {
		err = l.check(&q)
	}
	if err != nil {
		s.fail(w, err, "groups")
		return
	}
	proj, err := parseProjection(p.attributes, p.excludedAttributes, groupSchema, nil)
	if err != nil {
		s.fail(w, badParam("%v", err), "groups")
		return
	}
	withMembers := !proj.excludes("members")
	page, err := s.store.ListGroups(r.Context(), q, withMembers)
	if err != nil {
		s.fail(w, storeQueryError(err), "groups")
		return
	}
	head, err := s.head(p, l.resource, from, page.Total, len(page.Groups), page.Bounds)
	if err != nil {
		s.fail(w, err, "groups")
		return
	}
	base := s.baseURL(r)
	b, one := getBuffer(), getBuffer()
	defer putBuffer(b)
	defer putBuffer(one)
	head.write(b)
	for i, g := range page.Groups {
		if i > 0 {
			b.WriteByte(',')
		}
		err := renderProjected(b, one, proj, func(into *bytes.Buffer) error {
			l.render(into, g, base, withMembers)
			return nil
		})
		if err != nil {
			s.fail(w, err, "groups")
			return
		}
	}
	b.WriteString("]}")
	emit(b.Bytes())
}

// requestProjection reads attributes/excludedAttributes from the query
// string of a single-resource request.
func (s *Server) requestProjection(r *http.Request, core string, exts []string) (projection, error) {
	q := r.URL.Query()
	p, err := parseProjection(splitList(q.Get("attributes")), splitList(q.Get("excludedAttributes")), core, exts)
	if err != nil {
		return p, badParam("%v", err)
	}
	return p, nil
}
