package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// groupView is what a group list of an app's view reads from. Which
// groups are in it follows the app's groups mode:
//   - scope: the scope groups (named by id or displayName, resolved at
//     every read, so a group created later joins) and every group nested
//     in them; with no scope groups the scope is every user, and so every
//     group is in view;
//   - all: every group with a user in view (not departed) as a direct
//     member or as a member of a group nested in it;
//   - none: no group.
//
// A group's meta as the app sees it covers its user members in the view
// and within leave grace (direct ones, or with flattening every one
// reachable through nesting): lastModified is the latest of the group's
// own and of those members' joins and leaves, and the version adds
// bumps+1 for each, so it moves when one joins or leaves and when one
// leaves the grace window. The last moves it down: in rare histories the
// version can then repeat one the group had before with other members
// (an ETag only as strong as the brief's formula). Nested groups entering
// or leaving the view do not move it (they do not change the group's own
// record).
type groupView struct {
	app    storage.App
	pred   *appPred
	d      dialect
	cutoff int64
	// metaInSQL: the page query computed the meta (see from).
	metaInSQL bool
}

func (s *Store) newGroupView(ctx context.Context, q storage.Query) (*groupView, error) {
	if namesMembers(q.Filter) {
		return nil, storage.Invalid("an application's groups cannot be filtered by members")
	}
	a, p, err := s.cachedApp(ctx, q.View)
	if err != nil {
		return nil, err
	}
	return &groupView{app: a, pred: p, d: s.dialect, cutoff: graceCutoff(s.now(), a)}, nil
}

// none reports whether the view holds no group at all.
func (v *groupView) none() bool { return v.app.Groups == storage.GroupsNone }

// sqlText is a statement fragment and its arguments, built in text order.
type sqlText struct {
	sb   strings.Builder
	args []any
}

func (t *sqlText) add(s string, args ...any) *sqlText {
	t.sb.WriteString(s)
	t.args = append(t.args, args...)
	return t
}

// inView writes the condition that the group id idExpr is in the view.
// Recursive UNION (not UNION ALL) ends on cycles of nesting.
func (v *groupView) inView(t *sqlText, idExpr string) {
	switch {
	case v.app.Groups == storage.GroupsNone:
		t.add("1=0")
	case v.app.Groups == storage.GroupsAll:
		t.add(idExpr + ` IN (WITH RECURSIVE ag(id) AS (SELECT m.group_id FROM `)
		viewRows(t, v.d, v.pred)
		t.add(` JOIN group_members m ON m.member_id = av.user_id
			WHERE av.app_id = ? AND av.left_at IS NULL AND m.member_type = 'user'
			UNION SELECT m.group_id FROM group_members m JOIN ag ON m.member_id = ag.id WHERE m.member_type = 'group')
			SELECT id FROM ag)`, v.app.ID)
	case len(v.app.Scope.Groups) == 0:
		t.add("1=1") // no scope groups: the scope is every user, the view every group
	default:
		ids, names := scopeGroupArgs(v.app.Scope.Groups)
		t.add(idExpr+` IN (WITH RECURSIVE sc(id) AS (
			SELECT id FROM groups WHERE `+v.d.inJSONArray("id")+` OR `+v.d.inJSONArray("display_name")+`
			UNION SELECT m.member_id FROM group_members m JOIN sc ON m.group_id = sc.id WHERE m.member_type = 'group')
			SELECT id FROM sc)`, ids, names)
	}
}

// scopeGroupArgs are the scope groups as JSON arrays of ids and of
// displayNames as the groups table stores them (folded).
func scopeGroupArgs(groups []string) (ids, names string) {
	folded := make([]string, len(groups))
	for i, g := range groups {
		folded[i] = foldKey(g)
	}
	a, _ := json.Marshal(groups)
	b, _ := json.Marshal(folded)
	return string(a), string(b)
}

// memberRows writes the FROM ... WHERE of the app_users rows (alias av)
// that make up group g's meta as the app sees it.
func (v *groupView) memberRows(t *sqlText) {
	if v.app.FlattenGroups {
		t.add(" FROM ")
		viewRows(t, v.d, v.pred)
		t.add(` WHERE av.app_id = ? AND `+inGrace+` AND av.user_id IN (
			WITH RECURSIVE r(id) AS (SELECT g.id
				UNION SELECT m.member_id FROM group_members m JOIN r ON m.group_id = r.id WHERE m.member_type = 'group')
			SELECT m.member_id FROM group_members m JOIN r ON m.group_id = r.id WHERE m.member_type = 'user')`,
			v.app.ID, v.cutoff)
		return
	}
	// The group's member rows drive the join (CROSS JOIN fixes SQLite's
	// order, as in finishMeta), not the app's every user.
	t.add(" FROM group_members m CROSS JOIN ")
	viewRows(t, v.d, v.pred)
	t.add(` WHERE m.group_id = g.id AND m.member_type = 'user' AND av.app_id = ? AND av.user_id = m.member_id AND `+inGrace, v.app.ID, v.cutoff)
}

// from builds the derived groups table of the view. With metaInSQL the
// table computes each group's meta as the app sees it, for a filter or
// sort on lastModified; otherwise it carries the group's own, and
// finishMeta adjusts the page's groups afterwards in one pass.
func (v *groupView) from(metaInSQL bool) (string, []any) {
	override := map[string]string{}
	var lm, ver sqlText
	if metaInSQL {
		lm.add(v.d.greatest + "(g.last_modified, COALESCE((SELECT MAX(av.changed)")
		v.memberRows(&lm)
		lm.add("), 0)) AS last_modified")
		ver.add("g.version + COALESCE((SELECT CAST(SUM(av.bumps + 1) AS BIGINT)")
		v.memberRows(&ver)
		ver.add("), 0) AS version")
		override["last_modified"], override["version"] = lm.sb.String(), ver.sb.String()
	}
	cols := viewColumns(groupsTable, []string{"seq", "id", "owner", "display", "created", "last_modified", "version", "doc"}, "g", override)
	// The select list names last_modified before version (base order).
	var t sqlText
	t.add("(SELECT "+strings.Join(cols, ", ")+" FROM groups g WHERE ", append(lm.args, ver.args...)...)
	v.inView(&t, "g.id")
	t.add(") groups")
	return t.sb.String(), t.args
}

// apply makes p read the view.
func (v *groupView) apply(p *page) {
	v.metaInSQL = p.q.SortBy == storage.AttrLastModified || namesAttr(p.q.Filter, storage.AttrLastModified)
	p.table, p.tableArgs = v.from(v.metaInSQL)
}

// members loads the members of the given groups as the app sees them:
// users in view (not departed) and groups in view; with flattening, every
// user in view reachable through nesting and no groups. Ordered by member
// id, as Store.members orders them.
func (v *groupView) members(ctx context.Context, query queryFunc, groupIDs []string) (map[string][]storage.Member, error) {
	ids, _ := json.Marshal(groupIDs)
	var t sqlText
	if v.app.FlattenGroups {
		t.add(`WITH RECURSIVE r(root, id) AS (SELECT id, id FROM groups WHERE `+v.d.inJSONArray("id")+`
				UNION SELECT r.root, m.member_id FROM group_members m JOIN r ON m.group_id = r.id WHERE m.member_type = 'group')
			SELECT DISTINCT r.root, u.id, 'user', u.display FROM r
			JOIN group_members m ON m.group_id = r.id
			JOIN `, string(ids))
		viewRows(&t, v.d, v.pred)
		t.add(` ON av.user_id = m.member_id
			JOIN users u ON u.id = m.member_id
			WHERE m.member_type = 'user' AND av.app_id = ? AND av.left_at IS NULL
			ORDER BY r.root, u.id`, v.app.ID)
	} else {
		t.add(memberQuery+v.d.inJSONArray("m.group_id")+` AND (m.member_type = 'user' AND EXISTS (
			SELECT 1 FROM `, string(ids))
		viewRows(&t, v.d, v.pred)
		t.add(` WHERE av.app_id = ? AND av.user_id = m.member_id AND av.left_at IS NULL)
			OR m.member_type = 'group' AND `, v.app.ID)
		v.inView(&t, "m.member_id")
		t.add(") ORDER BY m.group_id, m.member_id")
	}
	rows, err := query(ctx, t.sb.String(), t.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string][]storage.Member, len(groupIDs))
	return out, scanMemberRows(ctx, rows, out)
}

// fillMembers sets the members of a page of the view's groups.
func (v *groupView) fillMembers(ctx context.Context, query queryFunc, groups []storage.Group) error {
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	members, err := v.members(ctx, query, ids)
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

// namesMembers reports whether filter f tests groups' members. A view
// refuses such filters: they would run on the stored membership, so an
// app could learn whether users outside its view belong to its groups.
func namesMembers(f storage.Expr) bool { return namesAttr(f, storage.AttrMembers) }

// namesAttr reports whether filter f tests attr (or a sub-attribute).
func namesAttr(f storage.Expr, attr storage.Attr) bool {
	in := func(x storage.Expr) bool { return namesAttr(x, attr) }
	switch e := f.(type) {
	case storage.And:
		return in(e.Left) || in(e.Right)
	case storage.Or:
		return in(e.Left) || in(e.Right)
	case storage.Not:
		return in(e.X)
	case storage.AllOf:
		return slices.ContainsFunc(e.Xs, in)
	case storage.AnyOf:
		return slices.ContainsFunc(e.Xs, in)
	case storage.ValuePath:
		return e.Attr == attr
	case storage.Compare:
		return e.Attr == attr || strings.HasPrefix(string(e.Attr), string(attr)+".")
	case storage.In:
		return e.Attr == attr
	}
	return false
}
