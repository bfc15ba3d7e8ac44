// Package console is scimgate's admin console at /ui: server-rendered
// pages (html/template) and static assets embedded in the binary. It
// signs admins in with an admin token into a server-side session
// (storage.ConsoleSessionStore) and carries out every action through the
// config API in process (API), so the console has no rules of its own.
package console

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// Prefix is where the console is mounted.
const Prefix = "/ui"

// Config wires the console.
type Config struct {
	API      API
	Auth     Authority
	Sessions storage.ConsoleSessionStore
	Logger   *slog.Logger
	// Now is the clock sessions expire by; nil: time.Now.
	Now func() time.Time
	// IdleTimeout ends a session nobody used for that long (default 30
	// minutes); MaxAge ends any session that old (default 12 hours).
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// HTTPS marks cookies Secure even on plain-HTTP requests, for a
	// console behind a proxy that terminates TLS (a https:// public URL).
	HTTPS bool
}

// Console serves the admin console.
type Console struct {
	cfg   Config
	log   *slog.Logger
	pages map[string]*pageTemplate
}

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.API == nil || cfg.Auth == nil || cfg.Sessions == nil {
		return nil, errors.New("console: API, Auth and Sessions are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 12 * time.Hour
	}
	pages, err := parsePages(cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	return &Console{cfg: cfg, log: cfg.Logger, pages: pages}, nil
}

// Mount registers the console's routes on e.
func (u *Console) Mount(e *echo.Echo) {
	g := e.Group(Prefix, secureHeaders, u.limitForm)
	g.GET("/static/*", echo.WrapHandler(http.StripPrefix(Prefix, staticHandler())))
	g.GET("/signin", u.signinPage)
	g.POST("/signin", u.handle(u.signin))
	e.GET(Prefix, func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, Prefix+"/") })

	in := g.Group("", u.requireSession)
	in.POST("/signout", u.handle(u.signout))
	in.GET("/", u.handle(u.overview))
	// Each area of the console mounts its own pages.
	u.routesSources(in)
	u.routesRuns(in)
	u.routesApps(in)
	u.routesDirectory(in)
	u.routesTokens(in)
	u.routesAudit(in)
}

// maxFormBytes bounds a console form; the largest (a source with its
// mapping) is a few KB.
const maxFormBytes = 256 << 10

func (u *Console) limitForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body != nil {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
		}
		return next(c)
	}
}

// handle renders a handler's error as a page a person can act on: the
// API's own message for its errors, a generic one (logged) otherwise.
func (u *Console) handle(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := h(c)
		if err == nil || c.Response().Committed {
			return nil
		}
		var ae *APIError
		var he *echo.HTTPError
		switch {
		case errors.As(err, &ae):
			return u.errorPage(c, statusOr(ae.Status, http.StatusBadGateway), ae.Error())
		case errors.As(err, &he):
			return u.errorPage(c, he.Code, fmt.Sprint(he.Message))
		default:
			u.log.Error("console request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
			return u.errorPage(c, http.StatusInternalServerError, "Something went wrong on the server; its log has the details. Try again, or use the API or CLI.")
		}
	}
}

func statusOr(s, def int) int {
	if s == 0 {
		return def
	}
	return s
}

func (u *Console) errorPage(c echo.Context, status int, msg string) error {
	return u.render(c, status, "error.html", page{Title: http.StatusText(status), Data: msg})
}

func (u *Console) forbidden(c echo.Context, msg string) error {
	return u.errorPage(c, http.StatusForbidden, msg)
}

// call runs an API request as the request's admin.
func (u *Console) call(c echo.Context, method, path string, body any) (Response, error) {
	sess := sessionOf(c)
	if sess == nil {
		return Response{}, errors.New("console: an API call outside a session")
	}
	return u.cfg.API.Call(c.Request().Context(), sess.Who, method, path, body)
}

// get runs a GET and decodes its answer into v.
func (u *Console) get(c echo.Context, path string, v any) error {
	res, err := u.call(c, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return res.Decode(v)
}
