package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
)

// Bounds of an application's definition.
const (
	maxAppDescriptionChars = 1000
	// maxAppScopeList bounds scope.groups and scope.sources: each entry is
	// a parameter of the statements that keep the view.
	maxAppScopeList     = 200
	maxAppLeaveGraceDay = 3650
)

// appInput is an application as an admin writes it (POST, PUT and PATCH
// /apps). Nil pointers are fields that were not sent: PATCH keeps them,
// POST and PUT give them their defaults.
type appInput struct {
	Name           *string            `json:"name"`
	Description    *string            `json:"description"`
	Scope          *appScopeInput     `json:"scope"`
	Groups         *storage.GroupMode `json:"groups"`
	FlattenGroups  *bool              `json:"flattenGroups"`
	Attributes     *[]string          `json:"attributes"`
	LeaveGraceDays *int               `json:"leaveGraceDays"`
	// Push is checked here on its own (checkPushInput) and merged with the
	// stored push where the stored app is known (mergePush).
	Push pushField `json:"push"`
}

// appScopeInput is the scope part of appInput; PATCH merges it field by
// field.
type appScopeInput struct {
	Groups          *[]string `json:"groups"`
	Filter          *string   `json:"filter"`
	Sources         *[]string `json:"sources"`
	IncludeInactive *bool     `json:"includeInactive"`
}

// preparedApp is an appInput checked and resolved against the store
// before the app's own write transaction, so the update callback does no
// I/O of its own: the filter parsed, the sources resolved to owners.
type preparedApp struct {
	in         appInput
	filterExpr storage.Expr
	owners     []string
}

// fieldProblems collects what is wrong with a definition, field by field.
type fieldProblems map[string]string

func (f fieldProblems) add(field, format string, args ...any) {
	if _, ok := f[field]; !ok {
		f[field] = fmt.Sprintf(format, args...)
	}
}

// err is the 400 every problem of one request comes back in.
func (f fieldProblems) err() error {
	if len(f) == 0 {
		return nil
	}
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + ": " + f[k]
	}
	return &apiError{Status: http.StatusBadRequest, Code: "bad_request",
		Message: "the application definition has problems: " + strings.Join(parts, "; "), Fields: map[string]string(f)}
}

// prepareApp checks what in carries on its own and resolves it: names,
// bounds, the filter (parsed as the Users list parses filters), the
// attribute allow-list, scope.sources and the push's own fields. replace
// (POST, PUT) requires a name. The problems come back in bad, for the
// caller to add those of the merged push to; err is a failure to resolve.
func (s *Server) prepareApp(ctx context.Context, in appInput, replace bool) (p preparedApp, bad fieldProblems, err error) {
	p = preparedApp{in: in}
	bad = fieldProblems{}
	if in.Name == nil && replace {
		bad.add("name", "required")
	}
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		p.in.Name = &name
		if name == "" {
			bad.add("name", "required")
		} else if msg := storage.IdentifierProblem(name, storage.MaxNameChars); msg != "" {
			bad.add("name", "the name %s", msg)
		}
	}
	if in.Description != nil {
		if !utf8.ValidString(*in.Description) {
			bad.add("description", "is not valid UTF-8")
		} else if n := utf8.RuneCountInString(*in.Description); n > maxAppDescriptionChars {
			bad.add("description", "has %d characters; the limit is %d", n, maxAppDescriptionChars)
		}
	}
	if in.Groups != nil && !in.Groups.Valid() {
		bad.add("groups", "must be %q, %q or %q, not %q", storage.GroupsScope, storage.GroupsAll, storage.GroupsNone, string(*in.Groups))
	}
	if in.LeaveGraceDays != nil && (*in.LeaveGraceDays < 0 || *in.LeaveGraceDays > maxAppLeaveGraceDay) {
		bad.add("leaveGraceDays", "must be between 0 and %d days, not %d", maxAppLeaveGraceDay, *in.LeaveGraceDays)
	}
	if in.Attributes != nil {
		attrs := trimAll(*in.Attributes)
		p.in.Attributes = &attrs
		if _, err := scim.AppAttributes(attrs); err != nil {
			bad.add("attributes", "%v", err)
		}
	}
	if sc := in.Scope; sc != nil {
		scope := *sc
		p.in.Scope = &scope
		if sc.Groups != nil {
			groups := trimAll(*sc.Groups)
			scope.Groups = &groups
			checkScopeList(bad, "scope.groups", groups, storage.MaxUserNameChars)
		}
		if sc.Filter != nil {
			filter := strings.TrimSpace(*sc.Filter)
			scope.Filter = &filter
			if filter != "" {
				expr, err := scim.CompileUserFilter(filter)
				if err != nil {
					bad.add("scope.filter", "%v", err)
				}
				p.filterExpr = expr
			}
		}
		if sc.Sources != nil {
			srcs := trimAll(*sc.Sources)
			scope.Sources = &srcs
			if checkScopeList(bad, "scope.sources", srcs, storage.MaxNameChars) {
				owners, err := s.resolveOwners(ctx, srcs)
				var unknown unknownSourcesError
				switch {
				case errors.As(err, &unknown):
					bad.add("scope.sources", "%s", unknown)
				case err != nil:
					return preparedApp{}, nil, err
				}
				p.owners = owners
			}
		}
	}
	if in.Push.In != nil {
		checkPushInput(bad, in.Push.In)
	}
	return p, bad, nil
}

// checkScopeList checks the entries of a scope list; true when they are
// fine.
func checkScopeList(bad fieldProblems, field string, list []string, maxChars int) bool {
	if len(list) > maxAppScopeList {
		bad.add(field, "has %d entries; the limit is %d", len(list), maxAppScopeList)
		return false
	}
	for i, v := range list {
		if v == "" {
			bad.add(field, "entry %d is empty", i)
			return false
		}
		if msg := storage.IdentifierProblem(v, maxChars); msg != "" {
			bad.add(field, "%q %s", v, msg)
			return false
		}
	}
	return true
}

func trimAll(in []string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = strings.TrimSpace(v)
	}
	return out
}

// unknownSourcesError names the scope.sources entries that match nothing.
type unknownSourcesError string

func (e unknownSourcesError) Error() string { return string(e) }

// resolveOwners turns scope.sources entries (a source's id or name, or the
// name of a writer token, which is a push client) into ownership tags.
// Entries that match nothing are an unknownSourcesError naming them all.
func (s *Server) resolveOwners(ctx context.Context, entries []string) ([]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	srcs, err := s.cfg.Store.ListSources(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	toks, err := s.cfg.Store.ListTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	var owners, unknown []string
	for _, e := range entries {
		owner, ok := ownerOf(e, srcs, toks)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", e))
			continue
		}
		if !slices.Contains(owners, owner) {
			owners = append(owners, owner)
		}
	}
	if len(unknown) > 0 {
		return nil, unknownSourcesError("no source or push client (writer token) named " + strings.Join(unknown, ", ") +
			"; GET /api/v1/sources and /api/v1/tokens list them")
	}
	return owners, nil
}

// ownerOf finds the ownership tag entry names: a source by id, then by
// name (case-insensitively), then a writer token by name.
func ownerOf(entry string, srcs []storage.Source, toks []storage.Token) (string, bool) {
	for _, src := range srcs {
		if src.ID == entry {
			return src.Owner(), true
		}
	}
	key := storage.FoldKey(entry)
	for _, src := range srcs {
		if storage.FoldKey(src.Name) == key {
			return src.Owner(), true
		}
	}
	for _, t := range toks {
		if t.Role == storage.RoleWriter && t.Name == entry {
			return t.Owner(), true
		}
	}
	return "", false
}

// apply writes p onto a, the stored app (the zero App for a new one).
// replace (POST, PUT) gives absent fields their defaults; otherwise
// (PATCH) they stay.
func (p preparedApp) apply(a *storage.App, replace bool) {
	in := p.in
	if in.Name != nil {
		a.Name = *in.Name
	}
	setOr(&a.Description, in.Description, "", replace)
	setOr(&a.Groups, in.Groups, storage.GroupsScope, replace)
	setOr(&a.FlattenGroups, in.FlattenGroups, false, replace)
	setOr(&a.LeaveGraceDays, in.LeaveGraceDays, 0, replace)
	setOr(&a.Attributes, in.Attributes, nil, replace)
	if len(a.Attributes) == 0 {
		a.Attributes = nil
	}
	sc := in.Scope
	if sc == nil {
		if replace {
			a.Scope = storage.AppScope{IncludeInactive: true}
		}
		return
	}
	setOr(&a.Scope.Groups, sc.Groups, nil, replace)
	if len(a.Scope.Groups) == 0 {
		a.Scope.Groups = nil
	}
	if sc.Filter != nil {
		a.Scope.Filter, a.Scope.FilterExpr = *sc.Filter, p.filterExpr
	} else if replace {
		a.Scope.Filter, a.Scope.FilterExpr = "", nil
	}
	if sc.Sources != nil {
		a.Scope.Sources, a.Scope.Owners = *sc.Sources, p.owners
		if len(a.Scope.Sources) == 0 {
			a.Scope.Sources, a.Scope.Owners = nil, nil
		}
	} else if replace {
		a.Scope.Sources, a.Scope.Owners = nil, nil
	}
	setOr(&a.Scope.IncludeInactive, sc.IncludeInactive, true, replace)
}

// setOr sets *dst to *v when v was sent, else to def when replacing.
func setOr[T any](dst *T, v *T, def T, replace bool) {
	switch {
	case v != nil:
		*dst = *v
	case replace:
		*dst = def
	}
}

// sentAppFields names the fields an update carried, for the audit log.
func sentAppFields(in appInput) []string {
	var f []string
	add := func(ok bool, name string) {
		if ok {
			f = append(f, name)
		}
	}
	add(in.Name != nil, "name")
	add(in.Description != nil, "description")
	if sc := in.Scope; sc != nil {
		add(sc.Groups != nil, "scope.groups")
		add(sc.Filter != nil, "scope.filter")
		add(sc.Sources != nil, "scope.sources")
		add(sc.IncludeInactive != nil, "scope.includeInactive")
	}
	add(in.Groups != nil, "groups")
	add(in.FlattenGroups != nil, "flattenGroups")
	add(in.Attributes != nil, "attributes")
	add(in.LeaveGraceDays != nil, "leaveGraceDays")
	return append(f, sentPushFields(in.Push)...)
}
