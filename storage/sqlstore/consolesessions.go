package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// consoleSessionSelect is the column list GetConsoleSession scans.
const consoleSessionSelect = "hash, token_id, actor, csrf, created, last_seen, expires"

// CreateConsoleSession stores a signed-in admin's session. Its times are
// kept to the millisecond, as every other time in the store.
func (s *Store) CreateConsoleSession(ctx context.Context, cs storage.ConsoleSession) error {
	err := s.write(ctx, func(tx *txn) error {
		// Straight to database/sql: gorm expands a slice bound right
		// after "(" into a list, and the hash is a []byte.
		_, err := tx.sql.ExecContext(tx.ctx, tx.dialect.rebind(
			"INSERT INTO console_sessions ("+consoleSessionSelect+") VALUES (?, ?, ?, ?, ?, ?, ?)"),
			cs.Hash, cs.TokenID, cs.Actor, cs.CSRF, millis(cs.Created), millis(cs.LastSeen), millis(cs.Expires))
		return translate(err)
	})
	return wrapOp("create console session", err)
}

// GetConsoleSession returns a session by its hash; it runs on every
// console request, so it goes through a prepared statement. Whether the
// session is still valid is the caller's decision (its clock, its idle
// limit).
func (s *Store) GetConsoleSession(ctx context.Context, hash []byte) (storage.ConsoleSession, error) {
	rows, err := s.query(ctx, "SELECT "+consoleSessionSelect+" FROM console_sessions WHERE hash = ?", hash)
	if err != nil {
		return storage.ConsoleSession{}, fmt.Errorf("sqlstore: get console session: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return storage.ConsoleSession{}, fmt.Errorf("sqlstore: get console session: %w", translate(err))
		}
		return storage.ConsoleSession{}, fmt.Errorf("sqlstore: console session: %w", storage.ErrNotFound)
	}
	var cs storage.ConsoleSession
	var created, lastSeen, expires int64
	if err := rows.Scan(&cs.Hash, &cs.TokenID, &cs.Actor, &cs.CSRF, &created, &lastSeen, &expires); err != nil {
		return storage.ConsoleSession{}, fmt.Errorf("sqlstore: get console session: %w", translate(err))
	}
	cs.Created, cs.LastSeen, cs.Expires = fromMillis(created), fromMillis(lastSeen), fromMillis(expires)
	return cs, nil
}

// TouchConsoleSession moves last_seen forward only, so requests that
// report out of order never shorten a session's idle time.
func (s *Store) TouchConsoleSession(ctx context.Context, hash []byte, at time.Time) error {
	ms := millis(at)
	err := s.write(ctx, func(tx *txn) error {
		res := tx.orm.Exec("UPDATE console_sessions SET last_seen = ? WHERE hash = ? AND last_seen < ?", ms, hash, ms)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected > 0 {
			return nil
		}
		var n int64
		if err := tx.orm.Raw("SELECT COUNT(*) FROM console_sessions WHERE hash = ?", hash).Scan(&n).Error; err != nil {
			return translate(err)
		}
		if n == 0 {
			return fmt.Errorf("console session: %w", storage.ErrNotFound)
		}
		return nil
	})
	return wrapOp("touch console session", err)
}

// DeleteConsoleSession ends one session (sign-out).
func (s *Store) DeleteConsoleSession(ctx context.Context, hash []byte) error {
	err := s.write(ctx, func(tx *txn) error {
		res := tx.orm.Exec("DELETE FROM console_sessions WHERE hash = ?", hash)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("console session: %w", storage.ErrNotFound)
		}
		return nil
	})
	return wrapOp("delete console session", err)
}

// DeleteConsoleSessionsOf ends every session signed in with a token.
func (s *Store) DeleteConsoleSessionsOf(ctx context.Context, tokenID string) (int, error) {
	return s.deleteConsoleSessions(ctx, "delete console sessions of token", "token_id = ?", tokenID)
}

// DeleteExpiredConsoleSessions sweeps sessions past their absolute end or
// idle for too long.
func (s *Store) DeleteExpiredConsoleSessions(ctx context.Context, now, idleSince time.Time) (int, error) {
	return s.deleteConsoleSessions(ctx, "delete expired console sessions",
		"expires < ? OR last_seen < ?", millis(now), millis(idleSince))
}

// deleteConsoleSessions removes the sessions where says and counts them.
func (s *Store) deleteConsoleSessions(ctx context.Context, op, where string, args ...any) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *txn) error {
		res := tx.orm.Exec("DELETE FROM console_sessions WHERE "+where, args...)
		n = res.RowsAffected
		return translate(res.Error)
	})
	if err != nil {
		return 0, wrapOp(op, err)
	}
	return int(n), nil
}

// endTokenSessions ends the console sessions of the token named name, in
// tx, before the token's row goes, so a revoked token's browser sessions
// end together with its API access.
func (s *Store) endTokenSessions(tx *txn, name string) error {
	if s.schema > 0 && s.schema < consoleSessionsVersion {
		return nil
	}
	return translate(tx.orm.Exec(
		"DELETE FROM console_sessions WHERE token_id IN (SELECT id FROM tokens WHERE name = ?)", name).Error)
}
