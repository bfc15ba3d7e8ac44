package sqlstore

import (
	"slices"
)

// The maintained view membership: app_users is kept true by every write,
// in the write's own transaction. A write records the users it may have
// moved (touch.go); before COMMIT, refreshViews re-evaluates each app's
// predicate for those users only: users who now match and had no row, or
// had left, join; users in view who no longer match leave.

// refreshChunk is how many user ids one maintenance statement carries.
const refreshChunk = 1000

// joinStatement inserts or revives the rows of users who match p; with
// restricted, only of the users in a JSON array argument.
func joinStatement(d dialect, p *appPred, restricted bool) string {
	where := p.cond
	if restricted {
		where = d.inJSONArray("users.id") + " AND " + where
	}
	return p.with + `INSERT INTO app_users (app_id, user_id, joined, left_at, changed, bumps)
		SELECT ?, users.id, ?, NULL, ?, 1 FROM users WHERE ` + where + `
		ON CONFLICT (app_id, user_id) DO UPDATE SET joined = excluded.joined, left_at = NULL,
			changed = excluded.changed, bumps = app_users.bumps + 1
		WHERE app_users.left_at IS NOT NULL`
}

// leaveStatement marks as left the rows in view of users who no longer
// match p; with restricted, only of the users in a JSON array argument.
func leaveStatement(d dialect, p *appPred, restricted bool) string {
	q := p.with + `UPDATE app_users SET left_at = ?, changed = ?, bumps = bumps + 1
		WHERE app_id = ? AND left_at IS NULL`
	if restricted {
		q += " AND " + d.inJSONArray("user_id")
	}
	return q + ` AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = app_users.user_id AND ` + p.cond + `)`
}

// refreshUsers re-evaluates p for the given users (nil: every user).
func refreshUsers(tx *txn, p *appPred, ids []string) error {
	now := millis(tx.now())
	run := func(restricted bool, arg string) error {
		args := append([]any{}, p.withArgs...)
		args = append(args, p.id, now, now)
		if restricted {
			args = append(args, arg)
		}
		args = append(args, p.condArgs...)
		if err := tx.exec(joinStatement(tx.dialect, p, restricted), args...); err != nil {
			return err
		}
		args = append(append([]any{}, p.withArgs...), now, now, p.id)
		if restricted {
			args = append(args, arg)
		}
		args = append(args, p.condArgs...)
		return tx.exec(leaveStatement(tx.dialect, p, restricted), args...)
	}
	if ids == nil {
		return run(false, "")
	}
	return chunks(ids, refreshChunk, func(chunk []string) error {
		return run(true, jsonArg(chunk))
	})
}

// recomputeApp re-evaluates p for every user, and forgets the rows of
// users whose leave grace is over.
func recomputeApp(tx *txn, p *appPred) error {
	if err := refreshUsers(tx, p, nil); err != nil {
		return err
	}
	return tx.exec("DELETE FROM app_users WHERE app_id = ? AND left_at IS NOT NULL AND left_at <= ?",
		p.id, millis(tx.now())-p.graceMillis)
}

// refreshViews brings every app's membership up to date with the users
// this transaction touched. It runs just before COMMIT.
func refreshViews(tx *txn) error {
	t := &tx.touch
	if t.empty() {
		return nil
	}
	preds, err := tx.appPreds()
	if err != nil || len(preds) == 0 {
		return err
	}
	// Apps that care about the same kinds of change share one id list.
	lists := map[[2]bool][]string{}
	for _, p := range preds {
		key := [2]bool{p.attrDep, p.hasGroups}
		ids, ok := lists[key]
		if !ok {
			ids = t.ids(p.attrDep, p.hasGroups)
			lists[key] = ids
		}
		if len(ids) == 0 {
			continue
		}
		if err := refreshUsers(tx, p, ids); err != nil {
			return err
		}
	}
	return nil
}

// touchSet is what a write transaction may have moved, by kind of change.
type touchSet struct {
	created map[string]struct{} // new users: every app
	changed map[string]struct{} // updated users: apps whose predicate reads attributes
	moved   map[string]struct{} // users whose group membership changed: apps with scope groups
}

func (t *touchSet) empty() bool {
	return len(t.created) == 0 && len(t.changed) == 0 && len(t.moved) == 0
}

func addIDs(m *map[string]struct{}, ids []string) {
	if len(ids) == 0 {
		return
	}
	if *m == nil {
		*m = make(map[string]struct{}, len(ids))
	}
	for _, id := range ids {
		(*m)[id] = struct{}{}
	}
}

// ids returns the users an app with the given dependencies must
// re-evaluate, sorted (so statements touch rows in index order).
func (t *touchSet) ids(attrDep, hasGroups bool) []string {
	seen := make(map[string]struct{}, len(t.created))
	add := func(m map[string]struct{}) {
		for id := range m {
			seen[id] = struct{}{}
		}
	}
	add(t.created)
	if attrDep {
		add(t.changed)
	}
	if hasGroups {
		add(t.moved)
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
