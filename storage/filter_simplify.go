package storage

import (
	"fmt"
	"unicode/utf8"
)

// The forms Simplify produces, besides Compare, Not and ValuePath. Stores
// compile them; callers build filters from the binary And and Or.

// AllOf is true when every one of Xs is: a flattened chain of And.
type AllOf struct{ Xs []Expr }

// AnyOf is true when at least one of Xs is: a flattened chain of Or.
type AnyOf struct{ Xs []Expr }

// In is true when Attr eq v holds for at least one v of Values: a chain of
// eq comparisons of one attribute joined by or. It compares as eq does
// (case-insensitively for case-insensitive attributes).
type In struct {
	Attr   Attr
	Values []string
}

func (AllOf) isExpr() {}
func (AnyOf) isExpr() {}
func (In) isExpr()    {}

// maxTreeDepth bounds the walks over a filter tree that Simplify is given.
// A parsed filter within the text limits is at most this deep: each term
// and each parenthesis adds at most one level.
const maxTreeDepth = MaxFilterTerms + 2*MaxFilterDepth

// Simplify rewrites a filter into an equivalent one that a database can
// take however long the client's chain of terms: chains of and/or become
// one n-ary AllOf/AnyOf, eq comparisons of one attribute joined by or
// become one In, value paths of one attribute joined by or become one
// value path, and not(not(x)) becomes x. A store compiles the n-ary forms
// balanced, so the SQL nests by the logarithm of a chain's length, not by
// its length. Filters beyond MaxFilterTerms or maxTreeDepth are refused
// with an InvalidError.
func Simplify(e Expr) (Expr, error) {
	if e == nil {
		return nil, nil
	}
	terms, err := countTerms(e, 0)
	if err != nil {
		return nil, err
	}
	if terms > MaxFilterTerms {
		return nil, Invalid(fmt.Sprintf("the filter has %d terms; the limit is %d", terms, MaxFilterTerms))
	}
	return simplify(e), nil
}

// countTerms counts the comparisons of e, refusing trees deeper than
// maxTreeDepth before the recursion could grow the stack without bound.
func countTerms(e Expr, depth int) (int, error) {
	if depth > maxTreeDepth {
		return 0, Invalid(fmt.Sprintf("the filter nests more than %d levels deep", maxTreeDepth))
	}
	sum := func(xs ...Expr) (int, error) {
		n := 0
		for _, x := range xs {
			k, err := countTerms(x, depth+1)
			if err != nil {
				return 0, err
			}
			n += k
		}
		return n, nil
	}
	switch e := e.(type) {
	case And:
		return sum(e.Left, e.Right)
	case Or:
		return sum(e.Left, e.Right)
	case AllOf:
		return sum(e.Xs...)
	case AnyOf:
		return sum(e.Xs...)
	case Not:
		return sum(e.X)
	case ValuePath:
		if e.Filter == nil {
			return 1, nil
		}
		return sum(e.Filter)
	case In:
		return len(e.Values), nil
	}
	return 1, nil // Compare, nil and unknown nodes, which the store rejects
}

func simplify(e Expr) Expr {
	switch e := e.(type) {
	case And, AllOf:
		xs := flatten(e, true, nil)
		if len(xs) == 1 {
			return xs[0]
		}
		return AllOf{Xs: xs}
	case Or, AnyOf:
		return anyOf(flatten(e, false, nil))
	case Not:
		x := simplify(e.X)
		if inner, ok := x.(Not); ok {
			// Exact under the stores' three-valued logic too: a negation
			// counts an unknown comparison (an absent value) as false
			// first, and and/or treat unknown as false unless negated.
			return inner.X
		}
		return Not{X: x}
	case ValuePath:
		if e.Filter != nil {
			e.Filter = simplify(e.Filter)
		}
		return e
	}
	return e
}

// flatten appends the simplified operands of a chain of And (all) or Or
// (!all) to xs, descending into nested links of the same chain.
func flatten(e Expr, all bool, xs []Expr) []Expr {
	switch e := e.(type) {
	case And:
		if all {
			return flatten(e.Right, all, flatten(e.Left, all, xs))
		}
	case Or:
		if !all {
			return flatten(e.Right, all, flatten(e.Left, all, xs))
		}
	case AllOf:
		if all {
			for _, x := range e.Xs {
				xs = flatten(x, all, xs)
			}
			return xs
		}
	case AnyOf:
		if !all {
			for _, x := range e.Xs {
				xs = flatten(x, all, xs)
			}
			return xs
		}
	}
	x := simplify(e)
	// not(not(a or b)) or c: the fold may expose a link of this chain.
	switch x := x.(type) {
	case AllOf:
		if all {
			return append(xs, x.Xs...)
		}
	case AnyOf:
		if !all {
			return append(xs, x.Xs...)
		}
	}
	return append(xs, x)
}

// anyOf builds the alternatives xs (already simplified and flat), merging
// eq comparisons of one attribute into In and value paths of one
// attribute into one value path, in the order each attribute first
// appears.
func anyOf(xs []Expr) Expr {
	var out []Expr
	inAt := map[Attr]int{}   // attribute -> index in out of its In
	pathAt := map[Attr]int{} // attribute -> index in out of its merged value path
	for _, x := range xs {
		switch x := x.(type) {
		case Compare:
			// Only valid UTF-8 goes into an In, whose values a store may
			// pass as JSON: an invalid byte would change on the way.
			if s, ok := x.Value.(string); ok && x.Op == OpEq && utf8.ValidString(s) {
				if i, seen := inAt[x.Attr]; seen {
					in := out[i].(In)
					in.Values = append(in.Values, s)
					out[i] = in
				} else {
					inAt[x.Attr] = len(out)
					out = append(out, In{Attr: x.Attr, Values: []string{s}})
				}
				continue
			}
		case In:
			if i, seen := inAt[x.Attr]; seen {
				in := out[i].(In)
				in.Values = append(in.Values, x.Values...)
				out[i] = in
			} else {
				inAt[x.Attr] = len(out)
				out = append(out, In{Attr: x.Attr, Values: append([]string(nil), x.Values...)})
			}
			continue
		case ValuePath:
			// EXISTS(a) or EXISTS(b) over the same rows is EXISTS(a or b).
			if x.Filter != nil {
				if i, seen := pathAt[x.Attr]; seen {
					vp := out[i].(ValuePath)
					vp.Filter = AnyOf{Xs: append(alternatives(vp.Filter), alternatives(x.Filter)...)}
					out[i] = vp
				} else {
					pathAt[x.Attr] = len(out)
					out = append(out, x)
				}
				continue
			}
		}
		out = append(out, x)
	}
	for i, x := range out {
		switch x := x.(type) {
		case In:
			if len(x.Values) == 1 {
				out[i] = Compare{Attr: x.Attr, Op: OpEq, Value: x.Values[0]}
			}
		case ValuePath:
			if merged, ok := x.Filter.(AnyOf); ok {
				x.Filter = anyOf(merged.Xs)
				out[i] = x
			}
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return AnyOf{Xs: out}
}

// alternatives returns the operands of an AnyOf, or x alone.
func alternatives(x Expr) []Expr {
	if a, ok := x.(AnyOf); ok {
		return a.Xs
	}
	return []Expr{x}
}
