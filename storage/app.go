package storage

import (
	"context"
	"slices"
	"time"
)

// GroupMode says which groups an application's view holds.
type GroupMode string

// Group modes.
const (
	// GroupsScope: the scope groups and the groups nested in them.
	GroupsScope GroupMode = "scope"
	// GroupsAll: every group with at least one user in view, directly or
	// through groups nested in it.
	GroupsAll GroupMode = "all"
	// GroupsNone: no groups at all.
	GroupsNone GroupMode = "none"
)

// GroupModes are the group modes, the default first.
var GroupModes = []GroupMode{GroupsScope, GroupsAll, GroupsNone}

// Valid reports whether m is a known mode.
func (m GroupMode) Valid() bool { return slices.Contains(GroupModes, m) }

// App is a downstream application and the view of the directory it gets.
type App struct {
	ID          string
	Name        string // unique, case-insensitively
	Description string
	Scope       AppScope
	Groups      GroupMode
	// FlattenGroups makes each group in view list every user in view
	// that belongs to it directly or through nesting, and no groups.
	FlattenGroups bool
	// Attributes is the allow-list of SCIM attribute paths (as the admin
	// wrote them); id, schemas and meta always come. Empty means all.
	Attributes []string
	// LeaveGraceDays keeps a user who left the view visible, inactive,
	// for that many days.
	LeaveGraceDays int
	// Push, when set, makes scimgate provision the view into the app's
	// own SCIM endpoint (storage/push.go). Changing it does not change
	// the view, but it is part of the app's definition and bumps Version.
	Push      *PushConfig
	CreatedAt time.Time
	UpdatedAt time.Time
	// Version grows by one on every update; it is part of the ETag of
	// what the app sees.
	Version int64
}

// AppScope selects the users of a view. Every part that is set must hold.
type AppScope struct {
	// Groups are the scope groups, each an id or a displayName, as the
	// admin wrote them; they are resolved whenever the view is evaluated,
	// so a group that a later sync creates joins the scope then. Members
	// of nested groups are in scope too. Empty: every user.
	Groups []string
	// Filter is the SCIM filter over users as the admin wrote it, and
	// FilterExpr its parsed form (the SCIM layer parses; the store
	// evaluates FilterExpr). Both empty: no filter.
	Filter     string
	FilterExpr Expr
	// Sources are the scope's sources as the admin wrote them (ids or
	// names, push clients by token name) and Owners the ownership tags
	// they resolve to. Empty: every source.
	Sources []string
	Owners  []string
	// IncludeInactive keeps inactive users in view.
	IncludeInactive bool
}

// AppMember is one user's place in an application's view, as the
// maintained membership records it.
type AppMember struct {
	UserID string
	Joined time.Time
	// Left is zero while the user is in view; otherwise when they left.
	Left time.Time
	// Changed is the time of the last join or leave.
	Changed time.Time
}

// AppCounts is the size of a view now.
type AppCounts struct {
	Users    int // users in view, not counting those within leave grace
	Departed int // users who left within the grace period
	Groups   int
}

// AppStore keeps applications and their maintained view membership.
//
// The membership is maintained by the store itself: every write that can
// move a user into or out of a view (user and group writes, from SCIM and
// from syncs alike, and changes to an app) updates it in the same
// transaction, so the request after a write answers from the new view.
type AppStore interface {
	// CreateApp stores a with a new id (unless set) and computes its view.
	// ErrConflict if the name is taken.
	CreateApp(ctx context.Context, a App) (App, error)
	// GetApp returns an app by id or, failing that, by name.
	// ErrNotFound if there is none.
	GetApp(ctx context.Context, idOrName string) (App, error)
	// ListApps returns every app, by name.
	ListApps(ctx context.Context) ([]App, error)
	// UpdateApp runs update on the current app in a transaction, stores the
	// result with the version increased and recomputes the view: users
	// who leave it get their leave time, users who join it their join time.
	UpdateApp(ctx context.Context, idOrName string, update func(*App) error) (App, error)
	// DeleteApp removes an app, its membership and every token bound to it.
	DeleteApp(ctx context.Context, idOrName string) error
	// AppCounts returns how many users and groups are in the view now.
	AppCounts(ctx context.Context, appID string) (AppCounts, error)
	// AppMembers returns the maintained membership rows of an app (users
	// in view and those within leave grace), for tests and the outbound
	// push; changedAfter (zero: all) keeps only rows changed after it.
	AppMembers(ctx context.Context, appID string, changedAfter time.Time) ([]AppMember, error)
}
