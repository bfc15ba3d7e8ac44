package sqlstore

import (
	"slices"
	"strings"
)

// joinSet collects the joins a chunk's evaluation finds and writes them
// in one statement for every app, rows in app_users' key order (user,
// then app): each row then lands after the one before it, where one
// statement per app wrote each app's rows between the previous apps'
// and split pages to do it. The rows travel as one JSON array of strings,
// one per joining user: a mask of one '0' or '1' per app (in app id
// order) followed by the user id, which SQL takes apart with substr;
// binding four values per row cost more than writing the rows.
type joinSet struct {
	ids   []string // the apps' ids, sorted
	slot  []int    // slot[i] is preds[i]'s position in ids
	mask  []byte   // the current user's, one byte per app
	any   bool     // the current user joins some app
	elems []string // one mask+id per joining user, in chunk order
}

func newJoinSet(preds []*appPred) *joinSet {
	j := &joinSet{ids: make([]string, len(preds)), slot: make([]int, len(preds))}
	for i, p := range preds {
		j.ids[i] = p.id
	}
	slices.Sort(j.ids)
	for i, p := range preds {
		j.slot[i], _ = slices.BinarySearch(j.ids, p.id)
	}
	j.mask = []byte(strings.Repeat("0", len(preds)))
	return j
}

// add records that the current user joins preds[i].
func (j *joinSet) add(i int) {
	j.mask[j.slot[i]], j.any = '1', true
}

// next ends the current user, user.
func (j *joinSet) next(user string) {
	if !j.any {
		return
	}
	j.elems = append(j.elems, string(j.mask)+user)
	for k := range j.mask {
		j.mask[k] = '0'
	}
	j.any = false
}

// write inserts or revives the rows. fresh users have no rows, so theirs
// are plain inserts.
func (j *joinSet) write(tx *txn, now int64, fresh bool) error {
	if len(j.elems) == 0 {
		return nil
	}
	q := joinStatements[tx.dialect.name]
	if !fresh {
		q += ` ON CONFLICT (user_id, app_id) DO UPDATE SET joined = excluded.joined, left_at = NULL,
			changed = excluded.changed, bumps = app_users.bumps + 1`
	}
	return tx.execPrepared(q, len(j.ids), now, now, jsonArg(j.elems), jsonArg(j.ids))
}

// joinStatements are the INSERT of a joinSet by dialect name. The users'
// array is the outer loop (CROSS JOIN fixes it in SQLite), the apps' the
// inner one, so rows come in key order; pos is an app's 1-based position
// in the mask. The WHERE clause is also what lets SQLite read an upsert
// after INSERT ... SELECT.
var joinStatements = func() map[string]string {
	stmt := func(pairs, pos string) string {
		return `INSERT INTO app_users (user_id, app_id, joined, left_at, changed, bumps)
		SELECT substr(j.value, ? + 1), a.value, ?, NULL, ?, 1 FROM ` + pairs + `
		WHERE substr(j.value, ` + pos + `, 1) = '1'`
	}
	return map[string]string{
		sqliteDialect.name:   stmt("json_each(?) j CROSS JOIN json_each(?) a", "a.key + 1"),
		postgresDialect.name: stmt("json_array_elements_text(CAST(? AS json)) AS j(value) CROSS JOIN json_array_elements_text(CAST(? AS json)) WITH ORDINALITY AS a(value, pos)", "CAST(a.pos AS INTEGER)"),
	}
}()
