package sources_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

func TestLinkLocalUpstreamsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		host string
		bad  bool
	}{
		{"169.254.169.254", true}, {"fe80::1", true}, {"::ffff:169.254.1.1", true},
		{"127.0.0.1", false}, {"::1", false}, {"10.0.0.1", false}, {"acme.okta.com", false},
	} {
		if got := sources.LinkLocalProblem(tc.host); (got != "") != tc.bad {
			t.Errorf("%s: %q", tc.host, got)
		}
	}
	// At dial time: the Control func sees the resolved address.
	_, err := sources.GuardedDialer().DialContext(context.Background(), "tcp", "169.254.169.254:80")
	if err == nil || !strings.Contains(err.Error(), "link-local") {
		t.Errorf("dial 169.254.169.254: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := sources.GuardedDialer().DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("loopback refused: %v", err)
	}
	c.Close()
}
