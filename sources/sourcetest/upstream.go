package sourcetest

import (
	"maps"
	"net"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

// UpstreamCounter is a sources.UpstreamObserver that counts outcomes, for tests
// that check a connector reports every request it makes.
type UpstreamCounter struct {
	mu   sync.Mutex
	seen map[sources.UpstreamOutcome]int
}

var _ sources.UpstreamObserver = (*UpstreamCounter)(nil)

// ObserveUpstream counts outcome.
func (u *UpstreamCounter) ObserveUpstream(outcome sources.UpstreamOutcome) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[sources.UpstreamOutcome]int{}
	}
	u.seen[outcome]++
}

// Counts returns how often each outcome was seen.
func (u *UpstreamCounter) Counts() map[sources.UpstreamOutcome]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.seen)
}

// Total is how many requests were reported.
func (u *UpstreamCounter) Total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.seen {
		n += c
	}
	return n
}

// ClosedAddr returns a loopback host:port where nothing listens, for
// tests of an unreachable upstream.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
