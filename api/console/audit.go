package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// auditPageSize is how many entries the audit log shows at a time.
const auditPageSize = 50

// dateLayout is how the date fields are typed (and how an input
// type=date would send them).
const dateLayout = "2006-01-02"

func (u *Console) routesAudit(g *echo.Group) {
	g.GET("/audit", u.handle(u.auditPage))
}

// auditFilter is the audit log's filter form: From and To are whole days
// in UTC, both included.
type auditFilter struct {
	Actor, Target, From, To string
}

// auditPageData is what audit_list.html shows.
type auditPageData struct {
	Filter  auditFilter
	Entries []storage.AuditEntry
	// Older is the path of the next (older) page; "" on the last page.
	Older   string
	Problem *APIError
}

// auditFields are the API's names of the form's fields, so the API's
// problems land next to the field the admin typed in.
var auditFields = map[string]string{"actor": "actor", "target": "target", "since": "from", "until": "to"}

func (u *Console) auditPage(c echo.Context) error {
	f := auditFilter{Actor: strings.TrimSpace(c.QueryParam("actor")), Target: strings.TrimSpace(c.QueryParam("target")),
		From: strings.TrimSpace(c.QueryParam("from")), To: strings.TrimSpace(c.QueryParam("to"))}
	d := auditPageData{Filter: f, Entries: []storage.AuditEntry{}}
	q, problem := f.query()
	if problem != nil {
		d.Problem = problem
		return u.render(c, problem.Status, "audit_list.html", page{Title: "Audit log", Nav: "audit", Data: d})
	}
	if b := c.QueryParam("before"); b != "" {
		q.Set("before", b)
	}
	q.Set("limit", strconv.Itoa(auditPageSize))
	var answer struct {
		Entries []storage.AuditEntry `json:"entries"`
	}
	if err := u.get(c, "/audit?"+q.Encode(), &answer); err != nil {
		ae, ok := formError(err)
		if !ok {
			return err
		}
		d.Problem = formFields(ae, auditFields)
		return u.render(c, formStatus(ae.Status), "audit_list.html", page{Title: "Audit log", Nav: "audit", Data: d})
	}
	d.Entries = answer.Entries
	if n := len(d.Entries); n == auditPageSize {
		older := f.values()
		older.Set("before", strconv.FormatInt(d.Entries[n-1].ID, 10))
		d.Older = Prefix + "/audit?" + older.Encode()
	}
	return u.render(c, http.StatusOK, "audit_list.html", page{Title: "Audit log", Nav: "audit", Data: d})
}

// values is the filter as the page's own query.
func (f auditFilter) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"actor": f.Actor, "target": f.Target, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// query is the filter as the API's query: the days become times, To's
// day included (until the next midnight). A date the field cannot have
// sent is the form's own problem.
func (f auditFilter) query() (url.Values, *APIError) {
	q := url.Values{}
	if f.Actor != "" {
		q.Set("actor", f.Actor)
	}
	if f.Target != "" {
		q.Set("target", f.Target)
	}
	for _, d := range []struct {
		field, param, value string
		days                int
	}{{"from", "since", f.From, 0}, {"to", "until", f.To, 1}} {
		if d.value == "" {
			continue
		}
		day, err := time.Parse(dateLayout, d.value)
		if err != nil {
			return nil, formProblem(d.field, "must be a date such as 2026-12-03")
		}
		q.Set(d.param, day.AddDate(0, 0, d.days).Format(time.RFC3339))
	}
	return q, nil
}

// formFields renames an API problem's fields to the form's.
func formFields(ae *APIError, names map[string]string) *APIError {
	out := *ae
	out.Fields = map[string]string{}
	for k, v := range ae.Fields {
		if n, ok := names[k]; ok {
			k = n
		}
		out.Fields[k] = v
	}
	return &out
}
