package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"
)

// Request validation against the schemas, done by the library's own
// validators: Schema.Validate for POST and PUT bodies, and for PATCH its
// path validator, filter validator and CoreAttribute.ValidateSingular. The
// library's PATCH entry point is internal to it, so the steps that join
// those validators (which attribute a path names, which values a multi-
// valued attribute takes) are spelled out here; they keep the library's
// outcomes exactly, error for error, and TestValidatePatchAsLibrary holds
// them to the library's own handler.

const patchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// decodeJSON decodes the first JSON value of data, numbers as json.Number,
// as the library does.
func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// validateResource checks a POST or PUT body against rt's schema (with the
// common externalId) and its extensions, and returns the attributes under
// their canonical names.
func validateResource(rt escim.ResourceType, body []byte) (map[string]any, error) {
	var m map[string]any
	if err := decodeJSON(body, &m); err != nil {
		return nil, scimerr.ScimErrorInvalidSyntax
	}
	attrs, serr := withExternalID(rt.Schema).Validate(m)
	if serr != nil {
		return nil, *serr
	}
	for _, ext := range rt.SchemaExtensions {
		v := m[ext.Schema.ID]
		if v == nil {
			if ext.Required {
				return nil, scimerr.ScimErrorInvalidValue
			}
			continue
		}
		extAttrs, serr := ext.Schema.ValidateExtension(v)
		if serr != nil {
			return nil, *serr
		}
		attrs[ext.Schema.ID] = extAttrs
	}
	return attrs, nil
}

// validatePatch checks a PatchOp body against rt's schemas and returns its
// operations with validated values. Every failure is a SCIM error: the one
// the library's validator reported when it has one, else invalidPath for an
// operation whose shape or path does not parse and invalidValue for one
// whose value does not fit.
func validatePatch(rt escim.ResourceType, body []byte) ([]escim.PatchOperation, error) {
	var req struct {
		Schemas    []string
		Operations []json.RawMessage
	}
	if err := decodeJSON(body, &req); err != nil {
		return nil, scimerr.ScimErrorInvalidSyntax
	}
	if len(req.Schemas) != 1 || req.Schemas[0] != patchOpURN || len(req.Operations) == 0 {
		return nil, scimerr.ScimErrorInvalidValue
	}
	v := patchValidator{core: withExternalID(rt.Schema), schemas: map[string]schema.Schema{}}
	v.schemas[v.core.ID] = v.core
	for _, e := range rt.SchemaExtensions {
		v.exts = append(v.exts, e.Schema)
		v.schemas[e.Schema.ID] = e.Schema
	}
	ops := make([]escim.PatchOperation, 0, len(req.Operations))
	for _, raw := range req.Operations {
		op, err := v.parse(raw)
		if err != nil {
			return nil, scimerr.ScimErrorInvalidPath
		}
		if op.Value, err = v.value(v.core, op.Op, op.Path, op.Value); err != nil {
			var se *scimerr.ScimError
			if errors.As(err, &se) {
				return nil, *se
			}
			return nil, scimerr.ScimErrorInvalidValue
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// patchValidator holds the schemas of one PATCH request: the core schema
// (with externalId) and the extensions, also by ID for URN-prefixed paths.
type patchValidator struct {
	core    schema.Schema
	exts    []schema.Schema
	schemas map[string]schema.Schema
}

// parse decodes one operation and validates its path; the value is
// validated separately. Okta sends the resource's id inside a path-less
// value; it is dropped, as a value cannot change an id.
func (v patchValidator) parse(raw []byte) (escim.PatchOperation, error) {
	var in struct {
		Op    string
		Path  string
		Value any
	}
	if err := decodeJSON(raw, &in); err != nil {
		return escim.PatchOperation{}, err
	}
	if m, ok := in.Value.(map[string]any); ok {
		idKey, found := "", false
		for k := range m {
			if strings.EqualFold(k, "id") {
				if found {
					return escim.PatchOperation{}, fmt.Errorf("duplicate attributes: %s and %s", k, idKey)
				}
				idKey, found = k, true
			}
		}
		delete(m, idKey) // as the library does, even the key "" when there is no id
	}
	op := escim.PatchOperation{Op: strings.ToLower(in.Op), Value: in.Value}
	if in.Path != "" {
		pv, err := filter.NewPathValidator(in.Path, v.core, v.exts...)
		if err != nil {
			return op, err
		}
		if err := pv.Validate(); err != nil {
			return op, err
		}
		p := pv.Path()
		op.Path = &p
	}
	return op, nil
}

// value validates the value of an operation on path (nil: the resource
// itself) with ref as the schema of attributes named without a URN.
func (v patchValidator) value(ref schema.Schema, op string, path *fp.Path, value any) (any, error) {
	switch op {
	case escim.PatchOperationAdd, escim.PatchOperationReplace:
		if value == nil {
			return nil, fmt.Errorf("an %s operation must contain a value member", op)
		}
		if path == nil {
			return v.pathless(ref, op, value)
		}
	case escim.PatchOperationRemove:
		if path == nil {
			return nil, &scimerr.ScimErrorNoTarget
		}
	default:
		return nil, fmt.Errorf("invalid operation op: %s", op)
	}
	attr, err := v.attribute(ref, path.AttributePath)
	if err != nil {
		return nil, err
	}
	if path.ValueExpression != nil {
		// A remove filters elements, simple ones by "value"; an add or
		// replace filters a complex attribute by its sub-attributes.
		elems := attr.SubAttributes()
		if op == escim.PatchOperationRemove {
			elems = filter.MultiValuedFilterAttributes(attr)
		}
		if err := filter.NewFilterValidator(path.ValueExpression, schema.Schema{Attributes: elems}).Validate(); err != nil {
			return nil, err
		}
	}
	if sub := path.SubAttributeName(); sub != "" {
		if attr, err = subAttribute(attr, sub, path); err != nil {
			return nil, err
		}
	}
	if value == nil { // a remove without a value
		return nil, nil
	}
	if !attr.MultiValued() {
		return validateSingular(attr, value)
	}
	if list, ok := value.([]any); ok {
		var out []any
		for _, e := range list {
			x, err := validateSingular(attr, e)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	}
	one, err := validateSingular(attr, value)
	if err != nil {
		return nil, err
	}
	// A value filtered to matching elements (emails[type eq "work"]) is
	// one element; an add or replace of the whole attribute takes a list.
	if path.ValueExpression != nil && op != escim.PatchOperationRemove {
		return one, nil
	}
	return []any{one}, nil
}

// validateSingular returns the library's verdict on one value as an error
// that is nil when the value fits.
func validateSingular(attr schema.CoreAttribute, value any) (any, error) {
	out, serr := attr.ValidateSingular(value)
	if serr != nil {
		return nil, serr
	}
	return out, nil
}

// pathless validates a path-less add or replace: each key is an attribute
// path, or a schema ID whose object holds that schema's attributes.
func (v patchValidator) pathless(ref schema.Schema, op string, value any) (any, error) {
	attrs, ok := value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the value of a path-less %s must be an object", op)
	}
	out := make(map[string]any, len(attrs))
	for key, inner := range attrs {
		if ext, ok := v.schemas[key]; ok {
			if _, isObject := inner.(map[string]any); !isObject {
				return nil, fmt.Errorf("the value of %s must be an object", key)
			}
			x, err := v.pathless(ext, op, inner)
			if err != nil {
				return nil, err
			}
			out[key] = x
			continue
		}
		p, err := fp.ParsePath([]byte(key))
		if err != nil {
			return nil, fmt.Errorf("invalid attribute path: %s", key)
		}
		x, err := v.value(ref, op, &p, inner)
		if err != nil {
			return nil, err
		}
		out[key] = x
	}
	return out, nil
}

// attribute returns the attribute an attribute path names: in ref, or in
// the schema its URN prefix names; "name.givenName" names the
// sub-attribute.
func (v patchValidator) attribute(ref schema.Schema, ap fp.AttributePath) (schema.CoreAttribute, error) {
	if uri := ap.URI(); uri != "" {
		s, ok := v.schemas[uri]
		if !ok {
			return schema.CoreAttribute{}, fmt.Errorf("invalid uri prefix: %s", uri)
		}
		ref = s
	}
	var attr *schema.CoreAttribute
	for i := range ref.Attributes {
		if strings.EqualFold(ref.Attributes[i].Name(), ap.AttributeName) {
			attr = &ref.Attributes[i]
			break
		}
	}
	if attr == nil {
		return schema.CoreAttribute{}, fmt.Errorf("could not find attribute %s", ap.String())
	}
	if sub := ap.SubAttributeName(); sub != "" {
		return subAttribute(*attr, sub, ap)
	}
	return *attr, nil
}

func subAttribute(attr schema.CoreAttribute, name string, path fmt.Stringer) (schema.CoreAttribute, error) {
	if sub, ok := attr.SubAttributes().ContainsAttribute(name); ok {
		return sub, nil
	}
	return schema.CoreAttribute{}, fmt.Errorf("%s has no sub-attribute %s", path, name)
}
