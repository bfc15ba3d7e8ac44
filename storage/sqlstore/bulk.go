package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// bulkChunks are the row counts of the multi-row INSERT statements bulk
// writes are made of, largest first: n rows run as n/500 statements of 500
// rows and the rest in statements of 64, 8 and 1 rows. Each is prepared
// once on the write connection; preparing a 500-row statement for every
// batch cost an eighth of loading users.
var bulkChunks = []int{500, 64, 8, 1}

// plainInsert begins an INSERT in every dialect.
const plainInsert = "INSERT INTO "

// bulkTable is a multi-row INSERT into one table.
type bulkTable struct {
	name    string // for error messages
	into    string // "t (cols) VALUES "
	width   int    // values per row
	tail    string // e.g. " RETURNING id, seq"; empty for a plain insert
	returns bool
}

// The bulk inserts, each prepared in every size of bulkChunks when the
// store opens: plain users (CreateUsers), synced users (ApplyUsers), their
// value rows, and group memberships (ApplyGroups).
var (
	usersBulk = bulkTable{
		name:  "users",
		into:  "users (" + strings.Join(userColumns, ", ") + ") VALUES ",
		width: len(userColumns), tail: " RETURNING id, seq", returns: true,
	}
	// syncedUsersBulk inserts users with the columns CreateUsers writes
	// plus the sync columns, so a synced user is written once rather than
	// inserted and then updated.
	syncedUsersBulk = bulkTable{
		name:  "users",
		into:  "users (" + strings.Join(userColumns, ", ") + ", source_key, sync_hash) VALUES ",
		width: len(userColumns) + 2, tail: " RETURNING id, seq", returns: true,
	}
	valuesBulk = bulkTable{
		name:  "user_values",
		into:  "user_values (user_seq, attr, value, type, is_primary, display) VALUES ",
		width: 6,
	}
	// membersBulk inserts membership rows. They belong to groups created in
	// the same transaction, so none can exist yet; ON CONFLICT only keeps
	// the statement as forgiving as addKnownMembers.
	membersBulk = bulkTable{
		name:  "group_members",
		into:  "group_members (group_id, member_id, member_type) VALUES ",
		width: 3, tail: " ON CONFLICT DO NOTHING",
	}
	bulkTables = []bulkTable{usersBulk, syncedUsersBulk, valuesBulk, membersBulk}
)

// bulkKey names one prepared statement: a table's INSERT of rows rows.
type bulkKey struct {
	into string
	rows int
}

// bulkStatements are the prepared bulk INSERTs of a store's write
// connection. They are prepared at Open and closed at Close.
type bulkStatements struct {
	mu    sync.Mutex
	stmts map[bulkKey]*sql.Stmt
}

func (b *bulkStatements) get(t bulkTable, rows int) *sql.Stmt {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stmts[bulkKey{t.into, rows}]
}

func (b *bulkStatements) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range b.stmts {
		st.Close()
	}
	b.stmts = nil
}

// sql is the statement for rows rows, beginning with insert (plainInsert
// or a dialect's bulkInsert).
func (t bulkTable) sql(insert string, rows int) string {
	ph := "(" + placeholders(t.width) + ")"
	var sb strings.Builder
	sb.Grow(len(insert) + len(t.into) + rows*(len(ph)+2) + len(t.tail))
	sb.WriteString(insert)
	sb.WriteString(t.into)
	for i := 0; i < rows; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(ph)
	}
	sb.WriteString(t.tail)
	return sb.String()
}

// prepareBulk prepares every bulk statement on the write pool in the
// dialect's form. It runs at Open, while the write connection is free:
// preparing on the pool from inside a write transaction would wait for the
// connection that transaction holds.
func (s *Store) prepareBulk(ctx context.Context) error {
	stmts := make(map[bulkKey]*sql.Stmt, len(bulkTables)*len(bulkChunks))
	s.bulk.mu.Lock()
	s.bulk.stmts = stmts
	s.bulk.mu.Unlock()
	for _, t := range bulkTables {
		for _, n := range bulkChunks {
			st, err := s.writeDB.PrepareContext(ctx, s.dialect.rebind(t.sql(s.dialect.bulkInsert, n)))
			if err != nil {
				return fmt.Errorf("sqlstore: prepare bulk insert into %s: %w", t.name, err)
			}
			s.bulk.mu.Lock()
			stmts[bulkKey{t.into, n}] = st
			s.bulk.mu.Unlock()
		}
	}
	return nil
}

// bulkInsert inserts len(args)/t.width rows in as few statements as
// bulkChunks allow. When t returns rows, scan is called for each.
func bulkInsert(tx *txn, t bulkTable, args []any, scan func(*sql.Rows) error) error {
	rows := len(args) / t.width
	for _, n := range bulkChunks {
		for ; rows >= n; rows -= n {
			chunk := args[:n*t.width]
			args = args[n*t.width:]
			if err := bulkStatement(tx, t, n, chunk, scan); err != nil {
				return err
			}
		}
	}
	return nil
}

// bulkStatement runs the prepared statement of n rows in tx.
func bulkStatement(tx *txn, t bulkTable, n int, args []any, scan func(*sql.Rows) error) error {
	prepared := tx.bulk.get(t, n)
	if prepared == nil {
		return fmt.Errorf("sqlstore: bulk insert into %s of %d rows: not prepared (is the store closed?)", t.name, n)
	}
	tx.stats.inserted.Add(int64(n))
	// Without cancellation: go-sqlite3 starts a goroutine per returned row
	// for a cancellable context.
	ctx := context.WithoutCancel(tx.ctx)
	st := tx.sql.StmtContext(ctx, prepared)
	if !t.returns {
		_, err := st.ExecContext(ctx, args...)
		return translate(err)
	}
	res, err := st.QueryContext(ctx, args...)
	if err != nil {
		return translate(err)
	}
	defer res.Close()
	for res.Next() {
		if err := scan(res); err != nil {
			return translate(err)
		}
	}
	return translate(res.Err())
}
