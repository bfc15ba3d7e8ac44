package sqlstore_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestFilterNesting pins the SQLite nesting budget: filters of every shape
// either run or are refused with ErrInvalid ("nests too deeply"); none may
// reach SQLite's parser and fail there ("parser stack overflow", a 500).
// Alternations of and/or, negations and value paths as deep as
// storage.MaxFilterDepth allows in filter text (two groups per
// parenthesis, "(a or b and (...))") must run.
func TestFilterNesting(t *testing.T) {
	s := openForTest(t, filepath.Join(t.TempDir(), "test.db"))
	title := func(v string) storage.Expr {
		return storage.Compare{Attr: storage.AttrTitle, Op: storage.OpEq, Value: v}
	}
	email := func() storage.Expr {
		return storage.ValuePath{Attr: storage.AttrEmails, Filter: storage.Or{
			Left:  storage.Compare{Attr: storage.SubType, Op: storage.OpEq, Value: "work"},
			Right: storage.Compare{Attr: storage.SubValue, Op: storage.OpSw, Value: "a"}}}
	}
	deep := map[string]func(storage.Expr) storage.Expr{
		"a and (b or f)": func(f storage.Expr) storage.Expr {
			return storage.And{Left: title("a"), Right: storage.Or{Left: title("b"), Right: f}}
		},
		"not(a and f)": func(f storage.Expr) storage.Expr { return storage.Not{X: storage.And{Left: title("a"), Right: f}} },
		"a or not(b and not(f))": func(f storage.Expr) storage.Expr {
			return storage.Or{Left: title("a"), Right: storage.Not{X: storage.And{Left: title("b"), Right: storage.Not{X: f}}}}
		},
		"emails[...] and (a or f)": func(f storage.Expr) storage.Expr {
			return storage.And{Left: email(), Right: storage.Or{Left: title("a"), Right: f}}
		},
	}
	for name, shape := range deep {
		f := title("x")
		for range storage.MaxFilterDepth {
			f = shape(f)
		}
		if _, err := s.ListUsers(t.Context(), storage.Query{Filter: f, Limit: 1}); err != nil {
			t.Errorf("%s nested %d times: %v", name, storage.MaxFilterDepth, err)
		}
		for range 100 {
			f = shape(f)
		}
		_, err := s.ListUsers(t.Context(), storage.Query{Filter: f, Limit: 1})
		if !errors.Is(err, storage.ErrInvalid) || !strings.Contains(err.Error(), "nests too deeply") {
			t.Errorf("%s nested %d times: err = %v, want ErrInvalid saying it nests too deeply", name, storage.MaxFilterDepth+100, err)
		}
	}
	// Random trees of up to 1,000 terms: never a database error.
	rng := rand.New(rand.NewPCG(1, 2))
	var gen func(terms, depth int) storage.Expr
	gen = func(terms, depth int) storage.Expr {
		if terms <= 1 || depth == 0 {
			switch rng.IntN(3) {
			case 0:
				return email()
			case 1:
				return storage.Not{X: title(fmt.Sprint(rng.IntN(5)))}
			}
			return title(fmt.Sprint(rng.IntN(5)))
		}
		l := 1 + rng.IntN(terms-1)
		if rng.IntN(4) > 0 { // mostly lopsided, so that trees get deep
			l = 1 + rng.IntN(min(terms-1, 3))
		}
		left, right := gen(l, depth-1), gen(terms-l, depth-1)
		switch rng.IntN(3) {
		case 0:
			return storage.And{Left: left, Right: right}
		case 1:
			return storage.Or{Left: left, Right: right}
		}
		return storage.Not{X: storage.And{Left: left, Right: right}}
	}
	ran, refused := 0, 0
	for range 300 {
		f := gen(1+rng.IntN(storage.MaxFilterTerms/2), 20+rng.IntN(120))
		_, err := s.ListUsers(t.Context(), storage.Query{Filter: f, Limit: 1})
		switch {
		case err == nil:
			ran++
		case errors.Is(err, storage.ErrInvalid):
			refused++
		default:
			t.Fatalf("random filter: %v", err)
		}
	}
	t.Logf("random filters: %d ran, %d refused as too deep", ran, refused)
}
