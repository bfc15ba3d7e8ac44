package ldap

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestEverySearchReachesTheUpstreamMetrics: every search the directory
// answers is counted once, a busy DC as throttled, a failed search as an
// error.
func TestEverySearchReachesTheUpstreamMetrics(t *testing.T) {
	tests := []struct {
		name     string
		fault    func(n int) error
		fail     error
		wantFail bool
		want     func(searches int) map[sources.UpstreamOutcome]int
	}{
		{name: "clean run", want: func(n int) map[sources.UpstreamOutcome]int {
			return map[sources.UpstreamOutcome]int{sources.UpstreamOK: n}
		}},
		{name: "busy once, then fine", fault: on(errBusy, 1), want: func(n int) map[sources.UpstreamOutcome]int {
			return map[sources.UpstreamOutcome]int{sources.UpstreamOK: n - 1, sources.UpstreamThrottled: 1}
		}},
		{name: "searches fail", fail: errors.New("boom"), wantFail: true, want: func(n int) map[sources.UpstreamOutcome]int {
			return map[sources.UpstreamOutcome]int{sources.UpstreamOK: n - 1, sources.UpstreamError: 1}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDir{fault: tc.fault, failSearch: tc.fail}
			d.group("g", d.user("a"), d.user("b"))
			src := openFake(d, Config{}, testNow)
			seen := &sourcetest.UpstreamCounter{}
			src.upstream = seen
			_, err := src.Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{})
			if (err != nil) != tc.wantFail {
				t.Fatalf("sync: %v", err)
			}
			d.mu.Lock()
			searches := len(d.requests)
			d.mu.Unlock()
			if want := tc.want(searches); fmt.Sprint(seen.Counts()) != fmt.Sprint(want) {
				t.Errorf("outcomes = %v after %d searches, want %v", seen.Counts(), searches, want)
			}
		})
	}
}
