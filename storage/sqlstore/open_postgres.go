package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// IsPostgres reports whether dsn names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Pool defaults for PostgreSQL: reads wait on the network rather than on
// a core, so the pool is larger than SQLite's; each connection is a
// server process, so it is not much larger.
const (
	pgDefaultMaxConns    = 10
	pgDefaultMaxLifetime = 30 * time.Minute
)

// openPostgres opens a read pool and a one-connection write pool on the
// PostgreSQL database dsn. Write transactions also take an advisory lock
// (dialect.writeLock), so they run one at a time across all replicas.
func openPostgres(ctx context.Context, dsn string, opts Options) (*Store, error) {
	maxConns := opts.MaxOpenConns
	if maxConns <= 0 {
		maxConns = pgDefaultMaxConns
	}
	lifetime := opts.ConnMaxLifetime
	switch {
	case lifetime == 0:
		lifetime = pgDefaultMaxLifetime
	case lifetime < 0:
		lifetime = 0 // database/sql: no limit
	}
	writeDB, wdb, err := openPostgresPool(dsn, 1, lifetime)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open PostgreSQL: %w", err)
	}
	sqlDB, gdb, err := openPostgresPool(dsn, maxConns, lifetime)
	if err != nil {
		writeDB.Close()
		return nil, fmt.Errorf("sqlstore: open PostgreSQL: %w", err)
	}
	if err := writeDB.PingContext(ctx); err != nil {
		writeDB.Close()
		sqlDB.Close()
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	s, err := start(ctx, newStore(gdb, sqlDB, wdb, writeDB, postgresDialect, maxConns, opts))
	if err != nil {
		return nil, err
	}
	s.pgStamps = listenStamps(ctx, dsn, opts.Logger)
	return s, nil
}

func openPostgresPool(dsn string, conns int, lifetime time.Duration) (*sql.DB, *gorm.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("parse the PostgreSQL URL: %w", err)
	}
	sqlDB := stdlib.OpenDB(*cfg)
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gormConfig())
	if err != nil {
		sqlDB.Close()
		return nil, nil, err
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sqlDB.SetConnMaxLifetime(lifetime)
	return sqlDB, gdb, nil
}
