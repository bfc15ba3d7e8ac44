package api

import (
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

func (s *Server) listRuns(c echo.Context) error {
	id := c.Param("id")
	limit, err := intParam(c, "limit", 20, 200)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 20
	}
	if _, err := s.cfg.Store.GetSource(c.Request().Context(), id); err != nil {
		return notFoundAs(err, "source "+id)
	}
	runs, err := s.cfg.Store.ListRuns(c.Request().Context(), id, limit)
	if err != nil {
		return err
	}
	out := make([]runJSON, len(runs))
	for i, r := range runs {
		out[i] = runView(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"runs": out})
}

func (s *Server) getRun(c echo.Context) error {
	r, err := s.cfg.Store.GetRun(c.Request().Context(), c.Param("id"), c.Param("runId"))
	if err != nil {
		return notFoundAs(err, "run "+c.Param("runId")+" of source "+c.Param("id"))
	}
	return c.JSON(http.StatusOK, runView(r))
}

// listChanges pages through a run's change log.
func (s *Server) listChanges(c echo.Context) error {
	offset, limit, err := page(c)
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.GetRun(c.Request().Context(), c.Param("id"), c.Param("runId")); err != nil {
		return notFoundAs(err, "run "+c.Param("runId")+" of source "+c.Param("id"))
	}
	changes, total, err := s.cfg.Store.ListChanges(c.Request().Context(), c.Param("runId"), offset, limit)
	if err != nil {
		return err
	}
	if changes == nil {
		changes = []storage.Change{}
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "offset": offset, "changes": changes})
}

// listPending shows what a held run would remove.
func (s *Server) listPending(c echo.Context) error {
	offset, limit, err := page(c)
	if err != nil {
		return err
	}
	if _, err := s.cfg.Store.GetRun(c.Request().Context(), c.Param("id"), c.Param("runId")); err != nil {
		return notFoundAs(err, "run "+c.Param("runId")+" of source "+c.Param("id"))
	}
	p, total, err := s.cfg.Store.ListPending(c.Request().Context(), c.Param("runId"), offset, limit)
	if err != nil {
		return err
	}
	if p == nil {
		p = []storage.PendingDeletion{}
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "offset": offset, "pending": p})
}

func page(c echo.Context) (int, int, error) {
	offset, err := intParam(c, "offset", 0, 1<<31-1)
	if err != nil {
		return 0, 0, err
	}
	limit, err := intParam(c, "limit", 100, 1000)
	return offset, limit, err
}

func (s *Server) decideRun(approve bool) func(echo.Context) error {
	return func(c echo.Context) error {
		id, runID := c.Param("id"), c.Param("runId")
		var r storage.Run
		var err error
		if approve {
			r, err = s.cfg.Sync.Approve(c.Request().Context(), id, runID, actor(c))
		} else {
			r, err = s.cfg.Sync.Reject(c.Request().Context(), id, runID, actor(c))
		}
		if err != nil {
			return notFoundAs(err, "run "+runID+" of source "+id)
		}
		action := "run.reject"
		if approve {
			action = "run.approve"
		}
		s.audit(c, action, id, "run="+runID)
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
