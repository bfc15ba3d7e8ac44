package sqlstore

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// appDef is the JSON document in apps.def: everything of a storage.App
// except the columns (id, name, version, times).
type appDef struct {
	Description    string            `json:"description,omitempty"`
	Scope          appScopeDef       `json:"scope"`
	Groups         storage.GroupMode `json:"groups"`
	FlattenGroups  bool              `json:"flattenGroups,omitempty"`
	Attributes     []string          `json:"attributes,omitempty"`
	LeaveGraceDays int               `json:"leaveGraceDays,omitempty"`
	Push           *appPushDef       `json:"push,omitempty"`
}

// appPushDef is storage.PushConfig in the def document. Secrets are the
// sealed bytes (base64 in JSON); the store never opens them.
type appPushDef struct {
	URL                string                 `json:"url"`
	Auth               storage.PushAuth       `json:"auth"`
	Secrets            map[string][]byte      `json:"secrets,omitempty"`
	Schedule           string                 `json:"schedule,omitempty"`
	AfterChangeSeconds int                    `json:"afterChangeSeconds,omitempty"`
	Profile            string                 `json:"profile,omitempty"`
	Match              []string               `json:"match,omitempty"`
	OnLeave            string                 `json:"onLeave,omitempty"`
	Deletion           storage.DeletionLimits `json:"deletion"`
	Mapping            storage.SourceMapping  `json:"mapping"`
	Enabled            bool                   `json:"enabled"`
}

func encodePushDef(p *storage.PushConfig) *appPushDef {
	if p == nil {
		return nil
	}
	return &appPushDef{
		URL: p.URL, Auth: p.Auth, Secrets: p.Secrets, Schedule: p.Schedule,
		AfterChangeSeconds: p.AfterChangeSeconds, Profile: p.Profile, Match: p.Match,
		OnLeave: p.OnLeave, Deletion: p.Deletion, Mapping: p.Mapping, Enabled: p.Enabled,
	}
}

func decodePushDef(d *appPushDef) *storage.PushConfig {
	if d == nil {
		return nil
	}
	return &storage.PushConfig{
		URL: d.URL, Auth: d.Auth, Secrets: d.Secrets, Schedule: d.Schedule,
		AfterChangeSeconds: d.AfterChangeSeconds, Profile: d.Profile, Match: d.Match,
		OnLeave: d.OnLeave, Deletion: d.Deletion, Mapping: d.Mapping, Enabled: d.Enabled,
	}
}

type appScopeDef struct {
	Groups          []string        `json:"groups,omitempty"`
	Filter          string          `json:"filter,omitempty"`
	FilterExpr      json.RawMessage `json:"filterExpr,omitempty"`
	Sources         []string        `json:"sources,omitempty"`
	Owners          []string        `json:"owners,omitempty"`
	IncludeInactive bool            `json:"includeInactive"`
}

// appColumns are the columns of apps that scanApps takes, in order; a
// database before migration 14 has no view state (every app keeps a row
// per user), which the last two then stand for.
func appColumns(wholeViews bool) string {
	if wholeViews {
		return "id, name, def, version, created, updated, view_joined, view_changed, view_epoch"
	}
	return "id, name, def, version, created, updated, CAST(NULL AS BIGINT), 0, 0"
}

// encodeAppDef returns a's def document.
func encodeAppDef(a *storage.App) (string, error) {
	expr, err := storage.MarshalExpr(a.Scope.FilterExpr)
	if err != nil {
		return "", err
	}
	if a.Scope.FilterExpr == nil {
		expr = nil
	}
	d := appDef{
		Description: a.Description,
		Scope: appScopeDef{
			Groups: a.Scope.Groups, Filter: a.Scope.Filter, FilterExpr: expr,
			Sources: a.Scope.Sources, Owners: a.Scope.Owners, IncludeInactive: a.Scope.IncludeInactive,
		},
		Groups: a.Groups, FlattenGroups: a.FlattenGroups,
		Attributes: a.Attributes, LeaveGraceDays: a.LeaveGraceDays,
		Push: encodePushDef(a.Push),
	}
	out, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode application %s: %w", a.Name, err)
	}
	return string(out), nil
}

// decodeApp rebuilds a storage.App from its row.
func decodeApp(id, name, def string, version, created, updated int64) (storage.App, error) {
	var d appDef
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		return storage.App{}, fmt.Errorf("decode application %s: %w", id, err)
	}
	expr, err := storage.UnmarshalExpr(d.Scope.FilterExpr)
	if err != nil {
		return storage.App{}, fmt.Errorf("decode application %s: %w", id, err)
	}
	return storage.App{
		ID: id, Name: name, Description: d.Description,
		Scope: storage.AppScope{
			Groups: d.Scope.Groups, Filter: d.Scope.Filter, FilterExpr: expr,
			Sources: d.Scope.Sources, Owners: d.Scope.Owners, IncludeInactive: d.Scope.IncludeInactive,
		},
		Groups: d.Groups, FlattenGroups: d.FlattenGroups,
		Attributes: d.Attributes, LeaveGraceDays: d.LeaveGraceDays,
		Push:      decodePushDef(d.Push),
		CreatedAt: fromMillis(created), UpdatedAt: fromMillis(updated), Version: version,
	}, nil
}

// validateApp checks what the store relies on; the API checks the rest
// (attribute names, sources) with better messages first.
func validateApp(a *storage.App) error {
	if strings.TrimSpace(a.Name) == "" {
		return storage.Invalid("an application needs a name")
	}
	if a.Groups == "" {
		a.Groups = storage.GroupsScope
	}
	if !a.Groups.Valid() {
		return storage.Invalid(fmt.Sprintf("unknown groups mode %q (want scope, all or none)", a.Groups))
	}
	if a.LeaveGraceDays < 0 {
		return storage.Invalid("leaveGraceDays cannot be negative")
	}
	return nil
}

// sameView reports whether a and b select the same users, so that an
// update between them needs no recompute of the membership.
func sameView(a, b *storage.App) bool {
	ea, _ := storage.MarshalExpr(a.Scope.FilterExpr)
	eb, _ := storage.MarshalExpr(b.Scope.FilterExpr)
	return slices.Equal(a.Scope.Groups, b.Scope.Groups) && string(ea) == string(eb) &&
		slices.Equal(a.Scope.Owners, b.Scope.Owners) && a.Scope.IncludeInactive == b.Scope.IncludeInactive
}

// sameShape reports whether a and b show a user in view the same way, so
// that an update between them leaves what the app sees of its users as it
// was.
func sameShape(a, b *storage.App) bool {
	return slices.Equal(a.Attributes, b.Attributes) && a.Groups == b.Groups && a.FlattenGroups == b.FlattenGroups
}

// clonePush copies p deeply enough that an update closure can edit it
// without touching the original.
func clonePush(p storage.PushConfig) storage.PushConfig {
	p.Match = slices.Clone(p.Match)
	if p.Secrets != nil {
		secrets := make(map[string][]byte, len(p.Secrets))
		for k, v := range p.Secrets {
			secrets[k] = slices.Clone(v)
		}
		p.Secrets = secrets
	}
	p.Mapping.User = maps.Clone(p.Mapping.User)
	p.Mapping.Group = maps.Clone(p.Mapping.Group)
	return p
}

// pushChanged reports whether an update from a to b gives b's push
// something new to push: the push was just added, or who is in view, what
// the app sees of them, or the mapping to the target changed.
func pushChanged(a, b *storage.App) bool {
	if b.Push == nil {
		return false
	}
	return a.Push == nil || !sameView(a, b) || !sameShape(a, b) ||
		!maps.Equal(a.Push.Mapping.User, b.Push.Mapping.User) || !maps.Equal(a.Push.Mapping.Group, b.Push.Mapping.Group)
}

// detachedApp returns a with its push copied, so that a caller who edits
// what the store handed out (say, clears the secrets before showing it)
// does not edit the app cache's copy.
func detachedApp(a storage.App) storage.App {
	if a.Push != nil {
		p := clonePush(*a.Push)
		a.Push = &p
	}
	return a
}
