// Package apitest runs scimgate in-process for end-to-end tests: a SQLite
// store in a temporary folder, a sync runner over the given source kinds,
// the HTTP server (SCIM and config API) on a loopback test server, and an
// admin, a reader and a writer token. Source packages use it to prove their
// kind works through the config API and /scim/v2.
package apitest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// App is one running scimgate.
type App struct {
	URL    string // http://127.0.0.1:port
	Store  *sqlstore.Store
	DBPath string
	Runner *engine.Runner
	Server *api.Server
	Kinds  sources.Registry
	Sealer *engine.Sealer
	Client *http.Client
	// Bearer tokens, named "ops" (admin), "crm" (reader), "push" (writer).
	Admin, Reader, Writer string
}

// Options tunes New; the zero value is fine.
type Options struct {
	Logger              *slog.Logger
	Runner              engine.RunnerOptions
	BootstrapAdminToken string
	// DSN, when set, is the database to use (a PostgreSQL DSN, say)
	// instead of a SQLite file in a temporary folder.
	DSN string
	// Pushes, when set, makes the outbound push runner the server uses
	// (a fake in API tests) over the store and the sealer.
	Pushes func(st *sqlstore.Store, sealer *engine.Sealer) outbound.Pushes
	// Console tunes the admin console's sessions (a test clock, say).
	Console api.ConsoleOptions
}

// New starts an App; everything is stopped and removed when t ends.
func New(t testing.TB, kinds sources.Registry, opts Options) *App {
	t.Helper()
	dir := t.TempDir()
	a := &App{DBPath: filepath.Join(dir, "scimgate.db"), Kinds: kinds}
	dsn := a.DBPath
	if opts.DSN != "" {
		dsn = opts.DSN
	}
	st, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after the server and runner below
	a.Store = st
	key, err := engine.LoadKey("", filepath.Join(dir, "scimgate.key"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Sealer, err = engine.NewSealer(key); err != nil {
		t.Fatal(err)
	}
	if opts.Runner.Logger == nil {
		opts.Runner.Logger = opts.Logger
	}
	a.Runner = engine.NewRunner(st, kinds, a.Sealer, opts.Runner)
	t.Cleanup(func() { a.Runner.Shutdown(context.Background()) })
	cfg := api.Config{Store: st, Logger: opts.Logger, Sync: a.Runner, Kinds: kinds, Sealer: a.Sealer, BootstrapAdminToken: opts.BootstrapAdminToken,
		Console: opts.Console}
	if opts.Pushes != nil {
		cfg.Pushes = opts.Pushes(st, a.Sealer)
	}
	a.Server, err = api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Runner.Observe = a.Server.ObserveRun
	a.Runner.ObserveUpstream = func(src storage.Source, outcome sources.UpstreamOutcome) { a.Server.ObserveUpstream(src.Name, outcome) }
	ts := httptest.NewServer(a.Server.Handler())
	t.Cleanup(ts.Close)
	a.URL, a.Client = ts.URL, ts.Client()
	for _, tk := range []struct {
		name string
		role storage.Role
		dst  *string
	}{{"ops", storage.RoleAdmin, &a.Admin}, {"crm", storage.RoleReader, &a.Reader}, {"push", storage.RoleWriter, &a.Writer}} {
		bearer, tok, err := api.NewToken(tk.name, tk.role, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateToken(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		*tk.dst = bearer
	}
	return a
}

// PeakRSSMB is this process's resident-set high-water mark (VmHWM) in
// MiB, for benchmarks; 0 where /proc is not available.
func PeakRSSMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// CPUSeconds is the user plus system CPU time this process has used so
// far. Benchmarks report its difference over a run: on a shared machine it
// varies much less from run to run than the elapsed time does.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
