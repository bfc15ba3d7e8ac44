package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// WaitText waits up to b.Wait until the page's visible text contains text.
func (b *Browser) WaitText(text string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Wait)
	defer cancel()
	for {
		// An error is a page between two documents (after a click that
		// posts a form): the next round reads the new one.
		page, err := chromedp.Run(ctx, visibleText)
		if err == nil && strings.Contains(page, text) {
			return
		}
		select {
		case <-ctx.Done():
			page, _ = chromedp.Run(b.ctx, visibleText)
			b.t.Fatalf("browsertest: no text %q on the page after %v; it reads:\n%s", text, b.Wait, page)
		case <-time.After(pollInterval):
		}
	}
}

// PageText is the visible text of the whole page, as a person reads it.
func (b *Browser) PageText() string {
	b.t.Helper()
	text, err := chromedp.Run(b.ctx, visibleText)
	if err != nil {
		b.t.Fatalf("browsertest: read the page's text: %v", b.explain(err))
	}
	return text
}

var visibleText = chromedp.Evaluate[string](`document.body === null ? "" : document.body.innerText`)

// Text is the visible text of the first element matching the CSS selector
// css (waiting up to b.Wait for it), for reading one cell or message.
func (b *Browser) Text(css string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Wait)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("browsertest: read the text of %s: %v", css, b.explain(err))
	}
	return text
}

// Cookies are the browser's cookies for the current page, with the flags a
// test asserts: HTTPOnly, Secure, SameSite, Expires, Session.
func (b *Browser) Cookies() []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		b.t.Fatalf("browsertest: read the cookies: %v", b.explain(err))
	}
	return res.Cookies
}

// screenshotName keeps screenshot files to plain names: docs link to them.
var screenshotName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Screenshot saves the whole page as <name>.png in the folder that
// SCIMGATE_SCREENSHOTS names (relative to the module root, e.g.
// docs/screenshots) and returns the file's path; without it, it saves
// nothing and returns "".
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	if !screenshotName.MatchString(name) {
		b.t.Fatalf("browsertest: screenshot name %q: use lower-case letters, digits and dashes", name)
	}
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		return ""
	}
	if !filepath.IsAbs(dir) {
		root, err := moduleRoot()
		if err != nil {
			b.t.Fatalf("browsertest: %s=%s: %v", EnvScreenshots, dir, err)
		}
		dir = filepath.Join(root, dir)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		b.t.Fatalf("browsertest: screenshot %s: %v", name, b.explain(err))
	}
	path := filepath.Join(dir, name+".png")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	return path
}

// moduleRoot is the folder of the go.mod above the working directory
// (go test runs in the package's folder).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
