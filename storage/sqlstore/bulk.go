package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"gorm.io/gorm"
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

var (
	usersBulk = bulkTable{
		name:  "users",
		into:  "users (" + strings.Join(userColumns, ", ") + ") VALUES ",
		width: len(userColumns), tail: " RETURNING id, seq", returns: true,
	}
	valuesBulk = bulkTable{
		name:  "user_values",
		into:  "user_values (user_seq, attr, value, type, is_primary, display) VALUES ",
		width: 6,
	}
	bulkTables = []bulkTable{usersBulk, valuesBulk}
)

// sql is the statement for rows rows, beginning with insert (plainInsert
// or a dialect's bulkInsert).
func (t bulkTable) sql(insert string, rows int) string {
	ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", t.width), ", ") + ")"
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
// dialect's form, cached under its plain ?-text. It runs at Open, while
// the write connection is free: preparing on the pool from inside a write
// transaction would wait for the connection that transaction holds.
func (s *Store) prepareBulk(ctx context.Context) error {
	for _, t := range bulkTables {
		for _, n := range bulkChunks {
			q := t.sql(plainInsert, n)
			st, err := s.writeDB.PrepareContext(ctx, s.dialect.rebind(t.sql(s.dialect.bulkInsert, n)))
			if err != nil {
				return fmt.Errorf("sqlstore: prepare bulk insert into %s: %w", t.name, err)
			}
			s.wstmts[q] = st
		}
	}
	return nil
}

// bulkInsert inserts len(args)/t.width rows in as few statements as
// bulkChunks allow. When t returns rows, scan is called for each.
func bulkInsert(tx *gorm.DB, t bulkTable, args []any, scan func(*sql.Rows) error) error {
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

// bulkStatement runs one statement of n rows, through the prepared
// statement when the transaction is one of ours, else through gorm as a
// plain INSERT.
func bulkStatement(tx *gorm.DB, t bulkTable, n int, args []any, scan func(*sql.Rows) error) error {
	q := t.sql(plainInsert, n)
	if s, ok := tx.Statement.Context.Value(storeKey{}).(*Store); ok {
		s.stats.inserted.Add(int64(n))
	}
	// Without cancellation: go-sqlite3 starts a goroutine per returned row
	// for a cancellable context.
	ctx := context.WithoutCancel(tx.Statement.Context)
	st := preparedInTx(ctx, tx, q)
	if !t.returns {
		if st != nil {
			_, err := st.ExecContext(ctx, args...)
			return translate(err)
		}
		return translate(tx.Exec(q, args...).Error)
	}
	var res *sql.Rows
	var err error
	if st != nil {
		res, err = st.QueryContext(ctx, args...)
	} else {
		res, err = tx.Raw(q, args...).Rows()
	}
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

// preparedInTx returns the cached statement q bound to tx, or nil when tx
// is not a database/sql transaction of a store that prepared q.
func preparedInTx(ctx context.Context, tx *gorm.DB, q string) *sql.Stmt {
	sqlTx, isTx := tx.Statement.ConnPool.(*sql.Tx)
	s, isStore := tx.Statement.Context.Value(storeKey{}).(*Store)
	if !isTx || !isStore {
		return nil
	}
	s.wstmtMu.Lock()
	st := s.wstmts[q]
	s.wstmtMu.Unlock()
	if st == nil {
		return nil
	}
	return sqlTx.StmtContext(ctx, st)
}
