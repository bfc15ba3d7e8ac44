package sqlstore

import (
	"slices"
)

// The maintained view membership: app_users is kept true by every write,
// in the write's own transaction. A write records the users it may have
// moved (apptouch.go); before COMMIT, refreshViews (apprefresh.go)
// re-evaluates every app's predicate for those users only: users who now
// match and had no row, or had left, join; users in view who no longer
// match leave. Creating or changing an app recomputes it for every user.

// refreshChunk is how many user ids one maintenance statement carries.
const refreshChunk = 1000

// joinStatement inserts or revives the rows of every user who matches p.
func joinStatement(p *appPred) string {
	return p.with + `INSERT INTO app_users (app_id, user_id, joined, left_at, changed, bumps)
		SELECT ?, users.id, ?, NULL, ?, 1 FROM users WHERE ` + p.cond + `
		ON CONFLICT (user_id, app_id) DO UPDATE SET joined = excluded.joined, left_at = NULL,
			changed = excluded.changed, bumps = app_users.bumps + 1
		WHERE app_users.left_at IS NOT NULL`
}

// leaveStatement marks as left the rows in view of users who no longer
// match p.
func leaveStatement(p *appPred) string {
	return p.with + `UPDATE app_users SET left_at = ?, changed = ?, bumps = bumps + 1
		WHERE app_id = ? AND left_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = app_users.user_id AND ` + p.cond + `)`
}

// recomputeApp re-evaluates p for every user, set-based, and forgets the
// rows of users whose leave grace is over.
func recomputeApp(tx *txn, p *appPred) error {
	now := millis(tx.now())
	args := append(append(append([]any{}, p.withArgs...), p.id, now, now), p.condArgs...)
	if err := tx.exec(joinStatement(p), args...); err != nil {
		return err
	}
	args = append(append(append([]any{}, p.withArgs...), now, now, p.id), p.condArgs...)
	if err := tx.exec(leaveStatement(p), args...); err != nil {
		return err
	}
	return tx.exec("DELETE FROM app_users WHERE app_id = ? AND left_at IS NOT NULL AND left_at <= ?",
		p.id, millis(tx.now())-p.graceMillis)
}

// touchSet is what a write transaction may have moved, by kind of change.
type touchSet struct {
	created map[string]struct{} // new users: every app
	changed map[string]struct{} // updated users: apps whose predicate reads attributes
	moved   map[string]struct{} // users whose group membership changed: apps with scope groups
	// before[app][user]: whether the whole view app held the user before
	// this transaction changed it (touchBefore, appwhole_refresh.go).
	before map[string]map[string]bool
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

// ids returns every touched user, sorted (so statements touch rows in
// index order).
func (t *touchSet) ids() []string {
	seen := make(map[string]struct{}, len(t.created)+len(t.changed)+len(t.moved))
	for _, m := range []map[string]struct{}{t.created, t.changed, t.moved} {
		for id := range m {
			seen[id] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// split returns, sorted, the users created in this transaction and
// touched no other way, and the others.
func (t *touchSet) split() (created, rest []string) {
	for _, id := range t.ids() {
		_, changed := t.changed[id]
		_, moved := t.moved[id]
		if _, c := t.created[id]; c && !changed && !moved {
			created = append(created, id)
		} else {
			rest = append(rest, id)
		}
	}
	return created, rest
}

// relevant returns the apps whose answer for some user of chunk (none of
// them created-only) can have changed: every app for a created user, apps
// whose predicate reads attributes for a changed one, apps with scope
// groups for one whose memberships moved. Apps that push are evaluated
// for changed users too: a change in view is what they wait for
// (apppush.go).
func (t *touchSet) relevant(preds []*appPred, chunk []string) []*appPred {
	var created, changed, moved bool
	for _, id := range chunk {
		_, c := t.created[id]
		_, ch := t.changed[id]
		_, m := t.moved[id]
		created, changed, moved = created || c, changed || ch, moved || m
	}
	if created {
		return preds
	}
	var out []*appPred
	for _, p := range preds {
		if (changed && (p.attrDep || p.push)) || (moved && p.hasGroups) {
			out = append(out, p)
		}
	}
	return out
}
