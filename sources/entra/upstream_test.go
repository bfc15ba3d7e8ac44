package entra_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestEveryRequestReachesTheUpstreamMetrics: every request the source
// sends, Graph's and the token endpoint's, is counted once with its
// outcome; the emulator's own log must agree.
func TestEveryRequestReachesTheUpstreamMetrics(t *testing.T) {
	tests := []struct {
		name      string
		throttle  int // status of the one fault injected (0: none)
		throttled int
	}{
		{name: "clean run"},
		{name: "429", throttle: http.StatusTooManyRequests, throttled: 1},
		{name: "503 with Retry-After", throttle: http.StatusServiceUnavailable, throttled: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, graphtest.Options{UserPageSize: 2})
			tn.Seed(graphtest.SeedOptions{Users: 5, Groups: 2})
			if tc.throttle != 0 {
				tn.Throttle(1, tc.throttle, 2*time.Second)
			}
			seen := &sourcetest.UpstreamCounter{}
			src := openWith(t, tn.config(), sources.Env{Clock: tn.clock, Upstream: seen})
			mustSync(t, src, nil)
			sent := tn.GraphRequests("") + tn.TokenRequests()
			want := map[sources.UpstreamOutcome]int{sources.UpstreamOK: sent - tc.throttled}
			if tc.throttled > 0 {
				want[sources.UpstreamThrottled] = tc.throttled
			}
			if got := seen.Counts(); fmt.Sprint(got) != fmt.Sprint(want) || sent < 4 {
				t.Errorf("outcomes = %v, want %v (the tenant saw %d requests)", got, want, sent)
			}
		})
	}
}

// TestRefusedTokenReachesTheUpstreamMetrics: a token request the
// endpoint refuses is counted as an error.
func TestRefusedTokenReachesTheUpstreamMetrics(t *testing.T) {
	tn := newTenant(t, graphtest.Options{})
	cfg := tn.config()
	cfg.ClientSecret = "wrong"
	seen := &sourcetest.UpstreamCounter{}
	if _, _, err := syncOnce(t, openWith(t, cfg, sources.Env{Clock: tn.clock, Upstream: seen}), nil); err == nil {
		t.Fatal("sync with a wrong secret succeeded")
	}
	if got, want := seen.Counts(), map[sources.UpstreamOutcome]int{sources.UpstreamError: tn.TokenRequests()}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
}
