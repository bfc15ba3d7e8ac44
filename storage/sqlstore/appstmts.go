package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// writeStmts are statements prepared on the write connection for the
// membership maintenance, whose folded evaluation of every app is long
// enough that preparing it took most of a single write's time. A
// statement cannot be prepared on the write pool inside a write (the
// transaction holds its one connection), so a statement seen for the
// first time runs unprepared and is prepared after the COMMIT, for the
// writes that follow.
type writeStmts struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]struct{}
}

// maxWriteStmts bounds the cache: the texts follow the shapes of the apps'
// predicates, which change only when apps do.
const maxWriteStmts = 64

func (w *writeStmts) get(q string) *sql.Stmt {
	w.mu.Lock()
	defer w.mu.Unlock()
	st, ok := w.stmts[q]
	if !ok {
		if w.pending == nil {
			w.pending = map[string]struct{}{}
		}
		w.pending[q] = struct{}{}
	}
	return st
}

// preparePending prepares the statements writes asked for. It runs after
// a write, on the free write connection, still under the write lock.
func (s *Store) preparePending(ctx context.Context) {
	w := &s.wstmts
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return
	}
	if w.stmts == nil || len(w.stmts)+len(w.pending) > maxWriteStmts {
		for _, st := range w.stmts {
			st.Close()
		}
		w.stmts = map[string]*sql.Stmt{}
	}
	for q := range w.pending {
		st, err := s.writeDB.PrepareContext(context.WithoutCancel(ctx), q)
		if err != nil {
			// Not fatal: the statement keeps running unprepared.
			s.log.Debug("prepare a view maintenance statement", "err", err)
			continue
		}
		w.stmts[q] = st
	}
	w.pending = nil
}

func (w *writeStmts) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.stmts {
		st.Close()
	}
	w.stmts, w.pending = nil, nil
}

// queryPrepared runs a query of the maintenance through the statement
// cache, without ctx's cancellation (as bulk statements run).
func (tx *txn) queryPrepared(q string, args ...any) (*sql.Rows, error) {
	q = tx.dialect.rebind(q)
	ctx := context.WithoutCancel(tx.ctx)
	if st := tx.wstmts.get(q); st != nil {
		rows, err := tx.sql.StmtContext(ctx, st).QueryContext(ctx, args...)
		return rows, translate(err)
	}
	rows, err := tx.sql.QueryContext(ctx, q, args...)
	return rows, translate(err)
}

// execPrepared runs a statement of the maintenance through the cache.
func (tx *txn) execPrepared(q string, args ...any) error {
	q = tx.dialect.rebind(q)
	ctx := context.WithoutCancel(tx.ctx)
	if st := tx.wstmts.get(q); st != nil {
		_, err := tx.sql.StmtContext(ctx, st).ExecContext(ctx, args...)
		return translate(err)
	}
	_, err := tx.sql.ExecContext(ctx, q, args...)
	return translate(err)
}
