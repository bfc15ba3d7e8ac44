package sources_test

import (
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

func TestRetryDue(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		h           storage.SourceHealth
		wait, retry bool
	}{
		{name: "healthy: the schedule decides"},
		{name: "backing off", h: storage.SourceHealth{ConsecutiveFailures: 2, BackoffUntil: now.Add(time.Second)}, wait: true},
		{name: "backoff over: retry", h: storage.SourceHealth{ConsecutiveFailures: 2, BackoffUntil: now}, retry: true},
		{name: "failures without a backoff (dry runs): the schedule decides", h: storage.SourceHealth{ConsecutiveFailures: 1}},
	} {
		wait, retry := sources.RetryDue(tc.h, now)
		if wait != tc.wait || retry != tc.retry {
			t.Errorf("%s: RetryDue = %v, %v; want %v, %v", tc.name, wait, retry, tc.wait, tc.retry)
		}
	}
}

func TestScheduleDue(t *testing.T) {
	last := time.Date(2030, 5, 6, 7, 0, 0, 0, time.UTC)
	// "1h" for id "x" comes back between 1h and 1h05m after last (its
	// jitter); exactly where is Next's business.
	next, err := sources.ParseSchedule("1h")
	if err != nil {
		t.Fatal(err)
	}
	at := next.Next(last, "x")
	for _, tc := range []struct {
		name     string
		schedule string
		last     time.Time
		now      time.Time
		want     bool
	}{
		{name: "never ran", schedule: "1h", now: last, want: true},
		{name: "before the next time", schedule: "1h", last: last, now: at.Add(-time.Nanosecond)},
		{name: "at the next time", schedule: "1h", last: last, now: at, want: true},
		{name: "no schedule", schedule: "  ", now: last},
		{name: "a bad schedule never runs", schedule: "every day", now: last},
	} {
		if got := sources.ScheduleDue(tc.schedule, tc.last, "x", tc.now); got != tc.want {
			t.Errorf("%s: ScheduleDue = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRecordOutcome(t *testing.T) {
	now := time.Date(2030, 5, 6, 7, 8, 0, 0, time.UTC)
	earlier := now.Add(-time.Hour)
	failing := storage.SourceHealth{ConsecutiveFailures: 2, LastError: "old", BackoffUntil: earlier, LastSuccessAt: earlier, LastFullAt: earlier}
	for _, tc := range []struct {
		name string
		h    storage.SourceHealth
		o    sources.Outcome
		want storage.SourceHealth
	}{
		{name: "first failure", o: sources.Outcome{Failed: true, Error: "boom"},
			want: storage.SourceHealth{ConsecutiveFailures: 1, LastError: "boom", BackoffUntil: now.Add(sources.Backoff(1))}},
		{name: "third failure is unhealthy", h: failing, o: sources.Outcome{Failed: true, Error: "boom"},
			want: storage.SourceHealth{ConsecutiveFailures: 3, Unhealthy: true, LastError: "boom",
				BackoffUntil: now.Add(sources.Backoff(3)), LastSuccessAt: earlier, LastFullAt: earlier}},
		{name: "quarantine at once", o: sources.Outcome{Failed: true, Error: "most failed", Quarantine: true},
			want: storage.SourceHealth{ConsecutiveFailures: 1, Unhealthy: true, LastError: "most failed", BackoffUntil: now.Add(sources.Backoff(1))}},
		{name: "success clears", h: failing, o: sources.Outcome{},
			want: storage.SourceHealth{LastSuccessAt: now, LastFullAt: earlier}},
		{name: "full success", h: failing, o: sources.Outcome{Full: true},
			want: storage.SourceHealth{LastSuccessAt: now, LastFullAt: now}},
	} {
		h := tc.h
		sources.RecordOutcome(&h, tc.o, now)
		if h != tc.want {
			t.Errorf("%s: health %+v, want %+v", tc.name, h, tc.want)
		}
	}
}
