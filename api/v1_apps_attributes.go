package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/scim"
)

// listAppAttributes answers which user attributes an application's
// "attributes" allow-list may name, as the allow-list's own check knows
// them, so forms and scripts need not keep a list of their own.
func (s *Server) listAppAttributes(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"attributes": scim.AppAttributeChoices()})
}
