package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// Prepared is a source whose configuration has been decoded and checked.
type Prepared struct {
	Kind    sources.Kind
	Config  sources.Config
	Mapping sources.CompiledMapping
	Scope   Scope
	// Link computes the record's link keys (Source.Link).
	Link linkTemplates
}

// Open opens the upstream with env's services.
func (p Prepared) Open(env sources.Env) (sources.Source, error) { return p.Config.Open(env) }

// Prepare decodes and validates src's configuration: the kind, its
// settings (secrets opened with sealer), the mapping, the scope and the
// deletion policy, the link keys. A configuration problem is an *InvalidConfigError with
// every problem, field by field.
func Prepare(reg sources.Registry, src storage.Source, sealer *Sealer) (Prepared, error) {
	var errs sources.FieldErrors
	kind, ok := reg[src.Kind]
	if !ok {
		errs.Add("kind", "unknown kind %q; one of %s", src.Kind, strings.Join(reg.Names(), ", "))
		return Prepared{}, errs.Err()
	}
	settings, err := mergeSecrets(src, sealer)
	if err != nil {
		return Prepared{}, err
	}
	cfg, serrs := decodeSettings(kind, src.Kind, settings)
	p := Prepared{Kind: kind, Config: cfg}
	for field, msg := range serrs {
		errs.Add(field, "%s", msg)
	}
	userMapping, groupMapping := effectiveMappings(kind, src.Mapping)
	cm, merrs := sources.CompileMappings(userMapping, groupMapping)
	for f, msg := range merrs {
		errs.Add(f, "%s", msg)
	}
	p.Mapping = cm
	p.Link = compileLink(src.Link, &errs)
	if p.Scope, err = ParseScope(src.Scope); err != nil {
		errs.Add("scope", "%v", err)
	}
	validateDeletion(src.Deletion, &errs)
	if err := errs.Err(); err != nil {
		return Prepared{}, err
	}
	if mu, ok := p.Config.(sources.MappingUser); ok {
		mu.UseMappings(withLinkTemplates(userMapping, src.Link), groupMapping)
	}
	return p, nil
}

func validateDeletion(d storage.DeletionPolicy, errs *sources.FieldErrors) {
	if d.Policy != storage.PolicyDeactivate && d.Policy != storage.PolicyDelete {
		errs.Add("deletion.policy", "must be %q or %q", storage.PolicyDeactivate, storage.PolicyDelete)
	}
	if d.MaxPercent < 0 || d.MaxPercent > 100 {
		errs.Add("deletion.maxPercent", "must be between 0 and 100")
	}
	if d.MaxCount < 0 {
		errs.Add("deletion.maxCount", "must not be negative")
	}
	if d.GraceDays < 0 {
		errs.Add("deletion.graceDays", "must not be negative")
	}
}

// effectiveMappings are the kind's default mappings with the source's
// overrides applied.
func effectiveMappings(kind sources.Kind, m storage.SourceMapping) (user, group sources.Mapping) {
	return kind.UserMapping.Merge(m.User), kind.GroupMapping.Merge(m.Group)
}

// EffectiveMappings are the mappings a run of src applies: its kind's
// defaults with src's overrides; ok is false for a kind reg does not have.
func EffectiveMappings(reg sources.Registry, src storage.Source) (user, group sources.Mapping, ok bool) {
	kind, ok := reg[src.Kind]
	if !ok {
		return nil, nil, false
	}
	user, group = effectiveMappings(kind, src.Mapping)
	return user, group, true
}

// mergeSecrets returns the settings JSON with the secrets opened and put
// back in place.
func mergeSecrets(src storage.Source, sealer *Sealer) ([]byte, error) {
	settings := map[string]any{}
	if len(src.Settings) > 0 {
		if err := json.Unmarshal(src.Settings, &settings); err != nil {
			return nil, (&sources.FieldErrors{"settings": "must be a JSON object"}).Err()
		}
	}
	for name, sealed := range src.Secrets {
		if sealer == nil {
			return nil, fmt.Errorf("sources: secret %s: no secret key configured", name)
		}
		plain, err := sealer.Open(src.ID, name, sealed)
		if err != nil {
			return nil, err
		}
		settings[name] = plain
	}
	return json.Marshal(settings)
}

// SplitSettings takes settings as an admin sent them for source sourceID
// and separates the kind's secrets, which are sealed for that source, from
// the rest. A secret that is not
// sent keeps its previous sealed value (so a PUT need not repeat it); a
// secret sent as null or "" is cleared.
func SplitSettings(reg sources.Registry, sourceID, kind string, in map[string]json.RawMessage, prev map[string][]byte, sealer *Sealer) (json.RawMessage, map[string][]byte, error) {
	k, ok := reg[kind]
	if !ok {
		return nil, nil, (&sources.FieldErrors{"kind": fmt.Sprintf("unknown kind %q; one of %s", kind, strings.Join(reg.Names(), ", "))}).Err()
	}
	plain := map[string]json.RawMessage{}
	secrets := map[string][]byte{}
	for name, sealed := range prev {
		secrets[name] = sealed
	}
	var errs sources.FieldErrors
	secretNames := k.Secrets()
	for name, raw := range in {
		if !slices.Contains(secretNames, name) {
			plain[name] = raw
			continue
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			errs.Add("settings."+name, "must be a string")
			continue
		}
		if v == nil || *v == "" {
			delete(secrets, name)
			continue
		}
		if sealer == nil {
			return nil, nil, fmt.Errorf("sources: no secret key configured to seal %s", name)
		}
		secrets[name] = sealer.Seal(sourceID, name, *v)
	}
	if err := errs.Err(); err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return nil, nil, fmt.Errorf("sources: settings: %w", err)
	}
	return b, secrets, nil
}

// Warnings are what src's link settings warn about, then what its kind
// warns about its settings (see sources.Warner); none of the kind's for a
// kind reg does not have or settings that do not decode (Prepare reports
// those).
func Warnings(reg sources.Registry, src storage.Source) []string {
	out := identityWarnings(src)
	kind, ok := reg[src.Kind]
	if !ok || len(src.Settings) == 0 {
		return out
	}
	cfg := kind.New()
	w, ok := cfg.(sources.Warner)
	if !ok || json.Unmarshal(src.Settings, cfg) != nil {
		return out
	}
	return append(out, w.Warnings()...)
}

// withLinkTemplates is the user mapping as a kind that fetches only what
// its templates read must see it: the link keys' templates read the
// source's attributes too, whether or not a mapping does.
func withLinkTemplates(user sources.Mapping, link map[string]string) sources.Mapping {
	if len(link) == 0 {
		return user
	}
	extra := make(map[string]string, len(link))
	for name, tmpl := range link {
		extra["link."+name] = tmpl
	}
	return user.Merge(extra)
}
