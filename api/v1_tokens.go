package api

import (
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
	// Token is the bearer secret, present only in the create response.
	Token string `json:"token,omitempty"`
}

func (s *Server) listTokens(c echo.Context) error {
	toks, err := s.cfg.Store.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(toks))
	for i, t := range toks {
		out[i] = tokenJSON{Name: t.Name, Role: t.Role, Created: t.CreatedAt, LastUsed: optTime(t.LastUsed)}
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) createToken(c echo.Context) error {
	var in struct {
		Name string       `json:"name"`
		Role storage.Role `json:"role"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	fields := map[string]string{}
	if in.Name == "" {
		fields["name"] = "required"
	} else if p := scim.IdentifierProblem(in.Name, scim.MaxNameChars); p != "" {
		fields["name"] = "the name " + p
	}
	if !in.Role.Valid() {
		fields["role"] = "must be reader, writer or admin"
	}
	if len(fields) > 0 {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: "the token request has problems; see fields", Fields: fields}
	}
	bearer, tok, err := NewToken(in.Name, in.Role, s.cfg.Store.Now())
	if err != nil {
		return errBadRequest("%v", err)
	}
	stored, err := s.cfg.Store.CreateToken(c.Request().Context(), tok)
	if err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return &apiError{Status: http.StatusConflict, Code: "conflict", Message: "a token named " + in.Name + " already exists; revoke it first or pick another name",
				Fields: map[string]string{"name": "already taken"}}
		}
		return err
	}
	s.audit(c, "token.create", stored.Name, "role="+string(stored.Role))
	return c.JSON(http.StatusCreated, tokenJSON{Name: stored.Name, Role: stored.Role, Created: stored.CreatedAt, Token: bearer})
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

// routesV1 mounts the config API.
func (s *Server) routesV1(e *echo.Echo) {
	g := e.Group(APIPrefix, s.limitAPIBody, s.authenticateAdmin)
	g.GET("/tokens", s.handle(s.listTokens))
	g.POST("/tokens", s.handle(s.createToken))
	g.DELETE("/tokens/:name", s.handle(s.revokeToken))
	g.GET("/audit", s.handle(s.listAudit))
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
	g.GET("/sources/:id/runs", s.handle(s.listRuns))
	g.GET("/sources/:id/runs/:runId", s.handle(s.getRun))
	g.GET("/sources/:id/runs/:runId/changes", s.handle(s.listChanges))
	g.GET("/sources/:id/runs/:runId/pending", s.handle(s.listPending))
	g.POST("/sources/:id/runs/:runId/approve", s.handle(s.decideRun(true)))
	g.POST("/sources/:id/runs/:runId/reject", s.handle(s.decideRun(false)))
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
