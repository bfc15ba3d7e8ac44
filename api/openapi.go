package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes the config API (OpenAPI 3.0). It is a file
// rather than generated from the handlers so that reviewers read the
// contract itself; api/openapi_test.go keeps it honest by validating real
// responses against it and by checking that it lists every /api/v1 route.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIPath is where the document is served.
const OpenAPIPath = APIPrefix + "/openapi.json"

// serveOpenAPI answers GET /api/v1/openapi.json. No token is needed: the
// document holds no data, and tools (generators, Swagger UI) fetch it
// before they are configured with one.
func (s *Server) serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}
