package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/scimgate/scimgate/storage"
)

// sourceResealStore is what Reseal needs of the store.
type sourceResealStore interface {
	ListSources(ctx context.Context) ([]storage.Source, error)
	UpdateSource(ctx context.Context, id string, update func(*storage.Source) error) (storage.Source, error)
}

// Reseal rewrites every source secret still sealed in the version 1
// format (bound to its setting name only) into the version 2 format,
// bound to its source, each source in one update. It is the migration of
// existing secrets: serve runs it at start-up, before any run opens a
// source, and it does nothing once every secret is rewritten. A secret
// that does not open with this key is left as it is and logged: its
// source's runs fail with ErrSealedWithOtherKey until it is set again.
// It returns how many sources it rewrote.
func Reseal(ctx context.Context, store sourceResealStore, sealer *Sealer, log *slog.Logger) (int, error) {
	srcs, err := store.ListSources(ctx)
	if err != nil {
		return 0, fmt.Errorf("reseal secrets: %w", err)
	}
	n := 0
	for _, listed := range srcs {
		if !hasLegacySeal(listed.Secrets) {
			continue
		}
		var failed error
		_, err := store.UpdateSource(ctx, listed.ID, func(src *storage.Source) error {
			failed = nil
			resealed, err := resealSecrets(*src, sealer)
			if err != nil {
				failed = err
				return errNothingToReseal
			}
			src.Secrets = resealed
			return nil
		})
		switch {
		case errors.Is(err, errNothingToReseal) && failed != nil:
			log.Warn("a source secret does not open with this key; set it again through the API",
				"source", listed.Name, "error", failed)
		case errors.Is(err, storage.ErrNotFound):
			// Deleted since the list: nothing to do.
		case err != nil:
			return n, fmt.Errorf("reseal secrets of source %s: %w", listed.Name, err)
		default:
			n++
		}
	}
	return n, nil
}

// errNothingToReseal ends an update without writing.
var errNothingToReseal = errors.New("nothing to reseal")

func hasLegacySeal(secrets map[string][]byte) bool {
	for _, sealed := range secrets {
		if IsLegacySeal(sealed) {
			return true
		}
	}
	return false
}

// resealSecrets returns src's secrets with every version 1 value sealed
// again for src.
func resealSecrets(src storage.Source, sealer *Sealer) (map[string][]byte, error) {
	out := make(map[string][]byte, len(src.Secrets))
	for name, sealed := range src.Secrets {
		if !IsLegacySeal(sealed) {
			out[name] = sealed
			continue
		}
		plain, err := sealer.OpenLegacy(name, sealed)
		if err != nil {
			return nil, err
		}
		out[name] = sealer.Seal(src.ID, name, plain)
	}
	return out, nil
}
