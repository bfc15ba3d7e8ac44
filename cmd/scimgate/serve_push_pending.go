//go:build !pushwiring

// TODO(lead, at merge): delete this file and remove the build constraint
// of serve_push.go once scim/outbound's engine, client, runner and
// scheduler are on main. Until then serve runs without outbound push:
// apps accept a push definition, the push routes are not mounted.

package main

import (
	"log/slog"

	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

func newPushes(storage.Store, *engine.Sealer, *slog.Logger, Config, pushHooks) (*pushService, error) {
	return nil, nil
}
