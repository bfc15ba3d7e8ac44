package sqlstore

import (
	"context"
	"errors"

	"github.com/scimgate/scimgate/storage"
)

// The LinkStore (storage/link.go). Skeleton: helper "linkstore" replaces
// these with the contributions tables of migration 13.

var errLinksNotBuilt = errors.New("identity linking is not built yet")

var _ storage.LinkStore = (*Store)(nil)

func (s *Store) SyncedContributions(ctx context.Context, source string, keys []string) (map[string]storage.SyncedUser, error) {
	return nil, errLinksNotBuilt
}

func (s *Store) EachContribution(ctx context.Context, source string, fn func(storage.SyncedUser) error) error {
	return errLinksNotBuilt
}

func (s *Store) CountContributions(ctx context.Context, source string) (int, error) {
	return 0, nil
}

func (s *Store) LinkHolders(ctx context.Context, keys []storage.LinkKey) (map[storage.LinkKey][]storage.LinkHolder, error) {
	return nil, errLinksNotBuilt
}

func (s *Store) ContributionsOf(ctx context.Context, userIDs []string) (map[string][]storage.ContributionRef, error) {
	return nil, errLinksNotBuilt
}

func (s *Store) AdoptOwned(ctx context.Context, source string) (int, error) {
	return 0, errLinksNotBuilt
}

func (s *Store) ApplyContributions(ctx context.Context, source string, b storage.ContributionBatch) (storage.ContributionResult, error) {
	return storage.ContributionResult{}, errLinksNotBuilt
}

func (s *Store) SetContributionManagers(ctx context.Context, source string, fixes map[string]storage.ManagerFix) error {
	return errLinksNotBuilt
}

func (s *Store) Provenance(ctx context.Context, userID string) (storage.Provenance, error) {
	return storage.Provenance{}, errLinksNotBuilt
}

func (s *Store) Unlink(ctx context.Context, userID, source string) (storage.User, error) {
	return storage.User{}, errLinksNotBuilt
}
