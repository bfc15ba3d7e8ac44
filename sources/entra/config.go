package entra

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// Config is the entra kind's settings. The JSON names are the public
// contract of the config API; the tags describe each setting
// (sources.Describe), and a test compares the defaults they state with
// the constants below.
type Config struct {
	TenantID string `json:"tenantId" required:"true" example:"contoso.onmicrosoft.com" help:"The directory (tenant) id from the app registration's overview page (a GUID), or a verified domain of the tenant."`
	ClientID string `json:"clientId" required:"true" example:"11111111-2222-3333-4444-555555555555" help:"The application (client) id from the app registration's overview page. The app needs the Graph application permissions User.Read.All and GroupMember.Read.All, with admin consent."`
	// A client secret, or a certificate credential for private_key_jwt: a
	// fresh signed assertion per token request.
	ClientSecret string `json:"clientSecret,omitempty" secret:"true" help:"A client secret value of the app registration (Certificates & secrets; the Value column, not the Secret ID). Required unless privateKey and certificate are set; not together with them. Write-only: stored encrypted and never shown again."`
	PrivateKey   string `json:"privateKey,omitempty" type:"text" secret:"true" help:"The unencrypted RSA private key, in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----), of the certificate uploaded to the app registration; with certificate, instead of clientSecret. Write-only: stored encrypted and never shown again."`
	Certificate  string `json:"certificate,omitempty" type:"text" help:"The certificate uploaded to the app registration, in PEM (-----BEGIN CERTIFICATE-----); required with privateKey, which must belong to it."`
	LoginURL     string `json:"loginURL,omitempty" type:"url" default:"https://login.microsoftonline.com" example:"https://login.microsoftonline.us" help:"The identity platform's authority, for national clouds (login.microsoftonline.us for US Government, login.chinacloudapi.cn for China). Tokens come from {loginURL}/{tenantId}/oauth2/v2.0/token. https only."`
	GraphURL     string `json:"graphURL,omitempty" type:"url" default:"https://graph.microsoft.com" example:"https://graph.microsoft.us" help:"Microsoft Graph's root for the tenant's cloud (graph.microsoft.us for US Government L4, dod-graph.microsoft.us for L5, microsoftgraph.chinacloudapi.cn for China); requests go to {graphURL}/v1.0/. https only."`
	Scope        string `json:"scope,omitempty" example:"https://graph.microsoft.com/.default" help:"The token's scope; it must end in /.default. Default: {graphURL}/.default, which is right unless the cloud's Graph resource differs from its URL."`
	// Transitive: nested groups and their members are included.
	ScopeGroups []string `json:"scopeGroups,omitempty" example:"aaaaaaaa-1111-2222-3333-444444444444, bbbbbbbb-1111-2222-3333-444444444444" help:"Limit the source to the members of these groups, by object id (GUID, from the group's overview page), nested groups and their members included. Leave empty to sync every user and group."`
	// Read for mapping overrides that use them.
	ExtraAttributes []string `json:"extraAttributes,omitempty" example:"city, officeLocation, onPremisesExtensionAttributes" help:"Further Graph user properties to read, by their Graph names, for mapping templates that use them ({city}). The properties of the default mapping and manager are always read."`
	// Beyond it the run fails and the next one starts over from the saved
	// cursor, rather than one run waiting for ever.
	MaxThrottleWait string `json:"maxThrottleWait,omitempty" type:"duration" default:"15m" example:"30m" help:"How long one request may wait out Graph's throttling (429 with Retry-After) before the run fails, as a duration of at least 1m; the next run resumes from the last good one."`
}

// Defaults for the global cloud.
const (
	DefaultLoginURL = "https://login.microsoftonline.com"
	DefaultGraphURL = "https://graph.microsoft.com"
)

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	tenantRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)
	propRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

// Validate reports every problem with the settings.
func (c *Config) Validate() sources.FieldErrors {
	var errs sources.FieldErrors
	switch t := strings.TrimSpace(c.TenantID); {
	case t == "":
		errs.Add("tenantId", "required: the directory (tenant) id from the app registration's overview, or a verified domain such as contoso.onmicrosoft.com")
	case !tenantRE.MatchString(t):
		errs.Add("tenantId", "must be a GUID or a domain name")
	}
	switch id := strings.TrimSpace(c.ClientID); {
	case id == "":
		errs.Add("clientId", "required: the application (client) id from the app registration's overview")
	case !guidRE.MatchString(id):
		errs.Add("clientId", "must be a GUID such as 11111111-2222-3333-4444-555555555555")
	}
	hasKey := c.PrivateKey != "" || c.Certificate != ""
	switch {
	case c.ClientSecret != "" && hasKey:
		errs.Add("clientSecret", "give either clientSecret or privateKey and certificate, not both")
	case c.ClientSecret == "" && !hasKey:
		errs.Add("clientSecret", "required unless privateKey and certificate are set: a client secret value of the app registration")
	case hasKey:
		if _, _, err := c.keyPair(); err != nil {
			errs.Add(err.field, "%s", err.msg)
		}
	}
	for _, f := range []struct{ name, val string }{{"loginURL", c.LoginURL}, {"graphURL", c.GraphURL}} {
		if f.val != "" {
			if msg := checkBaseURL(f.val); msg != "" {
				errs.Add(f.name, "%s", msg)
			}
		}
	}
	if c.Scope != "" && !strings.HasSuffix(c.Scope, "/.default") {
		errs.Add("scope", "must end in /.default (client credentials take {resource}/.default only), e.g. https://graph.microsoft.com/.default")
	}
	for i, g := range c.ScopeGroups {
		if !guidRE.MatchString(strings.TrimSpace(g)) {
			errs.Add(fmt.Sprintf("scopeGroups[%d]", i), "must be a group object id (a GUID)")
		}
	}
	for i, a := range c.ExtraAttributes {
		if !propRE.MatchString(a) {
			errs.Add(fmt.Sprintf("extraAttributes[%d]", i), "must be a Graph user property name such as city")
		} else if strings.EqualFold(a, "manager") {
			errs.Add(fmt.Sprintf("extraAttributes[%d]", i), "manager is always read")
		}
	}
	if _, problem := c.throttleWait(); problem != "" {
		errs.Add("maxThrottleWait", "%s", problem)
	}
	return errs
}

// throttleWait is MaxThrottleWait as a duration (defaultMaxThrottleWait
// when unset), or why it is not one.
func (c *Config) throttleWait() (time.Duration, string) {
	if strings.TrimSpace(c.MaxThrottleWait) == "" {
		return defaultMaxThrottleWait, ""
	}
	d, err := time.ParseDuration(strings.TrimSpace(c.MaxThrottleWait))
	switch {
	case err != nil:
		return 0, "not a duration such as 15m"
	case d < time.Minute:
		return 0, "must be at least 1m (Graph asks for waits of seconds to minutes)"
	}
	return d, ""
}

// checkBaseURL accepts https URLs, and http for loopback hosts (tests).
func checkBaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "must be an absolute URL such as https://graph.microsoft.com"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "must not have a query or fragment"
	}
	if problem := sources.LinkLocalProblem(u.Hostname()); problem != "" {
		return problem
	}
	if u.Scheme == "https" {
		return ""
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && (u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())) {
		return ""
	}
	return "must use https"
}

type fieldErr struct{ field, msg string }

// keyPair parses the certificate credential and checks the two belong
// together.
func (c *Config) keyPair() (*rsa.PrivateKey, *x509.Certificate, *fieldErr) {
	if c.PrivateKey == "" {
		return nil, nil, &fieldErr{"privateKey", "required with certificate: the PEM private key of the certificate uploaded to the app registration"}
	}
	if c.Certificate == "" {
		return nil, nil, &fieldErr{"certificate", "required with privateKey: the PEM certificate uploaded to the app registration"}
	}
	cb, _ := pem.Decode([]byte(c.Certificate))
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, nil, &fieldErr{"certificate", "must be a PEM block starting with -----BEGIN CERTIFICATE-----"}
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, &fieldErr{"certificate", "cannot be parsed: " + err.Error()}
	}
	kb, _ := pem.Decode([]byte(c.PrivateKey))
	if kb == nil {
		return nil, nil, &fieldErr{"privateKey", "must be a PEM block (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)"}
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(kb.Bytes); err == nil {
		key, _ = k.(*rsa.PrivateKey)
	} else if k, err := x509.ParsePKCS1PrivateKey(kb.Bytes); err == nil {
		key = k
	}
	if key == nil {
		return nil, nil, &fieldErr{"privateKey", "must be an unencrypted RSA private key (Entra certificate credentials are RSA)"}
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, nil, &fieldErr{"privateKey", "does not belong to the certificate"}
	}
	return key, cert, nil
}

func (c *Config) loginURL() string { return trimBase(c.LoginURL, DefaultLoginURL) }
func (c *Config) graphURL() string { return trimBase(c.GraphURL, DefaultGraphURL) }

func (c *Config) scope() string {
	if c.Scope != "" {
		return c.Scope
	}
	return c.graphURL() + "/.default"
}

func trimBase(v, def string) string {
	if v == "" {
		return def
	}
	return strings.TrimRight(v, "/")
}

// Open returns the source; nothing is contacted until a run or a test.
func (c *Config) Open(env sources.Env) (sources.Source, error) {
	if errs := c.Validate(); len(errs) > 0 {
		return nil, errs.Err()
	}
	env = env.WithDefaults()
	cfg := *c
	cfg.ScopeGroups = normalizeIDs(c.ScopeGroups)
	hc := env.HTTPClient
	if hc == nil {
		hc = sources.GuardedHTTPClient(0)
	}
	tokens, err := newTokenSource(&cfg, hc, env)
	if err != nil {
		return nil, err
	}
	wait, _ := cfg.throttleWait() // checked by Validate
	cl := &client{http: hc, graph: cfg.graphURL(), tokens: tokens, clock: env.Clock, upstream: env.Upstream, log: env.Logger,
		maxAttempts: defaultAttempts, maxThrottleWait: wait}
	return &source{cfg: cfg, log: env.Logger, client: cl, tokens: tokens}, nil
}

func normalizeIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, strings.ToLower(strings.TrimSpace(id)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
