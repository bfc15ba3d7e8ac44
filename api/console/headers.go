package console

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// scripts and styles come only from /ui/static, forms post only here, and
// no site may frame the console (clickjacking).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets the console's response headers on every page.
func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().URL.Path != Prefix+"/static" && !hasPrefix(c.Request().URL.Path, Prefix+"/static/") {
			// Pages carry the CSRF secret and directory data.
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// sameOrigin refuses a state-changing request another site sent: a second
// line behind the CSRF token. A real Origin must be this host. Under the
// console's Referrer-Policy: no-referrer, Chromium sends Origin "null" on
// the console's own form posts; that passes only when Sec-Fetch-Site says
// same-origin. With neither header (not a current browser) the CSRF token
// alone decides.
func sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	switch origin := r.Header.Get("Origin"); origin {
	case "null":
		return site == "same-origin"
	case "":
		return site == "" || site == "same-origin"
	default:
		for _, scheme := range []string{"http://", "https://"} {
			if origin == scheme+r.Host {
				return site == "" || site == "same-origin"
			}
		}
		return false
	}
}
