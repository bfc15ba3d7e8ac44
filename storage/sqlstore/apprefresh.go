package sqlstore

import (
	"strings"
)

// refreshViews brings every app's membership up to date with the users
// this transaction touched. It runs just before COMMIT.
//
// The cost must not grow with the number of apps statement by statement,
// so all apps are evaluated together, per chunk of touched users: one
// SELECT evaluates every app's attribute conditions (one column per app),
// one reads the groups each user belongs to directly or through nesting
// (a user is in a scope's closure exactly when one of those groups is a
// scope group, so no app's closure is computed), one reads the users'
// current rows, and only the differences are written. A write with no apps
// costs one SELECT of the (empty) apps table.
func refreshViews(tx *txn) error {
	t := &tx.touch
	if t.empty() {
		return nil
	}
	preds, err := tx.appPreds()
	if err != nil || len(preds) == 0 {
		return err
	}
	created, rest := t.split()
	// Users created in this transaction and touched no other way belong
	// to no group and have no rows yet: only apps without scope groups
	// can hold them, and nothing needs reading back (insertFresh). Whole
	// views hold them without a row.
	wholes, rowPreds := wholePreds(preds)
	var flat []*appPred
	for _, p := range rowPreds {
		if !p.hasGroups {
			flat = append(flat, p)
		}
	}
	if err := chunks(created, refreshChunk, func(chunk []string) error {
		if len(flat) > 0 {
			if err := insertFresh(tx, flat, chunk); err != nil {
				return err
			}
		}
		return markFreshWhole(tx, wholes, chunk)
	}); err != nil {
		return err
	}
	// A user is evaluated for the apps its changes can move it in or out
	// of; the others would only give the answer they already have.
	evals := map[string]evaluated{}
	evalOf := func(sub []*appPred) evaluated {
		key := predsKey(sub)
		eval, ok := evals[key]
		if !ok {
			eval = evaluation(tx.dialect, sub)
			evals[key] = eval
		}
		return eval
	}
	return chunks(rest, refreshChunk, func(chunk []string) error {
		whole, sub := wholePreds(t.relevant(preds, chunk))
		if len(whole) > 0 {
			if err := refreshWholeChunk(tx, whole, evalOf(whole), chunk); err != nil {
				return err
			}
		}
		if len(sub) == 0 {
			return nil
		}
		return refreshChunkOf(tx, sub, evalOf(sub), chunk)
	})
}

// predsKey names a subset of apps, for reusing its folded evaluation.
func predsKey(preds []*appPred) string {
	var sb strings.Builder
	for _, p := range preds {
		sb.WriteString(p.id)
		sb.WriteByte(',')
	}
	return sb.String()
}

// evaluated is the folded attribute query of a set of apps.
type evaluated struct {
	sql  string
	args []any // in the SELECT list, before the touched ids
	// column[i] is the result column of app i's conditions, or -1 when it
	// has none.
	column []int
	// groups: some app's scope names groups.
	groups bool
}

// evaluation builds the query that returns, for each touched user that
// exists, its id and one 0/1 column per app with attribute conditions.
func evaluation(d dialect, preds []*appPred) evaluated {
	e := evaluated{column: make([]int, len(preds))}
	cols := []string{"users.id"}
	for i, p := range preds {
		e.groups = e.groups || p.hasGroups
		if p.attrCond == "" {
			e.column[i] = -1
			continue
		}
		e.column[i] = len(cols)
		cols = append(cols, "CASE WHEN "+p.attrCond+" THEN 1 ELSE 0 END")
		e.args = append(e.args, p.attrArgs...)
	}
	// CROSS JOIN keeps SQLite from starting at an index a filter names
	// (a department of thousands) instead of at the few touched ids.
	e.sql = "SELECT " + strings.Join(cols, ", ") + " FROM " + touchedTable(d) +
		" CROSS JOIN users WHERE users.id = touched.id"
	return e
}

// touchedTable is a derived table touched(id) of the ids in a JSON array
// argument.
func touchedTable(d dialect) string {
	if d.name == postgresDialect.name {
		return "(SELECT json_array_elements_text(CAST(? AS json)) AS id) touched"
	}
	return "(SELECT value AS id FROM json_each(?)) touched"
}

// userGroups returns, for the users in a JSON array argument, the id and
// folded displayName of every group each belongs to, directly or through
// nesting (cycles end by UNION).
func userGroups(tx *txn, arg string) (map[string][][2]string, error) {
	rows, err := tx.queryPrepared(`WITH RECURSIVE up(user_id, group_id) AS (
			SELECT member_id, group_id FROM group_members
			WHERE member_type = 'user' AND `+tx.dialect.inJSONArray("member_id")+`
			UNION
			SELECT up.user_id, m.group_id FROM up JOIN group_members m
			ON m.member_id = up.group_id AND m.member_type = 'group')
		SELECT up.user_id, g.id, g.display_name FROM up JOIN groups g ON g.id = up.group_id`, arg)
	if err != nil {
		return nil, err
	}
	out := map[string][][2]string{}
	err = scanRows(rows, func() error {
		var user, id, name string
		if err := rows.Scan(&user, &id, &name); err != nil {
			return translate(err)
		}
		out[user] = append(out[user], [2]string{id, name})
		return nil
	})
	return out, err
}

// inScope reports whether one of groups (id, folded name) is a scope
// group of p.
func inScope(p *appPred, groups [][2]string) bool {
	for _, g := range groups {
		if p.scopeIDs[g[0]] || p.scopeNames[g[1]] {
			return true
		}
	}
	return false
}

// refreshChunkOf evaluates preds for one chunk of users and writes the
// joins and leaves that follow.
func refreshChunkOf(tx *txn, preds []*appPred, eval evaluated, chunk []string) error {
	arg := jsonArg(chunk)
	var groups map[string][][2]string
	if eval.groups {
		var err error
		if groups, err = userGroups(tx, arg); err != nil {
			return err
		}
	}
	rows, err := tx.queryPrepared(eval.sql, append(append([]any{}, eval.args...), arg)...)
	if err != nil {
		return err
	}
	matches := map[string][]bool{}
	// flags[c] receives result column c (column 0 is the id).
	var id string
	flags := make([]int64, 1+countColumns(eval.column))
	dest := []any{&id}
	for c := 1; c < len(flags); c++ {
		dest = append(dest, &flags[c])
	}
	if err := scanRows(rows, func() error {
		if err := rows.Scan(dest...); err != nil {
			return translate(err)
		}
		m := make([]bool, len(preds))
		for i, p := range preds {
			m[i] = (eval.column[i] < 0 || flags[eval.column[i]] == 1) &&
				(!p.hasGroups || inScope(p, groups[id]))
		}
		matches[id] = m
		return nil
	}); err != nil {
		return err
	}
	appIndex := make(map[string]int, len(preds))
	for i, p := range preds {
		appIndex[p.id] = i
	}
	// hasRow[app][user] exists when the user has a row for the app, and
	// is true while the user is in view.
	hasRow := make([]map[string]bool, len(preds))
	for i := range hasRow {
		hasRow[i] = map[string]bool{}
	}
	if err := currentRows(tx, chunk, arg, appIndex, hasRow); err != nil {
		return err
	}
	joins := newJoinSet(preds)
	leaves := make([][]string, len(preds))
	now := millis(tx.now())
	for _, user := range chunk {
		m, exists := matches[user]
		if !exists {
			continue // deleted in this transaction: its rows went with it
		}
		_, changed := tx.touch.changed[user]
		for i, p := range preds {
			in, row := hasRow[i][user]
			switch {
			case m[i] && !(row && in):
				joins.add(i)
				tx.markPush(p)
			case !m[i] && row && in:
				leaves[i] = append(leaves[i], user)
				tx.markPush(p)
			case changed && m[i]:
				tx.markPush(p) // changed in view
			}
		}
		joins.next(user)
	}
	if err := joins.write(tx, now); err != nil {
		return err
	}
	for i, users := range leaves {
		if len(users) == 0 {
			continue
		}
		if err := tx.execPrepared("UPDATE app_users SET left_at = ?, changed = ?, bumps = bumps + 1 WHERE app_id = ? AND left_at IS NULL AND "+
			tx.dialect.inJSONArray("user_id"), now, now, preds[i].id, jsonArg(users)); err != nil {
			return err
		}
	}
	return nil
}

func countColumns(column []int) int {
	n := 0
	for _, c := range column {
		if c >= 0 {
			n++
		}
	}
	return n
}

// currentRows records in hasRow[app][user] whether each of the users
// (existing, and as a JSON array arg) has a row for the app, and whether
// it is in view.
func currentRows(tx *txn, existing []string, arg string, appIndex map[string]int, hasRow []map[string]bool) error {
	if len(existing) == 0 {
		return nil
	}
	rows, err := tx.queryPrepared("SELECT app_id, user_id, left_at IS NULL FROM app_users WHERE "+
		tx.dialect.inJSONArray("user_id"), arg)
	if err != nil {
		return err
	}
	return scanRows(rows, func() error {
		var app, user string
		var in bool
		if err := rows.Scan(&app, &user, &in); err != nil {
			return translate(err)
		}
		if i, ok := appIndex[app]; ok {
			hasRow[i][user] = in
		}
		return nil
	})
}
