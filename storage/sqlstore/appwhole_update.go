package sqlstore

import (
	"database/sql"

	"github.com/scimgate/scimgate/storage"
)

// updateView brings the membership of stored's app up to date with its
// next definition and returns the view's next state. A change of who is
// in view is recomputed over rows: a whole view is first written out as
// rows (materialize), and when the next view can be whole its rows in
// view go again (dematerialize), so one recompute serves every case. A
// change of what the app sees of its users moves the users in view: their
// rows, and a whole view's since and epoch.
func updateView(tx *txn, stored *storedApp, next *storage.App, now int64) (viewState, error) {
	cur := &stored.app
	view := stored.view
	reshaped, moved := !sameShape(cur, next), !sameView(cur, next)
	if moved && view.whole {
		p, err := compileApp(tx.dialect, cur, view)
		if err != nil {
			return viewState{}, err
		}
		if err := materialize(tx, p); err != nil {
			return viewState{}, err
		}
		view = viewState{}
	}
	if reshaped {
		if err := tx.exec(`UPDATE app_users SET changed = ?, bumps = bumps + 1 WHERE app_id = ? AND left_at IS NULL`,
			now, next.ID); err != nil {
			return viewState{}, err
		}
		if view.whole {
			view.changed, view.epoch = now, view.epoch+1
		}
	}
	if !moved {
		return view, nil
	}
	p, err := compileApp(tx.dialect, next, viewState{})
	if err != nil {
		return viewState{}, err
	}
	if err := recomputeApp(tx, p); err != nil {
		return viewState{}, err
	}
	if !tx.wholeViews || !wholeScope(next) {
		return viewState{}, nil
	}
	return dematerialize(tx, next.ID, now)
}

// materialize writes a row for every user in p's whole view that has
// none, as viewRows reads it.
func materialize(tx *txn, p *appPred) error {
	g := tx.dialect.greatest
	args := append([]any{p.id, p.joined, p.changed, p.epoch}, p.condArgs...)
	return tx.exec(`INSERT INTO app_users (user_id, app_id, joined, left_at, changed, bumps)
		SELECT users.id, ?, `+g+`(CAST(? AS BIGINT), users.created), NULL, `+g+`(CAST(? AS BIGINT), users.created), ?
		FROM users WHERE `+p.cond+`
		AND NOT EXISTS (SELECT 1 FROM app_users x WHERE x.user_id = users.id AND x.app_id = ?)`, append(args, p.id)...)
}

// dematerialize turns app id's rows into a whole view beginning now:
// the rows in view go, departures stay, and the epoch starts above every
// bump a row had, so no user's version moves back.
func dematerialize(tx *txn, id string, now int64) (viewState, error) {
	var top sql.NullInt64
	if err := tx.orm.Raw("SELECT MAX(bumps) FROM app_users WHERE app_id = ?", id).Row().Scan(&top); err != nil {
		return viewState{}, translate(err)
	}
	if err := tx.exec("DELETE FROM app_users WHERE app_id = ? AND left_at IS NULL", id); err != nil {
		return viewState{}, err
	}
	return viewState{whole: true, joined: now, changed: now, epoch: top.Int64 + 1}, nil
}

// saveViewState stores v as app id's view state, when the schema has it.
func saveViewState(tx *txn, id string, v viewState) error {
	if !tx.wholeViews {
		return nil
	}
	var joined any
	if v.whole {
		joined = v.joined
	}
	return tx.exec("UPDATE apps SET view_joined = ?, view_changed = ?, view_epoch = ? WHERE id = ?", joined, v.changed, v.epoch, id)
}
