package oktatest

import (
	"fmt"
	"strings"
	"time"
)

// Okta's filter parameter (developer.okta.com/docs/api/#filter, and the
// filter tables of the Users and Groups APIs):
//
//   - comparisons attr op "value", combined with and/or and parentheses;
//   - not and ne are not supported;
//   - property names and values are case-sensitive, operators are not;
//   - users: status, lastUpdated, id, profile.login, profile.email,
//     profile.firstName, profile.lastName; eq on all, gt/ge/lt/le on
//     lastUpdated only;
//   - groups: id, type, lastUpdated, lastMembershipUpdated; eq on all,
//     gt/ge/lt/le on the two timestamps.
//
// Timestamps are written yyyy-MM-dd'T'HH:mm:ss.SSSZ.

// filterRules says which properties a resource's filter accepts and
// which of them are timestamps (the only ones that may be ordered).
type filterRules struct {
	props map[string]bool // name -> is a timestamp
}

var (
	userFilterRules = filterRules{props: map[string]bool{
		"status": false, "lastUpdated": true, "id": false,
		"profile.login": false, "profile.email": false, "profile.firstName": false, "profile.lastName": false,
	}}
	groupFilterRules = filterRules{props: map[string]bool{
		"id": false, "type": false, "lastUpdated": true, "lastMembershipUpdated": true,
	}}
)

// filterNode is a parsed filter: a comparison or an and/or of two nodes.
type filterNode struct {
	logic       string // "and", "or", or "" for a comparison
	left, right *filterNode
	attr, op    string
	value       string
	when        time.Time
}

// valueOf reads a property of the object being filtered; timestamps come
// as time.Time, everything else as a string.
type valueOf func(attr string) (s string, t time.Time)

func (n *filterNode) match(get valueOf) bool {
	switch n.logic {
	case "and":
		return n.left.match(get) && n.right.match(get)
	case "or":
		return n.left.match(get) || n.right.match(get)
	}
	s, t := get(n.attr)
	if n.when.IsZero() {
		return s == n.value // eq: the only operator on text
	}
	t = t.Truncate(time.Millisecond)
	switch n.op {
	case "eq":
		return t.Equal(n.when)
	case "gt":
		return t.After(n.when)
	case "ge":
		return !t.Before(n.when)
	case "lt":
		return t.Before(n.when)
	case "le":
		return !t.After(n.when)
	}
	return false
}

// parseFilter parses and checks a filter; the error reads like Okta's
// errorCauses.
func parseFilter(s string, rules filterRules) (*filterNode, error) {
	p := &filterParser{toks: tokenize(s), rules: rules}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return n, nil
}

type filterParser struct {
	toks  []string
	pos   int
	rules filterRules
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *filterParser) or() (*filterNode, error) {
	left, err := p.and()
	for err == nil && strings.EqualFold(p.peek(), "or") {
		p.next()
		var right *filterNode
		right, err = p.and()
		left = &filterNode{logic: "or", left: left, right: right}
	}
	return left, err
}

func (p *filterParser) and() (*filterNode, error) {
	left, err := p.primary()
	for err == nil && strings.EqualFold(p.peek(), "and") {
		p.next()
		var right *filterNode
		right, err = p.primary()
		left = &filterNode{logic: "and", left: left, right: right}
	}
	return left, err
}

func (p *filterParser) primary() (*filterNode, error) {
	tok := p.next()
	switch {
	case tok == "":
		return nil, fmt.Errorf("the filter ends too early")
	case tok == "(":
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		return n, nil
	case strings.EqualFold(tok, "not"):
		return nil, fmt.Errorf("the not operator is not supported")
	}
	isTime, known := p.rules.props[tok]
	if !known {
		return nil, fmt.Errorf("%q is not a filterable property", tok)
	}
	op := strings.ToLower(p.next())
	switch op {
	case "eq":
	case "gt", "ge", "lt", "le":
		if !isTime {
			return nil, fmt.Errorf("operator %s is only supported on timestamps", op)
		}
	case "ne":
		return nil, fmt.Errorf("the ne operator is not supported")
	default:
		return nil, fmt.Errorf("unknown operator %q", op)
	}
	raw := p.next()
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, fmt.Errorf("the value of %s must be a quoted string", tok)
	}
	n := &filterNode{attr: tok, op: op, value: strings.ReplaceAll(raw[1:len(raw)-1], `\"`, `"`)}
	if isTime {
		t, err := time.Parse("2006-01-02T15:04:05.000Z", n.value)
		if err != nil {
			return nil, fmt.Errorf("%q is not a timestamp such as 2024-01-01T00:00:00.000Z", n.value)
		}
		n.when = t
	}
	return n, nil
}

// tokenize splits a filter into parentheses, quoted strings and words.
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			toks = append(toks, s[i:min(j+1, len(s))])
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(` ()"`, rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}
