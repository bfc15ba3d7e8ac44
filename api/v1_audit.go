package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// maxAuditFilterChars bounds the actor and target filters: they compare
// with names and ids, which are far shorter.
const maxAuditFilterChars = 1024

// listAudit reads the audit log, newest first: ?limit and ?before page by
// id; ?actor and ?target keep exact matches; ?since (inclusive) and
// ?until (exclusive) are RFC 3339 times. Every bad parameter is named in
// the error's fields.
func (s *Server) listAudit(c echo.Context) error {
	limit, err := intParam(c, "limit", 100, 1000)
	if err != nil {
		return err
	}
	before, err := intParam(c, "before", 0, 1<<62)
	if err != nil {
		return err
	}
	q := storage.AuditQuery{Limit: limit, Before: int64(before),
		Actor: strings.TrimSpace(c.QueryParam("actor")), Target: strings.TrimSpace(c.QueryParam("target"))}
	bad := map[string]string{}
	for name, v := range map[string]string{"actor": q.Actor, "target": q.Target} {
		if len(v) > maxAuditFilterChars {
			bad[name] = fmt.Sprintf("has more than %d characters; no actor or target is that long", maxAuditFilterChars)
		}
	}
	q.Since = auditTime(bad, "since", c.QueryParam("since"))
	q.Until = auditTime(bad, "until", c.QueryParam("until"))
	if len(bad) == 0 && !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		bad["until"] = "must be later than since: a time range ends after it starts"
	}
	if len(bad) > 0 {
		return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Message: "the audit log's filters have problems; see fields", Fields: bad}
	}
	entries, err := s.cfg.Store.ListAudit(c.Request().Context(), q)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []storage.AuditEntry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": entries})
}

// auditTime parses an RFC 3339 filter time; the zero time when absent,
// or when bad (then bad names it).
func auditTime(bad map[string]string, name, v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		bad[name] = "must be an RFC 3339 time such as 2026-12-03T00:00:00Z, not " + quote(v)
		return time.Time{}
	}
	return t
}
