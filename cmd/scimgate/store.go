package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"time"

	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// openStore opens (creating and migrating if needed) the database cfg.DB.
//
// now is the one clock of the process: the store stamps with it and the
// sync engine measures against those stamps.
func openStore(ctx context.Context, cfg Config, logger *slog.Logger, now func() time.Time) (storage.Store, error) {
	s, err := sqlstore.Open(ctx, cfg.DB, sqlstore.Options{Logger: logger, MaxOpenConns: int(cfg.DBMaxConns), Now: now})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactDSN(cfg.DB), err)
	}
	if !sqlstore.IsPostgres(cfg.DB) {
		warnReadableDB(cfg.DB, logger)
	}
	return s, nil
}

// warnReadableDB warns about a SQLite file (made by an older release, or
// by hand) that group or others may read: it holds token hashes and
// sealed secrets, and SQLite gives its -wal and -shm files the same mode.
// It is a warning, not a refusal, as the operator may share it on purpose.
func warnReadableDB(path string, logger *slog.Logger) {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	logger.Warn("the database file is readable by group or others; run chmod 600 on it and its -wal and -shm files",
		"db", path, "mode", fmt.Sprintf("%04o", fi.Mode().Perm()))
}

// kvPassword matches the password of a key=value DSN such as PostgreSQL's
// "host=db user=scim password=secret".
var kvPassword = regexp.MustCompile(`(?i)\b(password\s*=\s*)('[^']*'|\S+)`)

// redactDSN hides the password of a database DSN so it can be logged or put
// in an error. A SQLite path comes back unchanged.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.User != nil {
		return u.Redacted()
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}

// keyFileProblem refuses a secret key file that group or others may read:
// anyone who can read it can open every sealed source secret. A missing
// file is no problem (it is created 0600).
func keyFileProblem(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("secret key file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("secret key file %s is readable by group or others (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	return nil
}

// servedAlone reports whether this process alone serves the database: a
// SQLite file has one server, a PostgreSQL database may have several.
func servedAlone(cfg Config) bool { return !sqlstore.IsPostgres(cfg.DB) }

// recoverRuns fails the runs a stopped process left unfinished (SQLite
// only, see engine.Runner.RecoverInterrupted). When it cannot, the runs'
// leases still expire and the next run marks them abandoned.
func recoverRuns(ctx context.Context, runner *engine.Runner, logger *slog.Logger) {
	if err := runner.RecoverInterrupted(ctx); err != nil {
		logger.Warn("cannot mark interrupted runs failed; they will be once their leases expire", "error", err)
	}
}
