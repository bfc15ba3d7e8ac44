package sqlstore

import (
	"context"
	"errors"

	"github.com/scimgate/scimgate/storage"
)

var errLinksNotBuilt = errors.New("identity linking: not built yet")

func (s *Store) AdoptOwned(ctx context.Context, source string) (int, error) {
	return 0, errLinksNotBuilt
}

func (s *Store) Provenance(ctx context.Context, userID string) (storage.Provenance, error) {
	return storage.Provenance{}, errLinksNotBuilt
}

func (s *Store) Unlink(ctx context.Context, userID, source string) (storage.User, error) {
	return storage.User{}, errLinksNotBuilt
}
