package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// txn is one write transaction with what the helpers that run in it need,
// passed down explicitly from write: nothing is looked up in a context or
// dug out of gorm.
//
// gorm earns its place as the statement layer over the transaction: it
// expands a slice argument of "IN ?" into a list of placeholders, scans
// result rows into structs and scalars, and rebinds placeholders for
// PostgreSQL. Statements that must be prepared once and run many times
// (bulk inserts, per-row updates) use the *sql.Tx directly.
type txn struct {
	ctx     context.Context
	orm     *gorm.DB // gorm, running its statements on sql
	sql     *sql.Tx
	dialect dialect
	now     func() time.Time
	// bulk are the store's prepared multi-row INSERTs (bulk.go); stats
	// counts the rows they insert, for PostgreSQL's planner statistics.
	bulk  *bulkStatements
	stats *growthStats

	// touch records the users this transaction may have moved into or
	// out of application views; refreshViews acts on it before COMMIT.
	// apps is the store's app cache, preds the apps read once per
	// transaction (apptouch.go).
	touch       touchSet
	apps        *appCache
	wstmts      *writeStmts
	preds       []*appPred
	predsLoaded bool
	// pushed are the apps with a push whose view this transaction changed;
	// noPush: the schema predates push (apppush.go).
	pushed map[string]struct{}
	noPush bool
	// wholeViews: the schema has migration 14's view state (appwhole.go).
	wholeViews bool
	// noLinks: the schema predates identity linking (migrate_links.go).
	noLinks bool
}

// write runs fn in one serialised transaction on the write connection.
// Whatever the outcome, the generation moves on afterwards, so no count
// taken before the write is served after it. A panic in fn rolls the
// transaction back before it propagates.
func (s *Store) write(ctx context.Context, fn func(tx *txn) error) (err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.gen.Add(1)
	sqlTx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			sqlTx.Rollback()
		}
	}()
	// gorm runs on our transaction, as its own Begin would set it up: a
	// session of the write pool's gorm whose connection is sqlTx.
	orm := s.wdb.Session(&gorm.Session{Context: ctx, NewDB: true})
	orm.Statement.ConnPool = sqlTx
	tx := &txn{
		ctx: ctx, orm: orm, sql: sqlTx, dialect: s.dialect, now: s.now,
		bulk: &s.bulk, stats: &s.stats, apps: &s.apps, wstmts: &s.wstmts,
		// Before migration 8 there are no apps (and no table to read).
		predsLoaded: s.schema > 0 && s.schema < appsVersion,
		noPush:      s.schema > 0 && s.schema < pushVersion,
		wholeViews:  s.wholeViews(),
		noLinks:     !s.hasLinks(),
	}
	if s.dialect.writeLock != "" {
		if err := tx.exec(s.dialect.writeLock); err != nil {
			return fmt.Errorf("take the write lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := refreshViews(tx); err != nil {
		return fmt.Errorf("maintain application views: %w", err)
	}
	if err := savePushChanges(tx); err != nil {
		return fmt.Errorf("record changes to pushed views: %w", err)
	}
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	committed = true
	s.preparePending(ctx)
	s.analyzeIfGrown(ctx)
	return nil
}

// exec runs one statement through gorm and translates its error.
func (tx *txn) exec(q string, args ...any) error {
	return translate(tx.orm.Exec(q, args...).Error)
}

// prepare prepares q on the transaction's connection, for a statement run
// once per row; done releases it. The statement runs without ctx's
// cancellation, as bulk statements do: go-sqlite3 watches a cancellable
// context with a goroutine per statement.
func (tx *txn) prepare(q string) (exec func(args ...any) error, done func(), err error) {
	ctx := context.WithoutCancel(tx.ctx)
	st, err := tx.sql.PrepareContext(ctx, tx.dialect.rebind(q))
	if err != nil {
		return nil, nil, translate(err)
	}
	exec = func(args ...any) error {
		_, err := st.ExecContext(ctx, args...)
		return translate(err)
	}
	return exec, func() { st.Close() }, nil
}
