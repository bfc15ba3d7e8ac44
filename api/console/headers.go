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

// sameOrigin refuses a state-changing request whose Origin (sent by every
// current browser on a POST) names another site: a second line behind
// the CSRF token.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	for _, scheme := range []string{"http://", "https://"} {
		if origin == scheme+r.Host {
			return true
		}
	}
	return false
}
