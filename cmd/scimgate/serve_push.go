package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

// newPushes builds the outbound push: the engine, a SCIM client per app
// opened with its secrets, the runner over them and its scheduler.
func newPushes(store storage.Store, sealer *engine.Sealer, logger *slog.Logger, cfg Config, hooks pushHooks) (*pushService, error) {
	rs, ok := store.(outbound.RunnerStore)
	if !ok {
		return nil, fmt.Errorf("the store keeps no push bookkeeping (%T)", store)
	}
	log := logger.With("part", "push")
	openTarget := func(_ context.Context, app storage.App, secrets map[string]string) (outbound.Target, error) {
		profile, ok := outbound.ProfileByName(app.Push.Profile)
		if !ok {
			return nil, fmt.Errorf("unknown push profile %q", app.Push.Profile)
		}
		return outbound.NewClient(outbound.ClientConfig{
			BaseURL: app.Push.URL,
			Auth: outbound.ClientAuth{PushAuth: app.Push.Auth,
				Token: secrets[storage.PushSecretToken], ClientSecret: secrets[storage.PushSecretClientSecret]},
			Profile: profile,
			Logger:  log.With("app", app.Name),
			Observe: func(_, outcome string) { hooks.request(app.Name, outcome) },
		})
	}
	runner := outbound.NewRunner(rs, outbound.NewEngine(rs, outbound.EngineOptions{Logger: log}), outbound.RunnerOptions{
		OpenTarget:    openTarget,
		Opener:        sealer,
		Logger:        log,
		MaxConcurrent: int(cfg.MaxConcurrentRuns),
		LeaseTTL:      time.Duration(cfg.SyncLeaseSeconds) * time.Second,
		SingleProcess: servedAlone(cfg),
		Observe:       hooks.run,
	})
	return &pushService{runner: runner, scheduler: outbound.NewScheduler(rs, runner, log, store.Now)}, nil
}
