package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/strictjson"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

// APIPrefix is where the config API is mounted.
const APIPrefix = "/api/v1"

// SyncControl is what the config API needs from the sync side; a
// *engine.Runner is one.
type SyncControl interface {
	Start(ctx context.Context, sourceID string, t engine.Trigger) (storage.Run, error)
	Approve(ctx context.Context, sourceID, runID, actor string) (storage.Run, error)
	Reject(ctx context.Context, sourceID, runID, actor string) (storage.Run, error)
	Test(ctx context.Context, sourceID string) error
	Running(sourceID string) (string, bool)
}

// apiError is the config API's error body:
// {"error": {"code", "message", "fields"}}.
type apiError struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	RunID   string            `json:"runId,omitempty"`
}

func (e *apiError) Error() string { return e.Message }

func errBadRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

func errNotFound(what string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: what + " does not exist"}
}

// writeAPIError renders err; unknown errors are logged and answered with
// a 500 that tells nothing internal.
func (s *Server) writeAPIError(c echo.Context, err error) error {
	var ae *apiError
	var inv *sources.InvalidConfigError
	var busy *engine.BusyError
	var held *engine.HeldError
	var pushBusy *outbound.BusyError
	var pushHeld *outbound.HeldError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &pushBusy):
		ae = &apiError{Status: http.StatusConflict, Code: "run_in_progress", Message: pushBusy.Error(), RunID: pushBusy.RunID}
	case errors.As(err, &pushHeld):
		ae = &apiError{Status: http.StatusConflict, Code: "run_held", Message: pushHeld.Error(), RunID: pushHeld.RunID}
	case errors.Is(err, outbound.ErrNoPush):
		ae = &apiError{Status: http.StatusBadRequest, Code: "no_push", Message: outbound.ErrNoPush.Error()}
	case errors.Is(err, outbound.ErrNotHeld):
		ae = &apiError{Status: http.StatusConflict, Code: "not_held", Message: err.Error()}
	case errors.As(err, &inv):
		ae = &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_config",
			Message: "the source configuration has problems; see fields", Fields: inv.Fields}
	case errors.As(err, &busy):
		ae = &apiError{Status: http.StatusConflict, Code: "run_in_progress", Message: busy.Error(), RunID: busy.RunID}
	case errors.As(err, &held):
		ae = &apiError{Status: http.StatusConflict, Code: "run_held", Message: held.Error(), RunID: held.RunID}
	case errors.Is(err, engine.ErrSealedWithOtherKey), errors.Is(err, engine.ErrLegacySeal):
		ae = &apiError{Status: http.StatusConflict, Code: "secret_unreadable", Message: err.Error()}
	case errors.Is(err, engine.ErrNotHeld):
		ae = &apiError{Status: http.StatusConflict, Code: "not_held", Message: err.Error()}
	case errors.Is(err, engine.ErrShuttingDown):
		ae = &apiError{Status: http.StatusServiceUnavailable, Code: "shutting_down", Message: err.Error()}
	case errors.Is(err, storage.ErrNotFound):
		ae = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "not found"}
	case errors.Is(err, storage.ErrConflict):
		ae = &apiError{Status: http.StatusConflict, Code: "conflict", Message: "the name is already taken"}
	case errors.Is(err, storage.ErrInvalid):
		ae = &apiError{Status: http.StatusBadRequest, Code: "bad_request", Message: err.Error()}
	default:
		s.log.Error("config API request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
		ae = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal server error; the server log has details"}
	}
	return c.JSON(ae.Status, map[string]any{"error": ae})
}

// handle adapts an error-returning handler to the API's error shape.
func (s *Server) handle(h func(echo.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := h(c); err != nil {
			return s.writeAPIError(c, err)
		}
		return nil
	}
}

// decodeJSON reads a JSON body strictly: unknown fields are errors, so a
// typo is reported instead of silently ignored, and so are trailing data,
// duplicate keys (case-insensitively, as fields match), deep nesting and
// invalid UTF-8 (scim/strictjson), so a body never says two things at once.
func decodeJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "the request body is too large"}
		}
		return errBadRequest("the request body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errBadRequest("the request body is not valid JSON for this endpoint: the request body is empty; send a JSON object")
	}
	if err := strictjson.Check(body, strictjson.DefaultMaxDepth); err != nil {
		return errBadRequest("the request body is not valid JSON for this endpoint: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errBadRequest("the request body is not valid JSON for this endpoint: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// actorKey holds the acting admin's name in the echo context.
const actorKey = "actor"

func actor(c echo.Context) string {
	if a, ok := c.Get(actorKey).(string); ok {
		return a
	}
	return "unknown"
}

// authenticateAdmin admits admin tokens, and the bootstrap token from
// SCIMGATE_ADMIN_TOKEN when one is configured.
func (s *Server) authenticateAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, d := s.admit(c.Request(), true)
		if d != nil {
			d.apply(c.Response().Header())
			code := "unauthorized"
			if d.status == http.StatusTooManyRequests {
				code = "too_many_requests"
			}
			return s.writeAPIError(c, &apiError{Status: d.status, Code: code, Message: d.msg})
		}
		if tok.ID == bootstrapID {
			c.Set(actorKey, "bootstrap")
			return next(c)
		}
		if tok.Role != storage.RoleAdmin {
			return s.writeAPIError(c, &apiError{Status: http.StatusForbidden, Code: "forbidden",
				Message: "the config API needs an admin token (scimgate token create --role admin); " + string(tok.Role) + " tokens are for /scim/v2"})
		}
		s.touch(c, tok)
		c.Set(actorKey, tok.Name)
		c.Set("token", tok.Name)
		return next(c)
	}
}

func (s *Server) bootstrapAdmin(r *http.Request) bool {
	if len(s.bootstrapHash) == 0 {
		return false
	}
	scheme, bearer, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(bearer)))
	return subtle.ConstantTimeCompare(sum[:], s.bootstrapHash) == 1
}

// touchEvery bounds how often a token's last-used time is written.
const touchEvery = time.Minute

// lastUse throttles last-used writes to one per token per touchEvery.
type lastUse struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// touch records that tok was used, at most once a minute per token.
func (s *Server) touch(c echo.Context, tok storage.Token) {
	now := s.cfg.Store.Now()
	s.lastUse.mu.Lock()
	if s.lastUse.seen == nil {
		s.lastUse.seen = map[string]time.Time{}
	}
	prev := s.lastUse.seen[tok.ID]
	due := now.Sub(prev) >= touchEvery
	if due {
		s.lastUse.seen[tok.ID] = now
	}
	s.lastUse.mu.Unlock()
	if !due {
		return
	}
	if err := s.cfg.Store.TouchToken(c.Request().Context(), tok.ID, now); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("cannot record token use", "token", tok.Name, "error", err)
	}
}

// audit records a config change; failures are logged, not fatal.
func (s *Server) audit(c echo.Context, action, target, detail string) {
	err := s.cfg.Store.AddAudit(c.Request().Context(), storage.AuditEntry{Actor: actor(c), Action: action, Target: target, Detail: detail})
	if err != nil {
		s.log.Error("cannot write audit entry", "action", action, "target", target, "error", err)
	}
}

// intParam reads an optional non-negative integer query parameter.
func intParam(c echo.Context, name string, def, maxVal int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errBadRequest("%s must be a non-negative integer, not %q", name, v)
	}
	return min(n, maxVal), nil
}

func boolParam(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errBadRequest("%s must be true or false, not %q", name, v)
	}
	return b, nil
}
