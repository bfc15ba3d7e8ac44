package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

// listParams are the query parameters of RFC 7644 §3.4.2, from a GET query
// string or a POST /.search body.
type listParams struct {
	filter             string
	startIndex, count  int
	sortBy, sortOrder  string
	attributes         []string
	excludedAttributes []string
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
	for name, dst := range map[string]*int{"startIndex": &p.startIndex, "count": &p.count} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return p, badParam("%s must be an integer, not %q", name, v)
			}
			*dst = n
		}
	}
	return s.normalise(p), nil
}

// normalise applies RFC 7644 §3.4.2.4: startIndex below 1 means 1, count
// below 0 means 0, and count is capped at the advertised maximum.
func (s *Server) normalise(p listParams) listParams {
	p.startIndex = max(p.startIndex, 1)
	p.count = min(max(p.count, 0), s.opts.MaxResults)
	return p
}

// search reads a POST /.search body and runs the list it describes.
func (s *Server) search(w http.ResponseWriter, r *http.Request, list func(http.ResponseWriter, *http.Request, *listParams)) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteError(w, Error(http.StatusBadRequest, scimerr.ScimTypeInvalidSyntax, "the request body could not be read"))
		return
	}
	var req struct {
		Schemas            []string `json:"schemas"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
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
		p.startIndex = *req.StartIndex
	}
	if req.Count != nil {
		p.count = *req.Count
	}
	p = s.normalise(p)
	list(w, r, &p)
}

// query turns list parameters into a storage query.
func (s *Server) query(p listParams, fc *filterCompiler) (storage.Query, error) {
	q := storage.Query{Offset: p.startIndex - 1, Limit: p.count}
	f, err := fc.compile(p.filter)
	if err != nil {
		return q, Error(http.StatusBadRequest, scimerr.ScimTypeInvalidFilter, err.Error())
	}
	q.Filter = f
	if p.sortBy != "" {
		a, err := fc.attrs.resolveSortBy(p.sortBy)
		if err != nil {
			return q, badParam("%v", err)
		}
		q.SortBy = a
	}
	switch strings.ToLower(p.sortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, badParam("sortOrder must be ascending or descending, not %q", p.sortOrder)
	}
	return q, nil
}

// storeQueryError maps a store's ErrInvalid on a filter to invalidFilter.
func storeQueryError(err error) error {
	var inv *storage.InvalidError
	if ok := asInvalid(err, &inv); ok {
		return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidFilter, inv.Msg)
	}
	return err
}

func listHeader(b *bytes.Buffer, total, start, n int) {
	b.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":`)
	b.WriteString(strconv.Itoa(total))
	b.WriteString(`,"startIndex":`)
	b.WriteString(strconv.Itoa(start))
	b.WriteString(`,"itemsPerPage":`)
	b.WriteString(strconv.Itoa(n))
	b.WriteString(`,"Resources":[`)
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
	q, err := s.query(*p, s.users)
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
	base := s.baseURL(r)
	var b bytes.Buffer
	b.Grow(256 + len(page.Users)*1024)
	listHeader(&b, page.Total, p.startIndex, len(page.Users))
	var one bytes.Buffer
	for i, d := range page.Users {
		if i > 0 {
			b.WriteByte(',')
		}
		if proj.empty() {
			appendUserDoc(&b, d, base)
			continue
		}
		one.Reset()
		appendUserDoc(&one, d, base)
		out, err := proj.apply(one.Bytes())
		if err != nil {
			s.fail(w, err, "users")
			return
		}
		b.Write(out)
	}
	b.WriteString("]}")
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
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
	q, err := s.query(*p, s.groups)
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
	base := s.baseURL(r)
	var b, one bytes.Buffer
	listHeader(&b, page.Total, p.startIndex, len(page.Groups))
	for i, g := range page.Groups {
		if i > 0 {
			b.WriteByte(',')
		}
		one.Reset()
		appendGroup(&one, g, base, withMembers)
		out, err := proj.apply(one.Bytes())
		if err != nil {
			s.fail(w, err, "groups")
			return
		}
		b.Write(out)
	}
	b.WriteString("]}")
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
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
