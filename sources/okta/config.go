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
// contract of POST /api/v1/sources.
type Config struct {
	// OrgURL is the org's base URL, e.g. https://acme.okta.com (not the
	// -admin console URL).
	OrgURL string `json:"orgURL"`

	// APIToken authenticates as "Authorization: SSWS <token>" (secret).
	APIToken string `json:"apiToken,omitempty"`

	// ClientID and PrivateKey (PEM or JWK, secret) authenticate an API
	// Services app with private_key_jwt against {orgURL}/oauth2/v1/token.
	ClientID   string `json:"clientId,omitempty"`
	PrivateKey string `json:"privateKey,omitempty"`
	// KeyID is the kid of the app's registered key; a JWK's own kid is
	// used when this is empty.
	KeyID string `json:"keyId,omitempty"`
	// DPoP is auto (default: use it when the app requires it), on or off.
	DPoP string `json:"dpop,omitempty"`

	// GroupIDs, when set, limits groups to these Okta group ids.
	GroupIDs []string `json:"groupIds,omitempty"`
	// GroupNamePrefix, when set, limits groups to names starting with it
	// (case-insensitive).
	GroupNamePrefix string `json:"groupNamePrefix,omitempty"`
	// GroupTypes lists the group types imported; default OKTA_GROUP and
	// APP_GROUP (BUILT_IN is the Everyone group).
	GroupTypes []string `json:"groupTypes,omitempty"`

	// FullReconcileInterval is how often a run lists everything so that
	// hard-deleted users are noticed (default 24h, at least 1h).
	FullReconcileInterval string `json:"fullReconcileInterval,omitempty"`
	// MaxConcurrency caps simultaneous requests (default 4, at most 32;
	// Okta's org-wide concurrency limit is 75).
	MaxConcurrency int `json:"maxConcurrency,omitempty"`
	// RateLimitReserve is the percentage of each rate-limit bucket left
	// for other integrations and admins (default 10, 0 to 90).
	RateLimitReserve *int `json:"rateLimitReserve,omitempty"`
	// MaxRateLimitWait bounds the time one run may spend waiting for rate
	// limits to reset (default 15m); beyond it the run fails and the next
	// one starts over from the saved cursor.
	MaxRateLimitWait string `json:"maxRateLimitWait,omitempty"`

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
