package browsertest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Shared is one Chromium that a test package's tests share, each test in a
// tab of its own browser context (its own cookies and storage, as a
// private window has). It starts with the first Start and ends with
// Close, which the package's TestMain calls after m.Run:
//
//	var chromium = browsertest.NewShared()
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		chromium.Close()
//		os.Exit(code)
//	}
//
// A test binary that dies without Close takes the browser with it (the
// kernel ends it with its parent); its profile folder stays in the
// temporary directory.
type Shared struct {
	mu      sync.Mutex
	root    context.Context // the browser's first tab, which owns the process
	cancel  []context.CancelFunc
	profile string
	err     error // why the launch failed, for every later test
}

// NewShared returns a Shared that has not launched anything yet.
func NewShared() *Shared { return &Shared{} }

// Start opens a tab for t in the shared browser, launching it first when
// this is the first test; like the package's Start, it skips t without
// Chromium.
func (s *Shared) Start(t testing.TB) *Browser {
	t.Helper()
	path := findChromium(t)
	root, err := s.launch(t, path)
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	began := time.Now()
	b := openTab(t, root, chromedp.WithNewBrowserContext())
	t.Logf("browsertest: tab opened in the shared Chromium in %v", time.Since(began).Round(time.Millisecond))
	return b
}

// launch starts the browser once.
func (s *Shared) launch(t testing.TB, path string) (context.Context, error) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root != nil || s.err != nil {
		return s.root, s.err
	}
	began := time.Now()
	profile, err := os.MkdirTemp("", "scimgate-chromium-")
	if err != nil {
		s.err = fmt.Errorf("a profile folder for Chromium: %w", err)
		return nil, s.err
	}
	s.profile = profile
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocatorOptions(path, profile)...)
	root, cancelRoot := chromedp.NewContext(allocCtx)
	s.cancel = []context.CancelFunc{cancelRoot, cancelAlloc}
	if err := chromedp.Do(root); err != nil {
		s.err = fmt.Errorf("start Chromium (%s): %w", path, err)
		return nil, s.err
	}
	s.root = root
	t.Logf("browsertest: shared Chromium %s started in %v", path, time.Since(began).Round(time.Millisecond))
	return root, nil
}

// Close ends the browser and removes its profile; the tabs' tests must
// have ended.
func (s *Shared) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.cancel {
		cancel()
	}
	if s.profile != "" {
		os.RemoveAll(s.profile)
	}
	s.root, s.cancel, s.profile = nil, nil, ""
}
