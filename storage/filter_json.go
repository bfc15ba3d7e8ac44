package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// exprJSON is the stored form of one filter node. Kind says which node it
// is; the other fields are those that kind uses. A stored app keeps its
// parsed filter in this form, so the store evaluates it without the SCIM
// layer's parser.
type exprJSON struct {
	Kind   string      `json:"k"`
	Attr   Attr        `json:"a,omitempty"`
	Op     Op          `json:"op,omitempty"`
	Value  *valueJSON  `json:"v,omitempty"`
	Values []string    `json:"vs,omitempty"`
	Xs     []*exprJSON `json:"xs,omitempty"`
}

// valueJSON keeps a comparison value's Go type, which JSON alone would
// lose (a time would come back as a string, nil as a missing field).
type valueJSON struct {
	Type string          `json:"t"` // "s", "b", "n", "t" or "null"
	Raw  json.RawMessage `json:"r,omitempty"`
}

// Node kinds of exprJSON.
const (
	kindCompare   = "cmp"
	kindAnd       = "and"
	kindOr        = "or"
	kindNot       = "not"
	kindValuePath = "vp"
	kindAllOf     = "all"
	kindAnyOf     = "any"
	kindIn        = "in"
)

// MarshalExpr encodes a filter tree as JSON; nil encodes as null.
func MarshalExpr(e Expr) ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	j, err := toExprJSON(e, 0)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// UnmarshalExpr decodes what MarshalExpr encoded; null or empty gives nil.
func UnmarshalExpr(data []byte) (Expr, error) {
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	var j exprJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("storage: decode filter: %w", err)
	}
	return fromExprJSON(&j, 0)
}

var errExprDepth = errors.New("storage: filter nested too deeply")

func toExprJSON(e Expr, depth int) (*exprJSON, error) {
	if depth > maxTreeDepth {
		return nil, errExprDepth
	}
	list := func(kind string, xs ...Expr) (*exprJSON, error) {
		out := &exprJSON{Kind: kind}
		for _, x := range xs {
			jx, err := toExprJSON(x, depth+1)
			if err != nil {
				return nil, err
			}
			out.Xs = append(out.Xs, jx)
		}
		return out, nil
	}
	switch e := e.(type) {
	case Compare:
		v, err := toValueJSON(e.Value)
		if err != nil {
			return nil, err
		}
		return &exprJSON{Kind: kindCompare, Attr: e.Attr, Op: e.Op, Value: v}, nil
	case And:
		return list(kindAnd, e.Left, e.Right)
	case Or:
		return list(kindOr, e.Left, e.Right)
	case Not:
		return list(kindNot, e.X)
	case ValuePath:
		out, err := list(kindValuePath, e.Filter)
		if err != nil {
			return nil, err
		}
		out.Attr = e.Attr
		return out, nil
	case AllOf:
		return list(kindAllOf, e.Xs...)
	case AnyOf:
		return list(kindAnyOf, e.Xs...)
	case In:
		return &exprJSON{Kind: kindIn, Attr: e.Attr, Values: append([]string{}, e.Values...)}, nil
	}
	return nil, fmt.Errorf("storage: encode filter: unknown node %T", e)
}

func fromExprJSON(j *exprJSON, depth int) (Expr, error) {
	if depth > maxTreeDepth {
		return nil, errExprDepth
	}
	if j == nil {
		return nil, errors.New("storage: decode filter: empty node")
	}
	subs := func(n int) ([]Expr, error) {
		if n >= 0 && len(j.Xs) != n {
			return nil, fmt.Errorf("storage: decode filter: %q has %d operands, want %d", j.Kind, len(j.Xs), n)
		}
		out := make([]Expr, len(j.Xs))
		for i, x := range j.Xs {
			e, err := fromExprJSON(x, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	var xs []Expr
	var err error
	switch j.Kind {
	case kindCompare:
		v, err := fromValueJSON(j.Value)
		if err != nil {
			return nil, err
		}
		return Compare{Attr: j.Attr, Op: j.Op, Value: v}, nil
	case kindAnd, kindOr:
		if xs, err = subs(2); err != nil {
			return nil, err
		}
		if j.Kind == kindAnd {
			return And{Left: xs[0], Right: xs[1]}, nil
		}
		return Or{Left: xs[0], Right: xs[1]}, nil
	case kindNot:
		if xs, err = subs(1); err != nil {
			return nil, err
		}
		return Not{X: xs[0]}, nil
	case kindValuePath:
		if xs, err = subs(1); err != nil {
			return nil, err
		}
		return ValuePath{Attr: j.Attr, Filter: xs[0]}, nil
	case kindAllOf, kindAnyOf:
		if xs, err = subs(-1); err != nil {
			return nil, err
		}
		if j.Kind == kindAllOf {
			return AllOf{Xs: xs}, nil
		}
		return AnyOf{Xs: xs}, nil
	case kindIn:
		return In{Attr: j.Attr, Values: append([]string{}, j.Values...)}, nil
	}
	return nil, fmt.Errorf("storage: decode filter: unknown node kind %q", j.Kind)
}

func toValueJSON(v any) (*valueJSON, error) {
	var typ string
	switch v := v.(type) {
	case nil:
		return &valueJSON{Type: "null"}, nil
	case string:
		typ = "s"
	case bool:
		typ = "b"
	case float64:
		typ = "n"
	case time.Time:
		typ = "t"
		raw, err := json.Marshal(v.UTC().Format(time.RFC3339Nano))
		return &valueJSON{Type: typ, Raw: raw}, err
	default:
		return nil, fmt.Errorf("storage: encode filter: unsupported value type %T", v)
	}
	raw, err := json.Marshal(v)
	return &valueJSON{Type: typ, Raw: raw}, err
}

func fromValueJSON(v *valueJSON) (any, error) {
	if v == nil || v.Type == "null" {
		return nil, nil
	}
	bad := func(err error) (any, error) {
		return nil, fmt.Errorf("storage: decode filter value: %w", err)
	}
	switch v.Type {
	case "s", "t":
		var s string
		if err := json.Unmarshal(v.Raw, &s); err != nil {
			return bad(err)
		}
		if v.Type == "s" {
			return s, nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return bad(err)
		}
		return t, nil
	case "b":
		var b bool
		if err := json.Unmarshal(v.Raw, &b); err != nil {
			return bad(err)
		}
		return b, nil
	case "n":
		var f float64
		if err := json.Unmarshal(v.Raw, &f); err != nil {
			return bad(err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("storage: decode filter value: unknown type %q", v.Type)
}
