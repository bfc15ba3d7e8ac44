package sqlstore

import (
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// Outbound push waits for changes to a view: every write transaction that
// changes what an app with a push sees sets the app's
// push_state.first_change (when it is not set already), in the same
// transaction. The view maintenance finds the users who join, leave or
// change in view (refreshChunkOf marks their apps); the write paths report
// the groups they change (touchGroups) and the users they delete
// (touchDeletedUsers), whose rows go before the maintenance runs. Before
// COMMIT one statement records the marked apps (savePushChanges). With no
// app that pushes, nothing of this runs a statement of its own.

// markPush records that p's view changed in this transaction, if p pushes.
func (tx *txn) markPush(p *appPred) {
	if !p.push {
		return
	}
	if tx.pushed == nil {
		tx.pushed = map[string]struct{}{}
	}
	tx.pushed[p.id] = struct{}{}
}

func (tx *txn) pushMarked(id string) bool {
	_, ok := tx.pushed[id]
	return ok
}

// unmarkedPushes returns the apps that push and are not marked yet.
func (tx *txn) unmarkedPushes() ([]*appPred, error) {
	preds, err := tx.appPreds()
	if err != nil {
		return nil, err
	}
	var out []*appPred
	for _, p := range preds {
		if p.push && !tx.pushMarked(p.id) {
			out = append(out, p)
		}
	}
	return out, nil
}

// touchGroups records groups whose attributes or membership changed, for
// the apps that push and hold them in view. Call it while the groups
// exist: after creating or changing them, before deleting them. A scope
// naming groups holds their closure; a scope without groups holds every
// group; "all" is taken to hold any group (a spare push finds nothing to
// do, where the exact rule would cost a closure over the view per write).
func (tx *txn) touchGroups(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	pushes, err := tx.unmarkedPushes()
	if err != nil {
		return err
	}
	for _, p := range pushes {
		switch {
		case p.groups == storage.GroupsNone:
			continue
		case p.groups == storage.GroupsAll || !p.hasGroups:
			tx.markPush(p)
			continue
		}
		err := chunks(ids, refreshChunk, func(chunk []string) error {
			if tx.pushMarked(p.id) {
				return nil
			}
			var n int64
			rows, err := tx.queryPrepared(p.with+"SELECT COUNT(*) FROM app_scope WHERE "+tx.dialect.inJSONArray("id"),
				append(append([]any{}, p.withArgs...), jsonArg(chunk))...)
			if err != nil {
				return err
			}
			if err := scanRows(rows, func() error { return translate(rows.Scan(&n)) }); err != nil {
				return err
			}
			if n > 0 {
				tx.markPush(p)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// touchDeletedUsers records users about to be deleted: their membership
// rows (in view or within leave grace) go with them, and a whole view's
// predicate will not hold them, so the apps that push and had them are
// marked now.
func (tx *txn) touchDeletedUsers(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	pushes, err := tx.unmarkedPushes()
	if err != nil || len(pushes) == 0 {
		return err
	}
	byID := make(map[string]*appPred, len(pushes))
	for _, p := range pushes {
		byID[p.id] = p
	}
	wholes, _ := wholePreds(pushes)
	return chunks(ids, refreshChunk, func(chunk []string) error {
		if len(wholes) > 0 {
			// A whole view holds a user without a row while its
			// predicate does (a departure has a row, read below).
			if err := evaluate(tx, evaluation(tx.dialect, wholes), len(wholes), chunk, func(_ string, m []bool) {
				for i, p := range wholes {
					if m[i] {
						tx.markPush(p)
					}
				}
			}); err != nil {
				return err
			}
		}
		rows, err := tx.queryPrepared("SELECT DISTINCT app_id FROM app_users WHERE "+tx.dialect.inJSONArray("user_id"), jsonArg(chunk))
		if err != nil {
			return err
		}
		return scanRows(rows, func() error {
			var app string
			if err := rows.Scan(&app); err != nil {
				return translate(err)
			}
			if p, ok := byID[app]; ok {
				tx.markPush(p)
			}
			return nil
		})
	})
}

// savePushChanges sets first_change to now for the marked apps that have
// none, creating their push_state rows: one statement, before COMMIT. It
// also moves first_change to now when a push is running that started at
// or after it: that run may not see this change, and its FinishRun keeps
// only a first_change later than its start.
func savePushChanges(tx *txn) error {
	if len(tx.pushed) == 0 || tx.noPush {
		return nil
	}
	now := millis(tx.now())
	args := make([]any, 0, 2*len(tx.pushed))
	for id := range tx.pushed {
		args = append(args, id, now)
	}
	values := strings.TrimSuffix(strings.Repeat("(?, '{}', ?), ", len(tx.pushed)), ", ")
	return tx.exec(`INSERT INTO push_state (app_id, health, first_change) VALUES `+values+`
		ON CONFLICT (app_id) DO UPDATE SET first_change = excluded.first_change
		WHERE push_state.first_change IS NULL OR push_state.first_change <= (SELECT MAX(r.started) FROM push_runs r
			WHERE r.app_id = push_state.app_id AND r.status = ?)`, append(args, string(storage.RunRunning))...)
}
