package engine

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// defaultMaxPercent is the deletion guard of a source that sets none:
// hold a run that would remove more than a fifth of the source's objects.
const defaultMaxPercent = 20

// SourceInput is a source as an admin writes it (the config API's body
// for POST, PUT and PATCH /sources). Nil pointers and maps are fields that
// were not sent, so PATCH can leave them and PUT can default them.
type SourceInput struct {
	Name     *string                    `json:"name"`
	Kind     *string                    `json:"kind"`
	Enabled  *bool                      `json:"enabled"`
	Schedule *string                    `json:"schedule"`
	Settings map[string]json.RawMessage `json:"settings"`
	// Mapping overrides the kind's default mappings, target by target.
	Mapping    *storage.SourceMapping `json:"mapping"`
	Scope      *string                `json:"scope"`
	Deletion   *DeletionInput         `json:"deletion"`
	Precedence *int                   `json:"precedence"`
	// Link names the source's link keys: key name -> template over the
	// source's attributes. Sent, it replaces the whole set (PATCH too);
	// null or {} clears it.
	Link Nullable[map[string]string] `json:"link,omitzero"`
	// Authoritative are the attributes the source wins on a linked
	// person whenever it has a value; replaced whole like Link.
	Authoritative Nullable[[]string] `json:"authoritative,omitzero"`
}

// DeletionInput is a deletion policy as an admin writes it; nil fields
// keep their value (or default).
type DeletionInput struct {
	Policy     *string  `json:"policy"`
	MaxPercent *float64 `json:"maxPercent"`
	MaxCount   *int     `json:"maxCount"`
	GraceDays  *int     `json:"graceDays"`
}

// InputMode says what becomes of the fields an input does not carry.
type InputMode int

const (
	// Replace (POST, PUT): absent fields take their defaults.
	Replace InputMode = iota + 1
	// Patch (PATCH): absent fields stay as they are; settings merge key
	// by key (null removes one) and mappings target by target.
	Patch
)

// ApplyInput writes in onto src, the stored source (the zero Source for
// a new one), so that src is what the store keeps: names trimmed,
// defaults set (enabled, precedence, a deactivating deletion guard of
// 20%), settings merged (Patch) and split from the kind's secrets, which
// are sealed for src.ID. A new source is given its id here, before its
// secrets are sealed. The result is checked as a run would prepare it;
// every problem comes back at once, as an *sources.InvalidConfigError.
func ApplyInput(reg sources.Registry, sealer *Sealer, src *storage.Source, in SourceInput, mode InputMode) error {
	replace := mode == Replace
	if src.ID == "" {
		src.ID = storage.NewID()
	}
	var errs sources.FieldErrors
	if in.Kind != nil && src.Kind != "" && *in.Kind != src.Kind {
		errs.Add("kind", "cannot be changed (was %q); create a new source instead", src.Kind)
	}
	if in.Kind != nil && src.Kind == "" {
		src.Kind = *in.Kind
	}
	if in.Name != nil {
		src.Name = strings.TrimSpace(*in.Name)
	}
	if src.Name == "" {
		errs.Add("name", "required")
	} else if p := storage.IdentifierProblem(src.Name, storage.MaxNameChars); p != "" {
		errs.Add("name", "the name %s", p)
	}
	if src.Kind == "" {
		errs.Add("kind", "required; one of %s", strings.Join(reg.Names(), ", "))
	}
	if in.Enabled != nil {
		src.Enabled = *in.Enabled
	} else if replace {
		src.Enabled = true
	}
	if in.Schedule != nil {
		src.Schedule = strings.TrimSpace(*in.Schedule)
	} else if replace {
		src.Schedule = ""
	}
	if src.Schedule != "" {
		if _, err := sources.ParseSchedule(src.Schedule); err != nil {
			errs.Add("schedule", "%v", err)
		}
	}
	if in.Scope != nil {
		src.Scope = *in.Scope
	} else if replace {
		src.Scope = ""
	}
	if in.Precedence != nil {
		src.Precedence = *in.Precedence
	} else if replace {
		src.Precedence = DefaultPrecedence
	}
	src.Mapping = applyMapping(src.Mapping, in.Mapping, replace)
	applyIdentity(src, in, replace, &errs)
	applyDeletion(&src.Deletion, in.Deletion, replace)
	if src.Kind != "" && errs["kind"] == "" {
		plain, secrets, err := SplitSettings(reg, src.ID, src.Kind, mergeSettings(reg, *src, in.Settings, replace), src.Secrets, sealer)
		if err != nil {
			return err
		}
		src.Settings, src.Secrets = plain, secrets
		// The kind checks its settings, the mapping, the scope and the
		// policy; every problem is reported in one answer.
		_, err = Prepare(reg, *src, sealer)
		var inv *sources.InvalidConfigError
		if errors.As(err, &inv) {
			for f, msg := range inv.Fields {
				errs.Add(f, "%s", msg)
			}
		} else if err != nil {
			return err
		}
	}
	return errs.Err()
}

// applyMapping returns the mapping overrides src keeps: in's (Replace),
// or in's merged into the stored ones target by target (Patch).
func applyMapping(stored storage.SourceMapping, in *storage.SourceMapping, replace bool) storage.SourceMapping {
	switch {
	case in == nil && replace:
		return storage.SourceMapping{}
	case in == nil:
		return stored
	case replace:
		return storage.SourceMapping{User: maps.Clone(in.User), Group: maps.Clone(in.Group)}
	}
	merge := func(old, upd map[string]string) map[string]string {
		if len(old)+len(upd) == 0 {
			return nil
		}
		out := maps.Clone(old)
		if out == nil {
			out = map[string]string{}
		}
		maps.Copy(out, upd)
		return out
	}
	return storage.SourceMapping{User: merge(stored.User, in.User), Group: merge(stored.Group, in.Group)}
}

// applyDeletion sets the deletion policy: defaults first for a new
// source or a Replace, then what in sets.
func applyDeletion(d *storage.DeletionPolicy, in *DeletionInput, replace bool) {
	if replace || d.Policy == "" {
		*d = storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: defaultMaxPercent}
	}
	if in == nil {
		return
	}
	if in.Policy != nil {
		d.Policy = *in.Policy
	}
	if in.MaxPercent != nil {
		d.MaxPercent = *in.MaxPercent
	}
	if in.MaxCount != nil {
		d.MaxCount = *in.MaxCount
	}
	if in.GraceDays != nil {
		d.GraceDays = *in.GraceDays
	}
}

// mergeSettings returns the settings to split: in itself (Replace), or
// the stored plain settings with in's keys put over them, where null
// removes a plain setting (Patch). A secret sent as null is passed on:
// SplitSettings clears it.
func mergeSettings(reg sources.Registry, src storage.Source, in map[string]json.RawMessage, replace bool) map[string]json.RawMessage {
	if replace {
		return in
	}
	settings := map[string]json.RawMessage{}
	if len(src.Settings) > 0 {
		_ = json.Unmarshal(src.Settings, &settings) // the store holds what SplitSettings wrote
	}
	secretNames := reg[src.Kind].Secrets()
	for k, v := range in {
		if string(v) == "null" && !slices.Contains(secretNames, k) {
			delete(settings, k)
			continue
		}
		settings[k] = v
	}
	return settings
}
