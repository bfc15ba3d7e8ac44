package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// memberType maps the stored (lower-case) member type to the SCIM one.
func memberType(stored string) string {
	if stored == "group" {
		return storage.MemberGroup
	}
	return storage.MemberUser
}

func groupDoc(g *storage.Group) (string, error) {
	doc, err := json.Marshal(g)
	if err != nil {
		return "", fmt.Errorf("encode group: %w", err)
	}
	return string(doc), nil
}

// CreateGroup stores a group and its members.
func (s *Store) CreateGroup(ctx context.Context, g storage.Group) (storage.Group, error) {
	if g.ID == "" {
		g.ID = newID()
	}
	now := s.now().UTC().Truncate(1e6)
	g.Meta = storage.Meta{Created: now, LastModified: now, Version: 1}
	doc, err := groupDoc(&g)
	if err != nil {
		return storage.Group{}, err
	}
	err = s.write(ctx, func(tx *txn) error {
		args := append([]any{g.ID, g.Owner}, groupAttrValues(&g)...)
		if err := tx.exec(`INSERT INTO groups (id, owner, `+groupAttrList+`, display, created, last_modified, version, doc)
			VALUES (?, ?, `+placeholders(len(groupAttrs))+`, ?, ?, ?, ?, ?)`,
			append(args, g.DisplayName, millis(now), millis(now), 1, doc)...); err != nil {
			return err
		}
		if _, err := addMembers(tx, g.ID, g.Members); err != nil {
			return err
		}
		return tx.touchGroups(g.ID)
	})
	if err != nil {
		return storage.Group{}, wrapOp("create group", err)
	}
	return s.GetGroup(ctx, g.ID, true)
}

// addMembers inserts membership rows that are not there yet, after
// checking that every member exists with the stated type. It reports
// whether any row was added. Its cost follows the members added, never the
// members the group already has.
func addMembers(tx *txn, groupID string, members []storage.Member) (bool, error) {
	if len(members) == 0 {
		return false, nil
	}
	ids := make([]string, 0, len(members))
	for _, m := range members {
		ids = append(ids, m.Value)
	}
	types, err := resolveMembers(tx, ids)
	if err != nil {
		return false, err
	}
	args := make([]any, 0, 3*len(members))
	for _, m := range members {
		typ, ok := types[m.Value]
		if !ok {
			return false, storage.Invalid(fmt.Sprintf("member %q is neither a user nor a group", m.Value))
		}
		if m.Type != "" && !strings.EqualFold(m.Type, memberType(typ)) {
			return false, storage.Invalid(fmt.Sprintf("member %q is a %s, not a %s", m.Value, memberType(typ), m.Type))
		}
		if typ == "group" && m.Value == groupID {
			return false, storage.Invalid("a group cannot be a member of itself")
		}
		args = append(args, groupID, m.Value, typ)
	}
	added := false
	for start := 0; start < len(args); start += 3 * insertBatch {
		chunk := args[start:min(start+3*insertBatch, len(args))]
		rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(chunk)/3), ", ")
		res := tx.orm.Exec("INSERT INTO group_members (group_id, member_id, member_type) VALUES "+rows+" ON CONFLICT DO NOTHING", chunk...)
		if res.Error != nil {
			return false, translate(res.Error)
		}
		added = added || res.RowsAffected > 0
	}
	if added {
		return true, tx.touchMembers(groupID, ids...)
	}
	return false, nil
}

// resolveMembers returns the stored type ("user" or "group") of each id
// that exists.
func resolveMembers(tx *txn, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for start := 0; start < len(ids); start += insertBatch {
		chunk := ids[start:min(start+insertBatch, len(ids))]
		// Scanned by hand: gorm's reflection-based Scan was most of the
		// cost of checking a sync's 200,000 new memberships.
		rows, err := tx.orm.Raw(`SELECT id, 'user' AS typ FROM users WHERE id IN ? UNION ALL SELECT id, 'group' AS typ FROM groups WHERE id IN ?`,
			chunk, chunk).Rows()
		if err != nil {
			return nil, translate(err)
		}
		for rows.Next() {
			var id, typ string
			if err := rows.Scan(&id, &typ); err != nil {
				rows.Close()
				return nil, translate(err)
			}
			out[id] = typ
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, translate(err)
		}
	}
	return out, nil
}

// GetGroup returns one group.
func (s *Store) GetGroup(ctx context.Context, id string, withMembers bool) (storage.Group, error) {
	done, err := s.admit(ctx)
	if err != nil {
		return storage.Group{}, fmt.Errorf("sqlstore: get group: %w", err)
	}
	defer done()
	rows, err := s.query(ctx, "SELECT "+groupSelect+" FROM groups WHERE id = ?", id)
	if err != nil {
		return storage.Group{}, fmt.Errorf("sqlstore: get group: %w", err)
	}
	var sink groupSink
	for rows.Next() {
		if err := sink.scanGroup(rows, nil, nil, false); err != nil {
			rows.Close()
			return storage.Group{}, fmt.Errorf("sqlstore: get group: %w", translate(err))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return storage.Group{}, fmt.Errorf("sqlstore: get group: %w", translate(err))
	}
	if len(sink.list) == 0 {
		return storage.Group{}, fmt.Errorf("sqlstore: group %s: %w", id, storage.ErrNotFound)
	}
	if withMembers {
		if err := s.fillMembers(ctx, sink.list); err != nil {
			return storage.Group{}, fmt.Errorf("sqlstore: get group: %w", err)
		}
	}
	return sink.list[0], nil
}

const groupSelect = "groups.id, groups.owner, groups.created, groups.last_modified, groups.version, groups.doc"

// groupSink collects a page of groups.
type groupSink struct{ list []storage.Group }

func (g *groupSink) scan(rows *sql.Rows, seq *int64, key *any) error {
	return g.scanGroup(rows, seq, key, true)
}

// scanGroup reads one row of groupSelect, preceded by seq and the sort key
// when keyed.
func (g *groupSink) scanGroup(rows *sql.Rows, seq *int64, key *any, keyed bool) error {
	var grp storage.Group
	var created, modified, version int64
	var id, owner string
	var doc sql.RawBytes
	dest := []any{&id, &owner, &created, &modified, &version, &doc}
	if keyed {
		dest = append([]any{seq, key}, dest...)
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	if err := json.Unmarshal(doc, &grp); err != nil {
		return fmt.Errorf("decode group %s: %w", id, err)
	}
	grp.ID, grp.Owner = id, owner
	grp.Meta = storage.Meta{Created: fromMillis(created), LastModified: fromMillis(modified), Version: version}
	g.list = append(g.list, grp)
	return nil
}

func (g *groupSink) truncate(n int) { g.list = g.list[:n] }
func (g *groupSink) reverse()       { slices.Reverse(g.list) }

// fillMembers loads the direct members of groups.
func (s *Store) fillMembers(ctx context.Context, groups []storage.Group) error {
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	members, err := s.members(ctx, s.query, ids)
	if err != nil {
		return err
	}
	for i := range groups {
		groups[i].Members = members[groups[i].ID]
		if groups[i].Members == nil {
			groups[i].Members = []storage.Member{}
		}
	}
	return nil
}

// queryFunc runs a read: Store.query on the pool, or txQuery in a write.
type queryFunc func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

// txQuery returns a queryFunc on the transaction tx.
func txQuery(tx *txn) queryFunc {
	return func(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
		rows, err := tx.sql.QueryContext(context.WithoutCancel(ctx), tx.dialect.rebind(q), args...)
		return rows, translate(err)
	}
}

// memberQuery selects direct members with display names, ordered by
// member id, which the primary key (group_id, member_id) yields unsorted.
const memberQuery = `SELECT m.group_id, m.member_id, m.member_type, COALESCE(u.display, g.display, '')
	FROM group_members m
	LEFT JOIN users u ON m.member_type = 'user' AND u.id = m.member_id
	LEFT JOIN groups g ON m.member_type = 'group' AND g.id = m.member_id
	WHERE `

// members loads the direct members of the given groups, with display
// names, ordered by member id. One group (GetGroup) runs one prepared
// statement; a page of groups passes its ids as one JSON array, so the
// statement's text does not depend on how many there are.
func (s *Store) members(ctx context.Context, query queryFunc, groupIDs []string) (map[string][]storage.Member, error) {
	out := make(map[string][]storage.Member, len(groupIDs))
	var rows *sql.Rows
	var err error
	if len(groupIDs) == 1 {
		rows, err = query(ctx, memberQuery+"m.group_id = ? ORDER BY m.member_id", groupIDs[0])
	} else {
		ids, _ := json.Marshal(groupIDs)
		rows, err = query(ctx, memberQuery+s.dialect.inJSONArray("m.group_id")+" ORDER BY m.group_id, m.member_id", string(ids))
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return out, scanMemberRows(ctx, rows, out)
}

// UpdateGroup applies update and its membership edits in one transaction.
// Adding or removing members touches only their rows; the group's members
// are read only when loadMembers asks for them, and the group returned
// carries none (GetGroup reads them).
func (s *Store) UpdateGroup(ctx context.Context, id string, loadMembers bool, update func(*storage.Group) (storage.MemberChange, error)) (storage.Group, error) {
	var out storage.Group
	err := s.write(ctx, func(tx *txn) error {
		var cur storage.Group
		var row struct {
			ID, Owner, Doc                 string
			Created, LastModified, Version int64
		}
		res := tx.orm.Raw("SELECT id, owner, created, last_modified, version, doc FROM groups WHERE id = ?", id).Scan(&row)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("group %s: %w", id, storage.ErrNotFound)
		}
		if err := json.Unmarshal([]byte(row.Doc), &cur); err != nil {
			return fmt.Errorf("decode group %s: %w", id, err)
		}
		cur.ID, cur.Owner = row.ID, row.Owner
		cur.Meta = storage.Meta{Created: fromMillis(row.Created), LastModified: fromMillis(row.LastModified), Version: row.Version}
		if loadMembers {
			ms, err := s.members(ctx, txQuery(tx), []string{id})
			if err != nil {
				return err
			}
			cur.Members = ms[id]
			if cur.Members == nil {
				cur.Members = []storage.Member{}
			}
		}
		next := cur
		next.Members = append([]storage.Member(nil), cur.Members...)
		change, err := update(&next)
		if err != nil {
			return err
		}
		changed := !sameGroupAttrs(&next, &cur)
		if renamed(&cur, &next) {
			// A rename can move the group into or out of a scope named
			// by displayName.
			if err := tx.touchBelow(id); err != nil {
				return err
			}
		}
		if change.RemoveAll {
			if err := tx.touchMembers(id); err != nil {
				return err
			}
		}
		if change.RemoveAll {
			res := tx.orm.Exec("DELETE FROM group_members WHERE group_id = ?", id)
			if res.Error != nil {
				return translate(res.Error)
			}
			changed = changed || res.RowsAffected > 0
		}
		for start := 0; start < len(change.Remove); start += insertBatch {
			chunk := change.Remove[start:min(start+insertBatch, len(change.Remove))]
			if err := tx.touchMembers(id, chunk...); err != nil {
				return err
			}
			res := tx.orm.Exec("DELETE FROM group_members WHERE group_id = ? AND member_id IN ?", id, chunk)
			if res.Error != nil {
				return translate(res.Error)
			}
			changed = changed || res.RowsAffected > 0
		}
		added, err := addMembers(tx, id, change.Add)
		if err != nil {
			return err
		}
		next.ID, next.Owner, next.Meta, next.Members = cur.ID, cur.Owner, cur.Meta, nil
		out = next
		if !changed && !added {
			copyGroupAttrs(&out, &cur)
			return nil
		}
		doc, err := groupDoc(&next)
		if err != nil {
			return err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		out.Meta.LastModified, out.Meta.Version = now, cur.Meta.Version+1
		if err := tx.touchGroups(id); err != nil { // under its old name
			return err
		}
		if err := tx.exec(`UPDATE groups SET `+groupAttrSet+`, display = ?, last_modified = ?, version = version + 1, doc = ?
			WHERE id = ?`, append(groupAttrValues(&next), next.DisplayName, millis(now), doc, id)...); err != nil {
			return err
		}
		if renamed(&cur, &next) { // a rename can bring it into a scope
			return tx.touchGroups(id)
		}
		return nil
	})
	if err != nil {
		return storage.Group{}, wrapOp("update group", err)
	}
	return out, nil
}

// DeleteGroup removes a group, its member rows (by cascade) and its
// membership in other groups.
func (s *Store) DeleteGroup(ctx context.Context, id string, check storage.Check) error {
	err := s.write(ctx, func(tx *txn) error {
		var row struct {
			Owner                          string
			Created, LastModified, Version int64
		}
		res := tx.orm.Raw("SELECT owner, created, last_modified, version FROM groups WHERE id = ?", id).Scan(&row)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("group %s: %w", id, storage.ErrNotFound)
		}
		if check != nil {
			meta := storage.Meta{Created: fromMillis(row.Created), LastModified: fromMillis(row.LastModified), Version: row.Version}
			if err := check(row.Owner, meta); err != nil {
				return err
			}
		}
		if err := touchParentGroups(tx, id); err != nil {
			return err
		}
		if err := tx.touchMembers(id); err != nil { // before the rows go
			return err
		}
		if err := tx.touchGroups(id); err != nil {
			return err
		}
		if err := tx.orm.Exec("DELETE FROM group_members WHERE member_id = ?", id).Error; err != nil {
			return translate(err)
		}
		return tx.exec("DELETE FROM groups WHERE id = ?", id)
	})
	return wrapOp("delete group", err)
}

// ListGroups reads one page of groups, their members when asked, and
// unless the page tells it, the count of matches.
func (s *Store) ListGroups(ctx context.Context, q storage.Query, withMembers bool) (storage.GroupPage, error) {
	var view *groupView
	if q.View != "" {
		var err error
		if view, err = s.newGroupView(ctx, q); err != nil {
			return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
		}
	}
	done, err := s.admit(ctx)
	if err != nil {
		return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	defer done()
	p, err := s.pageOf(groupsTable, q)
	if err != nil {
		return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	p.columns = groupSelect
	if view != nil {
		if view.none() {
			out := storage.GroupPage{Groups: []storage.Group{}}
			if q.NoTotal {
				out.Total = -1
			}
			return out, nil
		}
		view.apply(&p)
	}
	out := storage.GroupPage{Groups: []storage.Group{}}
	if q.Limit > 0 {
		sink := &groupSink{list: []storage.Group{}}
		if out.Bounds, err = s.read(ctx, p, sink); err != nil {
			return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
		}
		out.Groups = sink.list
		if view != nil {
			if err := view.finishMeta(ctx, s.query, out.Groups); err != nil {
				return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
			}
		}
		if withMembers && len(out.Groups) > 0 {
			fill := s.fillMembers
			if view != nil {
				fill = func(ctx context.Context, gs []storage.Group) error { return view.fillMembers(ctx, s.query, gs) }
			}
			if err := fill(ctx, out.Groups); err != nil {
				return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
			}
		}
	}
	if out.Total, err = s.total(ctx, p, len(out.Groups), out.Bounds); err != nil {
		return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	return out, nil
}

// renamed reports whether a group's displayName changes, which can move
// it into or out of an app's scope named by displayName.
func renamed(cur, next *storage.Group) bool {
	return storage.FoldKey(cur.DisplayName) != storage.FoldKey(next.DisplayName)
}

// scanMemberRows adds rows of (group id, member id, type, display) to
// out by group, checking for cancellation every 1,024 rows: a large
// group's members are many rows.
func scanMemberRows(ctx context.Context, rows *sql.Rows, out map[string][]storage.Member) error {
	var gid, typ string
	for n := 0; rows.Next(); n++ {
		if n%1024 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var m storage.Member
		if err := rows.Scan(&gid, &m.Value, &typ, &m.Display); err != nil {
			return translate(err)
		}
		m.Type = memberType(typ)
		out[gid] = append(out[gid], m)
	}
	return translate(rows.Err())
}
