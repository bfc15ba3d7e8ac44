package storage

import "time"

// Op is a SCIM comparison operator.
type Op string

// The RFC 7644 §3.4.2.2 operators.
const (
	OpEq Op = "eq"
	OpNe Op = "ne"
	OpCo Op = "co"
	OpSw Op = "sw"
	OpEw Op = "ew"
	OpPr Op = "pr"
	OpGt Op = "gt"
	OpGe Op = "ge"
	OpLt Op = "lt"
	OpLe Op = "le"
)

// Expr is a node of a filter tree: Compare, And, Or, Not or ValuePath.
type Expr interface{ isExpr() }

// Compare tests one attribute. Value is a string, bool, float64, time.Time,
// or nil (for OpPr and for comparisons with null). Case-insensitive
// attributes compare case-insensitively; the store handles that.
type Compare struct {
	Attr  Attr
	Op    Op
	Value any
}

// And is true when both sides are.
type And struct{ Left, Right Expr }

// Or is true when either side is.
type Or struct{ Left, Right Expr }

// Not negates its operand.
type Not struct{ X Expr }

// ValuePath is true when at least one element of the multi-valued Attr
// passes Filter, whose Compare nodes name sub-attributes (SubValue, ...).
type ValuePath struct {
	Attr   Attr
	Filter Expr
}

func (Compare) isExpr()   {}
func (And) isExpr()       {}
func (Or) isExpr()        {}
func (Not) isExpr()       {}
func (ValuePath) isExpr() {}

// Query selects a page of resources.
type Query struct {
	Filter     Expr // nil selects everything
	SortBy     Attr // "" keeps creation order
	Descending bool
	Offset     int // rows to skip (index paging)
	Limit      int // rows to return; 0 returns only the total

	// After or Before (at most one, with Offset 0) selects a keyset page:
	// the Limit rows that follow After, or that precede Before, in the
	// query's order. Keysets come from the Bounds of an earlier page of the
	// same Filter, SortBy and Descending. Unlike Offset, a keyset page never
	// skips or repeats a row because rows before it were inserted or
	// deleted; only a row whose sort value changes can move past it.
	After, Before *Keyset
	// NoTotal skips counting the matches, which is a scan of all of them;
	// the page's Total is then -1.
	NoTotal bool
	// View, when set, is the id of an application whose view the query
	// reads (AppStore): only users and groups in it, users who left it
	// within its leave grace as inactive, groups' members filtered or
	// flattened as the app says, and meta as the app sees it
	// (lastModified moves when a user joins or leaves, the version when
	// anything the app sees changes). Filters and sorts on active and
	// meta.lastModified apply to those values. An unknown app is
	// ErrNotFound.
	View string
}

// Keyset is a row's place in a query's order: the row's value of the
// query's SortBy attribute and its creation sequence, which breaks ties.
type Keyset struct {
	// Key is the sort value as the store holds it: a string (lower-cased
	// for case-insensitive attributes), a bool, an int64 (a date-time as
	// unix milliseconds), or nil when the row lacks the attribute or the
	// query has no SortBy.
	Key any
	Seq int64
}

// PageBounds locates a page in its query's order, for keyset paging.
type PageBounds struct {
	// First and Last are the keysets of the page's first and last rows;
	// both are zero for an empty page.
	First, Last Keyset
	// More reports that rows exist beyond the page in the direction it
	// was read: after Last (for After, Offset or neither), before First
	// (for Before).
	More bool
}

// TimeValue is a convenience for building time comparisons in tests.
func TimeValue(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
