package storage

import (
	"context"
	"time"
)

// Push auth types.
const (
	PushAuthBearer = "bearer" // a static bearer token (secret "token")
	PushAuthOAuth2 = "oauth2" // client credentials (secret "clientSecret")
)

// PushAuthTypes are the push auth types, the default first.
var PushAuthTypes = []string{PushAuthBearer, PushAuthOAuth2}

// Push secret names, the keys of PushConfig.Secrets.
const (
	PushSecretToken        = "token"
	PushSecretClientSecret = "clientSecret"
)

// What happens in the target to a user who leaves an app's view.
const (
	OnLeaveDeactivate = "deactivate" // PATCH active false (the default)
	OnLeaveDelete     = "delete"
)

// OnLeaveActions are the OnLeave choices, the default first.
var OnLeaveActions = []string{OnLeaveDeactivate, OnLeaveDelete}

// PushAuth is how scimgate authenticates to an app's SCIM endpoint. The
// secrets themselves are in PushConfig.Secrets, sealed.
type PushAuth struct {
	Type     string `json:"type"`               // PushAuthBearer or PushAuthOAuth2
	TokenURL string `json:"tokenURL,omitempty"` // oauth2
	ClientID string `json:"clientId,omitempty"` // oauth2
	Scope    string `json:"scope,omitempty"`    // oauth2, space-separated
}

// DeletionLimits bound how much one push run may deactivate or delete
// before an admin has to approve it; 0 means no limit of that kind.
type DeletionLimits struct {
	MaxPercent float64 `json:"maxPercent"` // of the objects scimgate manages in the target
	MaxCount   int     `json:"maxCount"`
}

// PushConfig makes scimgate provision an app's view into the app's own
// SCIM endpoint (outbound push). An app without one is only pulled from.
type PushConfig struct {
	URL  string   // the target's SCIM base URL, e.g. https://api.example.com/scim/v2
	Auth PushAuth // how to authenticate
	// Secrets holds the auth secrets by name (PushSecretToken,
	// PushSecretClientSecret), sealed for the app's id by the caller; the
	// store never sees them in the clear.
	Secrets map[string][]byte
	// Schedule is an interval such as "15m" or a cron expression, as for
	// sources; "" means no scheduled pushes (changes and manual runs only).
	Schedule string
	// AfterChangeSeconds, when > 0, starts a push that long after the
	// first change to the view since the last push (debounced).
	AfterChangeSeconds int
	Profile            string   // "generic" (default) or "aws"
	Match              []string // attributes that claim existing target users: userName, externalId
	OnLeave            string   // OnLeaveDeactivate (default) or OnLeaveDelete
	Deletion           DeletionLimits
	// Mapping holds per-app templates from the view's attributes to what
	// the target wants (the sources' template language).
	Mapping SourceMapping
	// Enabled turns scheduled and after-change pushes on; manual runs work
	// either way.
	Enabled bool
}

// Push object origins: how scimgate came to manage an object in a target.
const (
	PushCreated = "created" // scimgate created it
	PushClaimed = "claimed" // it was there already and matched on the first run
)

// Push object states.
const (
	// PushCreating: a create was sent and its answer not yet recorded. The
	// next run looks the object up by its match attributes before it
	// creates again, so a lost response never duplicates it.
	PushCreating = "creating"
	PushActive   = "active"
	// PushDeactivated: the user left the view and was deactivated there.
	PushDeactivated = "deactivated"
)

// PushObject is what scimgate knows about one of its objects in an app's
// target: the bookkeeping that makes pushes incremental and idempotent.
type PushObject struct {
	AppID    string
	Kind     string // User or Group
	LocalID  string // the scimgate id
	TargetID string // the id in the target; "" while State is PushCreating
	Origin   string // PushCreated or PushClaimed
	State    string // PushCreating, PushActive, PushDeactivated
	// Hash is of the representation last pushed successfully; a different
	// hash means the object must be updated, "" forces an update.
	Hash string
	// Error is the target's answer to the last failed request on this
	// object (retried on the next run); "" after a success.
	Error   string
	Updated time.Time
}

// PushState is an app's push bookkeeping beside its definition, so a run
// does not bump the app's version (and with it what readers cache).
type PushState struct {
	AppID string
	// Cursor is the position saved by the last successful run (the engine's
	// watermark); nil before the first.
	Cursor []byte
	Health SourceHealth
	// FirstChange is when the view first changed after the last push
	// started (zero: nothing waiting); the store sets it on every write
	// that changes an app's view and clears it in FinishRun on success.
	// A change while a push is running (status running, Started set)
	// moves it to that change, so the run's FinishRun keeps it. Creating
	// an app with a push, adding one, or changing its scope, attributes,
	// group rules or mapping sets it too. Dry runs never clear it.
	// It drives the after-change debounce and the push lag metric.
	FirstChange time.Time
}

// PushStore keeps the outbound push's run history and its bookkeeping of
// objects in each target.
type PushStore interface {
	// PushRuns is the run history of pushes, in the shape of sources'
	// runs: Run.SourceID holds the app's id, FinishRun saves the cursor and
	// health into the app's PushState (and clears FirstChange when the run
	// succeeded and no change arrived after it started). Deleting an app
	// deletes its runs.
	PushRuns() RunStore
	// GetPushState returns an app's push state (zero values, not an error,
	// before the first run). ErrNotFound if there is no such app.
	GetPushState(ctx context.Context, appID string) (PushState, error)
	// ListPushStates returns the push state of every app that has one (a
	// row exists once an app pushed or its view changed while it had a
	// push; an app whose push was removed may keep its row).
	ListPushStates(ctx context.Context) ([]PushState, error)

	// PushObjects returns the objects of kind an app's target holds for
	// the given local ids, by local id; ids it does not know are absent.
	PushObjects(ctx context.Context, appID, kind string, localIDs []string) (map[string]PushObject, error)
	// EachPushObject calls fn for every object of kind, in local id order,
	// without holding them all in memory.
	EachPushObject(ctx context.Context, appID, kind string, fn func(PushObject) error) error
	// SavePushObjects inserts or replaces objects (by app, kind, local id)
	// in one transaction; a zero Updated is stamped now. ErrNotFound for an
	// unknown app, ErrInvalid for an object without app, kind or local id.
	SavePushObjects(ctx context.Context, objs []PushObject) error
	// DeletePushObjects forgets objects (the target no longer has them),
	// and with them their pushed memberships: a group's members, and the
	// objects' places as members of pushed groups.
	DeletePushObjects(ctx context.Context, appID, kind string, localIDs []string) error
	// PushOrphans returns the objects of kind scimgate manages in the
	// target (state active or creating) whose local resource is no longer
	// in the app's view: deleted, out of scope, or past its leave grace.
	// Users within leave grace are still in view (as active false).
	PushOrphans(ctx context.Context, appID, kind string) ([]PushObject, error)

	// PushedMembers returns the local ids of a group's members as last
	// pushed into the target.
	PushedMembers(ctx context.Context, appID, groupID string) ([]string, error)
	// SetPushedMembers records membership edits that the target accepted.
	SetPushedMembers(ctx context.Context, appID, groupID string, add, remove []string) error
}
