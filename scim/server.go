package scim

import (
	"bytes"
	"context"
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
}

// Server is the SCIM service provider, an http.Handler for paths under
// Prefix.
type Server struct {
	store  Directory
	opts   Options
	log    *slog.Logger
	lib    escim.Server
	users  *filterCompiler
	groups *filterCompiler

	userType, groupType escim.ResourceType
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
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	s := &Server{store: store, opts: opts, log: opts.Logger}
	enterprise := schema.ExtensionEnterpriseUser()
	s.userType = escim.ResourceType{
		ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
		Description:      optional.NewString("User Account"),
		Schema:           schema.CoreUserSchema(),
		SchemaExtensions: []escim.SchemaExtension{{Schema: enterprise}},
		Handler:          &userHandler{s: s},
	}
	s.groupType = escim.ResourceType{
		ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups",
		Description: optional.NewString("Group"),
		Schema:      schema.CoreGroupSchema(),
		Handler:     &groupHandler{s: s},
	}
	lib, err := escim.NewServer(&escim.ServerArgs{
		ServiceProviderConfig: &escim.ServiceProviderConfig{MaxResults: opts.MaxResults, SupportFiltering: true, SupportPatch: true},
		ResourceTypes:         []escim.ResourceType{s.userType, s.groupType},
	})
	if err != nil {
		return nil, err
	}
	s.lib = lib
	s.users = newFilterCompiler(&userAttrs, schema.CoreUserSchema(), enterprise)
	s.groups = newFilterCompiler(&groupAttrs, schema.CoreGroupSchema())
	return s, nil
}

// ServeHTTP routes a SCIM request. Reads, lists and deletes are ours
// end to end; creates, replaces and patches pass through the library for
// validation and then come back to our handlers, which write the response.
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
	s.normalizeRequest(r, path) // client quirks (normalize.go), before any routing
	switch {
	case path == "/ServiceProviderConfig" && r.Method == http.MethodGet:
		s.serviceProviderConfig(w, r)
		return
	case path == "/Users" && r.Method == http.MethodGet:
		s.listUsers(w, r, nil)
		return
	case path == "/Groups" && r.Method == http.MethodGet:
		s.listGroups(w, r, nil)
		return
	case path == "/Users/.search" && isSearch:
		s.search(w, r, s.listUsers)
		return
	case path == "/Groups/.search" && isSearch:
		s.search(w, r, s.listGroups)
		return
	}
	if id, ok := strings.CutPrefix(path, "/Users/"); ok && !strings.Contains(id, "/") {
		switch r.Method {
		case http.MethodGet:
			s.getUser(w, r, id)
			return
		case http.MethodDelete:
			s.deleteUser(w, r, id)
			return
		}
	}
	if id, ok := strings.CutPrefix(path, "/Groups/"); ok && !strings.Contains(id, "/") {
		switch r.Method {
		case http.MethodGet:
			s.getGroup(w, r, id)
			return
		case http.MethodDelete:
			s.deleteGroup(w, r, id)
			return
		}
	}
	s.viaLibrary(w, r, path)
}

type slotKey struct{}

// viaLibrary lets the library validate the request. Our handler renders
// the success response into the slot; when the library answers on its own
// (a validation error, discovery endpoints) its answer is forwarded.
func (s *Server) viaLibrary(w http.ResponseWriter, r *http.Request, path string) {
	slot := &response{}
	r2 := r.WithContext(context.WithValue(r.Context(), slotKey{}, slot))
	r2.URL.Path = "/v2" + path
	cw := &captureWriter{header: http.Header{}}
	s.lib.ServeHTTP(cw, r2)
	if slot.status != 0 {
		slot.write(w)
		return
	}
	for k, vs := range cw.header {
		w.Header()[k] = vs
	}
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	if cw.status >= 500 {
		s.log.Error("scim library answered with a server error", "path", path, "body", cw.body.String())
	}
	w.WriteHeader(cw.status)
	w.Write(cw.body.Bytes())
}

// respond stores a rendered response for viaLibrary to write.
func respond(r *http.Request, resp response) {
	if slot, ok := r.Context().Value(slotKey{}).(*response); ok {
		*slot = resp
	}
}

// captureWriter buffers what the library writes.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// placeholder is what our handlers hand back to the library after they
// have put the real response in the slot; the library renders it into the
// capture buffer, which is then dropped.
var placeholder = escim.Resource{ID: "-", Attributes: escim.ResourceAttributes{"-": true}}

func (s *Server) now() time.Time { return s.opts.Now() }

// serviceProviderConfig advertises exactly what is implemented; the
// library's own hard-codes sort and etag as unsupported.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	body := map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/scimgate/scimgate",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": s.opts.MaxResults},
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
