package sources_test

import (
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
)

func TestParseSchedule(t *testing.T) {
	base := time.Date(2026, 11, 30, 10, 7, 0, 0, time.UTC)
	for _, tc := range []struct {
		in      string
		wantErr bool
		after   time.Time // Next(base) is at or after this
		before  time.Time // and before this
	}{
		{in: "15m", after: base.Add(15 * time.Minute), before: base.Add(16*time.Minute + 30*time.Second)},
		{in: "2h", after: base.Add(2 * time.Hour), before: base.Add(2*time.Hour + 5*time.Minute)},
		{in: "0 */6 * * *", after: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), before: time.Date(2026, 11, 30, 12, 0, 30, 0, time.UTC)},
		{in: "@daily", after: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), before: time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC)},
		{in: "30s", wantErr: true},
		{in: "every day", wantErr: true},
		{in: "61 * * * *", wantErr: true},
	} {
		s, err := sources.ParseSchedule(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v", tc.in, err)
			continue
		}
		if err != nil {
			continue
		}
		next := s.Next(base, "some-source")
		if next.Before(tc.after) || !next.Before(tc.before) {
			t.Errorf("%q: next = %s, want in [%s, %s)", tc.in, next, tc.after, tc.before)
		}
	}
}

func TestBackoffGrowsAndIsBounded(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, time.Minute}, {2, 10 * time.Minute}, {3, time.Hour}, {4, 2 * time.Hour},
		{6, 8 * time.Hour}, {7, 12 * time.Hour}, {40, 12 * time.Hour},
	} {
		if got := sources.Backoff(tc.failures); got != tc.want {
			t.Errorf("Backoff(%d) = %s, want %s", tc.failures, got, tc.want)
		}
	}
}
