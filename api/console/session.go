package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

const (
	sessionCookie = "scimgate_session"
	// signinCookie carries the sign-in form's anti-forgery value before
	// there is a session (a forged sign-in would put the victim in the
	// attacker's session).
	signinCookie = "scimgate_signin"
	csrfField    = "csrf"
	sessionKey   = "console.session"
)

// Authority checks admin tokens for the console; the API server is one,
// so a sign-in counts against the same failure limits as a bearer token.
type Authority interface {
	// SignIn checks a pasted admin token for request r. A refused token
	// is a *Denial.
	SignIn(r *http.Request, token string) (Identity, error)
	// Check tells whether who may still act (its token not revoked, under
	// its rate); a *Denial when not.
	Check(r *http.Request, who Identity) error
}

// Denial is why a token or a session was refused.
type Denial struct {
	Status     int // 401, 403 or 429
	RetryAfter int // seconds, for 429
	Message    string
}

func (d *Denial) Error() string { return d.Message }

func randomValue() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashOf(cookie string) []byte {
	sum := sha256.Sum256([]byte(cookie))
	return sum[:]
}

func equalSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// secure says whether cookies get the Secure flag: when the console is
// served over TLS, directly or (per the configured public URL) behind a
// proxy that terminates it.
func (u *Console) secure(r *http.Request) bool { return r.TLS != nil || u.cfg.HTTPS }

func (u *Console) setCookie(c echo.Context, name, value string, maxAge int) {
	http.SetCookie(c.Response(), &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: u.secure(c.Request()), SameSite: http.SameSiteStrictMode,
	})
}

// session is the signed-in admin of a request.
type session struct {
	storage.ConsoleSession
	Who Identity
}

func sessionOf(c echo.Context) *session {
	s, _ := c.Get(sessionKey).(*session)
	return s
}

// requireSession admits requests with a live session; others go to the
// sign-in page (or get a 401 for the console's own fetches). Every
// request that changes something must also carry the session's CSRF
// value and come from this origin.
func (u *Console) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, why := u.liveSession(c)
		if sess == nil {
			if isFetch(c.Request()) {
				return c.JSON(http.StatusUnauthorized, map[string]string{"error": why})
			}
			to := Prefix + "/signin"
			if why != "signin" {
				to += "?reason=" + why // the sign-in page says why the session ended
			}
			return c.Redirect(http.StatusSeeOther, to)
		}
		r := c.Request()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) || !equalSecret(r.FormValue(csrfField), sess.CSRF) {
				return u.forbidden(c, "This form is out of date or was not sent by the console. Reload the page and send it again.")
			}
		}
		c.Set(sessionKey, sess)
		return next(c)
	}
}

// liveSession finds the request's session, ends it when it has expired,
// and moves its idle clock at most once a minute. why says what the
// sign-in page tells a visitor without one.
func (u *Console) liveSession(c echo.Context) (*session, string) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, "signin"
	}
	ctx := c.Request().Context()
	hash := hashOf(ck.Value)
	stored, err := u.cfg.Sessions.GetConsoleSession(ctx, hash)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			u.log.Error("cannot read a console session", "error", err)
		}
		return nil, "expired"
	}
	now := u.cfg.Now()
	if !now.Before(stored.Expires) || now.Sub(stored.LastSeen) >= u.cfg.IdleTimeout {
		if err := u.cfg.Sessions.DeleteConsoleSession(ctx, hash); err != nil && !errors.Is(err, storage.ErrNotFound) {
			u.log.Warn("cannot end an expired console session", "error", err)
		}
		return nil, "expired"
	}
	who := Identity{TokenID: stored.TokenID, Actor: stored.Actor}
	if err := u.cfg.Auth.Check(c.Request(), who); err != nil {
		var d *Denial
		if errors.As(err, &d) && d.Status == http.StatusTooManyRequests {
			return nil, "busy"
		}
		_ = u.cfg.Sessions.DeleteConsoleSession(ctx, hash)
		return nil, "revoked"
	}
	if now.Sub(stored.LastSeen) >= time.Minute {
		if err := u.cfg.Sessions.TouchConsoleSession(ctx, hash, now); err != nil {
			u.log.Warn("cannot record console session activity", "error", err)
		}
	}
	return &session{ConsoleSession: stored, Who: who}, ""
}

// isFetch tells the console's own script requests from page loads.
func isFetch(r *http.Request) bool { return r.Header.Get("X-Console-Fetch") == "1" }

var signinReasons = map[string]string{
	"expired": "Your session has ended. Sign in again to go on.",
	"revoked": "The token this session was signed in with is no longer valid. Sign in with another admin token.",
	"busy":    "Too many requests for this token right now. Wait a moment, then sign in again.",
	"out":     "You are signed out.",
}

func (u *Console) signinPage(c echo.Context) error {
	return u.renderSignin(c, http.StatusOK, signinReasons[c.QueryParam("reason")], "")
}

func (u *Console) renderSignin(c echo.Context, status int, notice, problem string) error {
	value, err := randomValue()
	if err != nil {
		return err
	}
	u.setCookie(c, signinCookie, value, 600)
	return u.render(c, status, "signin.html", page{Title: "Sign in", CSRF: value,
		Data: map[string]string{"Notice": notice, "Problem": problem}})
}

func (u *Console) signin(c echo.Context) error {
	r := c.Request()
	ck, err := c.Cookie(signinCookie)
	if err != nil || !sameOrigin(r) || !equalSecret(r.FormValue(csrfField), ck.Value) {
		return u.renderSignin(c, http.StatusForbidden, "", "The sign-in form had expired. Paste the token and sign in again.")
	}
	who, err := u.cfg.Auth.SignIn(r, r.FormValue("token"))
	if err != nil {
		var d *Denial
		if !errors.As(err, &d) {
			return err
		}
		msg := "That is not a valid admin token. Paste the whole token (it starts with sg_), or create one with: scimgate token create --role admin --name <you>"
		switch d.Status {
		case http.StatusForbidden:
			msg = d.Message
		case http.StatusTooManyRequests:
			msg = d.Message
			c.Response().Header().Set("Retry-After", fmt.Sprint(d.RetryAfter))
		}
		return u.renderSignin(c, d.Status, "", msg)
	}
	cookie, err := randomValue()
	if err != nil {
		return err
	}
	csrf, err := randomValue()
	if err != nil {
		return err
	}
	now := u.cfg.Now()
	stored := storage.ConsoleSession{Hash: hashOf(cookie), TokenID: who.TokenID, Actor: who.Actor, CSRF: csrf,
		Created: now, LastSeen: now, Expires: now.Add(u.cfg.MaxAge)}
	if err := u.cfg.Sessions.CreateConsoleSession(r.Context(), stored); err != nil {
		return fmt.Errorf("console: storing the session: %w", err)
	}
	// Sessions nobody signed out of end here, a sweep per sign-in.
	if _, err := u.cfg.Sessions.DeleteExpiredConsoleSessions(r.Context(), now, now.Add(-u.cfg.IdleTimeout)); err != nil {
		u.log.Warn("cannot sweep expired console sessions", "error", err)
	}
	u.setCookie(c, signinCookie, "", -1)
	u.setCookie(c, sessionCookie, cookie, 0) // a browser-session cookie; the server bounds its life
	u.log.Info("console sign-in", "actor", who.Actor)
	return c.Redirect(http.StatusSeeOther, Prefix+"/")
}

func (u *Console) signout(c echo.Context) error {
	ck, err := c.Cookie(sessionCookie)
	if err == nil && ck.Value != "" {
		if err := u.cfg.Sessions.DeleteConsoleSession(c.Request().Context(), hashOf(ck.Value)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("console: ending the session: %w", err)
		}
	}
	u.setCookie(c, sessionCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, Prefix+"/signin?reason=out")
}
