package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/api/console"
	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
)

// The console (package api/console) acts through the same handlers as
// /api/v1, mounted a second time on an internal router that is reachable
// only in process: there a request's admin is the console session's,
// carried in the request context, which no network client can set.

type consoleIdentityKey struct{}

// consoleOriginKey carries how the browser reached the console (a
// consoleOrigin) to the in-process requests its page makes, so SCIM's
// meta.location names this server as the browser sees it, not an empty
// host.
type consoleOriginKey struct{}

type consoleOrigin struct{ host, proto string }

// withConsoleOrigin notes the origin of each console request.
func withConsoleOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if strings.HasPrefix(r.URL.Path, console.Prefix) {
			o := consoleOrigin{host: r.Host, proto: r.Header.Get("X-Forwarded-Proto")}
			if r.TLS != nil {
				o.proto = "https"
			}
			c.SetRequest(r.WithContext(context.WithValue(r.Context(), consoleOriginKey{}, o)))
		}
		return next(c)
	}
}

// mountConsole serves the console at /ui when the store keeps sessions.
func (s *Server) mountConsole(e *echo.Echo) error {
	sessions, ok := s.cfg.Store.(storage.ConsoleSessionStore)
	if !ok {
		return nil
	}
	internal := echo.New()
	internal.HTTPErrorHandler = s.httpError
	internal.Use(s.recoverPanics)
	s.routesV1(internal, s.consoleAdmin)
	scimGroup := internal.Group(scim.Prefix, s.consoleReader)
	scimGroup.Any("", echo.WrapHandler(s.scim))
	scimGroup.Any("/*", echo.WrapHandler(s.scim))
	s.internal = internal
	now := s.cfg.Console.Now
	if now == nil {
		now = s.cfg.Store.Now
	}
	ui, err := console.New(console.Config{
		API: s, Auth: s, Sessions: sessions, Logger: s.log, Now: now,
		IdleTimeout: s.cfg.Console.IdleTimeout, MaxAge: s.cfg.Console.MaxAge,
		HTTPS: strings.HasPrefix(s.cfg.BaseURL, "https://"),
	})
	if err != nil {
		return err
	}
	e.Pre(withConsoleOrigin)
	ui.Mount(e)
	return nil
}

// Call runs one config API (or, read-only, SCIM) request as who.
func (s *Server) Call(ctx context.Context, who console.Identity, method, path string, body any) (console.Response, error) {
	if s.internal == nil {
		return console.Response{}, errors.New("api: the console is not mounted")
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(body)
		if err != nil {
			return console.Response{}, fmt.Errorf("api: console request body: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	if !strings.HasPrefix(path, scim.Prefix) {
		path = APIPrefix + path
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, consoleIdentityKey{}, who), method, path, rd)
	if err != nil {
		return console.Response{}, fmt.Errorf("api: console request: %w", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.RemoteAddr = "console"
	if o, ok := ctx.Value(consoleOriginKey{}).(consoleOrigin); ok {
		req.Host = o.host
		if o.proto != "" {
			req.Header.Set("X-Forwarded-Proto", o.proto)
		}
	}
	rec := httptest.NewRecorder()
	s.internal.ServeHTTP(rec, req)
	return console.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}, nil
}

func consoleIdentity(c echo.Context) (console.Identity, bool) {
	who, ok := c.Request().Context().Value(consoleIdentityKey{}).(console.Identity)
	return who, ok
}

// consoleAdmin is the internal router's admin authentication: the
// session's identity, already checked by the console for this request.
func (s *Server) consoleAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		who, ok := consoleIdentity(c)
		if !ok {
			return s.writeAPIError(c, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "no console session"})
		}
		c.Set(actorKey, who.Actor)
		c.Set("token", who.Actor)
		return next(c)
	}
}

// consoleReader lets the console's directory pages read the whole
// directory over SCIM, never write it.
func (s *Server) consoleReader(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		who, ok := consoleIdentity(c)
		if !ok {
			scim.WriteError(c.Response(), scim.Error(http.StatusUnauthorized, "", "no console session"))
			return nil
		}
		r := s.withStamp(c.Request())
		c.SetRequest(r.WithContext(scim.WithCaller(r.Context(), scim.Caller{Owner: "console:" + who.Actor})))
		return next(c)
	}
}

// bootstrapSessionID names sessions signed in with SCIMGATE_ADMIN_TOKEN
// by a fingerprint of that token, so changing it ends them.
func (s *Server) bootstrapSessionID() string {
	return bootstrapID + "-" + hex.EncodeToString(s.bootstrapHash[:6])
}

// SignIn checks a token pasted into the console's sign-in form, with the
// same failure limits as a bearer token.
func (s *Server) SignIn(r *http.Request, token string) (console.Identity, error) {
	token = strings.TrimSpace(token)
	probe := r.Clone(r.Context())
	probe.Header = r.Header.Clone()
	probe.Header.Set("Authorization", "Bearer "+token)
	if token == "" {
		probe.Header.Set("Authorization", "Bearer -") // a guess, counted like any other
	}
	tok, d := s.admit(probe, true)
	if d != nil {
		return console.Identity{}, &console.Denial{Status: d.status, RetryAfter: d.retryAfter, Message: d.msg}
	}
	if tok.ID == bootstrapID {
		return console.Identity{TokenID: s.bootstrapSessionID(), Actor: bootstrapID}, nil
	}
	if tok.Role != storage.RoleAdmin {
		return console.Identity{}, &console.Denial{Status: http.StatusForbidden,
			Message: "That is a " + string(tok.Role) + " token, for /scim/v2. The console needs an admin token: scimgate token create --role admin --name <you>"}
	}
	return console.Identity{TokenID: tok.ID, Actor: tok.Name}, nil
}

// Check tells whether a session's token may still act: not revoked,
// still an admin, under its request rate.
func (s *Server) Check(r *http.Request, who console.Identity) error {
	if strings.HasPrefix(who.TokenID, bootstrapID+"-") {
		if len(s.bootstrapHash) == 0 || who.TokenID != s.bootstrapSessionID() {
			return &console.Denial{Status: http.StatusUnauthorized, Message: "the bootstrap admin token has changed"}
		}
	} else {
		tok, err := s.cfg.Store.GetToken(r.Context(), who.TokenID)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return &console.Denial{Status: http.StatusUnauthorized, Message: "the token was revoked"}
			}
			return err
		}
		if tok.Role != storage.RoleAdmin {
			return &console.Denial{Status: http.StatusForbidden, Message: "the token is no longer an admin token"}
		}
	}
	if wait, ok := s.rates.take(who.TokenID, s.cfg.Store.Now()); !ok {
		return &console.Denial{Status: http.StatusTooManyRequests, RetryAfter: retryAfterSeconds(wait), Message: "over the token's request rate"}
	}
	return nil
}
