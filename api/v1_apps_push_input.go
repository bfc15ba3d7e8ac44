package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// Bounds and defaults of an app's push.
const (
	maxPushAfterChangeSeconds = 86400
	maxPushURLChars           = 2048
	maxPushSecretChars        = 8192
	maxPushScopeChars         = 1024
	// defaultPushMaxPercent is the deletion guard of a push that sets
	// none, as for sources: hold a run that would remove more than a fifth.
	defaultPushMaxPercent = 20
	defaultPushProfile    = outbound.DefaultProfile
	// secretSet is how the API shows a secret that is stored; sent back
	// unchanged (a GET edited and PUT back) it keeps the stored secret.
	secretSet = "set"
)

// pushMatchAttrs are the attributes that may claim existing target users.
var pushMatchAttrs = []string{"userName", "externalId"}

// pushField is the "push" member of an app's input: absent, null (remove
// push) or an object.
type pushField struct {
	Sent bool
	In   *pushInput // nil when null was sent
}

// UnmarshalJSON tells null from an object and, like decodeJSON, refuses
// unknown fields.
func (f *pushField) UnmarshalJSON(b []byte) error {
	f.Sent = true
	if string(bytes.TrimSpace(b)) == "null" {
		f.In = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var in pushInput
	if err := dec.Decode(&in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return fmt.Errorf("push must be an object or null, not %s", te.Value)
			}
			return fmt.Errorf("push.%s must be %s, not %s", te.Field, jsonKind(te.Type), te.Value)
		}
		return fmt.Errorf("push: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	f.In = &in
	return nil
}

// jsonKind names the JSON a Go type decodes from, for messages that
// speak of the request, not of our types.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}

// pushInput is an app's push as an admin writes it; nil fields were not
// sent: PATCH keeps them, POST and PUT give them their defaults.
type pushInput struct {
	URL                *string                `json:"url"`
	Auth               *pushAuthInput         `json:"auth"`
	Schedule           *string                `json:"schedule"`
	AfterChangeSeconds *int                   `json:"afterChangeSeconds"`
	Profile            *string                `json:"profile"`
	Match              *[]string              `json:"match"`
	OnLeave            *string                `json:"onLeave"`
	Deletion           *pushDeletionInput     `json:"deletion"`
	Mapping            *storage.SourceMapping `json:"mapping"`
	Enabled            *bool                  `json:"enabled"`
}

// pushAuthInput is the auth part; token and clientSecret are write-only:
// a value seals it, "" removes it, absent (or "set") keeps what is stored.
type pushAuthInput struct {
	Type         *string `json:"type"`
	Token        *string `json:"token"`
	TokenURL     *string `json:"tokenURL"`
	ClientID     *string `json:"clientId"`
	ClientSecret *string `json:"clientSecret"`
	Scope        *string `json:"scope"`
}

type pushDeletionInput struct {
	MaxPercent *float64 `json:"maxPercent"`
	MaxCount   *int     `json:"maxCount"`
}

// checkPushInput checks what in carries on its own (formats, enums,
// bounds, the schedule and the mapping templates), field by field.
// What must be present is checked on the merged result (mergePush).
func checkPushInput(bad fieldProblems, in *pushInput) {
	if in.URL != nil {
		checkPushURL(bad, "push.url", strings.TrimSpace(*in.URL))
	}
	if a := in.Auth; a != nil {
		if a.Type != nil && *a.Type != storage.PushAuthBearer && *a.Type != storage.PushAuthOAuth2 {
			bad.add("push.auth.type", "must be %q or %q, not %q", storage.PushAuthBearer, storage.PushAuthOAuth2, *a.Type)
		}
		if a.TokenURL != nil && strings.TrimSpace(*a.TokenURL) != "" {
			checkPushURL(bad, "push.auth.tokenURL", strings.TrimSpace(*a.TokenURL))
		}
		if a.ClientID != nil && len(*a.ClientID) > maxPushSecretChars {
			bad.add("push.auth.clientId", "has %d characters; the limit is %d", len(*a.ClientID), maxPushSecretChars)
		}
		if a.Scope != nil && len(*a.Scope) > maxPushScopeChars {
			bad.add("push.auth.scope", "has %d characters; the limit is %d", len(*a.Scope), maxPushScopeChars)
		}
		for field, v := range map[string]*string{"push.auth.token": a.Token, "push.auth.clientSecret": a.ClientSecret} {
			if v != nil && len(*v) > maxPushSecretChars {
				bad.add(field, "has %d characters; the limit is %d", len(*v), maxPushSecretChars)
			}
		}
	}
	if in.Schedule != nil {
		if s := strings.TrimSpace(*in.Schedule); s != "" {
			if _, err := sources.ParseSchedule(s); err != nil {
				bad.add("push.schedule", "%v", err)
			}
		}
	}
	if in.AfterChangeSeconds != nil && (*in.AfterChangeSeconds < 0 || *in.AfterChangeSeconds > maxPushAfterChangeSeconds) {
		bad.add("push.afterChangeSeconds", "must be between 0 (no push after changes) and %d seconds, not %d", maxPushAfterChangeSeconds, *in.AfterChangeSeconds)
	}
	if in.Profile != nil {
		if _, ok := outbound.ProfileByName(strings.TrimSpace(*in.Profile)); !ok {
			bad.add("push.profile", "must be one of %s, not %q", strings.Join(outbound.ProfileNames(), ", "), *in.Profile)
		}
	}
	if in.Match != nil {
		for i, m := range *in.Match {
			if !slices.Contains(pushMatchAttrs, m) {
				bad.add("push.match", "entry %d is %q; each entry must be one of %s", i, m, strings.Join(pushMatchAttrs, ", "))
				break
			}
			if slices.Index(*in.Match, m) != i {
				bad.add("push.match", "%q is listed twice", m)
				break
			}
		}
	}
	if in.OnLeave != nil && *in.OnLeave != storage.OnLeaveDeactivate && *in.OnLeave != storage.OnLeaveDelete {
		bad.add("push.onLeave", "must be %q or %q, not %q", storage.OnLeaveDeactivate, storage.OnLeaveDelete, *in.OnLeave)
	}
	if d := in.Deletion; d != nil {
		if d.MaxPercent != nil && (*d.MaxPercent < 0 || *d.MaxPercent > 100) {
			bad.add("push.deletion.maxPercent", "must be between 0 (no limit) and 100, not %v", *d.MaxPercent)
		}
		if d.MaxCount != nil && *d.MaxCount < 0 {
			bad.add("push.deletion.maxCount", "must be 0 (no limit) or more, not %d", *d.MaxCount)
		}
	}
	if in.Mapping != nil {
		checkPushMapping(bad, *in.Mapping)
	}
}

// checkPushURL requires an absolute http(s) URL without credentials, query
// or fragment (paths are appended to it). Plain http is accepted only for
// a loopback host, so a bearer token never crosses a network in clear
// text; tests and a target on the same machine use it.
func checkPushURL(bad fieldProblems, field, raw string) {
	if raw == "" {
		bad.add(field, "required: the target's SCIM base URL, e.g. https://api.example.com/scim/v2")
		return
	}
	if len(raw) > maxPushURLChars {
		bad.add(field, "has %d characters; the limit is %d", len(raw), maxPushURLChars)
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		bad.add(field, "is not a URL: %v", err)
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.Opaque != "":
		bad.add(field, "must be an absolute https URL such as https://api.example.com/scim/v2, not %q", raw)
	case u.User != nil:
		bad.add(field, "must not carry credentials; put them in push.auth")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		bad.add(field, "must not have a query or a fragment")
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		bad.add(field, "must use https (plain http is accepted only for a loopback host such as 127.0.0.1)")
	}
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkPushMapping compiles the per-app templates as the push engine
// does, which names each problem by its path (push.mapping.user.title).
func checkPushMapping(bad fieldProblems, m storage.SourceMapping) {
	_, err := outbound.CompilePushMapping(m)
	var inv *sources.InvalidConfigError
	switch {
	case errors.As(err, &inv):
		for field, msg := range inv.Fields {
			bad.add(field, "%s", msg)
		}
	case err != nil:
		bad.add("push.mapping", "%v", err)
	}
}

// pushSealer seals a push secret of one app; nil when the server has no
// secret key.
type pushSealer func(name, value string) []byte

// mergePush returns the push an app keeps: nil when push was removed (or
// not sent to POST and PUT), else stored (PATCH) or the defaults (POST,
// PUT) with in's fields put over them, secrets sealed with seal. It adds
// what is missing or inconsistent to bad. stored is never modified.
func mergePush(bad fieldProblems, stored *storage.PushConfig, f pushField, replace bool, seal pushSealer) *storage.PushConfig {
	if !f.Sent {
		if replace {
			return nil
		}
		return stored
	}
	if f.In == nil {
		return nil
	}
	in := f.In
	var p storage.PushConfig
	if stored != nil && !replace {
		p = *stored
		p.Match = slices.Clone(stored.Match)
		p.Mapping = storage.SourceMapping{User: maps.Clone(stored.Mapping.User), Group: maps.Clone(stored.Mapping.Group)}
	} else {
		p = storage.PushConfig{Profile: defaultPushProfile, Match: []string{"userName"}, OnLeave: storage.OnLeaveDeactivate,
			Deletion: storage.DeletionLimits{MaxPercent: defaultPushMaxPercent}, Enabled: true}
		if stored != nil {
			p.Auth.Type = stored.Auth.Type // so the stored secrets below stay only for the same type
		}
	}
	// Secrets survive PUT as they do for sources: an admin who does not
	// resend them keeps them.
	p.Secrets = map[string][]byte{}
	if stored != nil {
		maps.Copy(p.Secrets, stored.Secrets)
	}
	if in.URL != nil {
		p.URL = strings.TrimSpace(*in.URL)
	}
	mergePushAuth(bad, &p, in.Auth, seal)
	setOr(&p.Schedule, trimmed(in.Schedule), "", false)
	setOr(&p.AfterChangeSeconds, in.AfterChangeSeconds, 0, false)
	setOr(&p.Profile, trimmed(in.Profile), defaultPushProfile, false)
	if in.Match != nil {
		p.Match = slices.Clone(*in.Match)
	}
	setOr(&p.OnLeave, in.OnLeave, storage.OnLeaveDeactivate, false)
	if d := in.Deletion; d != nil {
		setOr(&p.Deletion.MaxPercent, d.MaxPercent, 0, false)
		setOr(&p.Deletion.MaxCount, d.MaxCount, 0, false)
	}
	if in.Mapping != nil {
		p.Mapping = storage.SourceMapping{User: maps.Clone(in.Mapping.User), Group: maps.Clone(in.Mapping.Group)}
	}
	setOr(&p.Enabled, in.Enabled, true, false)
	if p.URL == "" {
		bad.add("push.url", "required: the target's SCIM base URL, e.g. https://api.example.com/scim/v2")
	}
	if len(p.Match) == 0 {
		bad.add("push.match", "needs at least one of %s", strings.Join(pushMatchAttrs, ", "))
	}
	if len(p.Secrets) == 0 {
		p.Secrets = nil
	}
	return &p
}

// mergePushAuth applies the auth input onto p: the type, its settings, and
// its secrets (a value is sealed, "" removes it, absent or "set" keeps
// it); secrets of another type are dropped. Then what the type needs must
// be there.
func mergePushAuth(bad fieldProblems, p *storage.PushConfig, in *pushAuthInput, seal pushSealer) {
	if in == nil {
		in = &pushAuthInput{}
	}
	prevType := p.Auth.Type
	if in.Type != nil {
		p.Auth.Type = *in.Type
	}
	if p.Auth.Type != prevType {
		// A token of the old type is not a secret of the new one.
		p.Secrets = map[string][]byte{}
	}
	setOr(&p.Auth.TokenURL, trimmed(in.TokenURL), "", false)
	setOr(&p.Auth.ClientID, trimmed(in.ClientID), "", false)
	setOr(&p.Auth.Scope, trimmed(in.Scope), "", false)
	for _, s := range []struct {
		name, field string
		v           *string
	}{{storage.PushSecretToken, "push.auth.token", in.Token}, {storage.PushSecretClientSecret, "push.auth.clientSecret", in.ClientSecret}} {
		switch {
		case s.v == nil:
		case *s.v == "":
			delete(p.Secrets, s.name)
		case *s.v == secretSet:
			if _, ok := p.Secrets[s.name]; !ok {
				bad.add(s.field, "no %s is stored to keep; send the secret itself", s.name)
			}
		case seal == nil:
			bad.add(s.field, "the server has no secret key to seal it with (SCIMGATE_SECRET_KEY or the key file)")
		default:
			p.Secrets[s.name] = seal(s.name, *s.v)
		}
	}
	switch p.Auth.Type {
	case "":
		bad.add("push.auth.type", "required: %q (a static token) or %q (client credentials)", storage.PushAuthBearer, storage.PushAuthOAuth2)
	case storage.PushAuthBearer:
		if _, ok := p.Secrets[storage.PushSecretToken]; !ok && bad["push.auth.token"] == "" {
			bad.add("push.auth.token", "required for type bearer: the token the target issued")
		}
		for field, v := range map[string]string{"push.auth.tokenURL": p.Auth.TokenURL, "push.auth.clientId": p.Auth.ClientID,
			"push.auth.scope": p.Auth.Scope} {
			if v != "" {
				bad.add(field, "is for type oauth2, not bearer")
			}
		}
		if in.ClientSecret != nil && *in.ClientSecret != "" {
			bad.add("push.auth.clientSecret", "is for type oauth2, not bearer")
		}
		delete(p.Secrets, storage.PushSecretClientSecret)
	case storage.PushAuthOAuth2:
		if p.Auth.TokenURL == "" {
			bad.add("push.auth.tokenURL", "required for type oauth2: the token endpoint of the client credentials grant")
		}
		if p.Auth.ClientID == "" {
			bad.add("push.auth.clientId", "required for type oauth2")
		}
		if _, ok := p.Secrets[storage.PushSecretClientSecret]; !ok && bad["push.auth.clientSecret"] == "" {
			bad.add("push.auth.clientSecret", "required for type oauth2")
		}
		if in.Token != nil && *in.Token != "" {
			bad.add("push.auth.token", "is for type bearer, not oauth2")
		}
		delete(p.Secrets, storage.PushSecretToken)
	}
}

func trimmed(v *string) *string {
	if v == nil {
		return nil
	}
	s := strings.TrimSpace(*v)
	return &s
}

// sentPushFields names the push fields an update carried, for the audit
// log: names only, never values (secrets).
func sentPushFields(f pushField) []string {
	switch {
	case !f.Sent:
		return nil
	case f.In == nil:
		return []string{"push(removed)"}
	}
	in := f.In
	var out []string
	add := func(ok bool, name string) {
		if ok {
			out = append(out, "push."+name)
		}
	}
	add(in.URL != nil, "url")
	if a := in.Auth; a != nil {
		add(a.Type != nil, "auth.type")
		add(a.Token != nil, "auth.token")
		add(a.TokenURL != nil, "auth.tokenURL")
		add(a.ClientID != nil, "auth.clientId")
		add(a.ClientSecret != nil, "auth.clientSecret")
		add(a.Scope != nil, "auth.scope")
	}
	add(in.Schedule != nil, "schedule")
	add(in.AfterChangeSeconds != nil, "afterChangeSeconds")
	add(in.Profile != nil, "profile")
	add(in.Match != nil, "match")
	add(in.OnLeave != nil, "onLeave")
	add(in.Deletion != nil, "deletion")
	add(in.Mapping != nil, "mapping")
	add(in.Enabled != nil, "enabled")
	if len(out) == 0 {
		out = []string{"push"}
	}
	return out
}
