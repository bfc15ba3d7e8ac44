package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

const contentType = "application/scim+json"

// Error builds a SCIM error with a detail for the client.
func Error(status int, scimType scimerr.ScimType, detail string) scimerr.ScimError {
	return scimerr.ScimError{Status: status, ScimType: scimType, Detail: detail}
}

// WriteError writes err in the RFC 7644 §3.12 shape.
func WriteError(w http.ResponseWriter, err scimerr.ScimError) {
	body, _ := json.Marshal(err)
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(err.Status)
	w.Write(body)
}

// toScimError maps any error from our code or the store to the error the
// client sees. Internal faults are logged and answered with a bare 500.
func toScimError(log *slog.Logger, err error, what string) scimerr.ScimError {
	var se scimerr.ScimError
	if errors.As(err, &se) {
		return se
	}
	var sep *scimerr.ScimError
	if errors.As(err, &sep) && sep != nil {
		return *sep
	}
	var inv *storage.InvalidError
	switch {
	case errors.As(err, &inv):
		return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidValue, inv.Msg)
	case errors.Is(err, storage.ErrNotFound):
		return Error(http.StatusNotFound, "", fmt.Sprintf("%s not found", what))
	case errors.Is(err, storage.ErrConflict):
		return Error(http.StatusConflict, scimerr.ScimTypeUniqueness, fmt.Sprintf("%s: a resource with the same unique attribute already exists", what))
	case errors.Is(err, storage.ErrPrecondition):
		return Error(http.StatusPreconditionFailed, "", "the resource has changed: If-Match does not match its current version")
	}
	log.Error("scim request failed", "resource", what, "error", err)
	return scimerr.ScimError{Status: http.StatusInternalServerError, Detail: "internal server error"}
}

func asInvalid(err error, target **storage.InvalidError) bool { return errors.As(err, target) }
