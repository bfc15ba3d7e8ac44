package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// What can go wrong before a sync even starts; the test endpoint tells
// them apart. Errors wrap one of these.
var (
	ErrUnreachable = errors.New("cannot reach the directory")
	ErrTLS         = errors.New("TLS failure")
	ErrBind        = errors.New("bind refused")
	ErrBaseDN      = errors.New("base DN not found")
)

// conn is an open, bound connection; tests replace it with a fake.
type conn interface {
	SearchAsync(ctx context.Context, req *goldap.SearchRequest, bufferSize int) goldap.Response
	Close() error
}

// connect dials, secures and binds. Closing the returned conn (or ending
// ctx) closes the network connection.
func (s *source) connect(ctx context.Context) (conn, error) {
	set := s.set
	tlsCfg, verifyErr, err := set.tlsConfig()
	if err != nil {
		return nil, err
	}
	host, port := set.url.Hostname(), set.url.Port()
	if port == "" {
		port = goldap.DefaultLdapPort
		if set.url.Scheme == "ldaps" {
			port = goldap.DefaultLdapsPort
		}
	}
	addr := net.JoinHostPort(host, port)
	dctx, cancel := context.WithTimeout(ctx, set.timeout)
	defer cancel()
	d := net.Dialer{Timeout: set.timeout, Control: sources.RefuseLinkLocal} // no metadata addresses, even by name
	raw, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, addr, describeNet(err))
	}
	var c *goldap.Conn
	if set.url.Scheme == "ldaps" {
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, tlsError(addr, err, *verifyErr, false)
		}
		c = goldap.NewConn(tc, true)
	} else {
		c = goldap.NewConn(raw, false)
	}
	c.Start()
	c.SetTimeout(set.timeout)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	fail := func(err error) (conn, error) {
		stop()
		c.Close()
		return nil, err
	}
	if set.startTLS {
		if err := c.StartTLS(tlsCfg); err != nil {
			return fail(tlsError(addr, err, *verifyErr, true))
		}
	}
	if err := c.Bind(set.bindDN, set.password); err != nil {
		return fail(bindError(set.bindDN, addr, err))
	}
	return &boundConn{Conn: c, stop: stop}, nil
}

type boundConn struct {
	*goldap.Conn
	stop func() bool
}

func (b *boundConn) Close() error {
	b.stop()
	return b.Conn.Close()
}

// tlsConfig builds the TLS settings. Certificates are verified in
// VerifyConnection rather than by crypto/tls so the precise x509 error is
// kept for the message (go-ldap's StartTLS flattens it to text); the
// returned pointer holds it after a failed handshake.
func (s settings) tlsConfig() (*tls.Config, *error, error) {
	var roots *x509.CertPool
	if s.caFile != "" {
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: cannot read caFile: %w", ErrTLS, err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("%w: caFile %s holds no PEM certificate", ErrTLS, s.caFile)
		}
	}
	host := s.url.Hostname()
	verifyErr := new(error)
	cfg := &tls.Config{
		ServerName:         host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified below, unless the admin turned checks off
		VerifyConnection: func(cs tls.ConnectionState) error {
			if s.insecureSkipVerify {
				return nil
			}
			if len(cs.PeerCertificates) == 0 {
				*verifyErr = errors.New("the server sent no certificate")
				return *verifyErr
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: host})
			*verifyErr = err
			return err
		},
	}
	return cfg, verifyErr, nil
}

// tlsError explains a failed handshake, naming the certificate problem.
func tlsError(addr string, err, verifyErr error, startTLS bool) error {
	var ldapErr *goldap.Error
	if startTLS && verifyErr == nil && errors.As(err, &ldapErr) && ldapErr.ResultCode != goldap.ErrorNetwork {
		return fmt.Errorf("%w: %s refused StartTLS (%s); use ldaps:// or check the DC's certificate setup", ErrTLS, addr, diagnostic(err))
	}
	if verifyErr != nil {
		return fmt.Errorf("%w: %s: %s", ErrTLS, addr, describeCert(verifyErr))
	}
	var notTLS tls.RecordHeaderError
	if !startTLS && errors.As(err, &notTLS) {
		return fmt.Errorf("%w: %s does not speak TLS (%v); for port 389 use ldap:// with startTLS", ErrTLS, addr, err)
	}
	if !startTLS {
		return fmt.Errorf("%w: handshake with %s failed (%v); if that is not an LDAPS port, use ldap:// with startTLS", ErrTLS, addr, err)
	}
	return fmt.Errorf("%w: handshake with %s failed: %v", ErrTLS, addr, err)
}

// describeCert turns an x509 verification error into words.
func describeCert(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		issuer := "unknown"
		if unknown.Cert != nil {
			issuer = unknown.Cert.Issuer.String()
		}
		return fmt.Sprintf("the certificate is signed by an authority that is not trusted (issuer %q); set caFile to the PEM of the CA that signed it", issuer)
	case errors.As(err, &host):
		return fmt.Sprintf("the certificate does not name the host in the URL: %v", host)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Sprintf("the certificate has expired or is not valid yet: %v", invalid)
	case errors.As(err, &invalid):
		return fmt.Sprintf("the certificate is not acceptable: %v", invalid)
	}
	return "certificate problem: " + err.Error()
}

// describeNet shortens the usual dial failures.
func describeNet(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the host name %q does not resolve", dnsErr.Name)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "no answer in time (firewall, or wrong host or port?)"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused (is the port right, and the DC's LDAP service up?)"
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// bindError explains a refused bind, with AD's data code in words.
func bindError(bindDN, addr string, err error) error {
	var ldapErr *goldap.Error
	if !errors.As(err, &ldapErr) {
		// No LDAP result at all: the connection went away.
		return fmt.Errorf("%w at %s: the connection broke during the bind: %v", ErrUnreachable, addr, err)
	}
	diag := diagnostic(err)
	switch ldapErr.ResultCode {
	case goldap.LDAPResultInvalidCredentials:
		if code, words := bindProblem(diag); words != "" {
			return fmt.Errorf("%w: invalid credentials for %s: %s (AD data code %s)", ErrBind, bindDN, words, code)
		}
		return fmt.Errorf("%w: invalid credentials for %s (server says: %s)", ErrBind, bindDN, diag)
	case goldap.LDAPResultStrongAuthRequired, goldap.LDAPResultConfidentialityRequired:
		return fmt.Errorf("%w: the server requires an encrypted connection for a password bind; use ldaps:// or startTLS", ErrBind)
	case goldap.ErrorEmptyPassword:
		return fmt.Errorf("%w: the bind password is empty", ErrBind)
	case goldap.ErrorNetwork:
		return fmt.Errorf("%w at %s: the connection broke during the bind: %s", ErrUnreachable, addr, diag)
	}
	return fmt.Errorf("%w: bind as %s: %w", ErrBind, bindDN, err) // busy or unavailable stay visible to retryable
}

// diagnostic is the server's own message inside a go-ldap error.
func diagnostic(err error) string {
	var ldapErr *goldap.Error
	if errors.As(err, &ldapErr) && ldapErr.Err != nil {
		if msg := strings.TrimSpace(ldapErr.Err.Error()); msg != "" {
			return msg
		}
		return goldap.LDAPResultCodeMap[ldapErr.ResultCode]
	}
	return err.Error()
}
