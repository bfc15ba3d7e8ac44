package console

import (
	"time"

	"github.com/scimgate/scimgate/storage"
)

// The config API's answers the Apps, Tokens and Audit log pages read
// (api/openapi.json is the contract): only the fields they show or send
// back.

// appDetail is GET /apps/{id}: the definition as written and its state.
type appDetail struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Counts      *struct {
		Users    int `json:"users"`
		Groups   int `json:"groups"`
		Departed int `json:"departed"`
	} `json:"counts"`
	Scope struct {
		Groups          []string `json:"groups"`
		Filter          string   `json:"filter"`
		Sources         []string `json:"sources"`
		IncludeInactive bool     `json:"includeInactive"`
	} `json:"scope"`
	Groups         storage.GroupMode `json:"groups"`
	FlattenGroups  bool              `json:"flattenGroups"`
	Attributes     []string          `json:"attributes"`
	LeaveGraceDays int               `json:"leaveGraceDays"`
	Warnings       []string          `json:"warnings"`
	CreatedAt      time.Time         `json:"createdAt"`
	UpdatedAt      time.Time         `json:"updatedAt"`
	Push           *pushDetail       `json:"push"`
}

// pushDetail is an app's push as the API shows it: secrets only as "set".
type pushDetail struct {
	URL  string `json:"url"`
	Auth struct {
		Type         string `json:"type"`
		Token        string `json:"token"`
		TokenURL     string `json:"tokenURL"`
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		Scope        string `json:"scope"`
	} `json:"auth"`
	Schedule           string                 `json:"schedule"`
	AfterChangeSeconds int                    `json:"afterChangeSeconds"`
	Profile            string                 `json:"profile"`
	Match              []string               `json:"match"`
	OnLeave            string                 `json:"onLeave"`
	Deletion           storage.DeletionLimits `json:"deletion"`
	Enabled            bool                   `json:"enabled"`
	Health             storage.SourceHealth   `json:"health"`
	Waiting            *time.Time             `json:"waitingSince"`
	RunningRunID       string                 `json:"runningRunId"`
	LastRun            *lastRunView           `json:"lastRun"`
}

// previewView is GET /apps/{id}/preview: the view's size and first page.
type previewView struct {
	Users     int `json:"users"`
	Groups    int `json:"groups"`
	Departed  int `json:"departed"`
	UsersPage []struct {
		ID           string    `json:"id"`
		UserName     string    `json:"userName"`
		DisplayName  string    `json:"displayName"`
		Active       bool      `json:"active"`
		Departed     bool      `json:"departed"`
		LastModified time.Time `json:"lastModified"`
	} `json:"usersPage"`
	GroupsPage []struct {
		ID           string    `json:"id"`
		DisplayName  string    `json:"displayName"`
		Members      int       `json:"members"`
		LastModified time.Time `json:"lastModified"`
	} `json:"groupsPage"`
}

// tokenView is one token of GET /tokens; Token (the secret) only in the
// answer that created it.
type tokenView struct {
	Name     string       `json:"name"`
	Role     storage.Role `json:"role"`
	Created  time.Time    `json:"created"`
	LastUsed *time.Time   `json:"lastUsed"`
	App      string       `json:"app"`
	AppName  string       `json:"appName"`
	Token    string       `json:"token"`
}

// pushTestReport is POST /apps/{id}/test: each check of the target.
type pushTestReport struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// attributeChoice is one attribute of GET /app-attributes.
type attributeChoice struct {
	Path   string `json:"path"`
	Name   string `json:"name"`
	Schema string `json:"schema"`
}
