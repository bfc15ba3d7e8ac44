package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"
)

// The run pages: a source's sync runs and an app's push runs are one set
// of pages over a runOwner, as they are one set of handlers in the API.

// runOwner is what a set of runs belongs to, as the console shows it.
type runOwner struct {
	noun  string // "source", "app": in headings
	title string // the runs page's title
	page  string // the console path of the owner's page, before its id
	runs  string // the console path from the owner's page to its runs
	api   string // the API path of the owner, before its id; its runs are at .../runs
}

var (
	sourceRuns = runOwner{noun: "source", title: "Sync runs", page: "/sources/", runs: "/runs", api: "/sources/"}
	appRuns    = runOwner{noun: "app", title: "Push runs", page: "/apps/", runs: "/push/runs", api: "/apps/"}
)

// route is the owner's runs route, with :id.
func (o runOwner) route() string { return o.page + ":id" + o.runs }

// pagePath is the console path (under Prefix) of the owner's page.
func (o runOwner) pagePath(id string) string { return o.page + url.PathEscape(id) }

// runsPath is the console path (under Prefix) of the owner's runs.
func (o runOwner) runsPath(id string) string { return o.pagePath(id) + o.runs }

// runPath is the console path (under Prefix) of one run.
func (o runOwner) runPath(id, runID string) string {
	return o.runsPath(id) + "/" + url.PathEscape(runID)
}

// apiRuns is the API path of the owner's runs.
func (o runOwner) apiRuns(id string) string { return o.api + url.PathEscape(id) + "/runs" }

// apiRun is the API path of one run.
func (o runOwner) apiRun(id, runID string) string { return o.apiRuns(id) + "/" + url.PathEscape(runID) }

// ownerRef is the owner as a page names and links it.
type ownerRef struct {
	Noun, ID, Name string
	Page, Runs     string // full console paths
}

func (u *Console) routesRuns(g *echo.Group) {
	for _, o := range []runOwner{sourceRuns, appRuns} {
		r := o.route()
		g.GET(r, u.handle(u.runsList(o)))
		g.GET(r+"/:runId", u.handle(u.runPage(o)))
		g.GET(r+"/:runId/progress", u.runProgress(o))
		g.POST(r+"/:runId/approve", u.handle(u.decideRun(o, true)))
		g.POST(r+"/:runId/reject", u.handle(u.decideRun(o, false)))
	}
}

// owner reads the owner's name; the API's 404 names what is missing.
func (u *Console) owner(c echo.Context, o runOwner) (ownerRef, error) {
	id := c.Param("id")
	var v struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := u.get(c, o.api+url.PathEscape(id), &v); err != nil {
		return ownerRef{}, err
	}
	if v.ID != "" {
		id = v.ID // an app may be named by its name
	}
	return ownerRef{Noun: o.noun, ID: id, Name: v.Name, Page: Prefix + o.pagePath(id), Runs: Prefix + o.runsPath(id)}, nil
}

// listedRuns is how many runs the list page shows (the API's most is 200).
const listedRuns = 50

func (u *Console) runsList(o runOwner) echo.HandlerFunc {
	return func(c echo.Context) error {
		own, err := u.owner(c, o)
		if err != nil {
			return err
		}
		table, err := u.recentRuns(c, o, own.ID, listedRuns)
		if err != nil {
			return err
		}
		return u.render(c, http.StatusOK, "runs_list.html", page{Title: o.title + " of " + own.Name, Nav: navOf(o),
			Data: map[string]any{"Owner": own, "Table": table}})
	}
}

// recentRuns reads an owner's newest runs as the "runs-table" template
// shows them; the sources' and apps' pages use it for their recent runs.
func (u *Console) recentRuns(c echo.Context, o runOwner, id string, limit int) (runsTable, error) {
	var v struct {
		Runs []runView `json:"runs"`
	}
	if err := u.get(c, o.apiRuns(id)+"?limit="+strconv.Itoa(limit), &v); err != nil {
		return runsTable{}, err
	}
	return runsTableOf(Prefix+o.runsPath(id), v.Runs), nil
}

// navOf is the navigation entry a run page belongs under.
func navOf(o runOwner) string {
	if o == appRuns {
		return "apps"
	}
	return "sources"
}

// runProgress answers the run page's script: the status and counts as
// JSON. A dead session gets 401 JSON (requireSession, for X-Console-Fetch).
func (u *Console) runProgress(o runOwner) echo.HandlerFunc {
	return func(c echo.Context) error {
		var r runView
		if err := u.get(c, o.apiRun(c.Param("id"), c.Param("runId")), &r); err != nil {
			var ae *APIError
			if errors.As(err, &ae) {
				return c.JSON(statusOr(ae.Status, http.StatusBadGateway), map[string]string{"error": ae.Error()})
			}
			u.log.Error("console: run progress", "error", err)
			return c.JSON(http.StatusInternalServerError, map[string]string{"error": "the server could not read the run; its log has the details"})
		}
		counts := map[string]int{}
		for _, n := range countsOf(r.Counts) {
			counts[n.Key] = n.Value
		}
		return c.JSON(http.StatusOK, progressJSON{Status: string(r.Status), Word: runWord(r.Status),
			Live: live(r.Status), Counts: counts, Duration: duration(r, u.cfg.Now())})
	}
}

// progressJSON is what the run page's script reads (static/runs.js).
type progressJSON struct {
	Status   string         `json:"status"`
	Word     string         `json:"statusWord"`
	Live     bool           `json:"live"`
	Counts   map[string]int `json:"counts"`
	Duration string         `json:"duration"`
}

// decideRun approves or rejects a held run through the API and goes back
// to the run's page with what happened.
func (u *Console) decideRun(o runOwner, approve bool) echo.HandlerFunc {
	verb := "reject"
	if approve {
		verb = "approve"
	}
	return func(c echo.Context) error {
		id, runID := c.Param("id"), c.Param("runId")
		var removals string
		if approve {
			removals = u.removalTally(c, o, id, runID)
		}
		res, err := u.call(c, http.MethodPost, o.apiRun(id, runID)+"/"+verb, nil)
		if err != nil {
			return err
		}
		var r runView
		if err := res.Decode(&r); err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Status != http.StatusNotFound && ae.Status < 500 {
				// Decided meanwhile (409) or refused: the run's page says why.
				return u.showRun(c, o, ae.Status, ae)
			}
			return err
		}
		return u.redirect(c, o.runPath(id, runID), decisionFlash(r, removals))
	}
}
