// Package ldap is the ldap source kind: users and groups from Active
// Directory (or Samba AD) over LDAP, with github.com/go-ldap/ldap/v3.
//
// A full run pages through users and groups (the paging control, page by
// page into the engine; a whole search result is never held). Every
// object is keyed by its objectGUID, decoded to the canonical string, so
// moves between OUs and renames keep identity. Members and managers come
// back as GUIDs through the extended-DN control, which both AD and Samba
// support, so no DN-to-GUID table is needed. Large groups are read with
// explicit range retrieval (member;range=0-1499, 1500-2999, ...), which
// real AD forces beyond 1,500 values and Samba does not.
//
// An incremental run asks for objects with uSNChanged above the
// highestCommittedUSN read at the start of the previous run (a per-DC
// counter: a different DC means a full run); a membership change moves the
// group's uSNChanged, and the changed group is sent with all its members.
// Deletions come from tombstones, read with the show-deleted control when
// the account may (AD shows a plain account none, silently), and from a
// full run, whose absences the engine turns into deactivations through its
// guard: on the first run, on request, and every reconcileEvery (default
// 24h). A full run also catches objects moved out of the base DN.
//
// DirSync works on Samba too, but needs the "Replicating Directory
// Changes" right on AD and returns only the changed attributes, while the
// engine compares whole records; uSNChanged works with any read-only
// account and returns whole objects.
//
// Referrals (AD's continuation references to other partitions) are
// counted, not chased. Membership in a user's primary group (Domain Users)
// is not in member, so it is not synced; members that are not synced
// users or groups (computers, foreign principals) are reported by the
// engine as unresolved.
//
// Attributes a mapping can use: every AD attribute by its name (the
// directory is asked for exactly those the templates name), plus these
// computed ones:
//
//	objectGUID          the canonical GUID string (also the key)
//	objectSid           S-1-5-21-... form
//	active              "false" when userAccountControl has ACCOUNTDISABLE or accountExpires is past
//	userName            the userNameAttribute (userPrincipalName by default), else the other one
//	manager             the manager's objectGUID (its key); managerDN the manager's DN
//	dn                  the object's DN
//	employeeIDOrNumber  employeeID, else employeeNumber
//	accountExpires, whenChanged, whenCreated, pwdLastSet, lastLogonTimestamp as RFC 3339
package ldap

import (
	"time"

	"github.com/scimgate/scimgate/sources"
)

// Kind registers the ldap kind.
func Kind() sources.Kind {
	return sources.Kind{
		New:          func() sources.Config { return &Config{} },
		UserMapping:  defaultUserMapping(),
		GroupMapping: defaultGroupMapping(),
		Description: "Active Directory (or Samba AD) over LDAP: paged full sync, incremental sync by uSNChanged, " +
			"large and nested groups, objectGUID as the stable id.",
	}
}

func defaultUserMapping() sources.Mapping {
	return sources.Mapping{
		"userName":                  "{userName}",
		"externalId":                "{objectGUID}",
		"active":                    "{active}",
		"name.givenName":            "{givenName}",
		"name.familyName":           "{sn}",
		"displayName":               "{displayName}",
		"emails.work":               "{mail}",
		"phoneNumbers.work":         "{telephoneNumber}",
		"phoneNumbers.mobile":       "{mobile}",
		"title":                     "{title}",
		"enterprise.department":     "{department}",
		"enterprise.organization":   "{company}",
		"enterprise.employeeNumber": "{employeeIDOrNumber}",
		"enterprise.manager":        "{manager}",
	}
}

// Groups are named by sAMAccountName, which AD keeps unique in the
// domain, so two groups with one cn in different OUs never collide.
func defaultGroupMapping() sources.Mapping {
	return sources.Mapping{
		"displayName": "{sAMAccountName}",
		"externalId":  "{objectGUID}",
	}
}

// Defaults of the settings.
const (
	defaultUserFilter  = "(&(objectCategory=person)(objectClass=user))"
	defaultGroupFilter = "(objectCategory=group)" // security and distribution groups
	defaultPageSize    = 500
	maxPageSize        = 1000 // AD's MaxPageSize: larger pages are cut to it
	// maxGroupPage bounds a page of groups: with up to 1,500 member values
	// each, 100 groups are already 150,000 values in memory.
	maxGroupPage          = 100
	defaultTimeout        = 30 * time.Second
	defaultReconcileEvery = 24 * time.Hour
	// defaultRangeStep is AD's MaxValRange: it hands out 1,500 values of a
	// multi-valued attribute at a time.
	defaultRangeStep = 1500
)

// Config is the ldap kind's settings. The JSON names are a public
// contract; the tags describe each setting (sources.Describe), and the
// defaults they state are the constants above (a test compares them).
type Config struct {
	URL      string `json:"url" type:"url" required:"true" example:"ldaps://dc.example.com" help:"The domain controller's LDAP URL: ldaps://host[:636] (TLS from the start), or ldap://host[:389] with startTLS. No DN or query part; the search base is baseDN."`
	StartTLS bool   `json:"startTLS,omitempty" help:"Upgrade an ldap:// connection to TLS before binding. Required with ldap:// unless allowPlaintextBind is set; not allowed with ldaps://."`
	CAFile   string `json:"caFile,omitempty" type:"path" example:"/etc/scimgate/dc-ca.pem" help:"Absolute path of a PEM file with the CA certificate that signed the domain controller's certificate. Leave empty to trust the server's system roots."`
	// Warned when set (Warnings): the API shows the risk with the source.
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty" help:"Do not check the server's TLS certificate. Only for a lab: anyone on the path can read bindPassword. Use caFile instead."`
	AllowPlaintextBind bool   `json:"allowPlaintextBind,omitempty" help:"Allow an ldap:// URL without startTLS, which sends bindPassword across the network in clear. Only for a lab; prefer ldaps:// or startTLS."`
	BindDN             string `json:"bindDN" required:"true" example:"CN=scimgate,OU=Service Accounts,DC=example,DC=com" help:"The read-only account scimgate binds as: a DN, a UPN (scimgate@example.com) or DOMAIN\\user. A plain domain user can read users and groups; reading tombstones of deleted objects needs more (without it deletions are found by the full reconcile)."`
	BindPassword       string `json:"bindPassword" required:"true" secret:"true" help:"The bind account's password. Write-only: stored encrypted and never shown again; send it again only to change it."`
	BaseDN             string `json:"baseDN" required:"true" example:"DC=example,DC=com" help:"The DN that users and groups are searched under, usually the domain's root."`
	UserBaseDN         string `json:"userBaseDN,omitempty" example:"OU=Staff,DC=example,DC=com" help:"The DN to search users under instead of baseDN (default: baseDN)."`
	GroupBaseDN        string `json:"groupBaseDN,omitempty" example:"OU=Groups,DC=example,DC=com" help:"The DN to search groups under instead of baseDN (default: baseDN)."`
	UserFilter         string `json:"userFilter,omitempty" default:"(&(objectCategory=person)(objectClass=user))" example:"(&(objectCategory=person)(objectClass=user)(memberOf=CN=Staff,OU=Groups,DC=example,DC=com))" help:"The LDAP filter that selects users, in RFC 4515 syntax (outer parentheses may be left out)."`
	GroupFilter        string `json:"groupFilter,omitempty" default:"(objectCategory=group)" example:"(&(objectCategory=group)(cn=app-*))" help:"The LDAP filter that selects groups, security and distribution alike by default."`
	PageSize           int    `json:"pageSize,omitempty" default:"500" example:"1000" help:"Users asked for per page of the paged search, 1 to 1000 (AD's MaxPageSize). Groups come in pages of at most 100."`
	Timeout            string `json:"timeout,omitempty" type:"duration" default:"30s" example:"1m" help:"How long connecting and each request may take before the run fails, as a duration of at least 1s."`
	UserNameAttribute  string `json:"userNameAttribute,omitempty" values:"userPrincipalName,sAMAccountName" default:"userPrincipalName" help:"The attribute that becomes userName (through the userName mapping attribute): userPrincipalName (user@example.com) or sAMAccountName (the pre-Windows 2000 logon name)."`
	ExpandNestedGroups bool   `json:"expandNestedGroups,omitempty" help:"Make a group's members every user reachable through its nested groups, instead of its direct members (users and groups)."`
	// The tombstone search misses objects moved out of the base DN and
	// deletions an unprivileged account cannot see: a full run finds them.
	ReconcileEvery string `json:"reconcileEvery,omitempty" type:"duration" default:"24h" example:"12h" help:"How often a run is a full enumeration rather than an incremental one (uSNChanged), which finds objects deleted or moved out of the base DN; a duration of at least 1m."`

	userMapping, groupMapping sources.Mapping
}

var (
	_ sources.Config      = (*Config)(nil)
	_ sources.MappingUser = (*Config)(nil)
)

// UseMappings receives the effective mappings, so the directory is asked
// for exactly the attributes they read.
func (c *Config) UseMappings(user, group sources.Mapping) {
	c.userMapping, c.groupMapping = user, group
}

// Open returns the source; nothing is dialed until a run or a test.
func (c *Config) Open(env sources.Env) (sources.Source, error) {
	env = env.WithDefaults()
	log := env.Logger
	st, errs := c.settings()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if st.url.Scheme == "ldap" && !st.startTLS {
		// Every run opens the source, so this is said at every connect.
		log.Warn("ldap: binding without TLS: bindPassword crosses the network in clear (allowPlaintextBind is on)", "url", st.url.Redacted())
	}
	return &source{set: st, log: log, clock: env.Clock, upstream: env.Upstream}, nil
}
