package sqlstore

// The maintenance of whole views (appwhole.go). A user's place in such a
// view is its row when it has one, else the predicate: so a write only
// has to act where the predicate's answer changed and the row must say
// what the predicate no longer can. A user created in view needs no row
// (it joined at its creation); any other join writes one (its time is
// not the user's creation), a departure revived on coming back so that
// its bumps go on; leaving writes a departure while there is a grace to
// show it in.
//
// The answer before the write cannot be read from a row, so the writes
// that may change what a whole view's predicate reads call touchBefore
// first; a user touched without it is taken to have had the answer it
// has now (a change the predicate does not read).

// wholePreds returns those of preds that are whole views, and the rest.
func wholePreds(preds []*appPred) (whole, rest []*appPred) {
	for _, p := range preds {
		if p.whole {
			whole = append(whole, p)
		} else {
			rest = append(rest, p)
		}
	}
	return whole, rest
}

// touchBefore records, for users about to be changed, whether each whole
// view whose predicate reads attributes holds them now. The first record
// in a transaction stands; users created in it were in no view.
func (tx *txn) touchBefore(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	preds, err := tx.appPreds()
	if err != nil {
		return err
	}
	var read []*appPred
	for _, p := range preds {
		if p.whole && p.attrCond != "" {
			read = append(read, p)
		}
	}
	if len(read) == 0 {
		return nil
	}
	t := &tx.touch
	if t.before == nil {
		t.before = map[string]map[string]bool{}
	}
	var fresh []string
	for _, id := range ids {
		if _, created := t.created[id]; created {
			continue
		}
		if _, seen := t.before[read[0].id][id]; !seen {
			fresh = append(fresh, id)
		}
	}
	eval := evaluation(tx.dialect, read)
	return chunks(fresh, refreshChunk, func(chunk []string) error {
		return evaluate(tx, eval, len(read), chunk, func(user string, m []bool) {
			for i, p := range read {
				if t.before[p.id] == nil {
					t.before[p.id] = map[string]bool{}
				}
				t.before[p.id][user] = m[i]
			}
		})
	})
}

// evaluate runs eval (of n apps' attribute conditions) for the users of
// chunk and hands each existing user's answers to fn.
func evaluate(tx *txn, eval evaluated, n int, chunk []string, fn func(user string, m []bool)) error {
	rows, err := tx.queryPrepared(eval.sql, append(append([]any{}, eval.args...), jsonArg(chunk))...)
	if err != nil {
		return err
	}
	var id string
	flags := make([]int64, 1+countColumns(eval.column))
	dest := []any{&id}
	for c := 1; c < len(flags); c++ {
		dest = append(dest, &flags[c])
	}
	return scanRows(rows, func() error {
		if err := rows.Scan(dest...); err != nil {
			return translate(err)
		}
		m := make([]bool, n)
		for i := range m {
			m[i] = eval.column[i] < 0 || flags[eval.column[i]] == 1
		}
		fn(id, m)
		return nil
	})
}

// refreshWholeChunk brings the whole views preds up to date for one chunk
// of touched users (eval is evaluation(preds)).
func refreshWholeChunk(tx *txn, preds []*appPred, eval evaluated, chunk []string) error {
	matches := map[string][]bool{}
	if err := evaluate(tx, eval, len(preds), chunk, func(user string, m []bool) { matches[user] = m }); err != nil {
		return err
	}
	appIndex := make(map[string]int, len(preds))
	hasRow := make([]map[string]bool, len(preds))
	for i, p := range preds {
		appIndex[p.id], hasRow[i] = i, map[string]bool{}
	}
	if err := currentRows(tx, chunk, jsonArg(chunk), appIndex, hasRow); err != nil {
		return err
	}
	t := &tx.touch
	n := len(preds)
	join, revive, leave, depart := make([][]string, n), make([][]string, n), make([][]string, n), make([][]string, n)
	for _, user := range chunk {
		m, exists := matches[user]
		if !exists {
			continue // deleted in this transaction
		}
		_, created := t.created[user]
		_, changed := t.changed[user]
		for i, p := range preds {
			in, row := hasRow[i][user]
			was := in
			if !row {
				before, known := t.before[p.id][user]
				was = !created && (before || !known && m[i])
			}
			switch {
			case m[i] && !was:
				if row {
					revive[i] = append(revive[i], user)
				} else if !created {
					join[i] = append(join[i], user)
				}
				tx.markPush(p)
			case !m[i] && was:
				if row {
					leave[i] = append(leave[i], user)
				} else if p.graceMillis > 0 {
					depart[i] = append(depart[i], user) // no grace: the predicate says it
				}
				tx.markPush(p)
			case changed && m[i]:
				tx.markPush(p) // changed in view
			}
		}
	}
	now := millis(tx.now())
	for i, p := range preds {
		if len(revive[i]) > 0 {
			if err := tx.execPrepared("UPDATE app_users SET joined = ?, left_at = NULL, changed = ?, bumps = bumps + 1 WHERE app_id = ? AND "+
				tx.dialect.inJSONArray("user_id"), now, now, p.id, jsonArg(revive[i])); err != nil {
				return err
			}
		}
		if len(leave[i]) > 0 {
			if err := tx.execPrepared("UPDATE app_users SET left_at = ?, changed = ?, bumps = bumps + 1 WHERE app_id = ? AND "+
				tx.dialect.inJSONArray("user_id"), now, now, p.id, jsonArg(leave[i])); err != nil {
				return err
			}
		}
		if err := insertRows(tx, p, join[i], now, nil); err != nil {
			return err
		}
		if err := insertRows(tx, p, depart[i], p.joined, now); err != nil {
			return err
		}
	}
	return nil
}

// markFreshWhole marks the whole views that push and hold some of the
// users of chunk, all created in this transaction.
func markFreshWhole(tx *txn, preds []*appPred, chunk []string) error {
	var pushes []*appPred
	for _, p := range preds {
		if p.push && !tx.pushMarked(p.id) {
			pushes = append(pushes, p)
		}
	}
	if len(pushes) == 0 {
		return nil
	}
	return evaluate(tx, evaluation(tx.dialect, pushes), len(pushes), chunk, func(_ string, m []bool) {
		for i, p := range pushes {
			if m[i] {
				tx.markPush(p)
			}
		}
	})
}

// insertRows writes rows of p for users who had none, joined at joined
// (or at their creation, when later) and left at left (nil: in view), changed now, with the next bumps after
// the epoch's.
func insertRows(tx *txn, p *appPred, users []string, joined int64, left any) error {
	if len(users) == 0 {
		return nil
	}
	now := millis(tx.now())
	return tx.execPrepared(`INSERT INTO app_users (user_id, app_id, joined, left_at, changed, bumps)
		SELECT users.id, ?, `+tx.dialect.greatest+`(CAST(? AS BIGINT), users.created), CAST(? AS BIGINT), ?, ?
		FROM `+touchedTable(tx.dialect)+` CROSS JOIN users WHERE users.id = touched.id`,
		p.id, joined, left, now, p.epoch+1, jsonArg(users))
}
