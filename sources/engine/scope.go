package engine

import (
	"fmt"
	"strconv"
	"strings"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/storage"
)

// Scope decides which records a source imports. It is written in SCIM
// filter syntax over the source's attributes, e.g.
//
//	department eq "Sales" or title sw "VP"
//
// Comparisons are case-insensitive; a record outside the scope is treated
// as absent, so a user who leaves it is deactivated like one who left the
// directory.
type Scope struct{ expr fp.Expression }

// ParseScope parses a scope filter; "" means everything.
func ParseScope(s string) (Scope, error) {
	if strings.TrimSpace(s) == "" {
		return Scope{}, nil
	}
	// The parser and eval recurse; the text is measured first.
	if err := storage.CheckFilterText(s); err != nil {
		return Scope{}, err
	}
	e, err := fp.ParseFilter([]byte(s))
	if err != nil {
		return Scope{}, fmt.Errorf("not a valid filter (use SCIM filter syntax such as department eq \"Sales\"): %v", err)
	}
	if err := checkScope(e); err != nil {
		return Scope{}, err
	}
	return Scope{expr: e}, nil
}

func checkScope(e fp.Expression) error {
	switch e := e.(type) {
	case *fp.LogicalExpression:
		if err := checkScope(e.Left); err != nil {
			return err
		}
		return checkScope(e.Right)
	case *fp.NotExpression:
		return checkScope(e.Expression)
	case *fp.AttributeExpression:
		return nil
	}
	return fmt.Errorf("value paths ([...]) are not supported in a scope")
}

// Includes reports whether attrs is in scope.
func (s Scope) Includes(attrs map[string]string) bool {
	if s.expr == nil {
		return true
	}
	return eval(s.expr, attrs)
}

func eval(e fp.Expression, attrs map[string]string) bool {
	switch e := e.(type) {
	case *fp.LogicalExpression:
		if strings.EqualFold(string(e.Operator), "or") {
			return eval(e.Left, attrs) || eval(e.Right, attrs)
		}
		return eval(e.Left, attrs) && eval(e.Right, attrs)
	case *fp.NotExpression:
		return !eval(e.Expression, attrs)
	case *fp.AttributeExpression:
		return compareAttr(e, attrs)
	}
	return false
}

func lookupAttr(attrs map[string]string, name string) (string, bool) {
	if v, ok := attrs[name]; ok {
		return v, true
	}
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func compareAttr(e *fp.AttributeExpression, attrs map[string]string) bool {
	name := e.AttributePath.AttributeName
	if sub := e.AttributePath.SubAttributeName(); sub != "" {
		name += "." + sub
	}
	got, present := lookupAttr(attrs, name)
	present = present && got != ""
	op := strings.ToLower(string(e.Operator))
	if op == "pr" {
		return present
	}
	var want string
	switch v := e.CompareValue.(type) {
	case string:
		want = v
	case bool:
		want = strconv.FormatBool(v)
	case int:
		want = strconv.Itoa(v)
	case float64:
		want = strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return (op == "eq") != present
	}
	g, w := strings.ToLower(got), strings.ToLower(want)
	switch op {
	case "eq":
		return present && g == w
	case "ne":
		return !present || g != w
	case "co":
		return present && strings.Contains(g, w)
	case "sw":
		return present && strings.HasPrefix(g, w)
	case "ew":
		return present && strings.HasSuffix(g, w)
	case "gt":
		return present && g > w
	case "ge":
		return present && g >= w
	case "lt":
		return present && g < w
	case "le":
		return present && g <= w
	}
	return false
}
