package ldap

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// settings are the validated settings with defaults filled in.
type settings struct {
	url                *url.URL
	startTLS           bool
	caFile             string
	insecureSkipVerify bool
	bindDN, password   string
	baseDN             string
	userBaseDN         string
	groupBaseDN        string
	userFilter         string
	groupFilter        string
	pageSize           int
	groupPageSize      int // smaller: each group may carry 1,500 member values
	timeout            time.Duration
	userNameAttr       string
	expand             bool
	reconcileEvery     time.Duration
	rangeStep          int
	userAttrs          []string // asked of the directory for users
	groupAttrs         []string // for groups, besides member
}

// Validate reports every problem with the settings.
func (c *Config) Validate() sources.FieldErrors {
	_, errs := c.settings()
	return errs
}

// settings validates c and fills in defaults.
func (c *Config) settings() (settings, sources.FieldErrors) {
	var errs sources.FieldErrors
	s := settings{
		startTLS: c.StartTLS, caFile: c.CAFile, insecureSkipVerify: c.InsecureSkipVerify,
		bindDN: strings.TrimSpace(c.BindDN), password: c.BindPassword,
		pageSize: c.PageSize, expand: c.ExpandNestedGroups, rangeStep: defaultRangeStep,
	}
	u, err := url.Parse(strings.TrimSpace(c.URL))
	switch {
	case strings.TrimSpace(c.URL) == "":
		errs.Add("url", "required: ldaps://dc.example.com or ldap://dc.example.com (with startTLS)")
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "":
		errs.Add("url", "must look like ldaps://dc.example.com[:636] or ldap://dc.example.com[:389]")
	case u.Path != "" && u.Path != "/" || u.RawQuery != "":
		errs.Add("url", "must have no DN or query part; set baseDN instead")
	case sources.LinkLocalProblem(u.Hostname()) != "":
		errs.Add("url", "%s", sources.LinkLocalProblem(u.Hostname()))
	default:
		s.url = u
		if c.StartTLS && u.Scheme == "ldaps" {
			errs.Add("startTLS", "only applies to ldap:// URLs; ldaps:// is encrypted from the start")
		}
		if u.Scheme == "ldap" && !c.StartTLS && !c.AllowPlaintextBind {
			errs.Add("startTLS", "required with ldap:// (without it bindPassword is sent in clear); use ldaps://, set startTLS, or set allowPlaintextBind to accept the risk")
		}
	}
	if c.CAFile != "" && !filepath.IsAbs(c.CAFile) {
		errs.Add("caFile", "must be an absolute path to a PEM file")
	}
	if c.CAFile != "" && c.InsecureSkipVerify {
		errs.Add("insecureSkipVerify", "contradicts caFile: with insecureSkipVerify the CA is not checked")
	}
	if s.bindDN == "" {
		errs.Add("bindDN", "required: the DN, UPN (user@example.com) or DOMAIN\\user of a read-only account")
	}
	if c.BindPassword == "" {
		// An empty password is an anonymous bind on many servers.
		errs.Add("bindPassword", "required")
	}
	s.baseDN = checkDN(&errs, "baseDN", c.BaseDN, true)
	s.userBaseDN = checkDN(&errs, "userBaseDN", c.UserBaseDN, false)
	s.groupBaseDN = checkDN(&errs, "groupBaseDN", c.GroupBaseDN, false)
	if s.userBaseDN == "" {
		s.userBaseDN = s.baseDN
	}
	if s.groupBaseDN == "" {
		s.groupBaseDN = s.baseDN
	}
	s.userFilter = checkFilter(&errs, "userFilter", c.UserFilter, defaultUserFilter)
	s.groupFilter = checkFilter(&errs, "groupFilter", c.GroupFilter, defaultGroupFilter)
	switch {
	case s.pageSize == 0:
		s.pageSize = defaultPageSize
	case s.pageSize < 1 || s.pageSize > maxPageSize:
		errs.Add("pageSize", "must be between 1 and %d (AD's MaxPageSize)", maxPageSize)
	}
	s.groupPageSize = min(s.pageSize, maxGroupPage)
	s.timeout = checkDuration(&errs, "timeout", c.Timeout, defaultTimeout, time.Second)
	s.reconcileEvery = checkDuration(&errs, "reconcileEvery", c.ReconcileEvery, defaultReconcileEvery, time.Minute)
	switch strings.ToLower(strings.TrimSpace(c.UserNameAttribute)) {
	case "", "userprincipalname":
		s.userNameAttr = "userPrincipalName"
	case "samaccountname":
		s.userNameAttr = "sAMAccountName"
	default:
		errs.Add("userNameAttribute", "must be userPrincipalName or sAMAccountName")
	}
	user, group := c.userMapping, c.groupMapping
	if user == nil {
		user = defaultUserMapping()
	}
	if group == nil {
		group = defaultGroupMapping()
	}
	s.userAttrs = directoryAttrs(user.Attributes(), "objectGUID", "userAccountControl", "accountExpires",
		"userPrincipalName", "sAMAccountName")
	s.groupAttrs = directoryAttrs(group.Attributes(), "objectGUID")
	return s, errs
}

func checkDN(errs *sources.FieldErrors, field, dn string, required bool) string {
	dn = strings.TrimSpace(dn)
	if dn == "" {
		if required {
			errs.Add(field, "required: the DN to search under, e.g. DC=example,DC=com")
		}
		return ""
	}
	if _, err := goldap.ParseDN(dn); err != nil {
		errs.Add(field, "is not a DN (%v)", err)
	}
	return dn
}

func checkFilter(errs *sources.FieldErrors, field, filter, def string) string {
	filter = strings.TrimSpace(filter)
	if filter == "" {
		return def
	}
	if !strings.HasPrefix(filter, "(") {
		filter = "(" + filter + ")"
	}
	if _, err := goldap.CompileFilter(filter); err != nil {
		errs.Add(field, "is not an LDAP filter (%v)", err)
	}
	return filter
}

func checkDuration(errs *sources.FieldErrors, field, v string, def, least time.Duration) time.Duration {
	if strings.TrimSpace(v) == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < least {
		errs.Add(field, "must be a duration of at least %s, such as %s", least, def)
		return def
	}
	return d
}

// computedAttrs are made by the source, not read under their own name.
var computedAttrs = map[string]bool{
	"active": true, "username": true, "dn": true, "managerdn": true, "employeeidornumber": true,
}

// directoryAttrs is what to ask the directory for: what the mapping reads
// (computed names replaced by their inputs) and the fixed needs.
func directoryAttrs(mapped []string, always ...string) []string {
	out := append([]string{}, always...)
	add := func(names ...string) {
		for _, n := range names {
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, n) }) {
				out = append(out, n)
			}
		}
	}
	for _, a := range mapped {
		switch strings.ToLower(a) {
		case "managerdn":
			add("manager")
		case "employeeidornumber":
			add("employeeID", "employeeNumber")
		default:
			if !computedAttrs[strings.ToLower(a)] {
				add(a)
			}
		}
	}
	return out
}

// String describes the settings without the password, for logs.
func (s settings) String() string {
	return fmt.Sprintf("%s as %s under %s", s.url, s.bindDN, s.baseDN)
}
