package sources

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// Link-local addresses (169.254.0.0/16, fe80::/10) are where cloud
// metadata services live; an upstream URL there would hand the instance's
// credentials to whoever configures a source. Loopback stays allowed:
// tests and emulators run there.

// LinkLocalProblem explains why host may not be an upstream, or returns ""
// for a name (checked at dial time by RefuseLinkLocal) or another address.
func LinkLocalProblem(host string) string {
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	if isLinkLocal(addr) {
		return fmt.Sprintf("%s is a link-local address (where cloud metadata services live); upstreams may not be there", host)
	}
	return ""
}

func isLinkLocal(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast()
}

// RefuseLinkLocal is a net.Dialer Control function that refuses link-local
// remote addresses, so a host name that resolves to one is refused too.
func RefuseLinkLocal(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	if addr, err := netip.ParseAddr(host); err == nil && isLinkLocal(addr) {
		return fmt.Errorf("refusing to connect to %s: a link-local address (where cloud metadata services live)", address)
	}
	return nil
}

// GuardedDialer is a net.Dialer that refuses link-local remote addresses.
func GuardedDialer() *net.Dialer {
	return &net.Dialer{Control: RefuseLinkLocal}
}
