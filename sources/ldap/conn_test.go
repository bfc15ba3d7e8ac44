package ldap

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"

	goldap "github.com/go-ldap/ldap/v3"
)

// testCA makes a CA and a server certificate for the given names/IPs,
// valid from notBefore for a day; it returns the CA's PEM path and the
// server's TLS certificate.
func testCA(t *testing.T, notBefore time.Time, dns []string, ips []net.IP) (string, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: notBefore, NotAfter: notBefore.Add(24 * time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "dc1"}, DNSNames: dns, IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: notBefore, NotAfter: notBefore.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve accepts connections on 127.0.0.1 and hands each to handle.
func serve(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func tlsServer(cert tls.Certificate) func(net.Conn) {
	return func(c net.Conn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		_ = tc.Handshake()
	}
}

func testConnect(t *testing.T, cfg Config) error {
	t.Helper()
	cfg.BindDN, cfg.BindPassword, cfg.BaseDN, cfg.Timeout = "CN=x,DC=example,DC=test", "pw", "DC=example,DC=test", "5s"
	s, errs := cfg.settings()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	env := sources.Env{}.WithDefaults()
	src := &source{set: s, log: env.Logger, clock: env.Clock, upstream: env.Upstream}
	c, err := src.connect(context.Background())
	if err == nil {
		c.Close()
	}
	return err
}

func TestConnectFailuresAreTold(t *testing.T) {
	now := time.Now()
	caPath, goodCert := testCA(t, now.Add(-time.Hour), []string{"dc1.example.test"}, []net.IP{net.ParseIP("127.0.0.1")})
	otherCA, _ := testCA(t, now.Add(-time.Hour), nil, nil)
	namesCA, namesCert := testCA(t, now.Add(-time.Hour), []string{"dc1.example.test"}, nil)
	oldCA, oldCert := testCA(t, now.Add(-72*time.Hour), nil, []net.IP{net.ParseIP("127.0.0.1")})
	good := serve(t, tlsServer(goodCert))
	names := serve(t, tlsServer(namesCert))
	old := serve(t, tlsServer(oldCert))
	plain := serve(t, func(c net.Conn) { c.Write([]byte("\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00")) })
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantIs  error
		wantMsg string
	}{
		{"nothing listens", Config{URL: "ldap://" + closedAddr, AllowPlaintextBind: true}, ErrUnreachable, "connection refused"},
		{"unknown CA", Config{URL: "ldaps://" + good, CAFile: otherCA}, ErrTLS, `signed by an authority that is not trusted (issuer "CN=test CA")`},
		{"system roots only", Config{URL: "ldaps://" + good}, ErrTLS, "not trusted"},
		{"name not in the certificate", Config{URL: "ldaps://" + names, CAFile: namesCA}, ErrTLS, "does not name the host in the URL"},
		{"expired", Config{URL: "ldaps://" + old, CAFile: oldCA}, ErrTLS, "has expired or is not valid yet"},
		{"plain LDAP on an ldaps URL", Config{URL: "ldaps://" + plain}, ErrTLS, "does not speak TLS"},
		{"missing caFile", Config{URL: "ldaps://" + good, CAFile: "/nonexistent/ca.pem"}, ErrTLS, "cannot read caFile"},
		// The handshake passes; the fake server then hangs up, so the bind fails.
		{"good TLS, then no LDAP", Config{URL: "ldaps://" + good, CAFile: caPath}, ErrUnreachable, "connection broke during the bind"},
		{"insecure skips the check", Config{URL: "ldaps://" + good, InsecureSkipVerify: true}, ErrUnreachable, "during the bind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := testConnect(t, tc.cfg)
			if !errors.Is(err, tc.wantIs) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v\nwant %v containing %q", err, tc.wantIs, tc.wantMsg)
			}
		})
	}
}

func TestBindErrorsInWords(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"bad password", goldap.NewError(goldap.LDAPResultInvalidCredentials,
			errors.New("80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 52e, v3839")),
			"bind refused: invalid credentials for svc: the password is wrong (or the user does not exist) (AD data code 52e)"},
		{"locked out", goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("... data 775, v4563")),
			"bind refused: invalid credentials for svc: the account is locked out (AD data code 775)"},
		{"no data code", goldap.NewError(goldap.LDAPResultInvalidCredentials, errors.New("Invalid credentials")),
			"bind refused: invalid credentials for svc (server says: Invalid credentials)"},
		{"plain LDAP refused", goldap.NewError(goldap.LDAPResultStrongAuthRequired, errors.New("BindSimple: Transport encryption required.")),
			"bind refused: the server requires an encrypted connection for a password bind; use ldaps:// or startTLS"},
		{"connection lost", goldap.NewError(goldap.ErrorNetwork, errors.New("EOF")),
			"cannot reach the directory at dc1:636: the connection broke during the bind: EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bindError("svc", "dc1:636", tc.err).Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSearchErrors(t *testing.T) {
	ses := &session{}
	for _, tc := range []struct {
		err    error
		wantIs error
		want   string
	}{
		{goldap.NewError(goldap.LDAPResultNoSuchObject, errors.New("0000208D: NameErr")), ErrBaseDN, "base DN not found: OU=x does not exist on the server"},
		{goldap.NewError(goldap.LDAPResultReferral, errors.New("0000202B: RefErr: ldap://other/OU=x")), ErrBaseDN, "is not held by this server"},
		{goldap.NewError(goldap.ErrorNetwork, errors.New("EOF")), ErrUnreachable, "connection broke during a search under OU=x"},
	} {
		got := ses.searchError("OU=x", tc.err)
		if !errors.Is(got, tc.wantIs) || !strings.Contains(got.Error(), tc.want) || !goldap.IsErrorAnyOf(got, tc.err.(*goldap.Error).ResultCode) {
			t.Errorf("searchError(%v) = %v", tc.err, got)
		}
	}
}
