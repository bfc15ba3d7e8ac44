package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/scimgate/scimgate/storage"
)

// Schedule says when a source runs next.
type Schedule interface {
	// Next returns the first run time after last for the source.
	Next(last time.Time, sourceID string) time.Time
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

// Next spreads sources with the same interval apart: each gets a fixed
// offset of up to a tenth of the interval (at most five minutes), derived
// from its id, so they don't all hit the network at once.
func (i interval) Next(last time.Time, sourceID string) time.Time {
	d := time.Duration(i)
	return last.Add(d + jitter(sourceID, min(d/10, 5*time.Minute)))
}

type cronSchedule struct{ s cron.Schedule }

func (c cronSchedule) Next(last time.Time, sourceID string) time.Time {
	return c.s.Next(last.UTC()).Add(jitter(sourceID, 30*time.Second))
}

func jitter(id string, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(max))
}

// Starter starts runs; *Runner is one.
type Starter interface {
	Start(ctx context.Context, sourceID string, t Trigger) (storage.Run, error)
}

// Scheduler wakes sources on their schedules. Every tick reads the
// sources afresh, so schedule changes apply without a restart. Time is
// injected: tests call Tick with the clock where they want it.
type Scheduler struct {
	store  storage.SourceStore
	runner Starter
	log    *slog.Logger
	now    func() time.Time
	// FullEvery forces a full enumeration when the last one is older
	// (deletions in incremental sources are found this way). Default 24h.
	FullEvery time.Duration
	// Poll is how often Run ticks. Default 10s.
	Poll time.Duration
}

// NewScheduler returns a scheduler.
func NewScheduler(store storage.SourceStore, runner Starter, log *slog.Logger, now func() time.Time) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Scheduler{store: store, runner: runner, log: log, now: now, FullEvery: 24 * time.Hour, Poll: 10 * time.Second}
}

// Run ticks until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.Poll)
	defer t.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick starts every source that is due and returns their ids.
func (s *Scheduler) Tick(ctx context.Context) []string {
	srcs, err := s.store.ListSources(ctx)
	if err != nil {
		s.log.Error("scheduler: list sources", "error", err)
		return nil
	}
	now := s.now()
	var started []string
	for _, src := range srcs {
		reason, due := s.due(src, now)
		if !due {
			continue
		}
		full := s.FullEvery > 0 && now.Sub(src.Health.LastFullAt) >= s.FullEvery
		// StillDue: on several replicas each scheduler tries; the one that
		// gets the source's lease runs it, and only if no other replica
		// ran it since this tick read the sources.
		stillDue := func(src storage.Source) bool { _, due := s.due(src, now); return due }
		_, err := s.runner.Start(ctx, src.ID, Trigger{Reason: reason, Full: full && !src.Health.LastFullAt.IsZero(), StillDue: stillDue})
		var busy *BusyError
		var held *HeldError
		switch {
		case err == nil:
			started = append(started, src.ID)
		case errors.As(err, &busy), errors.As(err, &held), errors.Is(err, ErrShuttingDown), errors.Is(err, ErrNotDue):
			// running (here or on another replica), waiting for an admin,
			// stopping, or just run by another replica: try again later
		default:
			s.log.Warn("scheduler: cannot start run", "source", src.Name, "error", err)
		}
	}
	return started
}

// due decides whether a source runs now, and why.
func (s *Scheduler) due(src storage.Source, now time.Time) (string, bool) {
	if !src.Enabled || strings.TrimSpace(src.Schedule) == "" {
		return "", false
	}
	h := src.Health
	if now.Before(h.BackoffUntil) {
		return "", false
	}
	if h.ConsecutiveFailures > 0 && !h.BackoffUntil.IsZero() {
		return "retry", true
	}
	sched, err := ParseSchedule(src.Schedule)
	if err != nil {
		return "", false // rejected on write; a stored bad one just never runs
	}
	last := h.LastRunAt
	if last.IsZero() {
		return "schedule", true // never ran: run now
	}
	return "schedule", !now.Before(sched.Next(last, src.ID))
}
