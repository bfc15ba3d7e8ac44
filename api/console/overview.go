package console

import (
	"errors"
	"net/http"
	"sort"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// attentionRuns is how many recent runs per source the overview scans
// for failed or held ones.
const attentionRuns = 5

type attentionRun struct {
	Owner, OwnerName, OwnerPath, RunPath string
	Run                                  runView
}

func (u *Console) overview(c echo.Context) error {
	var srcs struct {
		Sources []sourceView `json:"sources"`
	}
	if err := u.get(c, "/sources", &srcs); err != nil && !notMounted(err) {
		return err
	}
	var apps struct {
		Apps []appView `json:"apps"`
	}
	if err := u.get(c, "/apps", &apps); err != nil {
		return err
	}
	var attention []attentionRun
	collect := func(o runOwner, noun, id, name string) error {
		var runs struct {
			Runs []runView `json:"runs"`
		}
		if err := u.get(c, o.apiRuns(id)+"?limit="+strconv.Itoa(attentionRuns), &runs); err != nil {
			return err
		}
		for _, r := range runs.Runs {
			if r.Status == storage.RunFailed || r.Status == storage.RunHeld {
				attention = append(attention, attentionRun{Owner: noun, OwnerName: name, OwnerPath: Prefix + o.pagePath(id),
					RunPath: Prefix + o.runPath(id, r.ID), Run: r})
			}
		}
		return nil
	}
	for _, src := range srcs.Sources {
		if err := collect(sourceRuns, "source", src.ID, src.Name); err != nil {
			return err
		}
	}
	for _, a := range apps.Apps {
		if a.Push == nil {
			continue
		}
		if err := collect(appRuns, "push of app", a.ID, a.Name); err != nil && !notMounted(err) {
			return err
		}
	}
	// Held runs wait for someone: they come first, then the newest failures.
	sort.SliceStable(attention, func(i, j int) bool {
		hi, hj := attention[i].Run.Status == storage.RunHeld, attention[j].Run.Status == storage.RunHeld
		if hi != hj {
			return hi
		}
		return attention[i].Run.Queued.After(attention[j].Run.Queued)
	})
	return u.render(c, http.StatusOK, "overview.html", page{Title: "Overview", Nav: "overview", Data: map[string]any{
		"Sources": srcs.Sources, "Apps": apps.Apps, "Attention": attention,
	}})
}

// notMounted tells a 404 from a route the server has not mounted (a
// server without a sync runner serves no sources).
func notMounted(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}
