package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// pushObjectColumns are the columns of push_objects that scanPushObject
// reads, in order.
const pushObjectColumns = "app_id, kind, local_id, target_id, origin, state, hash, error, updated"

// pushObjectPage is how many objects EachPushObject reads per query, and
// pushObjectRows how many one upsert writes (9 variables each, well under
// SQLite's 32766 and PostgreSQL's 65535).
const (
	pushObjectPage = 1000
	pushObjectRows = 500
)

func scanPushObject(rows *sql.Rows) (storage.PushObject, error) {
	var o storage.PushObject
	var updated int64
	if err := rows.Scan(&o.AppID, &o.Kind, &o.LocalID, &o.TargetID, &o.Origin, &o.State, &o.Hash, &o.Error, &updated); err != nil {
		return storage.PushObject{}, translate(err)
	}
	o.Updated = fromMillis(updated)
	return o, nil
}

// collectPushObjects reads rows of pushObjectColumns, calling fn for each,
// and closes rows.
func collectPushObjects(rows *sql.Rows, fn func(storage.PushObject)) error {
	return scanRows(rows, func() error {
		o, err := scanPushObject(rows)
		if err != nil {
			return err
		}
		fn(o)
		return nil
	})
}

// PushObjects returns the objects of kind for localIDs, by local id.
func (s *Store) PushObjects(ctx context.Context, appID, kind string, localIDs []string) (map[string]storage.PushObject, error) {
	out := make(map[string]storage.PushObject, len(localIDs))
	err := chunks(localIDs, keyChunk, func(chunk []string) error {
		rows, err := s.query(ctx, "SELECT "+pushObjectColumns+" FROM push_objects WHERE app_id = ? AND kind = ? AND "+
			s.dialect.inJSONArray("local_id"), appID, kind, jsonArg(chunk))
		if err != nil {
			return err
		}
		return collectPushObjects(rows, func(o storage.PushObject) { out[o.LocalID] = o })
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: push objects: %w", err)
	}
	return out, nil
}

// EachPushObject pages through the objects of kind by local id; no query
// is open while fn runs, so fn may write to the store.
func (s *Store) EachPushObject(ctx context.Context, appID, kind string, fn func(storage.PushObject) error) error {
	after := ""
	for {
		rows, err := s.query(ctx, "SELECT "+pushObjectColumns+` FROM push_objects
			WHERE app_id = ? AND kind = ? AND local_id > ? ORDER BY local_id LIMIT ?`, appID, kind, after, pushObjectPage)
		if err != nil {
			return fmt.Errorf("sqlstore: each push object: %w", err)
		}
		page := make([]storage.PushObject, 0, pushObjectPage)
		if err := collectPushObjects(rows, func(o storage.PushObject) { page = append(page, o) }); err != nil {
			return fmt.Errorf("sqlstore: each push object: %w", err)
		}
		for _, o := range page {
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(page) < pushObjectPage {
			return nil
		}
		after = page[len(page)-1].LocalID
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// SavePushObjects upserts objs in one transaction; a zero Updated becomes
// now, and of two objects with one key the later wins. ErrNotFound if an
// object names an app that does not exist; ErrInvalid if one lacks its
// app, kind or local id.
func (s *Store) SavePushObjects(ctx context.Context, objs []storage.PushObject) error {
	if len(objs) == 0 {
		return nil
	}
	apps := map[string]bool{}
	// PostgreSQL refuses an upsert that names one row twice.
	last := make(map[[3]string]int, len(objs))
	for i, o := range objs {
		if o.AppID == "" || o.Kind == "" || o.LocalID == "" {
			return fmt.Errorf("sqlstore: save push objects: %w",
				storage.Invalid(fmt.Sprintf("a push object needs an app, a kind and a local id (got %q, %q, %q)", o.AppID, o.Kind, o.LocalID)))
		}
		apps[o.AppID] = true
		last[[3]string{o.AppID, o.Kind, o.LocalID}] = i
	}
	if len(last) < len(objs) {
		unique := make([]storage.PushObject, 0, len(last))
		for i, o := range objs {
			if last[[3]string{o.AppID, o.Kind, o.LocalID}] == i {
				unique = append(unique, o)
			}
		}
		objs = unique
	}
	now := millis(s.now())
	err := s.write(ctx, func(tx *txn) error {
		for id := range apps {
			if err := appExists(tx, id); err != nil {
				return err
			}
		}
		return chunks(objs, pushObjectRows, func(chunk []storage.PushObject) error {
			values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)), ", ")
			args := make([]any, 0, 9*len(chunk))
			for _, o := range chunk {
				updated := now
				if !o.Updated.IsZero() {
					updated = millis(o.Updated)
				}
				args = append(args, o.AppID, o.Kind, o.LocalID, o.TargetID, o.Origin, o.State, o.Hash, o.Error, updated)
			}
			return tx.exec(`INSERT INTO push_objects (`+pushObjectColumns+`) VALUES `+values+`
				ON CONFLICT (app_id, kind, local_id) DO UPDATE SET target_id = excluded.target_id,
					origin = excluded.origin, state = excluded.state, hash = excluded.hash,
					error = excluded.error, updated = excluded.updated`, args...)
		})
	})
	return wrapOp("save push objects", err)
}

// DeletePushObjects forgets objects of kind, and with them the pushed
// memberships they held (a group's members) or were part of (a user or
// group as a member): the target dropped those along with the object.
func (s *Store) DeletePushObjects(ctx context.Context, appID, kind string, localIDs []string) error {
	if len(localIDs) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *txn) error {
		return chunks(localIDs, keyChunk, func(chunk []string) error {
			arg := jsonArg(chunk)
			if err := tx.exec("DELETE FROM push_objects WHERE app_id = ? AND kind = ? AND "+
				tx.dialect.inJSONArray("local_id"), appID, kind, arg); err != nil {
				return err
			}
			if kind == storage.MemberGroup {
				if err := tx.exec("DELETE FROM push_members WHERE app_id = ? AND "+
					tx.dialect.inJSONArray("group_id"), appID, arg); err != nil {
					return err
				}
			}
			return tx.exec("DELETE FROM push_members WHERE app_id = ? AND "+
				tx.dialect.inJSONArray("member_id"), appID, arg)
		})
	})
	return wrapOp("delete push objects", err)
}

// PushOrphans returns the managed objects (active or creating) of kind
// whose local resource has left the app's view, by local id. A user is in
// view while it has an app_users row in view or within leave grace (a
// user deleted outright has none); a group while the view's group rule
// (groupView.inView) holds it.
func (s *Store) PushOrphans(ctx context.Context, appID, kind string) ([]storage.PushObject, error) {
	a, p, err := s.cachedApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	var t sqlText
	t.add("SELECT "+pushObjectColumns+` FROM push_objects po
		WHERE po.app_id = ? AND po.kind = ? AND po.state IN (?, ?) AND `, a.ID, kind, storage.PushActive, storage.PushCreating)
	switch kind {
	case storage.MemberUser:
		t.add("NOT EXISTS (SELECT 1 FROM ")
		viewRowsGone(&t, s.dialect, p)
		t.add(` WHERE av.app_id = po.app_id AND av.user_id = po.local_id AND `+inGrace+")", graceCutoff(s.now(), a))
	case storage.MemberGroup:
		v := groupView{app: a, pred: p, d: s.dialect}
		t.add("NOT (EXISTS (SELECT 1 FROM groups g WHERE g.id = po.local_id) AND ")
		v.inView(&t, "po.local_id")
		t.add(")")
	default:
		return nil, fmt.Errorf("sqlstore: push orphans: %w", storage.Invalid(fmt.Sprintf("unknown kind %q (want User or Group)", kind)))
	}
	t.add(" ORDER BY po.local_id")
	rows, err := s.query(ctx, t.sb.String(), t.args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: push orphans: %w", err)
	}
	out := []storage.PushObject{}
	if err := collectPushObjects(rows, func(o storage.PushObject) { out = append(out, o) }); err != nil {
		return nil, fmt.Errorf("sqlstore: push orphans: %w", err)
	}
	return out, nil
}

// PushedMembers returns a group's members as last pushed, by id.
func (s *Store) PushedMembers(ctx context.Context, appID, groupID string) ([]string, error) {
	rows, err := s.query(ctx, "SELECT member_id FROM push_members WHERE app_id = ? AND group_id = ? ORDER BY member_id", appID, groupID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pushed members: %w", err)
	}
	out := []string{}
	err = scanRows(rows, func() error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return translate(err)
		}
		out = append(out, id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pushed members: %w", err)
	}
	return out, nil
}

// SetPushedMembers records accepted membership edits in one transaction:
// removals first, so an id in both ends up a member. ErrNotFound for an
// unknown app.
func (s *Store) SetPushedMembers(ctx context.Context, appID, groupID string, add, remove []string) error {
	if len(add) == 0 && len(remove) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *txn) error {
		if err := appExists(tx, appID); err != nil {
			return err
		}
		if err := chunks(remove, keyChunk, func(chunk []string) error {
			return tx.exec("DELETE FROM push_members WHERE app_id = ? AND group_id = ? AND "+
				tx.dialect.inJSONArray("member_id"), appID, groupID, jsonArg(chunk))
		}); err != nil {
			return err
		}
		const perStatement = 1000 // 3 variables each
		return chunks(add, perStatement, func(chunk []string) error {
			values := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(chunk)), ", ")
			args := make([]any, 0, 3*len(chunk))
			for _, id := range chunk {
				args = append(args, appID, groupID, id)
			}
			return tx.exec("INSERT INTO push_members (app_id, group_id, member_id) VALUES "+values+
				" ON CONFLICT (app_id, group_id, member_id) DO NOTHING", args...)
		})
	})
	return wrapOp("set pushed members", err)
}

// appExists fails with ErrNotFound unless the app exists.
func appExists(tx *txn, appID string) error {
	var n int64
	if err := tx.orm.Raw("SELECT COUNT(*) FROM apps WHERE id = ?", appID).Scan(&n).Error; err != nil {
		return translate(err)
	}
	if n == 0 {
		return fmt.Errorf("application %s: %w", appID, storage.ErrNotFound)
	}
	return nil
}
