package scim

import (
	"net/http"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

// checkFilterParam measures a request's filter query parameter before
// anything recursive sees it: our list handlers, and the library, which
// parses the filter of any GET it serves on its own. A filter in a POST
// /.search body is measured by the filter compiler, the only place it is
// parsed.
func checkFilterParam(r *http.Request) *scimerr.ScimError {
	if r.URL.RawQuery == "" {
		return nil
	}
	for _, f := range r.URL.Query()["filter"] {
		if err := storage.CheckFilterText(f); err != nil {
			e := Error(http.StatusBadRequest, scimerr.ScimTypeInvalidFilter, err.Error())
			return &e
		}
	}
	return nil
}
