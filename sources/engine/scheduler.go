package engine

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

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
	sources.Every(ctx, s.Poll, func(ctx context.Context) { s.Tick(ctx) })
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

// due decides whether a source runs now, and why. Without a schedule a
// source runs only when asked, retries included.
func (s *Scheduler) due(src storage.Source, now time.Time) (string, bool) {
	if !src.Enabled || strings.TrimSpace(src.Schedule) == "" {
		return "", false
	}
	switch wait, retry := sources.RetryDue(src.Health, now); {
	case wait:
		return "", false
	case retry:
		return "retry", true
	}
	return "schedule", sources.ScheduleDue(src.Schedule, src.Health.LastRunAt, src.ID, now)
}
