package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// runJSON is a run as the API shows it.
type runJSON struct {
	ID            string            `json:"id"`
	SourceID      string            `json:"sourceId"`
	Status        storage.RunStatus `json:"status"`
	Trigger       string            `json:"trigger"`
	Mode          string            `json:"mode,omitempty"`
	DryRun        bool              `json:"dryRun"`
	Queued        time.Time         `json:"queued"`
	Started       *time.Time        `json:"started,omitempty"`
	Finished      *time.Time        `json:"finished,omitempty"`
	Counts        storage.RunCounts `json:"counts"`
	Warnings      int               `json:"warnings"`
	Outcome       string            `json:"outcome"`
	Error         string            `json:"error,omitempty"`
	Notes         []string          `json:"notes"`
	DecidedBy     string            `json:"decidedBy,omitempty"`
	ChangeLogSize int               `json:"changeLogSize"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func runView(r storage.Run) runJSON {
	notes := r.Notes
	if notes == nil {
		notes = []string{}
	}
	return runJSON{
		ID: r.ID, SourceID: r.SourceID, Status: r.Status, Trigger: r.Trigger, Mode: r.Mode, DryRun: r.DryRun,
		Queued: r.Queued, Started: optTime(r.Started), Finished: optTime(r.Finished), Counts: r.Counts,
		Warnings: runWarnings(r.Counts), Outcome: runOutcome(r), Error: r.Error, Notes: notes, DecidedBy: r.DecidedBy, ChangeLogSize: r.ChangeLogN,
	}
}

// runWarnings counts what a run could not apply as the source has it:
// conflicts (a userName or displayName held by someone else), unreadable
// or unmappable records, and references that never resolved. A run with
// warnings still succeeds: everything else was applied.
func runWarnings(c storage.RunCounts) int { return c.Conflicts + c.Errors + c.Unresolved }

// runOutcome is the status with the warnings spelled out, so "succeeded"
// alone means nothing was left out: "succeeded with 2 conflicts and 1 error".
func runOutcome(r storage.Run) string {
	var parts []string
	for _, w := range []struct {
		n          int
		one, other string
	}{
		{r.Counts.Conflicts, "conflict", "conflicts"},
		{r.Counts.Errors, "error", "errors"},
		{r.Counts.Unresolved, "unresolved reference", "unresolved references"},
	} {
		switch {
		case w.n == 1:
			parts = append(parts, "1 "+w.one)
		case w.n > 1:
			parts = append(parts, strconv.Itoa(w.n)+" "+w.other)
		}
	}
	switch len(parts) {
	case 0:
		return string(r.Status)
	case 1:
		return string(r.Status) + " with " + parts[0]
	}
	return string(r.Status) + " with " + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// runOwner is what a set of runs belongs to: a source (its sync runs, in
// the store) or an application (its push runs, in PushRuns). One set of
// handlers serves both, so their runs look and page alike.
type runOwner struct {
	noun string // "source", "application": for messages
	// audit prefixes the decision's audit action ("run", "app.run").
	audit string
	runs  storage.RunStore
	// resolve returns the id the runs are kept under for the path's id
	// (an app may be named by its name); ErrNotFound if there is none.
	resolve func(ctx context.Context, id string) (string, error)
	decide  func(ctx context.Context, ownerID, runID, actor string, approve bool) (storage.Run, error)
}

// sourceRuns is the runOwner of sources' sync runs.
func (s *Server) sourceRuns() runOwner {
	return runOwner{noun: "source", audit: "run", runs: s.cfg.Store,
		resolve: func(ctx context.Context, id string) (string, error) {
			src, err := s.cfg.Store.GetSource(ctx, id)
			return src.ID, err
		},
		decide: func(ctx context.Context, id, runID, actor string, approve bool) (storage.Run, error) {
			if approve {
				return s.cfg.Sync.Approve(ctx, id, runID, actor)
			}
			return s.cfg.Sync.Reject(ctx, id, runID, actor)
		}}
}

// ownerRun finds the owner and its run named by the path, or says which
// of them does not exist.
func (s *Server) ownerRun(c echo.Context, o runOwner) (string, storage.Run, error) {
	id, runID := c.Param("id"), c.Param("runId")
	ownerID, err := o.resolve(c.Request().Context(), id)
	if err != nil {
		return "", storage.Run{}, notFoundAs(err, o.noun+" "+id)
	}
	r, err := o.runs.GetRun(c.Request().Context(), ownerID, runID)
	if err != nil {
		return "", storage.Run{}, notFoundAs(err, "run "+runID+" of "+o.noun+" "+id)
	}
	return ownerID, r, nil
}

func (s *Server) listRuns(o runOwner) func(echo.Context) error {
	return func(c echo.Context) error {
		id := c.Param("id")
		limit, err := intParam(c, "limit", 20, 200)
		if err != nil {
			return err
		}
		if limit == 0 {
			limit = 20
		}
		ownerID, err := o.resolve(c.Request().Context(), id)
		if err != nil {
			return notFoundAs(err, o.noun+" "+id)
		}
		runs, err := o.runs.ListRuns(c.Request().Context(), ownerID, limit)
		if err != nil {
			return err
		}
		out := make([]runJSON, len(runs))
		for i, r := range runs {
			out[i] = runView(r)
		}
		return c.JSON(http.StatusOK, map[string]any{"runs": out})
	}
}

func (s *Server) getRun(o runOwner) func(echo.Context) error {
	return func(c echo.Context) error {
		_, r, err := s.ownerRun(c, o)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, runView(r))
	}
}

// listChanges pages through a run's change log.
func (s *Server) listChanges(o runOwner) func(echo.Context) error {
	return runPages(s, o, "changes", func(ctx context.Context, runID string, offset, limit int) ([]storage.Change, int, error) {
		return o.runs.ListChanges(ctx, runID, offset, limit)
	})
}

// listPending shows what a held run would remove.
func (s *Server) listPending(o runOwner) func(echo.Context) error {
	return runPages(s, o, "pending", func(ctx context.Context, runID string, offset, limit int) ([]storage.PendingDeletion, int, error) {
		return o.runs.ListPending(ctx, runID, offset, limit)
	})
}

// runPages answers a page of one of a run's lists (offset and limit from
// the query) as {"total", "offset", name: [...]}.
func runPages[T any](s *Server, o runOwner, name string, list func(ctx context.Context, runID string, offset, limit int) ([]T, int, error)) func(echo.Context) error {
	return func(c echo.Context) error {
		offset, limit, err := page(c)
		if err != nil {
			return err
		}
		_, r, err := s.ownerRun(c, o)
		if err != nil {
			return err
		}
		items, total, err := list(c.Request().Context(), r.ID, offset, limit)
		if err != nil {
			return err
		}
		if items == nil {
			items = []T{}
		}
		return c.JSON(http.StatusOK, map[string]any{"total": total, "offset": offset, name: items})
	}
}

func page(c echo.Context) (int, int, error) {
	offset, err := intParam(c, "offset", 0, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	limit, err := intParam(c, "limit", 100, 1000)
	return offset, limit, err
}

func (s *Server) decideRun(o runOwner, approve bool) func(echo.Context) error {
	return func(c echo.Context) error {
		id, runID := c.Param("id"), c.Param("runId")
		ownerID, err := o.resolve(c.Request().Context(), id)
		if err != nil {
			return notFoundAs(err, o.noun+" "+id)
		}
		r, err := o.decide(c.Request().Context(), ownerID, runID, actor(c), approve)
		if err != nil {
			return notFoundAs(err, "run "+runID+" of "+o.noun+" "+id)
		}
		action := o.audit + ".reject"
		if approve {
			action = o.audit + ".approve"
		}
		s.audit(c, action, ownerID, "run="+runID)
		return c.JSON(http.StatusOK, runView(r))
	}
}

// notFoundAs names what was not found.
func notFoundAs(err error, what string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return errNotFound(what)
	}
	return err
}

// routesRuns mounts the run routes of one kind of owner under prefix.
func (s *Server) routesRuns(g *echo.Group, prefix string, o runOwner) {
	g.GET(prefix+"/runs", s.handle(s.listRuns(o)))
	g.GET(prefix+"/runs/:runId", s.handle(s.getRun(o)))
	g.GET(prefix+"/runs/:runId/changes", s.handle(s.listChanges(o)))
	g.GET(prefix+"/runs/:runId/pending", s.handle(s.listPending(o)))
	g.POST(prefix+"/runs/:runId/approve", s.handle(s.decideRun(o, true)))
	g.POST(prefix+"/runs/:runId/reject", s.handle(s.decideRun(o, false)))
}
