package sqlstore

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/scimgate/scimgate/storage"
)

// The logical operators of a compiled filter. SQLite's parser has a fixed
// stack of about 100 entries, and a parenthesis costs one entry while it
// is open, an operand waiting for its right-hand side two more; a filter
// that needs more fails with "parser stack overflow". So the compiler
// spends as few entries as a filter allows: chains are balanced (log2 of
// their length), a negation of a group adds no parenthesis of its own, the
// deepest operand of a group comes first (nothing waits for it), and a
// filter that would still nest deeper than the dialect's budget is
// refused with an InvalidError instead of a database error.

// not compiles a negation. "x IS NOT TRUE" holds when x is false or
// unknown (NULL): not(title eq "x") includes users without a title, so a
// negation is always the complement of its operand.
func (c *compiler) not(cols map[storage.Attr]column, multi map[storage.Attr]multiTable, x storage.Expr) error {
	if isGroup(x) {
		if err := c.expr(cols, multi, x); err != nil {
			return err
		}
	} else {
		if err := c.open(); err != nil {
			return err
		}
		if err := c.expr(cols, multi, x); err != nil {
			return err
		}
		c.close()
	}
	c.sb.WriteString(" IS NOT TRUE")
	return nil
}

// isGroup reports whether x compiles to one parenthesised group.
func isGroup(x storage.Expr) bool {
	switch x := x.(type) {
	case storage.And, storage.Or:
		return true
	case storage.AllOf:
		return len(x.Xs) > 1
	case storage.AnyOf:
		return len(x.Xs) > 1
	}
	return false
}

// balanced joins xs with op as a balanced tree of parenthesised pairs,
// deepest operands first.
func (c *compiler) balanced(cols map[storage.Attr]column, multi map[storage.Attr]multiTable, op string, xs []storage.Expr) error {
	if len(xs) == 0 {
		return storage.Invalid("empty filter expression")
	}
	type operand struct {
		x storage.Expr
		h int
	}
	ops := make([]operand, len(xs))
	for i, x := range xs {
		ops[i] = operand{x, height(x)}
	}
	slices.SortStableFunc(ops, func(a, b operand) int { return cmp.Compare(b.h, a.h) })
	byHeight := make([]storage.Expr, len(ops))
	for i, o := range ops {
		byHeight[i] = o.x
	}
	return c.pairs(cols, multi, op, byHeight)
}

func (c *compiler) pairs(cols map[storage.Attr]column, multi map[storage.Attr]multiTable, op string, xs []storage.Expr) error {
	if len(xs) == 1 {
		return c.expr(cols, multi, xs[0])
	}
	mid := (len(xs) + 1) / 2
	if err := c.open(); err != nil {
		return err
	}
	if err := c.pairs(cols, multi, op, xs[:mid]); err != nil {
		return err
	}
	c.sb.WriteString(op)
	c.pending++ // the left operand and op wait on the parser's stack
	err := c.pairs(cols, multi, op, xs[mid:])
	c.pending--
	if err != nil {
		return err
	}
	c.close()
	return nil
}

// open writes "(" and checks the nesting budget.
func (c *compiler) open() error {
	c.depth++
	if limit := nestingBudget(c.d); limit > 0 && c.depth+2*c.pending > limit {
		return storage.Invalid(fmt.Sprintf("the filter nests too deeply for the database (%d levels; the limit is %d)", c.depth+2*c.pending, limit))
	}
	c.sb.WriteString("(")
	return nil
}

func (c *compiler) close() {
	c.depth--
	c.sb.WriteString(")")
}

// height is the nesting of the groups e compiles to.
func height(e storage.Expr) int {
	switch e := e.(type) {
	case storage.And:
		return 1 + max(height(e.Left), height(e.Right))
	case storage.Or:
		return 1 + max(height(e.Left), height(e.Right))
	case storage.AllOf:
		return groupHeight(e.Xs)
	case storage.AnyOf:
		return groupHeight(e.Xs)
	case storage.Not:
		if isGroup(e.X) {
			return height(e.X)
		}
		return 1 + height(e.X)
	case storage.ValuePath:
		if e.Filter != nil {
			return 1 + height(e.Filter)
		}
	}
	return 0
}

func groupHeight(xs []storage.Expr) int {
	h := 0
	for _, x := range xs {
		h = max(h, height(x))
	}
	levels := 0
	for n := 1; n < len(xs); n *= 2 {
		levels++
	}
	return h + levels
}

// nestingBudget is how deep a dialect's parser takes a filter, in open
// parentheses plus twice the waiting operands; 0 means no budget of ours.
// SQLite's is measured (the parser holds 100 entries; TestFilterNesting
// pins that a filter at the budget still runs). PostgreSQL's parser grows
// its stack, bounded by max_stack_depth far beyond storage.MaxFilterDepth.
func nestingBudget(d dialect) int {
	if d.name == sqliteDialect.name {
		return sqliteNestingBudget
	}
	return 0
}

const sqliteNestingBudget = 72
