package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// A user deleted outright leaves every view as any departure does: an
// app with a leave grace sees them inactive, last modified at the
// deletion, until the grace ends, and then no more (404). Their app_users
// rows stay behind as departures (departUsers), and departed_users keeps
// a copy of their users row (migration 14) that the views read in place
// of the row that went (departedArm). The copy has no unique keys, so a
// new user may take the userName at once; its seq is the negated one, so
// it never meets a later user's in a view's keyset order or in
// user_values. A filter on a multi-valued attribute (emails, ...) does
// not match a departed copy, as its value rows went with the user.

// userViewBase are the columns every derived users table of a view starts
// with, before the filter columns (viewColumns).
var userViewBase = []string{"seq", "id", "owner", "display", "created", "last_modified", "version", "doc"}

// departedColumns are the columns of users that departed_users copies:
// those the views read.
var departedColumns = func() []string {
	cols := viewColumns(usersTable, userViewBase, "x", nil)
	for i, c := range cols {
		cols[i] = strings.TrimPrefix(c, "x.")
	}
	return cols
}()

// departedArm is the part of a view's users table for departed copies of
// deleted users with a row of the app within grace (arguments: app id,
// cutoff): the same columns as the live users' part, in the same order.
func departedArm() string {
	override := map[string]string{
		"active":        "FALSE AS active",
		"last_modified": "av.left_at AS last_modified",
		"version":       "u.version + av.bumps AS version",
	}
	cols := viewColumns(usersTable, userViewBase, "u", override)
	cols = append(cols, "av.left_at AS left_at", "TRUE AS departed")
	return " UNION ALL SELECT " + strings.Join(cols, ", ") +
		" FROM departed_users u CROSS JOIN app_users av WHERE av.user_id = u.id AND av.app_id = ? AND av.left_at > ?"
}

// departUsers makes the users about to be deleted leave every view: an
// app without a grace forgets them, one with a grace keeps a departure at
// now (a row in view leaves, a whole view's user without a row gets one,
// a departure already within grace stays as it was), and when some
// departure stays a copy of the user's row is kept until the longest
// grace ends. Copies and rows whose grace is over go too. Call it before
// the users rows go; with the schema before migration 14 the rows still
// go with the users.
func departUsers(tx *txn, ids []string) error {
	if !tx.wholeViews || len(ids) == 0 {
		return nil
	}
	preds, err := tx.appPreds()
	if err != nil || len(preds) == 0 {
		return err
	}
	now := millis(tx.now())
	var none, kept []string
	var longest int64
	for _, p := range preds {
		if p.graceMillis == 0 {
			none = append(none, p.id)
			continue
		}
		kept = append(kept, p.id)
		longest = max(longest, p.graceMillis)
	}
	if err := tx.exec("DELETE FROM app_users WHERE user_id IN (SELECT id FROM departed_users WHERE until_at <= ?)", now); err != nil {
		return err
	}
	if err := tx.exec("DELETE FROM departed_users WHERE until_at <= ?", now); err != nil {
		return err
	}
	return chunks(ids, refreshChunk, func(chunk []string) error {
		arg := jsonArg(chunk)
		if len(none) > 0 {
			if err := tx.execPrepared("DELETE FROM app_users WHERE "+tx.dialect.inJSONArray("user_id")+" AND "+
				tx.dialect.inJSONArray("app_id"), arg, jsonArg(none)); err != nil {
				return err
			}
		}
		if len(kept) == 0 {
			return nil
		}
		if err := tx.execPrepared("UPDATE app_users SET left_at = ?, changed = ?, bumps = bumps + 1 WHERE left_at IS NULL AND "+
			tx.dialect.inJSONArray("user_id"), now, now, arg); err != nil {
			return err
		}
		for _, p := range preds {
			if !p.whole || p.graceMillis == 0 {
				continue
			}
			args := append([]any{p.id, p.joined, now, now, p.epoch + 1, arg}, p.condArgs...)
			if err := tx.execPrepared(`INSERT INTO app_users (user_id, app_id, joined, left_at, changed, bumps)
				SELECT users.id, ?, `+tx.dialect.greatest+`(CAST(? AS BIGINT), users.created), ?, ?, ?
				FROM `+touchedTable(tx.dialect)+` CROSS JOIN users WHERE users.id = touched.id AND `+p.cond+`
				AND NOT EXISTS (SELECT 1 FROM app_users x WHERE x.user_id = users.id AND x.app_id = ?)`, append(args, p.id)...); err != nil {
				return err
			}
		}
		sel := make([]string, len(departedColumns))
		for i, c := range departedColumns {
			sel[i] = "users." + c
			if c == "seq" {
				sel[i] = "-users.seq"
			}
		}
		until := now + longest
		return tx.execPrepared("INSERT INTO departed_users ("+strings.Join(departedColumns, ", ")+", deleted_at, until_at) SELECT "+
			strings.Join(sel, ", ")+", ?, ? FROM users WHERE "+tx.dialect.inJSONArray("users.id")+
			" AND EXISTS (SELECT 1 FROM app_users av WHERE av.user_id = users.id) ON CONFLICT (id) DO NOTHING", now, until, arg)
	})
}

// departedCache remembers which apps have departed copies within grace,
// so that a view reads departed_users (a UNION ALL, which SQLite cannot
// flatten: the page would sort every row of the view) only while it has
// some. An answer holds until the next write (this store's generation
// where only it writes, the read stamp elsewhere) or until the first of
// the copies it saw expires.
type departedCache struct {
	mu    sync.Mutex
	key   departedKey
	known bool
	until int64 // the earliest until_at it saw; 0 for none
	apps  map[string]bool
}

// departedKey is what a departedCache answer was read at: this store's
// write generation, or the read stamp.
type departedKey struct {
	gen   uint64
	stamp string
}

// hasDeparted reports whether app id's view holds departed copies now.
func (s *Store) hasDeparted(ctx context.Context, appID string) (bool, error) {
	if !s.wholeViews() {
		return false, nil
	}
	key, keyed := departedKey{gen: s.gen.Load()}, true
	if !s.dialect.cacheCounts {
		st, ok, err := s.ReadStamp(ctx)
		if err != nil {
			return false, err
		}
		key, keyed = departedKey{stamp: st}, ok // without a stamp, ask each time
	}
	now := millis(s.now())
	c := &s.departed
	c.mu.Lock()
	if keyed && c.known && c.key == key && (c.until == 0 || now < c.until) {
		in := c.apps[appID]
		c.mu.Unlock()
		return in, nil
	}
	c.mu.Unlock()
	rows, err := s.query(ctx, `SELECT av.app_id, MIN(d.until_at) FROM departed_users d JOIN app_users av ON av.user_id = d.id
		WHERE d.until_at > ? GROUP BY av.app_id`, now)
	if err != nil {
		return false, fmt.Errorf("sqlstore: departed users: %w", err)
	}
	apps := map[string]bool{}
	var until int64
	if err := scanRows(rows, func() error {
		var id string
		var first sql.NullInt64
		if err := rows.Scan(&id, &first); err != nil {
			return translate(err)
		}
		apps[id] = true
		if first.Valid && (until == 0 || first.Int64 < until) {
			until = first.Int64
		}
		return nil
	}); err != nil {
		return false, fmt.Errorf("sqlstore: departed users: %w", err)
	}
	c.mu.Lock()
	c.key, c.known, c.until, c.apps = key, keyed, until, apps
	c.mu.Unlock()
	return apps[appID], nil
}
