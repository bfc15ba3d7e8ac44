package ldap

import "github.com/scimgate/scimgate/sources"

var _ sources.Warner = (*Config)(nil)

// Warnings names the settings that weaken the connection's security; the
// config API shows them with the source (sources.Warner).
func (c *Config) Warnings() []string {
	var out []string
	if c.InsecureSkipVerify {
		out = append(out, "insecureSkipVerify is on: the server's TLS certificate is not checked, so credentials can be intercepted")
	}
	if c.AllowPlaintextBind {
		out = append(out, "allowPlaintextBind is on: an ldap:// URL without startTLS sends bindPassword in clear")
	}
	return out
}
