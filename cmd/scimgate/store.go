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

	"github.com/scimgate/scimgate/sources"
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
	return s, nil
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
// only, see sources.Runner.RecoverInterrupted). When it cannot, the runs'
// leases still expire and the next run marks them abandoned.
func recoverRuns(ctx context.Context, runner *sources.Runner, logger *slog.Logger) {
	if err := runner.RecoverInterrupted(ctx); err != nil {
		logger.Warn("cannot mark interrupted runs failed; they will be once their leases expire", "error", err)
	}
}
