package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/sourcetest"
)

// startServe runs serve with args until the test ends and returns its
// address and log.
func startServe(t *testing.T, now func() time.Time, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	stderr := &syncBuffer{}
	m := &Main{Stderr: stderr, LookupEnv: mapEnv(nil), Now: now, Listening: func(a net.Addr) { addrc <- a }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case a := <-addrc:
		return a.String(), stderr
	case err := <-done:
		done <- err
		t.Fatalf("serve ended before listening: %v\n%s", err, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start:\n%s", stderr.String())
	}
	return "", nil
}

func TestServeFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "scimgate.db")
	startServe(t, nil, "--db", db)
	for _, f := range []string{db, db + "-wal", db + "-shm", filepath.Join(dir, "scimgate.key")} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(f), perm)
		}
	}
}

func TestServeWarnsAboutReadableDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "scimgate.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	_, logs := startServe(t, nil, "--db", db)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "run chmod 600") {
		t.Errorf("no warning about a 0644 database:\n%s", logs.String())
	}
}

func TestServeRefusesReadableKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "scimgate.key")
	// A valid key, but readable by everyone.
	if err := os.WriteFile(key, []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCLI(t, nil, "serve", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "scimgate.db"))
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+key) || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("err = %v, want a refusal naming chmod 600 %s", err, key)
	}
	// With the key in the environment the file is not read, so not checked.
	if err := keyFileProblem(filepath.Join(dir, "missing.key")); err != nil {
		t.Errorf("a missing key file: %v", err)
	}
}

func TestServeHelpListsEveryEnvironmentVariable(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, nil, "serve", "--help")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{envAdminToken, envSecretKey, envConfig}
	for _, s := range settings() {
		want = append(want, s.env)
	}
	for _, env := range want {
		if !strings.Contains(out, env) {
			t.Errorf("serve --help does not mention %s", env)
		}
	}
}

func TestConfigLimitsAndTLSValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SCIMGATE_TRUSTED_PROXIES": "10.0.0.0/8, nope"}, `"nope" is not an IP address`},
		{map[string]string{"SCIMGATE_TLS_CERT": "a.pem"}, "tlsCert and tlsKey must be set together"},
		{map[string]string{"SCIMGATE_AUTH_FAILURES_PER_MINUTE": "-1"}, "authFailuresPerMinute -1"},
		{map[string]string{"SCIMGATE_TOKEN_REQUESTS_PER_SECOND": "-5"}, "tokenRequestsPerSecond -5"},
	}
	for _, tt := range tests {
		_, _, err := runCLI(t, tt.env, "serve", "--db", filepath.Join(t.TempDir(), "x.db"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("env %v: err = %v, want %q", tt.env, err, tt.want)
		}
	}
	p, err := parseTrustedProxies("10.0.0.0/8, 192.0.2.1 ,::1")
	if err != nil || len(p) != 3 || p[1].String() != "192.0.2.1/32" || p[2].String() != "::1/128" {
		t.Errorf("parseTrustedProxies = %v, %v", p, err)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 named cn, valid
// around the wall clock (the client checks it against the wall clock).
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	// Write beside and rename, as certificate tools do.
	replace := func(path string, block *pem.Block) {
		tmp := path + ".new"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	replace(certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	replace(keyFile, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestServeTLSReloadsCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := writeCert(t, certFile, keyFile, "first")
	clock := sourcetest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	addr, logs := startServe(t, clock.Now, "--db", filepath.Join(dir, "scimgate.db"), "--tls-cert", certFile, "--tls-key", keyFile)

	pool := x509.NewCertPool()
	// servedCN makes a new connection and returns the certificate's name.
	servedCN := func() string {
		t.Helper()
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := c.Get("https://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("GET over TLS: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz = %s", resp.Status)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	pool.AddCert(first)
	if cn := servedCN(); cn != "first" {
		t.Fatalf("served %q, want first", cn)
	}
	if !strings.Contains(logs.String(), "scheme=https") {
		t.Errorf("start log does not say https:\n%s", logs.String())
	}

	// healthcheck, from the same environment, speaks TLS too.
	_, port, _ := net.SplitHostPort(addr)
	tlsEnv := map[string]string{"SCIMGATE_LISTEN": ":" + port, "SCIMGATE_TLS_CERT": certFile, "SCIMGATE_TLS_KEY": keyFile}
	if out, _, err := runCLI(t, tlsEnv, "healthcheck"); err != nil || out != "ok\n" {
		t.Errorf("healthcheck over TLS = %q, %v", out, err)
	}

	second := writeCert(t, certFile, keyFile, "second")
	pool.AddCert(second)
	clock.Advance(certCheckEvery)
	if cn := servedCN(); cn != "second" {
		t.Fatalf("after replacing the files served %q, want second", cn)
	}

	// A broken pair (the key of the second, the certificate garbage) is
	// logged and the second kept.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Advance(certCheckEvery)
	if cn := servedCN(); cn != "second" {
		t.Fatalf("after a broken renewal served %q, want second kept", cn)
	}
	if !strings.Contains(logs.String(), "does not load; keeping the previous one") {
		t.Errorf("broken renewal not logged:\n%s", logs.String())
	}
}
