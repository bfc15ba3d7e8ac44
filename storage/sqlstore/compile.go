package sqlstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// colKind says how a column stores and compares its values.
type colKind int

const (
	kindFolded colKind = iota // case-insensitive string, stored lower-cased
	kindExact                 // case-exact string
	kindBool
	kindTime // unix milliseconds
)

type column struct {
	name     string
	kind     colKind
	notNull  bool
	sortable bool
}

// multiTable describes the child table behind a multi-valued attribute.
type multiTable struct {
	// from and join select the child rows of the outer row; attrFilter,
	// when set, restricts them to one attribute.
	from, join string
	attrFilter bool
	subs       map[storage.Attr]column
}

// resourceTable is everything the compiler needs to know about one table.
type resourceTable struct {
	name   string
	single map[storage.Attr]column
	multi  map[storage.Attr]multiTable
}

// childJoin is how a child table of storage's attribute tables joins its
// parent: the alias its columns are named by, and the join condition.
type childJoin struct {
	alias, join string
	attrFilter  bool // one table for several attributes, told apart by attr
}

var childJoins = map[string]childJoin{
	"user_values":   {alias: "v", join: "v.user_seq = users.seq", attrFilter: true},
	"group_members": {alias: "m", join: "m.group_id = groups.id"},
}

func kindOf(t storage.AttrType, caseExact bool) colKind {
	switch {
	case t == storage.TypeBoolean:
		return kindBool
	case t == storage.TypeDateTime:
		return kindTime
	case caseExact:
		return kindExact
	}
	return kindFolded
}

// newResourceTable derives the compiler's view of table name from the
// resource's attribute table.
func newResourceTable[R storage.Resource](name string, attrs []storage.AttrSpec[R]) resourceTable {
	t := resourceTable{name: name, single: map[storage.Attr]column{}, multi: map[storage.Attr]multiTable{}}
	for _, a := range attrs {
		if a.Values == nil {
			t.single[a.Attr] = column{
				name: name + "." + a.Column, kind: kindOf(a.Type, a.CaseExact),
				notNull: a.Required, sortable: a.Sortable,
			}
			continue
		}
		j, ok := childJoins[a.Values.Name]
		if !ok {
			panic("sqlstore: no join for child table " + a.Values.Name)
		}
		mt := multiTable{
			from: a.Values.Name + " " + j.alias, join: j.join, attrFilter: j.attrFilter,
			subs: map[storage.Attr]column{},
		}
		for _, sub := range a.Values.Subs {
			mt.subs[sub.Attr] = column{name: j.alias + "." + sub.Column, kind: kindOf(sub.Type, sub.CaseExact), notNull: sub.Required}
		}
		t.multi[a.Attr] = mt
	}
	return t
}

var (
	usersTable  = newResourceTable("users", storage.UserAttrs())
	groupsTable = newResourceTable("groups", storage.GroupAttrs())
)

// compiler turns a filter tree into a parameterised WHERE clause.
type compiler struct {
	d    dialect
	sb   strings.Builder
	args []any
	// depth counts the open parentheses, pending the operands that wait
	// for their right-hand side (see compile_logic.go).
	depth, pending int
}

func (c *compiler) compile(t resourceTable, e storage.Expr) error {
	return c.expr(t.single, t.multi, e)
}

func (c *compiler) expr(cols map[storage.Attr]column, multi map[storage.Attr]multiTable, e storage.Expr) error {
	switch e := e.(type) {
	case storage.And:
		return c.balanced(cols, multi, " AND ", []storage.Expr{e.Left, e.Right})
	case storage.Or:
		return c.balanced(cols, multi, " OR ", []storage.Expr{e.Left, e.Right})
	case storage.AllOf:
		return c.balanced(cols, multi, " AND ", e.Xs)
	case storage.AnyOf:
		return c.balanced(cols, multi, " OR ", e.Xs)
	case storage.In:
		col, ok := cols[e.Attr]
		if !ok {
			if _, isMulti := multi[e.Attr]; isMulti {
				return c.expr(cols, multi, storage.ValuePath{Attr: e.Attr, Filter: storage.In{Attr: storage.SubValue, Values: e.Values}})
			}
			return storage.Invalid(fmt.Sprintf("filtering on %q is not supported", e.Attr))
		}
		if col.kind != kindFolded && col.kind != kindExact {
			// Not a string column: the comparisons one by one, which
			// convert (date-time strings) or refuse their values.
			xs := make([]storage.Expr, len(e.Values))
			for i, v := range e.Values {
				xs[i] = storage.Compare{Attr: e.Attr, Op: storage.OpEq, Value: v}
			}
			return c.balanced(cols, multi, " OR ", xs)
		}
		return c.in(col, e)
	case storage.Not:
		return c.not(cols, multi, e.X)
	case storage.ValuePath:
		mt, ok := multi[e.Attr]
		if !ok {
			return storage.Invalid(fmt.Sprintf("filtering on %q is not supported", e.Attr))
		}
		c.sb.WriteString("EXISTS (SELECT 1 FROM " + mt.from + " WHERE " + mt.join)
		if mt.attrFilter {
			c.sb.WriteString(" AND v.attr = ?")
			c.args = append(c.args, string(e.Attr))
		}
		if e.Filter != nil {
			// The subquery's parenthesis and its WHERE ... AND wait on
			// the parser's stack while the sub-filter is read.
			c.depth++
			c.pending++
			c.sb.WriteString(" AND ")
			if err := c.open(); err != nil {
				return err
			}
			// Sub-filters see only the sub-attributes; a nested value path
			// is rejected because multi is nil there.
			if err := c.expr(mt.subs, nil, e.Filter); err != nil {
				return err
			}
			c.close()
			c.depth--
			c.pending--
		}
		c.sb.WriteString(")")
		return nil
	case storage.Compare:
		col, ok := cols[e.Attr]
		if !ok {
			if _, isMulti := multi[e.Attr]; isMulti {
				// "emails eq x" means "emails[value eq x]".
				return c.expr(cols, multi, storage.ValuePath{Attr: e.Attr, Filter: storage.Compare{Attr: storage.SubValue, Op: e.Op, Value: e.Value}})
			}
			return storage.Invalid(fmt.Sprintf("filtering on %q is not supported", e.Attr))
		}
		return c.compare(col, e)
	case nil:
		return storage.Invalid("empty filter expression")
	default:
		return storage.Invalid(fmt.Sprintf("unknown filter node %T", e))
	}
}

// in compiles a chain of eq comparisons of one string column as one IN over a
// JSON array argument, so the statement's text and its placeholder count
// do not grow with the chain.
func (c *compiler) in(col column, e storage.In) error {
	values := make([]string, len(e.Values))
	for i, v := range e.Values {
		if col.kind == kindFolded {
			v = foldKey(v) // as columnValue folds a single eq
		}
		values[i] = v
	}
	arg, err := json.Marshal(values)
	if err != nil {
		return fmt.Errorf("encode IN values: %w", err)
	}
	c.sb.WriteString(c.d.inJSONArray(col.name))
	c.args = append(c.args, string(arg))
	return nil
}

var sqlOps = map[storage.Op]string{
	storage.OpEq: "=", storage.OpNe: "<>", storage.OpGt: ">", storage.OpGe: ">=", storage.OpLt: "<", storage.OpLe: "<=",
}

func (c *compiler) compare(col column, e storage.Compare) error {
	if e.Op == storage.OpPr {
		if col.notNull {
			c.sb.WriteString("1=1")
		} else {
			c.sb.WriteString(col.name + " IS NOT NULL")
		}
		return nil
	}
	if e.Value == nil {
		switch e.Op {
		case storage.OpEq:
			c.sb.WriteString(col.name + " IS NULL")
			return nil
		case storage.OpNe:
			c.sb.WriteString(col.name + " IS NOT NULL")
			return nil
		}
		return storage.Invalid(fmt.Sprintf("operator %s needs a value for %q", e.Op, e.Attr))
	}
	v, err := columnValue(col, e)
	if err != nil {
		return err
	}
	switch e.Op {
	case storage.OpCo, storage.OpSw, storage.OpEw:
		s, ok := v.(string)
		if !ok {
			return storage.Invalid(fmt.Sprintf("operator %s applies only to strings, not %q", e.Op, e.Attr))
		}
		clause, args := c.d.match(col.name, col.kind == kindExact, e.Op, s)
		c.sb.WriteString(clause)
		c.args = append(c.args, args...)
		return nil
	case storage.OpNe:
		if col.kind == kindTime {
			if _, exact := subMilliCompare(col, storage.Compare{Attr: e.Attr, Op: storage.OpEq, Value: e.Value}); !exact {
				c.sb.WriteString("1=1") // no stored instant equals it
				return nil
			}
		}
		// ne also matches resources that lack the attribute.
		if col.notNull {
			c.sb.WriteString(col.name + " <> ?")
		} else {
			c.sb.WriteString("(" + col.name + " IS NULL OR " + col.name + " <> ?)")
		}
		c.args = append(c.args, v)
		return nil
	}
	op, ok := sqlOps[e.Op]
	if !ok {
		return storage.Invalid(fmt.Sprintf("unknown operator %q", e.Op))
	}
	if col.kind == kindTime {
		if clause, exact := subMilliCompare(col, e); !exact {
			c.sb.WriteString(clause)
			return nil
		}
	}
	if col.kind == kindBool && op != "=" {
		return storage.Invalid(fmt.Sprintf("operator %s does not apply to boolean %q", e.Op, e.Attr))
	}
	c.sb.WriteString(col.name + " " + op + " ?")
	c.args = append(c.args, v)
	return nil
}

// columnValue converts a filter value to what the column stores.
func columnValue(col column, e storage.Compare) (any, error) {
	bad := func(want string) error {
		return storage.Invalid(fmt.Sprintf("%q compares with a %s, not %T", e.Attr, want, e.Value))
	}
	switch col.kind {
	case kindFolded:
		s, ok := e.Value.(string)
		if !ok {
			return nil, bad("string")
		}
		return foldKey(s), nil
	case kindExact:
		s, ok := e.Value.(string)
		if !ok {
			return nil, bad("string")
		}
		return s, nil
	case kindBool:
		b, ok := e.Value.(bool)
		if !ok {
			return nil, bad("boolean")
		}
		return b, nil
	case kindTime:
		switch t := e.Value.(type) {
		case time.Time:
			return t.UnixMilli(), nil
		case string:
			parsed, err := time.Parse(time.RFC3339Nano, t)
			if err != nil {
				return nil, storage.Invalid(fmt.Sprintf("%q needs an RFC 3339 date-time, not %q", e.Attr, t))
			}
			return parsed.UnixMilli(), nil
		}
		return nil, bad("date-time")
	}
	return nil, bad("value")
}

// where compiles q's filter; an empty filter gives "1=1".
func (s *Store) where(t resourceTable, f storage.Expr) (string, []any, error) {
	if f == nil {
		return "1=1", nil, nil
	}
	f, err := storage.Simplify(f)
	if err != nil {
		return "", nil, err
	}
	c := compiler{d: s.dialect}
	if err := c.compile(t, f); err != nil {
		return "", nil, err
	}
	return c.sb.String(), c.args, nil
}

// subMilliCompare handles a time comparison whose value has a fraction of
// a millisecond: the column holds whole milliseconds, so such a value lies
// strictly between two stored instants and rounding it would be wrong for
// one of the operators. exact is true when the value has no fraction and
// the ordinary comparison applies.
func subMilliCompare(col column, e storage.Compare) (clause string, exact bool) {
	var t time.Time
	switch v := e.Value.(type) {
	case time.Time:
		t = v
	case string:
		parsed, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return "", true
		}
		t = parsed
	default:
		return "", true
	}
	if t.Nanosecond()%int(time.Millisecond) == 0 {
		return "", true
	}
	floor := strconv.FormatInt(t.UnixMilli(), 10) // UnixMilli rounds down
	switch e.Op {
	case storage.OpEq:
		return "1=0", false
	case storage.OpGt, storage.OpGe:
		return col.name + " > " + floor, false
	case storage.OpLt, storage.OpLe:
		return col.name + " <= " + floor, false
	}
	return "", true
}
