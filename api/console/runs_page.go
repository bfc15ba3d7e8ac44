package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// One run's page: its status, counts and times, its notes and error, a
// page of its change log with before and after side by side, and for a
// held run its pending removals with Approve and Reject.

// Page sizes of a run's lists (the API's most is 1000).
const (
	changesPerPage = 50
	pendingPerPage = 100
)

type runPageData struct {
	Owner    ownerRef
	Run      runView
	Label    string // when it was queued, to the second
	Counts   []runCount
	Duration string
	Live     bool
	Held     bool
	// Self is the page's path; Progress the script's JSON (runs.js).
	Self, Progress string
	Changes        []changeView
	ChangePages    pager
	Pending        []pendingView
	PendingPages   pager
	Problem        *APIError
}

// pager is where a page of a list is in it, with links to the pages
// before and after ("" at either end).
type pager struct {
	Noun            string // what the list holds: "changes", "removals"
	Total, From, To int
	Prev, Next      string
}

func (u *Console) runPage(o runOwner) echo.HandlerFunc {
	return func(c echo.Context) error { return u.showRun(c, o, http.StatusOK, nil) }
}

// showRun renders a run's page, with problem at the top when a decision
// on it was refused.
func (u *Console) showRun(c echo.Context, o runOwner, status int, problem *APIError) error {
	own, err := u.owner(c, o)
	if err != nil {
		return err
	}
	runID := c.Param("runId")
	var r runView
	if err := u.get(c, o.apiRun(own.ID, runID), &r); err != nil {
		return err
	}
	self := Prefix + o.runPath(own.ID, r.ID)
	d := runPageData{Owner: own, Run: r, Counts: countsOf(r.Counts), Duration: duration(r, u.cfg.Now()),
		Live: live(r.Status), Held: r.Status == storage.RunHeld, Self: self, Progress: self + "/progress", Problem: problem}

	q := c.QueryParams()
	var changes struct {
		Total   int              `json:"total"`
		Changes []storage.Change `json:"changes"`
	}
	offset := offsetParam(q, "changes")
	if err := u.get(c, o.apiRun(own.ID, r.ID)+"/changes?"+pageQuery(offset, changesPerPage), &changes); err != nil {
		return err
	}
	for _, ch := range changes.Changes {
		d.Changes = append(d.Changes, changeView{Change: ch, Word: changeWord(ch.Action),
			UserPage: userPage(ch.Kind, ch.ResourceID), Diff: diffSnapshots(ch.Before, ch.After)})
	}
	d.ChangePages = pageOf(self, q, "changes", "changes", offset, changesPerPage, len(changes.Changes), changes.Total)

	if d.Held {
		var pending struct {
			Total   int                       `json:"total"`
			Pending []storage.PendingDeletion `json:"pending"`
		}
		offset := offsetParam(q, "pending")
		if err := u.get(c, o.apiRun(own.ID, r.ID)+"/pending?"+pageQuery(offset, pendingPerPage), &pending); err != nil {
			return err
		}
		for _, p := range pending.Pending {
			d.Pending = append(d.Pending, pendingView{PendingDeletion: p, Word: removalWord(p.Action), UserPage: userPage(p.Kind, p.ID)})
		}
		d.PendingPages = pageOf(self, q, "pending", "removals", offset, pendingPerPage, len(pending.Pending), pending.Total)
	}
	d.Label = runLabel(r)
	title := own.Name + ": run of " + d.Label + " (" + runWord(r.Status) + ")"
	return u.render(c, status, "runs_show.html", page{Title: title, Nav: navOf(o), Data: d})
}

// offsetParam reads a list's offset from the page's query; anything but
// a whole number from 0 is the first page.
func offsetParam(q url.Values, name string) int {
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func pageQuery(offset, limit int) string {
	return "offset=" + strconv.Itoa(offset) + "&limit=" + strconv.Itoa(limit)
}

// pageOf places a page of n items from offset in a list of total, with
// links (the query parameter name) that keep the page's other parameters.
func pageOf(self string, q url.Values, name, noun string, offset, limit, n, total int) pager {
	p := pager{Noun: noun, Total: total, From: offset + 1, To: offset + n}
	if n == 0 {
		p.From = 0
	}
	link := func(at int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set(name, strconv.Itoa(at))
		return self + "?" + v.Encode() + "#" + name
	}
	if offset > 0 {
		p.Prev = link(max(0, offset-limit))
	}
	if offset+n < total {
		p.Next = link(offset + n)
	}
	return p
}

// decisionFlash says what a decision did: removals is what an approved
// run was to remove ("3 users deactivated"), read before approving it;
// without it the run's counts, which the API answers, say it.
func decisionFlash(r runView, removals string) string {
	if r.Status == storage.RunRejected {
		return "Rejected: nothing was removed."
	}
	if r.Status == storage.RunFailed {
		return "Approved, but applying the removals failed: the run's page says why."
	}
	if r.Status == storage.RunSucceeded && removals != "" {
		return "Approved: " + removals + "."
	}
	var parts []string
	if n := r.Counts.Deactivated; n > 0 {
		parts = append(parts, strconv.Itoa(n)+" deactivated")
	}
	if n := r.Counts.Deleted; n > 0 {
		parts = append(parts, strconv.Itoa(n)+" deleted")
	}
	if len(parts) == 0 {
		return "Approved by " + r.DecidedBy + "."
	}
	return "Approved: " + strings.Join(parts, " and ") + "."
}

// tallyLimit is the most pending removals read to name them by kind.
const tallyLimit = 1000

// removalTally names a held run's pending removals by kind and action
// ("3 users deactivated and 1 group deleted"); "" when they cannot be
// read in one page (the flash then falls back to the run's counts).
func (u *Console) removalTally(c echo.Context, o runOwner, id, runID string) string {
	var pending struct {
		Total   int                       `json:"total"`
		Pending []storage.PendingDeletion `json:"pending"`
	}
	if err := u.get(c, o.apiRun(id, runID)+"/pending?"+pageQuery(0, tallyLimit), &pending); err != nil || pending.Total != len(pending.Pending) {
		return ""
	}
	type group struct{ kind, action string }
	var order []group
	n := map[group]int{}
	for _, p := range pending.Pending {
		g := group{strings.ToLower(p.Kind), p.Action}
		if n[g] == 0 {
			order = append(order, g)
		}
		n[g]++
	}
	parts := make([]string, len(order))
	for i, g := range order {
		parts[i] = plural(n[g], g.kind) + " " + strings.ToLower(changeWord(g.action))
	}
	return joinWords(parts)
}

// joinWords joins "a", "b" and "c" as "a, b and c".
func joinWords(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
