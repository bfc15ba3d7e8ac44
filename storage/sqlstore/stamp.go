package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
)

// ReadStamp returns a value that changes whenever a write commits, for
// caches of rendered reads and of tokens (scim.Stamper): equal stamps mean
// the database holds what it held before.
//
// On SQLite it is PRAGMA data_version of a connection that never writes:
// it changes when any other connection commits, this store's writer or
// another process on the same file (the token CLI), and costs no table
// read. On PostgreSQL, written by other replicas too, it counts the
// notifications every write transaction sends (stamp_postgres.go), and
// while those cannot be heard it is the current snapshot
// (xmin:xmax:in-progress transactions): a transaction that commits
// anywhere changes it, and two equal snapshots see the same rows. Either
// is cheaper than the page or the token it saves.
func (s *Store) ReadStamp(ctx context.Context) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	if s.stamps != nil {
		v, err := s.stamps.read()
		if err != nil {
			return "", false, fmt.Errorf("sqlstore: read stamp: %w", translate(err))
		}
		return strconv.FormatInt(v, 10), true, nil
	}
	if st, ok := s.pgStamps.stamp(s.gen.Load()); ok {
		return st, true, nil
	}
	return s.snapshotStamp(ctx)
}

// stampReader is one read-only SQLite connection kept for data_version,
// whose value is per connection: it must be asked on the same one, so the
// connection is pinned (a replaced one could count up to an old value).
// The statement runs on the driver's connection directly (sql.Conn.Raw),
// which took a third off the cost of a read through database/sql; it is
// only ever used inside Raw, which gives exclusive use of the connection.
type stampReader struct {
	db   *sql.DB
	conn *sql.Conn
	stmt driver.StmtQueryContext
}

// stampCacheKiB is the stamp connection's page cache: it reads the file
// header only.
const stampCacheKiB = 64

func openStampReader(ctx context.Context, dsn string) (*stampReader, error) {
	db, err := sql.Open("sqlite3", sqliteDSN(dsn, stampCacheKiB))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	r := &stampReader{db: db, conn: conn}
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("the SQLite driver's connection cannot prepare")
		}
		st, err := c.PrepareContext(ctx, "PRAGMA data_version")
		if err != nil {
			return err
		}
		if r.stmt, ok = st.(driver.StmtQueryContext); !ok {
			st.Close()
			return fmt.Errorf("the SQLite driver's statement cannot query")
		}
		return nil
	})
	if err != nil {
		conn.Close()
		db.Close()
		return nil, err
	}
	return r, nil
}

func (r *stampReader) read() (int64, error) {
	var v int64
	err := r.conn.Raw(func(any) error {
		// Without a cancellable context: go-sqlite3 would start a
		// goroutine for the statement (see Store.query).
		rows, err := r.stmt.QueryContext(context.Background(), nil)
		if err != nil {
			return err
		}
		defer rows.Close()
		dest := make([]driver.Value, 1)
		if err := rows.Next(dest); err != nil {
			return err
		}
		n, ok := dest[0].(int64)
		if !ok {
			return fmt.Errorf("data_version is a %T", dest[0])
		}
		v = n
		return nil
	})
	return v, err
}

func (r *stampReader) close() {
	if r != nil {
		r.conn.Raw(func(any) error { return r.stmt.(driver.Stmt).Close() })
		r.conn.Close()
		r.db.Close()
	}
}
