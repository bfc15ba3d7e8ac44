package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
)

// Discovery (RFC 7644 §4): /ServiceProviderConfig, /Schemas and
// /ResourceTypes. Schemas are the library's definitions, rendered as it
// renders them.

// serviceProviderConfig advertises exactly what is implemented; the
// library's own hard-codes sort and etag as unsupported.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	body := map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/scimgate/scimgate",
		// RFC 7643 §5 gives patch only "supported"; maxOperations, named
		// as bulk's, tells clients the cap a PATCH is held to.
		"patch":  map[string]any{"supported": true, "maxOperations": s.opts.MaxPatchOperations},
		"bulk":   map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter": map[string]any{"supported": true, "maxResults": s.opts.MaxResults},
		// RFC 9865: both paging methods; index stays the default so that
		// clients written for RFC 7644 see no change.
		"pagination": map[string]any{
			"cursor": true, "index": true, "defaultPaginationMethod": "index",
			"defaultPageSize": s.opts.DefaultCount, "maxPageSize": s.opts.MaxResults,
			"cursorTimeout": int(s.opts.CursorTimeout.Seconds()),
		},
		"changePassword": map[string]any{"supported": false},
		"sort":           map[string]any{"supported": true},
		"etag":           map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "Bearer token",
			"description": "A scimgate API token (scimgate token create) sent as Authorization: Bearer <token>",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	if err := jsonEncode(&b, v); err != nil {
		WriteError(w, scimerr.ScimErrorInternal)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// discoveryList is the ListResponse of a discovery endpoint.
func discoveryList(w http.ResponseWriter, total int, p discoveryPage, resources []any) {
	writeMarshaled(w, map[string]any{
		"schemas":      []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": total,
		"itemsPerPage": p.count,
		"startIndex":   p.startIndex,
		"Resources":    resources,
	})
}

// writeMarshaled answers 200 with v as encoding/json writes it.
func writeMarshaled(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteError(w, scimerr.ScimErrorInternal)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// discoveryPage is the paging and filter of a discovery list. count
// defaults to, and is capped at, MaxResults.
type discoveryPage struct {
	startIndex, count int
	filter            *filter.Validator
}

// discoveryParams reads count, startIndex and filter; the filter is
// checked against ref (with the common attributes).
func (s *Server) discoveryParams(r *http.Request, ref schema.Schema) (discoveryPage, error) {
	q := r.URL.Query()
	p := discoveryPage{startIndex: 1, count: s.opts.MaxResults}
	var bad []string
	for _, param := range []struct {
		name string
		dst  *int
	}{{"count", &p.count}, {"startIndex", &p.startIndex}} {
		if v := q.Get(param.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				bad = append(bad, param.name)
				continue
			}
			*param.dst = n
		}
	}
	if len(bad) > 0 {
		return p, scimerr.ScimErrorBadParams(bad)
	}
	p.count = min(max(p.count, 0), s.opts.MaxResults)
	p.startIndex = max(p.startIndex, 1)
	if f := strings.TrimSpace(q.Get("filter")); f != "" {
		withCommon := ref
		withCommon.Attributes = append(append(schema.Attributes{}, ref.Attributes...), schema.CommonAttributes()...)
		v, err := filter.NewValidator(f, withCommon)
		if err != nil || v.Validate() != nil {
			return p, scimerr.ScimErrorInvalidFilter
		}
		p.filter = &v
	}
	return p, nil
}

// window returns the bounds of the page within n items.
func (p discoveryPage) window(n int) (start, end int) {
	start = min(p.startIndex-1, n)
	return start, min(start+p.count, n)
}

// allSchemas lists the schema definitions: the three of discovery itself,
// then each resource type's and its extensions', each once.
func (s *Server) allSchemas() []schema.Schema {
	out := []schema.Schema{schema.Definition(), schema.ResourceTypeSchema(), schema.ServiceProviderConfigSchema()}
	seen := map[string]bool{}
	for _, rt := range []escim.ResourceType{s.userType, s.groupType} {
		for _, sc := range append([]schema.Schema{rt.Schema}, extensionSchemas(rt)...) {
			if !seen[sc.ID] {
				seen[sc.ID] = true
				out = append(out, sc)
			}
		}
	}
	return out
}

// schemas serves GET /Schemas; a filter selects among them, and
// totalResults counts them all.
func (s *Server) schemas(w http.ResponseWriter, r *http.Request) {
	p, err := s.discoveryParams(r, schema.Definition())
	if err != nil {
		s.fail(w, err, "schemas")
		return
	}
	all := s.allSchemas()
	start, end := p.window(len(all))
	var resources []any
	for _, sc := range all[start:end] {
		m, err := s.schemaMap(r, sc)
		if err != nil {
			s.fail(w, err, "schemas")
			return
		}
		if p.filter != nil && p.filter.PassesFilter(m) != nil {
			continue
		}
		resources = append(resources, m)
	}
	discoveryList(w, len(all), p, resources)
}

// schema serves GET /Schemas/{id}.
func (s *Server) schema(w http.ResponseWriter, r *http.Request, id string) {
	for _, sc := range s.allSchemas() {
		if sc.ID == id {
			m, err := s.schemaMap(r, sc)
			if err != nil {
				s.fail(w, err, "schema")
				return
			}
			writeMarshaled(w, m)
			return
		}
	}
	WriteError(w, scimerr.ScimErrorResourceNotFound(id))
}

// resourceTypeDoc renders a resource type (RFC 7643 §6).
func resourceTypeDoc(rt escim.ResourceType) map[string]any {
	exts := make([]map[string]any, 0, len(rt.SchemaExtensions))
	for _, e := range rt.SchemaExtensions {
		exts = append(exts, map[string]any{"schema": e.Schema.ID, "required": e.Required})
	}
	return map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
		"id":               rt.ID.Value(),
		"name":             rt.Name,
		"description":      rt.Description.Value(),
		"endpoint":         rt.Endpoint,
		"schema":           rt.Schema.ID,
		"schemaExtensions": exts,
	}
}

// resourceTypes serves GET /ResourceTypes. A filter is checked, but all
// types are listed.
func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request) {
	p, err := s.discoveryParams(r, schema.ResourceTypeSchema())
	if err != nil {
		s.fail(w, err, "resource types")
		return
	}
	all := []escim.ResourceType{s.userType, s.groupType}
	start, end := p.window(len(all))
	var resources []any
	for _, rt := range all[start:end] {
		resources = append(resources, resourceTypeDoc(rt))
	}
	discoveryList(w, len(all), p, resources)
}

// resourceType serves GET /ResourceTypes/{name}.
func (s *Server) resourceType(w http.ResponseWriter, name string) {
	for _, rt := range []escim.ResourceType{s.userType, s.groupType} {
		if rt.Name == name {
			writeMarshaled(w, resourceTypeDoc(rt))
			return
		}
	}
	WriteError(w, scimerr.ScimErrorResourceNotFound(name))
}
