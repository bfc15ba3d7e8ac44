package scim

import (
	"net/http"
	"strings"

	"github.com/elimity-com/scim/schema"

	"github.com/scimgate/scimgate/storage"
)

// schemaMap renders a schema definition for the request's caller: an app
// with an allow-list sees only the user attributes it may see (complex
// ones with only their allowed sub-attributes), so its /Schemas describes
// exactly what it is served. Other schemas are the same for everyone.
func (s *Server) schemaMap(r *http.Request, sc schema.Schema) (map[string]any, error) {
	m := sc.ToMap()
	caller, _ := callerFrom(r.Context())
	if caller.App == nil || (sc.ID != userSchema && sc.ID != storage.EnterpriseSchema) {
		return m, nil
	}
	v, err := s.views.get(*caller.App)
	if err != nil || v.allow == nil {
		return m, err
	}
	ext := ""
	if sc.ID == storage.EnterpriseSchema {
		ext = sc.ID
	}
	attrs, _ := m["attributes"].([]map[string]any)
	kept := make([]map[string]any, 0, len(attrs))
	for _, a := range attrs {
		name, _ := a["name"].(string)
		entry := v.allow.entry(ext, name)
		if entry == nil {
			continue
		}
		if !entry.whole {
			subs, _ := a["subAttributes"].([]map[string]any)
			keptSubs := make([]map[string]any, 0, len(subs))
			for _, sub := range subs {
				subName, _ := sub["name"].(string)
				if _, ok := entry.subs[strings.ToLower(subName)]; ok {
					keptSubs = append(keptSubs, sub)
				}
			}
			a["subAttributes"] = keptSubs
		}
		kept = append(kept, a)
	}
	m["attributes"] = kept
	return m, nil
}
