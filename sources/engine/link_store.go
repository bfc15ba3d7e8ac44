package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// linkedStore gives a run of a linked source the users half of
// storage.SyncStore over the LinkStore: its "users" are its contributions,
// each seen under its person's id, so the pipeline, group members and
// managers resolve source keys to people without knowing about linking.
// Groups stay the source's own, through the store underneath.
type linkedStore struct {
	EngineStore
	source string // the source's id
}

// errLinkedWrite says a linked run tried to write users as a plain source.
var errLinkedWrite = errors.New("engine: a linked source writes contributions, not users")

func (s linkedStore) SyncedUsers(ctx context.Context, _ string, keys []string) (map[string]storage.SyncedUser, error) {
	return s.SyncedContributions(ctx, s.source, keys)
}

func (s linkedStore) EachSyncedUser(ctx context.Context, _ string, fn func(storage.SyncedUser) error) error {
	return s.EachContribution(ctx, s.source, fn)
}

// CountOwned counts contributions as the source's users: one per person
// it contributes to.
func (s linkedStore) CountOwned(ctx context.Context, owner string) (users, groups int, err error) {
	if _, groups, err = s.EngineStore.CountOwned(ctx, owner); err != nil {
		return 0, 0, err
	}
	users, err = s.CountContributions(ctx, s.source)
	return users, groups, err
}

func (s linkedStore) ApplyUsers(ctx context.Context, owner string, b storage.UserBatch) error {
	return errLinkedWrite
}

func (s linkedStore) SetManagers(ctx context.Context, fixes map[string]storage.ManagerFix) error {
	return s.SetContributionManagers(ctx, s.source, fixes)
}

// linked reports whether runs of src go through the LinkStore: it
// declares link keys, or it still has contributions (its link setting was
// removed: its records then stand alone, and the next full run breaks
// their links).
func linked(ctx context.Context, store EngineStore, src storage.Source) (bool, error) {
	if len(src.Link) > 0 {
		return true, nil
	}
	n, err := store.CountContributions(ctx, src.ID)
	if err != nil {
		return false, fmt.Errorf("count the source's contributions: %w", err)
	}
	return n > 0, nil
}

// forSource returns the engine a run of src writes through: e itself for
// a plain source, e over its contributions for a linked one. The first
// linked run adopts the users the source owned as a plain source, so
// they keep their ids (not in a dry run, which writes nothing: note then
// says what it shows instead).
func (e *engine) forSource(ctx context.Context, src storage.Source, dryRun bool) (le *engine, isLinked bool, note string, err error) {
	if isLinked, err = linked(ctx, e.store, src); err != nil || !isLinked {
		return e, false, "", err
	}
	n, err := e.store.CountContributions(ctx, src.ID)
	if err != nil {
		return nil, false, "", fmt.Errorf("count the source's contributions: %w", err)
	}
	owned := 0
	if n == 0 {
		if owned, _, err = e.store.CountOwned(ctx, src.Owner()); err != nil {
			return nil, false, "", fmt.Errorf("count the source's users: %w", err)
		}
	}
	switch {
	case owned == 0:
	case dryRun:
		note = fmt.Sprintf("dry run: the source's %d users become its contributions, with their ids, on its first real run with link keys; this dry run shows them as new records", owned)
	default:
		adopted, err := e.store.AdoptOwned(ctx, src.ID)
		if err != nil {
			return nil, false, "", fmt.Errorf("adopt the source's users as contributions: %w", err)
		}
		if adopted > 0 {
			e.log.Info("source starts linking: its users became contributions", "source", src.Name, "users", adopted)
		}
	}
	copied := *e
	copied.store = linkedStore{EngineStore: e.store, source: src.ID}
	return &copied, true, note, nil
}
