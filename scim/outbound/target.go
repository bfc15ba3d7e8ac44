package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Resource kinds, as they appear in SCIM paths.
const (
	KindUsers  = "Users"
	KindGroups = "Groups"
)

// Remote is a resource as the target returned it: the few attributes the
// engine matches and compares on, and the whole document.
type Remote struct {
	ID          string
	ExternalID  string
	UserName    string // Users
	DisplayName string // Groups (and Users' displayName)
	Active      *bool  // Users; nil when the target did not say
	Members     []string
	Raw         json.RawMessage
}

// PatchOp is one RFC 7644 §3.5.2 operation.
type PatchOp struct {
	Op    string `json:"op"` // add, remove, replace
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// Capabilities are what a target can do: read from its
// /ServiceProviderConfig (profile generic) and bounded by its profile.
type Capabilities struct {
	Patch bool // PATCH is supported; otherwise updates are PUTs
	// Filter is true when the target can filter; FilterAttrs, when set,
	// are the only attributes it filters on (with eq).
	Filter      bool
	FilterAttrs []string
	// MaxMembersPerPatch bounds the member values of one group PATCH
	// (0: no bound).
	MaxMembersPerPatch int
	// PathlessReplace: a PATCH replace without a path may set several
	// attributes at once.
	PathlessReplace bool
	// PageSize is the count asked for when listing.
	PageSize int
	// GroupMembersHidden: the target answers groups without their members
	// (AWS IAM Identity Center), so Remote.Members of a group is empty
	// whatever it holds; membership is known only from what was pushed.
	GroupMembersHidden bool
	// SingleValues: one value of each multi-valued user attribute, with
	// no display sub-attribute; UnsupportedUserAttrs are never sent
	// (Profile).
	SingleValues         bool
	UnsupportedUserAttrs []string
}

// Target is an app's SCIM endpoint as the push engine uses it. The client
// retries network errors, 5xx and 429 itself; an error it returns is
// final for this run: a *TargetError for the target's answer about one
// object (recorded on the object, the run goes on), anything else means
// the target cannot be worked with now (the run fails).
type Target interface {
	Capabilities(ctx context.Context) (Capabilities, error)
	// List pages through every resource of kind, one page per fn call.
	List(ctx context.Context, kind string, fn func([]Remote) error) error
	// Find returns the resources of kind whose attr equals value.
	Find(ctx context.Context, kind, attr, value string) ([]Remote, error)
	Get(ctx context.Context, kind, id string) (Remote, error)
	Create(ctx context.Context, kind string, body json.RawMessage) (Remote, error)
	Replace(ctx context.Context, kind, id string, body json.RawMessage) (Remote, error)
	Patch(ctx context.Context, kind, id string, ops []PatchOp) error
	Delete(ctx context.Context, kind, id string) error
}

// TargetError is the target's final answer about one request: a 4xx (or a
// 5xx that outlasted the retries) with the SCIM error it sent.
type TargetError struct {
	Method, Path string
	Status       int
	SCIMType     string
	Detail       string
	RetryAfter   time.Duration // from a 429 or 503 that outlasted the retries
}

func (e *TargetError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	if e.SCIMType != "" {
		msg += " " + e.SCIMType
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// ErrOutcomeUnknown wraps the error of a create whose answer was lost (the
// connection broke after the request was sent): the target may or may not
// have applied it. The engine looks the object up by its match attributes
// before it creates again, so a lost answer never duplicates an object.
var ErrOutcomeUnknown = errors.New("outbound: the request was sent but its answer was lost")
