package scim

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

// An application's token reads the application's view: the store selects
// the users and groups in it (storage.Query.View) and adjusts their meta;
// this layer hides the attributes outside the app's allow-list, refuses
// filters and sorts that name them, and renders departed users inactive.
// The handlers for view reads are in appview_users.go and
// appview_groups.go; the hooks in the unscoped handlers only divert to
// them, so the unscoped path pays nothing for views.

// appView is what serving one version of an app needs, derived from its
// definition once and cached on the Server.
type appView struct {
	id      string
	version int64
	// allow is the attribute allow-list; nil shows every attribute.
	allow *allowList
	// memberDisplay says a group's user members keep their display
	// (the user's displayName or userName): only when the app may see
	// one of those, so a group cannot leak a hidden name.
	memberDisplay bool
	// userAttrPaths maps the storage attributes of users to where they
	// sit in the schemas, to check filters and sorts against allow.
	userAttrPaths map[storage.Attr]attrRef
}

// viewCache holds the derived views by app id; an entry is replaced when
// the app's version moves, so an app's change shows on its next request.
type viewCache struct {
	mu    sync.Mutex
	views map[string]*appView
}

// maxCachedViews bounds the cache; apps are few, so starting over when it
// is full (deleted apps' entries included) costs nothing that matters.
const maxCachedViews = 1024

func (c *viewCache) get(app storage.App) (*appView, error) {
	c.mu.Lock()
	v := c.views[app.ID]
	c.mu.Unlock()
	if v != nil && v.version == app.Version {
		return v, nil
	}
	v, err := newAppView(app)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.views == nil || len(c.views) >= maxCachedViews {
		c.views = map[string]*appView{}
	}
	c.views[app.ID] = v
	return v, nil
}

// newAppView derives the view of app. The config API validated the
// allow-list, so an error here means a stored app no longer fits the
// schema: it is the server's problem, not the client's.
func newAppView(app storage.App) (*appView, error) {
	allow, err := parseAllowList(app.Attributes)
	if err != nil {
		return nil, fmt.Errorf("scim: app %s: %w", app.ID, err)
	}
	v := &appView{
		id: app.ID, version: app.Version, allow: allow,
		memberDisplay: allow.allows("", "displayName", "") || allow.allows("", "userName", ""),
		userAttrPaths: map[storage.Attr]attrRef{},
	}
	for _, a := range storage.UserAttrs() {
		attr, sub, _ := strings.Cut(a.Path, ".")
		v.userAttrPaths[a.Attr] = attrRef{ext: a.Schema, attr: attr, sub: sub}
	}
	return v, nil
}

// resource is the resource name that view cursors are bound to, so a
// cursor of one app's list is no cursor for another's.
func (v *appView) resource(name string) string { return name + "\x00app\x00" + v.id }

// errHidden is the error for a filter or sortBy naming an attribute the
// app may not see. It does not say whether the attribute exists.
func errHidden(what, path string) error {
	return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidFilter,
		fmt.Sprintf("%s names %q, which this application may not see", what, path))
}

// checkUserQuery refuses a user query whose filter or sort names a hidden
// attribute, and scopes it to the view.
func (v *appView) checkUserQuery(q *storage.Query) error {
	if v.allow != nil {
		if path, hidden := v.hiddenIn(q.Filter, ""); hidden {
			return errHidden("the filter", path)
		}
		if q.SortBy != "" {
			if path, hidden := v.hiddenAttr(q.SortBy, ""); hidden {
				return errHidden("sortBy", path)
			}
		}
	}
	q.View = v.id
	return nil
}

// hiddenIn finds an attribute of e the app may not see; inside a value
// path, parent is the multi-valued attribute.
func (v *appView) hiddenIn(e storage.Expr, parent storage.Attr) (string, bool) {
	switch e := e.(type) {
	case nil:
		return "", false
	case storage.Compare:
		if parent != "" {
			return v.hiddenAttr(parent, e.Attr)
		}
		return v.hiddenAttr(e.Attr, "")
	case storage.And:
		return v.hiddenInAll(parent, e.Left, e.Right)
	case storage.Or:
		return v.hiddenInAll(parent, e.Left, e.Right)
	case storage.Not:
		return v.hiddenIn(e.X, parent)
	case storage.AllOf:
		return v.hiddenInAll(parent, e.Xs...)
	case storage.AnyOf:
		return v.hiddenInAll(parent, e.Xs...)
	case storage.ValuePath:
		return v.hiddenIn(e.Filter, e.Attr)
	case storage.In:
		return v.hiddenIn(storage.Compare{Attr: e.Attr}, parent)
	}
	// A node this check does not know is refused rather than let through.
	return fmt.Sprintf("%T", e), true
}

func (v *appView) hiddenInAll(parent storage.Attr, xs ...storage.Expr) (string, bool) {
	for _, x := range xs {
		if path, hidden := v.hiddenIn(x, parent); hidden {
			return path, true
		}
	}
	return "", false
}

// hiddenAttr reports whether the app may not see a, or sub of the
// multi-valued a when sub is set; path is a's SCIM path, for the message.
func (v *appView) hiddenAttr(a, sub storage.Attr) (string, bool) {
	ref, ok := v.userAttrPaths[a]
	if !ok {
		return string(a), true
	}
	if sub != "" {
		ref.sub = string(sub)
	}
	path := ref.attr
	if ref.sub != "" {
		path += "." + ref.sub
	}
	if ref.ext != "" {
		path = ref.ext + ":" + path
	}
	return path, !v.allow.allows(ref.ext, ref.attr, ref.sub)
}

// divertToView is the hook of the unscoped read handlers: divert is true
// for an app's caller, whose request the view handler answers with v, or
// which was already answered with an error when v is nil.
func (s *Server) divertToView(w http.ResponseWriter, r *http.Request) (v *appView, divert bool) {
	caller, _ := callerFrom(r.Context())
	if caller.App == nil {
		return nil, false
	}
	v, err := s.views.get(*caller.App)
	if err != nil {
		s.fail(w, err, "application view")
		return nil, true
	}
	return v, true
}
