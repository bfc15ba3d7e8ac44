package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/scimgate/scimgate/storage"
)

// sortOrder is a query's order: by the sort column when there is one, then
// by seq (creation order), both in the same direction. Rows that lack the
// sort value come last in both directions.
type sortOrder struct {
	seq  string  // "users.seq"
	col  *column // nil: creation order only
	desc bool
}

func newSortOrder(t resourceTable, q storage.Query) (sortOrder, error) {
	o := sortOrder{seq: t.name + ".seq", desc: q.Descending}
	if q.SortBy == "" {
		return o, nil
	}
	col, ok := t.single[q.SortBy]
	if !ok || !col.sortable {
		return o, storage.Invalid(fmt.Sprintf("sorting by %q is not supported", q.SortBy))
	}
	o.col = &col
	return o, nil
}

// dir is the SQL direction of the order, or of its reverse.
func (o sortOrder) dir(reverse bool) string {
	if o.desc != reverse {
		return " DESC"
	}
	return " ASC"
}

// offsetClause is the ORDER BY of an offset page, which reads the whole
// order in one statement.
func (o sortOrder) offsetClause() string {
	d := o.dir(false)
	switch {
	case o.col == nil:
		return o.seq + d
	case o.col.notNull:
		return o.col.name + d + ", " + o.seq + d
	}
	return "(" + o.col.name + " IS NULL), " + o.col.name + d + ", " + o.seq + d
}

// keyExpr is what a page selects as each row's sort key.
func (o sortOrder) keyExpr() string {
	if o.col == nil {
		return "NULL"
	}
	return o.col.name
}

// run is a stretch of the order that one index serves without sorting:
// the rows that have the sort value (by value, then seq), or the rows that
// lack it (by seq). Splitting the order into runs is what keeps keyset
// pages on a nullable sort attribute from sorting every match.
type run struct {
	cond  string // besides the filter; "" for none
	args  []any
	order string
}

// keysetRuns returns the statements that read the keyset page q asks for,
// in reading order, and whether they read backwards (for Before).
func (o sortOrder) keysetRuns(q storage.Query) ([]run, bool, error) {
	backward := q.Before != nil
	k := q.After
	if backward {
		k = q.Before
	}
	// cmp selects rows beyond k in the reading direction.
	cmp := " > "
	if o.desc != backward {
		cmp = " < "
	}
	d := o.dir(backward)
	bySeq := run{order: o.seq + d}
	if o.col == nil {
		if k != nil {
			if k.Key != nil {
				return nil, false, storage.Invalid("the keyset has a sort value but the query is not sorted")
			}
			bySeq.cond, bySeq.args = o.seq+cmp+"?", []any{k.Seq}
		}
		return []run{bySeq}, backward, nil
	}
	var key any
	if k != nil {
		var err error
		if key, err = keyArg(*o.col, k.Key); err != nil {
			return nil, false, err
		}
	}
	byValue := run{order: o.col.name + d + ", " + o.seq + d}
	if o.col.notNull {
		if k != nil {
			if key == nil {
				return nil, false, storage.Invalid("the keyset lacks the sort value")
			}
			byValue.cond = "(" + o.col.name + ", " + o.seq + ")" + cmp + "(?, ?)"
			byValue.args = []any{key, k.Seq}
		}
		return []run{byValue}, backward, nil
	}
	byValue.cond = o.col.name + " IS NOT NULL"
	bySeq.cond = o.col.name + " IS NULL"
	switch {
	case k != nil && key != nil:
		byValue.cond += " AND (" + o.col.name + ", " + o.seq + ")" + cmp + "(?, ?)"
		byValue.args = []any{key, k.Seq}
	case k != nil:
		bySeq.cond += " AND " + o.seq + cmp + "?"
		bySeq.args = []any{k.Seq}
	}
	switch {
	case !backward && k != nil && key == nil:
		return []run{bySeq}, false, nil // past every row that has a value
	case !backward:
		return []run{byValue, bySeq}, false, nil
	case k != nil && key != nil:
		return []run{byValue}, true, nil // before every row that lacks one
	default:
		return []run{bySeq, byValue}, true, nil
	}
}

// keyArg checks a keyset's sort value against the column and returns it
// as a query argument.
func keyArg(col column, key any) (any, error) {
	if key == nil {
		return nil, nil
	}
	ok := false
	switch key.(type) {
	case string:
		ok = col.kind == kindFolded || col.kind == kindExact
	case bool:
		ok = col.kind == kindBool
	case int64:
		ok = col.kind == kindTime
	}
	if !ok {
		return nil, storage.Invalid(fmt.Sprintf("the keyset's sort value %T does not match the sort attribute", key))
	}
	return key, nil
}

// keyValue turns a scanned sort key into the form Keyset.Key documents.
func keyValue(col *column, v any) any {
	if col == nil || v == nil {
		return nil
	}
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int64:
		if col.kind == kindBool {
			return x != 0
		}
	}
	return v
}

// pageSink collects the rows of one page query.
type pageSink interface {
	// scan reads one row; its first two columns are seq and the sort key.
	scan(rows *sql.Rows, seq *int64, key *any) error
	truncate(n int)
	reverse()
}

// page is one page query of a table.
type page struct {
	table     string // FROM
	tableArgs []any  // the arguments of table's placeholders (an app's view)
	// grace, for an app's view of users, lets its count be cached.
	grace *countGrace
	// oneRow says the filter selects at most one row, so the page needs
	// no ORDER BY (SQLite sorts a view's one row otherwise).
	oneRow  bool
	columns string // the resource's columns, selected after seq and the key
	where   string // the compiled filter
	args    []any
	order   sortOrder
	q       storage.Query
}

// read runs the page query into sink and returns the page's bounds. A page
// starting at offset 0 (the first page, or any keyset page) is read run by
// run; one row more than the limit is read to learn whether there is more.
func (s *Store) read(ctx context.Context, p page, sink pageSink) (storage.PageBounds, error) {
	limit := p.q.Limit
	keys := make([]storage.Keyset, 0, min(limit+1, 1024))
	selectList := p.order.seq + ", " + p.order.keyExpr() + ", " + p.columns
	backward := false
	if p.q.Offset > 0 && p.q.After == nil && p.q.Before == nil {
		q := "SELECT " + selectList + " FROM " + p.table + " WHERE " + p.where +
			p.orderBy(p.order.offsetClause()) + " LIMIT ? OFFSET ?"
		var err error
		keys, err = s.scanPage(ctx, q, append(p.allArgs(), limit+1, p.q.Offset), p.order.col, sink, keys)
		if err != nil {
			return storage.PageBounds{}, err
		}
	} else {
		var runs []run
		var err error
		runs, backward, err = p.order.keysetRuns(p.q)
		if err != nil {
			return storage.PageBounds{}, err
		}
		for _, r := range runs {
			need := limit + 1 - len(keys)
			if need <= 0 {
				break
			}
			where, args := p.where, p.allArgs()
			if r.cond != "" {
				where = "(" + where + ") AND " + r.cond
				args = append(args, r.args...)
			}
			q := "SELECT " + selectList + " FROM " + p.table + " WHERE " + where + p.orderBy(r.order) + " LIMIT ?"
			if keys, err = s.scanPage(ctx, q, append(args, need), p.order.col, sink, keys); err != nil {
				return storage.PageBounds{}, err
			}
		}
	}
	var b storage.PageBounds
	if len(keys) > limit {
		b.More = true
		keys = keys[:limit]
		sink.truncate(limit)
	}
	if backward {
		slices.Reverse(keys)
		sink.reverse()
	}
	if len(keys) > 0 {
		b.First, b.Last = keys[0], keys[len(keys)-1]
	}
	return b, nil
}

// scanPage runs one statement into sink and appends the rows' keysets.
func (s *Store) scanPage(ctx context.Context, q string, args []any, col *column, sink pageSink, keys []storage.Keyset) ([]storage.Keyset, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for n := 0; rows.Next(); n++ {
		// Statements run without cancellation (see query); stop between
		// rows when the caller has gone.
		if n%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var seq int64
		var key any
		if err := sink.scan(rows, &seq, &key); err != nil {
			return nil, translate(err)
		}
		keys = append(keys, storage.Keyset{Key: keyValue(col, key), Seq: seq})
	}
	return keys, translate(rows.Err())
}

// total counts the matches of a page query unless the page itself tells:
// a page read forwards from its start that found no more rows ends the
// matches (unless it is empty past offset 0, which says nothing).
func (s *Store) total(ctx context.Context, p page, n int, b storage.PageBounds) (int, error) {
	q := p.q
	switch {
	case q.NoTotal:
		return -1, nil
	case q.Limit > 0 && !b.More && q.After == nil && q.Before == nil && (n > 0 || q.Offset == 0):
		return q.Offset + n, nil
	}
	return s.count(ctx, p)
}

// orderBy is the ORDER BY clause of a page query in order.
func (p page) orderBy(order string) string {
	if p.oneRow {
		return ""
	}
	return " ORDER BY " + order
}

// allArgs are the arguments of a page query: the table's, then the filter's.
func (p page) allArgs() []any {
	if len(p.tableArgs) == 0 {
		return slices.Clip(p.args)
	}
	return append(slices.Clip(p.tableArgs), p.args...)
}

// isKeyset reports whether q asks for a keyset page, which must not also
// skip rows by offset.
func isKeyset(q storage.Query) (bool, error) {
	keyset := q.After != nil || q.Before != nil
	switch {
	case q.After != nil && q.Before != nil:
		return false, storage.Invalid("a query takes After or Before, not both")
	case keyset && q.Offset > 0:
		return false, storage.Invalid("a keyset query cannot also skip rows by offset")
	}
	return keyset, nil
}
