package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"

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
	err = s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO groups (id, owner, external_id, display_name, display, created, last_modified, version, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.Owner, exact(g.ExternalID), strings.ToLower(g.DisplayName), g.DisplayName,
			millis(now), millis(now), 1, doc).Error; err != nil {
			return translate(err)
		}
		_, err := addMembers(tx, g.ID, g.Members)
		return err
	})
	if err != nil {
		return storage.Group{}, wrapOp("create group", err)
	}
	return s.GetGroup(ctx, g.ID, true)
}

// addMembers inserts membership rows that are not there yet, after
// checking that every member exists with the stated type. It reports
// whether any row was added.
func addMembers(tx *gorm.DB, groupID string, members []storage.Member) (bool, error) {
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
	added := false
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
		res := tx.Exec(`INSERT INTO group_members (group_id, member_id, member_type) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			groupID, m.Value, typ)
		if res.Error != nil {
			return false, translate(res.Error)
		}
		added = added || res.RowsAffected > 0
	}
	return added, nil
}

// resolveMembers returns the stored type ("user" or "group") of each id
// that exists.
func resolveMembers(tx *gorm.DB, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for start := 0; start < len(ids); start += insertBatch {
		chunk := ids[start:min(start+insertBatch, len(ids))]
		var rows []struct {
			ID  string
			Typ string
		}
		err := tx.Raw(`SELECT id, 'user' AS typ FROM users WHERE id IN ? UNION ALL SELECT id, 'group' AS typ FROM groups WHERE id IN ?`,
			chunk, chunk).Scan(&rows).Error
		if err != nil {
			return nil, translate(err)
		}
		for _, r := range rows {
			out[r.ID] = r.Typ
		}
	}
	return out, nil
}

// GetGroup returns one group.
func (s *Store) GetGroup(ctx context.Context, id string, withMembers bool) (storage.Group, error) {
	page, err := s.groups(ctx, "groups.id = ?", []any{id}, "groups.seq", 1, 0, withMembers)
	if err != nil {
		return storage.Group{}, fmt.Errorf("sqlstore: get group: %w", err)
	}
	if len(page) == 0 {
		return storage.Group{}, fmt.Errorf("sqlstore: group %s: %w", id, storage.ErrNotFound)
	}
	return page[0], nil
}

const groupSelect = "groups.id, groups.owner, groups.created, groups.last_modified, groups.version, groups.doc"

// groups runs a page query and, when asked, loads members for the page in
// one more query.
func (s *Store) groups(ctx context.Context, where string, args []any, order string, limit, offset int, withMembers bool) ([]storage.Group, error) {
	rows, err := s.query(ctx, "SELECT "+groupSelect+" FROM groups WHERE "+where+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	out := []storage.Group{}
	index := map[string]int{}
	for rows.Next() {
		var g storage.Group
		var created, modified int64
		var doc string
		if err := rows.Scan(&g.ID, &g.Owner, &created, &modified, &g.Meta.Version, &doc); err != nil {
			rows.Close()
			return nil, translate(err)
		}
		id, owner, version := g.ID, g.Owner, g.Meta.Version
		if err := json.Unmarshal([]byte(doc), &g); err != nil {
			rows.Close()
			return nil, fmt.Errorf("decode group %s: %w", id, err)
		}
		g.ID, g.Owner = id, owner
		g.Meta = storage.Meta{Created: fromMillis(created), LastModified: fromMillis(modified), Version: version}
		index[g.ID] = len(out)
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if !withMembers || len(out) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(out))
	for _, g := range out {
		ids = append(ids, g.ID)
		out[index[g.ID]].Members = []storage.Member{}
	}
	members, err := s.members(ctx, s.sqlDBQuerier(), ids)
	if err != nil {
		return nil, err
	}
	for gid, ms := range members {
		out[index[gid]].Members = ms
	}
	return out, nil
}

// querier is what members needs: either the pool or a transaction.
type querier interface {
	raw(ctx context.Context, q string, args ...any) ([]memberRow, error)
}

type memberRow struct {
	GroupID, MemberID, MemberType, Display string
}

type poolQuerier struct{ s *Store }

func (p poolQuerier) raw(ctx context.Context, q string, args ...any) ([]memberRow, error) {
	var out []memberRow
	err := p.s.db.WithContext(ctx).Raw(q, args...).Scan(&out).Error
	return out, translate(err)
}

type txQuerier struct{ tx *gorm.DB }

func (t txQuerier) raw(_ context.Context, q string, args ...any) ([]memberRow, error) {
	var out []memberRow
	err := t.tx.Raw(q, args...).Scan(&out).Error
	return out, translate(err)
}

func (s *Store) sqlDBQuerier() querier { return poolQuerier{s} }

// members loads the direct members of the given groups, with display
// names, ordered by display then id.
func (s *Store) members(ctx context.Context, q querier, groupIDs []string) (map[string][]storage.Member, error) {
	out := make(map[string][]storage.Member, len(groupIDs))
	for start := 0; start < len(groupIDs); start += insertBatch {
		chunk := groupIDs[start:min(start+insertBatch, len(groupIDs))]
		rows, err := q.raw(ctx, `SELECT m.group_id AS group_id, m.member_id AS member_id, m.member_type AS member_type,
				COALESCE(u.display, g.display, '') AS display
			FROM group_members m
			LEFT JOIN users u ON m.member_type = 'user' AND u.id = m.member_id
			LEFT JOIN groups g ON m.member_type = 'group' AND g.id = m.member_id
			WHERE m.group_id IN ?`, chunk)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.GroupID] = append(out[r.GroupID], storage.Member{Value: r.MemberID, Type: memberType(r.MemberType), Display: r.Display})
		}
	}
	for _, ms := range out {
		sort.Slice(ms, func(i, j int) bool { return ms[i].Value < ms[j].Value })
	}
	return out, nil
}

// UpdateGroup applies update and its membership edits in one transaction.
func (s *Store) UpdateGroup(ctx context.Context, id string, loadMembers bool, update func(*storage.Group) (storage.MemberChange, error)) (storage.Group, error) {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var cur storage.Group
		var row struct {
			ID, Owner, Doc                 string
			Created, LastModified, Version int64
		}
		res := tx.Raw("SELECT id, owner, created, last_modified, version, doc FROM groups WHERE id = ?", id).Scan(&row)
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
			ms, err := s.members(ctx, txQuerier{tx}, []string{id})
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
		changed := next.DisplayName != cur.DisplayName || next.ExternalID != cur.ExternalID
		if change.RemoveAll {
			res := tx.Exec("DELETE FROM group_members WHERE group_id = ?", id)
			if res.Error != nil {
				return translate(res.Error)
			}
			changed = changed || res.RowsAffected > 0
		}
		for start := 0; start < len(change.Remove); start += insertBatch {
			chunk := change.Remove[start:min(start+insertBatch, len(change.Remove))]
			res := tx.Exec("DELETE FROM group_members WHERE group_id = ? AND member_id IN ?", id, chunk)
			if res.Error != nil {
				return translate(res.Error)
			}
			changed = changed || res.RowsAffected > 0
		}
		added, err := addMembers(tx, id, change.Add)
		if err != nil {
			return err
		}
		if !changed && !added {
			return nil
		}
		next.ID, next.Owner = cur.ID, cur.Owner
		doc, err := groupDoc(&next)
		if err != nil {
			return err
		}
		return translate(tx.Exec(`UPDATE groups SET external_id = ?, display_name = ?, display = ?, last_modified = ?, version = version + 1, doc = ?
			WHERE id = ?`, exact(next.ExternalID), strings.ToLower(next.DisplayName), next.DisplayName,
			millis(s.now().UTC()), doc, id).Error)
	})
	if err != nil {
		return storage.Group{}, wrapOp("update group", err)
	}
	return s.GetGroup(ctx, id, true)
}

// DeleteGroup removes a group, its member rows (by cascade) and its
// membership in other groups.
func (s *Store) DeleteGroup(ctx context.Context, id string, check storage.Check) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var row struct {
			Owner                          string
			Created, LastModified, Version int64
		}
		res := tx.Raw("SELECT owner, created, last_modified, version FROM groups WHERE id = ?", id).Scan(&row)
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
		if err := s.touchParentGroups(tx, id); err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM group_members WHERE member_id = ?", id).Error; err != nil {
			return translate(err)
		}
		return translate(tx.Exec("DELETE FROM groups WHERE id = ?", id).Error)
	})
	return wrapOp("delete group", err)
}

// ListGroups returns a page of groups.
func (s *Store) ListGroups(ctx context.Context, q storage.Query, withMembers bool) (storage.GroupPage, error) {
	where, args, err := s.where(groupsTable, q.Filter)
	if err != nil {
		return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	order, err := orderBy(groupsTable, q)
	if err != nil {
		return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	total, err := s.count(ctx, "groups", where, args)
	if err != nil {
		return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	page := storage.GroupPage{Total: total, Groups: []storage.Group{}}
	if q.Limit <= 0 || q.Offset >= total {
		return page, nil
	}
	page.Groups, err = s.groups(ctx, where, args, order, q.Limit, max(q.Offset, 0), withMembers)
	if err != nil {
		return storage.GroupPage{}, fmt.Errorf("sqlstore: list groups: %w", err)
	}
	return page, nil
}
