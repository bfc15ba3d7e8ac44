package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

// HTTP server limits. SCIM clients send small requests and poll, so the
// read side can be strict; the write side leaves room for large list pages.
const (
	readHeaderTimeout = 10 * time.Second // slow-header (slowloris) guard
	readTimeout       = 30 * time.Second // headers plus a body of up to maxBodyBytes
	writeTimeout      = 60 * time.Second // a page of up to a thousand resources
	idleTimeout       = 2 * time.Minute  // keep-alive between a client's polls
	// shutdownTimeout bounds the wait for requests in flight. It is below
	// Docker's default 10 s stop grace so the store still closes cleanly.
	shutdownTimeout = 8 * time.Second
)

func (m *Main) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the SCIM server",
		Long: `Run the HTTP server: SCIM 2.0 under /scim/v2 and health checks at /healthz.
With no configuration it listens on :8080 and keeps its data in scimgate.db
in the working directory.

Each setting comes from the first of: its flag, its environment variable,
its key in the YAML config file (--config or SCIMGATE_CONFIG), its default.
An empty environment variable counts as unset.

` + settingsTable() + `
In the config file, $VAR and ${VAR} are replaced from the environment
unless --no-expand-env is given.

SIGINT or SIGTERM stops accepting connections and gives requests in flight
up to ` + shutdownTimeout.String() + ` to finish.`,
		Example: `  scimgate serve
  SCIMGATE_LOG_FORMAT=json scimgate serve --listen 127.0.0.1:9000 --db /var/lib/scimgate/scimgate.db
  scimgate serve --config /etc/scimgate.yaml --base-url https://scim.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := m.config(cmd)
			if err != nil {
				return err
			}
			return m.serve(cmd.Context(), cfg)
		},
	}
	addFlags(cmd.Flags(), "listen", "logFormat", "logLevel", "baseURL", "maxBodyBytes", "secretKeyFile", "maxConcurrentRuns", "syncLeaseSeconds",
		"authFailuresPerMinute", "tokenRequestsPerSecond", "tokenBurst", "trustedProxies", "tlsCert", "tlsKey", "csvDirs",
		"consoleIdleMinutes", "consoleMaxHours")
	return cmd
}

// pushHooks carry the push's metrics to the server.
type pushHooks struct {
	run     func(storage.App, storage.Run)
	request func(app, outcome string)
}

// pushService is the outbound push as serve runs it: the runner (which
// the config API starts and decides pushes with) and its scheduler. A nil
// *pushService is a server without push.
type pushService struct {
	runner interface {
		outbound.Pushes
		RecoverInterrupted(ctx context.Context) error
		Shutdown(ctx context.Context)
	}
	scheduler interface{ Run(ctx context.Context) }
}

// pushes is the runner for the config API; nil without push.
func (p *pushService) pushes() outbound.Pushes {
	if p == nil {
		return nil
	}
	return p.runner
}

// start fails pushes a stopped process left running and runs the
// scheduler until schedCtx ends; the channel closes when it has stopped.
func (p *pushService) start(ctx, schedCtx context.Context, logger *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if p == nil {
		close(done)
		return done
	}
	if err := p.runner.RecoverInterrupted(ctx); err != nil {
		logger.Warn("cannot mark interrupted pushes failed; they will be once their leases expire", "error", err)
	}
	go func() {
		defer close(done)
		p.scheduler.Run(schedCtx)
	}()
	return done
}

// shutdown lets running pushes finish within ctx, then cancels them.
func (p *pushService) shutdown(ctx context.Context) {
	if p != nil {
		p.runner.Shutdown(ctx)
	}
}

// serve runs the server until ctx is done or SIGINT/SIGTERM arrives, then
// shuts it down gracefully and closes the store.
func (m *Main) serve(ctx context.Context, cfg Config) (err error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := newLogger(m.Stderr, cfg)

	store, err := openStore(ctx, cfg, logger, m.Now)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()

	sealer, err := m.sealer(cfg)
	if err != nil {
		return err
	}
	if err := resealSecrets(ctx, store, sealer, logger); err != nil {
		return err
	}
	reg := kinds(cfg)
	runner := engine.NewRunner(store, reg, sealer, engine.RunnerOptions{
		MaxConcurrent: int(cfg.MaxConcurrentRuns), Logger: logger,
		LeaseTTL: time.Duration(cfg.SyncLeaseSeconds) * time.Second, SingleProcess: servedAlone(cfg),
	})
	// The push's hooks reach the server, which is built after the runner
	// it is given; no run starts before it exists.
	var srv *api.Server
	pushes, err := newPushes(store, sealer, logger, cfg, pushHooks{
		run:     func(a storage.App, r storage.Run) { srv.ObservePushRun(a, r) },
		request: func(app, outcome string) { srv.ObservePushRequest(app, outcome) },
	})
	if err != nil {
		return fmt.Errorf("outbound push: %w", err)
	}
	adminToken, _ := m.LookupEnv(envAdminToken)
	trustedProxies, _ := parseTrustedProxies(cfg.TrustedProxies) // checked by Validate
	srv, err = api.New(api.Config{
		Store:        store,
		Logger:       logger,
		BaseURL:      cfg.BaseURL,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Sync:         runner,
		Kinds:        reg,
		Sealer:       sealer,
		Pushes:       pushes.pushes(),
		Console: api.ConsoleOptions{IdleTimeout: time.Duration(cfg.ConsoleIdleMinutes) * time.Minute,
			MaxAge: time.Duration(cfg.ConsoleMaxHours) * time.Hour},
		BootstrapAdminToken: adminToken,

		AuthFailuresPerMinute:  int(cfg.AuthFailuresPerMinute),
		TokenRequestsPerSecond: int(cfg.TokenRequestsPerSecond),
		TokenBurst:             int(cfg.TokenBurst),
		TrustedProxies:         trustedProxies,
	})
	if err != nil {
		return fmt.Errorf("build server: %w", err)
	}
	runner.Observe = srv.ObserveRun
	runner.ObserveUpstream = func(src storage.Source, outcome sources.UpstreamOutcome) { srv.ObserveUpstream(src.Name, outcome) }
	recoverRuns(ctx, runner, logger)
	schedCtx, stopScheduler := context.WithCancel(context.WithoutCancel(ctx))
	defer stopScheduler()
	schedDone := make(chan struct{})
	go func() {
		defer close(schedDone)
		engine.NewScheduler(store, runner, logger, store.Now).Run(schedCtx)
	}()
	pushDone := pushes.start(ctx, schedCtx, logger)

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		// net/http's own complaints (TLS noise, panics) go to our log.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		certs, err := newCertReloader(cfg.TLSCert, cfg.TLSKey, logger, m.Now)
		if err != nil {
			ln.Close()
			return err
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate}
		scheme = "https"
	}
	served := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			served <- hs.ServeTLS(ln, "", "")
			return
		}
		served <- hs.Serve(ln)
	}()

	logger.Info("scimgate serving", "listen", ln.Addr().String(), "scheme", scheme, "db", redactDSN(cfg.DB), "version", version())
	if m.Listening != nil {
		m.Listening(ln.Addr())
	}

	select {
	case err := <-served: // Serve only returns early on a listener failure
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Restore default signal handling: a second Ctrl-C ends the process at
	// once instead of waiting out the shutdown.
	stop()
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close() // drop the connections that outlived the grace period
		return fmt.Errorf("shutdown: %w", err)
	}
	<-served // http.ErrServerClosed
	// No new runs; running ones get the rest of the grace period to finish
	// and are canceled after it (their cursors are not saved).
	stopScheduler()
	<-schedDone
	<-pushDone
	// Syncs and pushes share the grace period rather than take turns.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); runner.Shutdown(sctx) }()
	go func() { defer wg.Done(); pushes.shutdown(sctx) }()
	wg.Wait()
	logger.Info("stopped")
	return nil
}
