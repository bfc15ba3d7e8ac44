package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// bareBody is the fixed 1 KB JSON the baseline handler returns.
var bareBody = []byte(`{"message":"` + strings.Repeat("x", 1024-14) + `"}`)

// serve runs scimgate and the bare handler on loopback and prints
// "scim=ADDR bare=ADDR" once both listen; it stops on SIGTERM.
func serve(ctx context.Context, db string, pageCache int) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	store, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	srv, err := api.New(api.Config{Store: store, Logger: slog.New(slog.DiscardHandler), PageCacheBytes: pageCache})
	if err != nil {
		return err
	}
	bare := echo.New()
	bare.HideBanner, bare.HidePort = true, true
	bare.GET("/bare", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, bareBody) })
	// /page serves, precomputed, a page scimgate itself returned (set once
	// with PUT by the driver): the physical limit of the list path for
	// responses of that size, to which the department page is compared.
	var page atomic.Pointer[[]byte]
	bare.PUT("/page", func(c echo.Context) error {
		b, err := io.ReadAll(io.LimitReader(c.Request().Body, 16<<20))
		if err != nil {
			return err
		}
		page.Store(&b)
		return c.NoContent(http.StatusNoContent)
	})
	bare.GET("/page", func(c echo.Context) error {
		b := page.Load()
		if b == nil {
			return c.NoContent(http.StatusNotFound)
		}
		return c.Blob(http.StatusOK, "application/scim+json", *b)
	})

	scimLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bareLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s1 := &http.Server{Handler: srv.Handler()}
	s2 := &http.Server{Handler: bare}
	go s1.Serve(scimLn)
	go s2.Serve(bareLn)
	if path := os.Getenv("SCIMGATE_LOAD_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("scim=%s bare=%s\n", scimLn.Addr(), bareLn.Addr())
	<-ctx.Done()
	if os.Getenv("SCIMGATE_LOAD_MEMSTATS") != "" {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "go heap: inuse %d MB, sys %d MB, total sys %d MB, goroutines %d\n",
			ms.HeapInuse>>20, ms.HeapSys>>20, ms.Sys>>20, runtime.NumGoroutine())
	}
	s1.Close()
	s2.Close()
	return nil
}
