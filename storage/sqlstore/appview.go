package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// An application's view is read through the same page machinery as the
// whole directory: the FROM table is replaced by a derived table named
// like it (users, groups) that holds only what the app sees, with meta
// and active as the app sees them. The filter compiler, sorts, keyset
// paging and counts name columns of that table and so work unchanged;
// SQLite and PostgreSQL flatten the derived table into the outer query,
// so an indexed filter still runs on the users table's index and probes
// app_users by its primary key.

// graceCutoff is the leave time (ms) at or before which a departed user
// is no longer visible to app at now.
func graceCutoff(now time.Time, a storage.App) int64 {
	return millis(now.UTC().Add(-time.Duration(a.LeaveGraceDays) * 24 * time.Hour))
}

// inGrace is the app_users condition of rows the app sees: in view, or
// left less than the leave grace ago (one argument, the cutoff).
const inGrace = "(av.left_at IS NULL OR av.left_at > ?)"

// userView is what a user list of an app's view reads from.
type userView struct {
	from   string // the derived table, aliased users
	whole  string // the same, for counting the whole view (see usersViewSQL)
	args   []any  // their arguments: app id, cutoff
	appID  string
	cutoff int64
}

// newUserView loads the app and builds its users table.
func (s *Store) newUserView(ctx context.Context, appID string) (*userView, error) {
	a, p, err := s.cachedApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	cutoff := graceCutoff(s.now(), a)
	departed, err := s.hasDeparted(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if p.whole {
		// Users first either way: a LEFT JOIN's order is fixed.
		table, args := p.usersTable, wholeUsersArgs(p, cutoff)
		if departed {
			table, args = p.usersTableDeparted, append(args, a.ID, cutoff)
		}
		return &userView{from: table, whole: table, args: args, appID: a.ID, cutoff: cutoff}, nil
	}
	tables := userViewTables[s.dialect.name][departed]
	args := []any{a.ID, cutoff}
	if departed {
		args = append(args, a.ID, cutoff) // departedArm's
	}
	return &userView{
		from: tables.page, whole: tables.whole,
		args: args, appID: a.ID, cutoff: cutoff,
	}, nil
}

// apply makes p read the view.
func (v *userView) apply(p *page) {
	p.table, p.tableArgs = v.from, v.args
	p.columns = userSelect + ", users.departed"
	p.oneRow = uniqueLookup(p.q.Filter)
	// The count of a view changes without a write only when a departed
	// user's grace ends; the count cache keys it without the cutoff and
	// checks the cutoff against the earliest departure it counted.
	p.grace = &countGrace{key: "view\x00" + v.appID, cutoff: v.cutoff, whole: v.whole}
}

// Join orders of a view's users table. Without statistics SQLite guesses,
// and it guessed app_users first for an indexed filter, scanning the whole
// view; CROSS JOIN makes it walk users (by the filter's index, the sort's
// index or rowid order) and probe app_users by its primary key, which
// reads only about a page of rows. Counting the whole, unfiltered view is
// the exception: reading app_users first visits only the view's rows.
const (
	usersFirst     = " CROSS JOIN " // PostgreSQL: an inner join like any other
	plannersChoice = ", "
)

// userViewTables are the derived users tables of views by dialect name
// and by whether the schema keeps departed users (migration 14), built
// once: building one per request was half the cost of a lookup.
var userViewTables = func() map[string]map[bool]struct{ page, whole string } {
	out := map[string]map[bool]struct{ page, whole string }{}
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		out[d.name] = map[bool]struct{ page, whole string }{}
		for _, departed := range []bool{false, true} {
			out[d.name][departed] = struct{ page, whole string }{usersViewSQL(d, usersFirst, departed), usersViewSQL(d, plannersChoice, departed)}
		}
	}
	return out
}()

// usersViewSQL is the derived users table of a view. A departed user is
// inactive, last modified at the moment they left; a user in view is last
// modified at the later of their own change and their joining. The
// version adds the membership's bumps (one per join and leave), so the
// ETag moves when the app's view of the user does. With departed, the
// table holds deleted users within their grace too (departedArm).
func usersViewSQL(d dialect, join string, departed bool) string {
	override := map[string]string{
		"active":        "CASE WHEN av.left_at IS NULL THEN u.active ELSE FALSE END AS active",
		"last_modified": "CASE WHEN av.left_at IS NULL THEN " + d.greatest + "(u.last_modified, av.changed) ELSE av.left_at END AS last_modified",
		"version":       "u.version + av.bumps AS version",
	}
	cols := viewColumns(usersTable, userViewBase, "u", override)
	cols = append(cols, "av.left_at AS left_at", "av.left_at IS NOT NULL AS departed")
	arm := ""
	if departed {
		arm = departedArm()
	}
	return "(SELECT " + strings.Join(cols, ", ") +
		" FROM users u" + join + "app_users av WHERE av.user_id = u.id AND av.app_id = ? AND " + inGrace + arm + ") users"
}

// viewColumns is the select list of a derived table standing for t: the
// base columns and every column the filter compiler may name, each from
// alias, unless override gives its expression.
func viewColumns(t resourceTable, base []string, alias string, override map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(c string) {
		if seen[c] {
			return
		}
		seen[c] = true
		if expr, ok := override[c]; ok {
			out = append(out, expr)
			return
		}
		out = append(out, alias+"."+c)
	}
	for _, c := range base {
		add(c)
	}
	names := make([]string, 0, len(t.single))
	for _, col := range t.single {
		names = append(names, strings.TrimPrefix(col.name, t.name+"."))
	}
	slices.Sort(names) // the statement's text must not vary: it is prepared once
	for _, c := range names {
		add(c)
	}
	return out
}

// uniqueLookup reports whether f is an equality on a unique attribute (id,
// userName): the lookup a single-resource read sends.
func uniqueLookup(f storage.Expr) bool {
	c, ok := f.(storage.Compare)
	if !ok || c.Op != storage.OpEq {
		return false
	}
	_, isString := c.Value.(string)
	return isString && (c.Attr == storage.AttrID || c.Attr == storage.AttrUserName)
}
