// Package browsertest drives headless Chromium for the console's browser
// tests, in this package's tests and in cmd/scimgate's end-to-end tests.
//
//	b := browsertest.Start(t) // skips, with one line why, without Chromium
//	b.Navigate(srv.URL + "/ui")
//	b.Fill("Admin token", token)
//	if status := b.Submit("Sign in"); status != http.StatusOK { ... }
//	b.WaitText("Overview")
//
// Controls are found as a person or a screen reader finds them: by their
// role and accessible name (a label, aria-label, a button's text), read from
// the browser's own accessibility tree, never by CSS ids. Each step waits
// for its control up to Browser.Wait and fails the test with what the page
// offers instead. Console errors, uncaught exceptions and Content-Security-
// Policy violations fail the test when it ends (Problems takes the ones a
// test expects).
//
// The browser is the one scripts/chromium.sh installs: SCIMGATE_TEST_CHROMIUM,
// else /usr/bin/chromium. Screenshots are written only when
// SCIMGATE_SCREENSHOTS names a folder (relative to the module root).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Environment variables the harness reads.
const (
	EnvChromium    = "SCIMGATE_TEST_CHROMIUM"
	EnvScreenshots = "SCIMGATE_SCREENSHOTS"
)

// defaultChromium is where Debian's chromium package puts the browser.
const defaultChromium = "/usr/bin/chromium"

// Defaults of a Browser's bounds.
const (
	// testTimeout bounds everything one test does in the browser, so a
	// page that never answers fails the test instead of hanging it.
	testTimeout = 2 * time.Minute
	// defaultWait bounds the wait for one control or one text.
	defaultWait = 10 * time.Second
	// pollInterval is how often a waiting step looks again.
	pollInterval = 25 * time.Millisecond
)

// viewport is the window size: a laptop screen, for the screenshots.
var viewport = [2]int{1280, 900}

// Browser is one test's headless Chromium with one tab. Its methods fail
// the test (t.Fatalf) when a step cannot be done; they are not safe for
// concurrent use, as a person has one mouse.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab's, bounded by the test's timeout
	// Wait bounds each step's wait for a control or a text to appear.
	Wait time.Duration

	mu       sync.Mutex
	problems []string // console errors, exceptions, CSP violations not yet reported
	dialogs  []string // messages of the JavaScript dialogs accepted
}

// Start launches Chromium for t alone and opens a tab; the browser ends
// with the test, after the console check. Without Chromium the test is
// skipped with one line saying why; a SCIMGATE_TEST_CHROMIUM that names
// no program fails it. A package with many browser tests shares one
// Chromium instead (Shared): a launch costs about half a second, a tab
// a twentieth.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := findChromium(t)
	began := time.Now()
	// Not t.Context(): that ends before the cleanups run, and the console
	// check at the end needs the tab. Cleanups run last-in first-out, so
	// this cancel runs after the check openTab registers.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocatorOptions(path, t.TempDir())...)
	t.Cleanup(cancelAlloc)
	// The first tab of an allocator starts the browser.
	b := openTab(t, allocCtx)
	t.Logf("browsertest: Chromium %s started in %v", path, time.Since(began).Round(time.Millisecond))
	return b
}

// openTab opens a tab as a child of parent, with extra options, for t.
func openTab(t testing.TB, parent context.Context, opts ...chromedp.ContextOption) *Browser {
	t.Helper()
	b := &Browser{t: t, Wait: defaultWait}
	opts = append(opts, chromedp.WithListener(b.record))
	tabCtx, cancelTab := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancelTab)
	// The first Do attaches the tab (and starts a browser the parent does
	// not have yet), binding their life to tabCtx, so it gets no deadline;
	// the test's timeout goes on the steps' context.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("browsertest: open a Chromium tab: %v", err)
	}
	ctx, cancelSteps := context.WithTimeout(tabCtx, timeoutFor(t))
	t.Cleanup(cancelSteps)
	b.ctx = ctx
	t.Cleanup(b.reportProblems)
	return b
}

// findChromium returns the browser to launch, or skips t.
func findChromium(t testing.TB) string {
	t.Helper()
	return locateChromium(t, os.Getenv(EnvChromium), defaultChromium)
}

// locateChromium returns named, which must be a program, or else fallback
// if it is one; without either it skips t.
func locateChromium(t testing.TB, named, fallback string) string {
	t.Helper()
	if named != "" {
		if _, err := exec.LookPath(named); err != nil {
			t.Fatalf("browsertest: %s=%s is not a program: %v", EnvChromium, named, err)
		}
		return named
	}
	if _, err := exec.LookPath(fallback); err != nil {
		t.Skipf("browser test SKIPPED: no Chromium (%s unset, no %s); scripts/chromium.sh installs it as root", EnvChromium, fallback)
	}
	return fallback
}

// allocatorOptions are chromedp's defaults and the flags a test machine
// needs, named even where a default sets them so that a change of the
// defaults cannot drop one: headless, no sandbox (root in a container has
// none), no GPU, no first-run, QUIC, background, component-update or sync
// traffic (nothing beyond the page under test), a profile of its own.
func allocatorOptions(path, profile string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(viewport[0], viewport[1]),
	)
}

// timeoutFor is the test's time in the browser: testTimeout, or less when
// go test's -timeout ends sooner (leaving a moment to report).
func timeoutFor(t testing.TB) time.Duration {
	d := testTimeout
	if tt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := tt.Deadline(); ok {
			d = min(d, time.Until(deadline)-5*time.Second)
		}
	}
	return max(d, time.Second)
}

// Context is the tab's context, for chromedp actions the helpers lack:
// chromedp.Run(b.Context(), ...).
func (b *Browser) Context() context.Context { return b.ctx }

// Navigate opens url in the tab, waits for it to load and returns the
// HTTP status of the page (after redirects), so a test can see a refusal.
func (b *Browser) Navigate(url string) int {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(url))
	if err != nil {
		b.t.Fatalf("browsertest: navigate to %s: %v", url, b.explain(err))
	}
	return int(resp.Status)
}

// Location is the tab's current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browsertest: read the location: %v", b.explain(err))
	}
	return loc
}

// explain names the test's timeout when it is what ended a step.
func (b *Browser) explain(err error) error {
	if errors.Is(err, context.DeadlineExceeded) && b.ctx.Err() != nil {
		return fmt.Errorf("the test's time in the browser is over: %w", err)
	}
	return err
}
