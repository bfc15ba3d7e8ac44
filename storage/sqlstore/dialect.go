package sqlstore

import (
	"github.com/scimgate/scimgate/storage"
	"runtime"
	"strconv"
	"strings"
)

// dialect collects everything that differs between SQL databases.
type dialect struct {
	name string
	// rebind turns ?-placeholders into the dialect's own.
	rebind func(string) string
	// match builds a substring/prefix/suffix test (co, sw, ew) of col
	// against v. exact says whether the column holds case-exact values;
	// otherwise both the column and v are already lower-cased.
	match    func(col string, exact bool, op storage.Op, v string) (string, []any)
	falseLit string
	// inJSONArray tests col against the elements of a JSON array of
	// strings passed as one argument, so a statement's text does not
	// depend on the number of values.
	inJSONArray func(col string) string
}

var sqliteDialect = dialect{
	name:   "sqlite",
	rebind: func(q string) string { return q },
	// SQLite's LIKE ignores ASCII case, so case-exact columns use GLOB,
	// which compares bytes.
	match: func(col string, exact bool, op storage.Op, v string) (string, []any) {
		if exact {
			g := escapeGlob(v)
			switch op {
			case storage.OpSw:
				g += "*"
			case storage.OpEw:
				g = "*" + g
			default:
				g = "*" + g + "*"
			}
			return col + " GLOB ?", []any{g}
		}
		l := escapeLike(v)
		switch op {
		case storage.OpSw:
			l += "%"
		case storage.OpEw:
			l = "%" + l
		default:
			l = "%" + l + "%"
		}
		return col + ` LIKE ? ESCAPE '\'`, []any{l}
	},
	falseLit:    "0",
	inJSONArray: func(col string) string { return col + " IN (SELECT value FROM json_each(?))" },
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

// numberedPlaceholders rewrites ? to $1, $2, ... (PostgreSQL).
func numberedPlaceholders(q string) string {
	var b strings.Builder
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

var _ = numberedPlaceholders

// defaultMaxConns sizes the read pool: SQLite reads are CPU-bound, so a
// few connections per core keep every core busy, and each connection more
// is one page cache more.
func defaultMaxConns() int { return 2*runtime.GOMAXPROCS(0) + 2 }
