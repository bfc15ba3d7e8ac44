package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// control is one labelled form control, generated from a kind's setting
// or one of a source's common fields.
type control struct {
	ID, Name, Label string
	// Input is text, number, password, checkbox, select or textarea.
	Input       string
	Value       string
	Checked     bool
	Options     []option
	Help        string
	Placeholder string
	Required    bool
	// Secret controls are write-only: SecretSet says whether a value is
	// stored (the page shows "set"); an empty field keeps it.
	Secret, SecretSet bool
	Error             string
}

type option struct {
	Value, Label string
	Selected     bool
}

// sourceForm is the add or edit form of a source.
type sourceForm struct {
	Kind                                kindView
	Source                              *sourceDetail // nil for a new source
	Action                              string
	Common, Deletion, Settings, Mapping []control
	// Identity are the link keys and the authoritative attributes.
	Identity []control
	// Effective is the mapping a run uses: the kind's defaults with the
	// source's overrides.
	Effective mappingTables
	Preview   *previewResult
	Problem   *APIError
}

// previewResult is a schedule's next run times, or why it has none.
type previewResult struct {
	Schedule string
	Next     []time.Time
	// Lines are the run times as the page and the script show them.
	Lines   []string
	Problem string
}

// newPreview writes a preview's lines: a first run due now (the source
// never ran, or its time has passed) says so.
func (u *Console) newPreview(schedule string, next []time.Time) *previewResult {
	p := &previewResult{Schedule: schedule, Next: next}
	now := u.cfg.Now()
	for i, t := range next {
		line := when(t) + " (" + ago(t, now) + ")"
		if i == 0 && u.dueNow(t) {
			line = "At once (" + when(t) + "): it never ran, or its time has passed"
		}
		p.Lines = append(p.Lines, line)
	}
	return p
}

// dueNow tells a next run that is due now (the API's first run of a
// source that never ran, or is overdue) from a coming one.
func (u *Console) dueNow(next time.Time) bool { return !next.After(u.cfg.Now().Add(time.Minute)) }

// deletionPolicies are the choices of the policy select, in the order
// shown (the first is the default).
var deletionPolicies = []string{storage.PolicyDeactivate, storage.PolicyDelete}

func (u *Console) sourceNew(c echo.Context) error {
	name := c.QueryParam("kind")
	if name == "" {
		all, err := u.kinds(c)
		if err != nil {
			return err
		}
		return u.render(c, http.StatusOK, "sources_kinds.html", page{Title: "Add a source", Nav: "sources", Data: all})
	}
	kind, err := u.kind(c, name)
	if err != nil {
		return err
	}
	return u.renderForm(c, http.StatusOK, buildForm(kind, nil, newSourceValues(kind), nil))
}

func (u *Console) sourceEdit(c echo.Context) error {
	src, kind, err := u.sourceAndKind(c)
	if err != nil {
		return err
	}
	f := buildForm(kind, &src, sourceValues(src, kind), nil)
	if len(src.NextRuns) > 0 {
		f.Preview = u.newPreview(src.Schedule, src.NextRuns)
	}
	return u.renderForm(c, http.StatusOK, f)
}

func (u *Console) sourceAndKind(c echo.Context) (sourceDetail, kindView, error) {
	var src sourceDetail
	if err := u.get(c, sourcePath(c.Param("id")), &src); err != nil {
		return src, kindView{}, err
	}
	kind, err := u.kind(c, src.Kind)
	return src, kind, err
}

func (u *Console) sourceCreate(c echo.Context) error {
	kind, err := u.kind(c, c.FormValue("kind"))
	if err != nil {
		return err
	}
	return u.submitSource(c, kind, nil)
}

func (u *Console) sourceUpdate(c echo.Context) error {
	src, kind, err := u.sourceAndKind(c)
	if err != nil {
		return err
	}
	return u.submitSource(c, kind, &src)
}

// submitSource saves a posted form (POST for a new source, PUT for an
// existing one: the form holds every field) or, for its "Preview"
// button, shows the schedule's next runs. The API's field errors come
// back next to their fields.
func (u *Console) submitSource(c echo.Context, kind kindView, src *sourceDetail) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read; reload the page and try again.")
	}
	if form.Get("action") == "preview" {
		f := buildForm(kind, src, form, nil)
		p, err := u.preview(c, form.Get(fieldSchedule), src)
		if err != nil {
			return err
		}
		f.Preview = p
		return u.renderForm(c, http.StatusOK, f)
	}
	body, problems := sourceBody(kind, form)
	if problems != nil {
		return u.renderForm(c, http.StatusUnprocessableEntity, buildForm(kind, src, form,
			&APIError{Status: http.StatusUnprocessableEntity, Message: "Some fields need fixing; see the messages next to them.", Fields: problems}))
	}
	method, path, verb := http.MethodPost, "/sources", "Created"
	if src != nil {
		method, path, verb = http.MethodPut, sourcePath(src.ID), "Saved"
	}
	res, err := u.call(c, method, path, body)
	if err != nil {
		return err
	}
	var saved sourceView
	if err := res.Decode(&saved); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusUnprocessableEntity || ae.Status == http.StatusConflict || ae.Status == http.StatusBadRequest) {
			return u.renderForm(c, ae.Status, buildForm(kind, src, form, ae))
		}
		return err
	}
	return u.redirect(c, sourcePath(saved.ID), verb+" source "+saved.Name+".")
}

// preview asks the API for a schedule's next run times.
func (u *Console) preview(c echo.Context, schedule string, src *sourceDetail) (*previewResult, error) {
	schedule = strings.TrimSpace(schedule)
	q := url.Values{"schedule": {schedule}}
	if src != nil {
		q.Set("source", src.ID)
	}
	var out schedulePreview
	err := u.get(c, "/schedules/preview?"+q.Encode(), &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Field(fieldSchedule) != "" {
		return &previewResult{Schedule: schedule, Problem: ae.Field(fieldSchedule)}, nil
	}
	if err != nil {
		return nil, err
	}
	return u.newPreview(schedule, out.Next), nil
}

// schedulePreviewJSON serves sources.js the preview as it is typed.
func (u *Console) schedulePreviewJSON(c echo.Context) error {
	var src *sourceDetail
	if id := c.QueryParam("source"); id != "" {
		src = &sourceDetail{sourceView: sourceView{ID: id}}
	}
	p, err := u.preview(c, c.QueryParam("schedule"), src)
	var ae *APIError
	if errors.As(err, &ae) {
		return c.JSON(statusOr(ae.Status, http.StatusBadGateway), map[string]string{"error": ae.Error()})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"next": p.Lines, "problem": p.Problem})
}

func (u *Console) renderForm(c echo.Context, status int, f sourceForm) error {
	title := "Add a " + f.Kind.Name + " source"
	if f.Source != nil {
		title = "Edit " + f.Source.Name
	}
	return u.render(c, status, "sources_form.html", page{Title: title, Nav: "sources", Data: f})
}

// buildForm lays out the form for kind with values (a stored source's,
// a new one's defaults, or what was posted) and the API's problem.
func buildForm(kind kindView, src *sourceDetail, values url.Values, problem *APIError) sourceForm {
	f := sourceForm{Kind: kind, Source: src, Action: Prefix + "/sources/new", Problem: problem,
		Effective: effectiveTables(kind.DefaultMapping, storage.SourceMapping{})}
	if src != nil {
		f.Action = Prefix + sourcePath(src.ID) + "/edit"
		f.Effective = effectiveTables(src.EffectiveMapping, src.Mapping)
	}
	field := func(name, label, input, help string) control {
		ctl := control{ID: fieldID(name), Name: name, Label: label, Input: input, Value: values.Get(name), Help: help, Error: problem.Field(name)}
		if input == "checkbox" {
			ctl.Checked = values.Get(name) == "true"
		}
		return ctl
	}
	name := field(fieldName, "Name", "text", "A short name, unique among sources: letters, digits, dots, dashes.")
	name.Required = true
	f.Common = []control{
		name,
		field(fieldEnabled, "Enabled", "checkbox", "A disabled source keeps its users but never runs."),
		field(fieldSchedule, "Schedule", "text", `An interval such as 15m or 1h, or a cron expression in UTC such as 0 */6 * * *. Empty: the source runs only when you press "Run now".`),
		field(fieldPrecedence, "Precedence", "number", "When two sources claim the same userName, the lower number wins. Empty: the default."),
		field(fieldScope, "Scope (filter)", "text", `Which records the source imports, as a SCIM filter over its attributes, such as department eq "Sales". A user who leaves the scope is removed like one who left the directory. Empty: everyone.`),
	}
	policy := field(fieldPolicy, "Deletion policy", "select", "What happens to users the source no longer has: deactivate (active=false), or delete (after the grace days).")
	for _, p := range deletionPolicies {
		policy.Options = append(policy.Options, option{Value: p, Label: p, Selected: policy.Value == p})
	}
	f.Deletion = []control{
		policy,
		field(fieldMaxPercent, "Hold a run that removes more than this percent", "number", "Of the source's users; 0: no percent limit. Empty: the default. A held run waits for an admin to approve or reject it."),
		field(fieldMaxCount, "Hold a run that removes more than this many users", "number", "0: no count limit."),
		field(fieldGraceDays, "Grace days", "number", "Days a removed user stays deactivated before it is deleted; 0 with the delete policy deletes it in the same run."),
	}
	for _, target := range mappingTargets {
		ctl := field(fieldMapping+target, mappingLabels[target], "textarea",
			"One override a line: target = template, such as title = {title|upper}. target = (nothing) removes the default. The effective mapping is listed below.")
		ctl.Error = prefixedProblems(problem, ctl.Name)
		f.Mapping = append(f.Mapping, ctl)
	}
	link := field(fieldLink, "Link keys", "textarea",
		"Identity linking: one key a line, name = template over this source's attributes, such as employeeId = {employeeNumber} or anchor = {objectGUID|guid}. "+
			"Records of sources with the same value for a key of the same name are one person, each attribute from the source with the lowest precedence that has it. "+
			"Empty: this source links no one. A change takes effect on the next full run; a dry run shows the links it would make and break.")
	link.Error = prefixedProblems(problem, fieldLink)
	authz := field(fieldAuthz, "Authoritative attributes", "text",
		"Attributes this source wins on linked people whenever it has a value, whatever its precedence, separated by commas, such as title, manager. One of: "+
			strings.Join(mergeAttributeNames(), ", ")+" (the enterprise extension's by these names or their full paths).")
	authz.Error = prefixedProblems(problem, fieldAuthz)
	f.Identity = []control{link, authz}
	for _, s := range kind.Settings {
		f.Settings = append(f.Settings, settingControl(s, src, values, problem))
		if src != nil && s.Secret && !s.Required && slices.Contains(src.SecretsSet, s.Name) {
			clear := field(clearPrefix+settingsPrefix+s.Name, "Clear "+s.Name, "checkbox",
				"Remove the stored "+s.Name+", for example after switching to another way of signing in.")
			f.Settings = append(f.Settings, clear)
		}
	}
	return f
}

var mappingLabels = map[string]string{"user": "User mapping overrides", "group": "Group mapping overrides"}

// settingControl is the control for one of the kind's settings.
func settingControl(s settingView, src *sourceDetail, values url.Values, problem *APIError) control {
	name := settingsPrefix + s.Name
	ctl := control{ID: fieldID(name), Name: name, Label: s.Name, Input: "text", Value: values.Get(name),
		Help: s.Help, Required: s.Required, Error: problem.Field(name)}
	if s.Example != "" {
		ctl.Placeholder = "for example " + s.Example
	}
	switch def := valueText(s.Default); {
	case s.Default == true:
		ctl.Help += " Default: on."
	case def != "":
		ctl.Help += " Default: " + def + "."
	}
	switch {
	case s.Secret:
		ctl.Input, ctl.Secret, ctl.Value, ctl.Placeholder = "password", true, "", ""
		if s.Type == typeText {
			// A PEM key has lines, which a password field drops.
			ctl.Input = "textarea"
		}
		if src != nil {
			ctl.SecretSet = slices.Contains(src.SecretsSet, s.Name)
			ctl.Label = "Replace " + s.Name
			ctl.Required = s.Required && !ctl.SecretSet
		}
	case s.Type == typeBoolean:
		ctl.Input, ctl.Checked, ctl.Required = "checkbox", ctl.Value == "true", false
	case s.Type == typeInteger:
		ctl.Input = "number"
	case s.Type == typeText:
		ctl.Input = "textarea"
	case s.Type == typeEnum:
		ctl.Input = "select"
		def := "(the default)"
		if s.Default != nil {
			def = "(default: " + valueText(s.Default) + ")"
		}
		if !s.Required {
			ctl.Options = append(ctl.Options, option{Value: "", Label: def, Selected: ctl.Value == ""})
		}
		for _, v := range s.Values {
			ctl.Options = append(ctl.Options, option{Value: v, Label: v, Selected: ctl.Value == v})
		}
	case s.Type == typeStringList:
		ctl.Help += " Separate items with commas."
	}
	return ctl
}

// prefixedProblems joins the API's problems with fields under prefix
// (mapping.user.title for the user mapping's textarea, authoritative[1]
// for the second of a list's items).
func prefixedProblems(problem *APIError, prefix string) string {
	if problem == nil {
		return ""
	}
	var parts []string
	for k, msg := range problem.Fields {
		if rest, ok := strings.CutPrefix(k, prefix+"."); ok {
			parts = append(parts, rest+": "+msg)
		}
		if rest, ok := strings.CutPrefix(k, prefix+"["); ok {
			if i, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil {
				parts = append(parts, fmt.Sprintf("item %d: %s", i+1, msg))
			}
		}
	}
	slices.Sort(parts)
	if msg := problem.Fields[prefix]; msg != "" {
		parts = append([]string{msg}, parts...)
	}
	return strings.Join(parts, "; ")
}

// fieldID makes a field name an HTML id ("settings.usersPath" ->
// "f-settings-usersPath").
func fieldID(name string) string { return "f-" + strings.ReplaceAll(name, ".", "-") }

// mergeAttributeNames are the attributes an authoritative list may name,
// the enterprise extension's by their bare names (a full path does not
// wrap on a narrow screen).
func mergeAttributeNames() []string {
	out := storage.MergeAttributes()
	for i, a := range out {
		out[i] = strings.TrimPrefix(a, storage.EnterpriseSchema+":")
	}
	return out
}
