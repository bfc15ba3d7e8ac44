package sqlstore

import (
	"slices"
	"strconv"
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

// write inserts or revives the rows.
func (j *joinSet) write(tx *txn, now int64) error {
	if len(j.elems) == 0 {
		return nil
	}
	return tx.execPrepared(joinStatements[tx.dialect.name], len(j.ids), now, now, jsonArg(j.elems), jsonArg(j.ids))
}

// joinStatements are the INSERT of a joinSet by dialect name. The users'
// array is the outer loop (CROSS JOIN fixes it in SQLite), the apps' the
// inner one, so rows come in key order; pos is an app's 1-based position
// in the mask. The WHERE clause is also what lets SQLite read an upsert
// after INSERT ... SELECT.
var joinStatements = func() map[string]string {
	out := map[string]string{}
	for _, d := range []dialect{sqliteDialect, postgresDialect} {
		out[d.name] = `INSERT INTO app_users (user_id, app_id, joined, left_at, changed, bumps)
		SELECT substr(j.value, ? + 1), a.value, ?, NULL, ?, 1 FROM ` + appPairs[d.name].users + ` CROSS JOIN ` + appPairs[d.name].apps + `
		WHERE substr(j.value, ` + appPairs[d.name].pos + `, 1) = '1'
		ON CONFLICT (user_id, app_id) DO UPDATE SET joined = excluded.joined, left_at = NULL,
			changed = excluded.changed, bumps = app_users.bumps + 1`
	}
	return out
}()

// appPairs are, by dialect name, the derived tables of a JSON array
// argument of strings j(value) and of the apps' ids a(value), and pos, an
// app's 1-based position in its array.
var appPairs = map[string]struct{ users, apps, pos string }{
	sqliteDialect.name: {"json_each(?) j", "json_each(?) a", "(a.key + 1)"},
	postgresDialect.name: {"json_array_elements_text(CAST(? AS json)) AS j(value)",
		"json_array_elements_text(CAST(? AS json)) WITH ORDINALITY AS a(value, pos)", "CAST(a.pos AS INTEGER)"},
}

// insertFresh writes the rows of users created in this transaction and
// touched no other way, for the apps without scope groups (the only ones
// that can hold them): one statement evaluates every app's conditions
// and inserts the matches, in key order, with nothing read back. Apps
// that push and gained a user are then marked.
func insertFresh(tx *txn, flat []*appPred, chunk []string) error {
	q, ids, condArgs := freshStatement(tx.dialect, flat)
	now := millis(tx.now())
	args := append([]any{now, now, jsonArg(chunk), jsonArg(ids)}, condArgs...)
	if err := tx.execPrepared(q, args...); err != nil {
		return err
	}
	var pushes []*appPred
	for _, p := range flat {
		if p.push && !tx.pushMarked(p.id) {
			pushes = append(pushes, p)
		}
	}
	if len(pushes) == 0 {
		return nil
	}
	rows, err := tx.queryPrepared("SELECT DISTINCT app_id FROM app_users WHERE "+tx.dialect.inJSONArray("user_id"), jsonArg(chunk))
	if err != nil {
		return err
	}
	joined := map[string]bool{}
	if err := scanRows(rows, func() error {
		var app string
		if err := rows.Scan(&app); err != nil {
			return translate(err)
		}
		joined[app] = true
		return nil
	}); err != nil {
		return err
	}
	for _, p := range pushes {
		if joined[p.id] {
			tx.markPush(p)
		}
	}
	return nil
}

// freshStatement is insertFresh's INSERT for the apps flat, the apps' ids
// in the order of its array argument (sorted: key order) and the
// conditions' arguments. Each app's conditions are one branch of a CASE
// on the app's position, so a row is tested only against its own app's.
func freshStatement(d dialect, flat []*appPred) (string, []string, []any) {
	sorted := slices.Clone(flat)
	slices.SortFunc(sorted, func(a, b *appPred) int { return strings.Compare(a.id, b.id) })
	ids := make([]string, len(sorted))
	var args []any
	var sb strings.Builder
	sb.WriteString("CASE " + appPairs[d.name].pos)
	for i, p := range sorted {
		ids[i] = p.id
		cond := "1=1"
		if p.attrCond != "" {
			cond, args = "("+p.attrCond+")", append(args, p.attrArgs...)
		}
		sb.WriteString(" WHEN " + strconv.Itoa(i+1) + " THEN " + cond)
	}
	sb.WriteString(" ELSE 1=0 END")
	// CROSS JOIN: SQLite walks the touched ids, probes users by id and
	// then tries the apps, rather than starting at an index a condition
	// names.
	return `INSERT INTO app_users (user_id, app_id, joined, left_at, changed, bumps)
		SELECT users.id, a.value, ?, NULL, ?, 1 FROM ` + touchedTable(d) + ` CROSS JOIN users CROSS JOIN ` + appPairs[d.name].apps + `
		WHERE users.id = touched.id AND ` + sb.String(), ids, args
}
