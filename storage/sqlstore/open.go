// Package sqlstore implements storage.Store over SQLite (the embedded
// default) and PostgreSQL (several replicas on one database), with
// database/sql for prepared statements and gorm as the statement layer
// over it (see txn.go for what gorm does for us).
// Everything that differs between SQL dialects lives in dialect.go and
// migrate_postgres.go, so the queries are written once.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
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
	// MaxOpenConns caps the read connection pool (SQLite: default
	// 2×GOMAXPROCS+2, as reads are CPU-bound and more connections than
	// cores only add page caches; PostgreSQL: default 10). Writes have one
	// connection of their own.
	MaxOpenConns int
	// ConnMaxLifetime closes connections after this long (PostgreSQL
	// only; default 30 minutes), so a pool follows a database fail-over or
	// a rebalanced connection pooler. Negative: never.
	ConnMaxLifetime time.Duration

	// schemaVersion stops migrating after this version (0: migrate to the
	// latest), so that tests can make a database as an older release left
	// it.
	schemaVersion int
}

// Page cache sizes, in KiB. Every connection has a private cache, so the
// process's memory is about readCacheKiB × readers + writeCacheKiB however
// large the database grows; pages not cached are read from the operating
// system's file cache. The writer's cache is larger because bulk inserts
// touch every index.
const (
	readCacheKiB  = 4096
	writeCacheKiB = 16384
)

// Store is the SQL storage.Store. Reads of pages run prepared statements
// on sqlDB; other reads go through gorm on the same pool; writes run in a
// txn on the one write connection.
type Store struct {
	db      *gorm.DB // reads (and anything else not in a write transaction)
	sqlDB   *sql.DB  // the read pool behind db
	wdb     *gorm.DB // write transactions, over writeDB
	writeDB *sql.DB  // one connection: SQLite has one writer anyway
	dialect dialect
	log     *slog.Logger
	now     func() time.Time
	schema  int // Options.schemaVersion

	// writeMu serialises write transactions: SQLite has one writer, and
	// queueing here instead of inside SQLite means concurrent SCIM writes
	// wait their turn rather than surfacing SQLITE_BUSY.
	writeMu sync.Mutex

	stmtMu sync.RWMutex
	stmts  map[string]*sql.Stmt // prepared read statements by SQL text

	bulk bulkStatements // prepared on the write connection at Open

	// readSlots admits reads to the read pool first come, first served:
	// database/sql hands a freed connection to a random waiter, which
	// under load made the slowest 1% of list requests several times
	// slower than the median.
	readSlots chan struct{}

	// gen moves on after every write transaction; counts caches COUNT
	// results of the current generation.
	gen    atomic.Uint64
	counts countCache

	// stats decides when PostgreSQL's statistics are refreshed after
	// bulk inserts (see pg_analyze.go).
	stats growthStats

	// apps caches applications and their compiled view predicates
	// (appcache.go).
	apps appCache
	// departed knows which views hold deleted users now (appdeparted.go).
	departed departedCache
	wstmts   writeStmts // appstmts.go
	// stamps is SQLite's connection for ReadStamp (stamp.go); nil on
	// PostgreSQL.
	stamps *stampReader
	// pgStamps hears PostgreSQL's write notifications for ReadStamp
	// (stamp_postgres.go); nil on SQLite.
	pgStamps *pgStamps
}

var _ storage.Store = (*Store)(nil)

// Now is the store's clock (Options.Now).
func (s *Store) Now() time.Time { return s.now() }

// Open opens the database named by dsn (for SQLite a file path, created if
// missing), applies pending migrations and returns the store.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn, opts)
	}
	if err := createPrivate(dsn); err != nil {
		return nil, fmt.Errorf("sqlstore: create %s: %w", dsn, err)
	}
	// The writer opens first so that a new file is created (and switched to
	// WAL) by one connection before readers attach.
	registerWriterDriver()
	writeDB, wdb, err := openPool(writerDriver, sqliteDSN(dsn, writeCacheKiB), 1)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	maxConns := opts.MaxOpenConns
	if maxConns <= 0 {
		maxConns = defaultMaxConns()
	}
	sqlDB, gdb, err := openPool("sqlite3", sqliteDSN(dsn, readCacheKiB), maxConns)
	if err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	stamps, err := openStampReader(ctx, dsn)
	if err != nil {
		writeDB.Close()
		sqlDB.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", dsn, err)
	}
	s := newStore(gdb, sqlDB, wdb, writeDB, sqliteDialect, maxConns, opts)
	s.stamps = stamps
	return start(ctx, s)
}

func newStore(gdb *gorm.DB, sqlDB *sql.DB, wdb *gorm.DB, writeDB *sql.DB, d dialect, maxConns int, opts Options) *Store {
	return &Store{
		db: gdb, sqlDB: sqlDB, wdb: wdb, writeDB: writeDB,
		dialect: d, log: opts.Logger, now: opts.Now, schema: opts.schemaVersion,
		stmts:     make(map[string]*sql.Stmt),
		readSlots: make(chan struct{}, maxConns),
	}
}

// start migrates a newly opened store and prepares its bulk statements.
func start(ctx context.Context, s *Store) (*Store, error) {
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareBulk(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// createPrivate creates a missing SQLite file with mode 0600 before SQLite
// opens it: SQLite would make it 0644 (under the usual umask), and it gives
// the -wal and -shm files the database file's mode, so all three stay
// readable by the owner alone. An existing file keeps the mode its owner
// chose.
func createPrivate(dsn string) error {
	path, _, _ := strings.Cut(dsn, "?")
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil // in-memory, or a URI the caller spelled out
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// writerDriver is go-sqlite3 with the write connection's settings that
// have no DSN parameter.
const writerDriver = "sqlite3_scimgate_writer"

var registerWriterDriver = sync.OnceFunc(func() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// Checkpoint after about 40 MB of WAL rather than 4 MB: every
		// checkpoint waits for fsync, and loading 100,000 users wrote
		// enough WAL for dozens of them. The limit truncates the file
		// again after a large burst.
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864", nil)
		return err
	}})
})

// openPool opens one database/sql pool and gorm on top of it.
func openPool(driver, dsn string, conns int) (*sql.DB, *gorm.DB, error) {
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, err
	}
	gdb, err := gorm.Open(sqlite.New(sqlite.Config{Conn: sqlDB}), gormConfig())
	if err != nil {
		sqlDB.Close()
		return nil, nil, err
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return sqlDB, gdb, nil
}

func gormConfig() *gorm.Config {
	return &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true}
}

// sqliteDSN adds the connection settings every connection needs: WAL so
// readers never block the writer, a busy timeout for other processes (the
// token CLI) writing the same file, foreign keys, a bounded page cache, and
// BEGIN IMMEDIATE so a write transaction takes the write lock up front
// instead of failing half-way when it upgrades.
func sqliteDSN(path string, cacheKiB int) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_busy_timeout", "10000")
	v.Set("_foreign_keys", "on")
	v.Set("_synchronous", "NORMAL")
	v.Set("_cache_size", strconv.Itoa(-cacheKiB))
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

// Close closes prepared statements and both pools.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[string]*sql.Stmt{}
	s.stmtMu.Unlock()
	s.bulk.close()
	s.wstmts.close()
	s.stamps.close()
	s.pgStamps.close()
	werr := s.writeDB.Close()
	if err := s.sqlDB.Close(); err != nil {
		return err
	}
	return werr
}

// admit waits for a read slot (in arrival order: waiting senders on a
// channel are served FIFO) and returns the function that frees it.
func (s *Store) admit(ctx context.Context) (func(), error) {
	select {
	case s.readSlots <- struct{}{}:
		return func() { <-s.readSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// maxCachedStmts bounds the prepared-statement cache; filter shapes are few
// in practice, but a client could send many distinct ones.
const maxCachedStmts = 512

// query runs a read through a cached prepared statement.
//
// The statement runs without ctx's cancellation: go-sqlite3 starts a
// goroutine for every row it returns when the context can be cancelled,
// which doubled the cost of a 100-row page. Reads are bounded by LIMIT;
// ctx is checked before the query starts, and readers check it between rows.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx = context.WithoutCancel(ctx)
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
