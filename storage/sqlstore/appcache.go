package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// appRecheck is how long a cached app is served before its version is
// compared with the database again. This store's own app writes update the
// cache at once; a change made by another replica on PostgreSQL therefore
// shows here within appRecheck. The wall clock measures it, not the store's
// clock: it is a cache lifetime, not a time anyone reads.
const appRecheck = time.Second

// appCache holds apps and their compiled predicates by id. The zero value
// is ready.
type appCache struct {
	mu      sync.Mutex
	entries map[string]appEntry
}

type appEntry struct {
	app     storage.App
	view    viewState
	pred    *appPred
	checked time.Time
}

func (c *appCache) get(id string) (appEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	return e, ok
}

func (c *appCache) put(a storage.App, p *appPred) {
	c.putStored(storedApp{app: a, view: p.viewState}, p)
}

func (c *appCache) putStored(sa storedApp, p *appPred) {
	a := sa.app
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]appEntry{}
	}
	c.entries[a.ID] = appEntry{app: a, view: sa.view, pred: p, checked: time.Now()}
}

func (c *appCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

// recheck marks an entry as confirmed current now.
func (c *appCache) recheck(id string, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok && e.app.Version == version {
		e.checked = time.Now()
		c.entries[id] = e
	}
}

// cachedApp returns the app with this id (not name) and its compiled
// predicate. In the common case it costs no query; once a second per app it
// costs one indexed SELECT of the version. ErrNotFound for an unknown id.
func (s *Store) cachedApp(ctx context.Context, id string) (storage.App, *appPred, error) {
	e, ok := s.apps.get(id)
	if ok && time.Since(e.checked) < appRecheck {
		return e.app, e.pred, nil
	}
	if ok {
		version, err := s.appVersion(ctx, id)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return storage.App{}, nil, err
		}
		if err == nil && version == e.app.Version {
			s.apps.recheck(id, version)
			return e.app, e.pred, nil
		}
	}
	sa, err := s.loadApp(ctx, id)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			s.apps.drop(id)
		}
		return storage.App{}, nil, err
	}
	p, err := compileApp(s.dialect, &sa.app, sa.view)
	if err != nil {
		return storage.App{}, nil, err
	}
	s.apps.putStored(sa, p)
	return sa.app, p, nil
}

// appVersion reads one app's version through a prepared statement.
func (s *Store) appVersion(ctx context.Context, id string) (int64, error) {
	rows, err := s.query(ctx, "SELECT version FROM apps WHERE id = ?", id)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: application %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("sqlstore: application %s: %w", id, translate(err))
		}
		return 0, fmt.Errorf("sqlstore: application %s: %w", id, storage.ErrNotFound)
	}
	var v int64
	if err := rows.Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlstore: application %s: %w", id, translate(err))
	}
	return v, nil
}

// loadApp reads one app by id from the read pool.
func (s *Store) loadApp(ctx context.Context, id string) (storedApp, error) {
	rows, err := s.query(ctx, "SELECT "+appColumns(s.wholeViews())+" FROM apps WHERE id = ?", id)
	if err != nil {
		return storedApp{}, fmt.Errorf("sqlstore: application %s: %w", id, err)
	}
	apps, err := scanApps(rows)
	if err != nil {
		return storedApp{}, fmt.Errorf("sqlstore: application %s: %w", id, err)
	}
	if len(apps) == 0 {
		return storedApp{}, fmt.Errorf("sqlstore: application %s: %w", id, storage.ErrNotFound)
	}
	return apps[0], nil
}

// storedApp is an app as its row holds it: the definition and the state
// of its view.
type storedApp struct {
	app  storage.App
	view viewState
}

// appsOf returns the apps of rows.
func appsOf(rows []storedApp) []storage.App {
	out := make([]storage.App, len(rows))
	for i, r := range rows {
		out[i] = r.app
	}
	return out
}

// rowScanner is what scanApps needs of *sql.Rows.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// scanApps reads rows of appColumns and closes rows.
func scanApps(rows rowScanner) ([]storedApp, error) {
	defer rows.Close()
	var out []storedApp
	for rows.Next() {
		var id, name, def string
		var version, created, updated, changed, epoch int64
		var joined sql.NullInt64
		if err := rows.Scan(&id, &name, &def, &version, &created, &updated, &joined, &changed, &epoch); err != nil {
			return nil, translate(err)
		}
		a, err := decodeApp(id, name, def, version, created, updated)
		if err != nil {
			return nil, err
		}
		out = append(out, storedApp{app: a, view: viewState{whole: joined.Valid, joined: joined.Int64, changed: changed, epoch: epoch}})
	}
	return out, translate(rows.Err())
}
