package console

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// The directory pages' reading of SCIM lists (/scim/v2/Users, /Groups)
// and of the config API's directory bookkeeping (/api/v1/users, /groups).

// scimList is a SCIM ListResponse.
type scimList[T any] struct {
	TotalResults int `json:"totalResults"`
	StartIndex   int `json:"startIndex"`
	Resources    []T `json:"Resources"`
}

type scimUser struct {
	ID          string `json:"id"`
	UserName    string `json:"userName"`
	DisplayName string `json:"displayName"`
	Name        *struct {
		Formatted  string `json:"formatted"`
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
	} `json:"name"`
	Active bool `json:"active"`
}

// PersonName is what the results show as a user's name: the display
// name, else the formatted name, else given and family names.
func (u scimUser) PersonName() string {
	switch {
	case u.DisplayName != "":
		return u.DisplayName
	case u.Name == nil:
		return ""
	case u.Name.Formatted != "":
		return u.Name.Formatted
	}
	return strings.TrimSpace(u.Name.GivenName + " " + u.Name.FamilyName)
}

type scimGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	ExternalID  string `json:"externalId"`
}

// ownerView is who owns a user or group (api ownerJSON).
type ownerView struct {
	Kind string `json:"kind"` // source, client, other
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ownedView is one entry of GET /api/v1/users?id= or /groups?id=.
type ownedView struct {
	ID    string    `json:"id"`
	Owner ownerView `json:"owner"`
}

type groupRefView struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// resourceChangeView is a change-log entry with its run: a source's sync
// run or an app's push run.
type resourceChangeView struct {
	RunID     string            `json:"runId"`
	SourceID  string            `json:"sourceId"`
	AppID     string            `json:"appId"`
	RunStatus storage.RunStatus `json:"runStatus"`
	Queued    time.Time         `json:"queued"`
	storage.Change
}

// directoryUserView is GET /api/v1/users/{id}.
type directoryUserView struct {
	Owner         ownerView            `json:"owner"`
	Groups        []groupRefView       `json:"groups"`
	GroupCount    int                  `json:"groupCount"`
	RecentChanges []resourceChangeView `json:"recentChanges"`
}

// directoryGroupView is GET /api/v1/groups/{id}.
type directoryGroupView struct {
	DisplayName string    `json:"displayName"`
	Owner       ownerView `json:"owner"`
	MemberCount int       `json:"memberCount"`
	Members     []struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Display string `json:"display"`
	} `json:"members"`
	RecentChanges []resourceChangeView `json:"recentChanges"`
}

// resourcePage is what a user's or group's page shows of its SCIM
// resource: readable facts and the resource's JSON.
type resourcePage struct {
	Facts []fact
	JSON  string
}

func resourcePageOf(raw []byte) (resourcePage, error) {
	facts, err := factsOf(raw)
	if err != nil {
		return resourcePage{}, err
	}
	// Indenting the bytes as they came keeps the resource's own key order.
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		return resourcePage{}, err
	}
	return resourcePage{Facts: facts, JSON: pretty.String()}, nil
}

// Changed names the top-level attributes an entry's before and after
// differ in, sorted; none when it lacks either side. The run's page has
// the whole comparison.
func (c resourceChangeView) Changed() []string {
	var before, after map[string]json.RawMessage
	if json.Unmarshal(c.Before, &before) != nil || json.Unmarshal(c.After, &after) != nil || before == nil || after == nil {
		return nil
	}
	var out []string
	for k, b := range before {
		if a, ok := after[k]; !ok || !sameJSON(a, b) {
			out = append(out, k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func sameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// RunPage is the console page of the entry's run.
func (c resourceChangeView) RunPage() string {
	if c.AppID != "" {
		return Prefix + "/apps/" + url.PathEscape(c.AppID) + "/runs/" + url.PathEscape(c.RunID)
	}
	return Prefix + "/sources/" + url.PathEscape(c.SourceID) + "/runs/" + url.PathEscape(c.RunID)
}
