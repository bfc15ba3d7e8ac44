package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

func jsonEncode(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// toUser converts validated attributes (canonical names, as the library
// returns them) into a User. Attributes the store does not keep — password
// above all — are dropped here and never stored.
func toUser(attrs map[string]any) (storage.User, error) {
	raw, err := json.Marshal(attrs)
	if err != nil {
		return storage.User{}, invalidValue("the user could not be encoded: %v", err)
	}
	var u storage.User
	if err := json.Unmarshal(raw, &u); err != nil {
		return storage.User{}, invalidValue("the user has a value of the wrong type: %v", err)
	}
	if strings.TrimSpace(u.UserName) == "" {
		return storage.User{}, invalidValue("userName is required")
	}
	if u.Enterprise != nil && *u.Enterprise == (storage.EnterpriseExt{}) {
		u.Enterprise = nil
	}
	return u, nil
}

// userMap is the inverse of toUser, the document PATCH operates on.
func userMap(u storage.User) (map[string]any, error) {
	raw, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// toGroup converts validated attributes into a Group with its members.
func toGroup(attrs map[string]any) (storage.Group, error) {
	var g storage.Group
	for k, v := range attrs {
		switch strings.ToLower(k) {
		case "displayname":
			g.DisplayName, _ = v.(string)
		case "externalid":
			g.ExternalID, _ = v.(string)
		case "members":
			ms, err := toMembers(v)
			if err != nil {
				return storage.Group{}, err
			}
			g.Members = ms
		}
	}
	if strings.TrimSpace(g.DisplayName) == "" {
		return storage.Group{}, invalidValue("displayName is required")
	}
	return g, nil
}

// toMembers reads a members value: a list (or one) of {value, type}.
func toMembers(v any) ([]storage.Member, error) {
	var list []any
	switch v := v.(type) {
	case []any:
		list = v
	case map[string]any:
		list = []any{v}
	case nil:
		return nil, nil
	default:
		return nil, invalidValue("members must be a list of {\"value\": id}")
	}
	out := make([]storage.Member, 0, len(list))
	for _, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, invalidValue("each member must be an object with a value")
		}
		var m storage.Member
		for k, val := range obj {
			s, _ := val.(string)
			switch strings.ToLower(k) {
			case "value":
				m.Value = s
			case "type":
				m.Type = s
			}
		}
		if m.Value == "" {
			return nil, invalidValue("a member has no value (the member's id)")
		}
		out = append(out, m)
	}
	return out, nil
}

func invalidValue(format string, args ...any) scimerr.ScimError {
	return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidValue, fmt.Sprintf(format, args...))
}

func hasKey(m map[string]any, key string) bool {
	for k := range m {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}
