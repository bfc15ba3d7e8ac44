package outbound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// The SCIM schema URNs of the bodies the engine sends.
const (
	userSchemaURN  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchemaURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// body is a resource as it is sent: SCIM attributes by name, without id
// or meta. encoding/json writes map keys sorted, so one body has one
// encoding, which is what makes its hash stable.
type body map[string]any

// renderer turns an app's view into bodies: the allow-list first (what
// the app's readers see), then the push mapping over those attributes.
type renderer struct {
	users   *scim.AppUserRenderer
	mapping PushMapping
	// shape fits user bodies to what the target can hold (set from its
	// capabilities once they are read).
	singleValues bool
	unsupported  []string
}

// fitTarget drops what the target cannot hold from a user body: the
// attributes it does not have and, for a target that keeps one value of
// a multi-valued attribute, all but the primary value (or the first) and
// their display sub-attributes.
func (r *renderer) fitTarget(b body) {
	for _, attr := range r.unsupported {
		for k := range b {
			if strings.EqualFold(k, attr) {
				delete(b, k)
			}
		}
	}
	if !r.singleValues {
		return
	}
	for k, v := range b {
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			continue
		}
		keep := list[0]
		for _, el := range list {
			if m, ok := el.(map[string]any); ok && m["primary"] == true {
				keep = el
				break
			}
		}
		if m, ok := keep.(map[string]any); ok {
			m = maps.Clone(m)
			delete(m, "display")
			keep = m
		}
		b[k] = []any{keep}
	}
}

func newRenderer(app storage.App) (*renderer, error) {
	users, err := scim.NewAppUserRenderer(app)
	if err != nil {
		return nil, err
	}
	var m storage.SourceMapping
	if app.Push != nil {
		m = app.Push.Mapping
	}
	mapping, err := CompilePushMapping(m)
	if err != nil {
		return nil, fmt.Errorf("app %s: %w", app.ID, err)
	}
	return &renderer{users: users, mapping: mapping}, nil
}

// user renders one user of the view. A departed user is sent active
// false even when the allow-list hides active: leaving is what the target
// must learn.
func (r *renderer) user(d storage.UserDoc) (body, error) {
	attrs, err := r.users.Attributes(d)
	if err != nil {
		return nil, err
	}
	b, err := decodeBody(attrs)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", d.ID, err)
	}
	delete(b, "id")
	delete(b, "meta")
	delete(b, "schemas")
	// The manager is a local id, which means nothing to the target.
	if ext, ok := b[storage.EnterpriseSchema].(map[string]any); ok {
		delete(ext, "manager")
		if len(ext) == 0 {
			delete(b, storage.EnterpriseSchema)
		}
	}
	if err := r.mapping.user.apply(b, d.ID); err != nil {
		return nil, fmt.Errorf("user %s: push mapping: %w", d.ID, err)
	}
	r.fitTarget(b)
	// After the mapping, which must not make a leaver active again.
	if d.Departed {
		b["active"] = false
	}
	schemas := []any{userSchemaURN}
	if _, ok := b[storage.EnterpriseSchema]; ok {
		schemas = append(schemas, storage.EnterpriseSchema)
	}
	b["schemas"] = schemas
	return b, nil
}

// group renders a group of the view without its members, which travel in
// their own PATCHes (or in a PUT, for targets without PATCH).
func (r *renderer) group(g storage.Group) (body, error) {
	b := body{"displayName": g.DisplayName}
	if g.ExternalID != "" {
		b["externalId"] = g.ExternalID
	}
	if err := r.mapping.group.apply(b, g.ID); err != nil {
		return nil, fmt.Errorf("group %s: push mapping: %w", g.ID, err)
	}
	b["schemas"] = []any{groupSchemaURN}
	return b, nil
}

func decodeBody(raw []byte) (body, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b body
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if b == nil {
		b = body{}
	}
	return b, nil
}

// encode is the body as sent.
func (b body) encode() (json.RawMessage, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode body: %w", err)
	}
	return raw, nil
}

// str is a top-level string attribute of b.
func (b body) str(name string) string {
	s, _ := b[name].(string)
	return s
}

// PushMapping is a compiled push mapping (storage.PushConfig.Mapping).
type PushMapping struct {
	user, group kindMapping
}

// CompilePushMapping validates a push mapping: each target an attribute
// a source mapping may write (the manager excepted), each template
// valid. The error is a *sources.InvalidConfigError naming every problem
// by field ("push.mapping.user.userName").
func CompilePushMapping(m storage.SourceMapping) (PushMapping, error) {
	var errs sources.FieldErrors
	user := compileKind(m.User, userLocations, "push.mapping.user.", &errs)
	group := compileKind(m.Group, groupLocations, "push.mapping.group.", &errs)
	if err := errs.Err(); err != nil {
		return PushMapping{}, err
	}
	return PushMapping{user: user, group: group}, nil
}

// kindMapping is the push mapping of users or of groups.
type kindMapping struct {
	templates sources.Templates
	locs      map[string]attrLoc // every mappable attribute, by target name
	set       bool               // any template at all
}

func compileKind(m map[string]string, locs map[string]attrLoc, field string, errs *sources.FieldErrors) kindMapping {
	for target := range m {
		if _, ok := locs[target]; !ok {
			errs.Add(field+target, "unknown target attribute; one of %s", strings.Join(sortedNames(locs), ", "))
		}
	}
	t, terrs := sources.CompileTemplates(m)
	for target, msg := range terrs {
		errs.Add(field+target, "%s", msg)
	}
	return kindMapping{templates: t, locs: locs, set: len(m) > 0}
}

// apply renders the templates over b's flat attributes (plus "id", the
// scimgate id) and writes what they yield into b. externalId is the
// scimgate id unless mapped: it is how scimgate finds its objects again.
func (k kindMapping) apply(b body, localID string) error {
	values := map[string]string{}
	if k.set {
		flat := flatten(b, k.locs)
		flat["id"] = localID
		values = k.templates.Render(flat)
	}
	if _, mapped := values["externalId"]; !mapped {
		b["externalId"] = localID
	}
	for _, target := range sortedNames(values) {
		if err := k.locs[target].put(b, values[target]); err != nil {
			return fmt.Errorf("%s: %w", target, err)
		}
	}
	return nil
}

// attrLoc is where a mappable attribute sits in a body.
type attrLoc struct {
	path     []string // object keys from the top: ["name", "givenName"], [URN, "department"]
	elemType string   // a multi-valued attribute's element, by type
	boolean  bool
}

var (
	userLocations  = locations(storage.UserAttrs())
	groupLocations = locations(storage.GroupAttrs())
)

// locations derives the mappable attributes from storage's attribute
// table, named as source mappings name them.
func locations[R storage.Resource](attrs []storage.AttrSpec[R]) map[string]attrLoc {
	out := map[string]attrLoc{}
	for _, a := range attrs {
		rule := a.Map
		if rule.Target == "" || rule.SourceKey {
			continue
		}
		path := strings.Split(a.Path, ".")
		if a.Schema != "" {
			path = append([]string{a.Schema}, path...)
		}
		if a.Type == storage.TypeMulti {
			for _, typ := range rule.Types {
				out[rule.Target+"."+typ] = attrLoc{path: path, elemType: typ}
			}
			continue
		}
		out[rule.Target] = attrLoc{path: path, boolean: a.Type == storage.TypeBoolean}
	}
	return out
}

// flatten gives b's values by target name, as templates read them.
func flatten(b body, locs map[string]attrLoc) map[string]string {
	out := make(map[string]string, len(locs))
	for name, loc := range locs {
		if v, ok := loc.get(b); ok {
			out[name] = v
		}
	}
	return out
}

func (l attrLoc) get(b body) (string, bool) {
	var cur any = map[string]any(b)
	for _, key := range l.path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = obj[key]
	}
	if l.elemType != "" {
		arr, _ := cur.([]any)
		for _, el := range arr {
			if obj, ok := el.(map[string]any); ok && obj["type"] == l.elemType {
				s, ok := obj["value"].(string)
				return s, ok
			}
		}
		return "", false
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func (l attrLoc) put(b body, v string) error {
	obj := map[string]any(b)
	for _, key := range l.path[:len(l.path)-1] {
		next, ok := obj[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[key] = next
		}
		obj = next
	}
	last := l.path[len(l.path)-1]
	switch {
	case l.boolean:
		flag, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		obj[last] = flag
	case l.elemType != "":
		arr, _ := obj[last].([]any)
		for _, el := range arr {
			if e, ok := el.(map[string]any); ok && e["type"] == l.elemType {
				e["value"] = v
				return nil
			}
		}
		el := map[string]any{"value": v, "type": l.elemType}
		if len(arr) == 0 {
			el["primary"] = true
		}
		obj[last] = append(arr, el)
	default:
		obj[last] = v
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
