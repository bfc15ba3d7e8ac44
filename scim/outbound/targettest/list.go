package targettest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// list answers GET /Users and /Groups (RFC 7644 §3.4.2). Index paging
// by default: startIndex (1-based) and count, capped at MaxResults.
// Cursor paging when a cursor parameter is present, even empty, as AWS
// IAM Identity Center's ListUsers and ListGroups document it: the first
// page is ?cursor, later ones ?cursor=<nextCursor>, and the answer has
// itemsPerPage and nextCursor (absent on the last page) instead of
// totalResults and startIndex.
func (t *Target) list(kind string, q url.Values) answer {
	match, e := t.parseFilter(kind, q.Get("filter"))
	if e != nil {
		return fail(e)
	}
	count := t.opts.MaxResults
	if s := q.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fail(errorf(http.StatusBadRequest, "invalidValue", "count must be a non-negative integer, not %q", s))
		}
		count = min(n, t.opts.MaxResults)
	}
	var all []Resource
	for _, r := range t.kinds[kind].list() {
		if match(r) {
			all = append(all, r)
		}
	}
	cursor, cursorMode := q["cursor"]
	start := 1
	if cursorMode {
		if c := strings.Join(cursor, ""); c != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(c, "o"))
			if err != nil || !strings.HasPrefix(c, "o") || n < 1 {
				return fail(errorf(http.StatusBadRequest, "invalidCursor", "cursor %q was not issued by this target", c))
			}
			start = n
		}
	} else if s := q.Get("startIndex"); s != "" && !t.opts.AWS {
		// AWS IAM Identity Center does not support startIndex (its
		// ListUsers "Not supported" list), so with Options.AWS every
		// index page is the first.
		n, err := strconv.Atoi(s)
		if err != nil {
			return fail(errorf(http.StatusBadRequest, "invalidValue", "startIndex must be an integer, not %q", s))
		}
		start = max(n, 1)
	}
	from := min(start-1, len(all))
	to := min(from+count, len(all))
	page := make([]Resource, 0, to-from)
	for _, r := range all[from:to] {
		page = append(page, t.render(kind, r))
	}
	body := map[string]any{"schemas": []string{schemaList}, "itemsPerPage": len(page), "Resources": page}
	if cursorMode {
		if to < len(all) {
			body["nextCursor"] = "o" + strconv.Itoa(to+1)
		}
	} else {
		body["totalResults"] = len(all)
		body["startIndex"] = start
	}
	return answer{status: http.StatusOK, body: body}
}
