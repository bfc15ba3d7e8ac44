package okta

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// Config is the okta kind's settings. The JSON names are the public
// contract of POST /api/v1/sources; the tags describe each setting
// (sources.Describe), and a test compares the defaults they state with
// the constants below.
type Config struct {
	OrgURL string `json:"orgURL" type:"url" required:"true" example:"https://acme.okta.com" help:"The org's base URL, https://{your org}.okta.com (or its custom domain), without a path and without -admin (the admin console's URL is not the org's)."`

	// An API token, or an API Services app with private_key_jwt against
	// {orgURL}/oauth2/v1/token.
	APIToken   string `json:"apiToken,omitempty" secret:"true" help:"An Okta API token (Security, API, Tokens), sent as SSWS; its rights are those of the admin who created it, so a read-only admin's token is enough. Required unless clientId and privateKey are set; not together with them. Write-only: stored encrypted and never shown again."`
	ClientID   string `json:"clientId,omitempty" example:"0oa1b2c3d4e5f6g7h8i9" help:"The client id of an API Services app with public key / private key client authentication and the okta.users.read and okta.groups.read scopes granted; with privateKey, instead of apiToken."`
	PrivateKey string `json:"privateKey,omitempty" type:"text" secret:"true" help:"The API Services app's private key, in PEM (-----BEGIN PRIVATE KEY-----) or as a JWK (JSON); with clientId. Write-only: stored encrypted and never shown again."`
	KeyID      string `json:"keyId,omitempty" example:"my-key-1" help:"The kid of the app's registered public key, sent with each assertion. Default: the JWK's own kid; needed for a PEM key when the app has several keys."`
	DPoP       string `json:"dpop,omitempty" values:"auto,on,off" default:"auto" help:"Proof of possession (DPoP) for the app's access tokens: auto uses it when the app requires it, on always, off never. Applies to clientId and privateKey only."`

	GroupIDs        []string `json:"groupIds,omitempty" example:"00g1a2b3c4d5e6f7g8h9, 00g9h8g7f6e5d4c3b2a1" help:"Limit groups to these Okta group ids (from the group's page URL in the admin console). Leave empty for every group of groupTypes."`
	GroupNamePrefix string   `json:"groupNamePrefix,omitempty" example:"app-" help:"Limit groups to those whose name starts with this text, ignoring case. Leave empty for every group."`
	GroupTypes      []string `json:"groupTypes,omitempty" values:"OKTA_GROUP,APP_GROUP,BUILT_IN" default:"OKTA_GROUP,APP_GROUP" example:"OKTA_GROUP" help:"The group types imported: OKTA_GROUP (groups made in Okta), APP_GROUP (imported from apps and directories such as AD), BUILT_IN (the Everyone group)."`

	// Deactivated users arrive with the incremental runs; hard deletes do
	// not, so a full run every so often is how they are noticed.
	FullReconcileInterval string `json:"fullReconcileInterval,omitempty" type:"duration" default:"24h" example:"12h" help:"How often a run lists every user and group rather than what changed since the last run, so that users deleted for good are noticed; a duration of at least 1h."`
	MaxConcurrency        int    `json:"maxConcurrency,omitempty" default:"4" example:"8" help:"The most requests sent at once, 1 to 32. Okta allows 75 simultaneous requests per org, shared by every integration and admin."`
	// A pointer: 0 is a valid reserve, distinct from unset.
	RateLimitReserve *int `json:"rateLimitReserve,omitempty" default:"10" example:"25" help:"The percentage of each Okta rate-limit bucket left for other integrations and admins, 0 to 90; the source slows down before it uses more."`
	// Beyond it the run fails and the next one starts over from the saved
	// cursor.
	MaxRateLimitWait string `json:"maxRateLimitWait,omitempty" type:"duration" default:"15m" example:"30m" help:"How long one run may wait in total for rate limits to reset before it fails, as a duration of at least 1m; the next run resumes from the last good one."`

	// budgets is the kind's rate-limit registry, shared by its sources;
	// never decoded.
	budgets *orgBudgets
}

// Defaults.
const (
	defaultFullEvery   = 24 * time.Hour
	defaultConcurrency = 4
	defaultReserve     = 10
	defaultMaxWait     = 15 * time.Minute
)

// Okta's group types.
var groupTypes = []string{"OKTA_GROUP", "APP_GROUP", "BUILT_IN"}

// DPoP modes.
const (
	dpopAuto = "auto"
	dpopOn   = "on"
	dpopOff  = "off"
)

// settings is a validated Config, ready to use.
type settings struct {
	org        *url.URL // scheme and host only
	apiToken   string
	clientID   string
	key        crypto.Signer
	keyID      string
	dpop       string
	groupIDs   map[string]bool
	prefix     string
	groupTypes map[string]bool
	fullEvery  time.Duration
	workers    int
	reserve    int
	maxWait    time.Duration
}

// Validate checks every setting and reports all problems at once.
func (c *Config) Validate() sources.FieldErrors {
	_, errs := c.resolve()
	return errs
}

// Open returns the source.
func (c *Config) Open(env sources.Env) (sources.Source, error) {
	s, errs := c.resolve()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	env = env.WithDefaults()
	httpc := env.HTTPClient
	if httpc == nil {
		httpc = sources.GuardedHTTPClient(s.workers + 1)
	}
	return &oktaSource{cfg: s, log: env.Logger, clock: env.Clock, httpc: httpc, upstream: env.Upstream, budgets: c.budgets}, nil
}

func (c *Config) resolve() (settings, sources.FieldErrors) {
	var errs sources.FieldErrors
	s := settings{
		dpop: dpopAuto, fullEvery: defaultFullEvery, workers: defaultConcurrency,
		reserve: defaultReserve, maxWait: defaultMaxWait,
		groupTypes: map[string]bool{"OKTA_GROUP": true, "APP_GROUP": true},
	}
	s.org = checkOrgURL(c.OrgURL, &errs)
	c.resolveAuth(&s, &errs)
	if len(c.GroupIDs) > 0 {
		s.groupIDs = map[string]bool{}
		for _, id := range c.GroupIDs {
			if strings.TrimSpace(id) == "" {
				errs.Add("groupIds", "must not contain empty ids")
				continue
			}
			s.groupIDs[strings.TrimSpace(id)] = true
		}
	}
	s.prefix = c.GroupNamePrefix
	if len(c.GroupTypes) > 0 {
		s.groupTypes = map[string]bool{}
		for _, t := range c.GroupTypes {
			if !slices.Contains(groupTypes, t) {
				errs.Add("groupTypes", "unknown group type %q; use %s", t, strings.Join(groupTypes, ", "))
				continue
			}
			s.groupTypes[t] = true
		}
	}
	if c.FullReconcileInterval != "" {
		d, err := time.ParseDuration(c.FullReconcileInterval)
		switch {
		case err != nil:
			errs.Add("fullReconcileInterval", "not a duration such as 24h or 12h")
		case d < time.Hour:
			errs.Add("fullReconcileInterval", "must be at least 1h (a full reconcile lists every user)")
		default:
			s.fullEvery = d
		}
	}
	switch {
	case c.MaxConcurrency < 0 || c.MaxConcurrency > 32:
		errs.Add("maxConcurrency", "must be between 1 and 32 (Okta allows 75 simultaneous requests per org, shared by every client)")
	case c.MaxConcurrency > 0:
		s.workers = c.MaxConcurrency
	}
	if c.RateLimitReserve != nil {
		if *c.RateLimitReserve < 0 || *c.RateLimitReserve > 90 {
			errs.Add("rateLimitReserve", "must be a percentage between 0 and 90")
		} else {
			s.reserve = *c.RateLimitReserve
		}
	}
	if c.MaxRateLimitWait != "" {
		d, err := time.ParseDuration(c.MaxRateLimitWait)
		switch {
		case err != nil:
			errs.Add("maxRateLimitWait", "not a duration such as 15m")
		case d < time.Minute:
			errs.Add("maxRateLimitWait", "must be at least 1m (Okta's rate-limit windows are a minute long)")
		default:
			s.maxWait = d
		}
	}
	return s, errs
}

func (c *Config) resolveAuth(s *settings, errs *sources.FieldErrors) {
	token := strings.TrimSpace(c.APIToken)
	token = strings.TrimSpace(strings.TrimPrefix(token, "SSWS "))
	oauth := c.ClientID != "" || c.PrivateKey != ""
	switch {
	case token != "" && oauth:
		errs.Add("apiToken", "set either apiToken or clientId and privateKey, not both")
	case token != "":
		s.apiToken = token
	case !oauth:
		errs.Add("apiToken", "required: an API token, or clientId and privateKey of an API Services app")
	default:
		s.clientID = strings.TrimSpace(c.ClientID)
		if s.clientID == "" {
			errs.Add("clientId", "required with privateKey: the client id of the API Services app")
		}
		if c.PrivateKey == "" {
			errs.Add("privateKey", "required with clientId: the app's private key (PEM or JWK)")
		} else if key, kid, err := parsePrivateKey(c.PrivateKey); err != nil {
			errs.Add("privateKey", "%v", err)
		} else {
			s.key, s.keyID = key, kid
		}
		if c.KeyID != "" {
			s.keyID = c.KeyID
		}
	}
	switch strings.ToLower(c.DPoP) {
	case "", dpopAuto:
	case dpopOn, dpopOff:
		s.dpop = strings.ToLower(c.DPoP)
	default:
		errs.Add("dpop", "must be auto, on or off")
	}
}

// checkOrgURL accepts https://host (http only for loopback, which is where
// tests run the emulator) and reports the usual mistakes in plain words.
func checkOrgURL(raw string, errs *sources.FieldErrors) *url.URL {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		errs.Add("orgURL", "required: the org's URL, such as https://acme.okta.com")
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		errs.Add("orgURL", "not a URL; use the org's URL, such as https://acme.okta.com")
		return nil
	}
	host := u.Hostname()
	if problem := sources.LinkLocalProblem(host); problem != "" {
		errs.Add("orgURL", "%s", problem)
		return nil
	}
	switch {
	case u.Scheme == "http" && isLoopback(host):
	case u.Scheme != "https":
		errs.Add("orgURL", "must start with https://")
		return nil
	}
	if strings.Contains(host, "-admin.") {
		errs.Add("orgURL", "this is the admin console's URL; use the org URL without -admin (%s)", strings.Replace(host, "-admin.", ".", 1))
		return nil
	}
	if p := strings.TrimRight(u.Path, "/"); p != "" || u.RawQuery != "" {
		errs.Add("orgURL", "must be the org's base URL without a path, such as https://%s", u.Host)
		return nil
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// scopeKey fingerprints the settings that decide which groups a run
// enumerates: when they change, the next run is a full one.
func (s settings) scopeKey() string {
	h := sha256.New()
	ids := make([]string, 0, len(s.groupIDs))
	for id := range s.groupIDs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	types := make([]string, 0, len(s.groupTypes))
	for t := range s.groupTypes {
		types = append(types, t)
	}
	slices.Sort(types)
	fmt.Fprintf(h, "ids=%s\x00prefix=%s\x00types=%s", strings.Join(ids, ","), strings.ToLower(s.prefix), strings.Join(types, ","))
	return hex.EncodeToString(h.Sum(nil)[:8])
}
