package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// appPred is an application's view predicate compiled to SQL, once per
// app version. It is what the membership maintenance evaluates, and what
// the read side may use to resolve scope groups.
type appPred struct {
	id      string
	version int64
	// hasGroups: the scope names groups, so membership changes matter.
	hasGroups bool
	// attrDep: the predicate reads user attributes (filter, owners,
	// active), so a user's update can move them in or out.
	attrDep bool
	// with is the WITH RECURSIVE clause that defines app_scope(id), the
	// closure of the scope groups; empty without scope groups.
	with     string
	withArgs []any
	// cond is the predicate over a row of the table users (columns named
	// users.*), with its arguments.
	cond     string
	condArgs []any
	// attrCond is cond without the scope groups' part ("" when nothing
	// else is asked), with attrArgs; scopeIDs and scopeNames (folded) are
	// the scope groups as written, which the maintenance matches against
	// the groups a user belongs to (apprefresh.go).
	attrCond   string
	attrArgs   []any
	scopeIDs   map[string]bool
	scopeNames map[string]bool
	// graceMillis is LeaveGraceDays in milliseconds.
	graceMillis int64
	// push: the app pushes its view (apppush.go); groups is its groups
	// mode.
	push   bool
	groups storage.GroupMode
	// viewState says whether the view is whole (appwhole.go); usersTable
	// is then its derived users table, and usersTableDeparted the same
	// with deleted users within grace (appdeparted.go).
	viewState
	usersTable, usersTableDeparted string
}

const dayMillis = 24 * 60 * 60 * 1000

// jsonValues is the dialect's subquery that yields the elements of a JSON
// array of strings passed as one argument, "(SELECT ...)", derived from
// inJSONArray so the two cannot drift apart.
func jsonValues(d dialect) string {
	return strings.TrimPrefix(d.inJSONArray("x"), "x IN ")
}

// jsonArg encodes ids as the JSON array argument of jsonValues.
func jsonArg(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids) // strings always encode
	return string(b)
}

// scopeClosure is the WITH clause defining app_scope(id): the groups named
// by id or folded displayName in the JSON arrays of its two arguments and
// every group nested in them. UNION (not UNION ALL) ends the recursion on
// cycles. Names are resolved at each evaluation, so a group created later
// under a scope name joins the scope then.
func scopeClosure(d dialect) string {
	v := jsonValues(d)
	return `WITH RECURSIVE app_scope(id) AS (
		SELECT id FROM groups WHERE id IN ` + v + ` OR display_name IN ` + v + `
		UNION
		SELECT app_m.member_id FROM group_members app_m JOIN app_scope ON app_m.group_id = app_scope.id
		WHERE app_m.member_type = 'group') `
}

// scopeClosureArgs are scopeClosure's arguments for the scope groups as
// the admin wrote them.
func scopeClosureArgs(groups []string) []any {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = storage.FoldKey(g)
	}
	return []any{jsonArg(groups), jsonArg(names)}
}

// compileApp compiles a's view predicate, for the view's stored state v.
// A filter the compiler rejects is ErrInvalid.
func compileApp(d dialect, a *storage.App, v viewState) (*appPred, error) {
	v.whole = v.whole && wholeScope(a)
	p := &appPred{id: a.ID, version: a.Version, graceMillis: int64(a.LeaveGraceDays) * dayMillis,
		push: a.Push != nil, groups: a.Groups, viewState: v}
	var conds []string
	if len(a.Scope.Groups) > 0 {
		p.hasGroups = true
		p.scopeIDs, p.scopeNames = map[string]bool{}, map[string]bool{}
		for _, g := range a.Scope.Groups {
			p.scopeIDs[g] = true
			p.scopeNames[storage.FoldKey(g)] = true
		}
		p.with, p.withArgs = scopeClosure(d), scopeClosureArgs(a.Scope.Groups)
		// Correlated per user: the member index answers it, where
		// users.id IN (SELECT member_id ...) would build the whole
		// member set of a large scope for every statement.
		conds = append(conds, `EXISTS (SELECT 1 FROM group_members app_u
			WHERE app_u.member_id = users.id AND app_u.member_type = 'user'
			AND app_u.group_id IN (SELECT id FROM app_scope))`)
	}
	if a.Scope.FilterExpr != nil {
		f, err := storage.Simplify(a.Scope.FilterExpr)
		if err != nil {
			return nil, fmt.Errorf("application %s: scope filter: %w", a.Name, err)
		}
		c := compiler{d: d}
		if err := c.compile(usersTable, f); err != nil {
			return nil, fmt.Errorf("application %s: scope filter: %w", a.Name, err)
		}
		conds = append(conds, "("+c.sb.String()+")")
		p.condArgs = append(p.condArgs, c.args...)
		p.attrDep = true
	}
	if len(a.Scope.Owners) > 0 {
		cond := d.inJSONArray("users.owner")
		p.condArgs = append(p.condArgs, jsonArg(a.Scope.Owners))
		// A linked person comes from every source that contributes to it
		// (migration 13's contributions), not only from its owner.
		var sources []string
		for _, o := range a.Scope.Owners {
			if id, ok := strings.CutPrefix(o, storage.SourceOwnerPrefix); ok {
				sources = append(sources, id)
			}
		}
		if len(sources) > 0 {
			cond = "(" + cond + ` OR EXISTS (SELECT 1 FROM contributions app_c
				WHERE app_c.user_id = users.id AND ` + d.inJSONArray("app_c.source_id") + "))"
			p.condArgs = append(p.condArgs, jsonArg(sources))
		}
		conds = append(conds, cond)
		p.attrDep = true
	}
	if !a.Scope.IncludeInactive {
		conds = append(conds, "users.active = ?")
		p.condArgs = append(p.condArgs, true)
		p.attrDep = true
	}
	attrConds := conds
	if p.hasGroups {
		attrConds = conds[1:]
	}
	p.attrCond, p.attrArgs = strings.Join(attrConds, " AND "), p.condArgs
	if len(conds) == 0 {
		conds = append(conds, "1=1")
	}
	p.cond = strings.Join(conds, " AND ")
	if p.whole {
		p.usersTable, p.usersTableDeparted = wholeUsersSQL(d, p, false), wholeUsersSQL(d, p, true)
	}
	return p, nil
}
