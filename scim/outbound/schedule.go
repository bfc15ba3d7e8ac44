package outbound

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// SchedulerStore is what the push scheduler reads each tick.
type SchedulerStore interface {
	ListApps(ctx context.Context) ([]storage.App, error)
	ListPushStates(ctx context.Context) ([]storage.PushState, error)
	PushRuns() storage.RunStore
}

// Starter starts pushes; *Runner is one.
type Starter interface {
	Start(ctx context.Context, appID string, t Trigger) (storage.Run, error)
}

// Scheduler starts apps' pushes on their schedules and shortly after
// changes to their views (the debounce: AfterChangeSeconds after the first
// change since the last push), and retries failed ones after their
// backoff. A tick costs two reads (apps and push states) plus one for each
// app that is due, so it can run every second. Time is injected: tests
// call Tick with the clock where they want it.
type Scheduler struct {
	store  SchedulerStore
	runner Starter
	log    *slog.Logger
	now    func() time.Time
	// Poll is how often Run ticks (default 1s): the debounce is only as
	// precise as this.
	Poll time.Duration
	// FullEvery makes a push full (the target read and reconciled
	// entirely, so drift made in the target is found) when the last full
	// one is older (default 24h; 0 never).
	FullEvery time.Duration
}

// NewScheduler returns a scheduler; now is the store's clock.
func NewScheduler(store SchedulerStore, runner Starter, log *slog.Logger, now func() time.Time) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Scheduler{store: store, runner: runner, log: log, now: now, Poll: time.Second, FullEvery: 24 * time.Hour}
}

// Run ticks until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	sources.Every(ctx, s.Poll, func(ctx context.Context) { s.Tick(ctx) })
}

// Tick starts every push that is due and returns the apps' ids.
func (s *Scheduler) Tick(ctx context.Context) []string {
	apps, err := s.store.ListApps(ctx)
	if err != nil {
		s.log.Error("push scheduler: list apps", "error", err)
		return nil
	}
	states, err := s.store.ListPushStates(ctx)
	if err != nil {
		s.log.Error("push scheduler: list push states", "error", err)
		return nil
	}
	byApp := make(map[string]storage.PushState, len(states))
	for _, st := range states {
		byApp[st.AppID] = st
	}
	now := s.now()
	var started []string
	for _, app := range apps {
		state := byApp[app.ID]
		reason, due := pushDue(app, state, now)
		if !due || s.waiting(ctx, app, state, reason) {
			continue
		}
		// A push after a change stays incremental: it is there to carry a
		// leaver to the target in seconds, not to read the whole target.
		full := reason != "change" && s.FullEvery > 0 && !state.Health.LastFullAt.IsZero() &&
			now.Sub(state.Health.LastFullAt) >= s.FullEvery
		// stillDue: on several replicas each scheduler tries; the one that
		// takes the app's lease pushes, and only if no other replica has
		// pushed since this tick read the states.
		stillDue := func(app storage.App, st storage.PushState) bool { _, due := pushDue(app, st, now); return due }
		_, err := s.runner.Start(ctx, app.ID, Trigger{Reason: reason, Full: full, stillDue: stillDue})
		var busy *BusyError
		var held *HeldError
		switch {
		case err == nil:
			started = append(started, app.ID)
		case errors.As(err, &busy), errors.As(err, &held), errors.Is(err, ErrShuttingDown), errors.Is(err, errNotDue):
			// pushing (here or on another replica), waiting for an admin,
			// stopping, or just pushed by another replica: later
		default:
			s.log.Warn("push scheduler: cannot start a push", "app", app.Name, "error", err)
		}
	}
	return started
}

// waiting reports whether a due app's latest run keeps it from starting:
// held for an admin, or (for the debounce) rejected after the change it
// would push, which the rejection has already answered. It reads the
// latest run only for due apps, so a held app costs one read a tick.
func (s *Scheduler) waiting(ctx context.Context, app storage.App, state storage.PushState, reason string) bool {
	latest, err := s.store.PushRuns().ListRuns(ctx, app.ID, 1)
	if err != nil || len(latest) == 0 {
		return false
	}
	switch run := latest[0]; {
	case run.Status == storage.RunHeld:
		return true
	case reason == "change" && run.Status == storage.RunRejected:
		return !run.Finished.Before(state.FirstChange)
	}
	return false
}

// pushDue decides whether an app's push starts now, and why: a retry once
// the backoff after failures is over; "change" once the debounce after
// the first change to the view has passed; "schedule" when the schedule
// says so (at once when the app was never pushed).
func pushDue(app storage.App, st storage.PushState, now time.Time) (string, bool) {
	p := app.Push
	if p == nil || !p.Enabled {
		return "", false
	}
	switch wait, retry := sources.RetryDue(st.Health, now); {
	case wait:
		return "", false
	case retry:
		return "retry", true
	}
	if p.AfterChangeSeconds > 0 && !st.FirstChange.IsZero() &&
		!now.Before(st.FirstChange.Add(time.Duration(p.AfterChangeSeconds)*time.Second)) {
		return "change", true
	}
	if !sources.ScheduleDue(p.Schedule, st.Health.LastRunAt, app.ID, now) {
		return "", false
	}
	return "schedule", true
}
