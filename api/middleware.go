package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	scimerr "github.com/elimity-com/scim/errors"
	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
)

// authenticate checks the bearer token on every SCIM request. The token
// row is read on each request, so a revoked token fails at once.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := s.withStamp(c.Request())
		tok, d := s.admit(r, false)
		if d != nil {
			d.apply(c.Response().Header())
			scim.WriteError(c.Response(), scim.Error(d.status, "", d.msg))
			return nil
		}
		if tok.Role == storage.RoleAdmin {
			scim.WriteError(c.Response(), scim.Error(http.StatusForbidden, "", "admin tokens are for the config API; use a reader or writer token for SCIM"))
			return nil
		}
		caller := scim.Caller{Owner: tok.Owner(), CanWrite: tok.Role == storage.RoleWriter}
		if tok.App != "" {
			app, ok := s.appOf(c, tok)
			if !ok {
				return nil
			}
			// An application token only ever reads its view.
			caller.CanWrite, caller.App = false, &app
		}
		s.touch(c, tok)
		c.SetRequest(r.WithContext(scim.WithCaller(r.Context(), caller)))
		c.Set("token", tok.Name)
		return next(c)
	}
}

// appOf loads the application tok is bound to, answering the request
// itself (and returning false) when it cannot. The store caches apps in
// process, so this costs no query in the common case. An app deleted
// since the token was read takes its tokens with it: 401, as for a
// revoked token.
func (s *Server) appOf(c echo.Context, tok storage.Token) (storage.App, bool) {
	app, err := s.cfg.Store.GetApp(c.Request().Context(), tok.App)
	if err == nil {
		return app, true
	}
	if errors.Is(err, storage.ErrNotFound) {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="scimgate"`)
		scim.WriteError(c.Response(), scim.Error(http.StatusUnauthorized, "", errUnauthenticated.Error()))
		return storage.App{}, false
	}
	s.log.Error("cannot load the application of a token", "token", tok.Name, "app", tok.App, "error", err)
	scim.WriteError(c.Response(), scim.Error(http.StatusServiceUnavailable, "", "the token's application cannot be read now; retry"))
	return storage.App{}, false
}

// limitBody reads at most MaxBodyBytes of the body up front so an
// oversized request is answered with a SCIM 413 before anything parses it.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > s.cfg.MaxBodyBytes {
			return tooLarge(c, s.cfg.MaxBodyBytes)
		}
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
		if err != nil {
			scim.WriteError(c.Response(), scim.Error(http.StatusBadRequest, scimerr.ScimTypeInvalidSyntax, "the request body could not be read"))
			return nil
		}
		if int64(len(body)) > s.cfg.MaxBodyBytes {
			return tooLarge(c, s.cfg.MaxBodyBytes)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return next(c)
	}
}

func tooLarge(c echo.Context, limit int64) error {
	scim.WriteError(c.Response(), scim.Error(http.StatusRequestEntityTooLarge, "",
		fmt.Sprintf("the request body is larger than the %d bytes this server accepts", limit)))
	return nil
}

// recoverPanics turns a panic into a logged 500 without internal detail.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "method", c.Request().Method, "path", c.Request().URL.Path, "panic", fmt.Sprint(p))
				if !c.Response().Committed {
					scim.WriteError(c.Response(), scimerr.ScimError{Status: http.StatusInternalServerError, Detail: "internal server error"})
				}
				err = nil
			}
		}()
		return next(c)
	}
}

// accessLog logs each request at debug level, and server errors at error.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			// Render the error now, so the logged status is the one sent.
			c.Error(err)
			err = nil
		}
		status := c.Response().Status
		level := s.log.Debug
		// 501 is an answer (an endpoint we do not offer, such as /Me),
		// not a fault of ours.
		if status >= 500 && status != http.StatusNotImplemented {
			level = s.log.Error
		}
		level("request", "method", c.Request().Method, "path", c.Request().URL.Path,
			"status", status, "duration", time.Since(start), "token", c.Get("token"))
		return err
	}
}

// httpError renders Echo's own errors (unknown route, wrong method): SCIM
// shape under /scim, plain JSON elsewhere.
func (s *Server) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, "internal server error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status, msg = he.Code, fmt.Sprint(he.Message)
	} else {
		s.log.Error("request failed", "path", c.Request().URL.Path, "error", err)
	}
	if strings.HasPrefix(c.Request().URL.Path, scim.Prefix) {
		scim.WriteError(c.Response(), scim.Error(status, "", msg))
		return
	}
	code := "error"
	switch status {
	case http.StatusNotFound:
		code, msg = "not_found", "no such endpoint: "+c.Request().Method+" "+c.Request().URL.Path
	case http.StatusMethodNotAllowed:
		code = "method_not_allowed"
	case http.StatusInternalServerError:
		code = "internal"
	}
	c.JSON(status, map[string]any{"error": apiError{Code: code, Message: msg}})
}
