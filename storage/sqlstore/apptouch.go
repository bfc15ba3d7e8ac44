package sqlstore

import (
	"fmt"
)

// The write paths call these as they change users and memberships; they
// only record ids (or, for group changes, look up the users below the
// groups, and only when some app's scope names groups). refreshViews acts
// on the record before COMMIT.

// touchCreated records new users: every app evaluates them.
func (tx *txn) touchCreated(ids ...string) { addIDs(&tx.touch.created, ids) }

// touchChanged records users whose attributes changed.
func (tx *txn) touchChanged(ids ...string) { addIDs(&tx.touch.changed, ids) }

// touchBelow records the users whose group membership a change of these
// members may alter: the ids themselves (those that are users) and every
// user below those that are groups, through nesting. Call it before
// removing memberships or groups and after adding them. It costs nothing
// when no app's scope names groups.
func (tx *txn) touchBelow(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	preds, err := tx.appPreds()
	if err != nil {
		return err
	}
	if !anyHasGroups(preds) {
		return nil
	}
	addIDs(&tx.touch.moved, ids)
	return chunks(ids, refreshChunk, func(chunk []string) error {
		rows, err := tx.orm.Raw(`WITH RECURSIVE below(id) AS (
				SELECT id FROM groups WHERE id IN `+jsonValues(tx.dialect)+`
				UNION
				SELECT m.member_id FROM group_members m JOIN below ON m.group_id = below.id
				WHERE m.member_type = 'group')
			SELECT DISTINCT m.member_id FROM group_members m JOIN below ON m.group_id = below.id
			WHERE m.member_type = 'user'`, jsonArg(chunk)).Rows()
		if err != nil {
			return translate(err)
		}
		var users []string
		if err := scanRows(rows, func() error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return translate(err)
			}
			users = append(users, id)
			return nil
		}); err != nil {
			return err
		}
		addIDs(&tx.touch.moved, users)
		return nil
	})
}

// touchMembers records the users a change of groupID's membership may
// move: those below memberIDs, or, with no memberIDs, everyone below the
// group (every member removed, or the group deleted). Only a group in the
// closure of some app's scope groups matters; a change elsewhere moves no
// one into or out of a view. Call it before removing and after adding.
func (tx *txn) touchMembers(groupID string, memberIDs ...string) error {
	inScope, err := tx.scopedGroups([]string{groupID})
	if err != nil || len(inScope) == 0 {
		return err
	}
	if len(memberIDs) == 0 {
		return tx.touchBelow(groupID)
	}
	return tx.touchBelow(memberIDs...)
}

// scopedGroups returns those of ids that are in the closure of some app's
// scope groups now. The closure is read anew each time: the same
// transaction may have created, renamed or nested groups.
func (tx *txn) scopedGroups(ids []string) ([]string, error) {
	preds, err := tx.appPreds()
	if err != nil || !anyHasGroups(preds) || len(ids) == 0 {
		return nil, err
	}
	var scope []string
	for _, p := range preds {
		for id := range p.scopeIDs {
			scope = append(scope, id)
		}
	}
	closure := map[string]bool{}
	rows, err := tx.queryPrepared(scopeClosure(tx.dialect)+"SELECT id FROM app_scope", scopeClosureArgs(scope)...)
	if err != nil {
		return nil, err
	}
	if err := scanRows(rows, func() error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return translate(err)
		}
		closure[id] = true
		return nil
	}); err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if closure[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

func anyHasGroups(preds []*appPred) bool {
	for _, p := range preds {
		if p.hasGroups {
			return true
		}
	}
	return false
}

// appPreds returns the compiled predicates of every app, read once per
// transaction: the ids and versions come from the database (another
// replica may have changed an app), the compiled forms from the store's
// cache when their version matches. App writes never call it (they touch
// no users), so what it caches is committed.
func (tx *txn) appPreds() ([]*appPred, error) {
	if tx.predsLoaded {
		return tx.preds, nil
	}
	rows, err := tx.queryPrepared("SELECT id, version FROM apps")
	if err != nil {
		return nil, fmt.Errorf("read applications: %w", err)
	}
	type idVersion struct {
		id      string
		version int64
	}
	var current []idVersion
	if err := scanRows(rows, func() error {
		var iv idVersion
		if err := rows.Scan(&iv.id, &iv.version); err != nil {
			return translate(err)
		}
		current = append(current, iv)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read applications: %w", err)
	}
	preds := make([]*appPred, 0, len(current))
	for _, iv := range current {
		if e, ok := tx.apps.get(iv.id); ok && e.app.Version == iv.version {
			preds = append(preds, e.pred)
			continue
		}
		sa, err := appInTx(tx, iv.id)
		if err != nil {
			return nil, err
		}
		p, err := compileApp(tx.dialect, &sa.app, sa.view)
		if err != nil {
			return nil, err
		}
		tx.apps.putStored(sa, p)
		preds = append(preds, p)
	}
	tx.preds, tx.predsLoaded = preds, true
	return preds, nil
}
