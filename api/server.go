// Package api is scimgate's HTTP edge: Echo serving the SCIM service
// provider (package scim) at /scim/v2 and the config API under /api/v1,
// behind bearer-token authentication with per-address and per-token
// limits, plus health checks, metrics and the OpenAPI document. The rules
// of sources live in sources/engine; this package translates requests
// and errors.
package api

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

// Config wires the server.
type Config struct {
	Store  storage.Store
	Logger *slog.Logger
	// BaseURL is the public URL of the server (e.g. https://scim.example.com);
	// when empty, meta.location is built from the request's Host.
	BaseURL string
	// MaxBodyBytes caps request bodies (413 above it). Default 1 MiB.
	MaxBodyBytes int64
	// Sync runs and decides source syncs for the config API; without it
	// the API serves only tokens and the audit log.
	Sync SyncControl
	// Kinds and Sealer are the source kinds and the secret sealer the
	// runner behind Sync was made with: the config API checks sources
	// against them and seals their secrets.
	Kinds  sources.Registry
	Sealer *engine.Sealer
	// Pushes runs apps' outbound pushes (an *outbound.Runner); without it
	// apps may still be given a push, but the push routes are not mounted.
	Pushes outbound.Pushes
	// PushStore keeps the push bookkeeping; nil: Store, when it does.
	PushStore storage.PushStore
	// BootstrapAdminToken, when set (SCIMGATE_ADMIN_TOKEN), is accepted as
	// an admin token, so the first real one can be created over the API.
	BootstrapAdminToken string

	// AuthFailuresPerMinute is how many failed authentications a client
	// address may make in a minute; past it the address is answered 429
	// until its oldest failure is a minute old. 0: no limit.
	AuthFailuresPerMinute int
	// TokenRequestsPerSecond is each token's average request rate, with
	// bursts of up to TokenBurst (0: twice the rate); past it, 429.
	// 0: no limit.
	TokenRequestsPerSecond int
	TokenBurst             int
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// finding the client address of a failed authentication; empty: none.
	TrustedProxies []netip.Prefix
	// PageCacheBytes bounds the SCIM layer's cache of rendered list pages
	// (scim.Options.PageCacheBytes; 0: the default, negative: none).
	PageCacheBytes int
}

// Server is the HTTP handler of scimgate.
type Server struct {
	cfg  Config
	echo *echo.Echo
	scim *scim.Server
	log  *slog.Logger

	bootstrapHash []byte // SHA-256 of BootstrapAdminToken
	lastUse       lastUse
	metrics       *metrics
	authFails     *failureLimiter // nil: no limit
	rates         *tokenBuckets   // nil: no limit
	tokens        *tokenCache
	// internal serves the console's in-process calls (console.go).
	internal *echo.Echo
}

// New builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("api: a store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	sp, err := scim.New(cfg.Store, scim.Options{Logger: cfg.Logger, BaseURL: cfg.BaseURL, Now: cfg.Store.Now, PageCacheBytes: cfg.PageCacheBytes})
	if err != nil {
		return nil, fmt.Errorf("api: scim: %w", err)
	}
	s := &Server{cfg: cfg, scim: sp, log: cfg.Logger, metrics: newMetrics(cfg.Store, cfg.Logger), tokens: newTokenCache(cfg.Store)}
	s.metrics.push = newPushMetrics()
	if ps := s.pushStore(); ps != nil {
		s.metrics.registerPush(cfg.Store, cfg.Store, ps)
	}
	if cfg.AuthFailuresPerMinute > 0 {
		s.authFails = newFailureLimiter(cfg.AuthFailuresPerMinute)
	}
	if cfg.TokenRequestsPerSecond > 0 {
		s.rates = newTokenBuckets(cfg.TokenRequestsPerSecond, cfg.TokenBurst)
	}
	if cfg.BootstrapAdminToken != "" {
		sum := sha256.Sum256([]byte(cfg.BootstrapAdminToken))
		s.bootstrapHash = sum[:]
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.httpError
	e.Use(s.instrumentHTTP, s.recoverPanics, s.accessLog, securityHeaders)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.serveMetrics)
	// The API's description is public (tools fetch it before they have a
	// token), so it is mounted beside the group, not behind its auth.
	e.GET(OpenAPIPath, s.serveOpenAPI)
	// Authentication first: a refused request costs no body read.
	scimGroup := e.Group(scim.Prefix, s.authenticate, s.limitBody)
	scimGroup.Any("", echo.WrapHandler(sp))
	scimGroup.Any("/*", echo.WrapHandler(sp))
	s.routesV1(e, s.authenticateAdmin)
	if err := s.mountConsole(e); err != nil {
		return nil, fmt.Errorf("api: console: %w", err)
	}
	s.echo = e
	return s, nil
}

// Handler returns the root http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// healthz answers as long as the process serves HTTP.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database does.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database does not answer"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// ObserveRun is told about every finished or held run (for metrics).
func (s *Server) ObserveRun(src storage.Source, run storage.Run) {
	s.metrics.observeRun(src.Name, run, time.Now())
}

// securityHeaders marks every response nosniff, and every API response
// no-store: token creation returns a secret, and no SCIM or config
// answer is meant for a shared cache.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if p := c.Request().URL.Path; strings.HasPrefix(p, scim.Prefix) || strings.HasPrefix(p, APIPrefix) {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}
