package scim

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/scimgate/scimgate/storage"
)

// Prefix is where the service provider is mounted.
const Prefix = "/scim/v2"

// Directory is the part of the store the SCIM layer needs.
type Directory interface {
	storage.UserStore
	storage.GroupStore
}

// Options tunes the service provider.
type Options struct {
	Logger *slog.Logger
	// BaseURL is the public scheme://host[:port] of the server; empty means
	// "from the request".
	BaseURL string
	// MaxResults caps count on list requests (default 1000); DefaultCount
	// is the page size when a client sends none (default 100).
	MaxResults   int
	DefaultCount int
	// CursorTimeout is how long a cursor stays valid between page
	// requests (RFC 9865 cursorTimeout; default one hour).
	CursorTimeout time.Duration
	// Now is the clock (default time.Now); tests may inject one.
	Now func() time.Time
	// MaxPatchOperations caps the operations of one PATCH request
	// (default DefaultMaxPatchOperations); more answer 400 tooMany.
	MaxPatchOperations int
	// PageCacheBytes bounds the cache of rendered list pages (default
	// DefaultPageCacheBytes; negative: no cache). Pages are cached only
	// when the store is a Stamper.
	PageCacheBytes int
}

// Server is the SCIM service provider, an http.Handler for paths under
// Prefix.
type Server struct {
	store  Directory
	opts   Options
	log    *slog.Logger
	users  *filterCompiler
	groups *filterCompiler

	// userType and groupType describe the resources (schemas, endpoint)
	// for validation and discovery; endpoints routes requests to them.
	userType, groupType escim.ResourceType
	endpoints           []endpoint

	// views are the applications' views as served (appview.go).
	views viewCache

	// pages caches rendered list responses until the next write (nil:
	// off); stamper tells when that was.
	pages   *pageCache
	stamper Stamper
}

// New builds the service provider over store.
func New(store Directory, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = 1000
	}
	if opts.DefaultCount <= 0 {
		opts.DefaultCount = 100
	}
	if opts.CursorTimeout <= 0 {
		opts.CursorTimeout = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxPatchOperations <= 0 {
		opts.MaxPatchOperations = DefaultMaxPatchOperations
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	s := &Server{store: store, opts: opts, log: opts.Logger}
	if st, ok := store.(Stamper); ok {
		if opts.PageCacheBytes == 0 {
			opts.PageCacheBytes = DefaultPageCacheBytes
		}
		s.stamper, s.pages = st, newPageCache(opts.PageCacheBytes)
	}
	enterprise := schema.ExtensionEnterpriseUser()
	s.userType = escim.ResourceType{
		ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
		Description:      optional.NewString("User Account"),
		Schema:           schema.CoreUserSchema(),
		SchemaExtensions: []escim.SchemaExtension{{Schema: enterprise}},
	}
	s.groupType = escim.ResourceType{
		ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups",
		Description: optional.NewString("Group"),
		Schema:      schema.CoreGroupSchema(),
	}
	s.endpoints = []endpoint{
		{rt: s.userType, list: s.listUsers, get: s.getUser, create: s.createUser,
			replace: s.replaceUser, patch: s.patchUser, remove: s.deleteUser},
		{rt: s.groupType, list: s.listGroups, get: s.getGroup, create: s.createGroup,
			replace: s.replaceGroup, patch: s.patchGroup, remove: s.deleteGroup},
	}
	s.users = newFilterCompiler(&userAttrs, schema.CoreUserSchema(), enterprise)
	s.groups = newFilterCompiler(&groupAttrs, schema.CoreGroupSchema())
	return s, nil
}

// endpoint is one resource type and its handlers. Writes get the body
// already validated against the type's schemas.
type endpoint struct {
	rt      escim.ResourceType
	list    func(w http.ResponseWriter, r *http.Request, p *listParams)
	get     func(w http.ResponseWriter, r *http.Request, id string)
	create  func(w http.ResponseWriter, r *http.Request, attrs map[string]any)
	replace func(w http.ResponseWriter, r *http.Request, id string, attrs map[string]any)
	patch   func(w http.ResponseWriter, r *http.Request, id string, ops []escim.PatchOperation)
	remove  func(w http.ResponseWriter, r *http.Request, id string)
}

// ServeHTTP routes a SCIM request. Every route is ours: the library
// validates write bodies and parses filters (validate.go, filter.go), and
// the handler that calls the store writes the response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		WriteError(w, Error(http.StatusNotFound, "", "not a SCIM endpoint"))
		return
	}
	path = strings.TrimSuffix(path, "/")
	if path == "/Me" || strings.HasPrefix(path, "/Me/") {
		// RFC 7644 §3.11 lets a provider without /Me answer 501. A token
		// here is an application's, not a person's, so there is no "me".
		WriteError(w, Error(http.StatusNotImplemented, "", "/Me is not supported: scimgate tokens belong to applications, not users; use /Users/{id}"))
		return
	}
	caller, _ := callerFrom(r.Context())
	isSearch := r.Method == http.MethodPost && strings.HasSuffix(path, "/.search")
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !isSearch && !caller.CanWrite {
		WriteError(w, Error(http.StatusForbidden, "", "this token may only read; use a writer token to change resources"))
		return
	}
	if err := checkFilterParam(r); err != nil {
		WriteError(w, *err)
		return
	}
	// Body limits and client quirks (normalize.go), before any routing;
	// body is the request body, read here once.
	body, err := s.normalizeRequest(r, path)
	if err != nil {
		s.fail(w, err, "request")
		return
	}
	s.route(w, r, path, body)
}

// route dispatches a request below Prefix (path, without a trailing
// slash) to its handler.
func (s *Server) route(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	get := r.Method == http.MethodGet
	switch {
	case (path == "" || path == "/") && get, path == "/.search" && r.Method == http.MethodPost:
		// Queries across resource types are not offered.
		WriteError(w, scimerr.ScimErrorTooMany)
		return
	case path == "/.search":
		WriteError(w, scimerr.ScimError{Status: http.StatusMethodNotAllowed})
		return
	case path == "/ServiceProviderConfig":
		s.serviceProviderConfig(w, r)
		return
	case path == "/Schemas" && get:
		s.schemas(w, r)
		return
	case strings.HasPrefix(path, "/Schemas/") && get:
		s.schema(w, r, strings.TrimPrefix(path, "/Schemas/"))
		return
	case path == "/ResourceTypes" && get:
		s.resourceTypes(w, r)
		return
	case strings.HasPrefix(path, "/ResourceTypes/") && get:
		s.resourceType(w, strings.TrimPrefix(path, "/ResourceTypes/"))
		return
	}
	for _, e := range s.endpoints {
		rest, ok := strings.CutPrefix(path, e.rt.Endpoint)
		switch {
		case !ok:
			continue
		case rest == "" && get:
			e.list(w, r, nil)
			return
		case rest == "" && r.Method == http.MethodPost:
			s.write(w, r, e, "", body)
			return
		case rest == "/.search" && r.Method == http.MethodPost:
			s.search(w, r, body, e.list)
			return
		case rest == "/.search":
			WriteError(w, scimerr.ScimError{Status: http.StatusMethodNotAllowed})
			return
		}
		id, ok := strings.CutPrefix(rest, "/")
		if !ok {
			continue
		}
		switch r.Method {
		case http.MethodGet:
			e.get(w, r, id)
			return
		case http.MethodDelete:
			e.remove(w, r, id)
			return
		case http.MethodPut, http.MethodPatch:
			s.write(w, r, e, id, body)
			return
		}
	}
	WriteError(w, Error(http.StatusNotFound, "", "Specified endpoint does not exist."))
}

// write runs a create (POST), replace (PUT) or patch (PATCH) of resource
// id with the body validated against e's schemas; a body that fails is
// answered with the library's verdict.
func (s *Server) write(w http.ResponseWriter, r *http.Request, e endpoint, id string, body []byte) {
	var err error
	switch r.Method {
	case http.MethodPost:
		var attrs map[string]any
		if attrs, err = validateResource(e.rt, body); err == nil {
			e.create(w, r, attrs)
		}
	case http.MethodPut:
		var attrs map[string]any
		if attrs, err = validateResource(e.rt, body); err == nil {
			e.replace(w, r, id, attrs)
		}
	case http.MethodPatch:
		var ops []escim.PatchOperation
		if ops, err = validatePatch(e.rt, body); err == nil {
			e.patch(w, r, id, ops)
		}
	}
	if err != nil {
		s.fail(w, err, "request")
	}
}

func (s *Server) now() time.Time { return s.opts.Now() }
