package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// describeDialError says why a request to host got no HTTP answer, by
// cause, with what to check: the name does not resolve, nothing listens,
// TLS fails (and how), or no answer in time. timeout is the bound that
// was waited (0: unknown).
func describeDialError(host string, err error, timeout time.Duration) string {
	var (
		dnsErr   *net.DNSError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("DNS: the host name %s does not exist; check the push URL", dnsErr.Name)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("DNS: cannot resolve %s (%s); check the push URL and this host's DNS", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused by %s: nothing listens there; check the URL's host and port", host)
	case errors.As(err, &unknown):
		return fmt.Sprintf("TLS: the certificate of %s is signed by an authority this host does not trust (self-signed or a private CA)", host)
	case errors.As(err, &hostname):
		return fmt.Sprintf("TLS: the certificate of %s is not valid for that name (%v); check the URL's host", host, hostname)
	case errors.As(err, &invalid):
		return fmt.Sprintf("TLS: the certificate of %s is not valid (%v)", host, invalid)
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		// net/http turns the TLS record error into a plain one with this text.
		return fmt.Sprintf("TLS: %s did not answer TLS (is it plain HTTP? then the URL must start with http://)", host)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		if timeout > 0 {
			return fmt.Sprintf("timeout: no answer from %s within %s (a firewall dropping the connection, or the target is down)", host, timeout)
		}
		return fmt.Sprintf("timeout: no answer from %s in time (a firewall dropping the connection, or the target is down)", host)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("no connection to %s: %v", host, err)
	}
	return fmt.Sprintf("no answer from %s: %v", host, err)
}
