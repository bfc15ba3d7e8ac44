package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/scim/outbound"
)

// listPushProfiles answers which target profiles a push may name, from
// the profiles themselves, so forms and scripts keep no list of their own.
func (s *Server) listPushProfiles(c echo.Context) error {
	type profileJSON struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Default     bool   `json:"default"`
	}
	out := []profileJSON{}
	for _, name := range outbound.ProfileNames() {
		p, _ := outbound.ProfileByName(name)
		out = append(out, profileJSON{Name: name, Description: p.Description, Default: name == outbound.DefaultProfile})
	}
	return c.JSON(http.StatusOK, map[string]any{"profiles": out})
}
