package sourcetest

import (
	"maps"
	"sync"

	"github.com/scimgate/scimgate/sources"
)

// Upstream is a sources.UpstreamObserver that counts outcomes, for tests
// that check a connector reports every request it makes.
type Upstream struct {
	mu   sync.Mutex
	seen map[sources.UpstreamOutcome]int
}

var _ sources.UpstreamObserver = (*Upstream)(nil)

// ObserveUpstream counts outcome.
func (u *Upstream) ObserveUpstream(outcome sources.UpstreamOutcome) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[sources.UpstreamOutcome]int{}
	}
	u.seen[outcome]++
}

// Counts returns how often each outcome was seen.
func (u *Upstream) Counts() map[sources.UpstreamOutcome]int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return maps.Clone(u.seen)
}

// Total is how many requests were reported.
func (u *Upstream) Total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.seen {
		n += c
	}
	return n
}
