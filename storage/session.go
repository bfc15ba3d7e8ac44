package storage

import (
	"context"
	"time"
)

// ConsoleSession is a signed-in admin's session of the web console. The
// browser holds only a random cookie value; the store keeps its SHA-256,
// so neither a database dump nor a log line can be replayed as a cookie.
// Sessions live in the database so every replica behind a load balancer
// honours them and a sign-out ends them everywhere.
type ConsoleSession struct {
	Hash    []byte // SHA-256 of the cookie value
	TokenID string // the admin token signed in with ("bootstrap" for SCIMGATE_ADMIN_TOKEN)
	Actor   string // the token's name, recorded in the audit log
	// CSRF is the session's anti-forgery secret, echoed by every form.
	CSRF     string
	Created  time.Time
	LastSeen time.Time // moved by TouchConsoleSession; idle expiry counts from it
	// Expires is the absolute end, whatever the activity.
	Expires time.Time
}

// ConsoleSessionStore keeps console sessions.
type ConsoleSessionStore interface {
	// CreateConsoleSession stores s. ErrConflict if its hash exists.
	CreateConsoleSession(ctx context.Context, s ConsoleSession) error
	// GetConsoleSession returns the session with this hash. ErrNotFound if
	// there is none.
	GetConsoleSession(ctx context.Context, hash []byte) (ConsoleSession, error)
	// TouchConsoleSession moves LastSeen to at; an earlier at changes
	// nothing. ErrNotFound if there is no such session.
	TouchConsoleSession(ctx context.Context, hash []byte, at time.Time) error
	// DeleteConsoleSession ends one session (sign-out). ErrNotFound if
	// there is none.
	DeleteConsoleSession(ctx context.Context, hash []byte) error
	// DeleteConsoleSessionsOf ends every session signed in with a token
	// (the token was revoked); it returns how many ended. DeleteToken does
	// this itself for a stored token.
	DeleteConsoleSessionsOf(ctx context.Context, tokenID string) (int, error)
	// DeleteExpiredConsoleSessions removes sessions whose Expires is before
	// now or whose LastSeen is before idleSince; it returns how many.
	DeleteExpiredConsoleSessions(ctx context.Context, now, idleSince time.Time) (int, error)
}
