package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// CreateApp stores a with version 1 and computes its view in the same
// transaction: a whole view (appwhole.go) needs no rows, it begins now.
func (s *Store) CreateApp(ctx context.Context, a storage.App) (storage.App, error) {
	if err := validateApp(&a); err != nil {
		return storage.App{}, fmt.Errorf("sqlstore: create application: %w", err)
	}
	if a.ID == "" {
		a.ID = newID()
	}
	now := msUTC(s.now())
	a.CreatedAt, a.UpdatedAt, a.Version = now, now, 1
	var view viewState
	if s.wholeViews() && wholeScope(&a) {
		view = viewState{whole: true, joined: millis(now), changed: millis(now), epoch: 1}
	}
	p, err := compileApp(s.dialect, &a, view)
	if err != nil {
		return storage.App{}, fmt.Errorf("sqlstore: create application: %w", err)
	}
	def, err := encodeAppDef(&a)
	if err != nil {
		return storage.App{}, fmt.Errorf("sqlstore: create application: %w", err)
	}
	err = s.write(ctx, func(tx *txn) error {
		if err := tx.exec(`INSERT INTO apps (id, name, name_key, version, created, updated, def)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, a.Name, storage.FoldKey(a.Name), a.Version, millis(now), millis(now), def); err != nil {
			return err
		}
		if err := saveViewState(tx, a.ID, view); err != nil {
			return err
		}
		tx.markPush(p) // a new push has the whole view to push
		if p.whole {
			return nil
		}
		return recomputeApp(tx, p)
	})
	if err != nil {
		return storage.App{}, wrapOp("create application "+a.Name, err)
	}
	s.apps.put(a, p)
	return detachedApp(a), nil
}

// GetApp returns an app by id or, failing that, by name. By id it is
// served from the app cache.
func (s *Store) GetApp(ctx context.Context, idOrName string) (storage.App, error) {
	a, _, err := s.cachedApp(ctx, idOrName)
	if err == nil {
		return detachedApp(a), nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return storage.App{}, err
	}
	rows, err := s.query(ctx, "SELECT "+appColumns(s.wholeViews())+" FROM apps WHERE name_key = ?", storage.FoldKey(idOrName))
	if err != nil {
		return storage.App{}, fmt.Errorf("sqlstore: application %s: %w", idOrName, err)
	}
	apps, err := scanApps(rows)
	if err != nil {
		return storage.App{}, fmt.Errorf("sqlstore: application %s: %w", idOrName, err)
	}
	if len(apps) == 0 {
		return storage.App{}, fmt.Errorf("sqlstore: application %s: %w", idOrName, storage.ErrNotFound)
	}
	return apps[0].app, nil
}

// ListApps returns every app, by name.
func (s *Store) ListApps(ctx context.Context) ([]storage.App, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT " + appColumns(s.wholeViews()) + " FROM apps ORDER BY name_key, id").Rows()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list applications: %w", translate(err))
	}
	apps, err := scanApps(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list applications: %w", err)
	}
	return appsOf(apps), nil
}

// UpdateApp runs update on the stored app and stores the result with the
// next version. A change of who is in view recomputes the membership; a
// change of what the app sees of its users (attributes, group rules) marks
// every user in view as changed. A whole view (appwhole.go) is turned
// into rows for the recompute and back, and begins again now.
func (s *Store) UpdateApp(ctx context.Context, idOrName string, update func(*storage.App) error) (storage.App, error) {
	var out storage.App
	var outPred *appPred
	err := s.write(ctx, func(tx *txn) error {
		stored, err := appInTx(tx, idOrName)
		if err != nil {
			return err
		}
		cur := stored.app
		next := cur
		next.Scope.Groups = append([]string(nil), cur.Scope.Groups...)
		next.Scope.Sources = append([]string(nil), cur.Scope.Sources...)
		next.Scope.Owners = append([]string(nil), cur.Scope.Owners...)
		next.Attributes = append([]string(nil), cur.Attributes...)
		if cur.Push != nil {
			push := clonePush(*cur.Push)
			next.Push = &push
		}
		if err := update(&next); err != nil {
			return err
		}
		if err := validateApp(&next); err != nil {
			return err
		}
		now := msUTC(tx.now())
		next.ID, next.CreatedAt, next.UpdatedAt, next.Version = cur.ID, cur.CreatedAt, now, cur.Version+1
		view, err := updateView(tx, &stored, &next, millis(now))
		if err != nil {
			return err
		}
		p, err := compileApp(tx.dialect, &next, view)
		if err != nil {
			return err
		}
		def, err := encodeAppDef(&next)
		if err != nil {
			return err
		}
		if err := tx.exec(`UPDATE apps SET name = ?, name_key = ?, version = ?, updated = ?, def = ? WHERE id = ?`,
			next.Name, storage.FoldKey(next.Name), next.Version, millis(now), def, next.ID); err != nil {
			return err
		}
		if err := saveViewState(tx, next.ID, view); err != nil {
			return err
		}
		if pushChanged(&cur, &next) {
			tx.markPush(p)
		}
		out, outPred = next, p
		return nil
	})
	if err != nil {
		return storage.App{}, wrapOp("update application "+idOrName, err)
	}
	s.apps.put(out, outPred)
	return detachedApp(out), nil
}

// DeleteApp removes an app; its membership rows and bound tokens go by
// foreign-key cascade.
func (s *Store) DeleteApp(ctx context.Context, idOrName string) error {
	var id string
	err := s.write(ctx, func(tx *txn) error {
		a, err := appInTx(tx, idOrName)
		if err != nil {
			return err
		}
		id = a.app.ID
		return tx.exec("DELETE FROM apps WHERE id = ?", id)
	})
	if id != "" {
		s.apps.drop(id)
	}
	return wrapOp("delete application "+idOrName, err)
}

// appInTx reads an app by id or, failing that, by name, inside a write.
func appInTx(tx *txn, idOrName string) (storedApp, error) {
	rows, err := tx.orm.Raw("SELECT "+appColumns(tx.wholeViews)+` FROM apps WHERE id = ? OR name_key = ?
		ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END`, idOrName, storage.FoldKey(idOrName), idOrName).Rows()
	if err != nil {
		return storedApp{}, translate(err)
	}
	apps, err := scanApps(rows)
	if err != nil {
		return storedApp{}, err
	}
	if len(apps) == 0 {
		return storedApp{}, fmt.Errorf("application %s: %w", idOrName, storage.ErrNotFound)
	}
	return apps[0], nil
}

// graceStart is the earliest leave time still within a's grace, in
// milliseconds.
func (s *Store) graceStart(p *appPred) int64 {
	return millis(s.now()) - p.graceMillis
}

// AppCounts returns how many users are in view, how many left within the
// grace period, and how many groups are in view.
func (s *Store) AppCounts(ctx context.Context, appID string) (storage.AppCounts, error) {
	a, p, err := s.cachedApp(ctx, appID)
	if err != nil {
		return storage.AppCounts{}, err
	}
	var c storage.AppCounts
	var users, departed sql.NullInt64
	var t sqlText
	t.add(`SELECT SUM(CASE WHEN av.left_at IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN av.left_at IS NOT NULL AND av.left_at > ? THEN 1 ELSE 0 END) FROM `, s.graceStart(p))
	viewRowsGone(&t, s.dialect, p)
	t.add(" WHERE av.app_id = ?", a.ID)
	row := s.db.WithContext(ctx).Raw(t.sb.String(), t.args...).Row()
	if err := row.Scan(&users, &departed); err != nil {
		return storage.AppCounts{}, fmt.Errorf("sqlstore: application counts: %w", translate(err))
	}
	c.Users, c.Departed = int(users.Int64), int(departed.Int64)
	groups, err := s.appGroupCount(ctx, &a, p)
	if err != nil {
		return storage.AppCounts{}, fmt.Errorf("sqlstore: application counts: %w", err)
	}
	c.Groups = groups
	return c, nil
}

// appGroupCount counts the groups in a's view: for "scope" the closure of
// the scope groups (every group when the scope names none, as the scope is
// then every user), for "all" the groups with a user in view directly or
// through nesting, for "none" nothing.
func (s *Store) appGroupCount(ctx context.Context, a *storage.App, p *appPred) (int, error) {
	var q string
	var args []any
	switch {
	case a.Groups == storage.GroupsNone:
		return 0, nil
	case a.Groups == storage.GroupsScope && !p.hasGroups:
		q = "SELECT COUNT(*) FROM groups"
	case a.Groups == storage.GroupsScope:
		q, args = p.with+"SELECT COUNT(*) FROM app_scope", p.withArgs
	default:
		var t sqlText
		t.add("WITH RECURSIVE holding(id) AS (SELECT m.group_id FROM group_members m JOIN ")
		viewRows(&t, s.dialect, p)
		t.add(` ON av.user_id = m.member_id
			WHERE av.app_id = ? AND av.left_at IS NULL AND m.member_type = 'user'
			UNION
			SELECT m.group_id FROM group_members m JOIN holding h ON m.member_id = h.id
			WHERE m.member_type = 'group')
			SELECT COUNT(*) FROM holding`, a.ID)
		q, args = t.sb.String(), t.args
	}
	var n int64
	if err := s.db.WithContext(ctx).Raw(q, args...).Row().Scan(&n); err != nil {
		return 0, translate(err)
	}
	return int(n), nil
}

// AppMembers returns the membership rows of an app still visible to it
// (in view, or left within the grace period), by change time and user id.
func (s *Store) AppMembers(ctx context.Context, appID string, changedAfter time.Time) ([]storage.AppMember, error) {
	a, p, err := s.cachedApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	after := int64(-1 << 62)
	if !changedAfter.IsZero() {
		after = millis(changedAfter)
	}
	var t sqlText
	t.add("SELECT av.user_id, av.joined, av.left_at, av.changed FROM ")
	viewRowsGone(&t, s.dialect, p)
	t.add(` WHERE av.app_id = ? AND (av.left_at IS NULL OR av.left_at > ?) AND av.changed > ?
		ORDER BY av.changed, av.user_id`, a.ID, s.graceStart(p), after)
	rows, err := s.db.WithContext(ctx).Raw(t.sb.String(), t.args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: application members: %w", translate(err))
	}
	out := []storage.AppMember{}
	err = scanRows(rows, func() error {
		var m storage.AppMember
		var joined, changed int64
		var left sql.NullInt64
		if err := rows.Scan(&m.UserID, &joined, &left, &changed); err != nil {
			return translate(err)
		}
		m.Joined, m.Left, m.Changed = fromMillis(joined), fromNullMillis(left), fromMillis(changed)
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: application members: %w", err)
	}
	return out, nil
}
