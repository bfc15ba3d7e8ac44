package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
)

// sourcePageRuns is how many runs a source's page lists.
const sourcePageRuns = 10

// routesSources mounts the Sources pages: the list, a source's page with
// its actions, and the add and edit forms (sources_form.go).
func (u *Console) routesSources(g *echo.Group) {
	g.GET("/sources", u.handle(u.sourceList))
	g.GET("/sources/new", u.handle(u.sourceNew))
	g.POST("/sources/new", u.handle(u.sourceCreate))
	g.GET("/schedules/preview", u.handle(u.schedulePreviewJSON))
	g.GET("/sources/:id", u.handle(u.sourcePage))
	g.GET("/sources/:id/edit", u.handle(u.sourceEdit))
	g.POST("/sources/:id/edit", u.handle(u.sourceUpdate))
	g.POST("/sources/:id/test", u.handle(u.sourceTest))
	g.POST("/sources/:id/sync", u.handle(u.sourceSync))
	g.POST("/sources/:id/delete", u.handle(u.sourceDelete))
}

func sourcePath(id string) string { return "/sources/" + url.PathEscape(id) }

func (u *Console) sourceList(c echo.Context) error {
	var list struct {
		Sources []sourceView `json:"sources"`
	}
	if err := u.get(c, "/sources", &list); err != nil {
		return err
	}
	rows := make([]sourceRow, len(list.Sources))
	for i, src := range list.Sources {
		rows[i] = sourceRow{sourceView: src}
		if len(src.NextRuns) > 0 {
			rows[i].Next = when(src.NextRuns[0])
			if u.dueNow(src.NextRuns[0]) {
				rows[i].Next = "Due now"
			}
		}
	}
	return u.render(c, http.StatusOK, "sources_list.html", page{Title: "Sources", Nav: "sources", Data: rows})
}

// sourceRow is a source in the list, with its next run in words.
type sourceRow struct {
	sourceView
	Next string
}

// sourcePageData is what a source's page shows.
type sourcePageData struct {
	Source   sourceDetail
	Settings []settingFact
	Mapping  mappingTables
	// Next are the next run times as the page words them.
	Next *previewResult
	Runs runsTable
	// Test is the outcome of "Test connection", on the page it answers.
	Test *testResult
}

// settingFact is one setting as the source's page lists it: a secret
// only as "set" or "not set".
type settingFact struct {
	Name, Value, Default string
	Secret, Set          bool
}

func (u *Console) sourcePage(c echo.Context) error {
	return u.renderSourcePage(c, http.StatusOK, nil)
}

func (u *Console) renderSourcePage(c echo.Context, status int, test *testResult) error {
	id := c.Param("id")
	var d sourcePageData
	if err := u.get(c, sourcePath(id), &d.Source); err != nil {
		return err
	}
	runs, err := u.recentRuns(c, sourceRuns, id, sourcePageRuns)
	if err != nil {
		return err
	}
	d.Runs, d.Test = runs, test
	d.Mapping = effectiveTables(d.Source.EffectiveMapping, d.Source.Mapping)
	d.Next = u.newPreview(d.Source.Schedule, d.Source.NextRuns)
	kind, err := u.kind(c, d.Source.Kind)
	if err != nil {
		return err
	}
	for _, s := range kind.Settings {
		f := settingFact{Name: s.Name, Secret: s.Secret, Default: valueText(s.Default)}
		if s.Secret {
			f.Set = slices.Contains(d.Source.SecretsSet, s.Name)
		} else if raw, ok := d.Source.Settings[s.Name]; ok {
			f.Value = settingText(raw)
		}
		d.Settings = append(d.Settings, f)
	}
	return u.render(c, status, "sources_show.html", page{Title: d.Source.Name, Nav: "sources", Data: d})
}

// sourceTest runs "Test connection" and shows its outcome on the
// source's page: the upstream's own words when it fails.
func (u *Console) sourceTest(c echo.Context) error {
	res, err := u.call(c, http.MethodPost, sourcePath(c.Param("id"))+"/test", nil)
	if err != nil {
		return err
	}
	var out testResult
	if err := res.Decode(&out); err != nil {
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
			return err
		}
		// Settings the kind refuses are a failed test too.
		out = testResult{Message: ae.Error()}
	}
	return u.renderSourcePage(c, http.StatusOK, &out)
}

// sourceSync starts a run ("Run now": full; "Dry run": full, writing
// nothing, so it shows the removals too) and goes to its page. A run
// already going or held is where the admin is sent instead.
func (u *Console) sourceSync(c echo.Context) error {
	id := c.Param("id")
	q := url.Values{"mode": {"full"}}
	flash := "Run started."
	if c.FormValue("dryRun") == "true" {
		q.Set("dryRun", "true")
		flash = "Dry run started: it changes nothing."
	}
	var run runView
	res, err := u.call(c, http.MethodPost, sourcePath(id)+"/sync?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	if err := res.Decode(&run); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.RunID != "" {
			return u.redirect(c, sourcePath(id)+"/runs/"+url.PathEscape(ae.RunID), ae.Message)
		}
		return err
	}
	return u.redirect(c, sourcePath(id)+"/runs/"+url.PathEscape(run.ID), flash)
}

func (u *Console) sourceDelete(c echo.Context) error {
	id := c.Param("id")
	var src sourceView
	if err := u.get(c, sourcePath(id), &src); err != nil {
		return err
	}
	res, err := u.call(c, http.MethodDelete, sourcePath(id), nil)
	if err != nil {
		return err
	}
	if err := res.Decode(nil); err != nil {
		return err
	}
	return u.redirect(c, "/sources", "Deleted source "+src.Name+".")
}

// kinds reads the kinds the server knows.
func (u *Console) kinds(c echo.Context) ([]kindView, error) {
	var list struct {
		Kinds []kindView `json:"kinds"`
	}
	if err := u.get(c, "/kinds", &list); err != nil {
		return nil, err
	}
	return list.Kinds, nil
}

// kind reads one kind's description; an unknown kind is a 404 that names
// the known ones.
func (u *Console) kind(c echo.Context, name string) (kindView, error) {
	all, err := u.kinds(c)
	if err != nil {
		return kindView{}, err
	}
	names := make([]string, len(all))
	for i, k := range all {
		if k.Name == name {
			return k, nil
		}
		names[i] = k.Name
	}
	return kindView{}, echo.NewHTTPError(http.StatusNotFound, "There is no source kind "+strconv.Quote(name)+"; the kinds are "+joinNames(names)+".")
}
