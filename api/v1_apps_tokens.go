package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// appTokens are the tokens bound to app id.
func (s *Server) appTokens(ctx context.Context, appID string) ([]storage.Token, error) {
	toks, err := s.cfg.Store.ListTokens(ctx)
	if err != nil {
		return nil, err
	}
	var out []storage.Token
	for _, t := range toks {
		if t.App == appID {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *Server) listAppTokens(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.cfg.Store.GetApp(ctx, c.Param("id"))
	if err != nil {
		return notFoundAs(err, "application "+c.Param("id"))
	}
	toks, err := s.appTokens(ctx, a.ID)
	if err != nil {
		return err
	}
	out, err := s.tokenViews(ctx, toks)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": out})
}

// createAppToken issues a reader token of the app's view; the body names
// the token only, as the role is implied.
func (s *Server) createAppToken(c echo.Context) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.cfg.Store.GetApp(c.Request().Context(), c.Param("id"))
	if err != nil {
		return notFoundAs(err, "application "+c.Param("id"))
	}
	return s.issueToken(c, in.Name, storage.RoleReader, &a)
}
