package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// kindView is a source kind as GET /api/v1/kinds shows it: settings is the
// kind's own description (sources.Setting, read from its Config struct),
// and secrets the names of those marked secret, kept for older clients.
type kindView struct {
	Name           string                `json:"name"`
	Description    string                `json:"description"`
	Settings       []sources.Setting     `json:"settings"`
	Secrets        []string              `json:"secrets"`
	DefaultMapping storage.SourceMapping `json:"defaultMapping"`
}

// listKinds lists the registered source kinds with their settings and
// default mappings.
func (s *Server) listKinds(c echo.Context) error {
	out := []kindView{}
	reg := s.cfg.Kinds
	for _, name := range reg.Names() {
		k := reg[name]
		settings := k.Settings()
		if settings == nil {
			settings = []sources.Setting{}
		}
		out = append(out, kindView{Name: name, Description: k.Description,
			Settings: settings, Secrets: nonNil(k.Secrets()),
			DefaultMapping: storage.SourceMapping{User: k.UserMapping, Group: k.GroupMapping}})
	}
	return c.JSON(http.StatusOK, map[string]any{"kinds": out})
}
