package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckEvery bounds how often the certificate files are looked at: a
// stat of two files at most every few seconds, whatever the handshake rate.
const certCheckEvery = 2 * time.Second

// certReloader serves a TLS certificate pair from files and picks up a
// renewed pair (certbot, cert-manager) without a restart. A pair that fails
// to load is logged and the previous one kept, so a half-written renewal
// never takes the server off the air.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	seen    [2]os.FileInfo // of the pair last tried, loaded or not
	checked time.Time
}

// newCertReloader loads the pair once; a pair that does not load at start
// is an error, not a warning.
func newCertReloader(certFile, keyFile string, log *slog.Logger, now func() time.Time) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log, now: now}
	seen, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	r.cert, r.seen, r.checked = &cert, seen, now()
	return r, nil
}

func (r *certReloader) stat() ([2]os.FileInfo, error) {
	var out [2]os.FileInfo
	for i, path := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(path)
		if err != nil {
			return out, fmt.Errorf("TLS file: %w", err)
		}
		out[i] = fi
	}
	return out, nil
}

// GetCertificate is the tls.Config hook: the current pair, reloaded first
// when the files changed since the last look.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < certCheckEvery && !now.Before(r.checked) {
		return r.cert, nil
	}
	r.checked = now
	seen, err := r.stat()
	if err != nil {
		r.log.Warn("cannot check the TLS certificate files; keeping the loaded certificate", "error", err)
		return r.cert, nil
	}
	if sameFile(seen[0], r.seen[0]) && sameFile(seen[1], r.seen[1]) {
		return r.cert, nil
	}
	r.seen = seen // a pair that fails is not retried until a file changes again
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.log.Warn("the changed TLS certificate does not load; keeping the previous one",
			"cert", r.certFile, "key", r.keyFile, "error", err)
		return r.cert, nil
	}
	r.cert = &cert
	r.log.Info("TLS certificate reloaded", "cert", r.certFile)
	return r.cert, nil
}

// sameFile: the same file (a rename gives a new one) with the same size
// and modification time.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
