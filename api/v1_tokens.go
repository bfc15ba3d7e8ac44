package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
)

type tokenJSON struct {
	Name     string       `json:"name"`
	Role     storage.Role `json:"role"`
	Created  time.Time    `json:"created"`
	LastUsed *time.Time   `json:"lastUsed,omitempty"`
	// App and AppName name the application whose view a reader token
	// reads; absent for a token that reads the whole directory.
	App     string `json:"app,omitempty"`
	AppName string `json:"appName,omitempty"`
	// Token is the bearer secret, present only in the create response.
	Token string `json:"token,omitempty"`
}

// tokenViews renders toks, naming their apps.
func (s *Server) tokenViews(ctx context.Context, toks []storage.Token) ([]tokenJSON, error) {
	appNames := map[string]string{}
	for _, t := range toks {
		if t.App == "" {
			continue
		}
		apps, err := s.cfg.Store.ListApps(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range apps {
			appNames[a.ID] = a.Name
		}
		break
	}
	out := make([]tokenJSON, len(toks))
	for i, t := range toks {
		out[i] = tokenJSON{Name: t.Name, Role: t.Role, Created: t.CreatedAt, LastUsed: optTime(t.LastUsed), App: t.App, AppName: appNames[t.App]}
	}
	return out, nil
}

func (s *Server) listTokens(c echo.Context) error {
	toks, err := s.cfg.Store.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	out, err := s.tokenViews(c.Request().Context(), toks)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": out})
}

// tokenRequest is the body of POST /tokens; App (an application's id or
// name) binds a reader token to that application's view.
type tokenRequest struct {
	Name string       `json:"name"`
	Role storage.Role `json:"role"`
	App  string       `json:"app"`
}

func (s *Server) createToken(c echo.Context) error {
	var in tokenRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	var app *storage.App
	if in.App = strings.TrimSpace(in.App); in.App != "" {
		if in.Role.Valid() && in.Role != storage.RoleReader {
			return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Fields: map[string]string{"app": "only reader tokens belong to an application"},
				Message: string(in.Role) + " tokens cannot belong to an application: application tokens are readers of its view, and writer tokens stay unscoped"}
		}
		a, err := s.cfg.Store.GetApp(c.Request().Context(), in.App)
		if errors.Is(err, storage.ErrNotFound) {
			return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Fields: map[string]string{"app": "no such application"},
				Message: "no application has the id or name " + in.App + "; GET /api/v1/apps lists them"}
		}
		if err != nil {
			return err
		}
		app = &a
	}
	return s.issueToken(c, in.Name, in.Role, app)
}

// issueToken creates a token (bound to app when it is set), answers with
// its secret, shown this once, and audits it.
func (s *Server) issueToken(c echo.Context, name string, role storage.Role, app *storage.App) error {
	name = strings.TrimSpace(name)
	fields := map[string]string{}
	if name == "" {
		fields["name"] = "required"
	} else if p := scim.IdentifierProblem(name, scim.MaxNameChars); p != "" {
		fields["name"] = "the name " + p
	}
	if !role.Valid() {
		fields["role"] = "must be reader, writer or admin"
	}
	if len(fields) > 0 {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: "the token request has problems; see fields", Fields: fields}
	}
	bearer, tok, err := NewToken(name, role, s.cfg.Store.Now())
	if err != nil {
		return errBadRequest("%v", err)
	}
	detail := "role=" + string(role)
	if app != nil {
		tok.App = app.ID
		detail += " app=" + app.ID
	}
	stored, err := s.cfg.Store.CreateToken(c.Request().Context(), tok)
	if err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "a token named " + name + " already exists; revoke it first or pick another name",
				Fields: map[string]string{"name": "already taken"}}
		}
		return err
	}
	s.audit(c, "token.create", stored.Name, detail)
	out := tokenJSON{Name: stored.Name, Role: stored.Role, Created: stored.CreatedAt, Token: bearer}
	if app != nil {
		out.App, out.AppName = app.ID, app.Name
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) revokeToken(c echo.Context) error {
	name := c.Param("name")
	if err := s.cfg.Store.DeleteToken(c.Request().Context(), name); err != nil {
		return notFoundAs(err, "token "+name)
	}
	s.audit(c, "token.revoke", name, "")
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listAudit(c echo.Context) error {
	limit, err := intParam(c, "limit", 100, 1000)
	if err != nil {
		return err
	}
	before, err := intParam(c, "before", 0, 1<<62)
	if err != nil {
		return err
	}
	entries, err := s.cfg.Store.ListAudit(c.Request().Context(), limit, int64(before))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []storage.AuditEntry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": entries})
}

// kinds lists the registered source kinds with their default mappings.
func (s *Server) listKinds(c echo.Context) error {
	type kindJSON struct {
		Name           string                `json:"name"`
		Description    string                `json:"description"`
		Secrets        []string              `json:"secrets"`
		DefaultMapping storage.SourceMapping `json:"defaultMapping"`
	}
	out := []kindJSON{}
	reg := s.cfg.Kinds
	for _, name := range reg.Names() {
		k := reg[name]
		secrets := k.Secrets
		if secrets == nil {
			secrets = []string{}
		}
		out = append(out, kindJSON{Name: name, Description: k.Description, Secrets: secrets,
			DefaultMapping: storage.SourceMapping{User: k.UserMapping, Group: k.GroupMapping}})
	}
	return c.JSON(http.StatusOK, map[string]any{"kinds": out})
}

// routesV1 mounts the config API behind auth: bearer admin tokens on the
// public router, the console's session on its internal one.
func (s *Server) routesV1(e *echo.Echo, auth echo.MiddlewareFunc) {
	g := e.Group(APIPrefix, s.limitAPIBody, auth)
	g.GET("/tokens", s.handle(s.listTokens))
	g.POST("/tokens", s.handle(s.createToken))
	g.DELETE("/tokens/:name", s.handle(s.revokeToken))
	g.GET("/audit", s.handle(s.listAudit))
	s.routesApps(g)
	s.routesPush(g)
	if s.cfg.Sync == nil {
		return
	}
	g.GET("/kinds", s.handle(s.listKinds))
	g.GET("/sources", s.handle(s.listSources))
	g.POST("/sources", s.handle(s.createSource))
	g.GET("/sources/:id", s.handle(s.getSource))
	g.PUT("/sources/:id", s.handle(s.updateSource(true)))
	g.PATCH("/sources/:id", s.handle(s.updateSource(false)))
	g.DELETE("/sources/:id", s.handle(s.deleteSource))
	g.POST("/sources/:id/test", s.handle(s.testSource))
	g.POST("/sources/:id/sync", s.handle(s.syncSource))
	s.routesRuns(g, "/sources/:id", s.sourceRuns())
}

// limitAPIBody caps config API bodies.
func (s *Server) limitAPIBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body != nil {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBodyBytes)
		}
		return next(c)
	}
}
