package graphtest

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// selection is a parsed $select: a bit per property index, plus the
// navigation property (manager for users, members for groups).
type selection struct {
	mask uint64
	nav  bool
}

// queryError is a 4xx/5xx answer to a malformed query.
type queryError struct {
	status  int
	code    string
	message string
}

func (e *queryError) Error() string { return e.message }

func badQuery(format string, args ...any) *queryError {
	return &queryError{status: http.StatusBadRequest, code: "Request_BadRequest", message: fmt.Sprintf(format, args...)}
}

// parseSelect reads $select for a collection. Without $select the
// documented default set is returned (user-list); for group delta the
// default includes members@delta (delta-query-groups: "members@delta is
// included ... when the $select query parameter has not been specified").
func parseSelect(raw, coll string, delta bool) (selection, *queryError) {
	props, idx, typ := userProps, userPropIdx, "microsoft.graph.user"
	if coll == "groups" {
		props, idx, typ = groupProps, groupPropIdx, "microsoft.graph.group"
	}
	var sel selection
	if strings.TrimSpace(raw) == "" {
		for i, p := range props {
			if p.byDefault {
				sel.mask |= 1 << i
			}
		}
		sel.nav = coll == "groups" && delta
		return sel, nil
	}
	var single []string
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		lower := strings.ToLower(name)
		switch {
		case lower == "id":
		case delta && coll == "users" && lower == "manager":
			sel.nav = true
		case delta && coll == "groups" && lower == "members":
			sel.nav = true
		case coll == "users" && userOnlySingle[name]:
			single = append(single, name)
		default:
			i, ok := idx[lower]
			if !ok {
				return sel, badQuery("Could not find a property named '%s' on type '%s'.", name, typ)
			}
			sel.mask |= 1 << i
		}
	}
	if len(single) > 0 {
		if delta {
			// [obs: microsoft-graph-docs#14141]
			return sel, badQuery("Invalid request for delta query: for this entity set, $expand/$select is not supported for the following properties: %s", strings.Join(single, ","))
		}
		// "cannot be read on the collection ... 501" (user-list).
		return sel, &queryError{status: http.StatusNotImplemented, code: "NotImplemented", message: "This operation target is not yet supported."}
	}
	return sel, nil
}

var idEq = regexp.MustCompile(`^id\s+eq\s+'([^']+)'$`)

// parseIDFilter reads the only $filter delta supports on users and
// groups: id eq '...' joined by or, at most 50 (user-delta: "There is a
// limit of 50 filtered objects").
func parseIDFilter(raw string) ([]string, *queryError) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var ids []string
	for _, term := range regexp.MustCompile(`(?i)\s+or\s+`).Split(strings.TrimSpace(raw), -1) {
		m := idEq.FindStringSubmatch(strings.TrimSpace(term))
		if m == nil {
			return nil, &queryError{status: http.StatusBadRequest, code: "Request_UnsupportedQuery",
				message: "Unsupported query: delta supports only $filter=id eq '...' (or'ed)."}
		}
		ids = append(ids, m[1])
	}
	if len(ids) > 50 {
		return nil, &queryError{status: http.StatusBadRequest, code: "Request_UnsupportedQuery",
			message: fmt.Sprintf("The number of filtered objects (%d) exceeds the limit of 50.", len(ids))}
	}
	return ids, nil
}

func writeQueryError(w http.ResponseWriter, reqID string, e *queryError) {
	graphError(w, reqID, e.status, e.code, e.message)
}
