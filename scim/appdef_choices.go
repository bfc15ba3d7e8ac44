package scim

import (
	"slices"

	"github.com/elimity-com/scim/schema"
)

// AppAttributeChoice is one user attribute an application's allow-list
// may name.
type AppAttributeChoice struct {
	// Path is how the allow-list names it: the attribute's name in the
	// core schema, schema URN + ":" + name in an extension.
	Path        string `json:"path"`
	Name        string `json:"name"`
	Schema      string `json:"schema"`
	Description string `json:"description"`
}

// AppAttributeChoices lists the top-level user attributes an allow-list
// may name, from the schemas AppAttributes checks paths against: the core
// schema's with the common externalId, then the enterprise extension's.
// Attributes that always come (id, schemas, meta) and those never
// returned (password) are left out: choosing them changes nothing.
// Sub-attributes (name.givenName) are allowed too but not listed.
func AppAttributeChoices() []AppAttributeChoice {
	core := schema.CoreUserSchema()
	ext := schema.ExtensionEnterpriseUser()
	var out []AppAttributeChoice
	add := func(sc schema.Schema, attrs []schema.CoreAttribute, prefix string) {
		// "never" is how the library spells AttributeReturnedNever.
		for _, a := range attrs {
			if a.Returned() == "never" || slices.Contains(impliedAttrs, a.Name()) {
				continue
			}
			out = append(out, AppAttributeChoice{Path: prefix + a.Name(), Name: a.Name(), Schema: sc.ID, Description: a.Description()})
		}
	}
	add(core, append(append([]schema.CoreAttribute{}, core.Attributes...), schema.CommonAttributes()...), "")
	add(ext, ext.Attributes, ext.ID+":")
	return out
}
