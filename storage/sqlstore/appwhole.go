package sqlstore

import (
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// A whole view is the view of an app whose scope names no groups and no
// filter: every user of its sources (active ones only without
// includeInactive). Such views are the large ones (a whole source is
// every user), so they keep no membership row per user: a user is in
// view when the predicate over the users table says so (apppred.go's
// cond), and app_users holds rows only where the predicate cannot say
// it: departures within the leave grace, and users who left and came
// back (whose bumps must keep counting, so that the ETag never repeats).
// A user in view without a row joined when the view began (the app
// created or its scope changed) or at its creation when later, changed
// then or when the view's shape last changed, and has the view's epoch
// as bumps; epoch starts above every bump a row of the app had, so a
// version the app saw is never seen again.
//
// The maintenance (appwholerefresh.go) cannot read a user's membership
// before a write from a row, so the writes that may change what the
// predicate reads (owner, active) record it first (touchBefore).

// viewState is the stored state of an app's view (apps.view_joined,
// view_changed and view_epoch, migration 14). whole: the view holds its
// predicate's users without rows; joined and changed (ms) and epoch are
// then as above.
type viewState struct {
	whole           bool
	joined, changed int64
	epoch           int64
}

// wholeScope reports whether a's view can be whole: no scope groups and
// no filter.
func wholeScope(a *storage.App) bool {
	return len(a.Scope.Groups) == 0 && a.Scope.FilterExpr == nil
}

// wholeViews reports whether the schema has migration 14's view state; a
// store held at an older schema (tests of old databases) keeps a row per
// user and app.
func (s *Store) wholeViews() bool { return s.schema == 0 || s.schema >= appViewsVersion }

// wholeUsersSQL is the derived users table of a whole view (compare
// usersViewSQL): every user, with the app's row when there is one; a
// user without a row is in view when the predicate holds, one with a row
// as the row says; with departed, deleted users within their grace too.
// Its arguments are wholeUsersArgs's (and departedArm's).
func wholeUsersSQL(d dialect, p *appPred, departed bool) string {
	override := map[string]string{
		"active":        "CASE WHEN av.left_at IS NULL THEN users.active ELSE FALSE END AS active",
		"last_modified": "CASE WHEN av.left_at IS NULL THEN " + d.greatest + "(users.last_modified, COALESCE(av.changed, ?)) ELSE av.left_at END AS last_modified",
		"version":       "users.version + COALESCE(av.bumps, ?) AS version",
	}
	cols := viewColumns(usersTable, userViewBase, "users", override)
	cols = append(cols, "av.left_at AS left_at", "av.left_at IS NOT NULL AS departed")
	arm := ""
	if departed {
		arm = departedArm()
	}
	return "(SELECT " + strings.Join(cols, ", ") +
		" FROM users LEFT JOIN app_users av ON av.user_id = users.id AND av.app_id = ?" +
		" WHERE CASE WHEN av.user_id IS NULL THEN " + p.cond + " ELSE " + inGrace + " END" + arm + ") users"
}

// wholeUsersArgs are wholeUsersSQL's arguments at a grace cutoff, but for
// departedArm's.
func wholeUsersArgs(p *appPred, cutoff int64) []any {
	args := append([]any{p.changed, p.epoch, p.id}, p.condArgs...)
	return append(args, cutoff)
}

// viewRows writes the FROM item "... av" of the app's membership as rows
// (app_id, user_id, joined, left_at, changed, bumps): app_users itself,
// or for a whole view the users its predicate holds without a row (see
// above) and the rows it has. Callers
// still test av.app_id and the grace.
func viewRows(t *sqlText, d dialect, p *appPred) {
	if !p.whole {
		t.add("app_users av")
		return
	}
	g := d.greatest
	t.add(`(SELECT users.id AS user_id, CAST(? AS TEXT) AS app_id, COALESCE(x.joined, `+g+`(?, users.created)) AS joined, x.left_at AS left_at,
			COALESCE(x.changed, `+g+`(?, users.created)) AS changed, COALESCE(x.bumps, ?) AS bumps
		FROM users LEFT JOIN app_users x ON x.user_id = users.id AND x.app_id = ?
		WHERE x.user_id IS NOT NULL OR `+p.cond+") av", p.id, p.joined, p.changed, p.epoch, p.id)
	t.args = append(t.args, p.condArgs...)
}

// viewRowsGone is viewRows with the departures of users deleted outright
// (appdeparted.go): app_users has them, a whole view's join of users does
// not.
func viewRowsGone(t *sqlText, d dialect, p *appPred) {
	if !p.whole {
		viewRows(t, d, p)
		return
	}
	t.add("(SELECT * FROM ")
	viewRows(t, d, p)
	t.add(` UNION ALL SELECT x.user_id, x.app_id, x.joined, x.left_at, x.changed, x.bumps FROM app_users x
		WHERE x.app_id = ? AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = x.user_id)) av`, p.id)
}
