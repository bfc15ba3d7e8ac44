package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// nextRunCount is how many coming run times a source and a schedule
// preview show.
const nextRunCount = 3

// nextRuns are when src's schedule runs it next; none for a disabled or
// manual-only source.
func (s *Server) nextRuns(src storage.Source) []time.Time {
	if !src.Enabled || strings.TrimSpace(src.Schedule) == "" {
		return []time.Time{}
	}
	sched, err := sources.ParseSchedule(src.Schedule)
	if err != nil {
		return []time.Time{} // refused on write; a stored one never runs
	}
	return sources.NextRuns(sched, src.Health.LastRunAt, src.ID, s.cfg.Store.Now(), nextRunCount)
}

// previewSchedule answers GET /schedules/preview?schedule=...[&source=id]:
// the next run times of a schedule before it is saved, for the source
// given (its last run and its spread) or for a new source, or the
// schedule's problem as a field error.
func (s *Server) previewSchedule(c echo.Context) error {
	raw := strings.TrimSpace(c.QueryParam("schedule"))
	src := storage.Source{Enabled: true, Schedule: raw}
	if id := c.QueryParam("source"); id != "" {
		stored, err := s.cfg.Store.GetSource(c.Request().Context(), id)
		if err != nil {
			return notFoundAs(err, "source "+id)
		}
		src.ID, src.Health = stored.ID, stored.Health
	}
	if raw != "" {
		if _, err := sources.ParseSchedule(raw); err != nil {
			return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_config",
				Message: "the schedule is not valid; see fields", Fields: map[string]string{"schedule": err.Error()}}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"schedule": raw, "next": s.nextRuns(src)})
}
