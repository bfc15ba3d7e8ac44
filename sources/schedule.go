package sources

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/scimgate/scimgate/storage"
)

// Schedule says when something scheduled (a source's sync, an app's push)
// runs next.
type Schedule interface {
	// Next returns the first run time after last for the thing named id
	// (its id spreads things with the same schedule apart).
	Next(last time.Time, id string) time.Time
}

// ParseSchedule accepts an interval ("15m", "1h30m"; at least one minute)
// or a cron expression ("0 */6 * * *", "@daily"; five fields, UTC).
func ParseSchedule(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		if d < time.Minute {
			return nil, fmt.Errorf("an interval must be at least 1m, not %s", s)
		}
		return interval(d), nil
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("%q is neither an interval such as 15m nor a cron expression such as \"0 */6 * * *\" (%v)", s, err)
	}
	return cronSchedule{sched}, nil
}

type interval time.Duration

// Next spreads things with the same interval apart: each gets a fixed
// offset of up to a tenth of the interval (at most five minutes), derived
// from its id, so they don't all hit the network at once.
func (i interval) Next(last time.Time, id string) time.Time {
	d := time.Duration(i)
	return last.Add(d + jitter(id, min(d/10, 5*time.Minute)))
}

type cronSchedule struct{ s cron.Schedule }

func (c cronSchedule) Next(last time.Time, id string) time.Time {
	return c.s.Next(last.UTC()).Add(jitter(id, 30*time.Second))
}

// jitter is a fixed offset in [0, max) derived from id.
func jitter(id string, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(max))
}

// RetryDue reads what a scheduled thing's health says about running now:
// during the backoff after failures it waits (wait); once that backoff is
// over it retries at once (retry); otherwise (neither) its schedule
// decides. The sync and push schedulers both ask it first.
func RetryDue(h storage.SourceHealth, now time.Time) (wait, retry bool) {
	if now.Before(h.BackoffUntil) {
		return true, false
	}
	return false, h.ConsecutiveFailures > 0 && !h.BackoffUntil.IsZero()
}

// ScheduleDue reports whether the thing named id, on schedule and last
// run at last, is due at now: at once when it never ran, else once
// schedule's next time (with id's jitter) has come. An empty or bad
// schedule is never due (a bad one is rejected on write; one stored
// anyway just never runs).
func ScheduleDue(schedule string, last time.Time, id string, now time.Time) bool {
	if strings.TrimSpace(schedule) == "" {
		return false
	}
	sched, err := ParseSchedule(schedule)
	if err != nil {
		return false
	}
	if last.IsZero() {
		return true
	}
	return !now.Before(sched.Next(last, id))
}

// Every calls tick at once and then every poll until ctx ends: the loop
// of the sync and push schedulers.
func Every(ctx context.Context, poll time.Duration, tick func(context.Context)) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// NextRuns lists the next n times the thing named id, on sched and last
// run at last, runs when nothing else intervenes (retries, approvals),
// as ScheduleDue decides them: at once (now) when it never ran or is
// overdue, then each schedule time after the one before.
func NextRuns(sched Schedule, last time.Time, id string, now time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	t := now
	if !last.IsZero() {
		if next := sched.Next(last, id); next.After(now) {
			t = next
		}
	}
	for range n {
		out = append(out, t.UTC())
		t = sched.Next(t, id)
	}
	return out
}
