package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// errAppsPending marks the application store as not written yet (issue 15
// in progress); every method below is replaced by the real one.
var errAppsPending = errors.New("sqlstore: applications are not implemented yet")

func (s *Store) CreateApp(ctx context.Context, a storage.App) (storage.App, error) {
	return storage.App{}, errAppsPending
}
func (s *Store) GetApp(ctx context.Context, idOrName string) (storage.App, error) {
	return storage.App{}, errAppsPending
}
func (s *Store) ListApps(ctx context.Context) ([]storage.App, error) { return nil, errAppsPending }
func (s *Store) UpdateApp(ctx context.Context, idOrName string, update func(*storage.App) error) (storage.App, error) {
	return storage.App{}, errAppsPending
}
func (s *Store) DeleteApp(ctx context.Context, idOrName string) error { return errAppsPending }
func (s *Store) AppCounts(ctx context.Context, appID string) (storage.AppCounts, error) {
	return storage.AppCounts{}, errAppsPending
}
func (s *Store) AppMembers(ctx context.Context, appID string, changedAfter time.Time) ([]storage.AppMember, error) {
	return nil, errAppsPending
}
