// Package sqlstore implements storage.Store with gorm over SQLite (the
// embedded default). Everything that differs between SQL dialects lives in
// dialect.go, so PostgreSQL can join without touching the queries.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/scimgate/scimgate/storage"
)

// Options tunes Open.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; tests may inject one. Default time.Now.
	Now func() time.Time
	// MaxOpenConns caps the connection pool (default 2×GOMAXPROCS+2 for
	// SQLite, enough readers for WAL while one writer works).
	MaxOpenConns int
}

// Store is the gorm-backed storage.Store.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect dialect
	log     *slog.Logger
	now     func() time.Time

	// writeMu serialises write transactions: SQLite has one writer, and
	// queueing here instead of inside SQLite means concurrent SCIM writes
	// wait their turn rather than surfacing SQLITE_BUSY.
	writeMu sync.Mutex

	stmtMu sync.RWMutex
	stmts  map[string]*sql.Stmt // prepared read statements by SQL text
}

var _ storage.Store = (*Store)(nil)

// Open opens the database named by dsn (for SQLite a file path, created if
// missing), applies pending migrations and returns the store.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return nil, fmt.Errorf("sqlstore: PostgreSQL is not supported yet; use a SQLite file path")
	}
	sqlDB, err := sql.Open("sqlite3", sqliteDSN(dsn))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	gdb, err := gorm.Open(sqlite.New(sqlite.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
	})
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	maxConns := opts.MaxOpenConns
	if maxConns <= 0 {
		maxConns = defaultMaxConns()
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)

	s := &Store{
		db: gdb, sqlDB: sqlDB, dialect: sqliteDialect, log: opts.Logger, now: opts.Now,
		stmts: make(map[string]*sql.Stmt),
	}
	if err := s.migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN adds the connection settings every connection needs: WAL so
// readers never block the writer, a busy timeout for other processes (the
// token CLI) writing the same file, foreign keys, and BEGIN IMMEDIATE so a
// write transaction takes the write lock up front instead of failing
// half-way when it upgrades.
func sqliteDSN(path string) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_busy_timeout", "10000")
	v.Set("_foreign_keys", "on")
	v.Set("_synchronous", "NORMAL")
	v.Set("_cache_size", "-16000")
	v.Set("_txlock", "immediate")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return "file:" + path + sep + v.Encode()
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	return nil
}

// Close closes prepared statements and the pool.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[string]*sql.Stmt{}
	s.stmtMu.Unlock()
	return s.sqlDB.Close()
}

// write runs fn in one serialised transaction.
func (s *Store) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.db.WithContext(ctx).Transaction(fn)
}

// maxCachedStmts bounds the prepared-statement cache; filter shapes are few
// in practice, but a client could send many distinct ones.
const maxCachedStmts = 512

// query runs a read through a cached prepared statement.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = s.dialect.rebind(q)
	s.stmtMu.RLock()
	st, ok := s.stmts[q]
	s.stmtMu.RUnlock()
	if !ok {
		prepared, err := s.sqlDB.PrepareContext(ctx, q)
		if err != nil {
			return nil, translate(err)
		}
		s.stmtMu.Lock()
		if existing, dup := s.stmts[q]; dup {
			prepared.Close()
			st = existing
		} else if len(s.stmts) < maxCachedStmts {
			s.stmts[q] = prepared
			st = prepared
		} else {
			s.stmtMu.Unlock()
			defer prepared.Close()
			rows, err := prepared.QueryContext(ctx, args...)
			return rows, translate(err)
		}
		s.stmtMu.Unlock()
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, translate(err)
}
