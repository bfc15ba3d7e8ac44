package sqlstore

import (
	"runtime"
	"strconv"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// dialect collects everything that differs between SQL databases.
type dialect struct {
	name string
	// rebind turns ?-placeholders into the dialect's own.
	rebind func(string) string
	// match builds a substring/prefix/suffix test (co, sw, ew) of col
	// against v. exact says whether the column holds case-exact values;
	// otherwise both the column and v are already lower-cased.
	match func(col string, exact bool, op storage.Op, v string) (string, []any)
	// inJSONArray tests col against the elements of a JSON array of
	// strings passed as one argument, so a statement's text does not
	// depend on the number of values.
	inJSONArray func(col string) string
	// cacheCounts says whether COUNT results may be cached until this
	// process's next write (see counts.go). Only true where every write
	// goes through this process: with several replicas on one database a
	// write elsewhere would leave a stale count here.
	cacheCounts bool
	// writeLock, when set, runs first in every write transaction. On
	// PostgreSQL it takes a transaction-scoped advisory lock, so write
	// transactions of all replicas run one at a time, exactly as SQLite's
	// single writer runs them: the stores' read-modify-write code (version
	// checks, ownership, the deletion guard) stays correct across replicas.
	writeLock string
	// bulkInsert begins the prepared multi-row INSERTs (bulk.go). SQLite's
	// OR FAIL stops at a failing row but keeps the rows before it, so SQLite
	// need not keep a statement journal, a copy of every page the statement
	// changes written to a temporary file: 2.7 GB of such copies were the
	// largest cost of a first sync of 100,000 users. A failed statement's
	// rows never commit: every write transaction rolls back on any error.
	bulkInsert string
	// greatest is the function that returns the larger of its arguments
	// (SQLite's scalar max, PostgreSQL's GREATEST).
	greatest string
}

var sqliteDialect = dialect{
	name:   "sqlite",
	rebind: func(q string) string { return q },
	// SQLite's LIKE ignores ASCII case, so case-exact columns use GLOB,
	// which compares bytes.
	match: func(col string, exact bool, op storage.Op, v string) (string, []any) {
		if exact {
			return col + " GLOB ?", []any{pattern(escapeGlob(v), "*", op)}
		}
		return col + ` LIKE ? ESCAPE '\'`, []any{pattern(escapeLike(v), "%", op)}
	},
	inJSONArray: func(col string) string { return col + " IN (SELECT value FROM json_each(?))" },
	cacheCounts: true,
	bulkInsert:  "INSERT OR FAIL INTO ",
	greatest:    "max",
}

// postgresDialect expects text columns declared COLLATE "C" (see
// migrate_postgres.go): LIKE then compares bytes, as SQLite's GLOB does,
// ORDER BY sorts as SQLite's BINARY collation does, and a B-tree index
// serves equality, ranges and LIKE prefixes (sw) without text_pattern_ops.
var postgresDialect = dialect{
	name:   "postgres",
	rebind: numberedPlaceholders,
	// PostgreSQL's LIKE is case-sensitive, so it serves case-exact columns
	// as it is; folded columns and values are lower-cased already.
	match: func(col string, _ bool, op storage.Op, v string) (string, []any) {
		return col + ` LIKE ? ESCAPE '\'`, []any{pattern(escapeLike(v), "%", op)}
	},
	inJSONArray: func(col string) string { return col + " IN (SELECT json_array_elements_text(CAST(? AS json)))" },
	writeLock:   advisoryXactLock(advisoryWriteClass),
	bulkInsert:  plainInsert,
	greatest:    "GREATEST",
}

// advisoryClass is the first key of scimgate's PostgreSQL advisory locks;
// the second is derived from the schema, so several installations (or
// test schemas) in one database do not wait for each other.
const (
	advisoryWriteClass   = "735942"
	advisoryMigrateClass = "735943"
)

// advisoryXactLock is the statement that takes lock class for the current
// schema until the transaction ends. COALESCE: a NULL key would make the
// function return without locking.
func advisoryXactLock(class string) string {
	// The write notification (stamp_postgres.go) rides on the same
	// statement: it is sent only if the transaction commits.
	return "SELECT pg_advisory_xact_lock(" + class + ", hashtext(COALESCE(current_schema(), ''))), " + notifyWrite
}

// pattern wraps an escaped literal in the wildcard wild for op: a prefix
// test (sw), a suffix test (ew) or a substring test (co).
func pattern(lit, wild string, op storage.Op) string {
	switch op {
	case storage.OpSw:
		return lit + wild
	case storage.OpEw:
		return wild + lit
	}
	return wild + lit + wild
}

// escapeLike escapes LIKE wildcards in a literal.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// escapeGlob escapes GLOB wildcards in a literal.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '*', '?', '[':
			b.WriteString("[" + string(c) + "]")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// numberedPlaceholders rewrites ? to $1, $2, ... (PostgreSQL). Our SQL
// never has a ? inside a string literal, so every ? is a placeholder.
func numberedPlaceholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/8)
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// defaultMaxConns sizes the read pool: SQLite reads are CPU-bound, so a
// few connections per core keep every core busy, and each connection more
// is one page cache more.
func defaultMaxConns() int { return 2*runtime.GOMAXPROCS(0) + 2 }
